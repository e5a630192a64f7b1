//! The employee directory (DynamoDB): what the HR events say of every employee, merged so that
//! the order they arrive in never matters (see [`gatehouse_core::standing`]). The directory is the truth
//! every convergence starts from.
//!
//! Writes are optimistic: a record carries a version, and a write succeeds only over the version
//! it was merged from (or, for a new employee, only if there is no record yet). A write that
//! loses gets the record that won back from DynamoDB, merges again and retries.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use gatehouse_core::hr_event::{Change, HrEvent};
use gatehouse_core::ids::{AccountId, EmployeeId, Team, Timestamp};
use gatehouse_core::outcome::BusEvent;
use gatehouse_core::record::EmployeeRecord;
use gatehouse_core::standing::{merge, timestamp, Person, Standing, Status, StatusMark};

use crate::error::{aws, Error};

mod pending;
use pending::{pending_value, PENDING};

/// How many times a write that lost to a concurrent one is merged and tried again.
const WRITE_ATTEMPTS: usize = 5;

/// What became of recording an event.
// Returned once per event and matched at once: boxing the big variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The event counts (it changed the record, or it is a redelivery of the event that set
    /// it): converge to `record`. `before`: the record as it was, if there was one.
    Current {
        record: EmployeeRecord,
        before: Option<EmployeeRecord>,
        /// Outcomes of earlier events the bus refused, to publish now.
        pending: Vec<BusEvent>,
    },
    /// The event is older than what it speaks of: it changes nothing, but outcomes still kept
    /// on the record (an earlier delivery of it could not publish them) are published.
    Stale { pending: Vec<BusEvent> },
}

/// A record as stored, with the version a conditional write is made over.
struct Stored {
    standing: Standing,
    version: u64,
    /// Outcomes the bus refused, kept until they are published (`pendingOutcomes`).
    pending: Vec<BusEvent>,
}

/// An employee's record with the outcomes still to publish for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub record: EmployeeRecord,
    pub pending: Vec<BusEvent>,
}

pub struct EmployeeDirectory {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

impl EmployeeDirectory {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        EmployeeDirectory { client, table }
    }

    /// Merges `event` into the employee's record.
    pub async fn record(&self, event: &HrEvent) -> Result<Recorded, Error> {
        // A new hire has no record yet: try to create it before reading anything (one call on
        // the common path). Other events are about someone the directory should know.
        let mut known = match event.change {
            Change::Onboarded { .. } => None,
            _ => self.read(&event.employee_id).await?,
        };
        for _ in 0..WRITE_ATTEMPTS {
            let before = known.as_ref().map(|k| EmployeeRecord::from(&k.standing));
            let merged = merge(known.as_ref().map(|k| &k.standing), event);
            if merged.stale {
                let pending = known.map(|k| k.pending).unwrap_or_default();
                return Ok(Recorded::Stale { pending });
            }
            let pending = known
                .as_ref()
                .map(|k| k.pending.clone())
                .unwrap_or_default();
            let current = Recorded::Current {
                record: EmployeeRecord::from(&merged.standing),
                before,
                pending: pending.clone(),
            };
            if !merged.changed {
                return Ok(current);
            }
            match self
                .write(
                    &merged.standing,
                    known.as_ref().map(|k| k.version),
                    &pending,
                    event,
                )
                .await?
            {
                None => return Ok(current),
                Some(won) => {
                    known = match won {
                        Some(item) => Some(parse_stored(&item)?),
                        None => self.read(&event.employee_id).await?,
                    }
                }
            }
        }
        Err(Error::Contention {
            employee: event.employee_id.to_string(),
        })
    }

