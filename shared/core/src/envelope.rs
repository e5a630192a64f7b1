//! The EventBridge envelope every inbound event arrives in, and [`Rejection`]: why an input can
//! never succeed. Both HR events ([`crate::hr_event`]) and account events
//! ([`crate::account_event`]) are parsed from an envelope.

use serde::Deserialize;

use crate::ids::{EmployeeId, EventId, Invalid};

/// Largest event Gatehouse accepts, in bytes. An HR event is a handful of short fields; anything
/// near EventBridge's own 256 KiB limit is not an HR event, and parsing it is wasted work.
pub const MAX_EVENT_BYTES: usize = 16 * 1024;

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

    /// The same rejection, naming the event it refuses.
    pub fn for_event(mut self, id: &EventId) -> Self {
        self.event_id = Some(id.as_str().to_owned());
        self
    }

    /// The same rejection, naming the employee the refused event speaks of.
    pub fn for_employee(mut self, id: &EmployeeId) -> Self {
        self.employee_id = Some(id.clone());
        self
    }
}

impl From<Invalid> for Rejection {
    fn from(invalid: Invalid) -> Self {
        Rejection::new(invalid.0)
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
    /// The account the event came from, as EventBridge sets it (a sender cannot choose it).
    /// Absent from Gatehouse's own work items, which never pass through the bus.
    #[serde(default)]
    pub account: Option<String>,
    pub time: String,
    pub detail: serde_json::Value,
}

/// At most this many characters of a value a sender chose are echoed into a reason.
const ECHO_CHARS: usize = 64;

/// `value` as a reason may quote it: in backquotes, cut to a bounded length (and marked so) so
/// that a sender cannot make outcomes and log lines as long as it likes.
pub fn quoted(value: &str) -> String {
    if value.chars().count() <= ECHO_CHARS {
        return format!("`{value}`");
    }
    let cut: String = value.chars().take(ECHO_CHARS).collect();
    format!("`{cut}`… ({} characters)", value.chars().count())
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
        unique_keys(bytes)?;
        serde_json::from_slice(bytes)
            .map_err(|e| Rejection::new(format!("not an EventBridge envelope: {e}")))
    }
}

/// Refuses JSON in which an object names a key twice, at any depth. Parsers disagree on which
/// one counts (serde keeps the last, others the first), so such an event can be read as two
/// different events: `{"employeeId":"E1","employeeId":"E9001"}` is nobody's request.
pub fn unique_keys(bytes: &[u8]) -> Result<(), Rejection> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match UniqueKeys.deserialize(&mut de) {
        Ok(()) => Ok(()),
        // Invalid JSON is for the real parse to describe; only duplicates are refused here.
        Err(e) if e.is_data() => Err(Rejection::new(e.to_string())),
        Err(_) => Ok(()),
    }
}

/// Walks a JSON value, failing on the first object that repeats a key.
struct UniqueKeys;

impl<'de> serde::de::DeserializeSeed<'de> for UniqueKeys {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for UniqueKeys {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(UniqueKeys)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!(
                    "the key {} appears twice in one object",
                    quoted(&key)
                )));
            }
            map.next_value_seed(UniqueKeys)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_input_is_refused_before_it_is_read() {
        let big = vec![b' '; MAX_EVENT_BYTES + 1];
        let r = Envelope::parse(&big).unwrap_err();
        assert!(r.reason.contains("bytes"), "{}", r.reason);
        assert!(r.event_id.is_none());
    }

    #[test]
    fn a_key_named_twice_is_refused_at_any_depth() {
        let r = Envelope::parse(
            br#"{"id":"1","detail-type":"x","source":"s","time":"t",
                 "detail":{"employeeId":"E1","employeeId":"E9001"}}"#,
        )
        .unwrap_err();
        assert!(
            r.reason.contains("employeeId") && r.reason.contains("twice"),
            "{}",
            r.reason
        );
        assert!(Envelope::parse(
            br#"{"id":"1","id":"2","detail-type":"x","source":"s","time":"t","detail":{}}"#
        )
        .is_err());
        assert!(unique_keys(br#"{"a":[{"b":1},{"b":2}],"c":{"b":{"b":3}}}"#).is_ok());
        assert!(unique_keys(br#"{"a":[{"b":1,"b":2}]}"#).is_err());
        // Broken JSON is left for the real parse to describe.
        assert!(unique_keys(b"{\"a\": ").is_ok());
        assert!(Envelope::parse(b"{\"a\": ")
            .unwrap_err()
            .reason
            .starts_with("not an"));
    }

    #[test]
    fn echoed_values_are_bounded() {
        assert_eq!(quoted("com.example.hr"), "`com.example.hr`");
        let long = "x".repeat(1000);
        let q = quoted(&long);
        assert!(q.len() < 100, "{q}");
        assert!(q.ends_with("(1000 characters)"), "{q}");
        assert_eq!(quoted(&"y".repeat(64)), format!("`{}`", "y".repeat(64)));
    }

    #[test]
    fn a_rejection_names_what_it_could_identify() {
        let r = Rejection::from(Invalid("why".into()))
            .for_event(&EventId::parse("ev-1").unwrap())
            .for_employee(&EmployeeId::parse("E1").unwrap());
        assert_eq!(r.reason, "why");
        assert_eq!(r.event_id.as_deref(), Some("ev-1"));
        assert_eq!(r.employee_id.unwrap().as_str(), "E1");
    }

    #[test]
    fn an_event_of_exactly_the_limit_is_read() {
        let mut event =
            br#"{"id":"1","detail-type":"x","source":"s","time":"t","detail":{}}"#.to_vec();
        event.resize(MAX_EVENT_BYTES, b' ');
        assert!(Envelope::parse(&event).is_ok());
        event.push(b' ');
        assert!(Envelope::parse(&event).is_err());
    }
}
