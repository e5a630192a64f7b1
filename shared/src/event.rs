//! Inbound events: the EventBridge envelope, HR events and Gatehouse work items.
//!
//! Everything here is pure: bytes in, a validated domain value or a [`Rejection`] out. The rules
//! are exact on purpose. Input that is not exactly valid is refused, never trimmed, guessed or
//! repaired: an access system that "fixes" an e-mail address grants access to somebody else.

use std::fmt;

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::policy::Policy;

/// Largest event Gatehouse accepts, in bytes. An HR event is a handful of short fields; anything
/// near EventBridge's own 256 KiB limit is not an HR event, and parsing it is wasted work.
pub const MAX_EVENT_BYTES: usize = 16 * 1024;

/// `source` of the events Gatehouse itself emits: outcomes and work items.
pub const GATEHOUSE_SOURCE: &str = "gatehouse";

pub const ONBOARDED: &str = "Employee Onboarded";
pub const TRANSFERRED: &str = "Employee Transferred";
pub const OFFBOARDED: &str = "Employee Offboarded";
pub const SYNC: &str = "Employee Sync";

/// Why an input can never succeed. Carries what could be identified safely (only values that
/// passed validation), so that the `Request Rejected` outcome can name them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Rejection {
    pub reason: String,
    pub event_id: Option<String>,
    pub employee_id: Option<EmployeeId>,
}

impl Rejection {
    pub fn new(reason: impl Into<String>) -> Self {
        Rejection {
            reason: reason.into(),
            event_id: None,
            employee_id: None,
        }
    }

    fn with_event(mut self, id: &EventId) -> Self {
        self.event_id = Some(id.0.clone());
        self
    }
}

/// The EventBridge envelope, as delivered to a rule target. Only the fields Gatehouse reads are
/// typed; the rest of the envelope (`account`, `region`, `resources`, ...) is AWS's to extend.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    pub id: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    pub time: String,
    pub detail: serde_json::Value,
}

impl Envelope {
    /// Parses an envelope from raw JSON, refusing oversized input before reading it.
    pub fn parse(bytes: &[u8]) -> Result<Envelope, Rejection> {
        if bytes.len() > MAX_EVENT_BYTES {
            return Err(Rejection::new(format!(
                "event is {} bytes, more than the {MAX_EVENT_BYTES} bytes allowed",
                bytes.len()
            )));
        }
        serde_json::from_slice(bytes)
            .map_err(|e| Rejection::new(format!("not an EventBridge envelope: {e}")))
    }
}

/// An EventBridge event id: what makes a delivery recognisable when it comes again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventId(String);

