//! HR events and Gatehouse work items: what `people-events` is asked to do.
//!
//! Everything here is pure: bytes in, a validated [`Inbound`] or a [`Rejection`] out. Field
//! rules live with the identifier types ([`crate::ids`]); which sources and teams count is the
//! policy's ([`crate::policy`]).

use serde::Deserialize;

use crate::envelope::{Envelope, Rejection};
use crate::ids::{AccountId, Email, EmployeeId, EventId, Invalid, Team, Timestamp};
use crate::names::{GATEHOUSE_SOURCE, OFFBOARDED, ONBOARDED, SYNC, TRANSFERRED};
use crate::policy::Policy;

/// A person's given or family name: 1–128 characters, no control characters. Names are carried
/// into the directory only; they never become IAM names or tags.
fn parse_person_name(field: &str, s: &str) -> Result<String, Invalid> {
    if s.is_empty() || s.chars().count() > 128 || s.chars().any(char::is_control) {
        return Err(Invalid(format!(
            "`{field}` must be 1-128 characters without control characters"
        )));
    }
    Ok(s.to_owned())
}

/// A validated HR event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HrEvent {
    pub event_id: EventId,
    pub employee_id: EmployeeId,
    pub effective_at: Timestamp,
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
    let result = Timestamp::parse_rfc3339("time", &env.time)
        .map_err(Rejection::from)
        .and_then(|time| {
            if env.source == policy.hr_source {
                parse_hr(&env, event_id.clone(), time, policy).map(Inbound::Hr)
            } else if env.source == GATEHOUSE_SOURCE && env.detail_type == SYNC {
                parse_sync(&env, event_id.clone()).map(Inbound::Sync)
            } else {
                Err(Rejection::new(format!(
                    "source `{}` with detail-type `{}` is not an event Gatehouse accepts here",
                    env.source, env.detail_type
                )))
            }
        });
    result.map_err(|r| r.for_event(&event_id))
}

fn parse_hr(
    env: &Envelope,
    event_id: EventId,
    time: Timestamp,
    policy: &Policy,
) -> Result<HrEvent, Rejection> {
    let effective = |s: Option<String>| match s {
        Some(s) => Timestamp::parse_rfc3339("effectiveAt", &s),
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
            let fields = || -> Result<_, Invalid> {
                let change = Change::Onboarded {
                    email: Email::parse(&d.email)?,
                    team: policy.team(&d.team)?,
                    given_name: optional_name("givenName", d.given_name.clone())?,
                    family_name: optional_name("familyName", d.family_name.clone())?,
                };
                Ok((effective(d.effective_at.clone())?, change))
            };
            let (at, change) = fields().map_err(|e| Rejection::from(e).for_employee(&id))?;
            (id, at, change)
        }
        TRANSFERRED => {
            let d: TransferredDetail = detail(env)?;
            let id = EmployeeId::parse(&d.employee_id)?;
            let fields = || -> Result<_, Invalid> {
                let change = Change::Transferred {
                    email: Email::parse(&d.email)?,
                    team: policy.team(&d.team)?,
                };
                Ok((effective(d.effective_at.clone())?, change))
            };
            let (at, change) = fields().map_err(|e| Rejection::from(e).for_employee(&id))?;
            (id, at, change)
        }
        OFFBOARDED => {
            let d: OffboardedDetail = detail(env)?;
            let id = EmployeeId::parse(&d.employee_id)?;
            let at = effective(d.effective_at).map_err(|e| Rejection::from(e).for_employee(&id))?;
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
        .map_err(|e| Rejection::from(e).for_employee(&employee_id))?;
    Ok(SyncItem {
        event_id,
        employee_id,
        account_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::MAX_EVENT_BYTES;

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

    #[test]
    fn person_names_are_one_to_128_characters_without_controls() {
        assert_eq!(parse_person_name("givenName", "Ada").unwrap(), "Ada");
        assert!(parse_person_name("givenName", &"é".repeat(128)).is_ok());
        for bad in [
            String::new(),
            "é".repeat(129),
            "A\u{7}".into(),
            "A\nB".into(),
        ] {
            let e = parse_person_name("givenName", &bad).unwrap_err();
            assert!(e.0.contains("givenName"), "{bad:?}");
        }
    }

    #[test]
    fn each_change_names_its_detail_type() {
        let email = Email::parse("a@example.com").unwrap();
        let team = Team::from_record("qe".into());
        let onboarded = Change::Onboarded {
            email: email.clone(),
            team: team.clone(),
            given_name: None,
            family_name: None,
        };
        assert_eq!(onboarded.detail_type(), "Employee Onboarded");
        assert_eq!(
            Change::Transferred { email, team }.detail_type(),
            "Employee Transferred"
        );
        assert_eq!(Change::Offboarded.detail_type(), "Employee Offboarded");
    }

    #[test]
    fn a_work_item_is_accepted_only_from_gatehouse_itself() {
        let item = |source: &str, detail_type: &str| {
            let mut v: serde_json::Value = serde_json::from_slice(&envelope(
                detail_type,
                serde_json::json!({"employeeId": "E1"}),
            ))
            .unwrap();
            v["source"] = source.into();
            parse_inbound(&serde_json::to_vec(&v).unwrap(), &policy())
        };
        assert!(matches!(item(GATEHOUSE_SOURCE, SYNC), Ok(Inbound::Sync(_))));
        // A forged work item from anyone else, even the HR source, is refused.
        assert!(item("com.evil.hr", SYNC).is_err());
        assert!(item("com.example.hr", SYNC).is_err());
        // Gatehouse's own source with an HR detail-type is not an HR event.
        assert!(item(GATEHOUSE_SOURCE, OFFBOARDED).is_err());
    }

    #[test]
    fn a_rejection_names_the_event_and_the_employee_once_known() {
        let r = onboarding(serde_json::json!({
            "employeeId": "E1", "email": "a@example.com", "team": "pirates"
        }))
        .unwrap_err();
        assert_eq!(r.employee_id.unwrap().as_str(), "E1");
        let r = parse_inbound(
            &envelope(
                OFFBOARDED,
                serde_json::json!({"employeeId": "E1", "effectiveAt": "soon"}),
            ),
            &policy(),
        )
        .unwrap_err();
        assert_eq!(r.employee_id.unwrap().as_str(), "E1");
        assert!(r.event_id.is_some());
    }
}
