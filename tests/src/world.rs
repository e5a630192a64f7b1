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

use crate::emulator::Emulator;
use crate::proxy::Proxy;

pub const REGION: &str = "us-east-1";
/// The member-account StackSet template, deployed into every account a world creates.
static MEMBER_TEMPLATE: std::sync::LazyLock<std::path::PathBuf> = std::sync::LazyLock::new(|| {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/member-account.yaml")
});
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
    /// `o-…`, which the provisioner role's trust names.
    pub organization_id: String,
    pub credentials: Credentials,
    /// The functions' AWS config: management-account credentials, endpoint = the proxy.
    pub sdk: SdkConfig,
    /// Straight to the emulator, for setting up and reading back without being counted.
    pub direct: SdkConfig,
    /// environment -> member account id.
    pub accounts: BTreeMap<String, String>,
    pub work_queue_url: String,
    outcome_queue_url: String,
    /// The ARN of the SCIM function's token secret (`crate::scim`).
    pub scim_token_secret: String,
    /// Settings beyond the defaults, e.g. a policy file or a concurrency bound.
    extra_settings: Vec<(String, String)>,
    /// The world's own emulator, when it enforces IAM authorization.
    private: Option<Emulator>,
    /// Per function, when authorization is enforced: its execution role's session.
    function_sdks: BTreeMap<String, SdkConfig>,
    function_credentials: BTreeMap<String, Credentials>,
    /// Set once the world is set up and authorization is on.
    enforcing: std::sync::atomic::AtomicBool,
}

