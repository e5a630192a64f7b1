//! Drift against the emulator: `reconcile` reads every account whole, finds what was changed by
//! hand, reports it (report mode changes nothing), repairs people's drift through the work
//! queue (repair mode), never reads an account it could not list as empty, and stops at the
//! breaker.

use gatehouse::account_setup;
use gatehouse::invocation::handle;
use gatehouse::reconcile;
use gatehouse_tests::access;
use gatehouse_tests::fixtures::{offboarding, onboarding};
use gatehouse_tests::proxy::{deny_assume_role, Injected};
use gatehouse_tests::scenario::{iam_writes, outcomes_of, ADA};
use gatehouse_tests::world::World;
use serde_json::{json, Value};

const BOB: &str = "bob@example.com";
const EVE: &str = "eve@example.com";

fn run_id(n: u32) -> gatehouse::core::ids::EventId {
    gatehouse::core::ids::EventId::parse(&format!("reconcile.test-{n}")).unwrap()
}

async fn reconcile(world: &World, request: Value, n: u32) -> Value {
    let deps = world.deps("reconcile");
    reconcile::handle_bytes(&deps, request.to_string().as_bytes(), &run_id(n))
        .await
        .expect("a report")
}

/// (kind, account, subject) of every finding.
fn findings(report: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("findings in {report}"))
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["accountId"].as_str().unwrap().to_owned(),
                f["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn finding(kind: &str, account: &str, subject: &str) -> (String, String, String) {
    (kind.to_owned(), account.to_owned(), subject.to_owned())
}

/// Ada (engineering) and Eve (QE) hired, Bob hired and gone; then drift by hand: Bob's
/// console password back, Ada in a group nobody defined and without her boundary,
/// administrator rights on the developers group, a weakened deny-all, a policy on the
/// provisioner role, Eve out of her group, and a user outside Gatehouse with a console password.
async fn drifted_world(world: &World) {
    let deps = world.deps("people-events");
    for event in [
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
        onboarding("E2", BOB, "engineering", "2026-11-02T09:00:00Z"),
        onboarding("E3", EVE, "qe", "2026-11-02T09:00:00Z"),
        offboarding("E2", "2026-11-20T17:00:00Z"),
    ] {
        handle(&deps, event).await.unwrap();
    }
    let dev = world.iam(world.account("development")).await;
    dev.create_login_profile()
        .user_name(BOB)
        .password("Reopened-by-hand-1!")
        .send()
        .await
        .unwrap();
    dev.create_group()
        .group_name("legacy-admins")
        .path("/gatehouse/")
        .send()
        .await
        .unwrap();
    dev.add_user_to_group()
        .user_name(ADA)
        .group_name("legacy-admins")
        .send()
        .await
        .unwrap();
    dev.attach_group_policy()
        .group_name("developers")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    dev.delete_user_permissions_boundary()
        .user_name(ADA)
        .send()
        .await
        .unwrap();
    let deny_all = format!(
        "arn:aws:iam::{}:policy/gatehouse/GatehouseDenyAll",
        world.account("development")
    );
    dev.create_policy_version()
        .policy_arn(&deny_all)
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
        )
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    dev.attach_role_policy()
        .role_name("GatehouseProvisioner")
        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    dev.create_user().user_name("mallory").send().await.unwrap();
    dev.create_login_profile()
        .user_name("mallory")
        .password("Made-by-hand-1!")
        .send()
        .await
        .unwrap();
    let test = world.iam(world.account("testing")).await;
    test.remove_user_from_group()
        .user_name(EVE)
        .group_name("testers")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn report_mode_finds_each_kind_of_drift_and_changes_nothing() {
    let world = World::new().await;
    drifted_world(&world).await;
    let (dev, test) = (world.account("development"), world.account("testing"));
    let _ = world.outcomes().await;
    world.proxy.reset();

    let report = reconcile(&world, json!({}), 1).await;
    assert_eq!(report["mode"], "report");
    assert_eq!(report["accountsRead"], 4, "{report}");
    assert_eq!(report["unknownAccounts"], json!({}));
    assert_eq!(
        findings(&report),
        [
            finding("extra-group", dev, ADA),
            finding("group-policy", dev, "developers"),
            finding("missing-boundary", dev, ADA),
            finding("missing-grant", test, EVE),
            finding("policy-document", dev, "GatehouseDenyAll"),
            finding("provisioner-policy", dev, "GatehouseProvisioner"),
            finding("reopened", dev, BOB),
            finding("undefined-group", dev, "legacy-admins"),
            finding("unmanaged-access", dev, "mallory"),
        ]
    );
    assert_eq!(report["repairsEnqueued"], 0);
    assert_eq!(report["held"], "report mode: nothing is repaired");
    assert_eq!(report["baselinesRequested"], 0);
    let reopened = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "reopened")
        .unwrap();
    assert_eq!(reopened["employeeId"], "E2");
    assert_eq!(reopened["detail"], "delete the console password");

    // Nothing written anywhere: no IAM write, no work item, no directory write.
    assert!(iam_writes(&world.proxy.calls()).is_empty());
    assert!(world.proxy.calls_of("SendMessageBatch").is_empty());
    assert!(world.proxy.calls_of("PutItem").is_empty());
    assert!(
        world.take_work_batch(10).await.is_none(),
        "the queue is empty"
    );
    let outcomes = world.outcomes().await;
    let drift = outcomes_of(&outcomes, "Drift Detected");
    assert_eq!(drift.len(), 1, "one outcome per run");
    assert!(
        outcomes_of(&outcomes, "Baseline Requested").is_empty(),
        "report mode asks account-created for nothing"
    );
    assert_eq!(
        drift[0]["detail"]["counts"],
        json!({"extra-group": 1, "group-policy": 1, "missing-boundary": 1, "missing-grant": 1, "policy-document": 1, "provisioner-policy": 1, "reopened": 1, "undefined-group": 1, "unmanaged-access": 1})
    );
    let bob = access::user(&world.iam(dev).await, BOB).await.unwrap();
    assert!(bob.console, "report mode left the reopened login as it was");
}

