//! The function binaries themselves: they refuse to start on bad configuration, naming the
//! setting, and answer real invocations through the Lambda Runtime API, exactly as in Lambda.

use std::process::Command;

use gatehouse_tests::access;
use gatehouse_tests::binaries;
use gatehouse_tests::fixtures::{self, create_account_result, offboarding, onboarding};
use gatehouse_tests::runtime::Function;
use gatehouse_tests::scenario::outcomes_of;
use gatehouse_tests::world::World;

#[test]
fn a_missing_setting_stops_the_function_at_start_naming_it() {
    for (binary, missing) in [
        ("people-events", "GATEHOUSE_DIRECTORY_TABLE"),
        ("account-created", "GATEHOUSE_WORK_QUEUE_URL"),
    ] {
        let out = Command::new(binaries::path(binary))
            .env_clear()
            .env("GATEHOUSE_DIRECTORY_TABLE", "t")
            .env("GATEHOUSE_EVENT_BUS", "bus")
            .env_remove(missing)
            .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
            .output()
            .unwrap_or_else(|e| panic!("run {binary} (built by `make test`): {e}"));
        assert!(!out.status.success(), "{binary}");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains(&format!("{missing} is not set")),
            "{binary}: {text}"
        );
    }
}

#[tokio::test]
async fn the_binary_answers_an_invocation_through_the_runtime_api() {
    let world = World::new().await;
    let env = world.function_env("people-events");
    let log = binaries::log_dir().join(format!("people-events-{}.log", world.management));
    let function = Function::start(
        "people-events",
        &binaries::path("people-events"),
        &env,
        &log,
    )
    .await
    .unwrap();

    let answer = function
        .invoke(&fixtures::load("onboard-qe.json"))
        .await
        .expect("answer");
    assert_eq!(answer["result"], "applied");
    assert_eq!(answer["accounts"][world.account("testing")], "granted");
    let iam = world.iam(world.account("testing")).await;
    let user = access::user(&iam, "grace.hopper@example.com")
        .await
        .expect("the user");
    assert!(user.console);

    // A transient failure comes back as a Lambda error with its kind, for Lambda to retry.
    world.proxy.inject(|call| {
        (call.operation == "PutItem").then(|| gatehouse_tests::proxy::Injected {
            status: 400,
            body: r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow down"}"#.into(),
        })
    });
    let error = function
        .invoke(&fixtures::load("onboard-pm.json"))
        .await
        .expect_err("an error");
    assert_eq!(error["errorType"], "Transient", "{error}");
    world.proxy.clear_injections();

    // The binary reads the bytes Lambda delivered: an envelope whose `detail` names the
    // employee twice is refused, not read as whichever key a map keeps.
    let text = fixtures::load("onboard-engineer.json").to_string();
    let doubled = text.replacen(
        "\"employeeId\":",
        "\"employeeId\":\"E9001\",\"employeeId\":",
        1,
    );
    assert_ne!(doubled, text, "the fixture names its employee");
    let answer = function
        .invoke_raw(doubled.into_bytes())
        .await
        .expect("an answer");
    assert_eq!(answer["result"], "rejected", "{answer}");
    assert!(
        answer["rejections"][0]
            .as_str()
            .unwrap()
            .contains("appears twice"),
        "{answer}"
    );
    let iam = world.iam(world.account("development")).await;
    assert!(
        access::users(&iam, "/gatehouse/").await.is_empty(),
        "nothing was created"
    );
    let _ = std::fs::remove_file(log);
}

#[tokio::test]
async fn no_password_reaches_a_log_an_answer_or_an_outcome_through_hire_and_rehire() {
    let world = World::new().await;
    let dev = world.account("development").to_owned();
    let env = world.function_env("people-events");
    let log = binaries::log_dir().join(format!("people-events-pw-{}.log", world.management));
    let function = Function::start(
        "people-events",
        &binaries::path("people-events"),
        &env,
        &log,
    )
    .await
    .unwrap();
    let secret = format!("gatehouse/initial-password/{dev}/ada@example.com");

    let mut answers = Vec::new();
    let mut passwords = Vec::new();
    for event in [
        onboarding(
            "E1",
            "ada@example.com",
            "engineering",
            "2026-11-02T09:00:00Z",
        ),
        offboarding("E1", "2026-11-20T17:00:00Z"),
        onboarding(
            "E1",
            "ada@example.com",
            "engineering",
            "2026-11-25T09:00:00Z",
        ),
    ] {
        let answer = function.invoke(&event).await.expect("answer");
        assert_eq!(answer["result"], "applied", "{answer}");
        answers.push(answer.to_string());
        if let Some(p) = world.secret(&secret).await {
            if !passwords.contains(&p) {
                passwords.push(p);
            }
        }
    }
    assert_eq!(passwords.len(), 2, "a first password and the rehire's");
    let set: Vec<String> = world
        .proxy
        .calls_of("CreateLoginProfile")
        .into_iter()
        .map(|c| c.params["Password"].clone())
        .collect();
    assert_eq!(set, passwords, "each is the password that was set");

    let outcomes = world.outcomes().await;
    let granted = outcomes_of(&outcomes, "Access Granted");
    assert_eq!(granted.len(), 2);
    for g in &granted {
        assert!(g["detail"]["initialPasswordSecretArn"]
            .as_str()
            .unwrap()
            .contains(&secret));
    }
    // The binary's own JSON log, as Lambda would ship it.
    drop(function);
    let logged = std::fs::read_to_string(&log).expect("the function's log");
    assert!(
        logged.contains("\"converged\""),
        "the summary lines were written: {logged}"
    );
    let outcomes = serde_json::to_string(&outcomes).unwrap();
    for p in &passwords {
        assert!(!logged.contains(p.as_str()), "a password in the log");
        assert!(!outcomes.contains(p.as_str()), "a password in an outcome");
        for a in &answers {
            assert!(!a.contains(p.as_str()), "a password in an answer");
        }
    }
    let _ = std::fs::remove_file(log);
}

#[tokio::test]
async fn account_created_answers_through_the_runtime_api() {
    let world = World::new().await;
    let account = world
        .create_bare_account("staging-2", Some("staging"))
        .await;
    let env = world.function_env("account-created");
    let log = binaries::log_dir().join(format!("account-created-{}.log", world.management));
    let function = Function::start(
        "account-created",
        &binaries::path("account-created"),
        &env,
        &log,
    )
    .await
    .unwrap();

    let answer = function
        .invoke(&create_account_result(&account))
        .await
        .expect("answer");
    assert_eq!(answer["result"], "baselined", "{answer}");
    assert_eq!(answer["accountId"], account.as_str());
    assert_eq!(answer["environment"], "staging");
    let iam = world.iam(&account).await;
    let role = iam
        .get_role()
        .role_name("GatehouseProvisioner")
        .send()
        .await
        .expect("the provisioner role");
    assert!(role
        .role()
        .unwrap()
        .tags()
        .iter()
        .any(|t| t.key() == "gatehouse:role" && t.value() == "provisioner"));
    let groups: Vec<String> = iam
        .list_groups()
        .path_prefix("/gatehouse/")
        .send()
        .await
        .unwrap()
        .groups()
        .iter()
        .map(|g| g.group_name().to_owned())
        .collect();
    assert_eq!(groups, ["stakeholders"]);

    // Bad input is answered, not an error: rejected and reported.
    let rejected = function
        .invoke(&fixtures::load("onboard-engineer.json"))
        .await
        .expect("answer");
    assert_eq!(rejected["result"], "rejected", "{rejected}");
    let _ = std::fs::remove_file(log);
}
