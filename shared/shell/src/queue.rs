//! The FIFO work queue (SQS): `Employee Sync` work items for `people-events`, one message group
//! per employee so that every change to one person's access is applied in order, whoever asked.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use futures::stream::{self, StreamExt, TryStreamExt};
use gatehouse_core::work_item::SyncRequest;

use crate::error::{aws, Error};

/// SQS takes at most ten messages a call.
const MESSAGES_PER_CALL: usize = 10;
/// SendMessageBatch calls in flight at once.
const SENDS_AT_ONCE: usize = 16;

pub struct WorkQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl WorkQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: String) -> Self {
        WorkQueue { client, url }
    }

    /// Enqueues every request, ten to a call, [`SENDS_AT_ONCE`] calls at a time: a backfill of
    /// thousands is hundreds of calls, and none needs another's answer (every item is an
    /// `Employee Sync`, converged from the directory whatever order its group receives them
    /// in). Entries SQS reports as failed in a 200 answer are an error (transient when SQS says
    /// so), so that the caller's event is retried; the deduplication ids make the retry
    /// harmless for the entries that did go in.
    pub async fn enqueue(&self, requests: &[SyncRequest]) -> Result<(), Error> {
        let _: Vec<()> = stream::iter(requests.chunks(MESSAGES_PER_CALL))
            .map(|chunk| self.send(chunk))
            .buffer_unordered(SENDS_AT_ONCE)
            .try_collect()
            .await?;
        Ok(())
    }

    async fn send(&self, chunk: &[SyncRequest]) -> Result<(), Error> {
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
            .map_err(|e| Error::Request {
                operation: "SendMessageBatch",
                detail: e.to_string(),
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
            return Err(Error::PartialBatch {
                operation: "SendMessageBatch",
                failed: out.failed.len(),
                total: chunk.len(),
                codes: out.failed.iter().map(|f| f.code.clone()).collect(),
                transient: !out.failed.iter().any(|f| f.sender_fault),
            });
        }
        Ok(())
    }
}
