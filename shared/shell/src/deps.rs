//! The adapters a function needs, built once at start from one AWS config and shared by every
//! invocation (and so every warm cache) of the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex};

use aws_config::SdkConfig;
use gatehouse_core::ids::{AccountId, EventId};
use gatehouse_core::names::provisioner_role_path;
use tokio::sync::OnceCell;

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

/// Set once the baseline of one (account, environment) is known to be in place.
type BaselineCell = Arc<OnceCell<()>>;

pub struct Deps {
    pub config: Config,
    pub accounts: AccountDirectory,
    pub credentials: CredentialsBroker,
    pub directory: EmployeeDirectory,
    pub vault: PasswordVault,
    pub outcomes: OutcomePublisher,
    /// Present when `GATEHOUSE_WORK_QUEUE_URL` is set.
    pub work_queue: Option<WorkQueue>,
    /// (account, environment) pairs whose baseline this process has laid or verified: one cell
    /// per pair, so that concurrent events for a new account lay its baseline once, together.
    baselined: StdMutex<HashMap<(AccountId, String), BaselineCell>>,
}

impl Deps {
    /// `function` is the function's name, used in STS session names.
    pub fn new(config: Config, sdk: &SdkConfig, function: &str) -> Deps {
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
            baselined: StdMutex::new(HashMap::new()),
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

    /// IAM in `account`, with the baseline of `environment` laid once per process: an account
    /// that lacks it (one that joined without `account-created`) gets it on first use.
    pub async fn baselined_iam(
        &self,
        account: &AccountId,
        environment: &str,
        event: &EventId,
    ) -> Result<AccountIam, Error> {
        let iam = self.iam(account, event).await?;
        let cell = {
            // A poisoned lock only means another task panicked mid-insert; the map is intact.
            let mut cells = self.baselined.lock().unwrap_or_else(|p| p.into_inner());
            let key = (account.clone(), environment.to_owned());
            cells.entry(key).or_default().clone()
        };
        // A failed attempt leaves the cell empty, so the next event tries again.
        cell.get_or_try_init(|| async {
            iam.ensure_baseline(&self.config.policy, environment)
                .await?;
            self.directory.record_baseline(account, environment).await
        })
        .await?;
        Ok(iam)
    }
}
