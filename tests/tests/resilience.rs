//! Failures on the way, against the emulator: a directory write that loses a race, one that
//! keeps losing, two deliveries of one onboarding at once, and an outcome the bus refuses.
//! Each must end in the right state or in an error that gets the message delivered again,
//! never in a silent success.

use gatehouse::invocation::handle;
use gatehouse::FailureKind;
use gatehouse_tests::fixtures::{offboarding, onboarding, transfer};
use gatehouse_tests::proxy::{first, json_error, Injected};
use gatehouse_tests::scenario::{iam_writes, outcomes_of, user_in, ADA};
use gatehouse_tests::world::World;
use serde_json::json;

const CONDITION_FAILED: &str = "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException";

#[tokio::test]
async fn a_directory_write_that_loses_a_race_is_merged_and_written_again() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    // The transfer is recorded first; the onboarding it follows arrives second, tries to
    // create the record, loses to the one that exists, merges with it and writes over it.
    handle(&deps, transfer("E1", ADA, "qe", "2026-11-10T09:00:00Z"))
        .await
        .unwrap();
    world.proxy.reset();
    let report = handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(report["result"], "applied", "{report}");
    let puts = world.proxy.calls_of("PutItem");
    assert_eq!(puts.len(), 2, "lost once, then written");
    assert!(
        puts[0].body.contains("attribute_not_exists"),
        "{}",
        puts[0].body
    );
    assert!(puts[1].body.contains("version = :v"), "{}", puts[1].body);
    assert!(
        world.proxy.calls_of("GetItem").is_empty(),
        "the winning record came back with the failed write"
    );
    let item = world.directory_item("E1").await.unwrap();
    assert_eq!(item["status"], "active", "the onboarding's status");
    assert_eq!(item["team"], "qe", "the newer transfer's team");
    assert_eq!(item["version"], "2");
}

#[tokio::test]
async fn a_directory_write_that_keeps_losing_gives_up_as_transient_and_grants_nothing() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    // Every conditional write fails and DynamoDB returns no record (as when the winner is
    // gone again): the write is retried from a fresh read, five times, then handed back.
    world
        .proxy
        .inject(json_error("PutItem", 400, CONDITION_FAILED));
    let err = handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .expect_err("gives up");
    assert_eq!(err.kind(), FailureKind::Transient, "{err}");
    assert!(matches!(err, gatehouse::Error::Contention { .. }), "{err}");
    assert_eq!(world.proxy.calls_of("PutItem").len(), 5);
    assert_eq!(world.proxy.calls_of("GetItem").len(), 5);
    assert_eq!(iam_writes(&world.proxy.calls()), Vec::<String>::new());
    assert!(world.outcomes().await.is_empty());
    assert!(world.directory_item("E1").await.is_none());
}

#[tokio::test]
async fn two_deliveries_of_one_onboarding_at_once_leave_one_user_and_the_working_password() {
    let world = World::new().await;
    let dev = world.account("development").to_owned();
    let event = onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z");
    // Two warm instances (as a direct invocation beside the queue, or a visibility timeout
    // shorter than the work, would run them).
    let (a, b) = (world.deps("people-events"), world.deps("people-events"));
    // The first console password to be set is held back, so that the other delivery sets
    // its own first and this one finds a profile already there.
    let held = std::sync::atomic::AtomicBool::new(false);
    world.proxy.delay(move |call| {
        (call.operation == "CreateLoginProfile"
            && !held.swap(true, std::sync::atomic::Ordering::SeqCst))
        .then_some(std::time::Duration::from_millis(500))
    });
    let (ra, rb) = tokio::join!(handle(&a, event.clone()), handle(&b, event.clone()));
    ra.unwrap();
    rb.unwrap();

    let user = user_in(&world, &dev, ADA).await.unwrap();
    assert!(user.console && user.tag("gatehouse:status") == Some("active"));
    let secret = world
        .secret(&format!("gatehouse/initial-password/{dev}/{ADA}"))
        .await
        .expect("the initial password");
    // The password the account holds is the last one set (created or updated).
    let set: Vec<String> = world
        .proxy
        .calls()
        .into_iter()
        .filter(|c| {
            matches!(
                c.operation.as_str(),
                "CreateLoginProfile" | "UpdateLoginProfile"
            )
        })
        .map(|c| c.params["Password"].clone())
        .collect();
    assert!(!set.is_empty());
    println!(
        "passwords set: {} (UpdateLoginProfile calls: {})",
        set.len(),
        world.proxy.calls_of("UpdateLoginProfile").len()
    );
    assert_eq!(
        set.last(),
        Some(&secret),
        "the secret holds the password that works"
    );
}

