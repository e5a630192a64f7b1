//! The event bus (EventBridge): publishes [`Outcome`]s for audit and alerts.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use gatehouse_core::names::GATEHOUSE_SOURCE;
use gatehouse_core::outcome::{BusEvent, Outcome};

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
        let events: Vec<BusEvent> = outcomes.iter().map(BusEvent::from).collect();
        self.publish_events(&events).await.map_err(|u| u.error)
    }

    /// Publishes events, ten to a call; on failure, says which were not accepted (those an
    /// answer reports as failed, and every one after the call that failed).
    pub async fn publish_events(&self, events: &[BusEvent]) -> Result<(), Unpublished> {
        let mut first_error = None;
        let mut refused = Vec::new();
        for chunk in events.chunks(ENTRIES_PER_CALL) {
            if first_error.is_some() {
                refused.extend_from_slice(chunk);
                continue;
            }
            let entries = chunk
                .iter()
                .map(|e| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(GATEHOUSE_SOURCE)
                        .detail_type(&e.detail_type)
                        .detail(&e.detail)
                        .build()
                })
                .collect();
            let out = match self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => {
                    first_error = Some(aws("events", "PutEvents", None, e));
                    refused.extend_from_slice(chunk);
                    continue;
                }
            };
            if out.failed_entry_count() > 0 {
                // The answer's entries are in the request's order.
                let codes: Vec<&str> = out
                    .entries()
                    .iter()
                    .filter_map(|e| e.error_code())
                    .collect();
                if out.entries().len() == chunk.len() {
                    refused.extend(
                        chunk
                            .iter()
                            .zip(out.entries())
                            .filter(|(_, answer)| answer.error_code().is_some())
                            .map(|(event, _)| event.clone()),
                    );
                } else {
                    // An answer that does not say which failed: none counts as delivered.
                    refused.extend_from_slice(chunk);
                }
                first_error = Some(Error::PartialBatch {
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
        match first_error {
            None => Ok(()),
            Some(error) => Err(Unpublished {
                error,
                events: refused,
            }),
        }
    }
}

/// Events the bus did not take, and why.
#[derive(Debug)]
pub struct Unpublished {
    pub error: Error,
    pub events: Vec<BusEvent>,
}