    /// Writes `standing` over `version` (`None`: only if there is no record). `Ok(None)`:
    /// written. `Ok(Some(won))`: another write got there first; `won` is the record it left,
    /// when DynamoDB returned it.
    #[allow(clippy::type_complexity)]
    async fn write(
        &self,
        standing: &Standing,
        version: Option<u64>,
        pending: &[BusEvent],
        event: &HrEvent,
    ) -> Result<Option<Option<HashMap<String, AttributeValue>>>, Error> {
        let mut item = to_item(standing);
        if !pending.is_empty() {
            item.insert(PENDING.into(), pending_value(pending));
        }
        item.insert("version".into(), n(version.map_or(1, |v| v + 1)));
        item.insert("updatedAt".into(), s(&Timestamp::now().rfc3339()));
        item.insert("updatedBy".into(), s(event.event_id.as_str()));
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let request = match version {
            Some(v) => request
                .condition_expression("version = :v")
                .expression_attribute_values(":v", n(v)),
            None => request.condition_expression("attribute_not_exists(employeeId)"),
        };
        match request.send().await {
            Ok(_) => Ok(None),
            Err(e) => match e.as_service_error() {
                Some(
                    aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(
                        lost,
                    ),
                ) => Ok(Some(lost.item.clone())),
                _ => Err(aws("dynamodb", "PutItem", None, e)),
            },
        }
    }

    /// What recording `event` would do, writing nothing: `Stale`, or the record it would
    /// leave (and the one before). For `gatehouse plan`.
    pub async fn preview(&self, event: &HrEvent) -> Result<Recorded, Error> {
        let known = self.read(&event.employee_id).await?;
        let merged = merge(known.as_ref().map(|k| &k.standing), event);
        if merged.stale {
            return Ok(Recorded::Stale {
                pending: Vec::new(),
            });
        }
        Ok(Recorded::Current {
            record: EmployeeRecord::from(&merged.standing),
            before: known.as_ref().map(|k| EmployeeRecord::from(&k.standing)),
            pending: Vec::new(),
        })
    }

    async fn read(&self, id: &EmployeeId) -> Result<Option<Stored>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("employeeId", s(id.as_str()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws("dynamodb", "GetItem", None, e))?;
        out.item.as_ref().map(parse_stored).transpose()
    }

    /// Every employee whose record says active. A paginated scan: the directory is one item per
    /// employee, so even a large company is a few pages.
    pub async fn active_employees(&self) -> Result<Vec<EmployeeRecord>, Error> {
        self.scan_employees(
            self.client
                .scan()
                .filter_expression("#status = :active")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":active", s(Status::Active.as_str())),
        )
        .await
    }

    /// Every employee the directory knows, leavers included (drift needs to know whose a
    /// user is). The accounts' baseline records are not employees and are skipped.
    pub async fn all_employees(&self) -> Result<Vec<EmployeeRecord>, Error> {
        self.scan_employees(
            self.client
                .scan()
                .filter_expression("NOT begins_with(employeeId, :account)")
                .expression_attribute_values(":account", s(ACCOUNT_KEY_PREFIX)),
        )
        .await
    }

    /// The records a filtered scan of the table finds, every page, read consistently.
    async fn scan_employees(
        &self,
        scan: aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder,
    ) -> Result<Vec<EmployeeRecord>, Error> {
        let pages: Vec<_> = scan
            .table_name(&self.table)
            .consistent_read(true)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| aws("dynamodb", "Scan", None, e))?;
        pages
            .into_iter()
            .flat_map(|p| p.items.unwrap_or_default())
            .map(|item| parse_stored(&item).map(|k| EmployeeRecord::from(&k.standing)))
            .collect()
    }

    /// Remembers that Gatehouse has laid its baseline in `account`: from then on, an account
    /// that refuses the provisioner role is a fault, not an account Gatehouse never managed.
    /// Kept in the directory table under a key no employee id can take (`#account/<id>`).
    pub async fn record_baseline(
        &self,
        account: &AccountId,
        environment: &str,
    ) -> Result<(), Error> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("employeeId", s(&account_key(account)))
            .item("accountId", s(account.as_str()))
            .item("environment", s(environment))
            .item("baselinedAt", s(&Timestamp::now().rfc3339()))
            .send()
            .await
            .map_err(|e| aws("dynamodb", "PutItem", None, e))?;
        Ok(())
    }

    /// Whether Gatehouse has ever laid its baseline in `account`.
    pub async fn was_baselined(&self, account: &AccountId) -> Result<bool, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("employeeId", s(&account_key(account)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws("dynamodb", "GetItem", None, e))?;
        Ok(out.item.is_some())
    }

    /// The record of one employee, read consistently, with its pending outcomes.
    pub async fn get(&self, id: &EmployeeId) -> Result<Option<Entry>, Error> {
        Ok(self.read(id).await?.map(|k| Entry {
            record: EmployeeRecord::from(&k.standing),
            pending: k.pending,
        }))
    }
}

