//! Offboarding against the emulator: a leaver loses every way into every account, completely,
//! in order, and for good; nothing is ever deleted; a half-done seal is finished on redelivery.

use gatehouse::invocation::handle;
use gatehouse::{Error, FailureKind};
use gatehouse_tests::access;
use gatehouse_tests::fixtures::{offboarding, onboarding, with_new_id};
use gatehouse_tests::proxy::{deny_assume_role, first, query_error};
use gatehouse_tests::scenario::{
    ada_in_three_accounts, add_credentials_by_hand, assert_deny_all_as_shipped, assert_sealed,
    iam_writes, outcomes_of, revoked_accounts, user_in, ADA,
};
use gatehouse_tests::world::World;

#[tokio::test]
async fn offboarding_closes_every_way_in_everywhere_and_keeps_the_user() {
    let world = World::new().await;
    let accounts = ada_in_three_accounts(&world).await;
    for a in &accounts {
        add_credentials_by_hand(&world, a, ADA).await;
    }
    let deps = world.deps("people-events");
    // Bystanders: another employee's user, and a hand-made user outside /gatehouse/.
    handle(
        &deps,
        onboarding(
            "E2",
            "bob@example.com",
            "engineering",
            "2026-11-02T09:00:00Z",
        ),
    )
    .await
    .unwrap();
    let dev_iam = world.iam(&accounts[0]).await;
    dev_iam
        .create_user()
        .user_name("ops-robot")
        .path("/ops/")
        .send()
        .await
        .unwrap();
    dev_iam
        .create_access_key()
        .user_name("ops-robot")
        .send()
        .await
        .unwrap();
    let robot_before = access::user(&dev_iam, "ops-robot").await.unwrap();
    let bob_before = user_in(&world, &accounts[0], "bob@example.com")
        .await
        .unwrap();
    let mut before = Vec::new();
    for a in &accounts {
        let user = user_in(&world, a, ADA).await.unwrap();
        assert_eq!(
            user.credentials().len(),
            5,
            "two keys and one of each other kind"
        );
        assert!(user.credentials().iter().all(|(_, _, s)| *s == "Active"));
        assert_eq!(user.mfa_devices.len(), 1);
        before.push(user);
    }
    world.outcomes().await;

    let event = offboarding("E1", "2026-11-20T17:00:00Z");
    let report = handle(&deps, event.clone()).await.unwrap();
    assert_eq!(report["result"], "applied", "{report}");

    let by = event["id"].as_str().unwrap();
    for (a, before) in accounts.iter().zip(&before) {
        let after = user_in(&world, a, ADA).await.expect("user still exists");
        assert_sealed(before, &after, by);
        assert_deny_all_as_shipped(&world, a).await;
    }
    assert_eq!(
        access::user(&dev_iam, "ops-robot").await.unwrap(),
        robot_before
    );
    assert_eq!(
        user_in(&world, &accounts[0], "bob@example.com")
            .await
            .unwrap(),
        bob_before
    );
    let outcomes = world.outcomes().await;
    let mut expected = accounts.clone();
    expected.sort();
    assert_eq!(revoked_accounts(&outcomes), expected, "one each");
    assert_eq!(
        world.directory_item("E1").await.unwrap()["status"],
        "offboarded"
    );
}

#[tokio::test]
async fn the_same_offboarding_three_times_leaves_the_same_state() {
    let world = World::new().await;
    let accounts = ada_in_three_accounts(&world).await;
    let deps = world.deps("people-events");
    let event = offboarding("E1", "2026-11-20T17:00:00Z");
    handle(&deps, event.clone()).await.unwrap();
    let mut first = Vec::new();
    for a in &accounts {
        first.push(user_in(&world, a, ADA).await.unwrap());
    }
    world.outcomes().await;

    world.proxy.reset();
    for again in [event.clone(), with_new_id(&event)] {
        let report = handle(&deps, again).await.unwrap();
        assert_eq!(report["result"], "applied");
        for a in &accounts {
            assert_eq!(report["accounts"][a], "unchanged", "{report}");
        }
    }
    assert_eq!(iam_writes(&world.proxy.calls()), Vec::<String>::new());
    for (a, before) in accounts.iter().zip(&first) {
        assert_eq!(
            &user_in(&world, a, ADA).await.unwrap(),
            before,
            "unchanged in {a}"
        );
    }
    assert!(
        revoked_accounts(&world.outcomes().await).is_empty(),
        "nothing more to revoke"
    );
}