#[tokio::test]
async fn repair_mode_repairs_people_through_the_queue_and_baselines_through_account_created() {
    let world = World::new().await;
    drifted_world(&world).await;
    let dev = world.account("development").to_owned();
    let iam = world.iam(&dev).await;
    // Three more versions of the weakened deny-all by hand: IAM's five are taken, and the
    // repair must make room for the shipped document.
    let deny_all = format!("arn:aws:iam::{dev}:policy/gatehouse/GatehouseDenyAll");
    for n in 0..3 {
        iam.create_policy_version()
            .policy_arn(&deny_all)
            .policy_document(format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"s3:Get{n}","Resource":"*"}}]}}"#
            ))
            .set_as_default(true)
            .send()
            .await
            .unwrap();
    }
    let _ = world.outcomes().await;
    world.proxy.reset();

    let report = reconcile(&world, json!({"mode": "repair"}), 2).await;
    assert_eq!(report["repairsEnqueued"], 3, "{report}");
    assert_eq!(report["baselinesRequested"], 1, "{report}");
    assert!(report.get("held").is_none(), "{report}");
    assert!(
        iam_writes(&world.proxy.calls()).is_empty(),
        "reconcile itself changes no IAM"
    );

    // People: through the work queue, in order with their HR events.
    let people = world.deps("people-events");
    let drained = world
        .drain_work_queue(|batch| async { handle(&people, batch).await.unwrap() }, 3)
        .await;
    assert_eq!(drained.delivered, 3);
    assert!(drained.handed_back.is_empty());

    let bob = access::user(&iam, BOB).await.unwrap();
    assert!(!bob.console, "the reopened login is gone again");
    let ada = access::user(&iam, ADA).await.unwrap();
    assert_eq!(
        ada.groups.iter().collect::<Vec<_>>(),
        ["developers"],
        "out of the group nobody defined"
    );
    let eve = access::user(&world.iam(world.account("testing")).await, EVE)
        .await
        .unwrap();
    assert_eq!(eve.groups.iter().collect::<Vec<_>>(), ["testers"]);

    // Baselines: one request for development on the bus, naming the user without the
    // boundary, delivered to account-created as EventBridge would.
    let outcomes = world.outcomes().await;
    let requests = outcomes_of(&outcomes, "Baseline Requested");
    assert_eq!(requests.len(), 1, "{outcomes:?}");
    assert_eq!(requests[0]["source"], "gatehouse");
    assert_eq!(
        requests[0]["detail"],
        json!({"accountId": dev, "cause": "reconcile.test-2", "users": [ADA]})
    );
    let setup =
        account_setup::handle_payload(&world.deps("account-created"), (*requests[0]).clone())
            .await
            .unwrap();
    assert_eq!(setup["result"], "baselined", "{setup}");
    assert_eq!(
        setup["backfilled"], 0,
        "reconcile enqueued the people it found"
    );
    let repaired: Vec<&str> = setup["repaired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(
        repaired,
        [
            "policy GatehouseDenyAll: the shipped document".to_owned(),
            "group developers: arn:aws:iam::aws:policy/AdministratorAccess: detached".to_owned(),
            "role GatehouseProvisioner: arn:aws:iam::aws:policy/ReadOnlyAccess removed".to_owned(),
            format!("user {ADA}: boundary"),
        ],
        "{setup}"
    );
    assert_eq!(
        access::managed_policy_document(&iam, &deny_all).await,
        serde_json::from_str::<Value>(gatehouse::core::documents::DENY_ALL).unwrap()
    );
    let versions = iam
        .list_policy_versions()
        .policy_arn(&deny_all)
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version_id())
        .collect();
    assert_eq!(ids.len(), 5, "{ids:?}");
    assert!(
        !ids.contains(&"v1"),
        "the oldest version made room: {ids:?}"
    );
    let boundary = iam.get_user().user_name(ADA).send().await.unwrap();
    assert_eq!(
        boundary
            .user()
            .and_then(|u| u.permissions_boundary())
            .and_then(|b| b.permissions_boundary_arn()),
        Some(format!("arn:aws:iam::{dev}:policy/gatehouse/GatehouseUserBoundary").as_str())
    );

    // What is left is for a person: the group nobody defined (now without power) and the user
    // outside Gatehouse. Another run repairs nothing more.
    world.proxy.reset();
    let again = reconcile(&world, json!({"mode": "repair"}), 3).await;
    assert_eq!(
        findings(&again),
        [
            finding("undefined-group", &dev, "legacy-admins"),
            finding("unmanaged-access", &dev, "mallory")
        ],
        "{again}"
    );
    assert_eq!(again["findings"][0]["repairable"], false, "{again}");
    assert_eq!(again["repairsEnqueued"], 0);
    assert_eq!(again["baselinesRequested"], 0);
    let mallory = access::user(&iam, "mallory").await.unwrap();
    assert!(
        mallory.console,
        "a user outside /gatehouse/ is reported, never changed"
    );

    // A repeated request repairs nothing: each step read and compared, no rewrite. (The
    // baseline's create-if-missing attempts are counted in the benchmarks.)
    world.proxy.reset();
    let setup =
        account_setup::handle_payload(&world.deps("account-created"), (*requests[0]).clone())
            .await
            .unwrap();
    assert_eq!(setup["repaired"], json!([]), "{setup}");
    assert_eq!(setup["created"], json!([]), "{setup}");
    let rewrites: Vec<String> = iam_writes(&world.proxy.calls())
        .into_iter()
        .filter(|op| {
            [
                "CreatePolicyVersion",
                "DeletePolicyVersion",
                "DetachGroupPolicy",
                "DetachRolePolicy",
                "DeleteRolePolicy",
                "PutUserPermissionsBoundary",
            ]
            .contains(&op.as_str())
        })
        .collect();
    assert_eq!(rewrites, Vec::<String>::new());
}

