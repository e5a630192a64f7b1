//! The event bus (EventBridge): publishes [`Outcome`]s for audit and alerts.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use gatehouse_core::names::GATEHOUSE_SOURCE;
use gatehouse_core::outcome::Outcome;

use crate::error::{aws, Error};

/// PutEvents takes at most ten entries a call.
const ENTRIES_PER_CALL: usize = 10;

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
                return Err(Error::PartialBatch {
                    operation: "PutEvents",
                    failed: out.failed_entry_count() as usize,
                    total: chunk.len(),
                    transient: codes
                        .iter()
                        .all(|c| matches!(*c, "ThrottlingException" | "InternalFailure")),
                    codes: codes.into_iter().map(str::to_owned).collect(),
                });
            }
        }
        Ok(())
    }
}
