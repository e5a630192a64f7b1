//! Service account keys against the emulator: a key issued into the service account's own
//! account's Secrets Manager and working; rotated with a grace period; every step of a rotation
//! interrupted, and each time the workload still has a working key and the next run converges;
//! two runs at once; retirement; and no secret in any log, answer or outcome.

use aws_credential_types::Credentials;
use gatehouse::account_setup;
use gatehouse::core::ids::{EventId, Timestamp};
use gatehouse::service_keys::{self, KeysReport};
use gatehouse_tests::capture::Logs;
use gatehouse_tests::fixtures::create_account_result;
use gatehouse_tests::proxy::{json_error, query_error};
use gatehouse_tests::scenario::outcomes_of;
use gatehouse_tests::world::{sdk_config, World};
use serde_json::Value;

const USER: &str = "svc-deployer";
const SECRET: &str = "gatehouse/service/deployer";
const DAY: i128 = 86_400 * 1_000_000_000;

/// The built-in policy, with keys for the deployer.
fn keyed_world_policy() -> String {
    let policy = gatehouse::core::policy::BUILTIN_POLICY.replace(
        "[service_accounts.deployer]\nenvironment = \"production\"\ngroups = [\"deployers\"]\n",
        "[service_accounts.deployer]\nenvironment = \"production\"\ngroups = [\"deployers\"]\n\
         keys = true\nrotate_days = 90\ngrace_days = 7\n",
    );
    assert!(policy.contains("keys = true"));
    policy
}

/// A world whose policy gives the deployer keys, with production's baseline laid.
async fn keyed_world(keys: bool) -> World {
    let mut world = World::new().await;
    let policy = keyed_world_policy();
    let path = std::env::temp_dir().join(format!(
        "policy-keys-{}-{}.toml",
        std::process::id(),
        gatehouse_tests::fixtures::fresh_id()
    ));
    std::fs::write(
        &path,
        if keys {
            policy
        } else {
            gatehouse::core::policy::BUILTIN_POLICY.to_owned()
        },
    )
    .unwrap();
    world.use_policy_file(path.to_str().unwrap());
    let prod = world.account("production").to_owned();
    account_setup::handle_payload(&world.deps("account-created"), create_account_result(&prod))
        .await
        .unwrap();
    let _ = world.outcomes().await;
    world
}

/// A run at `now` (`days` after the real now), as the schedule makes one.
async fn run(world: &World, days: i128) -> Result<KeysReport, gatehouse::Error> {
    let now = Timestamp::from_unix_nanos(Timestamp::now().unix_nanos() + days * DAY).unwrap();
    let id = EventId::parse(&format!(
        "schedule-{}",
        gatehouse_tests::fixtures::fresh_id()
    ))
    .unwrap();
    service_keys::run(&world.deps("account-created"), &id, now).await
}

/// The user's keys: (id, active).
async fn keys(world: &World) -> Vec<(String, bool)> {
    let iam = world.iam(world.account("production")).await;
    let listed = iam.list_access_keys().user_name(USER).send().await.unwrap();
    listed
        .access_key_metadata()
        .iter()
        .map(|k| {
            (
                k.access_key_id().unwrap().to_owned(),
                k.status().map(|s| s.as_str()) == Some("Active"),
            )
        })
        .collect()
}

/// What a workload reads: the secret's current value.
async fn read_secret(world: &World) -> Option<Value> {
    let sm = aws_sdk_secretsmanager::Client::new(
        &world.member_config(world.account("production")).await,
    );
    let got = sm.get_secret_value().secret_id(SECRET).send().await.ok()?;
    Some(serde_json::from_str(got.secret_string().unwrap()).unwrap())
}

/// The workload's key works: the emulator's STS says who it is.
async fn works(world: &World, secret: &Value) -> bool {
    let creds = Credentials::new(
        secret["AccessKeyId"].as_str().unwrap(),
        secret["SecretAccessKey"].as_str().unwrap(),
        None,
        None,
        "workload",
    );
    let sts = aws_sdk_sts::Client::new(&sdk_config(&world.emulator, creds).await);
    sts.get_caller_identity()
        .send()
        .await
        .ok()
        .and_then(|o| o.arn().map(str::to_owned))
        .is_some_and(|arn| arn.ends_with(&format!("user/gatehouse/service/{USER}")))
}

