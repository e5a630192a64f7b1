//! One Lambda invocation of `people-events`: either an EventBridge envelope (a direct rule or
//! `cargo lambda invoke`) or an SQS batch of envelopes from the FIFO work queue.
//!
//! Dispositions: input that can never succeed is acknowledged and reported in a
//! `Request Rejected` outcome; anything else that fails is handed back for redelivery (an error
//! for a direct invocation, a `batchItemFailures` entry for a queue message).

use std::collections::BTreeMap;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use serde_json::Value;
use tracing::{error, warn};

use crate::deps::Deps;
use crate::error::{Disposition, Error};
use crate::event::{parse_inbound, Rejection};
use crate::outcome::{Outcome, Rejected};
use crate::people::{self, Report};

/// Handles one invocation payload and returns the Lambda answer.
pub async fn handle(deps: &Deps, payload: Value) -> Result<Value, Error> {
    if payload.get("Records").is_some() {
        let batch: SqsEvent = match serde_json::from_value(payload) {
            Ok(batch) => batch,
            Err(e) => {
                let rejection = Rejection::new(format!("not an SQS batch: {e}"));
                let report = reject(deps, rejection).await?;
                return Ok(serde_json::to_value(report).unwrap_or_default());
            }
        };
        let answer = handle_batch(deps, batch).await;
        // A plain struct of strings: serializing it cannot fail.
        return Ok(serde_json::to_value(answer).unwrap_or_default());
    }
    let bytes = serde_json::to_vec(&payload).unwrap_or_default();
    let report = handle_message(deps, &bytes).await?;
    Ok(serde_json::to_value(report).unwrap_or_default())
}

/// Handles one message (an envelope's bytes): parse, apply, and report a rejection.
pub async fn handle_message(deps: &Deps, bytes: &[u8]) -> Result<Report, Error> {
    match parse_inbound(bytes, &deps.config.policy) {
        Ok(inbound) => people::handle(deps, &inbound).await,
        Err(rejection) => reject(deps, rejection).await,
    }
}

/// Logs and publishes a rejection. If the outcome cannot be published the message is retried:
/// a refusal nobody hears of is the silent drop the design forbids.
async fn reject(deps: &Deps, rejection: Rejection) -> Result<Report, Error> {
    warn!(event_id = rejection.event_id.as_deref().unwrap_or("-"),
          employee_id = rejection.employee_id.as_ref().map(|e| e.as_str()).unwrap_or("-"),
          reason = %rejection.reason, "request rejected");
    deps.outcomes
        .publish(&[Outcome::Rejected(Rejected::from(&rejection))])
        .await?;
    let event_id = rejection.event_id.as_deref().unwrap_or("unknown");
    let mut report = Report::new(
        event_id,
        rejection.employee_id.as_ref(),
        people::Disposition::Rejected,
    );
    report.rejections.push(rejection.reason);
    Ok(report)
}

/// Messages of one FIFO message group are handled in order; once one fails, the rest of its
/// group are handed back unprocessed so that the queue redelivers them in order. Groups are
/// independent of each other and run concurrently.
pub async fn handle_batch(deps: &Deps, batch: SqsEvent) -> SqsBatchResponse {
    let mut groups: BTreeMap<String, Vec<SqsMessage>> = BTreeMap::new();
    for (i, record) in batch.records.into_iter().enumerate() {
        // A standard queue has no group: every message is its own.
        let group = record
            .attributes
            .get("MessageGroupId")
            .cloned()
            .unwrap_or_else(|| format!("#{i}"));
        groups.entry(group).or_default().push(record);
    }
    let per_group = groups.into_values().map(|messages| async move {
        let mut failed = Vec::new();
        for message in messages {
            let id = message.message_id.clone().unwrap_or_default();
            if !failed.is_empty() {
                failed.push(id);
                continue;
            }
            let body = message.body.as_deref().unwrap_or_default();
            if let Err(e) = handle_message(deps, body.as_bytes()).await {
                let disposition = e.disposition();
                error!(message_id = %id, error = %e, kind = disposition.error_type(), "message failed");
                if disposition != Disposition::Rejected {
                    failed.push(id);
                }
            }
        }
        failed
    });
    let failed: Vec<String> = futures::future::join_all(per_group).await.concat();
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}
