//! One Lambda invocation of `people-events`: either an EventBridge envelope (a direct rule or
//! `cargo lambda invoke`) or an SQS batch of envelopes from the FIFO work queue.
//!
//! Input that can never succeed is acknowledged and reported in a `Request Rejected` outcome;
//! anything else that fails is handed back for redelivery (an error for a direct invocation, a
//! `batchItemFailures` entry for a queue message). The batch's FIFO rules are the core's
//! ([`gatehouse_core::batch`]); this file only feeds it messages and its handler.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use gatehouse_core::batch::{handle_batch, Handled, Message};
use gatehouse_core::envelope::Rejection;
use gatehouse_core::hr_event::parse_inbound;
use gatehouse_core::ids::Timestamp;
use gatehouse_core::outcome::{Outcome, Rejected};
use gatehouse_core::report::{EventReport, EventResult};
use serde_json::Value;
use tracing::{error, warn};

use crate::deps::Deps;
use crate::error::{Error, FailureKind};
use crate::people;

/// Handles one invocation payload and returns the Lambda answer.
pub async fn handle(deps: &Deps, payload: Value) -> Result<Value, Error> {
    // Re-encoding a `Value` cannot fail.
    handle_bytes(deps, &serde_json::to_vec(&payload).unwrap_or_default()).await
}

/// Handles one invocation payload as the bytes Lambda delivered. The functions pass the raw
/// text, not a parsed `Value`: parsing into a map keeps only one of two duplicated keys, and
/// an envelope with a duplicated key must be refused, not read one way or the other.
pub async fn handle_bytes(deps: &Deps, payload: &[u8]) -> Result<Value, Error> {
    let is_batch = serde_json::from_slice::<Value>(payload)
        .map(|v| v.get("Records").is_some())
        .unwrap_or(false);
    if is_batch {
        let batch: SqsEvent = match serde_json::from_slice(payload) {
            Ok(batch) => batch,
            Err(e) => {
                let rejection = Rejection::new(format!("not an SQS batch: {e}"));
                let report = reject(deps, rejection).await?;
                return Ok(answer(&report));
            }
        };
        return Ok(answer(&handle_sqs(deps, batch).await));
    }
    let report = handle_message(deps, payload).await?;
    Ok(answer(&report))
}

/// A plain struct of strings and numbers as JSON: serializing it cannot fail.
fn answer(report: &impl serde::Serialize) -> Value {
    serde_json::to_value(report).unwrap_or_default()
}

/// Handles one message (an envelope's bytes): parse, apply, and report a rejection.
pub(crate) async fn handle_message(deps: &Deps, bytes: &[u8]) -> Result<EventReport, Error> {
    match parse_inbound(bytes, &deps.config.policy, Timestamp::now()) {
        Ok(inbound) => people::handle(deps, &inbound).await,
        Err(rejection) => reject(deps, rejection).await,
    }
}

/// Logs and publishes a rejection. If the outcome cannot be published the message is retried:
/// a refusal nobody hears of is the silent drop the design forbids.
async fn reject(deps: &Deps, rejection: Rejection) -> Result<EventReport, Error> {
    warn!(event_id = rejection.event_id.as_deref().unwrap_or("-"),
          employee_id = rejection.employee_id.as_ref().map(|e| e.as_str()).unwrap_or("-"),
          reason = %rejection.reason, "request rejected");
    deps.outcomes
        .publish(&[Outcome::Rejected(Rejected::from(&rejection))])
        .await?;
    let event_id = rejection.event_id.as_deref().unwrap_or("unknown");
    let mut report = EventReport::new(
        event_id,
        rejection.employee_id.as_ref(),
        EventResult::Rejected,
    );
    report.rejections.push(rejection.reason);
    Ok(report)
}

/// An SQS batch, FIFO-safe: see [`gatehouse_core::batch`].
pub(crate) async fn handle_sqs(deps: &Deps, batch: SqsEvent) -> SqsBatchResponse {
    let messages = batch
        .records
        .into_iter()
        .map(|record| Message {
            id: record.message_id.unwrap_or_default(),
            group: record.attributes.get("MessageGroupId").cloned(),
            body: record.body.unwrap_or_default(),
        })
        .collect();
    let handed_back = handle_batch(messages, |message| async move {
        match handle_message(deps, message.body.as_bytes()).await {
            Ok(_) => Handled::Done,
            Err(e) => {
                let kind = e.kind();
                error!(message_id = %message.id, error = %e, kind = kind.error_type(), "message failed");
                if kind == FailureKind::Rejected {
                    Handled::Rejected
                } else {
                    Handled::Failed
                }
            }
        }
    })
    .await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = handed_back
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}
