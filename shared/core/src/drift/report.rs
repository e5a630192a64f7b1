//! A `reconcile` run's input and its report: what the function accepts (a schedule's event,
//! or an operator's request), and the `Drift Detected` outcome, bounded in size (the log has
//! a line per finding).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Assessment, Finding, Kind};
use crate::envelope::{unique_keys, Rejection};
use crate::policy::ReconcileMode;

/// Findings carried in full by one report; the rest are counted (EventBridge takes 256 KiB).
pub const MAX_FINDINGS: usize = 50;

/// What a run is asked to do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Overrides `[reconcile] mode` for this run.
    #[serde(default)]
    pub mode: Option<ReconcileMode>,
    /// Repair even when the breaker trips: the operator has read the report.
    #[serde(default)]
    pub confirm: bool,
}

/// EventBridge's scheduled event: the rule's, with nothing to ask.
#[derive(Deserialize)]
struct Scheduled {
    source: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
}

impl Request {
    /// A schedule's `Scheduled Event` (`source: aws.events`), or an operator's request
    /// (`{}`, `{"mode": "report"}`, `{"mode": "repair", "confirm": true}`). Anything else is
    /// refused: a run is never guessed from an event meant for someone else.
    pub fn parse(bytes: &[u8]) -> Result<Request, Rejection> {
        unique_keys(bytes)?;
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| Rejection::new(format!("not JSON: {e}")))?;
        if !value.is_object() {
            return Err(Rejection::new("a reconcile request is a JSON object"));
        }
        if value.get("source").is_some() {
            let s: Scheduled = serde_json::from_value(value)
                .map_err(|e| Rejection::new(format!("not a scheduled event: {e}")))?;
            return if s.source == "aws.events" && s.detail_type == "Scheduled Event" {
                Ok(Request::default())
            } else {
                Err(Rejection::new(format!(
                    "reconcile takes a Scheduled Event from aws.events, not {} from {}",
                    s.detail_type, s.source
                )))
            };
        }
        serde_json::from_value(value).map_err(|e| {
            Rejection::new(format!(
                "a reconcile request is {{\"mode\": \"report\"|\"repair\", \"confirm\": bool}}: {e}"
            ))
        })
    }
}

/// The `Drift Detected` outcome, and the function's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftDetected {
    pub run_id: String,
    pub mode: ReconcileMode,
    pub accounts_read: usize,
    /// Accounts not read whole, with why: nothing was repaired there.
    pub unknown_accounts: BTreeMap<String, String>,
    pub counts: BTreeMap<Kind, usize>,
    /// `Employee Sync` items put on the work queue.
    pub repairs_enqueued: usize,
    /// `Baseline Requested` events put on the bus for `account-created`.
    pub baselines_requested: usize,
    /// Why repairs exist but none was enqueued (report mode, the breaker).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
    pub findings: Vec<Finding>,
    pub findings_omitted: usize,
}

impl DriftDetected {
    pub fn new(
        run_id: &str,
        mode: ReconcileMode,
        accounts: usize,
        assessment: &Assessment,
        enqueued: usize,
    ) -> Self {
        let mut counts = BTreeMap::new();
        for f in &assessment.findings {
            *counts.entry(f.kind).or_default() += 1;
        }
        DriftDetected {
            run_id: run_id.to_owned(),
            mode,
            accounts_read: accounts - assessment.unknown.len(),
            unknown_accounts: assessment.unknown.clone(),
            counts,
            repairs_enqueued: enqueued,
            baselines_requested: 0,
            held: assessment.held.clone(),
            findings: assessment
                .findings
                .iter()
                .take(MAX_FINDINGS)
                .cloned()
                .collect(),
            findings_omitted: assessment.findings.len().saturating_sub(MAX_FINDINGS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_or_an_operators_request_is_a_run_and_nothing_else_is() {
        let scheduled = br#"{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-27T12:00:00Z","region":"us-east-1","resources":[],"detail":{}}"#;
        assert_eq!(Request::parse(scheduled).unwrap(), Request::default());
        assert_eq!(Request::parse(b"{}").unwrap(), Request::default());
        assert_eq!(
            Request::parse(br#"{"mode":"repair","confirm":true}"#).unwrap(),
            Request {
                mode: Some(ReconcileMode::Repair),
                confirm: true
            }
        );
        for bad in [
            &br#"{"mode":"fix"}"#[..],
            br#"{"mode":"repair","force":true}"#,
            br#"{"confirm":"yes"}"#,
            br#"{"source":"com.example.hr","detail-type":"Scheduled Event"}"#,
            br#"{"source":"aws.events","detail-type":"Employee Sync"}"#,
            br#"{"mode":"report","mode":"repair"}"#,
            b"[]",
            b"not json",
        ] {
            assert!(
                Request::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
