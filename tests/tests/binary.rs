//! The function binary itself: it refuses to start on bad configuration, naming the setting,
//! and answers real invocations through the Lambda Runtime API.

use std::path::PathBuf;
use std::process::Command;

use gatehouse_tests::fixtures;
use gatehouse_tests::runtime::Function;
use gatehouse_tests::world::World;

fn binary() -> PathBuf {
    gatehouse_tests::binaries::path("people-events")
}

#[test]
fn a_missing_setting_stops_the_function_at_start_naming_it() {
    let out = Command::new(binary())
        .env_remove("GATEHOUSE_DIRECTORY_TABLE")
        .env("GATEHOUSE_EVENT_BUS", "bus")
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .output()
        .expect("run people-events (built by `make test`)");
    assert!(!out.status.success());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("GATEHOUSE_DIRECTORY_TABLE is not set"),
        "{text}"
    );
}

#[tokio::test]
async fn the_binary_answers_an_invocation_through_the_runtime_api() {
    let world = World::new().await;
    let env = world.function_env();
    let log = std::env::temp_dir().join(format!("people-events-{}.log", world.management));
    let function = Function::start("people-events", &binary(), &env, &log)
        .await
        .unwrap();

    let answer = function
        .invoke(&fixtures::load("onboard-qe.json"))
        .await
        .expect("answer");
    assert_eq!(answer["result"], "applied");
    assert_eq!(answer["accounts"][world.account("testing")], "granted");
    let iam = world.iam(world.account("testing")).await;
    assert!(
        gatehouse_tests::access::user(&iam, "grace.hopper@example.com")
            .await
            .is_some()
    );

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
    let _ = std::fs::remove_file(log);
}
