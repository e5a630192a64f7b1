//! Account creation events: Organizations' `CreateAccountResult` and Control Tower's
//! `CreateManagedAccount`, as CloudTrail delivers them through EventBridge. Pure parsing.
//!
//! Matching is on `source` and `detail.eventName`, never on `detail-type`: CloudTrail has been
//! seen delivering these as both "AWS Service Event via CloudTrail" and "AWS API Call via
//! CloudTrail".

use serde::Deserialize;
use time::macros::format_description;
use time::PrimitiveDateTime;

use std::collections::BTreeMap;

use crate::baseline::{is_user_name, BaselineRequest, MAX_REQUESTED_USERS};
use crate::envelope::{quoted, Envelope, Rejection};
use crate::ids::{AccountId, EventId};
use crate::names::{BASELINE_REQUESTED, GATEHOUSE_SOURCE};

pub const ORGANIZATIONS_SOURCE: &str = "aws.organizations";
pub const CONTROL_TOWER_SOURCE: &str = "aws.controltower";
pub const CREATE_ACCOUNT_RESULT: &str = "CreateAccountResult";
pub const CREATE_MANAGED_ACCOUNT: &str = "CreateManagedAccount";
pub const TAG_RESOURCE: &str = "TagResource";

/// A validated account creation event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountEvent {
    pub event_id: EventId,
    /// Which service reported it, for the logs and outcomes.
    pub reported_by: Reporter,
    pub result: Creation,
}

impl AccountEvent {
    /// The event as CloudTrail delivers it through EventBridge: what [`parse_account_event`]
    /// reads back as this very event.
    pub fn to_envelope(&self) -> serde_json::Value {
        let (source, detail) = match (&self.result, self.reported_by) {
            (Creation::Succeeded { account_id }, Reporter::ControlTower) => (
                CONTROL_TOWER_SOURCE,
                serde_json::json!({
                    "eventName": CREATE_MANAGED_ACCOUNT,
                    "serviceEventDetails": {"createManagedAccountStatus": {
                        "state": "SUCCEEDED", "account": {"accountId": account_id}
                    }}
                }),
            ),
            (Creation::Failed { reason }, Reporter::ControlTower) => (
                CONTROL_TOWER_SOURCE,
                serde_json::json!({
                    "eventName": CREATE_MANAGED_ACCOUNT,
                    "serviceEventDetails": {"createManagedAccountStatus": {
                        "state": "FAILED", "message": reason
                    }}
                }),
            ),
            (Creation::Succeeded { account_id }, _) => (
                ORGANIZATIONS_SOURCE,
                serde_json::json!({
                    "eventName": CREATE_ACCOUNT_RESULT,
                    "serviceEventDetails": {"createAccountStatus": {
                        "state": "SUCCEEDED", "accountId": account_id
                    }}
                }),
            ),
            (Creation::Failed { reason }, _) => (
                ORGANIZATIONS_SOURCE,
                serde_json::json!({
                    "eventName": CREATE_ACCOUNT_RESULT,
                    "serviceEventDetails": {"createAccountStatus": {
                        "state": "FAILED", "failureReason": reason
                    }}
                }),
            ),
            (Creation::Requested(request), _) => {
                return serde_json::json!({
                    "version": "0",
                    "id": self.event_id.as_str(),
                    "detail-type": BASELINE_REQUESTED,
                    "source": GATEHOUSE_SOURCE,
                    "account": "111111111111",
                    "time": "2026-01-01T00:00:00Z",
                    "region": "us-east-1",
                    "resources": [],
                    "detail": request,
                })
            }
            (Creation::Tagged { account_id, tags }, _) => (
                ORGANIZATIONS_SOURCE,
                serde_json::json!({
                    "eventName": TAG_RESOURCE,
                    "requestParameters": {
                        "resourceId": account_id,
                        "tags": tags.iter().map(|(k, v)| serde_json::json!({"key": k, "value": v}))
                            .collect::<Vec<_>>(),
                    }
                }),
            ),
        };
        serde_json::json!({
            "version": "0",
            "id": self.event_id.as_str(),
            "detail-type": "AWS Service Event via CloudTrail",
            "source": source,
            "account": "111111111111",
            "time": "2026-01-01T00:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": detail,
        })
    }
}

/// The service that reported an account's creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reporter {
    Organizations,
    ControlTower,
    /// Gatehouse's own `reconcile`, asking for a baseline to be repaired.
    Reconcile,
}

impl Reporter {
    pub fn as_str(self) -> &'static str {
        match self {
            Reporter::Organizations => "organizations",
            Reporter::ControlTower => "controltower",
            Reporter::Reconcile => "reconcile",
        }
    }
}

impl std::fmt::Display for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Creation {
    Succeeded {
        account_id: AccountId,
    },
    Failed {
        reason: String,
    },
    /// Tags were set on an existing account (Organizations' `TagResource`): Control Tower and
    /// Account Factory for Terraform tag an account after creating it, so this is when its
    /// environment becomes known.
    Tagged {
        account_id: AccountId,
        tags: BTreeMap<String, String>,
    },
    /// `reconcile` found the account's baseline changed and asks for it to be laid again.
    Requested(BaselineRequest),
}

/// A `Baseline Requested` detail, as sent.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RequestDetail {
    account_id: String,
    cause: String,
    users: Vec<String>,
}