#[tokio::test]
async fn an_account_that_cannot_be_listed_is_unknown_and_nothing_is_repaired_from_it() {
    let world = World::new().await;
    drifted_world(&world).await;
    let (dev, test) = (world.account("development"), world.account("testing"));
    // Throttled past every retry, everywhere.
    world.proxy.inject(|call| {
        (call.operation == "ListUsers").then(|| Injected {
            status: 400,
            body: "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
                   <Message>Rate exceeded</Message></Error></ErrorResponse>"
                .into(),
        })
    });
    world.proxy.reset();
    let report = reconcile(&world, json!({"mode": "repair"}), 4).await;
    let unknown = report["unknownAccounts"].as_object().unwrap();
    assert_eq!(unknown.len(), 4, "{report}");
    assert!(
        unknown[dev].as_str().unwrap().contains("ListUsers"),
        "{report}"
    );
    assert_eq!(report["accountsRead"], 0);
    assert_eq!(findings(&report), []);
    assert_eq!(report["repairsEnqueued"], 0);
    assert!(world.proxy.calls_of("SendMessageBatch").is_empty());

    // One account closed to the role: never baselined, it needs account-created; baselined,
    // it is unknown (and every other account is read and repaired as usual).
    world.proxy.clear_injections();
    let invited = world.create_bare_account("invited", None).await;
    world.proxy.inject(deny_assume_role(invited.clone()));
    world.proxy.inject(deny_assume_role(test.to_owned()));
    let report = reconcile(&world, json!({"mode": "repair"}), 5).await;
    assert_eq!(
        report["unknownAccounts"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        [test],
        "{report}"
    );
    assert!(findings(&report).contains(&finding("no-baseline", &invited, &invited)));
    assert!(
        !findings(&report)
            .iter()
            .any(|(_, account, _)| account == test),
        "nothing is said of an account that was not read"
    );
    assert_eq!(
        report["repairsEnqueued"], 2,
        "Ada's group and Bob's login, not Eve's"
    );
}

#[tokio::test]
async fn the_breaker_stops_a_run_that_would_close_too_many_unless_confirmed() {
    let path = std::env::temp_dir().join(format!("policy-breaker-{}.toml", std::process::id()));
    let policy = gatehouse::core::policy::BUILTIN_POLICY.replace(
        "mode = \"report\"\nmax_disables = 10",
        "mode = \"repair\"\nmax_disables = 1",
    );
    assert!(policy.contains("max_disables = 1\n"));
    std::fs::write(&path, policy).unwrap();
    let mut world = World::new().await;
    world.use_policy_file(path.to_str().unwrap());
    drifted_world(&world).await;
    world.proxy.reset();

    // Ada's extra group and Bob's login: two people whose access a repair would close.
    let report = reconcile(&world, json!({}), 6).await;
    assert_eq!(report["mode"], "repair");
    assert!(
        report["held"]
            .as_str()
            .unwrap()
            .starts_with("the breaker tripped"),
        "{report}"
    );
    assert_eq!(
        report["baselinesRequested"], 0,
        "the breaker holds baselines too"
    );
    assert_eq!(report["repairsEnqueued"], 0);
    assert!(world.proxy.calls_of("SendMessageBatch").is_empty());

    let confirmed = reconcile(&world, json!({"confirm": true}), 7).await;
    assert_eq!(confirmed["repairsEnqueued"], 3, "{confirmed}");
    assert_eq!(confirmed["baselinesRequested"], 1, "{confirmed}");

    // A request that is not exactly one is refused, and runs nothing.
    world.proxy.reset();
    let refused = reconcile(&world, json!({"mode": "fix"}), 8).await;
    assert_eq!(refused["result"], "rejected");
    assert!(world.proxy.calls_of("ListUsers").is_empty());
}

#[tokio::test]
async fn the_operator_cli_reports_drift_access_and_why_and_writes_nothing() {
    let world = World::new().await;
    drifted_world(&world).await;
    let dev = world.account("development").to_owned();
    let _ = world.outcomes().await;
    world.proxy.reset();
    let cli = gatehouse_tests::binaries::path("gatehouse");
    let run = |args: &'static [&'static str]| {
        let env = world.function_env("reconcile");
        let cli = cli.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                std::process::Command::new(&cli)
                    .args(args)
                    .env_clear()
                    .envs(env)
                    .output()
                    .expect("the gatehouse binary runs")
            })
            .await
            .unwrap()
        }
    };

    let out = run(&["reconcile", "--dry-run", "--output", "json"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "drift found: {stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        findings(&report),
        [
            finding("extra-group", &dev, ADA),
            finding("group-policy", &dev, "developers"),
            finding("missing-boundary", &dev, ADA),
            finding("missing-grant", world.account("testing"), EVE),
            finding("policy-document", &dev, "GatehouseDenyAll"),
            finding("provisioner-policy", &dev, "GatehouseProvisioner"),
            finding("reopened", &dev, BOB),
            finding("undefined-group", &dev, "legacy-admins"),
            finding("unmanaged-access", &dev, "mallory"),
        ]
    );
    assert_eq!(report["repairsEnqueued"], 0);

    let table = run(&["reconcile", "--dry-run"]).await;
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.starts_with("ACCOUNT"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("reopened") && l.contains(BOB) && l.contains("E2")),
        "{text}"
    );

    // Who holds what in development, read from the account.
    let access = run(&["access", "--env", "development", "--output", "json"]).await;
    assert_eq!(access.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&access.stdout).unwrap();
    let who: Vec<(String, String, String, bool)> = doc["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["employeeId"].as_str().unwrap().to_owned(),
                r["userName"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
                r["console"] == true,
            )
        })
        .collect();
    let row = |id: &str, name: &str, status: &str, console| {
        (id.to_owned(), name.to_owned(), status.to_owned(), console)
    };
    assert_eq!(
        who,
        [
            row("E1", ADA, "active", true),
            row("E2", BOB, "disabled", true)
        ]
    );

    // Why Bob has what he has: gone, granted nothing, and a console password in development.
    let explain = run(&["explain", "E2", "--output", "json"]).await;
    assert_eq!(explain.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&explain.stdout).unwrap();
    assert_eq!(doc["status"], "offboarded");
    assert_eq!(doc["granted"], json!({}));
    let in_dev = doc["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["accountId"] == dev.as_str())
        .unwrap();
    assert_eq!(in_dev["holds"][0]["status"], "disabled");
    assert_eq!(in_dev["holds"][0]["console"], true);
    assert_eq!(in_dev["drift"], json!(["delete the console password"]));
    let text = run(&["explain", "E2"]).await;
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.starts_with("E2: offboarded since "), "{text}");

    // A dry run writes nothing: no IAM write, no work item, no outcome.
    assert!(iam_writes(&world.proxy.calls()).is_empty());
    assert!(world.proxy.calls_of("SendMessageBatch").is_empty());
    assert!(world.proxy.calls_of("PutEvents").is_empty());
    assert!(world.outcomes().await.is_empty());

    // Without --dry-run it refuses (repairs are the function's); without settings, it names one.
    let usage = run(&["reconcile"]).await;
    assert_eq!(usage.status.code(), Some(2));
    let bare = tokio::task::spawn_blocking(move || {
        std::process::Command::new(gatehouse_tests::binaries::path("gatehouse"))
            .args(["reconcile", "--dry-run"])
            .env_clear()
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(bare.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&bare.stderr).contains("GATEHOUSE_"));
}