impl EventId {
    /// 1–128 characters of letters, digits and `-_.:`. EventBridge ids are UUIDs; SQS
    /// deduplication ids and IAM session names are built from them, so nothing else may pass.
    pub fn parse(s: &str) -> Result<EventId, Rejection> {
        let ok = (1..=128).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        if ok {
            Ok(EventId(s.to_owned()))
        } else {
            Err(Rejection::new(
                "event `id` must be 1-128 characters of letters, digits and -_.:",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An HR employee id: 1–64 characters, letters, digits and `._-`, starting with a letter or
/// digit. It becomes a DynamoDB key, an IAM tag value and part of SQS ids, all of which accept
/// this set unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct EmployeeId(String);

impl EmployeeId {
    pub fn parse(s: &str) -> Result<EmployeeId, Rejection> {
        let b = s.as_bytes();
        let ok = (1..=64).contains(&b.len())
            && b[0].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c));
        if ok {
            Ok(EmployeeId(s.to_owned()))
        } else {
            Err(Rejection::new(
                "`employeeId` must be 1-64 characters of letters, digits and ._- starting with a letter or digit",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmployeeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A work e-mail address that IAM can hold as a user name once lower-cased.
///
/// Exact rules: ASCII only (so no look-alike letters), one `@`; the local part uses only
/// `A-Z a-z 0-9 _ + = . -` (characters both an unquoted address and every name Gatehouse derives
/// from it can hold: IAM user names, Secrets Manager names), with no leading, trailing or doubled
/// dot; the domain is two or more
/// dot-separated labels of letters, digits and inner hyphens; 64 characters at most, IAM's limit
/// for a user name. A longer address is refused, never truncated: a truncated name could be
/// somebody else's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Email, Rejection> {
        let bad = |why: &str| Err(Rejection::new(format!("`email` {why}")));
        if s.len() > 64 {
            return bad("is longer than the 64 characters an IAM user name can hold");
        }
        if !s.is_ascii() {
            return bad("must be plain ASCII");
        }
        let Some((local, domain)) = s.split_once('@') else {
            return bad("must contain one @");
        };
        if local.is_empty()
            || !local
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"_+=.-".contains(&c))
        {
            return bad("has a local part with characters other than letters, digits and _+=.-");
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return bad("has a local part with a leading, trailing or doubled dot");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return bad("must have a domain of two or more labels of letters, digits and hyphens");
        }
        Ok(Email(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The IAM user name of this person: the address, lower-cased (the contract's mapping; IAM
    /// compares names case-insensitively, so this is the one spelling Gatehouse ever uses).
    pub fn user_name(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A person's given or family name: 1–128 characters, no control characters. Names are carried
/// into the directory only; they never become IAM names or tags.
fn parse_person_name(field: &str, s: &str) -> Result<String, Rejection> {
    if s.is_empty() || s.chars().count() > 128 || s.chars().any(char::is_control) {
        return Err(Rejection::new(format!(
            "`{field}` must be 1-128 characters without control characters"
        )));
    }
    Ok(s.to_owned())
}

/// A point in time that orders one employee's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant(OffsetDateTime);

impl Instant {
    pub fn parse_rfc3339(field: &str, s: &str) -> Result<Instant, Rejection> {
        OffsetDateTime::parse(s, &Rfc3339)
            .map(Instant)
            .map_err(|_| Rejection::new(format!("`{field}` must be an RFC 3339 timestamp")))
    }

    pub fn from_unix_nanos(n: i128) -> Option<Instant> {
        OffsetDateTime::from_unix_timestamp_nanos(n)
            .ok()
            .map(Instant)
    }

    pub fn now() -> Instant {
        Instant(OffsetDateTime::now_utc())
    }

    /// Nanoseconds since the epoch: the total order the directory compares with.
    pub fn unix_nanos(&self) -> i128 {
        self.0.unix_timestamp_nanos()
    }

    pub fn rfc3339(&self) -> String {
        // Formatting a UTC OffsetDateTime as RFC 3339 only fails for years outside 0..=9999,
        // which parsing RFC 3339 cannot produce; fall back to the epoch form rather than panic.
        self.0
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_else(|_| self.0.unix_timestamp().to_string())
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

/// A team named in the policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Team(String);

impl Team {
    /// Accepts only a team the policy defines.
    pub fn parse(s: &str, policy: &Policy) -> Result<Team, Rejection> {
        if policy.teams.contains_key(s) {
            Ok(Team(s.to_owned()))
        } else {
            Err(Rejection::new("`team` is not a team of the access policy"))
        }
    }

    /// A team name read back from Gatehouse's own records (directory, tags), trusted as written.
    pub fn from_record(s: String) -> Team {
        Team(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Team {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated HR event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HrEvent {
    pub event_id: EventId,
    pub employee_id: EmployeeId,
    pub effective_at: Instant,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Onboarded {
        email: Email,
        team: Team,
        given_name: Option<String>,
        family_name: Option<String>,
    },
    Transferred {
        email: Email,
        team: Team,
    },
    Offboarded,
}

impl Change {
    pub fn detail_type(&self) -> &'static str {
        match self {
            Change::Onboarded { .. } => ONBOARDED,
            Change::Transferred { .. } => TRANSFERRED,
            Change::Offboarded => OFFBOARDED,
        }
    }
}

/// A request to converge one employee to what the directory and policy say, everywhere or in
/// one account. Enqueued by `account-created` and `reconcile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncItem {
    pub event_id: EventId,
    pub employee_id: EmployeeId,
    pub account_id: Option<AccountId>,
}

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(s: &str) -> Result<AccountId, Rejection> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(s.to_owned()))
        } else {
            Err(Rejection::new("account id must be exactly 12 digits"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What `people-events` may be asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    Hr(HrEvent),
    Sync(SyncItem),
}

impl Inbound {
    pub fn event_id(&self) -> &EventId {
        match self {
            Inbound::Hr(e) => &e.event_id,
            Inbound::Sync(s) => &s.event_id,
        }
    }

    pub fn employee_id(&self) -> &EmployeeId {
        match self {
            Inbound::Hr(e) => &e.employee_id,
            Inbound::Sync(s) => &s.employee_id,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OnboardedDetail {
    employee_id: String,
    email: String,
    team: String,
    given_name: Option<String>,
    family_name: Option<String>,
    effective_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TransferredDetail {
    employee_id: String,
    email: String,
    team: String,
    effective_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OffboardedDetail {
    employee_id: String,
    effective_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SyncDetail {
    employee_id: String,
    account_id: Option<String>,
}

fn detail<T: serde::de::DeserializeOwned>(env: &Envelope) -> Result<T, Rejection> {
    T::deserialize(&env.detail)
        .map_err(|e| Rejection::new(format!("`{}` detail is not valid: {e}", env.detail_type)))
}

/// Parses the event `people-events` receives: an HR event from the policy's HR source, or a
/// Gatehouse `Employee Sync` work item. Anything else is refused.
pub fn parse_inbound(bytes: &[u8], policy: &Policy) -> Result<Inbound, Rejection> {
    let env = Envelope::parse(bytes)?;
    let event_id = EventId::parse(&env.id)?;
    let time = Instant::parse_rfc3339("time", &env.time).map_err(|r| r.with_event(&event_id))?;
    let result = if env.source == policy.hr_source {
        parse_hr(&env, event_id.clone(), time, policy).map(Inbound::Hr)
    } else if env.source == GATEHOUSE_SOURCE && env.detail_type == SYNC {
        parse_sync(&env, event_id.clone()).map(Inbound::Sync)
    } else {
        Err(Rejection::new(format!(
            "source `{}` with detail-type `{}` is not an event Gatehouse accepts here",
            env.source, env.detail_type
        )))
    };
    result.map_err(|r| r.with_event(&event_id))
}

fn parse_hr(
    env: &Envelope,
    event_id: EventId,
    time: Instant,
    policy: &Policy,
) -> Result<HrEvent, Rejection> {
    let effective = |s: Option<String>| match s {
        Some(s) => Instant::parse_rfc3339("effectiveAt", &s),
        None => Ok(time),
    };
    let optional_name =
        |field: &str, s: Option<String>| s.map(|s| parse_person_name(field, &s)).transpose();
    // Each step validates one field; the employee id, once valid, is attached to any later
    // rejection so that the outcome event can say whose request was refused.
    let (employee_id, effective_at, change) = match env.detail_type.as_str() {
        ONBOARDED => {
            let d: OnboardedDetail = detail(env)?;
            let id = EmployeeId::parse(&d.employee_id)?;
            let with_id = |mut r: Rejection| {
                r.employee_id = Some(id.clone());
                r
            };
            let change = Change::Onboarded {
                email: Email::parse(&d.email).map_err(with_id)?,
                team: Team::parse(&d.team, policy).map_err(with_id)?,
                given_name: optional_name("givenName", d.given_name).map_err(with_id)?,
                family_name: optional_name("familyName", d.family_name).map_err(with_id)?,
            };
            (
                id.clone(),
                effective(d.effective_at).map_err(with_id)?,
                change,
            )
        }
        TRANSFERRED => {
            let d: TransferredDetail = detail(env)?;
            let id = EmployeeId::parse(&d.employee_id)?;
            let with_id = |mut r: Rejection| {
                r.employee_id = Some(id.clone());
                r
            };
            let change = Change::Transferred {
                email: Email::parse(&d.email).map_err(with_id)?,
                team: Team::parse(&d.team, policy).map_err(with_id)?,
            };
            (
                id.clone(),
                effective(d.effective_at).map_err(with_id)?,
                change,
            )
        }
        OFFBOARDED => {
            let d: OffboardedDetail = detail(env)?;
            let id = EmployeeId::parse(&d.employee_id)?;
            let at = effective(d.effective_at).map_err(|mut r| {
                r.employee_id = Some(id.clone());
                r
            })?;
            (id, at, Change::Offboarded)
        }
        other => {
            return Err(Rejection::new(format!("unknown HR detail-type `{other}`")));
        }
    };
    Ok(HrEvent {
        event_id,
        employee_id,
        effective_at,
        change,
    })
}

fn parse_sync(env: &Envelope, event_id: EventId) -> Result<SyncItem, Rejection> {
    let d: SyncDetail = detail(env)?;
    let employee_id = EmployeeId::parse(&d.employee_id)?;
    let account_id = d
        .account_id
        .map(|a| AccountId::parse(&a))
        .transpose()
        .map_err(|mut r| {
            r.employee_id = Some(employee_id.clone());
            r
        })?;
    Ok(SyncItem {
        event_id,
        employee_id,
        account_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::builtin().expect("built-in policy is valid")
    }

    fn envelope(detail_type: &str, detail: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "version": "0",
            "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": detail_type,
            "source": "com.example.hr",
            "account": "111122223333",
            "time": "2026-11-02T09:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": detail,
        }))
        .unwrap()
    }

    fn onboarding(detail: serde_json::Value) -> Result<Inbound, Rejection> {
        parse_inbound(&envelope(ONBOARDED, detail), &policy())
    }

    #[test]
    fn onboarding_parses_and_defaults_effective_at_to_envelope_time() {
        let Inbound::Hr(e) = onboarding(serde_json::json!({
            "employeeId": "E1001", "email": "Ada.Lovelace@Example.com", "team": "engineering",
            "givenName": "Ada", "familyName": "Lovelace"
        }))
        .unwrap() else {
            panic!("not an HR event")
        };
        assert_eq!(e.employee_id.as_str(), "E1001");
        assert_eq!(e.effective_at.rfc3339(), "2026-11-02T09:00:00Z");
        let Change::Onboarded { email, team, .. } = e.change else {
            panic!()
        };
        assert_eq!(email.user_name(), "ada.lovelace@example.com");
        assert_eq!(team.as_str(), "engineering");
    }

    #[test]
    fn effective_at_overrides_envelope_time() {
        let Inbound::Hr(e) = onboarding(serde_json::json!({
            "employeeId": "E1", "email": "a@example.com", "team": "qe",
            "effectiveAt": "2026-11-01T10:00:00+02:00"
        }))
        .unwrap() else {
            panic!()
        };
        assert_eq!(e.effective_at.rfc3339(), "2026-11-01T08:00:00Z");
    }

    #[test]
    fn bad_onboardings_are_rejected_with_a_reason() {
        let cases = [
            serde_json::json!({"email": "a@example.com", "team": "qe"}),
            serde_json::json!({"employeeId": 42, "email": "a@example.com", "team": "qe"}),
            serde_json::json!({"employeeId": "E1", "email": "a@example.com", "team": "pirates"}),
            serde_json::json!({"employeeId": "E1", "email": "not-an-email", "team": "qe"}),
            serde_json::json!({"employeeId": "E1", "email": " a@example.com", "team": "qe"}),
            serde_json::json!({"employeeId": "E1", "email": "a@exаmple.com", "team": "qe"}),
            serde_json::json!({"employeeId": "E1", "email": "a/b@example.com", "team": "qe"}),
            serde_json::json!({"employeeId": "E1", "email": "a@example", "team": "qe"}),
            serde_json::json!({"employeeId": "../E1", "email": "a@example.com", "team": "qe"}),
            serde_json::json!({"employeeId": "E1", "email": "a@example.com", "team": "qe", "admin": true}),
            serde_json::json!({"employeeId": "E1", "email": "a@example.com", "team": "qe", "effectiveAt": "yesterday"}),
            serde_json::json!({"employeeId": "E1", "email": "a@example.com", "team": "qe", "givenName": "A\u{7}"}),
        ];
        for detail in cases {
            let r = onboarding(detail.clone()).expect_err(&detail.to_string());
            assert!(!r.reason.is_empty());
            assert_eq!(
                r.event_id.as_deref(),
                Some("6a7e8feb-b491-4cf7-a9f1-bf3703467718")
            );
        }
    }

    #[test]
    fn an_email_longer_than_iam_allows_is_refused_not_truncated() {
        let local = "a".repeat(53); // 53 + "@example.com" (12) = 65
        let r = Email::parse(&format!("{local}@example.com")).unwrap_err();
        assert!(r.reason.contains("64"), "{}", r.reason);
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(52))).is_ok());
    }

    #[test]
    fn foreign_sources_and_unknown_detail_types_are_refused() {
        let mut v: serde_json::Value =
            serde_json::from_slice(&envelope(ONBOARDED, serde_json::json!({}))).unwrap();
        v["source"] = "com.evil.hr".into();
        let r = parse_inbound(&serde_json::to_vec(&v).unwrap(), &policy()).unwrap_err();
        assert!(r.reason.contains("com.evil.hr"));
        let r = parse_inbound(
            &envelope("Employee Promoted", serde_json::json!({})),
            &policy(),
        )
        .unwrap_err();
        assert!(r.reason.contains("Employee Promoted"));
    }

    #[test]
    fn oversized_and_malformed_json_are_refused() {
        let big = vec![b' '; MAX_EVENT_BYTES + 1];
        assert!(parse_inbound(&big, &policy())
            .unwrap_err()
            .reason
            .contains("bytes"));
        assert!(parse_inbound(b"{\"id\": ", &policy()).is_err());
        assert!(parse_inbound(b"[]", &policy()).is_err());
    }

    #[test]
    fn sync_items_parse_with_and_without_account() {
        let mut v: serde_json::Value = serde_json::from_slice(&envelope(
            SYNC,
            serde_json::json!({"employeeId": "E1", "accountId": "123456789012"}),
        ))
        .unwrap();
        v["source"] = GATEHOUSE_SOURCE.into();
        let Inbound::Sync(s) = parse_inbound(&serde_json::to_vec(&v).unwrap(), &policy()).unwrap()
        else {
            panic!()
        };
        assert_eq!(s.account_id.unwrap().as_str(), "123456789012");
        v["detail"] = serde_json::json!({"employeeId": "E1", "accountId": "12345"});
        assert!(parse_inbound(&serde_json::to_vec(&v).unwrap(), &policy()).is_err());
    }

    #[test]
    fn offboarding_needs_only_the_employee_id() {
        let Inbound::Hr(e) = parse_inbound(
            &envelope(OFFBOARDED, serde_json::json!({"employeeId": "E7"})),
            &policy(),
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(e.change, Change::Offboarded);
    }
}