#[tokio::test]
async fn an_account_whose_role_cannot_be_assumed_fails_only_itself_until_redelivery() {
    let world = World::new().await;
    let accounts = ada_in_three_accounts(&world).await;
    let before = user_in(&world, &accounts[1], ADA).await.unwrap();
    world.outcomes().await;
    // A new function instance: no cached credentials to hide the failure.
    let deps = world.deps("people-events");
    world.proxy.inject(deny_assume_role(accounts[1].clone()));
    let event = offboarding("E1", "2026-11-20T17:00:00Z");

    let err = handle(&deps, event.clone())
        .await
        .expect_err("one account failed");
    assert_eq!(
        err.kind(),
        FailureKind::Fault,
        "redelivered, then alarmed: {err}"
    );
    let Error::FanOut {
        failed,
        total,
        first,
    } = &err
    else {
        panic!("not a fan-out failure: {err}")
    };
    // Three development accounts, testing, staging and production.
    assert_eq!((*failed, *total), (1, 6), "{err}");
    assert_eq!(first.code(), Some("AccessDenied"), "{first}");
    let mut done = vec![accounts[0].clone(), accounts[2].clone()];
    done.sort();
    assert_eq!(revoked_accounts(&world.outcomes().await), done);
    assert_eq!(
        user_in(&world, &accounts[1], ADA).await.unwrap(),
        before,
        "untouched where the role was refused"
    );

    world.proxy.clear_injections();
    let report = handle(&deps, event.clone())
        .await
        .expect("redelivery completes");
    assert_eq!(report["accounts"][&accounts[0]], "unchanged");
    assert_eq!(report["accounts"][&accounts[1]], "revoked");
    assert_eq!(report["accounts"][&accounts[2]], "unchanged");
    assert_eq!(
        revoked_accounts(&world.outcomes().await),
        [accounts[1].clone()],
        "only the account that was left"
    );
    let after = user_in(&world, &accounts[1], ADA).await.unwrap();
    assert_sealed(&before, &after, event["id"].as_str().unwrap());
}

#[tokio::test]
async fn a_seal_interrupted_halfway_is_finished_on_redelivery() {
    let world = World::new().await;
    let dev = world.account("development").to_owned();
    let deps = world.deps("people-events");
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    add_credentials_by_hand(&world, &dev, ADA).await;
    let before = user_in(&world, &dev, ADA).await.unwrap();

    // Refused once after deny-all went on and the console came off (an SCP, say): the first
    // access key stays active, and so does everything after it.
    world.proxy.inject(first(
        1,
        query_error("UpdateAccessKey", 403, "AccessDenied"),
    ));
    let event = offboarding("E1", "2026-11-20T17:00:00Z");
    let err = handle(&deps, event.clone()).await.expect_err("refused");
    assert_eq!(err.kind(), FailureKind::Fault, "{err}");
    let half = user_in(&world, &dev, ADA).await.unwrap();
    assert!(half.denied_all());
    assert!(!half.console);
    assert_eq!(
        half.tag("gatehouse:status"),
        Some("active"),
        "not yet tagged"
    );

    let report = handle(&deps, event.clone()).await.expect("redelivery");
    assert_eq!(report["accounts"][&dev], "revoked");
    let after = user_in(&world, &dev, ADA).await.unwrap();
    assert_sealed(&before, &after, event["id"].as_str().unwrap());
}

#[tokio::test]
async fn a_late_onboarding_after_an_offboarding_never_reopens_access() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let dev = world.account("development").to_owned();
    let onboard = onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z");
    // The offboarding arrives first; the onboarding it follows arrives late.
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-01T09:00:00Z"),
    )
    .await
    .unwrap();
    handle(&deps, offboarding("E1", "2026-11-20T17:00:00Z"))
        .await
        .unwrap();
    let sealed = user_in(&world, &dev, ADA).await.unwrap();
    world.outcomes().await;
    world.proxy.reset();
    let report = handle(&deps, onboard).await.unwrap();
    assert_eq!(report["result"], "stale");
    assert_eq!(user_in(&world, &dev, ADA).await.unwrap(), sealed);
    assert_eq!(
        world.proxy.counts().into_iter().collect::<Vec<_>>(),
        [("dynamodb:PutItem".to_owned(), 1)],
        "one conditional write, lost to the newer record; nothing else"
    );
    assert!(
        world.outcomes().await.is_empty(),
        "a stale event is not an outcome"
    );

    // An offboarding for someone Gatehouse never saw is recorded, so their late onboarding
    // is stale too and nobody gets in.
    handle(&deps, offboarding("E7", "2026-11-20T17:00:00Z"))
        .await
        .unwrap();
    let late = handle(
        &deps,
        onboarding(
            "E7",
            "eve@example.com",
            "engineering",
            "2026-11-02T09:00:00Z",
        ),
    )
    .await
    .unwrap();
    assert_eq!(late["result"], "stale");
    assert!(user_in(&world, &dev, "eve@example.com").await.is_none());
    assert!(outcomes_of(&world.outcomes().await, "Access Granted").is_empty());
}

