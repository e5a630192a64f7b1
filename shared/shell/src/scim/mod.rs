//! The SCIM front door (`functions/scim`): identity providers (Okta, Entra ID, JumpCloud)
//! create, change and deactivate users over SCIM 2.0, and Gatehouse turns each change into the
//! HR event an HR system would have sent, put on the bus with the policy's HR source. From
//! there everything is as for any HR event: the FIFO work queue, `people-events`, ordering,
//! staleness, the production allow-list.
//!
//! Every decision is the core's ([`gatehouse_core::scim`]); this module reads and writes:
//! - [`token`]: the bearer token, checked against Secrets Manager;
//! - [`store`]: resources and the claims that keep names unique (DynamoDB);
//! - [`users`], [`groups`]: one operation each;
//! - [`commit`]: events first and the store after, so that a stored change has always had its
//!   events accepted by the bus, and the truth sent again after a lost race;
//! - [`http`]: the request as the function receives it, routed, answered, logged.

pub mod commit;
pub mod groups;
pub mod http;
pub mod store;
pub mod token;
pub mod users;

use aws_config::SdkConfig;
use gatehouse_core::hr_event::{detail_of, Change};
use gatehouse_core::ids::{EmployeeId, Timestamp};
use gatehouse_core::outcome::BusEvent;
use gatehouse_core::policy::Policy;
use gatehouse_core::scim::ScimError;

use crate::bus::OutcomePublisher;
use crate::config::{self, ConfigError, EVENT_BUS};
use crate::error::Error;

pub const SCIM_TABLE: &str = "GATEHOUSE_SCIM_TABLE";
pub const TOKEN_SECRET: &str = "GATEHOUSE_SCIM_TOKEN_SECRET";

/// The `scim` function's settings.
#[derive(Debug, Clone)]
pub struct ScimConfig {
    pub policy: Policy,
    pub table: String,
    pub token_secret: String,
    pub event_bus: String,
}

impl ScimConfig {
    pub fn from_env() -> Result<ScimConfig, ConfigError> {
        ScimConfig::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<ScimConfig, ConfigError> {
        Ok(ScimConfig {
            policy: config::policy(&get)?,
            table: config::required(&get, SCIM_TABLE)?,
            token_secret: config::required(&get, TOKEN_SECRET)?,
            event_bus: config::required(&get, EVENT_BUS)?,
        })
    }
}

/// What the front door works with, built once per process.
pub struct Scim {
    pub(crate) policy: Policy,
    pub(crate) store: store::Store,
    pub(crate) tokens: token::TokenCheck,
    hr: OutcomePublisher,
}

impl Scim {
    pub fn new(config: ScimConfig, sdk: &SdkConfig) -> Scim {
        Scim {
            store: store::Store::new(crate::sdk::dynamodb(sdk), config.table),
            tokens: token::TokenCheck::new(crate::sdk::secretsmanager(sdk), config.token_secret),
            hr: OutcomePublisher::with_source(
                crate::sdk::eventbridge(sdk),
                config.event_bus,
                config.policy.hr_source.clone(),
            ),
            policy: config.policy,
        }
    }

    /// Puts the HR events for `changes` on the bus, effective now. Nothing is stored before
    /// the bus has taken them all.
    pub(crate) async fn send(&self, changes: &[(EmployeeId, Change)]) -> Result<(), Failure> {
        if changes.is_empty() {
            return Ok(());
        }
        let now = Timestamp::now();
        let events: Vec<BusEvent> = changes
            .iter()
            .map(|(id, change)| BusEvent {
                detail_type: change.detail_type().to_owned(),
                detail: detail_of(id, now, change).to_string(),
            })
            .collect();
        self.hr
            .publish_events(&events)
            .await
            .map_err(|u| Failure::Aws(u.error))
    }
}

/// Why an operation did not succeed: the client's request, or Gatehouse's side.
#[derive(Debug)]
pub enum Failure {
    Scim(ScimError),
    Aws(Error),
}

impl From<ScimError> for Failure {
    fn from(e: ScimError) -> Self {
        Failure::Scim(e)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Aws(e)
    }
}

impl From<store::WriteError> for Failure {
    fn from(e: store::WriteError) -> Self {
        match e {
            store::WriteError::Conflict => Failure::Scim(ScimError::status(
                409,
                "the resource, or a name it claims, changed while this request ran: read it again and retry",
            )),
            store::WriteError::Aws(e) => Failure::Aws(e),
        }
    }
}

/// A new resource id: a random (version 4) UUID.
pub(crate) fn new_id() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}
