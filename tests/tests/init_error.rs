//! A function that refuses its configuration says why where people look: on the Lambda Runtime
//! API's init-error endpoint, before it exits. Lambda then answers the invocation with it
//! (`Runtime.InitError`), and `cargo lambda watch` hands it to the waiting `cargo lambda invoke`
//! (proved with the real client by `scripts/smoke_cargo_lambda.py`).

use std::time::Duration;

use gatehouse_tests::binaries;
use gatehouse_tests::runtime::Function;
use serde_json::Value;

/// Every setting the functions need, as a working deployment has them (and a region, with no
/// instance metadata to look for one in).
fn complete() -> Vec<(String, String)> {
    [
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("GATEHOUSE_DIRECTORY_TABLE", "gatehouse-directory"),
        ("GATEHOUSE_EVENT_BUS", "gatehouse"),
        (
            "GATEHOUSE_WORK_QUEUE_URL",
            "http://127.0.0.1:9/123456789012/gatehouse-work.fifo",
        ),
        (
            "GATEHOUSE_TRUSTED_ROLE_ARNS",
            "arn:aws:iam::123456789012:role/gatehouse/gatehouse-account-created",
        ),
        ("GATEHOUSE_SCIM_TABLE", "gatehouse-scim"),
        (
            "GATEHOUSE_SCIM_TOKEN_SECRET",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:gatehouse/scim-token-AbCdEf",
        ),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

/// Starts `binary` without `setting` (or with it set to `value`), and returns the init error it
/// reported, parsed, with its header's error type; checks that it then stopped, failing.
async fn init_error_of(binary: &str, setting: &str, value: Option<&str>) -> (Value, String) {
    let mut env = complete();
    env.retain(|(k, _)| k != setting);
    if let Some(v) = value {
        env.push((setting.to_owned(), v.to_owned()));
    }
    let log = binaries::log_dir().join(format!("{binary}-init-error-{setting}.log"));
    let mut function = Function::start_isolated(binary, &binaries::path(binary), &env, &log)
        .await
        .unwrap_or_else(|e| panic!("start {binary} (built by `make test`): {e}"));
    let (body, kind) = function
        .init_error(Duration::from_secs(30))
        .await
        .unwrap_or_else(|| panic!("{binary} reported no init error without {setting}"));
    let status = function
        .exit_status(Duration::from_secs(30))
        .await
        .unwrap_or_else(|| panic!("{binary} kept running after its init error"));
    assert!(!status.success(), "{binary} exited with {status}");
    let _ = std::fs::remove_file(log);
    let document: Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{binary}: init error document {body}: {e}"));
    (document, kind.unwrap_or_default())
}

#[tokio::test]
async fn a_missing_setting_is_reported_as_the_init_error_naming_it() {
    for (binary, missing) in [
        ("people-events", "GATEHOUSE_DIRECTORY_TABLE"),
        ("people-events", "GATEHOUSE_EVENT_BUS"),
        ("account-created", "GATEHOUSE_WORK_QUEUE_URL"),
        ("account-created", "GATEHOUSE_TRUSTED_ROLE_ARNS"),
        ("scim", "GATEHOUSE_SCIM_TABLE"),
        ("scim", "GATEHOUSE_SCIM_TOKEN_SECRET"),
        ("scim", "GATEHOUSE_EVENT_BUS"),
    ] {
        let (document, kind) = init_error_of(binary, missing, None).await;
        assert_eq!(kind, "Runtime.InitError", "{binary} without {missing}");
        assert_eq!(
            document,
            serde_json::json!({
                "errorType": "Runtime.InitError",
                "errorMessage": format!("{binary}: configuration: {missing} is not set"),
            }),
            "{binary} without {missing}"
        );
    }
}

#[tokio::test]
async fn an_invalid_setting_is_reported_as_the_init_error_naming_it() {
    let (document, _) =
        init_error_of("people-events", "GATEHOUSE_MAX_CONCURRENCY", Some("0")).await;
    let message = document["errorMessage"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("people-events: configuration: GATEHOUSE_MAX_CONCURRENCY is invalid"),
        "{document}"
    );
}

#[tokio::test]
async fn a_complete_configuration_reports_no_init_error() {
    let log = binaries::log_dir().join("people-events-init-ok.log");
    let function = Function::start_isolated(
        "people-events",
        &binaries::path("people-events"),
        &complete(),
        &log,
    )
    .await
    .expect("start people-events");
    // It asks for its first event: its init is over, and it reported nothing.
    assert!(function
        .init_duration(Duration::from_secs(30))
        .await
        .is_some());
    assert_eq!(function.init_error(Duration::ZERO).await, None);
    let _ = std::fs::remove_file(log);
}