#[tokio::test]
async fn an_account_gatehouse_never_managed_is_passed_over_and_reported_not_failed() {
    let world = World::new().await;
    let accounts = ada_in_three_accounts(&world).await;
    // Control Tower's Audit account, say: in the organization, no Gatehouse role, never
    // baselined, untagged. (The emulator lets any role be assumed: the refusal is injected.)
    let audit = world.create_bare_account("audit", None).await;
    world.proxy.inject(deny_assume_role(audit.clone()));
    let deps = world.deps("people-events");
    let event = offboarding("E1", "2026-11-20T17:00:00Z");

    let report = handle(&deps, event.clone())
        .await
        .expect("the offboarding finishes");
    assert_eq!(report["result"], "applied", "{report}");
    assert_eq!(report["accounts"][&audit], "unmanaged", "{report}");
    for a in &accounts {
        assert_eq!(report["accounts"][a], "revoked", "{report}");
        let user = user_in(&world, a, ADA).await.unwrap();
        assert_eq!(user.tag("gatehouse:status"), Some("disabled"));
    }
}

#[tokio::test]
async fn the_ways_in_close_though_listings_fail_and_what_is_left_is_retried() {
    let world = World::new().await;
    let dev = world.account("development").to_owned();
    let deps = world.deps("people-events");
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    add_credentials_by_hand(&world, &dev, ADA).await;
    let before = user_in(&world, &dev, ADA).await.unwrap();
    world.outcomes().await;
    world.proxy.reset();

    // An SCP denies listing service-specific credentials; access keys are throttled past the
    // SDK's retries: the seal goes on with everything else, and hands the event back.
    world.proxy.inject(query_error(
        "ListServiceSpecificCredentials",
        403,
        "AccessDenied",
    ));
    world
        .proxy
        .inject(query_error("ListAccessKeys", 400, "Throttling"));
    let event = offboarding("E1", "2026-11-20T17:00:00Z");
    let err = handle(&deps, event.clone())
        .await
        .expect_err("not everything could be listed");
    assert_ne!(err.kind(), FailureKind::Rejected, "{err}");
    let half = user_in(&world, &dev, ADA).await.unwrap();
    assert!(half.denied_all(), "deny-all attached");
    assert!(!half.console, "console closed");
    assert!(
        half.groups.iter().all(|g| g == "hand-made"),
        "out of managed groups"
    );
    assert_eq!(half.active_ssh_keys(), 0);
    assert_eq!(half.active_signing_certificates(), 0);
    assert!(half.mfa_devices.is_empty());
    assert_eq!(
        half.active_access_keys(),
        2,
        "could not be listed: left for redelivery"
    );
    assert_eq!(half.active_service_credentials(), 1, "could not be listed");
    assert_eq!(
        half.tag("gatehouse:status"),
        Some("active"),
        "not tagged disabled while anything may be open"
    );
    // The closers were sent once each, with the other writes, whatever the listings said.
    for closer in ["AttachUserPolicy", "DeleteLoginProfile"] {
        assert_eq!(world.proxy.calls_of(closer).len(), 1, "{closer}");
    }
    assert!(world.proxy.calls_of("TagUser").is_empty(), "not tagged");

    world.proxy.clear_injections();
    let report = handle(&deps, event.clone()).await.expect("redelivery");
    assert_eq!(report["accounts"][&dev], "revoked");
    let after = user_in(&world, &dev, ADA).await.unwrap();
    assert_sealed(&before, &after, event["id"].as_str().unwrap());
}

#[tokio::test]
async fn a_hand_made_user_holding_a_leavers_name_is_reported_and_left_untouched() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let (dev, test) = (
        world.account("development").to_owned(),
        world.account("testing").to_owned(),
    );
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    let iam = world.iam(&test).await;
    iam.create_user().user_name(ADA).send().await.unwrap();
    iam.create_access_key().user_name(ADA).send().await.unwrap();
    let hand_made = access::user(&iam, ADA).await.unwrap();
    world.outcomes().await;

    let report = handle(&deps, offboarding("E1", "2026-11-20T17:00:00Z"))
        .await
        .unwrap();
    assert_eq!(report["result"], "applied", "{report}");
    assert_eq!(report["accounts"][&dev], "revoked");
    assert_eq!(report["accounts"][&test], "conflict");
    assert_eq!(
        access::user(&iam, ADA).await.unwrap(),
        hand_made,
        "untouched"
    );
    let outcomes = world.outcomes().await;
    let rejected = outcomes_of(&outcomes, "Request Rejected");
    assert_eq!(rejected.len(), 1, "{outcomes:?}");
    assert_eq!(rejected[0]["detail"]["accountId"], test.as_str());
    assert!(rejected[0]["detail"]["reason"]
        .as_str()
        .unwrap()
        .contains(ADA));
}
