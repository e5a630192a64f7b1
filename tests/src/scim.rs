//! The SCIM front door in a world: its table and token secret (laid with every world), the
//! route of HR events from the bus to the work queue, and a client that sends SCIM requests to
//! the real `scim` binary as a function URL delivers them.
//!
//! The route is the harness's: EventBridge's SQS target would group each HR event by
//! `$.detail.employeeId` (`infra/template.yaml`), but the emulator takes that path literally
//! as the group id. So HR events go to a plain queue and [`World::route_hr_events`] forwards
//! them to the FIFO work queue with the group and deduplication ids EventBridge gives them,
//! and with the sender's `account`, which EventBridge stamps on every event and the emulator
//! leaves out on this path.

use std::path::PathBuf;

use aws_config::SdkConfig;
use serde_json::{json, Value};

use crate::runtime::Function;
use crate::world::{World, BUS, REGION};

pub const SCIM_TABLE: &str = "gatehouse-scim";
pub const TOKEN_SECRET: &str = "gatehouse/scim-token";
const HR_QUEUE: &str = "gatehouse-hr-events";
/// The host of the world's function URL, as Lambda gives it in `requestContext.domainName`.
pub const URL_HOST: &str = "scim-test.lambda-url.us-east-1.on.aws";

/// Lays the SCIM table, the token secret (a random 64-character token) and the HR route in a
/// new world. Returns the secret's ARN.
pub async fn lay(direct: &SdkConfig, management: &str, hr_source: &str) -> String {
    crate::world::create_table(direct, SCIM_TABLE, "pk").await;
    let token: String = {
        use rand::Rng;
        let mut rng = rand::rng();
        (0..64)
            .map(|_| {
                char::from(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                        [rng.random_range(0..62)],
                )
            })
            .collect()
    };
    let arn = aws_sdk_secretsmanager::Client::new(direct)
        .create_secret()
        .name(TOKEN_SECRET)
        .secret_string(token)
        .send()
        .await
        .expect("create the SCIM token")
        .arn
        .expect("a secret ARN");
    aws_sdk_sqs::Client::new(direct)
        .create_queue()
        .queue_name(HR_QUEUE)
        .send()
        .await
        .expect("create the HR event queue");
    let events = aws_sdk_eventbridge::Client::new(direct);
    events
        .put_rule()
        .name("hr-events")
        .event_bus_name(BUS)
        .event_pattern(json!({"source": [hr_source]}).to_string())
        .send()
        .await
        .expect("create the HR event rule");
    events
        .put_targets()
        .rule("hr-events")
        .event_bus_name(BUS)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("hr-events")
                .arn(format!("arn:aws:sqs:{REGION}:{management}:{HR_QUEUE}"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("target the HR event queue");
    arn
}

impl World {
    /// The bearer token the world's SCIM function accepts (the secret's current value).
    pub async fn scim_token(&self) -> String {
        self.secret(TOKEN_SECRET).await.expect("the SCIM token")
    }

    /// A policy for the SCIM front door: the built-in one, with this world's own account among
    /// `hr_accounts` (the SCIM function puts HR events from it), teams taken `teams_from`
    /// `groups` or `department`, and employee ids from `employee_id_from` (`employeeNumber` or
    /// `externalId`). Written under the target directory and used by the functions.
    pub fn use_scim_policy(&mut self, teams_from: &str, employee_id_from: &str) {
        let builtin = gatehouse::core::policy::BUILTIN_POLICY;
        let policy = builtin
            .replace(
                "hr_accounts = [\"111122223333\"]",
                &format!("hr_accounts = [\"111122223333\", \"{}\"]", self.management),
            )
            .replace(
                "teams_from = \"groups\"",
                &format!("teams_from = \"{teams_from}\""),
            )
            .replace(
                "employee_id_from = \"employeeNumber\"",
                &format!("employee_id_from = \"{employee_id_from}\""),
            );
        assert_ne!(
            policy, builtin,
            "the built-in policy's hr_accounts line moved"
        );
        let path: PathBuf =
            crate::binaries::log_dir().join(format!("scim-policy-{}.toml", self.management));
        std::fs::write(&path, policy).expect("write the SCIM policy");
        self.use_policy_file(path.to_str().expect("a UTF-8 path"));
    }

    /// Forwards every HR event the bus delivered to the HR queue onto the FIFO work queue, as
    /// EventBridge's SQS target does: grouped by `detail.employeeId`, deduplicated by the
    /// event id. Returns the envelopes forwarded, in order.
    pub async fn route_hr_events(&self) -> Vec<Value> {
        let sqs = aws_sdk_sqs::Client::new(&self.direct);
        let url = sqs
            .get_queue_url()
            .queue_name(HR_QUEUE)
            .send()
            .await
            .expect("the HR queue")
            .queue_url
            .expect("a queue URL");
        let mut forwarded = Vec::new();
        loop {
            let got = sqs
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("receive HR events");
            let messages = got.messages.unwrap_or_default();
            if messages.is_empty() {
                return forwarded;
            }
            for m in messages {
                let mut envelope: Value =
                    serde_json::from_str(m.body().unwrap_or_default()).expect("an envelope");
                if envelope.get("account").is_none() {
                    // Only this world's own account puts events on its bus.
                    envelope["account"] = self.management.clone().into();
                }
                sqs.send_message()
                    .queue_url(&self.work_queue_url)
                    .message_body(envelope.to_string())
                    .message_group_id(
                        envelope["detail"]["employeeId"]
                            .as_str()
                            .expect("an employee id"),
                    )
                    .message_deduplication_id(envelope["id"].as_str().expect("an event id"))
                    .send()
                    .await
                    .expect("forward to the work queue");
                sqs.delete_message()
                    .queue_url(&url)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("delete the forwarded event");
                forwarded.push(envelope);
            }
        }
    }
}

/// The `scim` binary running in a world, and requests to it as its function URL sends them.
pub struct ScimClient {
    function: Function,
    token: String,
}

/// A SCIM answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Value,
    /// The JSON body (`Null` for none).
    pub body: Value,
}

impl ScimClient {
    pub async fn start(world: &World) -> ScimClient {
        let log = crate::binaries::log_dir().join(format!("scim-{}.log", world.management));
        let function = Function::start(
            "scim",
            &crate::binaries::path("scim"),
            &world.function_env("scim"),
            &log,
        )
        .await
        .expect("start the scim function");
        ScimClient {
            function,
            token: world.scim_token().await,
        }
    }

    /// A request with the world's token.
    pub async fn send(&self, method: &str, path_and_query: &str, body: Option<&Value>) -> Answer {
        let token = format!("Bearer {}", self.token);
        self.send_as(
            Some(&token),
            method,
            path_and_query,
            body.map(|b| b.to_string()),
        )
        .await
    }

    /// A request with any `Authorization` header (or none) and any body text.
    pub async fn send_as(
        &self,
        authorization: Option<&str>,
        method: &str,
        path_and_query: &str,
        body: Option<String>,
    ) -> Answer {
        let event = url_event(authorization, method, path_and_query, body);
        let answer = self
            .function
            .invoke(&event)
            .await
            .unwrap_or_else(|e| panic!("the scim function failed: {e}"));
        let text = answer["body"].as_str().unwrap_or_default();
        Answer {
            status: answer["statusCode"].as_u64().expect("a statusCode") as u16,
            headers: answer["headers"].clone(),
            body: if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(text).expect("a JSON body")
            },
        }
    }

    /// The function's process (for its peak memory, say).
    pub fn function(&self) -> &Function {
        &self.function
    }
}

/// A Lambda function URL event (payload format 2.0), as AWS sends it.
pub fn url_event(
    authorization: Option<&str>,
    method: &str,
    path_and_query: &str,
    body: Option<String>,
) -> Value {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut headers = json!({
        "host": URL_HOST,
        "user-agent": "gatehouse-tests",
        "accept": "application/scim+json",
    });
    if let Some(a) = authorization {
        headers["authorization"] = a.into();
    }
    if body.is_some() {
        headers["content-type"] = "application/scim+json".into();
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "scim-test",
            "domainName": URL_HOST,
            "domainPrefix": "scim-test",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "gatehouse-tests",
            },
            "requestId": format!("{:032x}", rand::random::<u128>()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "28/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1_795_856_400_000u64,
        },
        "isBase64Encoded": false,
    });
    if !query.is_empty() {
        let params: serde_json::Map<String, Value> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (decode(k), Value::String(decode(v))))
            .collect();
        event["queryStringParameters"] = Value::Object(params);
    }
    if let Some(b) = body {
        event["body"] = b.into();
    }
    event
}

/// Percent-decoding of a query component (`+` is a space), as Lambda decodes parameters.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
