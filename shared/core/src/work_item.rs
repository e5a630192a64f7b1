//! `Employee Sync` work items: requests to converge one employee, everywhere or in one account,
//! as `account-created` (and `reconcile`) put them on the FIFO work queue for `people-events`.

use serde_json::json;

use crate::ids::{AccountId, EmployeeId, Timestamp};
use crate::names::{GATEHOUSE_SOURCE, SYNC};

/// A request to converge one employee, in one account or everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRequest {
    pub employee_id: EmployeeId,
    pub account_id: Option<AccountId>,
    /// What caused it (an event id): with account and employee it makes the deduplication id,
    /// so a redelivered cause enqueues nothing new.
    pub cause: String,
}

/// FNV-1a, 64 bits: a stable digest (the same in every process and release, unlike std's
/// hasher), enough to tell causes apart within the queue's five-minute deduplication window.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl SyncRequest {
    /// Deduplication id and work item id: `sync.<account|all>.<employee>.<cause>`, within SQS's
    /// 128 characters of letters, digits and punctuation (all three parts are validated ids).
    /// A cause too long to fit is replaced by a digest of it, never cut: two causes sharing a
    /// long prefix must not deduplicate each other.
    pub fn id(&self) -> String {
        let account = self
            .account_id
            .as_ref()
            .map(|a| a.as_str())
            .unwrap_or("all");
        let id = format!("sync.{account}.{}.{}", self.employee_id, self.cause);
        if id.len() <= 128 {
            return id;
        }
        format!(
            "sync.{account}.{}.h{:016x}",
            self.employee_id,
            fnv1a(self.cause.as_bytes())
        )
    }

    /// The EventBridge-shaped envelope `people-events` reads.
    pub fn envelope(&self) -> serde_json::Value {
        let mut detail = json!({ "employeeId": self.employee_id });
        if let Some(a) = &self.account_id {
            detail["accountId"] = json!(a);
        }
        json!({
            "version": "0",
            "id": self.id(),
            "detail-type": SYNC,
            "source": GATEHOUSE_SOURCE,
            "time": Timestamp::now().rfc3339(),
            "detail": detail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_items_parse_back_as_sync_items_with_a_stable_id() {
        let r = SyncRequest {
            employee_id: EmployeeId::parse("E1").unwrap(),
            account_id: Some(AccountId::parse("123456789012").unwrap()),
            cause: "3b9a6c1e-5f0a-4c2b-8d5e-9a1f2b3c4d01".into(),
        };
        assert_eq!(
            r.id(),
            "sync.123456789012.E1.3b9a6c1e-5f0a-4c2b-8d5e-9a1f2b3c4d01"
        );
        let bytes = serde_json::to_vec(&r.envelope()).unwrap();
        let policy = crate::policy::Policy::builtin().unwrap();
        let crate::hr_event::Inbound::Sync(item) =
            crate::hr_event::parse_inbound(&bytes, &policy, crate::ids::Timestamp::now()).unwrap()
        else {
            panic!("not a sync item")
        };
        assert_eq!(item.employee_id, r.employee_id);
        assert_eq!(item.account_id, r.account_id);
    }

    #[test]
    fn long_causes_sharing_a_prefix_get_different_ids_that_fit() {
        let request = |cause: String| SyncRequest {
            employee_id: EmployeeId::parse(&"E".repeat(64)).unwrap(),
            account_id: Some(AccountId::parse("123456789012").unwrap()),
            cause,
        };
        let (a, b) = (
            request(format!("{}-a", "x".repeat(100))).id(),
            request(format!("{}-b", "x".repeat(100))).id(),
        );
        assert_ne!(a, b);
        assert!(a.len() <= 128 && b.len() <= 128);
        assert!(crate::ids::EventId::parse(&a).is_ok());
    }
}