/// The invariant: the key the secret holds is an active key of the user.
async fn workload_has_a_working_key(world: &World, secrets: &mut Vec<String>) {
    let secret = read_secret(world).await.expect("the secret");
    secrets.push(secret["SecretAccessKey"].as_str().unwrap().to_owned());
    let id = secret["AccessKeyId"].as_str().unwrap();
    assert!(
        keys(world).await.contains(&(id.to_owned(), true)),
        "the secret's key {id} is not active: {:?}",
        keys(world).await
    );
    assert!(
        works(world, &secret).await,
        "the secret's key does not work"
    );
}

#[tokio::test]
async fn a_key_is_issued_into_the_accounts_secret_rotated_with_grace_and_never_logged() {
    let (logs, _guard) = Logs::capture();
    let world = keyed_world(true).await;
    let prod = world.account("production").to_owned();
    let mut secrets = Vec::new();

    // Issued, stored in production's Secrets Manager, and working.
    let issued = run(&world, 0).await.unwrap();
    assert_eq!(issued.issued, [format!("{prod}/deployer")]);
    workload_has_a_working_key(&world, &mut secrets).await;
    let first = keys(&world).await;
    assert_eq!(first.len(), 1);
    let outcomes = world.outcomes().await;
    let granted = outcomes_of(&outcomes, "Access Granted");
    assert_eq!(granted.len(), 1);
    assert_eq!(granted[0]["detail"]["serviceAccount"], "deployer");
    assert_eq!(granted[0]["detail"]["accessKeyId"], first[0].0.as_str());
    assert!(granted[0]["detail"]["secretArn"]
        .as_str()
        .unwrap()
        .contains(&format!(":{prod}:secret:{SECRET}")));
    // Tagged as Gatehouse's.
    let sm = aws_sdk_secretsmanager::Client::new(&world.member_config(&prod).await);
    let described = sm.describe_secret().secret_id(SECRET).send().await.unwrap();
    assert!(described
        .tags()
        .iter()
        .any(|t| t.key() == Some("gatehouse:service-account") && t.value() == Some("deployer")));

    // Nothing is due the next day.
    assert_eq!(run(&world, 1).await.unwrap().issued.len(), 0);
    assert_eq!(keys(&world).await, first);

    // Due after 90 days: a new key is current, the old one still works (grace).
    world.proxy.reset();
    let rotated = run(&world, 91).await.unwrap();
    let calls: Vec<String> = world
        .proxy
        .calls()
        .iter()
        .filter(|c| c.service == "iam" || c.service == "secretsmanager")
        .map(|c| c.operation.clone())
        .collect();
    println!(
        "a rotation: {} IAM and Secrets Manager calls: {calls:?}",
        calls.len()
    );
    // Read (user, keys, versions), mark, create, store, unmark: the one write path.
    let writes: Vec<&str> = calls
        .iter()
        .map(String::as_str)
        .filter(|op| {
            !op.starts_with("Get") && !op.starts_with("List") && !op.starts_with("Describe")
        })
        .collect();
    assert_eq!(
        writes,
        ["TagUser", "CreateAccessKey", "PutSecretValue", "UntagUser"],
        "{calls:?}"
    );
    assert_eq!(rotated.rotated, [format!("{prod}/deployer")]);
    workload_has_a_working_key(&world, &mut secrets).await;
    let both = keys(&world).await;
    assert_eq!(both.len(), 2);
    assert!(both.iter().all(|(_, active)| *active), "{both:?}");
    let outcomes = world.outcomes().await;
    assert_eq!(outcomes_of(&outcomes, "Key Rotated").len(), 1);
    // A day into the grace period nothing changes; after it, the old key is deactivated and
    // deleted (it was Gatehouse's), and the new one is the only one.
    run(&world, 1).await.unwrap();
    assert_eq!(keys(&world).await.len(), 2);
    let cleaned = run(&world, 8).await.unwrap();
    assert_eq!(cleaned.cleaned.len(), 2, "{cleaned:?}");
    let left = keys(&world).await;
    assert_eq!(left.len(), 1);
    assert_ne!(left[0].0, first[0].0);
    workload_has_a_working_key(&world, &mut secrets).await;

    // No secret part of any key in a log line, an answer or an outcome.
    let said = format!(
        "{}{}{}{}{:?}",
        logs.text(),
        serde_json::to_string(&issued).unwrap(),
        serde_json::to_string(&rotated).unwrap(),
        serde_json::to_string(&cleaned).unwrap(),
        outcomes
    );
    assert!(
        logs.text().contains("key issued and stored"),
        "logs were captured"
    );
    for secret in &secrets {
        assert!(
            !said.contains(secret.as_str()),
            "a key's secret was written out"
        );
    }
}

