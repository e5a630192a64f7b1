//! The adapters a function needs, built once at start from one AWS config and shared by every
//! invocation (and so every warm cache) of the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex};

use aws_config::SdkConfig;
use gatehouse_core::ids::{AccountId, EventId};
use gatehouse_core::names::provisioner_role_path;

use crate::bus::OutcomePublisher;
use crate::config::Config;
use crate::credentials::CredentialsBroker;
use crate::directory::EmployeeDirectory;
use crate::error::Error;
use crate::iam::AccountIam;
use crate::org::AccountDirectory;
use crate::queue::WorkQueue;
use crate::sdk;
use crate::secrets::PasswordVault;

/// Held while the baseline of one (account, environment) is being repaired.
type RepairLock = Arc<tokio::sync::Mutex<()>>;

pub struct Deps {
    pub config: Config,
    pub accounts: AccountDirectory,
    pub credentials: CredentialsBroker,
    pub directory: EmployeeDirectory,
    pub vault: PasswordVault,
    pub outcomes: OutcomePublisher,
    /// Present when `GATEHOUSE_WORK_QUEUE_URL` is set.
    pub work_queue: Option<WorkQueue>,
    /// One lock per (account, environment) whose baseline a call showed missing, so that
    /// concurrent events that saw it missing repair it one after the other: the first writes,
    /// the others find it laid.
    repairs: StdMutex<HashMap<(AccountId, String), RepairLock>>,
}

impl Deps {
    /// `function` is the function's name, used in STS session names.
    pub fn new(config: Config, sdk: &SdkConfig, function: &str) -> Deps {
        let sdk = &sdk::shared_http(sdk);
        Deps {
            accounts: AccountDirectory::new(
                sdk::organizations(sdk),
                config.policy.environment_tag.clone(),
                config.account_cache_ttl,
            ),
            credentials: CredentialsBroker::new(sdk, function),
            directory: EmployeeDirectory::new(sdk::dynamodb(sdk), config.directory_table.clone()),
            vault: PasswordVault::new(sdk::secretsmanager(sdk)),
            outcomes: OutcomePublisher::new(sdk::eventbridge(sdk), config.event_bus.clone()),
            work_queue: config
                .work_queue_url
                .clone()
                .map(|url| WorkQueue::new(sdk::sqs(sdk), url)),
            repairs: StdMutex::new(HashMap::new()),
            config,
        }
    }

    /// IAM in `account` through the provisioner role.
    pub async fn iam(&self, account: &AccountId, event: &EventId) -> Result<AccountIam, Error> {
        let role = provisioner_role_path(&self.config.policy.provisioner_role);
        let client = self.credentials.iam(account, &role, event).await?;
        Ok(AccountIam::new(
            client,
            account.clone(),
            self.credentials.partition().await?,
        ))
    }

    /// Lays what is missing of the baseline of `environment` in `account`, after a call
    /// through `iam` showed part of it missing (a group, a managed policy). Granting trusts
    /// what `account-created` laid and comes here only on such evidence, so that a first
    /// onboarding into a baselined account pays no read for it; an account that joined without
    /// `account-created` gets its groups and policies here, or, lacking the boundary, fails
    /// with [`Error::NoBaseline`].
    pub async fn repair_baseline(&self, iam: &AccountIam, environment: &str) -> Result<(), Error> {
        let lock = {
            // A poisoned lock only means another task panicked mid-insert; the map is intact.
            let mut locks = self.repairs.lock().unwrap_or_else(|p| p.into_inner());
            let key = (iam.account().clone(), environment.to_owned());
            locks.entry(key).or_default().clone()
        };
        let _held = lock.lock().await;
        iam.ensure_baseline(&self.config.policy, environment)
            .await?;
        self.directory
            .record_baseline(iam.account(), environment)
            .await
    }
}
