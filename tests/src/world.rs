//! A whole company in the emulator: a management account of its own with an organization, one
//! member account per environment (tagged as Gatehouse expects), the directory table, the work
//! queue, the event bus, and a queue that collects every outcome event.
//!
//! Every world lives in its own randomly numbered management account (the emulator switches
//! accounts on `AssumeRole`), so tests never see each other's state and can run in parallel.

use std::collections::BTreeMap;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use aws_smithy_types::error::display::DisplayErrorContext;
use gatehouse::{Config, Deps};
use rand::Rng;
use serde_json::Value;

use crate::proxy::Proxy;

pub const REGION: &str = "us-east-1";
pub const ENVIRONMENTS: [&str; 4] = ["development", "testing", "staging", "production"];
pub const TABLE: &str = "gatehouse-directory";
pub const BUS: &str = "gatehouse";
pub const WORK_QUEUE: &str = "gatehouse-work.fifo";
const OUTCOME_QUEUE: &str = "gatehouse-outcomes";

/// The emulator's URL, from `AWS_ENDPOINT_URL` (set by `make test` and `make run`).
pub fn emulator_url() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!("AWS_ENDPOINT_URL is not set: run the integration tests with `make test`, which starts the emulator")
    })
}

/// What draining the work queue did.
#[derive(Debug, Default)]
pub struct Drained {
    /// Messages handed to the function (a handed-back message redelivered counts again).
    pub delivered: usize,
    /// The bodies of the messages the function handed back for redelivery.
    pub handed_back: Vec<Value>,
}

pub struct World {
    pub emulator: String,
    /// Every call the functions make goes through it.
    pub proxy: Proxy,
    pub management: String,
    pub credentials: Credentials,
    /// The functions' AWS config: management-account credentials, endpoint = the proxy.
    pub sdk: SdkConfig,
    /// Straight to the emulator, for setting up and reading back without being counted.
    pub direct: SdkConfig,
    /// environment -> member account id.
    pub accounts: BTreeMap<String, String>,
    pub work_queue_url: String,
    outcome_queue_url: String,
    /// Settings beyond the defaults, e.g. a policy file or a concurrency bound.
    extra_settings: Vec<(String, String)>,
}

fn random_account_id() -> String {
    let n: u64 = rand::rng().random_range(100_000_000_000..1_000_000_000_000);
    n.to_string()
}

async fn sdk_config(endpoint: &str, credentials: Credentials) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(credentials)
        .load()
        .await
}

impl World {
    /// A world with the four environment accounts.
    pub async fn new() -> World {
        World::with_environments(&ENVIRONMENTS).await
    }

    /// A world with one member account per named environment.
    pub async fn with_environments(environments: &[&str]) -> World {
        let emulator = emulator_url();
        // Any credentials reach the emulator's default account; from there, assuming a role in
        // a fresh account id makes that account this world's management account.
        let bootstrap = sdk_config(
            &emulator,
            Credentials::new("AKIDBOOTSTRAP", "bootstrap", None, None, "test"),
        )
        .await;
        let management = random_account_id();
        let assumed = aws_sdk_sts::Client::new(&bootstrap)
            .assume_role()
            .role_arn(format!("arn:aws:iam::{management}:role/gatehouse-admin"))
            .role_session_name("world")
            .send()
            .await
            .expect("assume the management account");
        let c = assumed.credentials().expect("credentials");
        let credentials = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "world",
        );
        let direct = sdk_config(&emulator, credentials.clone()).await;
        let proxy = Proxy::start(&emulator).await;
        let sdk = sdk_config(&proxy.url, credentials.clone()).await;

        let org = aws_sdk_organizations::Client::new(&direct);
        org.create_organization()
            .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
            .send()
            .await
            .expect("create organization");
        let mut world = World {
            emulator,
            proxy,
            management,
            credentials,
            sdk,
            direct,
            accounts: BTreeMap::new(),
            work_queue_url: String::new(),
            outcome_queue_url: String::new(),
            extra_settings: Vec::new(),
        };
        for env in environments {
            let id = world
                .create_account(&format!("{env}-account"), Some(env))
                .await;
            world.accounts.insert(env.to_string(), id);
        }

        let ddb = aws_sdk_dynamodb::Client::new(&world.direct);
        ddb.create_table()
            .table_name(TABLE)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("employeeId")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("employeeId")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .expect("create directory table");

        let sqs = aws_sdk_sqs::Client::new(&world.direct);
        world.work_queue_url = sqs
            .create_queue()
            .queue_name(WORK_QUEUE)
            .attributes(QueueAttributeName::FifoQueue, "true")
            .send()
            .await
            .expect("create work queue")
            .queue_url
            .unwrap();
        world.outcome_queue_url = sqs
            .create_queue()
            .queue_name(OUTCOME_QUEUE)
            .send()
            .await
            .expect("create outcome queue")
            .queue_url
            .unwrap();