#[tokio::test]
async fn a_leaver_left_active_by_a_failed_offboarding_is_found_and_sealed() {
    let mut world = World::new().await;
    let dev = world.account("development").to_owned();
    let prod = world.account("production").to_owned();
    let deps = world.deps("people-events");
    for event in [
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
        onboarding("E2", BOB, "engineering", "2026-11-02T09:00:00Z"),
    ] {
        handle(&deps, event).await.unwrap();
    }
    let iam = world.iam(&dev).await;
    let bob_before = access::user(&iam, BOB).await.unwrap();
    // Bob's offboarding fails in development (the role refused) and, redelivered until it
    // reached the dead-letter queue, never got through: the directory says gone, the account
    // says active.
    world.proxy.inject(deny_assume_role(dev.clone()));
    let fresh = world.deps("people-events");
    let failed = handle(&fresh, offboarding("E2", "2026-11-20T17:00:00Z")).await;
    assert!(failed.is_err(), "{failed:?}");
    world.proxy.clear_injections();
    assert_eq!(
        access::user(&iam, BOB)
            .await
            .unwrap()
            .tag("gatehouse:status"),
        Some("active")
    );
    // A user under /gatehouse/people/ nobody's record names, and a service account the policy
    // no longer defines.
    iam.create_user()
        .user_name("intruder@example.com")
        .path("/gatehouse/people/")
        .send()
        .await
        .unwrap();
    let laid = account_setup::handle_payload(
        &world.deps("account-created"),
        gatehouse_tests::fixtures::create_account_result(&prod),
    )
    .await
    .unwrap();
    assert!(
        laid["created"]
            .as_array()
            .unwrap()
            .contains(&json!("service account svc-deployer")),
        "{laid}"
    );
    let path = std::env::temp_dir().join(format!("policy-retired-{}.toml", std::process::id()));
    let policy = gatehouse::core::policy::BUILTIN_POLICY.replace(
        "[service_accounts.deployer]\nenvironment = \"production\"\ngroups = [\"deployers\"]\n",
        "",
    );
    assert!(!policy.contains("service_accounts"));
    std::fs::write(&path, policy).unwrap();
    world.use_policy_file(path.to_str().unwrap());
    let _ = world.outcomes().await;

    let report = reconcile(&world, json!({"mode": "repair"}), 9).await;
    assert_eq!(
        findings(&report),
        [
            finding("leaver-active", &dev, BOB),
            finding("missing-boundary", &dev, "intruder@example.com"),
            finding("retired-service-account", &prod, "svc-deployer"),
            finding("undefined-group", &prod, "deployers"),
            finding("unknown-user", &dev, "intruder@example.com"),
        ],
        "{report}"
    );
    assert_eq!(report["repairsEnqueued"], 1, "Bob's sync");
    assert_eq!(
        report["baselinesRequested"], 2,
        "production's group loses its policy; the intruder gets the boundary"
    );

    let people = world.deps("people-events");
    let drained = world
        .drain_work_queue(|batch| async { handle(&people, batch).await.unwrap() }, 3)
        .await;
    assert_eq!(drained.delivered, 1);
    let bob = access::user(&iam, BOB).await.unwrap();
    // Sealed by the sync reconcile enqueued (its id names the run).
    gatehouse_tests::scenario::assert_sealed(
        &bob_before,
        &bob,
        &format!("sync.{dev}.E2.reconcile.test-9"),
    );
    let outcomes = world.outcomes().await;
    for request in outcomes_of(&outcomes, "Baseline Requested") {
        account_setup::handle_payload(&world.deps("account-created"), request.clone())
            .await
            .unwrap();
    }
    let deployers = world
        .iam(&prod)
        .await
        .list_attached_group_policies()
        .group_name("deployers")
        .send()
        .await
        .unwrap();
    assert!(
        deployers.attached_policies().is_empty(),
        "the retired service account's group grants nothing"
    );

    // What is left is for a person, and nothing of it was changed.
    let again = reconcile(&world, json!({"mode": "repair"}), 10).await;
    assert_eq!(
        findings(&again),
        [
            finding("retired-service-account", &prod, "svc-deployer"),
            finding("undefined-group", &prod, "deployers"),
            finding("unknown-user", &dev, "intruder@example.com"),
        ],
        "{again}"
    );
    assert_eq!(again["repairsEnqueued"], 0);
    assert_eq!(again["baselinesRequested"], 0);
    assert!(access::user(&iam, "intruder@example.com").await.is_some());
}
