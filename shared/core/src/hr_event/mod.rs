//! HR events and Gatehouse work items: what `people-events` is asked to do.
//!
//! Everything here is pure: bytes in, a validated [`Inbound`] or a [`Rejection`] out. Field
//! rules live with the identifier types ([`crate::ids`]); which sources and teams count is the
//! policy's ([`crate::policy`]).

use serde::Deserialize;

use crate::envelope::{quoted, Envelope, Rejection};
use crate::ids::{AccountId, Email, EmployeeId, EventId, Invalid, Team, Timestamp};
use crate::names::{GATEHOUSE_SOURCE, OFFBOARDED, ONBOARDED, SYNC, TRANSFERRED};
use crate::policy::Policy;

/// A person's given or family name: 1–128 characters, none of them a control or format
/// character. Names are carried into the directory only; they never become IAM names or tags.
pub(crate) fn parse_person_name(field: &str, s: &str) -> Result<String, Invalid> {
    if s.is_empty()
        || s.chars().count() > 128
        || s.chars().any(|c| c.is_control() || is_format_character(c))
    {
        return Err(Invalid(format!(
            "`{field}` must be 1-128 characters without control or format characters"
        )));
    }
    Ok(s.to_owned())
}

/// Unicode's format characters (general category Cf) and the line and paragraph separators:
/// invisible, and some reorder the text around them (the bidirectional overrides), so that a
/// name displays as something other than what it is.
fn is_format_character(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}'
        | '\u{0890}'..='\u{0891}' | '\u{08E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
        | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// A validated HR event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HrEvent {
    pub event_id: EventId,
    pub employee_id: EmployeeId,
    pub effective_at: Timestamp,
    pub change: Change,
}

impl HrEvent {
    /// The event as an HR system puts it on the bus, from `account` with `source`: what
    /// [`parse_inbound`] reads back as this very event. (The SCIM front door and the tests
    /// send HR events this way.)
    pub fn to_envelope(&self, source: &str, account: &str) -> serde_json::Value {
        let detail = detail_of(&self.employee_id, self.effective_at, &self.change);
        serde_json::json!({
            "version": "0",
            "id": self.event_id.as_str(),
            "detail-type": self.change.detail_type(),
            "source": source,
            "account": account,
            "time": self.effective_at.rfc3339(),
            "region": "us-east-1",
            "resources": [],
            "detail": detail,
        })
    }
}

/// The `detail` of the HR event that is `change` for `employee_id`, effective at `at`.
pub fn detail_of(employee_id: &EmployeeId, at: Timestamp, change: &Change) -> serde_json::Value {
    let mut detail = serde_json::json!({
        "employeeId": employee_id,
        "effectiveAt": at.rfc3339(),
    });
    match change {
        Change::Onboarded {
            email,
            team,
            given_name,
            family_name,
        } => {
            detail["email"] = email.as_str().into();
            detail["team"] = team.as_str().into();
            if let Some(n) = given_name {
                detail["givenName"] = n.as_str().into();
            }
            if let Some(n) = family_name {
                detail["familyName"] = n.as_str().into();
            }
        }
        Change::Transferred { email, team } => {
            detail["email"] = email.as_str().into();
            detail["team"] = team.as_str().into();
        }
        Change::Offboarded => {}
    }
    detail
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

/// How far ahead of the clock an HR event may be dated: clocks differ a little, HR systems do
/// not send tomorrow's changes today.
pub const FUTURE_SKEW_SECONDS: i64 = 300;

/// Parses the event `people-events` receives at `now`: an HR event from the policy's HR source
/// and HR accounts, or a Gatehouse `Employee Sync` work item. Anything else is refused.
///
/// An HR event dated (by `effectiveAt`, or the envelope's `time`) more than
/// [`FUTURE_SKEW_SECONDS`] after `now` is refused: recorded, a future onboarding would outrank
/// every offboarding dated before it and received after it, so that a leaver (or a mistyped
/// year) kept access until then. Gatehouse acts on changes when they take effect; the HR system
/// sends them then.
pub fn parse_inbound(bytes: &[u8], policy: &Policy, now: Timestamp) -> Result<Inbound, Rejection> {
    let env = Envelope::parse(bytes)?;
    let event_id = EventId::parse(&env.id)?;
    let result = Timestamp::parse_rfc3339("time", &env.time)
        .map_err(Rejection::from)
        .and_then(|time| {
            if env.source == policy.hr_source {
                from_hr_account(&env, policy)?;
                let event = parse_hr(&env, event_id.clone(), time, policy)?;
                not_in_the_future(&event, now)?;
                Ok(Inbound::Hr(event))
            } else if env.source == GATEHOUSE_SOURCE && env.detail_type == SYNC {
                parse_sync(&env, event_id.clone()).map(Inbound::Sync)
            } else {
                Err(Rejection::new(format!(
                    "source {} with detail-type {} is not an event Gatehouse accepts here",
                    quoted(&env.source),
                    quoted(&env.detail_type)
                )))
            }
        });
    result.map_err(|r| r.for_event(&event_id))
}

fn not_in_the_future(event: &HrEvent, now: Timestamp) -> Result<(), Rejection> {
    let skew = i128::from(FUTURE_SKEW_SECONDS) * 1_000_000_000;
    if event.effective_at.unix_nanos() > now.unix_nanos() + skew {
        return Err(Rejection::new(format!(
            "the event takes effect at {}, in the future: Gatehouse acts on a change when it \
             takes effect, so send it then",
            event.effective_at
        ))
        .for_employee(&event.employee_id));
    }
    Ok(())
}

/// HR events are trusted only from the accounts the policy names: the bus policy lets only
/// those put events, and this refuses any that reached the function another way (a direct
/// rule, a direct invocation, a sender inside the functions' own account).
fn from_hr_account(env: &Envelope, policy: &Policy) -> Result<(), Rejection> {
    match env.account.as_deref() {
        Some(account) if policy.is_hr_account(account) => Ok(()),
        Some(account) => Err(Rejection::new(format!(
            "account {} is not one of the policy's hr_accounts",
            quoted(account)
        ))),
        None => Err(Rejection::new(
            "an HR event must name the account it came from (`account`)",
        )),
    }
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
            return Err(Rejection::new(format!(
                "unknown HR detail-type {}",
                quoted(other)
            )));
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
mod tests;
