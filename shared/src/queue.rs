//! The FIFO work queue: `Employee Sync` work items for `people-events`, one message group per
//! employee so that every change to one person's access is applied in order, whoever asked.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use serde_json::json;

use crate::error::{aws, Error};
use crate::event::{AccountId, EmployeeId, Instant, GATEHOUSE_SOURCE, SYNC};

/// SQS takes at most ten messages a call.
const MESSAGES_PER_CALL: usize = 10;

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
            "time": Instant::now().rfc3339(),
            "detail": detail,
        })
    }
}

pub struct WorkQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl WorkQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: String) -> Self {
        WorkQueue { client, url }
    }

    /// Enqueues every request, ten to a call. Entries SQS reports as failed in a 200 answer are
    /// an error (transient when SQS says so), so that the caller's event is retried; the
    /// deduplication ids make the retry harmless for the entries that did go in.
    pub async fn enqueue(&self, requests: &[SyncRequest]) -> Result<(), Error> {
        for chunk in requests.chunks(MESSAGES_PER_CALL) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(r.envelope().to_string())
                        .message_group_id(r.employee_id.as_str())
                        .message_deduplication_id(r.id())
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Error::Partial {
                    operation: "SendMessageBatch",
                    detail: format!("entry could not be built: {e}"),
                    transient: false,
                })?;
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| aws("sqs", "SendMessageBatch", None, e))?;
            if !out.failed.is_empty() {
                let sender_fault = out.failed.iter().any(|f| f.sender_fault);
                let codes: Vec<&str> = out.failed.iter().map(|f| f.code.as_str()).collect();
                return Err(Error::Partial {
                    operation: "SendMessageBatch",
                    detail: format!(
                        "{} of {} work items were not enqueued ({})",
                        out.failed.len(),
                        chunk.len(),
                        codes.join(", ")
                    ),
                    transient: !sender_fault,
                });
            }
        }
        Ok(())
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
        let crate::event::Inbound::Sync(item) =
            crate::event::parse_inbound(&bytes, &policy).unwrap()
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
        assert!(crate::event::EventId::parse(&a).is_ok());
    }
}
