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

use crate::envelope::{quoted, Envelope, Rejection};
use crate::ids::{AccountId, EventId};

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
}

impl Reporter {
    pub fn as_str(self) -> &'static str {
        match self {
            Reporter::Organizations => "organizations",
            Reporter::ControlTower => "controltower",
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
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../../fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn edit(name: &str, f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut v: serde_json::Value = serde_json::from_slice(&fixture(name)).unwrap();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn cloudtrail_timestamps_parse() {
        let t = parse_cloudtrail_time("Sep 16, 2020 9:20:50 PM").unwrap();
        assert_eq!(
            (t.hour(), t.minute(), t.second(), t.day()),
            (21, 20, 50, 16)
        );
        assert!(parse_cloudtrail_time("2020-09-16T21:20:50Z").is_none());
    }

    #[test]
    fn a_succeeded_creation_names_the_account() {
        let e = parse_account_event(&fixture("create-account-result-succeeded.json")).unwrap();
        assert_eq!(
            e.result,
            Creation::Succeeded {
                account_id: AccountId::parse("444455556666").unwrap()
            }
        );
    }

    #[test]
    fn either_cloudtrail_detail_type_is_accepted() {
        let bytes = edit("create-account-result-succeeded.json", |v| {
            v["detail-type"] = "AWS API Call via CloudTrail".into();
        });
        assert!(parse_account_event(&bytes).is_ok());
    }

    #[test]
    fn a_failed_creation_carries_its_reason() {
        let e = parse_account_event(&fixture("create-account-result-failed.json")).unwrap();
        assert_eq!(
            e.result,
            Creation::Failed {
                reason: "EMAIL_ALREADY_EXISTS".into()
            }
        );
    }

    #[test]
    fn control_tower_creations_are_understood() {
        let e = parse_account_event(&fixture("control-tower-create-managed-account.json")).unwrap();
        assert_eq!(
            e.result,
            Creation::Succeeded {
                account_id: AccountId::parse("777788889999").unwrap()
            }
        );
        assert_eq!(e.reported_by, Reporter::ControlTower);
    }

    #[test]
    fn incomplete_or_foreign_events_are_refused() {
        let no_id = edit("create-account-result-succeeded.json", |v| {
            v["detail"]["serviceEventDetails"]["createAccountStatus"]
                .as_object_mut()
                .unwrap()
                .remove("accountId");
        });
        let bogus_id = edit("create-account-result-succeeded.json", |v| {
            v["detail"]["serviceEventDetails"]["createAccountStatus"]["accountId"] = "12345".into();
        });
        let bad_time = edit("create-account-result-succeeded.json", |v| {
            v["detail"]["serviceEventDetails"]["createAccountStatus"]["completedTimestamp"] =
                "yesterday".into();
        });
        let other_event = edit("create-account-result-succeeded.json", |v| {
            v["detail"]["eventName"] = "InviteAccountToOrganization".into();
        });
        let spoofed = edit("create-account-result-succeeded.json", |v| {
            v["source"] = "com.example.hr".into();
        });
        let in_progress = edit("create-account-result-succeeded.json", |v| {
            v["detail"]["serviceEventDetails"]["createAccountStatus"]["state"] =
                "IN_PROGRESS".into();
        });
        for bytes in [no_id, bogus_id, bad_time, other_event, spoofed, in_progress] {
            let r = parse_account_event(&bytes).unwrap_err();
            assert!(r.event_id.is_some(), "{}", r.reason);
        }
        assert!(parse_account_event(b"{").is_err());
    }

    #[test]
    fn the_reporter_is_named_for_logs_and_outcomes() {
        assert_eq!(Reporter::Organizations.as_str(), "organizations");
        assert_eq!(Reporter::ControlTower.to_string(), "controltower");
        let e = parse_account_event(&fixture("create-account-result-succeeded.json")).unwrap();
        assert_eq!(e.reported_by, Reporter::Organizations);
    }

    #[test]
    fn a_tag_set_on_an_account_is_understood() {
        let e = parse_account_event(&fixture("tag-resource-environment.json")).unwrap();
        let Creation::Tagged { account_id, tags } = e.result else {
            panic!("not a tag event: {:?}", e.result)
        };
        assert_eq!(account_id.as_str(), "444455556666");
        assert_eq!(tags["environment"], "staging");
        assert_eq!(tags.len(), 2);
        assert_eq!(e.reported_by, Reporter::Organizations);
    }

    #[test]
    fn a_tag_on_anything_but_an_account_is_refused() {
        for resource in ["ou-ab12-cdef3456", "r-ab12", "p-FullAWSAccess"] {
            let bytes = edit("tag-resource-environment.json", |v| {
                v["detail"]["requestParameters"]["resourceId"] = resource.into();
            });
            let r = parse_account_event(&bytes).unwrap_err();
            assert!(r.reason.contains("not an account"), "{}", r.reason);
        }
        let no_parameters = edit("tag-resource-environment.json", |v| {
            v["detail"]
                .as_object_mut()
                .unwrap()
                .remove("requestParameters");
        });
        assert!(parse_account_event(&no_parameters).is_err());
    }
}