#[tokio::test]
async fn a_rotation_interrupted_between_any_two_steps_keeps_a_working_key_and_converges() {
    let world = keyed_world(true).await;
    let mut secrets = Vec::new();
    run(&world, 0).await.unwrap();
    // The steps of a rotation, each refused once: the run fails, the workload still has a
    // working key, and the next run converges.
    let iam_refused = |op: &'static str| query_error(op, 403, "AccessDenied");
    type Injection = Box<
        dyn Fn(&gatehouse_tests::proxy::Call) -> Option<gatehouse_tests::proxy::Injected>
            + Send
            + Sync,
    >;
    let steps: Vec<(&str, Injection, i128)> = vec![
        ("TagUser", Box::new(iam_refused("TagUser")), 91),
        (
            "CreateAccessKey",
            Box::new(iam_refused("CreateAccessKey")),
            91,
        ),
        (
            "PutSecretValue",
            Box::new(json_error("PutSecretValue", 400, "AccessDeniedException")),
            91,
        ),
        ("UntagUser", Box::new(iam_refused("UntagUser")), 91),
        (
            "UpdateAccessKey",
            Box::new(iam_refused("UpdateAccessKey")),
            8,
        ),
        (
            "DeleteAccessKey",
            Box::new(iam_refused("DeleteAccessKey")),
            8,
        ),
    ];
    for (op, injection, days) in steps {
        if days == 8 {
            // The cleanup steps come after a rotation.
            run(&world, 91).await.unwrap();
        }
        world.proxy.inject(injection);
        let failed = run(&world, days).await;
        world.proxy.clear_injections();
        assert!(failed.is_err(), "{op}: {failed:?}");
        workload_has_a_working_key(&world, &mut secrets).await;
        // The next runs converge: a rotation's grace period later, exactly one key, the
        // secret's, working.
        run(&world, days)
            .await
            .unwrap_or_else(|e| panic!("{op}: {e}"));
        workload_has_a_working_key(&world, &mut secrets).await;
        assert!(keys(&world).await.len() <= 2, "{op}");
        run(&world, 8).await.unwrap();
        let left = keys(&world).await;
        assert_eq!(left.len(), 1, "{op}: {left:?}");
        workload_has_a_working_key(&world, &mut secrets).await;
        let user = world
            .iam(world.account("production"))
            .await
            .get_user()
            .user_name(USER)
            .send()
            .await
            .unwrap();
        assert!(
            !user
                .user()
                .unwrap()
                .tags()
                .iter()
                .any(|t| t.key() == "gatehouse:key-intent"),
            "{op}: the intent mark is cleared"
        );
    }

    // Two runs at once when a rotation is due: never without a working key, and converged.
    let (a, b) = tokio::join!(run(&world, 91), run(&world, 91));
    let _ = (a, b);
    workload_has_a_working_key(&world, &mut secrets).await;
    assert!(keys(&world).await.len() <= 2);
    run(&world, 8).await.unwrap();
    assert_eq!(keys(&world).await.len(), 1);
    workload_has_a_working_key(&world, &mut secrets).await;
}

