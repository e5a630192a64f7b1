//! Validated identifiers: what an event id, an employee id, a work e-mail, an account id, a team
//! and a timestamp may be. Each type can only be built by parsing (or, for values Gatehouse
//! itself wrote, by an explicit `from_record`), so a value of one of these types has passed its
//! rules. The rules are exact on purpose: input that is not exactly valid is refused, never
//! trimmed, guessed or repaired. An access system that "fixes" an e-mail address grants access
//! to somebody else.
//!
//! This module sits below everything else in the crate: it imports nothing of it.

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Why a value is not a valid identifier. The reason names the field and the rule, never
/// echoes the value (it may be anything a sender chose to put there).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// An EventBridge event id: what makes a delivery recognisable when it comes again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(String);

impl EventId {
    /// 1–128 characters of letters, digits and `-_.:`. EventBridge ids are UUIDs; SQS
    /// deduplication ids and IAM session names are built from them, so nothing else may pass.
    pub fn parse(s: &str) -> Result<EventId, Invalid> {
        let ok = (1..=128).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        if ok {
            Ok(EventId(s.to_owned()))
        } else {
            Err(Invalid(
                "event `id` must be 1-128 characters of letters, digits and -_.:".into(),
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
    pub fn parse(s: &str) -> Result<EmployeeId, Invalid> {
        let b = s.as_bytes();
        let ok = (1..=64).contains(&b.len())
            && b[0].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c));
        if ok {
            Ok(EmployeeId(s.to_owned()))
        } else {
            Err(Invalid(
                "`employeeId` must be 1-64 characters of letters, digits and ._- starting with a letter or digit".into(),
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
/// dot; the domain is two or more dot-separated labels of letters, digits and inner hyphens; 64
/// characters at most, IAM's limit for a user name. A longer address is refused, never
/// truncated: a truncated name could be somebody else's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Email, Invalid> {
        let bad = |why: &str| Err(Invalid(format!("`email` {why}")));
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

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(s: &str) -> Result<AccountId, Invalid> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(s.to_owned()))
        } else {
            Err(Invalid("account id must be exactly 12 digits".into()))
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

/// A team of the access policy. Only the policy makes one from input
/// ([`Policy::team`](crate::policy::Policy::team)), so a `Team` names a team the policy defines.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Team(String);

impl Team {
    /// A team name read back from Gatehouse's own records (directory, tags) or from a loaded
    /// policy, trusted as written.
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

/// A point in (wall-clock) time that orders one employee's events. Not to be confused with
/// `std::time::Instant`, the monotonic clock that measures how long something took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Parses the RFC 3339 timestamp in `field`.
    pub fn parse_rfc3339(field: &str, s: &str) -> Result<Timestamp, Invalid> {
        OffsetDateTime::parse(s, &Rfc3339)
            .map(Timestamp)
            .map_err(|_| Invalid(format!("`{field}` must be an RFC 3339 timestamp")))
    }

    pub fn from_unix_nanos(n: i128) -> Option<Timestamp> {
        OffsetDateTime::from_unix_timestamp_nanos(n)
            .ok()
            .map(Timestamp)
    }

    pub fn now() -> Timestamp {
        Timestamp(OffsetDateTime::now_utc())
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

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_longer_than_iam_allows_is_refused_not_truncated() {
        let local = "a".repeat(53); // 53 + "@example.com" (12) = 65
        let r = Email::parse(&format!("{local}@example.com")).unwrap_err();
        assert!(r.0.contains("64"), "{}", r.0);
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(52))).is_ok());
    }

    #[test]
    fn user_names_are_the_lower_cased_address() {
        let e = Email::parse("Ada.Lovelace@Example.com").unwrap();
        assert_eq!(e.user_name(), "ada.lovelace@example.com");
        assert_eq!(e.as_str(), "Ada.Lovelace@Example.com");
    }

    #[test]
    fn employee_ids_are_exact() {
        for ok in ["E1", "e.1-2_3", &"a".repeat(64)] {
            assert!(EmployeeId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-E1", "../E1", "E 1", "É1", &"a".repeat(65)] {
            assert!(EmployeeId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn event_ids_fit_sqs_and_sts() {
        assert!(EventId::parse("6a7e8feb-b491-4cf7-a9f1-bf3703467718").is_ok());
        assert!(EventId::parse(&"a".repeat(128)).is_ok());
        for bad in ["", "a b", "a/b", &"a".repeat(129)] {
            assert!(EventId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(AccountId::parse("123456789012").is_ok());
        for bad in ["12345678901", "1234567890123", "12345678901a", ""] {
            assert!(AccountId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_normalise_to_utc() {
        let t = Timestamp::parse_rfc3339("t", "2026-11-01T10:00:00+02:00").unwrap();
        assert_eq!(t.rfc3339(), "2026-11-01T08:00:00Z");
        assert_eq!(Timestamp::from_unix_nanos(t.unix_nanos()), Some(t));
        assert!(Timestamp::parse_rfc3339("t", "yesterday").is_err());
    }

    #[test]
    fn local_parts_and_domains_are_exact() {
        for bad in [
            "@example.com",
            ".ada@example.com",
            "ada.@example.com",
            "a..b@example.com",
            "a b@example.com",
            "a@example..com",
            "a@.example.com",
            "a@-example.com",
            "a@example-.com",
            "a@exa_mple.com",
            "a@example",
            "a@b@example.com",
            &format!("a@{}.com", "x".repeat(64)),
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        for ok in [
            "a+b=c_d-e.f@example.com",
            "a@ex-ample.co.uk",
            &format!("a@{}.io", "x".repeat(49)),
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn identifiers_display_as_themselves() {
        assert_eq!(EventId::parse("ev-1").unwrap().to_string(), "ev-1");
        assert_eq!(EmployeeId::parse("E1").unwrap().to_string(), "E1");
        assert_eq!(
            AccountId::parse("123456789012").unwrap().to_string(),
            "123456789012"
        );
        assert_eq!(Team::from_record("qe".into()).to_string(), "qe");
        let t = Timestamp::parse_rfc3339("t", "2026-11-02T09:00:00Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-02T09:00:00Z");
    }
}
