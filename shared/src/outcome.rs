//! Outcome events on the bus: what Gatehouse granted, revoked or refused, for audit and alerts.
//! No outcome ever carries a credential; a new password is referred to by its secret's ARN.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde::Serialize;

use crate::error::{aws, Error};
use crate::event::{AccountId, EmployeeId, Rejection, GATEHOUSE_SOURCE};

pub const ACCESS_GRANTED: &str = "Access Granted";
pub const ACCESS_REVOKED: &str = "Access Revoked";
pub const REQUEST_REJECTED: &str = "Request Rejected";
pub const ACCOUNT_BASELINED: &str = "Account Baselined";

/// PutEvents takes at most ten entries a call.
const ENTRIES_PER_CALL: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Granted {
    pub event_id: String,
    pub employee_id: EmployeeId,
    pub account_id: AccountId,
    pub environment: String,
    pub user_name: String,
    pub groups: Vec<String>,
    /// Set when a new console password was issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_password_secret_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Revoked {
    pub event_id: String,
    pub employee_id: EmployeeId,
    pub account_id: AccountId,
    pub environment: Option<String>,
    pub user_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejected {
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee_id: Option<EmployeeId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<AccountId>,
}

impl From<&Rejection> for Rejected {
    fn from(r: &Rejection) -> Self {
        Rejected {
            reason: r.reason.clone(),
            event_id: r.event_id.clone(),
            employee_id: r.employee_id.clone(),
            environment: None,
            account_id: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Baselined {
    pub event_id: String,
    pub account_id: AccountId,
    pub environment: String,
    /// What had to be created (empty when the account already had everything).
    pub created: Vec<String>,
    /// How many employees were enqueued for a sync into the account.
    pub backfilled: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Granted(Granted),
    Revoked(Revoked),
    Rejected(Rejected),
    Baselined(Baselined),
}

impl Outcome {
    pub fn detail_type(&self) -> &'static str {
        match self {
            Outcome::Granted(_) => ACCESS_GRANTED,
            Outcome::Revoked(_) => ACCESS_REVOKED,
            Outcome::Rejected(_) => REQUEST_REJECTED,
            Outcome::Baselined(_) => ACCOUNT_BASELINED,
        }
    }

    pub fn detail(&self) -> serde_json::Value {
        // Serializing these plain structs of strings cannot fail.
        match self {
            Outcome::Granted(d) => serde_json::to_value(d),
            Outcome::Revoked(d) => serde_json::to_value(d),
            Outcome::Rejected(d) => serde_json::to_value(d),
            Outcome::Baselined(d) => serde_json::to_value(d),
        }
        .unwrap_or_default()
    }
}

pub struct OutcomePublisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl OutcomePublisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: String) -> Self {
        OutcomePublisher { client, bus }
    }

    /// Publishes every outcome, ten to a call. A 200 answer that reports failed entries is an
    /// error too: an outcome that silently fails to arrive is an audit gap.
    pub async fn publish(&self, outcomes: &[Outcome]) -> Result<(), Error> {
        for chunk in outcomes.chunks(ENTRIES_PER_CALL) {
            let entries = chunk
                .iter()
                .map(|o| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(GATEHOUSE_SOURCE)
                        .detail_type(o.detail_type())
                        .detail(o.detail().to_string())
                        .build()
                })
                .collect();
            let out = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| aws("events", "PutEvents", None, e))?;
            if out.failed_entry_count() > 0 {
                let codes: Vec<&str> = out
                    .entries()
                    .iter()
                    .filter_map(|e| e.error_code())
                    .collect();
                return Err(Error::Partial {
                    operation: "PutEvents",
                    detail: format!(
                        "{} of {} outcome events were not accepted ({})",
                        out.failed_entry_count(),
                        chunk.len(),
                        codes.join(", ")
                    ),
                    transient: codes
                        .iter()
                        .all(|c| matches!(*c, "ThrottlingException" | "InternalFailure")),
                });
            }
        }
        Ok(())
    }
}
