//! What one invocation did, as the function answers it (and logs it in its summary line): an
//! [`EventReport`] for an HR event or work item, a [`SetupReport`] for an account event. They
//! hold no credential: a new password is only ever referred to by its secret's ARN, in the
//! outcome event.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ids::EmployeeId;

/// What became of one HR event or work item.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventReport {
    pub event_id: String,
    pub employee_id: Option<String>,
    pub result: EventResult,
    /// Account id → what happened there.
    pub accounts: BTreeMap<String, AccountResult>,
    pub rejections: Vec<String>,
}

/// The event's result, as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventResult {
    /// The event counted and every account it touches now matches it.
    Applied,
    /// Older than what the directory holds: acknowledged, nothing changed.
    Stale,
    /// Input that can never succeed: acknowledged, reported, nothing changed.
    Rejected,
}

/// The event's result in one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountResult {
    Granted,
    Revoked,
    Unchanged,
    /// The user name is taken by a user Gatehouse does not manage, or another employee's.
    Conflict,
    /// Not entered: the provisioner role cannot be assumed there and Gatehouse has never laid
    /// its baseline there (an account that joined by invitation, Control Tower's Audit and Log
    /// Archive), so it has no user of Gatehouse's to close. Reported, not a failure.
    Unmanaged,
}

impl EventReport {
    pub fn new(event_id: &str, employee_id: Option<&EmployeeId>, result: EventResult) -> Self {
        EventReport {
            event_id: event_id.to_owned(),
            employee_id: employee_id.map(|e| e.to_string()),
            result,
            accounts: BTreeMap::new(),
            rejections: Vec::new(),
        }
    }

    /// How many accounts changed (granted or revoked).
    pub fn changed(&self) -> usize {
        self.accounts
            .values()
            .filter(|r| matches!(r, AccountResult::Granted | AccountResult::Revoked))
            .count()
    }
}

/// What became of one account event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetupReport {
    pub event_id: String,
    pub result: SetupResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub created: Vec<String>,
    /// What was changed by hand and brought back to what Gatehouse ships.
    pub repaired: Vec<String>,
    pub backfilled: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The account event's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SetupResult {
    /// The baseline is in place and the account's people are enqueued.
    Baselined,
    /// Organizations reports the creation failed: nothing to set up.
    Failed,
    /// Not an account Gatehouse sets up (bad input, untagged, outside the organization).
    Rejected,
}

impl SetupReport {
    pub fn new(event_id: &str, result: SetupResult) -> Self {
        SetupReport {
            event_id: event_id.to_owned(),
            result,
            account_id: None,
            environment: None,
            created: Vec::new(),
            repaired: Vec::new(),
            backfilled: 0,
            reason: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_serialize_as_the_functions_answer() {
        let mut r = EventReport::new(
            "ev-1",
            Some(&EmployeeId::parse("E1").unwrap()),
            EventResult::Applied,
        );
        r.accounts
            .insert("123456789012".into(), AccountResult::Granted);
        r.accounts
            .insert("210987654321".into(), AccountResult::Unchanged);
        assert_eq!(r.changed(), 1);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({
                "eventId": "ev-1", "employeeId": "E1", "result": "applied",
                "accounts": {"123456789012": "granted", "210987654321": "unchanged"},
                "rejections": []
            })
        );
        let s = SetupReport::new("ev-2", SetupResult::Rejected);
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            serde_json::json!({"eventId": "ev-2", "result": "rejected", "created": [], "repaired": [], "backfilled": 0})
        );
    }

    #[test]
    fn changed_counts_granted_and_revoked_accounts() {
        let mut r = EventReport::new("ev", None, EventResult::Applied);
        for (account, result) in [
            ("1", AccountResult::Granted),
            ("2", AccountResult::Revoked),
            ("3", AccountResult::Unchanged),
            ("4", AccountResult::Conflict),
        ] {
            r.accounts.insert(account.into(), result);
        }
        assert_eq!(r.changed(), 2);
        assert_eq!(
            EventReport::new("ev", None, EventResult::Stale).changed(),
            0
        );
    }
}
