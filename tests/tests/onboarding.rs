//! Onboarding end to end against the emulator: the real SDK, real (emulated) accounts, and
//! assertions on what the accounts hold afterwards, plus what the code asked where the emulator
//! forgets a parameter.

use std::collections::BTreeSet;

use gatehouse::invocation::handle;
use gatehouse_tests::access;
use gatehouse_tests::capture::Logs;
use gatehouse_tests::fixtures::{self, onboarding, with_new_id};
use gatehouse_tests::proxy::{deny_assume_role, Call, Injected};
use gatehouse_tests::scenario::{iam_writes, outcomes_of, placements};
use gatehouse_tests::world::{World, ENVIRONMENTS};
use serde_json::{json, Value};

const ADA: &str = "ada.lovelace@example.com";

#[tokio::test]
async fn onboarding_creates_the_user_only_in_the_teams_account_as_the_contract_says() {
    let world = World::new().await;
    let (logs, _guard) = Logs::capture();
    let deps = world.deps("people-events");
    let dev = world.account("development").to_owned();

    let report = handle(&deps, fixtures::load("onboard-engineer.json"))
        .await
        .unwrap();
    assert_eq!(report["result"], "applied", "{report}");

    let placed = placements(&world, ADA).await;
    assert_eq!(
        placed.keys().collect::<Vec<_>>(),
        ["development"],
        "only in development"
    );
    let user = &placed["development"];
    assert_eq!(user.path, "/gatehouse/people/");
    assert_eq!(user.tag("gatehouse:employee-id"), Some("E1001"));
    assert_eq!(user.tag("gatehouse:team"), Some("engineering"));
    assert_eq!(user.tag("gatehouse:status"), Some("active"));
    assert_eq!(user.groups, BTreeSet::from(["developers".to_owned()]));
    assert!(user.console, "console access");

    // The emulator ignores these two parameters, so the test checks what the code asked.
    let created = world.proxy.calls_of("CreateUser");
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0].params["PermissionsBoundary"],
        format!("arn:aws:iam::{dev}:policy/gatehouse/GatehouseUserBoundary")
    );
    let profile = world.proxy.calls_of("CreateLoginProfile");
    assert_eq!(profile.len(), 1);
    assert_eq!(profile[0].params["PasswordResetRequired"], "true");

    // The baseline the user relies on exists in the account.
    let iam = world.iam(&dev).await;
    let boundary = iam
        .get_policy()
        .policy_arn(format!(
            "arn:aws:iam::{dev}:policy/gatehouse/GatehouseUserBoundary"
        ))
        .send()
        .await
        .expect("boundary policy exists");
    assert_eq!(boundary.policy().unwrap().path(), Some("/gatehouse/"));
    let attached: BTreeSet<String> = iam
        .list_attached_group_policies()
        .group_name("developers")
        .send()
        .await
        .unwrap()
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect();
    assert_eq!(
        attached,
        BTreeSet::from([
            "arn:aws:iam::aws:policy/PowerUserAccess".to_owned(),
            format!("arn:aws:iam::{dev}:policy/gatehouse/GatehouseEnforceMfa"),
        ])
    );

    // The password is in the secret, and the secret is the password that was set ...
    let secret_name = format!("gatehouse/initial-password/{dev}/{ADA}");
    let password = world
        .secret(&secret_name)
        .await
        .expect("initial password secret");
    assert_eq!(profile[0].params["Password"], password);
    // ... and nowhere else: not in an outcome, not in a log line, not in the answer.
    let outcomes = world.outcomes().await;
    let granted = outcomes_of(&outcomes, "Access Granted");
    assert_eq!(granted.len(), 1);
    assert_eq!(granted[0]["detail"]["accountId"], dev.as_str());
    assert!(granted[0]["detail"]["initialPasswordSecretArn"]
        .as_str()
        .unwrap()
        .contains(&secret_name));
    assert!(!serde_json::to_string(&outcomes)
        .unwrap()
        .contains(&password));
    assert!(!report.to_string().contains(&password));
    let logged = logs.text();
    assert!(
        logged.contains("converged"),
        "the summary line was captured"
    );
    assert!(!logged.contains(&password), "password in a log line");

    // The directory holds the record.
    let record = world
        .directory_item("E1001")
        .await
        .expect("directory record");
    assert_eq!(record["team"], "engineering");
    assert_eq!(record["status"], "active");
}