/// `reconcile`'s request, exactly valid or refused.
fn baseline_request(detail: serde_json::Value) -> Result<BaselineRequest, String> {
    let d: RequestDetail = serde_json::from_value(detail)
        .map_err(|e| format!("not a {BASELINE_REQUESTED} detail: {e}"))?;
    let account_id = AccountId::parse(&d.account_id).map_err(|r| r.0)?;
    let cause = EventId::parse(&d.cause).map_err(|r| format!("cause: {}", r.0))?;
    if d.users.len() > MAX_REQUESTED_USERS {
        return Err(format!(
            "{} users named, more than {MAX_REQUESTED_USERS}",
            d.users.len()
        ));
    }
    if let Some(bad) = d.users.iter().find(|u| !is_user_name(u)) {
        return Err(format!("{} is not an IAM user name", quoted(bad)));
    }
    Ok(BaselineRequest {
        account_id,
        cause: cause.to_string(),
        users: d.users,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloudTrailDetail {
    event_name: String,
    service_event_details: Option<ServiceEventDetails>,
    request_parameters: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagResourceParameters {
    resource_id: String,
    tags: Vec<TagParameter>,
}

#[derive(Deserialize)]
struct TagParameter {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServiceEventDetails {
    create_account_status: Option<CreateAccountStatus>,
    create_managed_account_status: Option<CreateManagedAccountStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateAccountStatus {
    state: String,
    account_id: Option<String>,
    failure_reason: Option<String>,
    requested_timestamp: Option<String>,
    completed_timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateManagedAccountStatus {
    state: String,
    account: Option<ManagedAccount>,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManagedAccount {
    account_id: Option<String>,
}

/// Parses CloudTrail's `Sep 16, 2020 9:20:50 PM` (UTC, not RFC 3339).
pub fn parse_cloudtrail_time(s: &str) -> Option<PrimitiveDateTime> {
    let format = format_description!(
        "[month repr:short] [day padding:none], [year] [hour repr:12 padding:none]:[minute]:[second] [period]"
    );
    PrimitiveDateTime::parse(s, format).ok()
}

/// Parses an account creation event. Anything else, or anything incomplete, is refused.
pub fn parse_account_event(bytes: &[u8]) -> Result<AccountEvent, Rejection> {
    let env = Envelope::parse(bytes)?;
    let event_id = EventId::parse(&env.id)?;
    let reject = |reason: String| Rejection::new(reason).for_event(&event_id);
    if env.source == GATEHOUSE_SOURCE && env.detail_type == BASELINE_REQUESTED {
        let request = baseline_request(env.detail).map_err(reject)?;
        return Ok(AccountEvent {
            event_id,
            reported_by: Reporter::Reconcile,
            result: Creation::Requested(request),
        });
    }
    let detail: CloudTrailDetail = serde_json::from_value(env.detail.clone())
        .map_err(|e| reject(format!("not a CloudTrail event detail: {e}")))?;
    let details = detail.service_event_details;
    let result = match (env.source.as_str(), detail.event_name.as_str()) {
        (ORGANIZATIONS_SOURCE, CREATE_ACCOUNT_RESULT) => {
            let status = details
                .and_then(|d| d.create_account_status)
                .ok_or_else(|| reject("CreateAccountResult without createAccountStatus".into()))?;
            for ts in [&status.requested_timestamp, &status.completed_timestamp]
                .into_iter()
                .flatten()
            {
                if parse_cloudtrail_time(ts).is_none() {
                    return Err(reject(format!(
                        "timestamp `{ts}` is not in CloudTrail's form"
                    )));
                }
            }
            creation(&status.state, status.account_id, status.failure_reason).map_err(reject)?
        }
        (ORGANIZATIONS_SOURCE, TAG_RESOURCE) => {
            let parameters: TagResourceParameters = detail
                .request_parameters
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| {
                    reject(format!(
                        "TagResource with unreadable requestParameters: {e}"
                    ))
                })?
                .ok_or_else(|| reject("TagResource without requestParameters".into()))?;
            // Organizations tags roots, OUs and policies too: only an account is Gatehouse's.
            let account_id = AccountId::parse(&parameters.resource_id).map_err(|_| {
                reject(format!(
                    "TagResource of {}, which is not an account",
                    quoted(&parameters.resource_id)
                ))
            })?;
            Creation::Tagged {
                account_id,
                tags: parameters
                    .tags
                    .into_iter()
                    .map(|t| (t.key, t.value))
                    .collect(),
            }
        }
        (CONTROL_TOWER_SOURCE, CREATE_MANAGED_ACCOUNT) => {
            let status = details
                .and_then(|d| d.create_managed_account_status)
                .ok_or_else(|| {
                    reject("CreateManagedAccount without createManagedAccountStatus".into())
                })?;
            let account_id = status.account.and_then(|a| a.account_id);
            creation(&status.state, account_id, status.message).map_err(reject)?
        }
        (source, name) => {
            return Err(reject(format!(
                "event {} from {} is not an account event Gatehouse handles",
                quoted(name),
                quoted(source)
            )))
        }
    };
    let reported_by = if env.source == ORGANIZATIONS_SOURCE {
        Reporter::Organizations
    } else {
        Reporter::ControlTower
    };
    Ok(AccountEvent {
        event_id,
        reported_by,
        result,
    })
}

fn creation(
    state: &str,
    account_id: Option<String>,
    failure: Option<String>,
) -> Result<Creation, String> {
    match state {
        "SUCCEEDED" => {
            let id = account_id.ok_or("a SUCCEEDED creation without an account id")?;
            let account_id = AccountId::parse(&id).map_err(|r| r.0)?;
            Ok(Creation::Succeeded { account_id })
        }
        "FAILED" => Ok(Creation::Failed {
            reason: failure.unwrap_or_else(|| "no reason given".to_owned()),
        }),
        other => Err(format!(
            "creation state `{other}` is neither SUCCEEDED nor FAILED"
        )),
    }
}

#[cfg(test)]
mod tests;
