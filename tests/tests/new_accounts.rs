//! New accounts against the emulator: `account-created` lays the baseline through the bootstrap
//! role and enqueues the account's people; `people-events` drains the queue and brings them in.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gatehouse::core::documents;
use gatehouse::{account_setup, invocation, Deps};
use gatehouse_tests::access::{self, decode_policy};
use gatehouse_tests::fixtures::{
    self, create_account_result, create_managed_account, offboarding, onboarding, tag_resource,
};
use gatehouse_tests::proxy::deny_assume_role;
use gatehouse_tests::scenario::outcomes_of;
use gatehouse_tests::world::World;
use serde_json::{json, Value};

/// The built-in policy plus a service account in staging.
fn policy_with_staging_service_account() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "policy-staging-sa-{}-{}.toml",
        std::process::id(),
        fixtures::fresh_id()
    ));
    let text = format!(
        "{}\n[groups.release-bots]\nmanaged_policies = [\"arn:aws:iam::aws:policy/ReadOnlyAccess\"]\n\
         [service_accounts.release-bot]\nenvironment = \"staging\"\ngroups = [\"release-bots\"]\n",
        gatehouse::core::policy::BUILTIN_POLICY
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// A world with staff in the directory: two PMs/SAs active, one SA gone, one engineer.
async fn staffed_world() -> World {
    let mut world = World::new().await;
    world.use_policy_file(policy_with_staging_service_account().to_str().unwrap());
    let people = world.deps("people-events");
    for e in [
        onboarding(
            "E3",
            "pm@example.com",
            "product-management",
            "2026-11-02T09:00:00Z",
        ),
        onboarding(
            "E4",
            "sa@example.com",
            "solutions-architecture",
            "2026-11-02T09:00:00Z",
        ),
        onboarding(
            "E5",
            "gone@example.com",
            "solutions-architecture",
            "2026-11-02T09:00:00Z",
        ),
        offboarding("E5", "2026-11-10T09:00:00Z"),
        onboarding(
            "E1",
            "dev@example.com",
            "engineering",
            "2026-11-02T09:00:00Z",
        ),
    ] {
        invocation::handle(&people, e).await.unwrap();
    }
    world.outcomes().await;
    world
}

/// Drains the work queue into `people-events`; every item must succeed.
async fn drain(world: &World, people: &Deps) -> usize {
    let drained = world
        .drain_work_queue(
            |batch| async { invocation::handle(people, batch).await.unwrap() },
            20,
        )
        .await;
    assert!(drained.handed_back.is_empty(), "{:?}", drained.handed_back);
    drained.delivered
}

/// What a new account holds before Gatehouse touches it: the role Organizations creates.
const ORGANIZATION_ONLY: [&str; 1] = ["role OrganizationAccountAccessRole"];

/// What a member account holds, as a comparable summary.
async fn snapshot(world: &World, account: &str) -> Vec<String> {
    let iam = world.iam(account).await;
    let mut out: Vec<String> = access::users(&iam, "/")
        .await
        .into_iter()
        .map(|u| format!("{}{} {:?} console={}", u.path, u.name, u.groups, u.console))
        .collect();
    let groups = iam.list_groups().send().await.unwrap();
    out.extend(
        groups
            .groups()
            .iter()
            .map(|g| format!("group {}{}", g.path(), g.group_name())),
    );
    let roles = iam.list_roles().send().await.unwrap();
    out.extend(
        roles
            .roles()
            .iter()
            .map(|r| format!("role {}", r.role_name())),
    );
    out.sort();
    out
}

#[tokio::test]
async fn a_new_staging_account_gets_the_baseline_and_exactly_its_people() {
    let world = staffed_world().await;
    let account = world
        .create_bare_account("staging-2", Some("staging"))
        .await;
    let setup = world.deps("account-created");

    let report = account_setup::handle_payload(&setup, create_account_result(&account))
        .await
        .unwrap();
    assert_eq!(report["result"], "baselined", "{report}");
    assert_eq!(report["environment"], "staging");
    assert_eq!(
        report["backfilled"], 2,
        "E3 and E4; not the leaver, not the engineer"
    );

    let iam = world.iam(&account).await;
    let pw = iam
        .get_account_password_policy()
        .send()
        .await
        .unwrap()
        .password_policy
        .unwrap();
    assert_eq!(pw.minimum_password_length, Some(14));
    assert!(pw.require_symbols && pw.require_numbers && pw.require_uppercase_characters);
    for name in ["GatehouseUserBoundary", "GatehouseEnforceMfa"] {
        let arn = format!("arn:aws:iam::{account}:policy/gatehouse/{name}");
        iam.get_policy()
            .policy_arn(&arn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let groups: BTreeSet<String> = iam
        .list_groups()
        .path_prefix("/gatehouse/")
        .send()
        .await
        .unwrap()
        .groups()
        .iter()
        .map(|g| g.group_name().to_owned())
        .collect();
    assert_eq!(
        groups,
        BTreeSet::from(["release-bots".to_owned(), "stakeholders".to_owned()])
    );
    let trust = provisioner_trust(&iam).await;
    let statements = trust["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{trust}");
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(statements[0]["Action"], "sts:AssumeRole");
    assert_eq!(
        statements[0]["Condition"],
        json!({"StringEquals": {"aws:PrincipalOrgID": world.organization_id}}),
        "and only from inside the organization"
    );
    let principals: BTreeSet<String> = statements[0]["Principal"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(kind, v)| {
            let arns: Vec<String> = match v {
                Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_owned()).collect(),
                other => vec![other.as_str().unwrap().to_owned()],
            };
            arns.into_iter().map(move |a| format!("{kind}:{a}"))
        })
        .collect();
    let expected: BTreeSet<String> = world
        .trusted_role_arns()
        .into_iter()
        .map(|a| format!("AWS:{a}"))
        .collect();
    assert_eq!(principals, expected, "exactly the functions' roles");
    let permissions = iam
        .get_role_policy()
        .role_name("GatehouseProvisioner")
        .policy_name("GatehouseProvisioner")
        .send()
        .await
        .unwrap();
    let policy = world.config().policy;
    let account_id = gatehouse::core::ids::AccountId::parse(&account).unwrap();
    let shipped: Value = serde_json::from_str(&documents::provisioner_permissions(
        &policy,
        documents::Placement {
            partition: "aws",
            account: &account_id,
        },
    ))
    .unwrap();
    assert_eq!(decode_policy(permissions.policy_document()), shipped);
    assert_eq!(
        iam.get_role()
            .role_name("GatehouseProvisioner")
            .send()
            .await
            .unwrap()
            .role()
            .unwrap()
            .path(),
        "/gatehouse/"
    );
    let role_policies = iam
        .list_role_policies()
        .role_name("GatehouseProvisioner")
        .send()
        .await
        .unwrap();
    assert_eq!(role_policies.policy_names(), ["GatehouseProvisioner"]);
    let attached = iam
        .list_attached_role_policies()
        .role_name("GatehouseProvisioner")
        .send()
        .await
        .unwrap();
    assert!(
        attached.attached_policies().is_empty(),
        "no managed policy on the role"
    );
    let bot = access::user(&iam, "svc-release-bot")
        .await
        .expect("service account");
    assert_eq!(bot.path, "/gatehouse/service/");
    assert_eq!(bot.groups, BTreeSet::from(["release-bots".to_owned()]));
    assert!(!bot.console, "service accounts have no console access");
    let boundary_asked = world.proxy.calls_of("CreateUser").into_iter().any(|c| {
        c.params.get("UserName").map(String::as_str) == Some("svc-release-bot")
            && c.params["PermissionsBoundary"].ends_with(":policy/gatehouse/GatehouseUserBoundary")
    });
    assert!(boundary_asked, "service account created with the boundary");

    // The queue brings exactly the staging people in.
    let people = world.deps("people-events");
    assert_eq!(drain(&world, &people).await, 2);
    assert!(access::user(&iam, "pm@example.com")
        .await
        .is_some_and(|u| u.console));
    assert!(access::user(&iam, "sa@example.com")
        .await
        .is_some_and(|u| u.console));
    assert!(
        access::user(&iam, "gone@example.com").await.is_none(),
        "offboarded: nothing"
    );
    assert!(access::user(&iam, "dev@example.com").await.is_none());

    let outcomes = world.outcomes().await;
    let baselined = outcomes_of(&outcomes, "Account Baselined");
    assert_eq!(baselined.len(), 1);
    assert_eq!(baselined[0]["detail"]["accountId"], account.as_str());
    assert!(baselined[0]["detail"]["created"].as_array().unwrap().len() >= 5);
    assert_eq!(outcomes_of(&outcomes, "Access Granted").len(), 2);
}

#[tokio::test]
async fn the_same_account_event_twice_changes_nothing() {
    let world = staffed_world().await;
    let account = world
        .create_bare_account("staging-2", Some("staging"))
        .await;
    let setup = world.deps("account-created");
    let people = world.deps("people-events");
    let event = create_account_result(&account);

    account_setup::handle_payload(&setup, event.clone())
        .await
        .unwrap();
    drain(&world, &people).await;
    let before = snapshot(&world, &account).await;
    let first_ids = dedup_ids(&world);
    assert_eq!(first_ids.len(), 2);

    // Redelivered to a fresh instance of the function.
    world.proxy.reset();
    let again = account_setup::handle_payload(&world.deps("account-created"), event)
        .await
        .unwrap();
    assert_eq!(again["result"], "baselined");
    assert_eq!(again["created"], json!([]), "nothing left to create");
    // SQS drops a FIFO message whose deduplication id it saw in the last five minutes; the
    // emulator forgets an id once its message is deleted, so the test checks what was asked:
    // the very same ids, which SQS would drop.
    assert_eq!(dedup_ids(&world), first_ids);
    drain(&world, &people).await;
    assert_eq!(snapshot(&world, &account).await, before);
}

/// The deduplication ids of every work item sent through the proxy since its last reset.
fn dedup_ids(world: &World) -> BTreeSet<String> {
    world
        .proxy
        .calls_of("SendMessageBatch")
        .iter()
        .flat_map(|c| {
            let body: Value = serde_json::from_str(&c.body).unwrap();
            body["Entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["MessageDeduplicationId"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn a_failed_creation_and_an_untagged_account_change_nothing_and_are_reported() {
    let mut world = staffed_world().await;
    // An untagged account is waited for (it may be tagged soon); not long, here.
    world.set("GATEHOUSE_ACCOUNT_WAIT_SECONDS", "1");
    let setup = world.deps("account-created");
    let untagged = world.create_bare_account("sandbox", None).await;
    world.proxy.reset();

    let failed =
        account_setup::handle_payload(&setup, fixtures::load("create-account-result-failed.json"))
            .await
            .unwrap();
    assert_eq!(failed["result"], "failed");
    assert!(failed["reason"]
        .as_str()
        .unwrap()
        .contains("EMAIL_ALREADY_EXISTS"));

    let report = account_setup::handle_payload(&setup, create_account_result(&untagged))
        .await
        .unwrap();
    assert_eq!(report["result"], "rejected");
    assert!(report["reason"].as_str().unwrap().contains(&untagged));

    let ops: BTreeSet<String> = world
        .proxy
        .calls()
        .into_iter()
        .map(|c| c.operation)
        .collect();
    let reads_and_outcomes = [
        "DescribeOrganization",
        "ListAccounts",
        "ListTagsForResource",
        "PutEvents",
    ];
    assert!(
        ops.iter()
            .all(|op| reads_and_outcomes.contains(&op.as_str())),
        "{ops:?}"
    );
    assert_eq!(
        snapshot(&world, &untagged).await,
        ORGANIZATION_ONLY,
        "left alone"
    );
    let outcomes = world.outcomes().await;
    let rejected = outcomes_of(&outcomes, "Request Rejected");
    assert_eq!(rejected.len(), 2);
    // The outcome queue is a standard queue: no order to rely on.
    let about_untagged: Vec<_> = rejected
        .iter()
        .filter(|o| o["detail"]["accountId"] == untagged.as_str())
        .collect();
    assert_eq!(about_untagged.len(), 1, "{rejected:?}");
    assert!(about_untagged[0]["detail"]["reason"]
        .as_str()
        .unwrap()
        .contains("no environment tag"));
    let failure = rejected
        .iter()
        .find(|o| o["detail"].get("accountId").is_none())
        .expect("the failed creation's rejection");
    assert!(failure["detail"]["reason"]
        .as_str()
        .unwrap()
        .contains("EMAIL_ALREADY_EXISTS"));
}

#[tokio::test]
async fn a_control_tower_creation_works_the_same_way() {
    let world = staffed_world().await;
    let account = world
        .create_bare_account("staging-ct", Some("staging"))
        .await;
    let report = account_setup::handle_payload(
        &world.deps("account-created"),
        create_managed_account(&account),
    )
    .await
    .unwrap();
    assert_eq!(report["result"], "baselined", "{report}");
    assert_eq!(report["environment"], "staging");
    assert_eq!(report["backfilled"], 2);
    assert_eq!(drain(&world, &world.deps("people-events")).await, 2);
    let iam = world.iam(&account).await;
    for name in ["pm@example.com", "sa@example.com"] {
        let user = access::user(&iam, name).await.expect(name);
        assert_eq!(user.path, "/gatehouse/people/");
        assert_eq!(user.tag("gatehouse:status"), Some("active"));
        assert_eq!(user.groups, BTreeSet::from(["stakeholders".to_owned()]));
        assert!(user.console);
    }
    // ListUsers has no order to rely on.
    let people: BTreeSet<String> = access::users(&iam, "/gatehouse/people/")
        .await
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(
        people,
        BTreeSet::from(["pm@example.com".to_owned(), "sa@example.com".to_owned()]),
        "exactly its people"
    );
    let bot = access::user(&iam, "svc-release-bot").await.unwrap();
    assert_eq!(bot.path, "/gatehouse/service/");
    assert_eq!(bot.groups, BTreeSet::from(["release-bots".to_owned()]));
    assert!(!bot.console);
    let outcomes = world.outcomes().await;
    let baselined = outcomes_of(&outcomes, "Account Baselined");
    assert_eq!(baselined.len(), 1);
    assert_eq!(baselined[0]["detail"]["accountId"], account.as_str());
}

#[tokio::test]
async fn malformed_or_bogus_account_events_are_rejected_without_any_change() {
    let mut world = staffed_world().await;
    world.set("GATEHOUSE_ACCOUNT_WAIT_SECONDS", "1");
    let setup = world.deps("account-created");
    world.proxy.reset();
    let mut no_id = create_account_result("000000000000");
    no_id["detail"]["serviceEventDetails"]["createAccountStatus"]
        .as_object_mut()
        .unwrap()
        .remove("accountId");
    let cases = [
        no_id,
        create_account_result("12345"),
        json!({"source": "aws.organizations"}),
        fixtures::load("onboard-engineer.json"),
        tag_resource("ou-ab12-cdef3456", "staging"),
    ];
    for event in cases {
        let report = account_setup::handle_payload(&setup, event.clone())
            .await
            .unwrap();
        assert_eq!(report["result"], "rejected", "{event}");
    }
    let writes: Vec<String> = world
        .proxy
        .calls()
        .into_iter()
        .map(|c| c.operation)
        .filter(|op| {
            ![
                "DescribeOrganization",
                "ListAccounts",
                "ListTagsForResource",
                "PutEvents",
            ]
            .contains(&op.as_str())
        })
        .collect();
    assert_eq!(writes, Vec::<String>::new());
    assert_eq!(
        outcomes_of(&world.outcomes().await, "Request Rejected").len(),
        5
    );

    // A well-formed account the organization does not list: waited for (Organizations' listing
    // lags its events), then handed back to be retried, and nothing is laid.
    world.proxy.reset();
    let err = account_setup::handle_payload(&setup, create_account_result("000000000000"))
        .await
        .expect_err("not (yet) an account of the organization");
    assert_eq!(err.kind(), gatehouse::FailureKind::Transient, "{err}");
    assert!(world
        .proxy
        .calls()
        .iter()
        .all(|c| c.service == "organizations"));
}

#[tokio::test]
async fn an_account_listed_or_tagged_a_moment_late_is_waited_for() {
    let mut world = staffed_world().await;
    world.set("GATEHOUSE_ACCOUNT_WAIT_SECONDS", "10");
    let account = world
        .create_bare_account("staging-2", Some("staging"))
        .await;
    // The listing does not show the account at first, then its tags are not there at first.
    // (Two readings: the first comes from a list cached before the account existed.)
    world.proxy.inject(gatehouse_tests::proxy::first(2, |call| {
        (call.operation == "ListAccounts").then(|| gatehouse_tests::proxy::Injected {
            status: 200,
            body: r#"{"Accounts":[]}"#.into(),
        })
    }));
    world.proxy.inject(gatehouse_tests::proxy::first(1, |call| {
        (call.operation == "ListTagsForResource").then(|| gatehouse_tests::proxy::Injected {
            status: 200,
            body: r#"{"Tags":[]}"#.into(),
        })
    }));
    let report = account_setup::handle_payload(
        &world.deps("account-created"),
        create_account_result(&account),
    )
    .await
    .unwrap();
    assert_eq!(report["result"], "baselined", "{report}");
    assert_eq!(report["backfilled"], 2);
}

#[tokio::test]
async fn an_account_tagged_after_its_creation_is_brought_in_when_the_tag_is_set() {
    let mut world = staffed_world().await;
    world.set("GATEHOUSE_ACCOUNT_WAIT_SECONDS", "1");
    let account = world.create_bare_account("staging-later", None).await;
    let setup = world.deps("account-created");
    let first = account_setup::handle_payload(&setup, create_account_result(&account))
        .await
        .unwrap();
    assert_eq!(first["result"], "rejected", "untagged: {first}");

    // Control Tower (or AFT, or a person) tags it; CloudTrail reports the TagResource.
    aws_sdk_organizations::Client::new(&world.direct)
        .tag_resource()
        .resource_id(&account)
        .tags(
            aws_sdk_organizations::types::Tag::builder()
                .key("environment")
                .value("staging")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let report = account_setup::handle_payload(&setup, tag_resource(&account, "staging"))
        .await
        .unwrap();
    assert_eq!(report["result"], "baselined", "{report}");
    assert_eq!(report["environment"], "staging");
    assert_eq!(report["backfilled"], 2);
    assert_eq!(drain(&world, &world.deps("people-events")).await, 2);
    let iam = world.iam(&account).await;
    assert!(access::user(&iam, "pm@example.com").await.is_some());

    // A tag other than the environment's changes nothing.
    let mut other = tag_resource(&account, "staging");
    other["detail"]["requestParameters"]["tags"] = json!([{"key": "cost-center", "value": "cc"}]);
    let report = account_setup::handle_payload(&setup, other).await.unwrap();
    assert_eq!(report["result"], "rejected");
}

#[tokio::test]
async fn a_hand_made_role_of_the_provisioner_name_is_not_taken_over() {
    let world = World::new().await;
    let account = world
        .create_bare_account("staging-hand", Some("staging"))
        .await;
    let iam = world.iam(&account).await;
    let hand_made_trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role()
        .role_name("GatehouseProvisioner")
        .assume_role_policy_document(hand_made_trust)
        .send()
        .await
        .unwrap();

    let err = account_setup::handle_payload(
        &world.deps("account-created"),
        create_account_result(&account),
    )
    .await
    .expect_err("refused");
    assert_eq!(err.kind(), gatehouse::FailureKind::Fault, "{err}");
    assert!(err.to_string().contains("not taken over"), "{err}");
    let trust = provisioner_trust(&iam).await;
    let hand_made: Value = serde_json::from_str(hand_made_trust).unwrap();
    assert_eq!(trust, hand_made, "trust untouched");
    assert!(world.proxy.calls_of("UpdateAssumeRolePolicy").is_empty());
    assert!(world.proxy.calls_of("PutRolePolicy").is_empty());
}

#[tokio::test]
async fn a_role_not_yet_assumable_is_waited_for_within_a_bound() {
    let mut world = staffed_world().await;
    world.set("GATEHOUSE_ACCOUNT_WAIT_SECONDS", "2");
    let account = world
        .create_bare_account("staging-2", Some("staging"))
        .await;

    // The bootstrap role answers "access denied" twice, then works: the wait covers it.
    let denials = Arc::new(AtomicUsize::new(0));
    let deny = deny_assume_role(account.clone());
    let counter = denials.clone();
    world.proxy.inject(move |call| {
        let hit = deny(call)?;
        (counter.fetch_add(1, Ordering::SeqCst) < 2).then_some(hit)
    });
    let report = account_setup::handle_payload(
        &world.deps("account-created"),
        create_account_result(&account),
    )
    .await
    .unwrap();
    assert_eq!(report["result"], "baselined");
    assert_eq!(
        denials.load(Ordering::SeqCst),
        3,
        "two refusals, then success"
    );

    // A role that never becomes assumable: bounded, then handed back as transient.
    world.proxy.clear_injections();
    let other = world
        .create_bare_account("staging-3", Some("staging"))
        .await;
    world.proxy.inject(deny_assume_role(other.clone()));
    let started = std::time::Instant::now();
    let err = account_setup::handle_payload(
        &world.deps("account-created"),
        create_account_result(&other),
    )
    .await
    .expect_err("gives up");
    assert_eq!(err.kind(), gatehouse::FailureKind::Transient, "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "bounded wait"
    );
    assert_eq!(snapshot(&world, &other).await, ORGANIZATION_ONLY);
}

#[tokio::test]
async fn a_hand_made_user_with_a_service_accounts_name_is_reported_and_left_untouched() {
    let world = staffed_world().await;
    let account = world
        .create_bare_account("staging-2", Some("staging"))
        .await;
    let iam = world.iam(&account).await;
    iam.create_user()
        .user_name("svc-release-bot")
        .send()
        .await
        .unwrap();
    iam.create_access_key()
        .user_name("svc-release-bot")
        .send()
        .await
        .unwrap();
    let before = access::user(&iam, "svc-release-bot").await.unwrap();

    world.proxy.reset();
    let report = account_setup::handle_payload(
        &world.deps("account-created"),
        create_account_result(&account),
    )
    .await
    .unwrap();
    assert_eq!(
        report["result"], "baselined",
        "the rest of the baseline is laid"
    );
    assert_eq!(access::user(&iam, "svc-release-bot").await.unwrap(), before);
    let touched: Vec<_> = world
        .proxy
        .calls()
        .into_iter()
        .filter(|c| c.params.get("UserName").map(String::as_str) == Some("svc-release-bot"))
        .map(|c| c.operation)
        .collect();
    assert_eq!(touched, ["GetUser"], "read, left alone");
    let outcomes = world.outcomes().await;
    let rejected = outcomes_of(&outcomes, "Request Rejected");
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["detail"]["accountId"], account.as_str());
    assert!(rejected[0]["detail"]["reason"]
        .as_str()
        .unwrap()
        .contains("svc-release-bot"));
}

#[tokio::test]
async fn a_hand_made_group_with_a_managed_groups_name_is_a_fault_and_left_untouched() {
    let world = staffed_world().await;
    let account = world
        .create_bare_account("staging-2", Some("staging"))
        .await;
    let iam = world.iam(&account).await;
    iam.create_group()
        .group_name("stakeholders")
        .path("/team/")
        .send()
        .await
        .unwrap();

    world.proxy.reset();
    let err = account_setup::handle_payload(
        &world.deps("account-created"),
        create_account_result(&account),
    )
    .await
    .expect_err("not adopted");
    assert_eq!(err.kind(), gatehouse::FailureKind::Fault, "{err}");
    assert!(matches!(err, gatehouse::Error::Conflict { .. }), "{err}");
    let group = iam
        .get_group()
        .group_name("stakeholders")
        .send()
        .await
        .unwrap();
    assert_eq!(group.group().unwrap().path(), "/team/");
    assert!(iam
        .list_attached_group_policies()
        .group_name("stakeholders")
        .send()
        .await
        .unwrap()
        .attached_policies()
        .is_empty());
    let attach_to_it = world
        .proxy
        .calls_of("AttachGroupPolicy")
        .into_iter()
        .filter(|c| c.params.get("GroupName").map(String::as_str) == Some("stakeholders"))
        .count();
    assert_eq!(attach_to_it, 0);
}

/// The trust policy of the account's `GatehouseProvisioner` role, parsed.
async fn provisioner_trust(iam: &aws_sdk_iam::Client) -> Value {
    let role = iam
        .get_role()
        .role_name("GatehouseProvisioner")
        .send()
        .await
        .unwrap();
    decode_policy(role.role().unwrap().assume_role_policy_document().unwrap())
}

#[tokio::test]
async fn a_stricter_password_policy_is_kept_field_by_field() {
    let world = staffed_world().await;
    let account = world
        .create_bare_account("staging-2", Some("staging"))
        .await;
    let iam = world.iam(&account).await;
    iam.update_account_password_policy()
        .minimum_password_length(20)
        .require_symbols(false)
        .max_password_age(30)
        .password_reuse_prevention(5)
        .hard_expiry(true)
        .send()
        .await
        .unwrap();
    account_setup::handle_payload(
        &world.deps("account-created"),
        create_account_result(&account),
    )
    .await
    .unwrap();
    let pw = iam
        .get_account_password_policy()
        .send()
        .await
        .unwrap()
        .password_policy
        .unwrap();
    assert_eq!(
        pw.minimum_password_length,
        Some(20),
        "the longer minimum kept"
    );
    assert_eq!(pw.max_password_age, Some(30), "the shorter age kept");
    assert_eq!(pw.password_reuse_prevention, Some(24), "the longer memory");
    assert_eq!(pw.hard_expiry, Some(true), "hard expiry kept");
    assert!(pw.require_symbols && pw.require_numbers && pw.require_uppercase_characters);

    // And a second pass writes nothing.
    world.proxy.reset();
    account_setup::handle_payload(
        &world.deps("account-created"),
        create_account_result(&account),
    )
    .await
    .unwrap();
    assert!(world
        .proxy
        .calls_of("UpdateAccountPasswordPolicy")
        .is_empty());
}