#[tokio::test]
async fn the_same_onboarding_three_times_leaves_the_same_state_and_keeps_the_password() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let event = fixtures::load("onboard-engineer.json");
    let secret_name = format!(
        "gatehouse/initial-password/{}/{ADA}",
        world.account("development")
    );

    handle(&deps, event.clone()).await.unwrap();
    let first = placements(&world, ADA).await;
    let password = world.secret(&secret_name).await.unwrap();

    // The same delivery again, then the same facts under a new envelope id, from a cold
    // function (new deps) as a redelivery to another instance would be.
    let again = handle(&deps, event.clone()).await.unwrap();
    let cold = world.deps("people-events");
    let renamed = handle(&cold, with_new_id(&event)).await.unwrap();
    assert_eq!(again["result"], "applied");
    assert_eq!(renamed["result"], "applied");

    assert_eq!(placements(&world, ADA).await, first);
    assert_eq!(
        world.secret(&secret_name).await.unwrap(),
        password,
        "password not reset"
    );
    assert_eq!(world.proxy.calls_of("CreateLoginProfile").len(), 1);
    assert!(world.proxy.calls_of("UpdateLoginProfile").is_empty());
    assert_eq!(
        outcomes_of(&world.outcomes().await, "Access Granted").len(),
        1,
        "granted once"
    );
}

#[tokio::test]
async fn an_onboarding_older_than_the_directory_record_changes_nothing() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    handle(
        &deps,
        onboarding(
            "E1",
            "ada@example.com",
            "engineering",
            "2026-11-02T10:00:00Z",
        ),
    )
    .await
    .unwrap();
    let before = placements(&world, "ada@example.com").await;
    world.outcomes().await;

    world.proxy.reset();
    let late = onboarding("E1", "ada@example.com", "qe", "2026-11-02T09:59:59Z");
    let report = handle(&deps, late).await.unwrap();
    assert_eq!(report["result"], "stale");
    assert!(report["accounts"].as_object().unwrap().is_empty());

    assert_eq!(placements(&world, "ada@example.com").await, before);
    assert!(!before.contains_key("testing"));
    assert_eq!(
        world.proxy.counts().into_iter().collect::<Vec<_>>(),
        [("dynamodb:PutItem".to_owned(), 1)],
        "one conditional write, lost to the newer record; no IAM call"
    );
    assert!(
        world.outcomes().await.is_empty(),
        "a stale event is no outcome"
    );
    assert_eq!(
        world.directory_item("E1").await.unwrap()["team"],
        "engineering"
    );
}

#[tokio::test]
async fn every_bad_input_changes_nothing_and_is_reported() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let valid = || {
        onboarding(
            "E1",
            "ada@example.com",
            "engineering",
            "2026-11-02T10:00:00Z",
        )
    };
    let with = |path: &[&str], value: Value| {
        let mut e = valid();
        let mut at = &mut e;
        for p in &path[..path.len() - 1] {
            at = &mut at[*p];
        }
        at[path[path.len() - 1]] = value;
        e
    };
    let without_email = {
        let mut e = valid();
        e["detail"].as_object_mut().unwrap().remove("email");
        e
    };
    let cases: Vec<(&str, Value)> = vec![
        ("missing field", without_email),
        (
            "mistyped field",
            with(&["detail", "employeeId"], json!(1001)),
        ),
        (
            "mistyped team",
            with(&["detail", "team"], json!(["engineering"])),
        ),
        ("unknown team", with(&["detail", "team"], json!("pirates"))),
        (
            "email IAM can't hold",
            with(&["detail", "email"], json!("ada/lovelace@example.com")),
        ),
        (
            "email with spaces",
            with(&["detail", "email"], json!(" ada@example.com")),
        ),
        (
            "email look-alike",
            with(&["detail", "email"], json!("ada@exаmple.com")),
        ),
        (
            "email over 64 characters",
            with(
                &["detail", "email"],
                json!(format!("{}@example.com", "a".repeat(53))),
            ),
        ),
        ("unknown field", with(&["detail", "isAdmin"], json!(true))),
        (
            "bad effectiveAt",
            with(&["detail", "effectiveAt"], json!("next tuesday")),
        ),
        ("foreign source", with(&["source"], json!("com.evil.hr"))),
        (
            "an HR event from an account the policy does not name",
            with(&["account"], json!("444455556666")),
        ),
        (
            "unknown detail-type",
            with(&["detail-type"], json!("Employee Promoted")),
        ),
        (
            // Padded in the envelope, where no field rule applies: only the size limit can
            // refuse it (a 20,000-character name would fall to the name rule first).
            "oversized payload",
            with(&["resources"], json!(["arn:aws:x".repeat(2_000)])),
        ),
        ("not an envelope", json!({"hello": "world"})),
        ("Records that are no SQS batch", json!({"Records": "ada"})),
    ];
    for (what, event) in &cases {
        let report = handle(&deps, event.clone())
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(report["result"], "rejected", "{what}: {report}");
        assert!(
            !report["rejections"][0].as_str().unwrap().is_empty(),
            "{what}: a reason"
        );
        if *what == "oversized payload" {
            assert!(
                report["rejections"][0].as_str().unwrap().contains("bytes"),
                "refused for its size: {report}"
            );
        }
    }
    // Bad JSON can only arrive in a queue message body.
    let batch = json!({"Records": [{
        "messageId": "m1", "receiptHandle": "h", "body": "{\"id\": \"1\", \"detail\": ",
        "attributes": {"MessageGroupId": "E1"}, "messageAttributes": {},
        "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:q.fifo",
        "awsRegion": "us-east-1", "md5OfBody": ""
    }]});
    let answer = handle(&deps, batch).await.unwrap();
    assert_eq!(
        answer["batchItemFailures"],
        json!([]),
        "bad JSON is acknowledged, not retried"
    );

    // Nothing but the outcome events was written anywhere.
    let writes: Vec<String> = world
        .proxy
        .calls()
        .into_iter()
        .map(|c| c.operation)
        .filter(|op| op != "PutEvents")
        .collect();
    assert_eq!(writes, Vec::<String>::new(), "no AWS call but PutEvents");
    for env in ENVIRONMENTS {
        let users = access::users(&world.iam(world.account(env)).await, "/").await;
        assert!(users.is_empty(), "{env} holds {users:?}");
    }
    assert!(world.directory_item("E1").await.is_none());
    let rejected = outcomes_of(&world.outcomes().await, "Request Rejected").len();
    assert_eq!(
        rejected,
        cases.len() + 1,
        "one Request Rejected per bad input"
    );
}

