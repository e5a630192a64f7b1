//! The employee directory (DynamoDB): the latest HR record of every employee. Writes are
//! conditional on `effectiveAt`, so an older event can never overwrite a newer one, whatever
//! order they arrive in. The directory is the truth every convergence starts from.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use crate::error::{aws, Error};
use crate::event::{Change, EmployeeId, EventId, HrEvent, Instant, Team};

/// An employee's standing, as the latest accepted HR event left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Offboarded,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Offboarded => "offboarded",
        }
    }
}

/// The directory's record of one employee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployeeRecord {
    pub employee_id: EmployeeId,
    pub status: Status,
    /// Absent only for an employee known from an offboarding alone.
    pub team: Option<Team>,
    /// The IAM user name of the current e-mail address.
    pub user_name: Option<String>,
    /// Every user name the employee has had: offboarding seals all of them.
    pub user_names: BTreeSet<String>,
    pub effective_at: Instant,
    pub event_id: EventId,
}

/// What became of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The event is the newest for this employee (or a redelivery of it); here is the record.
    Current(EmployeeRecord),
    /// A newer event is already recorded: this one changes nothing.
    Stale,
}

pub struct EmployeeDirectory {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

impl EmployeeDirectory {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        EmployeeDirectory { client, table }
    }

    /// Records `event` unless a newer event for the employee is already recorded.
    ///
    /// At the very same `effectiveAt`, an event stating the same facts (kind, e-mail, team) is
    /// accepted again, whatever its envelope id: a redelivery, or a re-publication after the first
    /// attempt failed, must converge again rather than be dismissed. An event stating different
    /// facts at the same instant loses to the one recorded first.
    pub async fn record(&self, event: &HrEvent) -> Result<Recorded, Error> {
        let mut set = vec![
            "effectiveAt = :at",
            "effectiveNanos = :n",
            "eventId = :e",
            "facts = :facts",
            "updatedAt = :now",
        ];
        let mut values = HashMap::from([
            (
                ":n".to_owned(),
                AttributeValue::N(event.effective_at.unix_nanos().to_string()),
            ),
            (":e".to_owned(), s(event.event_id.as_str())),
            (":at".to_owned(), s(&event.effective_at.rfc3339())),
            (":now".to_owned(), s(&Instant::now().rfc3339())),
            (":facts".to_owned(), s(&facts(&event.change))),
        ]);
        // The person's address and team, when the event states them.
        let person = |email: &crate::event::Email,
                      team: &Team,
                      set: &mut Vec<&str>,
                      values: &mut HashMap<String, AttributeValue>| {
            set.extend(["email = :email", "team = :team", "userName = :user"]);
            values.insert(":email".into(), s(email.as_str()));
            values.insert(":team".into(), s(team.as_str()));
            values.insert(":user".into(), s(&email.user_name()));
            email.user_name()
        };
        let user_name = match &event.change {
            Change::Onboarded {
                email,
                team,
                given_name,
                family_name,
            } => {
                set.push("#status = :status");
                values.insert(":status".into(), s(Status::Active.as_str()));
                if let Some(v) = given_name {
                    set.push("givenName = :gn");
                    values.insert(":gn".into(), s(v));
                }
                if let Some(v) = family_name {
                    set.push("familyName = :fn");
                    values.insert(":fn".into(), s(v));
                }
                Some(person(email, team, &mut set, &mut values))
            }
            Change::Transferred { email, team } => {
                // A transfer moves a person between teams; it never brings a leaver back (only
                // a newer onboarding does), so it keeps whatever status the record has.
                set.push("#status = if_not_exists(#status, :status)");
                values.insert(":status".into(), s(Status::Active.as_str()));
                Some(person(email, team, &mut set, &mut values))
            }
            Change::Offboarded => {
                set.push("#status = :status");
                values.insert(":status".into(), s(Status::Offboarded.as_str()));
                None
            }
        };
        let mut expression = format!("SET {}", set.join(", "));
        // Every name the person ever had, so that offboarding can seal all of them.
        if let Some(name) = user_name {
            expression.push_str(" ADD userNames :names");
            values.insert(":names".into(), AttributeValue::Ss(vec![name]));
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("employeeId", s(event.employee_id.as_str()))
            .update_expression(expression)
            .condition_expression(
                "attribute_not_exists(employeeId) OR effectiveNanos < :n \
                 OR (effectiveNanos = :n AND facts = :facts)",
            )
            .expression_attribute_names("#status", "status")
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => parse_record(&out.attributes.unwrap_or_default()).map(Recorded::Current),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(Recorded::Stale)
            }
            Err(e) => Err(aws("dynamodb", "UpdateItem", None, e)),
        }
    }

    /// Every employee whose record says active. A paginated scan: the directory is one item per
    /// employee, so even a large company is a few pages.
    pub async fn active_employees(&self) -> Result<Vec<EmployeeRecord>, Error> {
        let pages: Vec<_> = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("#status = :active")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":active", s(Status::Active.as_str()))
            .consistent_read(true)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| aws("dynamodb", "Scan", None, e))?;
        pages
            .into_iter()
            .flat_map(|p| p.items.unwrap_or_default())
            .map(|item| parse_record(&item))
            .collect()
    }

    /// The record of one employee, read consistently.
    pub async fn get(&self, id: &EmployeeId) -> Result<Option<EmployeeRecord>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("employeeId", s(id.as_str()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws("dynamodb", "GetItem", None, e))?;
        out.item.as_ref().map(parse_record).transpose()
    }
}

/// The access-relevant facts of a change, compared when two events share an `effectiveAt`.
fn facts(change: &Change) -> String {
    match change {
        Change::Onboarded { email, team, .. } => format!("onboarded|{}|{team}", email.user_name()),
        Change::Transferred { email, team } => format!("transferred|{}|{team}", email.user_name()),
        Change::Offboarded => "offboarded".to_owned(),
    }
}

fn parse_record(item: &HashMap<String, AttributeValue>) -> Result<EmployeeRecord, Error> {
    let corrupt = |what: &str| Error::Partial {
        operation: "GetItem",
        detail: format!("directory record has no valid {what}"),
        transient: false,
    };
    let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    let employee_id = text("employeeId")
        .and_then(|v| EmployeeId::parse(&v).ok())
        .ok_or_else(|| corrupt("employeeId"))?;
    let status = match text("status").as_deref() {
        Some("active") => Status::Active,
        Some("offboarded") => Status::Offboarded,
        _ => return Err(corrupt("status")),
    };
    let effective_at = item
        .get("effectiveNanos")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i128>().ok())
        .and_then(Instant::from_unix_nanos)
        .ok_or_else(|| corrupt("effectiveNanos"))?;
    let event_id = text("eventId")
        .and_then(|v| EventId::parse(&v).ok())
        .ok_or_else(|| corrupt("eventId"))?;
    let user_names = item
        .get("userNames")
        .and_then(|v| v.as_ss().ok())
        .map(|v| v.iter().cloned().collect())
        .unwrap_or_default();
    Ok(EmployeeRecord {
        employee_id,
        status,
        team: text("team").map(Team::from_record),
        user_name: text("userName"),
        user_names,
        effective_at,
        event_id,
    })
}