#[tokio::test]
async fn an_outcome_the_bus_refuses_fails_the_event_for_redelivery() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    // A 200 answer that reports a throttled entry.
    world.proxy.inject(|call| {
        (call.operation == "PutEvents").then(|| Injected {
            status: 200,
            body: json!({
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}]
            })
            .to_string(),
        })
    });
    let hire = onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z");
    let err = handle(&deps, hire.clone())
        .await
        .expect_err("the outcome was not accepted");
    assert_eq!(err.kind(), FailureKind::Transient, "{err}");
    // The user was made; the outcome the bus refused is kept with the employee's record.
    let dev = world.account("development").to_owned();
    assert!(user_in(&world, &dev, ADA).await.is_some());
    let kept = world.directory_item("E1").await.unwrap();
    assert!(
        kept["pendingOutcomes"].contains("Access Granted"),
        "{kept:?}"
    );

    // A refusal nobody hears of is a silent drop: a bad event whose rejection cannot be
    // published is handed back, not acknowledged.
    let bad = onboarding("E2", "bob@example.com", "pirates", "2026-11-02T09:00:00Z");
    let err = handle(&deps, bad.clone())
        .await
        .expect_err("the rejection was not accepted");
    assert_eq!(err.kind(), FailureKind::Transient, "{err}");

    // Once the bus takes events again, the redelivered rejection is published ...
    world.proxy.clear_injections();
    let report = handle(&deps, bad).await.unwrap();
    assert_eq!(report["result"], "rejected");
    // ... and so is the grant: the redelivery changes nothing in the account, but publishes
    // what was kept, once.
    let report = handle(&deps, hire).await.unwrap();
    assert_eq!(report["accounts"][&dev], "unchanged", "{report}");
    let outcomes = world.outcomes().await;
    let rejected = outcomes_of(&outcomes, "Request Rejected");
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["detail"]["employeeId"], "E2");
    let granted = outcomes_of(&outcomes, "Access Granted");
    assert_eq!(granted.len(), 1, "{outcomes:?}");
    assert_eq!(granted[0]["detail"]["accountId"], dev.as_str());
    assert!(granted[0]["detail"]["initialPasswordSecretArn"]
        .as_str()
        .unwrap()
        .contains(&format!("gatehouse/initial-password/{dev}/{ADA}")));
    assert!(
        !world
            .directory_item("E1")
            .await
            .unwrap()
            .contains_key("pendingOutcomes"),
        "nothing kept once published"
    );
}

#[tokio::test]
async fn outcomes_kept_for_a_redelivery_outlive_a_newer_event_and_a_stale_redelivery() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let test = world.account("testing").to_owned();
    let staging = world.account("staging").to_owned();
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    let refuse = |call: &gatehouse_tests::proxy::Call| {
        (call.operation == "PutEvents").then(|| Injected {
            status: 200,
            body: json!({
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}]
            })
            .to_string(),
        })
    };
    // A transfer to QE is applied, but the bus refuses its outcomes: kept.
    world.proxy.inject(refuse);
    let to_qe = transfer("E1", ADA, "qe", "2026-11-03T09:00:00Z");
    handle(&deps, to_qe.clone()).await.expect_err("refused");
    // Before its redelivery, a newer transfer (a direct invocation beside the queue) moves her
    // on to product management; the bus refuses that one's outcomes too. Both are kept,
    // neither written over.
    let to_pm = transfer("E1", ADA, "product-management", "2026-11-04T09:00:00Z");
    handle(&deps, to_pm).await.expect_err("refused");
    let kept = world.directory_item("E1").await.unwrap();
    assert_eq!(
        kept["pendingOutcomes"].matches("Access Granted").count(),
        2,
        "{kept:?}"
    );
    // The first transfer's redelivery is stale now, and still publishes what was kept.
    world.proxy.clear_injections();
    let _ = world.outcomes().await;
    let report = handle(&deps, to_qe).await.unwrap();
    assert_eq!(report["result"], "stale", "{report}");
    let outcomes = world.outcomes().await;
    let granted: Vec<&str> = outcomes_of(&outcomes, "Access Granted")
        .iter()
        .map(|o| o["detail"]["accountId"].as_str().unwrap())
        .collect();
    assert!(granted.contains(&test.as_str()), "{outcomes:?}");
    assert!(granted.contains(&staging.as_str()), "{outcomes:?}");
    assert!(
        !world
            .directory_item("E1")
            .await
            .unwrap()
            .contains_key("pendingOutcomes"),
        "nothing kept once published"
    );
}