#[tokio::test]
async fn a_hand_made_user_with_the_same_name_is_reported_and_left_untouched() {
    let world = World::new().await;
    let dev = world.account("development").to_owned();
    let iam = world.iam(&dev).await;
    iam.create_user().user_name(ADA).send().await.unwrap();
    let before = access::user(&iam, ADA).await.unwrap();

    let deps = world.deps("people-events");
    let report = handle(&deps, fixtures::load("onboard-engineer.json"))
        .await
        .unwrap();
    assert_eq!(report["accounts"][&dev], "conflict", "{report}");

    assert_eq!(access::user(&iam, ADA).await.unwrap(), before, "untouched");
    assert!(before.tags.is_empty() && before.groups.is_empty() && !before.console);
    assert!(world
        .secret(&format!("gatehouse/initial-password/{dev}/{ADA}"))
        .await
        .is_none());
    let outcomes = world.outcomes().await;
    let rejected = outcomes_of(&outcomes, "Request Rejected");
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["detail"]["accountId"], dev.as_str());
    assert!(outcomes_of(&outcomes, "Access Granted").is_empty());
}

#[tokio::test]
async fn another_employees_user_is_not_taken_over() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    handle(
        &deps,
        onboarding(
            "E1",
            "shared@example.com",
            "engineering",
            "2026-11-02T10:00:00Z",
        ),
    )
    .await
    .unwrap();
    let before = placements(&world, "shared@example.com").await;
    world.outcomes().await;
    world.proxy.reset();
    let report = handle(
        &deps,
        onboarding(
            "E2",
            "shared@example.com",
            "engineering",
            "2026-11-02T11:00:00Z",
        ),
    )
    .await
    .unwrap();
    let dev = world.account("development");
    assert_eq!(report["accounts"][dev], "conflict");
    assert_eq!(
        placements(&world, "shared@example.com").await,
        before,
        "untouched"
    );
    assert_eq!(
        before["development"].tag("gatehouse:employee-id"),
        Some("E1")
    );
    // It tried to create the user (the name was taken), read it, and changed nothing.
    assert_eq!(iam_writes(&world.proxy.calls()), ["CreateUser"]);
    assert!(world.proxy.calls_of("CreateSecret").is_empty());
    let outcomes = world.outcomes().await;
    assert!(outcomes_of(&outcomes, "Access Granted").is_empty());
    let rejected = outcomes_of(&outcomes, "Request Rejected");
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["detail"]["employeeId"], "E2");
    assert_eq!(rejected[0]["detail"]["accountId"], dev);
    assert!(rejected[0]["detail"]["reason"]
        .as_str()
        .unwrap()
        .contains("another employee (E1)"));
}