#[tokio::test]
async fn a_service_account_removed_from_the_policy_is_retired_and_its_secret_scheduled_for_deletion(
) {
    let mut world = keyed_world(true).await;
    run(&world, 0).await.unwrap();
    let prod = world.account("production").to_owned();
    // The deployer is removed from the policy.
    let path = std::env::temp_dir().join(format!("policy-nokeys-{}.toml", std::process::id()));
    let policy = gatehouse::core::policy::BUILTIN_POLICY.replace(
        "[service_accounts.deployer]\nenvironment = \"production\"\ngroups = [\"deployers\"]\n",
        "",
    );
    std::fs::write(&path, policy).unwrap();
    world.use_policy_file(path.to_str().unwrap());
    let _ = world.outcomes().await;

    let report = run(&world, 0).await.unwrap();
    assert_eq!(report.retired, [format!("{prod}/deployer")]);
    let user = gatehouse_tests::access::user(&world.iam(&prod).await, USER)
        .await
        .expect("kept, never deleted");
    assert!(user.denied_all(), "deny-all attached");
    assert!(user.groups.is_empty(), "{:?}", user.groups);
    assert_eq!(user.active_access_keys(), 0);
    assert_eq!(user.tag("gatehouse:status"), Some("disabled"));
    let sm = aws_sdk_secretsmanager::Client::new(&world.member_config(&prod).await);
    let described = sm.describe_secret().secret_id(SECRET).send().await.unwrap();
    assert!(described.deleted_date().is_some(), "scheduled for deletion");
    let outcomes = world.outcomes().await;
    let revoked = outcomes_of(&outcomes, "Access Revoked");
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["detail"]["serviceAccount"], "deployer");

    // Again: nothing left to close, nothing said.
    let again = run(&world, 0).await.unwrap();
    assert!(again.retired.is_empty(), "{again:?}");

    // Defined again, with keys: its secret is restored and holds a new, working key (the
    // user itself comes back with account-created's baseline and the deny-all lifted by a
    // person: Gatehouse does not reopen a retired service account by itself).
    let keyed = keyed_world_policy();
    let path = std::env::temp_dir().join(format!("policy-rekeyed-{}.toml", std::process::id()));
    std::fs::write(&path, keyed).unwrap();
    world.use_policy_file(path.to_str().unwrap());
    let back = run(&world, 0).await.unwrap();
    assert_eq!(back.issued, [format!("{prod}/deployer")], "{back:?}");
    let secret = read_secret(&world).await.expect("restored");
    let active: Vec<String> = keys(&world)
        .await
        .into_iter()
        .filter(|(_, a)| *a)
        .map(|(id, _)| id)
        .collect();
    assert_eq!(active, [secret["AccessKeyId"].as_str().unwrap().to_owned()]);
}

#[tokio::test]
async fn a_service_account_without_keys_gets_none() {
    let world = keyed_world(false).await;
    let report = run(&world, 0).await.unwrap();
    assert!(report.issued.is_empty());
    assert!(keys(&world).await.is_empty());
    assert!(read_secret(&world).await.is_none());
}

#[tokio::test]
async fn an_account_without_the_bootstrap_role_fails_the_run_only_where_keys_are_kept() {
    let world = keyed_world(true).await;
    // An account that joined by invitation, in development (no keys kept there): passed over.
    let invited = world
        .create_bare_account("invited", Some("development"))
        .await;
    world
        .proxy
        .inject(gatehouse_tests::proxy::deny_assume_role(invited));
    let report = run(&world, 0).await.unwrap();
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(
        report.issued.len(),
        1,
        "production's key is issued all the same"
    );
    // Production refusing the role: there are keys to keep there, so the run fails (alarm,
    // retry), and says where.
    world.proxy.clear_injections();
    world.proxy.inject(gatehouse_tests::proxy::deny_assume_role(
        world.account("production").to_owned(),
    ));
    let failed = run(&world, 91).await.expect_err("production refused");
    assert!(
        failed.to_string().contains(world.account("production")),
        "{failed}"
    );
}
