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
    source: String,
}

impl OutcomePublisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: String) -> Self {
        OutcomePublisher::with_source(client, bus, GATEHOUSE_SOURCE.to_owned())
    }

    /// A publisher of events from `source`: the SCIM front door puts HR events on the bus
    /// with the policy's HR source, exactly as an HR system would.
    pub fn with_source(client: aws_sdk_eventbridge::Client, bus: String, source: String) -> Self {
        OutcomePublisher {
            client,
            bus,
            source,
        }
    }

    /// Publishes every outcome, ten to a call. A 200 answer that reports failed entries is an
    /// error too: an outcome that silently fails to arrive is an audit gap.
    pub async fn publish(&self, outcomes: &[Outcome]) -> Result<(), Error> {
        let events: Vec<BusEvent> = outcomes.iter().map(BusEvent::from).collect();
        self.publish_events(&events).await.map_err(|u| u.error)
    }

    /// Publishes events, ten to a call, the calls at once (the outcomes of an offboarding
    /// across hundreds of accounts are tens of calls, and none waits for another); on failure,
    /// says which were not accepted: those an answer reports as failed, and every one of a
    /// call that failed.
    pub async fn publish_events(&self, events: &[BusEvent]) -> Result<(), Unpublished> {
        // As many calls as chunks: the process's bound on calls in flight (`sdk`) paces them.
        let puts = events.chunks(ENTRIES_PER_CALL).map(|c| self.put(c));
        let mut first_error = None;
        let mut refused = Vec::new();
        for answer in futures::future::join_all(puts).await {
            if let Err(unpublished) = answer {
                first_error.get_or_insert(unpublished.error);
                refused.extend(unpublished.events);
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

    /// One PutEvents call of at most ten events.
    async fn put(&self, chunk: &[BusEvent]) -> Result<(), Unpublished> {
        let entries = chunk
            .iter()
            .map(|e| {
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(&self.source)
                    .detail_type(&e.detail_type)
                    .detail(&e.detail)
                    .build()
            })
            .collect();
        let out = self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| Unpublished {
                error: aws("events", "PutEvents", None, e),
                events: chunk.to_vec(),
            })?;
        if out.failed_entry_count() == 0 {
            return Ok(());
        }
        // The answer's entries are in the request's order.
        let codes: Vec<&str> = out
            .entries()
            .iter()
            .filter_map(|e| e.error_code())
            .collect();
        let events = if out.entries().len() == chunk.len() {
            chunk
                .iter()
                .zip(out.entries())
                .filter(|(_, answer)| answer.error_code().is_some())
                .map(|(event, _)| event.clone())
                .collect()
        } else {
            // An answer that does not say which failed: none counts as delivered.
            chunk.to_vec()
        };
        Err(Unpublished {
            error: Error::PartialBatch {
                operation: "PutEvents",
                failed: out.failed_entry_count() as usize,
                total: chunk.len(),
                transient: codes
                    .iter()
                    .all(|c| matches!(*c, "ThrottlingException" | "InternalFailure")),
                codes: codes.into_iter().map(str::to_owned).collect(),
            },
            events,
        })
    }
}

/// Events the bus did not take, and why.
#[derive(Debug)]
pub struct Unpublished {
    pub error: Error,
    pub events: Vec<BusEvent>,
}
