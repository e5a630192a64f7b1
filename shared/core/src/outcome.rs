//! Outcome events: what Gatehouse granted, revoked, refused or baselined, for audit and alerts.
//! Plain data here; the shell publishes them on the bus. No outcome ever carries a credential: a
//! new password is referred to by its secret's ARN.

use serde::{Deserialize, Serialize};

use crate::baseline::BaselineRequest;
use crate::drift::report::DriftDetected;
use crate::envelope::Rejection;
use crate::ids::{AccountId, EmployeeId};
use crate::names::{
    ACCESS_GRANTED, ACCESS_REVOKED, ACCOUNT_BASELINED, BASELINE_REQUESTED, DRIFT_DETECTED,
    KEY_ROTATED, REQUEST_REJECTED,
};

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
    /// What was changed by hand and brought back (empty when nothing was).
    pub repaired: Vec<String>,
    /// How many employees were enqueued for a sync into the account.
    pub backfilled: usize,
}

/// A service account's key issued (`Access Granted`) or rotated (`Key Rotated`). Names the
/// key by its id and the secret by its ARN: never the key's secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceKey {
    pub event_id: String,
    pub service_account: String,
    pub account_id: AccountId,
    pub environment: String,
    pub user_name: String,
    pub access_key_id: String,
    pub secret_arn: String,
}

/// A service account the policy no longer defines, retired (`Access Revoked`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRetired {
    pub event_id: String,
    pub service_account: String,
    pub account_id: AccountId,
    pub environment: String,
    pub user_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Granted(Granted),
    Revoked(Revoked),
    Rejected(Rejected),
    Baselined(Baselined),
    Drift(Box<DriftDetected>),
    /// Not an outcome but a request on the same bus: `reconcile` asks `account-created` to
    /// repair a baseline.
    BaselineRequested(BaselineRequest),
    ServiceKeyIssued(ServiceKey),
    KeyRotated(ServiceKey),
    ServiceRetired(ServiceRetired),
}

impl Outcome {
    pub fn detail_type(&self) -> &'static str {
        match self {
            Outcome::Granted(_) => ACCESS_GRANTED,
            Outcome::Revoked(_) => ACCESS_REVOKED,
            Outcome::Rejected(_) => REQUEST_REJECTED,
            Outcome::Baselined(_) => ACCOUNT_BASELINED,
            Outcome::Drift(_) => DRIFT_DETECTED,
            Outcome::BaselineRequested(_) => BASELINE_REQUESTED,
            Outcome::ServiceKeyIssued(_) => ACCESS_GRANTED,
            Outcome::KeyRotated(_) => KEY_ROTATED,
            Outcome::ServiceRetired(_) => ACCESS_REVOKED,
        }
    }

    pub fn detail(&self) -> serde_json::Value {
        // Serializing these plain structs of strings cannot fail.
        match self {
            Outcome::Granted(d) => serde_json::to_value(d),
            Outcome::Revoked(d) => serde_json::to_value(d),
            Outcome::Rejected(d) => serde_json::to_value(d),
            Outcome::Baselined(d) => serde_json::to_value(d),
            Outcome::Drift(d) => serde_json::to_value(d),
            Outcome::BaselineRequested(d) => serde_json::to_value(d),
            Outcome::ServiceKeyIssued(d) | Outcome::KeyRotated(d) => serde_json::to_value(d),
            Outcome::ServiceRetired(d) => serde_json::to_value(d),
        }
        .unwrap_or_default()
    }
}

/// An outcome as it goes on the bus: its detail-type and its detail, as JSON. What is kept in
/// the directory when the bus refuses it, to be published on the next try.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BusEvent {
    pub detail_type: String,
    pub detail: String,
}

impl From<&Outcome> for BusEvent {
    fn from(o: &Outcome) -> Self {
        BusEvent {
            detail_type: o.detail_type().to_owned(),
            detail: o.detail().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_has_its_detail_type_and_a_camel_case_detail() {
        let acct = AccountId::parse("123456789012").unwrap();
        let who = EmployeeId::parse("E1").unwrap();
        let granted = Outcome::Granted(Granted {
            event_id: "ev".into(),
            employee_id: who.clone(),
            account_id: acct.clone(),
            environment: "development".into(),
            user_name: "a@example.com".into(),
            groups: vec!["developers".into()],
            initial_password_secret_arn: None,
        });
        assert_eq!(granted.detail_type(), "Access Granted");
        assert_eq!(
            granted.detail(),
            serde_json::json!({
                "eventId": "ev", "employeeId": "E1", "accountId": "123456789012",
                "environment": "development", "userName": "a@example.com",
                "groups": ["developers"]
            })
        );
        let revoked = Outcome::Revoked(Revoked {
            event_id: "ev".into(),
            employee_id: who,
            account_id: acct.clone(),
            environment: None,
            user_name: "a@example.com".into(),
        });
        assert_eq!(revoked.detail_type(), "Access Revoked");
        assert_eq!(revoked.detail()["environment"], serde_json::Value::Null);
        let rejected = Outcome::Rejected(Rejected::from(&Rejection::new("why")));
        assert_eq!(rejected.detail_type(), "Request Rejected");
        assert_eq!(rejected.detail(), serde_json::json!({"reason": "why"}));
        let baselined = Outcome::Baselined(Baselined {
            event_id: "ev".into(),
            account_id: acct,
            environment: "staging".into(),
            created: vec![],
            repaired: vec!["policy GatehouseDenyAll: the shipped document".into()],
            backfilled: 2,
        });
        assert_eq!(baselined.detail_type(), "Account Baselined");
        assert_eq!(baselined.detail()["backfilled"], 2);
        assert_eq!(
            baselined.detail()["repaired"],
            serde_json::json!(["policy GatehouseDenyAll: the shipped document"])
        );
        let kept = BusEvent::from(&baselined);
        assert_eq!(kept.detail_type, "Account Baselined");
        let again: BusEvent = serde_json::from_str(&serde_json::to_string(&kept).unwrap()).unwrap();
        assert_eq!(again, kept);
    }
}