        let events = aws_sdk_eventbridge::Client::new(&world.direct);
        events
            .create_event_bus()
            .name(BUS)
            .send()
            .await
            .expect("create bus");
        events
            .put_rule()
            .name("collect-outcomes")
            .event_bus_name(BUS)
            .event_pattern(r#"{"source":["gatehouse"]}"#)
            .send()
            .await
            .expect("create outcome rule");
        events
            .put_targets()
            .rule("collect-outcomes")
            .event_bus_name(BUS)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("outcomes")
                    .arn(format!(
                        "arn:aws:sqs:{REGION}:{}:{OUTCOME_QUEUE}",
                        world.management
                    ))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("target outcome queue");
        world
    }

    /// Creates a member account, tagged with `environment` if given, and returns its id.
    pub async fn create_account(&self, name: &str, environment: Option<&str>) -> String {
        let org = aws_sdk_organizations::Client::new(&self.direct);
        let status = org
            .create_account()
            .account_name(name)
            .email(format!("{name}@aws.example.com"))
            .send()
            .await
            .expect("create account")
            .create_account_status
            .unwrap();
        let id = status.account_id.expect("account id");
        if let Some(env) = environment {
            org.tag_resource()
                .resource_id(&id)
                .tags(
                    aws_sdk_organizations::types::Tag::builder()
                        .key("environment")
                        .value(env)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .expect("tag account");
        }
        id
    }

    /// The account id of `environment`.
    pub fn account(&self, environment: &str) -> &str {
        &self.accounts[environment]
    }

    /// Use this policy file instead of the built-in policy.
    pub fn use_policy_file(&mut self, path: &str) {
        self.set("GATEHOUSE_POLICY_FILE", path);
    }

    /// Sets (or overrides) a function setting.
    pub fn set(&mut self, name: &str, value: &str) {
        self.extra_settings.retain(|(k, _)| k != name);
        self.extra_settings
            .push((name.to_owned(), value.to_owned()));
    }

    /// The settings the functions get, as environment variables.
    pub fn settings(&self) -> Vec<(String, String)> {
        let mut s = vec![
            ("GATEHOUSE_DIRECTORY_TABLE".to_owned(), TABLE.to_owned()),
            ("GATEHOUSE_EVENT_BUS".to_owned(), BUS.to_owned()),
            (
                "GATEHOUSE_WORK_QUEUE_URL".to_owned(),
                self.work_queue_url.clone(),
            ),
            (
                "GATEHOUSE_TRUSTED_ROLE_ARNS".to_owned(),
                self.trusted_role_arns().join(","),
            ),
        ];
        s.extend(self.extra_settings.iter().cloned());
        s
    }

    /// The environment of a function binary running in this world: its settings, the
    /// management account's credentials, and the proxy as the AWS endpoint.
    pub fn function_env(&self) -> Vec<(String, String)> {
        let c = &self.credentials;
        let mut env = self.settings();
        env.extend(
            [
                ("AWS_ENDPOINT_URL", self.proxy.url.as_str()),
                ("AWS_REGION", REGION),
                ("AWS_ACCESS_KEY_ID", c.access_key_id()),
                ("AWS_SECRET_ACCESS_KEY", c.secret_access_key()),
                ("AWS_SESSION_TOKEN", c.session_token().unwrap_or_default()),
                ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
                ("AWS_LAMBDA_LOG_LEVEL", "INFO"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        env
    }

    /// The functions' execution roles (in the management account), which the provisioner role
    /// created in new accounts must trust.
    pub fn trusted_role_arns(&self) -> Vec<String> {
        ["people-events", "account-created"]
            .iter()
            .map(|f| format!("arn:aws:iam::{}:role/gatehouse-{f}", self.management))
            .collect()
    }

    pub fn config(&self) -> Config {
        let settings = self.settings();
        Config::from_lookup(|name| {
            settings
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
        .expect("valid test configuration")
    }

    /// The adapters of a function running in this world (calls go through the proxy).
    pub fn deps(&self, function: &str) -> Deps {
        Deps::new(self.config(), &self.sdk, function)
    }

    /// IAM in a member account, read directly (not through the proxy, so not counted).
    pub async fn iam(&self, account: &str) -> aws_sdk_iam::Client {
        let c = aws_sdk_sts::Client::new(&self.direct)
            .assume_role()
            .role_arn(format!(
                "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
            ))
            .role_session_name("test-reader")
            .send()
            .await
            .expect("assume into member")
            .credentials
            .unwrap();
        let creds = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "reader",
        );
        aws_sdk_iam::Client::new(&sdk_config(&self.emulator, creds).await)
    }

    /// Every outcome event published since the last call, as full EventBridge envelopes.
    pub async fn outcomes(&self) -> Vec<Value> {
        let sqs = aws_sdk_sqs::Client::new(&self.direct);
        let mut out = Vec::new();
        loop {
            let got = sqs
                .receive_message()
                .queue_url(&self.outcome_queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("receive outcomes");
            let messages = got.messages.unwrap_or_default();
            if messages.is_empty() {
                return out;
            }
            for m in messages {
                out.push(serde_json::from_str(m.body().unwrap_or("null")).expect("outcome JSON"));
                sqs.delete_message()
                    .queue_url(&self.outcome_queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .expect("delete outcome");
            }
        }
    }

    /// Delivers every message on the work queue to `invoke` as Lambda would (SQS batches of up
    /// to ten, with their message group), deletes the ones it did not hand back, and says what
    /// happened. Handed-back messages stay on the queue (hidden for its visibility timeout),
    /// as with Lambda. An answer without `batchItemFailures`, or a queue still not empty after
    /// `max_rounds` batches, fails the test: neither may pass for "all done".
    pub async fn drain_work_queue<F, Fut>(&self, mut invoke: F, max_rounds: usize) -> Drained
    where
        F: FnMut(Value) -> Fut,
        Fut: std::future::Future<Output = Value>,
    {
        let sqs = aws_sdk_sqs::Client::new(&self.direct);
        let mut drained = Drained::default();
        for _ in 0..max_rounds {
            let got = sqs
                .receive_message()
                .queue_url(&self.work_queue_url)
                .max_number_of_messages(10)
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .send()
                .await
                .expect("receive work");
            let messages = got.messages.unwrap_or_default();
            if messages.is_empty() {
                return drained;
            }
            let records: Vec<Value> = messages.iter().map(|m| self.sqs_record(m)).collect();
            drained.delivered += records.len();
            let answer = invoke(serde_json::json!({ "Records": records })).await;
            let failures = answer["batchItemFailures"].as_array().unwrap_or_else(|| {
                panic!("an SQS batch answer must carry batchItemFailures: {answer}")
            });
            let failed: Vec<&str> = failures
                .iter()
                .map(|f| {
                    f["itemIdentifier"]
                        .as_str()
                        .unwrap_or_else(|| panic!("a failure without itemIdentifier: {f}"))
                })
                .collect();
            for m in &messages {
                let id = m.message_id().unwrap_or_default();
                if failed.contains(&id) {
                    drained
                        .handed_back
                        .push(serde_json::from_str(m.body().unwrap_or("null")).expect("JSON"));
                } else {
                    sqs.delete_message()
                        .queue_url(&self.work_queue_url)
                        .receipt_handle(m.receipt_handle().unwrap_or_default())
                        .send()
                        .await
                        .expect("delete work item");
                }
            }
        }
        panic!(
            "the work queue still held messages after {max_rounds} batches ({} delivered)",
            drained.delivered
        );
    }

    /// An SQS message as Lambda's event source mapping delivers it.
    fn sqs_record(&self, m: &aws_sdk_sqs::types::Message) -> Value {
        let attributes: serde_json::Map<String, Value> = m
            .attributes()
            .map(|a| {
                a.iter()
                    .map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone())))
                    .collect()
            })
            .unwrap_or_default();
        serde_json::json!({
            "messageId": m.message_id(),
            "receiptHandle": m.receipt_handle(),
            "body": m.body(),
            "attributes": attributes,
            "messageAttributes": {},
            "md5OfBody": m.md5_of_body(),
            "eventSource": "aws:sqs",
            "eventSourceARN": format!("arn:aws:sqs:{REGION}:{}:{WORK_QUEUE}", self.management),
            "awsRegion": REGION,
        })
    }

    /// The secret's current value, read directly: `None` only if Secrets Manager says there is
    /// no such secret (any other failure fails the test).
    pub async fn secret(&self, name: &str) -> Option<String> {
        let got = aws_sdk_secretsmanager::Client::new(&self.direct)
            .get_secret_value()
            .secret_id(name)
            .send()
            .await;
        match got {
            Ok(out) => Some(out.secret_string.expect("a secret string")),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_resource_not_found_exception()) =>
            {
                None
            }
            Err(e) => panic!("GetSecretValue {name}: {}", DisplayErrorContext(&e)),
        }
    }

    /// The directory record of an employee, as stored.
    pub async fn directory_item(&self, employee: &str) -> Option<BTreeMap<String, String>> {
        let item = aws_sdk_dynamodb::Client::new(&self.direct)
            .get_item()
            .table_name(TABLE)
            .key(
                "employeeId",
                aws_sdk_dynamodb::types::AttributeValue::S(employee.into()),
            )
            .consistent_read(true)
            .send()
            .await
            .expect("get item")
            .item?;
        Some(
            item.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        aws_sdk_dynamodb::types::AttributeValue::S(s)
                        | aws_sdk_dynamodb::types::AttributeValue::N(s) => s,
                        other => format!("{other:?}"),
                    };
                    (k, v)
                })
                .collect(),
        )
    }
}
