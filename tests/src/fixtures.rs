//! The sample events under `fixtures/` (the same files `cargo lambda invoke --data-file`
//! takes), and builders for variations of them.

use serde_json::{json, Value};

/// The directory of the fixtures.
pub fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// A fixture by file name, e.g. `onboard-engineer.json`.
pub fn load(name: &str) -> Value {
    let path = dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An HR event envelope with a fresh id.
pub fn hr_event(detail_type: &str, detail: Value) -> Value {
    json!({
        "version": "0",
        "id": fresh_id(),
        "detail-type": detail_type,
        "source": "com.example.hr",
        "account": "111122223333",
        "time": "2026-11-02T09:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    })
}

/// An onboarding of `employee` with `email` into `team`, effective at `at`.
pub fn onboarding(employee: &str, email: &str, team: &str, at: &str) -> Value {
    hr_event(
        "Employee Onboarded",
        json!({"employeeId": employee, "email": email, "team": team, "effectiveAt": at}),
    )
}

/// A copy of `event` with a new envelope id (a different delivery of the same facts).
pub fn with_new_id(event: &Value) -> Value {
    let mut e = event.clone();
    e["id"] = Value::String(fresh_id());
    e
}

pub fn fresh_id() -> String {
    use rand::Rng;
    let n: u128 = rand::rng().random();
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// An SQS batch of envelopes, as Lambda delivers it from a FIFO queue (group = employee id).
pub fn sqs_batch(events: &[Value]) -> Value {
    let records: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let group = e["detail"]["employeeId"]
                .as_str()
                .unwrap_or("none")
                .to_owned();
            json!({
                "messageId": format!("msg-{i}"),
                "receiptHandle": format!("handle-{i}"),
                "body": e.to_string(),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "MessageGroupId": group,
                    "MessageDeduplicationId": e["id"],
                    "SentTimestamp": "1764000000000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1764000000000"
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:gatehouse-work.fifo",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

/// A transfer of `employee` to `team`, effective at `at`.
pub fn transfer(employee: &str, email: &str, team: &str, at: &str) -> Value {
    hr_event(
        "Employee Transferred",
        json!({"employeeId": employee, "email": email, "team": team, "effectiveAt": at}),
    )
}

/// An offboarding of `employee`, effective at `at`.
pub fn offboarding(employee: &str, at: &str) -> Value {
    hr_event(
        "Employee Offboarded",
        json!({"employeeId": employee, "effectiveAt": at}),
    )
}

/// An `Employee Sync` work item, for one account or (with `None`) everywhere.
pub fn sync(employee: &str, account: Option<&str>) -> Value {
    let mut detail = json!({"employeeId": employee});
    if let Some(a) = account {
        detail["accountId"] = json!(a);
    }
    let mut e = hr_event("Employee Sync", detail);
    e["source"] = json!("gatehouse");
    e
}

/// The `CreateAccountResult` fixture for `account`, under a fresh event id.
pub fn create_account_result(account: &str) -> Value {
    let mut e = with_new_id(&load("create-account-result-succeeded.json"));
    e["detail"]["serviceEventDetails"]["createAccountStatus"]["accountId"] = json!(account);
    e
}

/// The Control Tower `CreateManagedAccount` fixture for `account`, under a fresh event id.
pub fn create_managed_account(account: &str) -> Value {
    let mut e = with_new_id(&load("control-tower-create-managed-account.json"));
    e["detail"]["serviceEventDetails"]["createManagedAccountStatus"]["account"]["accountId"] =
        json!(account);
    e
}

/// Organizations' `TagResource` (through CloudTrail) setting the environment tag of `account`,
/// under a fresh event id.
pub fn tag_resource(account: &str, environment: &str) -> Value {
    let mut e = with_new_id(&load("tag-resource-environment.json"));
    e["detail"]["requestParameters"]["resourceId"] = json!(account);
    e["detail"]["requestParameters"]["tags"] =
        json!([{"key": "environment", "value": environment}]);
    e
}