/// A DynamoDB table of `name`, on demand, keyed by the string attribute `key` alone (the
/// directory, the SCIM table).
pub(crate) async fn create_table(direct: &SdkConfig, name: &str, key: &str) {
    aws_sdk_dynamodb::Client::new(direct)
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("an attribute definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()
                .expect("a key schema"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create the table {name}: {}", DisplayErrorContext(&e)));
}

/// Whether this test run enforces IAM authorization in the emulator.
pub fn authorization_enforced() -> bool {
    std::env::var("GATEHOUSE_TEST_AUTHORIZATION").as_deref() == Ok("enforced")
}

fn random_account_id() -> String {
    let n: u64 = rand::rng().random_range(100_000_000_000..1_000_000_000_000);
    n.to_string()
}

pub async fn sdk_config(endpoint: &str, credentials: Credentials) -> SdkConfig {
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

    /// A world with one member account per named environment. With
    /// `GATEHOUSE_TEST_AUTHORIZATION=enforced` (the second run of `make test`), the world has an
    /// emulator of its own that enforces IAM authorization once the world is set up: the
    /// functions then act under their execution roles' policies from `infra/template.yaml`,
    /// and in member accounts under the provisioner role's.
    pub async fn with_environments(environments: &[&str]) -> World {
        World::build(environments, authorization_enforced()).await
    }

    /// A world with the four environment accounts that enforces IAM authorization, whatever
    /// the run: for the tests of what the roles may not do.
    pub async fn enforcing_authorization() -> World {
        World::build(&ENVIRONMENTS, true).await
    }

    async fn build(environments: &[&str], enforce: bool) -> World {
        let private = if enforce {
            Some(Emulator::start().await)
        } else {
            None
        };
        let emulator = private
            .as_ref()
            .map_or_else(emulator_url, |e| e.url.clone());
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
        let organization_id = org
            .create_organization()
            .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
            .send()
            .await
            .expect("create organization")
            .organization
            .and_then(|o| o.id)
            .expect("an organization id");
        let mut world = World {
            emulator,
            proxy,
            management,
            organization_id,
            credentials,
            sdk,
            direct,
            accounts: BTreeMap::new(),
            work_queue_url: String::new(),
            outcome_queue_url: String::new(),
            scim_token_secret: String::new(),
            extra_settings: Vec::new(),
            private,
            function_sdks: BTreeMap::new(),
            function_credentials: BTreeMap::new(),
            enforcing: Default::default(),
        };

        create_table(&world.direct, TABLE, "employeeId").await;

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
        let hr_source = gatehouse::core::policy::Policy::builtin()
            .expect("the built-in policy")
            .hr_source;
        world.scim_token_secret =
            crate::scim::lay(&world.direct, &world.management, &hr_source).await;
        // Accounts last: their member stacks name the queue and the functions' roles.
        for env in environments {
            let id = world
                .create_account(&format!("{env}-account"), Some(env))
                .await;
            world.accounts.insert(env.to_string(), id);
        }
        if world.private.is_some() {
            world.enforce_authorization().await;
        }
        world
    }

    /// Gives every function the credentials of its execution role (with the policies
    /// `infra/template.yaml` gives it), makes the harness's own identity an administrator, and
    /// switches IAM authorization on.
    async fn enforce_authorization(&mut self) {
        let iam = aws_sdk_iam::Client::new(&self.direct);
        // The identity the harness has acted as since the world began (`gatehouse-admin`, a
        // role nobody had made yet) becomes a real administrator role.
        iam.create_role()
            .role_name("gatehouse-admin")
            .assume_role_policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#,
            )
            .send()
            .await
            .expect("the harness's role");
        iam.attach_role_policy()
            .role_name("gatehouse-admin")
            .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
            .send()
            .await
            .expect("the harness is an administrator");
        for function in ["people-events", "account-created", "reconcile", "scim"] {
            let role = format!("gatehouse-{function}");
            iam.create_role()
                .role_name(&role)
                .path("/gatehouse/")
                .assume_role_policy_document(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
                )
                .send()
                .await
                .expect("an execution role");
            let policies = crate::template::execution_role_policies(&role, &|t| self.resolution(t));
            for (i, document) in policies.iter().enumerate() {
                iam.put_role_policy()
                    .role_name(&role)
                    .policy_name(format!("template-{i}"))
                    .policy_document(document.to_string())
                    .send()
                    .await
                    .expect("the execution role's policy");
            }
            let c = aws_sdk_sts::Client::new(&self.direct)
                .assume_role()
                .role_arn(format!(
                    "arn:aws:iam::{}:role/gatehouse/{role}",
                    self.management
                ))
                .role_session_name(function)
                .send()
                .await
                .expect("assume the execution role")
                .credentials
                .expect("credentials");
            let credentials = Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_owned()),
                None,
                "execution-role",
            );
            self.function_sdks.insert(
                function.to_owned(),
                sdk_config(&self.proxy.url, credentials.clone()).await,
            );
            self.function_credentials
                .insert(function.to_owned(), credentials);
        }
        self.private_emulator().enforce_authorization(true).await;
        self.enforcing
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The credentials of `function`'s execution role, in a world that enforces authorization.
    pub fn execution_role_sdk(&self, function: &str) -> &SdkConfig {
        self.function_sdks.get(function).unwrap_or_else(|| {
            panic!(
                "no execution role for {function} (a world that enforces authorization has {:?})",
                self.function_sdks.keys().collect::<Vec<_>>()
            )
        })
    }

    fn private_emulator(&self) -> &Emulator {
        self.private
            .as_ref()
            .expect("a world with its own emulator")
    }

    /// What `infra/template.yaml`'s names stand for in this world.
    fn resolution(&self, template: &serde_yaml::Value) -> crate::template::Resolution {
        let policy = self.config().policy;
        let mut parameters: BTreeMap<String, String> = template["Parameters"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| {
                let default = match &v["Default"] {
                    serde_yaml::Value::String(s) => s.clone(),
                    serde_yaml::Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                Some((k.as_str()?.to_owned(), default))
            })
            .collect();
        parameters.insert(
            "ProvisionerRoleName".into(),
            policy.provisioner_role.clone(),
        );
        parameters.insert("BootstrapRoleName".into(), policy.bootstrap_role.clone());
        let (region, account) = (REGION, self.management.as_str());
        let mut resources = BTreeMap::new();
        for (id, resource) in template["Resources"].as_mapping().into_iter().flatten() {
            let id = id.as_str().unwrap_or_default().to_owned();
            let arn =
                |service: &str, rest: &str| format!("arn:aws:{service}:{region}:{account}:{rest}");
            let named = match resource["Type"].as_str().unwrap_or_default() {
                "AWS::DynamoDB::Table" if id == "ScimTable" => (
                    crate::scim::SCIM_TABLE.to_owned(),
                    arn("dynamodb", &format!("table/{}", crate::scim::SCIM_TABLE)),
                ),
                // `!Ref` of a secret is its ARN.
                "AWS::SecretsManager::Secret" if id == "ScimTokenSecret" => (
                    self.scim_token_secret.clone(),
                    self.scim_token_secret.clone(),
                ),
                "AWS::DynamoDB::Table" => {
                    (TABLE.to_owned(), arn("dynamodb", &format!("table/{TABLE}")))
                }
                "AWS::Events::EventBus" => {
                    (BUS.to_owned(), arn("events", &format!("event-bus/{BUS}")))
                }
                // The work queue is the FIFO queue that is no one's dead-letter queue.
                "AWS::SQS::Queue" if !resource["Properties"]["RedrivePolicy"].is_null() => {
                    (self.work_queue_url.clone(), arn("sqs", WORK_QUEUE))
                }
                "AWS::Logs::LogGroup" => (
                    format!("/aws/lambda/{id}"),
                    // As CloudFormation's GetAtt answers it: with the streams' wildcard.
                    arn("logs", &format!("log-group:/aws/lambda/{id}:*")),
                ),
                kind => (
                    id.clone(),
                    arn(&kind.to_ascii_lowercase().replace("::", "-"), &id),
                ),
            };
            resources.insert(id, named);
        }
        crate::template::Resolution {
            region: region.to_owned(),
            account: account.to_owned(),
            parameters,
            resources,
        }
    }

    /// Creates a member account, tagged with `environment` if given, as the organization's
    /// member-account StackSet leaves it: with the stack `infra/member-account.yaml` deployed
    /// (the boundary, the provisioner role and its permissions). Returns its id.
    pub async fn create_account(&self, name: &str, environment: Option<&str>) -> String {
        self.setting_up(true).await;
        let id = self.create_bare_account_unchecked(name, environment).await;
        self.deploy_member_stack(&id).await;
        self.setting_up(false).await;
        id
    }

    /// While a world that enforces authorization is being changed by the harness (accounts
    /// created, stacks deployed), authorization is off, as for an organization's
    /// administrators; it is back on before any function runs again.
    async fn setting_up(&self, begins: bool) {
        let enforcing = self.enforcing.load(std::sync::atomic::Ordering::SeqCst);
        if let (Some(e), true) = (&self.private, enforcing) {
            e.enforce_authorization(!begins).await;
        }
    }

    /// Creates a member account, tagged with `environment` if given, as Organizations leaves
    /// it: nothing in it but `OrganizationAccountAccessRole`. Returns its id.
    pub async fn create_bare_account(&self, name: &str, environment: Option<&str>) -> String {
        self.setting_up(true).await;
        let id = self.create_bare_account_unchecked(name, environment).await;
        self.setting_up(false).await;
        id
    }

    async fn create_bare_account_unchecked(&self, name: &str, environment: Option<&str>) -> String {
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
        // Organizations gives the role AdministratorAccess in AWS; the emulator makes it bare.
        aws_sdk_iam::Client::new(&self.member_config(&id).await)
            .attach_role_policy()
            .role_name("OrganizationAccountAccessRole")
            .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
            .send()
            .await
            .expect("the bootstrap role is an administrator");
        id
    }

    /// Deploys `infra/member-account.yaml` into `account` through CloudFormation, with the
    /// parameters this world's functions and policy call for.
    pub async fn deploy_member_stack(&self, account: &str) {
        let policy = self.config().policy;
        let template = std::fs::read_to_string(MEMBER_TEMPLATE.as_path())
            .unwrap_or_else(|e| panic!("{}: {e}", MEMBER_TEMPLATE.display()));
        let parameter = |key: &str, value: String| {
            aws_sdk_cloudformation::types::Parameter::builder()
                .parameter_key(key)
                .parameter_value(value)
                .build()
        };
        let cfn = aws_sdk_cloudformation::Client::new(&self.member_config(account).await);
        cfn.create_stack()
            .stack_name("gatehouse-member")
            .template_body(template)
            .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityNamedIam)
            .parameters(parameter(
                "TrustedRoleArns",
                self.trusted_role_arns().join(","),
            ))
            .parameters(parameter("OrganizationId", self.organization_id.clone()))
            .parameters(parameter(
                "ProvisionerRoleName",
                policy.provisioner_role.clone(),
            ))
            .parameters(parameter(
                "BootstrapRoleName",
                policy.bootstrap_role.clone(),
            ))
            .parameters(parameter(
                "GroupPolicyArns",
                gatehouse::core::documents::group_policy_arns(&policy).join(","),
            ))
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "deploy the member stack to {account}: {}",
                    DisplayErrorContext(&e)
                )
            });
        let stacks = cfn
            .describe_stacks()
            .stack_name("gatehouse-member")
            .send()
            .await
            .expect("describe the member stack");
        let status = stacks.stacks()[0]
            .stack_status()
            .map(|s| s.as_str().to_owned());
        assert_eq!(
            status.as_deref(),
            Some("CREATE_COMPLETE"),
            "member stack in {account}"
        );
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
            (
                "GATEHOUSE_SCIM_TABLE".to_owned(),
                crate::scim::SCIM_TABLE.to_owned(),
            ),
            (
                "GATEHOUSE_SCIM_TOKEN_SECRET".to_owned(),
                self.scim_token_secret.clone(),
            ),
        ];
        s.extend(self.extra_settings.iter().cloned());
        s
    }

    /// The environment of the function binary `function` running in this world: its settings,
    /// its credentials (its execution role's, when authorization is enforced; the management
    /// account's otherwise), and the proxy as the AWS endpoint.
    pub fn function_env(&self, function: &str) -> Vec<(String, String)> {
        let c = self
            .function_credentials
            .get(function)
            .unwrap_or(&self.credentials);
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

    /// The functions' execution roles (in the management account, named as
    /// `infra/template.yaml` names them), which the provisioner role must trust.
    pub fn trusted_role_arns(&self) -> Vec<String> {
        ["people-events", "account-created", "reconcile"]
            .iter()
            .map(|f| {
                format!(
                    "arn:aws:iam::{}:role/gatehouse/gatehouse-{f}",
                    self.management
                )
            })
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

    /// The adapters of a function running in this world (calls go through the proxy, with the
    /// function's execution role when authorization is enforced).
    pub fn deps(&self, function: &str) -> Deps {
        Deps::new(self.config(), self.function_sdk(function), function)
    }

    /// The AWS config `function` runs with in this world: through the proxy, as its execution
    /// role when authorization is enforced. (For a test that tunes it, as the chaos run does.)
    pub fn function_sdk(&self, function: &str) -> &SdkConfig {
        self.function_sdks.get(function).unwrap_or(&self.sdk)
    }

    /// IAM in a member account, read directly (not through the proxy, so not counted).
    pub async fn iam(&self, account: &str) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.member_config(account).await)
    }

    /// An SDK config acting in a member account as its bootstrap role, straight to the emulator.
    pub async fn member_config(&self, account: &str) -> SdkConfig {
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
        sdk_config(&self.emulator, creds).await
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

/// A world built by another process (`gatehouse-world`, for invoking the functions by hand),
/// taken up again from what that process saved: same emulator, same management account.
impl World {
    /// The world whose management account is `management` (reached with `credentials`) on the
    /// emulator at `emulator`, with its environment accounts; its queues are looked up by name.
    pub async fn attach(
        emulator: &str,
        management: &str,
        organization_id: &str,
        credentials: Credentials,
        accounts: BTreeMap<String, String>,
    ) -> Result<World, String> {
        let direct = sdk_config(emulator, credentials.clone()).await;
        let sqs = aws_sdk_sqs::Client::new(&direct);
        let mut urls = Vec::new();
        for name in [WORK_QUEUE, OUTCOME_QUEUE] {
            let url = sqs
                .get_queue_url()
                .queue_name(name)
                .send()
                .await
                .map_err(|e| format!("the queue {name}: {}", DisplayErrorContext(&e)))?
                .queue_url
                .ok_or_else(|| format!("the queue {name} has no URL"))?;
            urls.push(url);
        }
        let outcome_queue_url = urls.pop().unwrap_or_default();
        let work_queue_url = urls.pop().unwrap_or_default();
        let scim_token_secret = aws_sdk_secretsmanager::Client::new(&direct)
            .describe_secret()
            .secret_id(crate::scim::TOKEN_SECRET)
            .send()
            .await
            .map_err(|e| format!("the SCIM token secret: {}", DisplayErrorContext(&e)))?
            .arn
            .ok_or("the SCIM token secret has no ARN")?;
        let proxy = Proxy::start(emulator).await;
        let sdk = sdk_config(&proxy.url, credentials.clone()).await;
        Ok(World {
            emulator: emulator.to_owned(),
            proxy,
            management: management.to_owned(),
            organization_id: organization_id.to_owned(),
            credentials,
            sdk,
            direct,
            accounts,
            work_queue_url,
            outcome_queue_url,
            scim_token_secret,
            extra_settings: Vec::new(),
            private: None,
            function_sdks: BTreeMap::new(),
            function_credentials: BTreeMap::new(),
            enforcing: Default::default(),
        })
    }

    /// Takes up to `max` (1–10) messages off the work queue, as one SQS batch the way Lambda's
    /// event source mapping delivers it (`{"Records": [...]}`), and deletes them from the queue:
    /// they are handed over. `None` when the queue is empty.
    pub async fn take_work_batch(&self, max: i32) -> Option<Value> {
        let sqs = aws_sdk_sqs::Client::new(&self.direct);
        let messages = sqs
            .receive_message()
            .queue_url(&self.work_queue_url)
            .max_number_of_messages(max)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive work")
            .messages
            .unwrap_or_default();
        if messages.is_empty() {
            return None;
        }
        let records: Vec<Value> = messages.iter().map(|m| self.sqs_record(m)).collect();
        for m in &messages {
            sqs.delete_message()
                .queue_url(&self.work_queue_url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete work item");
        }
        Some(serde_json::json!({ "Records": records }))
    }
}