#[tokio::test]
async fn a_grant_is_announced_even_when_sealing_the_old_name_in_that_account_fails() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let dev = world.account("development").to_owned();
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    let _ = world.outcomes().await;
    // A new address: her user under the new name is granted, then sealing the old one fails.
    let renamed = onboarding(
        "E1",
        "ada.l@example.com",
        "engineering",
        "2026-11-03T09:00:00Z",
    );
    world.proxy.inject(gatehouse_tests::proxy::query_error(
        "AttachUserPolicy",
        403,
        "AccessDenied",
    ));
    handle(&deps, renamed.clone())
        .await
        .expect_err("the old name could not be sealed");
    world.proxy.clear_injections();
    // The grant happened, and is announced now: its redelivery finds nothing left to grant.
    let outcomes = world.outcomes().await;
    let granted: Vec<(&str, &str)> = outcomes_of(&outcomes, "Access Granted")
        .iter()
        .map(|o| {
            (
                o["detail"]["accountId"].as_str().unwrap(),
                o["detail"]["userName"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        granted,
        [(dev.as_str(), "ada.l@example.com")],
        "{outcomes:?}"
    );
    let report = handle(&deps, renamed).await.unwrap();
    assert_eq!(report["accounts"][&dev], "revoked", "{report}");
    assert!(user_in(&world, &dev, ADA).await.unwrap().denied_all());
}

#[tokio::test]
async fn a_rehire_that_opens_access_after_a_concurrent_offboarding_sealed_it_is_sealed_again() {
    let world = World::new().await;
    let dev = world.account("development").to_owned();
    let deps = world.deps("people-events");
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    handle(&deps, offboarding("E1", "2026-11-10T17:00:00Z"))
        .await
        .unwrap();

    // Outside the queue (two direct invocations), a rehire and a later offboarding run at once.
    // The rehire's opening of the user (the deny-all coming off) is held back until the
    // offboarding has sealed the user and finished.
    let held = std::sync::atomic::AtomicBool::new(false);
    world.proxy.delay(move |call| {
        (call.operation == "DetachUserPolicy"
            && !held.swap(true, std::sync::atomic::Ordering::SeqCst))
        .then_some(std::time::Duration::from_millis(1500))
    });
    let (a, b) = (world.deps("people-events"), world.deps("people-events"));
    let rehire = onboarding("E1", ADA, "engineering", "2026-11-20T09:00:00Z");
    let leave = offboarding("E1", "2026-11-21T17:00:00Z");
    let (ra, rb) = tokio::join!(handle(&a, rehire), async {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        handle(&b, leave).await
    });
    ra.unwrap();
    rb.unwrap();

    let user = user_in(&world, &dev, ADA).await.unwrap();
    assert!(user.denied_all(), "sealed again after the late opening");
    assert!(!user.console && user.groups.is_empty(), "{user:?}");
    assert_eq!(user.tag("gatehouse:status"), Some("disabled"));
    assert_eq!(
        world.directory_item("E1").await.unwrap()["status"],
        "offboarded"
    );
}

#[tokio::test]
async fn a_throttled_call_is_retried_by_the_sdk_and_the_event_succeeds() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    world.proxy.inject(first(
        1,
        json_error(
            "PutItem",
            400,
            "com.amazonaws.dynamodb.v20120810#ThrottlingException",
        ),
    ));
    let report = handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(report["result"], "applied");
    let record_writes = world
        .proxy
        .calls_of("PutItem")
        .iter()
        .filter(|c| !c.body.contains("#account/"))
        .count();
    assert_eq!(record_writes, 2, "one throttled, one retried");
}

#[tokio::test]
async fn no_such_entity_right_after_a_create_is_waited_out_not_a_fault() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    // IAM's eventual consistency: the user just created is not yet visible to the next calls.
    // (The first NoSuchEntity is taken for a missing piece of the baseline: it is checked, and
    // the call made once more. Only a second one is left to the redelivery.)
    world.proxy.inject(first(
        2,
        gatehouse_tests::proxy::query_error("AddUserToGroup", 404, "NoSuchEntity"),
    ));
    let hire = onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z");
    let err = handle(&deps, hire.clone())
        .await
        .expect_err("not yet visible");
    assert_eq!(err.kind(), FailureKind::Transient, "{err}");
    let report = handle(&deps, hire).await.expect("the redelivery converges");
    assert_eq!(report["accounts"][world.account("development")], "granted");
    let user = user_in(&world, world.account("development"), ADA)
        .await
        .unwrap();
    assert!(user.console && user.groups.contains("developers"));
}
