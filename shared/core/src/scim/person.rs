//! What a SCIM user means to Gatehouse, and which HR events a change to it is.
//!
//! A user is *entitled* when it is active and has an employee id, a work e-mail and a team:
//! exactly what an `Employee Onboarded` needs. Every SCIM write compares the user's
//! entitlement before and after and emits what an HR system would have sent for that change
//! ([`changes`]); everything downstream (ordering, staleness, the production allow-list) is
//! `people-events`' as for any HR event.

use serde_json::{Map, Value};

use super::error::ScimError;
use super::ENTERPRISE_URN;
use crate::hr_event::{parse_person_name, Change};
use crate::ids::{Email, EmployeeId, Team};
use crate::policy::{EmployeeIdSource, Policy, TeamSource};

/// What Gatehouse reads of a stored SCIM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub employee_id: Option<EmployeeId>,
    pub active: bool,
    emails: Vec<Value>,
    department: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
}

/// An active user with everything an onboarding needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entitlement {
    pub employee_id: EmployeeId,
    pub email: Email,
    pub team: Team,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

impl Entitlement {
    /// The onboarding that grants this entitlement.
    pub fn onboarding(&self) -> (EmployeeId, Change) {
        (
            self.employee_id.clone(),
            Change::Onboarded {
                email: self.email.clone(),
                team: self.team.clone(),
                given_name: self.given_name.clone(),
                family_name: self.family_name.clone(),
            },
        )
    }
}

/// Reads the user. The employee id is the attribute the policy names (`[scim]
/// employee_id_from`); when present it must be a valid employee id, or the write is refused
/// (an identity key Gatehouse cannot use is not silently dropped).
pub fn person(stored: &Map<String, Value>, source: EmployeeIdSource) -> Result<Person, ScimError> {
    let extension = stored.get(ENTERPRISE_URN);
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let (field, raw) = match source {
        EmployeeIdSource::EmployeeNumber => (
            "employeeNumber",
            text(extension.and_then(|e| e.get("employeeNumber"))),
        ),
        EmployeeIdSource::ExternalId => ("externalId", text(stored.get("externalId"))),
    };
    let employee_id = raw
        .map(|r| EmployeeId::parse(&r))
        .transpose()
        .map_err(|e| {
            ScimError::invalid_value(format!("`{field}` is Gatehouse's employee id: {e}"))
        })?;
    let name = stored.get("name");
    Ok(Person {
        employee_id,
        // Only `active: true` opens access: a user whose `active` is absent has none.
        active: stored.get("active") == Some(&Value::Bool(true)),
        emails: match stored.get("emails") {
            Some(Value::Array(e)) => e.clone(),
            _ => Vec::new(),
        },
        department: text(extension.and_then(|e| e.get("department"))),
        given_name: text(name.and_then(|n| n.get("givenName"))),
        family_name: text(name.and_then(|n| n.get("familyName"))),
    })
}

/// The user's team when the policy takes teams from the enterprise `department`: the team of
/// exactly that name, or none (a department that is no team gets no access).
pub fn department_team(person: &Person, policy: &Policy) -> Option<Team> {
    person
        .department
        .as_deref()
        .and_then(|d| policy.team(d).ok())
}

/// The user's team when the policy takes teams from groups: the one team among the names of
/// the groups the user belongs to. In two team groups at once (an identity provider moving
/// someone adds the new group before it removes the old), the team stays what it was, if it is
/// one of them, and is none otherwise: never a team the provider does not say.
pub fn group_team<'a>(
    groups: impl IntoIterator<Item = &'a str>,
    previous: Option<&Team>,
    policy: &Policy,
) -> Option<Team> {
    let teams: Vec<Team> = groups
        .into_iter()
        .filter_map(|g| policy.team(g).ok())
        .collect();
    match teams.as_slice() {
        [one] => Some(one.clone()),
        _ => previous.filter(|p| teams.contains(p)).cloned(),
    }
}

/// The team, by the policy's `[scim] teams_from`.
pub fn team(
    person: &Person,
    groups: &[&str],
    previous: Option<&Team>,
    policy: &Policy,
) -> Option<Team> {
    match policy.scim.teams_from {
        TeamSource::Department => department_team(person, policy),
        TeamSource::Groups => group_team(groups.iter().copied(), previous, policy),
    }
}

/// The user's entitlement with `team`, if it is active with an employee id and a team. Its
/// work e-mail (the primary one, or the only one) and names must then pass the HR event's
/// rules, or the write is refused: an onboarding that cannot be sent is not stored as done.
pub fn entitlement(person: &Person, team: Option<Team>) -> Result<Option<Entitlement>, ScimError> {
    let (Some(employee_id), Some(team), true) = (&person.employee_id, team, person.active) else {
        return Ok(None);
    };
    let primary: Vec<&Value> = person
        .emails
        .iter()
        .filter(|e| e["primary"] == Value::Bool(true))
        .collect();
    let work = match (primary.as_slice(), person.emails.as_slice()) {
        ([one], _) => one["value"].as_str(),
        ([], [one]) => one["value"].as_str(),
        _ => None,
    };
    let Some(work) = work else {
        return Err(ScimError::invalid_value(
            "an active user with an employee id and a team needs a work e-mail: one primary \
             address in `emails` (or exactly one address)",
        ));
    };
    let email = Email::parse(work)
        .map_err(|e| ScimError::invalid_value(format!("the primary e-mail: {e}")))?;
    let name = |field: &str, n: &Option<String>| {
        n.as_deref()
            .map(|n| parse_person_name(field, n))
            .transpose()
            .map_err(|e| ScimError::invalid_value(e.to_string()))
    };
    Ok(Some(Entitlement {
        employee_id: employee_id.clone(),
        email,
        team,
        given_name: name("name.givenName", &person.given_name)?,
        family_name: name("name.familyName", &person.family_name)?,
    }))
}

/// The HR events that take a person from `before` to `after`. `deactivated` says the request
/// itself closed the user (`active: false`, or DELETE): an offboarding is then sent for the
/// employee id even if Gatehouse thought them closed already, so that an identity provider
/// repeating a deactivation always reaches every account.
pub fn changes(
    before: Option<&Entitlement>,
    after: Option<&Entitlement>,
    deactivated: Option<&EmployeeId>,
) -> Vec<(EmployeeId, Change)> {
    let mut out = match (before, after) {
        (None, None) => Vec::new(),
        (None, Some(a)) => vec![a.onboarding()],
        (Some(b), None) => vec![(b.employee_id.clone(), Change::Offboarded)],
        (Some(b), Some(a)) if b.employee_id != a.employee_id => {
            vec![(b.employee_id.clone(), Change::Offboarded), a.onboarding()]
        }
        (Some(b), Some(a)) if b.team != a.team || b.email != a.email => vec![(
            a.employee_id.clone(),
            Change::Transferred {
                email: a.email.clone(),
                team: a.team.clone(),
            },
        )],
        (Some(_), Some(_)) => Vec::new(),
    };
    if let Some(id) = deactivated {
        let sent = out.iter().any(|(e, c)| e == id && *c == Change::Offboarded);
        if !sent {
            out.push((id.clone(), Change::Offboarded));
        }
    }
    out
}