/// The key of an account's baseline record: `#` cannot start an employee id.
/// The key prefix of the accounts' baseline records, which no employee id can start with.
const ACCOUNT_KEY_PREFIX: &str = "#account/";

fn account_key(account: &AccountId) -> String {
    format!("{ACCOUNT_KEY_PREFIX}{account}")
}

/// The item of a standing. `status` is derived (the scan for active employees filters on it).
fn to_item(standing: &Standing) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        ("employeeId".to_owned(), s(standing.employee_id.as_str())),
        ("status".to_owned(), s(standing.status().as_str())),
    ]);
    if let Some(p) = &standing.person {
        item.extend([
            ("email".to_owned(), s(&p.email)),
            ("team".to_owned(), s(p.team.as_str())),
            ("userName".to_owned(), s(&p.user_name)),
            ("personNanos".to_owned(), n(p.at)),
            ("personAt".to_owned(), s(&timestamp(p.at).rfc3339())),
            ("personFacts".to_owned(), s(&p.facts)),
        ]);
        if let Some(v) = &p.given_name {
            item.insert("givenName".into(), s(v));
        }
        if let Some(v) = &p.family_name {
            item.insert("familyName".into(), s(v));
        }
    }
    if let Some(m) = &standing.mark {
        item.extend([
            ("statusMark".to_owned(), s(m.status.as_str())),
            ("statusNanos".to_owned(), n(m.at)),
            ("statusAt".to_owned(), s(&timestamp(m.at).rfc3339())),
        ]);
    }
    // DynamoDB holds no empty set: no attribute is the empty set.
    if !standing.user_names.is_empty() {
        item.insert(
            "userNames".into(),
            AttributeValue::Ss(standing.user_names.iter().cloned().collect()),
        );
    }
    item
}

fn parse_stored(item: &HashMap<String, AttributeValue>) -> Result<Stored, Error> {
    let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    let corrupt = |field: &'static str| Error::CorruptRecord {
        employee: text("employeeId").unwrap_or_else(|| "an unknown employee".to_owned()),
        field,
    };
    let number = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i128>().ok())
    };
    let status = |k: &str| match text(k).as_deref() {
        Some("active") => Some(Status::Active),
        Some("offboarded") => Some(Status::Offboarded),
        _ => None,
    };
    let employee_id = text("employeeId")
        .and_then(|v| EmployeeId::parse(&v).ok())
        .ok_or_else(|| corrupt("employeeId"))?;
    let version = number("version")
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| corrupt("version"))?;
    let person = match text("userName") {
        None => None,
        Some(user_name) => Some(Person {
            email: text("email").ok_or_else(|| corrupt("email"))?,
            team: Team::from_record(text("team").ok_or_else(|| corrupt("team"))?),
            user_name,
            given_name: text("givenName"),
            family_name: text("familyName"),
            at: number("personNanos").ok_or_else(|| corrupt("personNanos"))?,
            facts: text("personFacts").ok_or_else(|| corrupt("personFacts"))?,
        }),
    };
    let mark = match text("statusMark") {
        None => None,
        Some(_) => Some(StatusMark {
            status: status("statusMark").ok_or_else(|| corrupt("statusMark"))?,
            at: number("statusNanos").ok_or_else(|| corrupt("statusNanos"))?,
        }),
    };
    if person.is_none() && mark.is_none() {
        return Err(corrupt("person or status"));
    }
    let user_names = item
        .get("userNames")
        .and_then(|v| v.as_ss().ok())
        .map(|v| v.iter().cloned().collect())
        .unwrap_or_default();
    let pending = match item.get(PENDING) {
        None => Vec::new(),
        Some(v) => v
            .as_l()
            .map_err(|_| corrupt("pendingOutcomes"))?
            .iter()
            .map(|e| {
                e.as_s()
                    .ok()
                    .and_then(|text| serde_json::from_str(text).ok())
                    .ok_or_else(|| corrupt("pendingOutcomes"))
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(Stored {
        pending,
        standing: Standing {
            employee_id,
            person,
            mark,
            user_names,
        },
        version,
    })
}