#[tokio::test]
async fn production_is_granted_only_to_the_allow_listed() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    handle(&deps, fixtures::load("onboard-sre-allowed.json"))
        .await
        .unwrap();
    let refused = handle(&deps, fixtures::load("onboard-sre-refused.json"))
        .await
        .unwrap();
    assert_eq!(refused["result"], "applied");
    assert_eq!(refused["rejections"].as_array().unwrap().len(), 1);

    let allowed = placements(&world, "linus.sre@example.com").await;
    assert_eq!(allowed.keys().collect::<Vec<_>>(), ["production"]);
    assert_eq!(
        allowed["production"].groups,
        BTreeSet::from(["operators".to_owned()])
    );
    assert!(placements(&world, "mallory.sre@example.com")
        .await
        .is_empty());

    let outcomes = world.outcomes().await;
    let rejected = outcomes_of(&outcomes, "Request Rejected");
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["detail"]["employeeId"], "E9002");
    assert_eq!(rejected[0]["detail"]["environment"], "production");
}

#[tokio::test]
async fn a_queue_batch_acknowledges_rejections_and_hands_back_failures_in_group_order() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    world
        .proxy
        .inject(deny_assume_role(world.account("testing").to_owned()));
    let grace = onboarding("E3", "grace@example.com", "qe", "2026-11-02T10:00:00Z");
    let batch = fixtures::sqs_batch(&[
        onboarding(
            "E1",
            "ada@example.com",
            "engineering",
            "2026-11-02T10:00:00Z",
        ),
        onboarding("E2", "bob@example.com", "pirates", "2026-11-02T10:00:00Z"),
        grace.clone(),
        // Same group as the failed message: handed back unprocessed, to keep the order.
        onboarding("E3", "grace@example.com", "qe", "2026-11-02T10:05:00Z"),
    ]);
    let answer = handle(&deps, batch).await.unwrap();
    assert_eq!(
        answer["batchItemFailures"],
        json!([{"itemIdentifier": "msg-2"}, {"itemIdentifier": "msg-3"}])
    );
    assert!(placements(&world, "ada@example.com")
        .await
        .contains_key("development"));
    assert!(placements(&world, "grace@example.com").await.is_empty());
    let employee_writes = world
        .proxy
        .calls_of("PutItem")
        .iter()
        .filter(|c| !c.body.contains("#account/"))
        .count();
    assert_eq!(employee_writes, 2, "msg-3 was never processed");

    // The role becomes assumable; the queue redelivers; the failed message converges.
    world.proxy.clear_injections();
    let redelivered = handle(&deps, fixtures::sqs_batch(&[grace])).await.unwrap();
    assert_eq!(redelivered["batchItemFailures"], json!([]));
    assert!(placements(&world, "grace@example.com")
        .await
        .contains_key("testing"));
}

#[tokio::test]
async fn the_partition_comes_from_the_functions_own_identity_asked_once() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    // A function running in the China partition: its identity says so, whatever the region.
    world.proxy.inject(|call: &Call| {
        (call.operation == "GetCallerIdentity").then(|| Injected {
            status: 200,
            body: "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                   <GetCallerIdentityResult>\
                   <Arn>arn:aws-cn:sts::123456789012:assumed-role/gatehouse-people-events/f</Arn>\
                   <UserId>AROAEXAMPLE:f</UserId><Account>123456789012</Account>\
                   </GetCallerIdentityResult>\
                   <ResponseMetadata><RequestId>0</RequestId></ResponseMetadata>\
                   </GetCallerIdentityResponse>"
                .to_owned(),
        })
    });
    for (id, email) in [("E1", "ada@example.com"), ("E2", "alan@example.com")] {
        // Whether the emulator then accepts `aws-cn` ARNs is beside the point: what was asked is.
        let _ = handle(
            &deps,
            onboarding(id, email, "engineering", "2026-11-02T10:00:00Z"),
        )
        .await;
    }
    assert_eq!(
        world.proxy.calls_of("GetCallerIdentity").len(),
        1,
        "once per process"
    );
    let assumed = world.proxy.calls_of("AssumeRole");
    assert!(!assumed.is_empty());
    for call in assumed {
        let arn = &call.params["RoleArn"];
        assert!(arn.starts_with("arn:aws-cn:iam::"), "{arn}");
    }
}
