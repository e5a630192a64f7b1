//! SCIM resources in DynamoDB: one table, partition key `pk`.
//!
//! | `pk` | what |
//! | --- | --- |
//! | `User#<id>`, `Group#<id>` | the resource in stored form (`doc`), `created`, `modified`, `version`; a user also its `groups` and the `team` Gatehouse last decided |
//! | `UserName#<userName, lower case>`, `GroupName#<displayName, lower case>`, `Employee#<employee id>` | a claim: `target` is the id of the one resource that holds the name |
//!
//! Claims make names unique: a resource and its claims are written in one transaction, every
//! claim conditional on being free or already the resource's own, every resource conditional
//! on the version it was read at. A write that loses a race changes nothing.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use gatehouse_core::scim::Kind;
use serde_json::{Map, Value};

use crate::error::{aws, Error};

/// A resource as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub id: String,
    pub doc: Map<String, Value>,
    pub created: String,
    pub modified: String,
    /// 0 for a resource not yet written.
    pub version: u64,
    /// A user's groups (`value`, `display`), as the client reads them.
    pub groups: Vec<Value>,
    /// A user's team, as Gatehouse last decided it.
    pub team: Option<String>,
}

impl Stored {
    /// A new resource, version 1, created at `now`.
    pub fn new(id: String, doc: Map<String, Value>, now: &str) -> Stored {
        Stored {
            id,
            doc,
            created: now.to_owned(),
            modified: now.to_owned(),
            version: 1,
            groups: Vec::new(),
            team: None,
        }
    }

    /// This resource's next version: `doc`, modified at `now`, the rest kept.
    pub fn next(&self, doc: Map<String, Value>, now: &str) -> Stored {
        Stored {
            doc,
            modified: now.to_owned(),
            version: self.version + 1,
            ..self.clone()
        }
    }
}

/// A name that must be unique. Names are compared as their keys are: `userName` and a
/// group's `displayName` without regard to case (neither is case-exact, RFC 7643 §4).
#[derive(Debug, Clone)]
pub enum Claim {
    UserName(String),
    GroupName(String),
    Employee(String),
}

impl PartialEq for Claim {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Claim {
    fn key(&self) -> String {
        match self {
            Claim::UserName(n) => format!("UserName#{}", n.to_lowercase()),
            Claim::GroupName(n) => format!("GroupName#{}", n.to_lowercase()),
            Claim::Employee(e) => format!("Employee#{e}"),
        }
    }
}

/// One part of a transaction.
#[derive(Debug, Clone)]
pub enum Write {
    /// The resource, if its version is still `version - 1` (absent for a new one).
    Put(Kind, Stored),
    /// The resource, if its version is still `version`.
    Delete(Kind, String, u64),
    Claim(Claim, String),
    Release(Claim, String),
}

/// Why a transaction did not happen.
#[derive(Debug)]
pub enum WriteError {
    /// A condition failed: a name was taken or a resource changed since it was read.
    Conflict,
    Aws(Error),
}

pub struct Store {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn resource_key(kind: Kind, id: &str) -> String {
    format!("{}#{id}", kind.name())
}

impl Store {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Store { client, table }
    }

    pub async fn get(&self, kind: Kind, id: &str) -> Result<Option<Stored>, Error> {
        self.read(resource_key(kind, id))
            .await?
            .map(|i| parse(&i))
            .transpose()
    }

    /// The id of the resource holding `claim`.
    pub async fn holder(&self, claim: &Claim) -> Result<Option<String>, Error> {
        Ok(self
            .read(claim.key())
            .await?
            .and_then(|i| i.get("target").and_then(|t| t.as_s().ok()).cloned()))
    }

    /// The item at `pk`, read consistently.
    async fn read(&self, pk: String) -> Result<Option<HashMap<String, AttributeValue>>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws("dynamodb", "GetItem", None, e))?;
        Ok(out.item)
    }

    /// Every resource of `kind`, oldest first: a paginated scan (a company's people are a few
    /// pages).
    pub async fn all(&self, kind: Kind) -> Result<Vec<Stored>, Error> {
        let pages: Vec<_> = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(pk, :kind)")
            .expression_attribute_values(":kind", s(format!("{}#", kind.name())))
            .consistent_read(true)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| aws("dynamodb", "Scan", None, e))?;
        let mut all = pages
            .into_iter()
            .flat_map(|p| p.items.unwrap_or_default())
            .map(|i| parse(&i))
            .collect::<Result<Vec<_>, _>>()?;
        all.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
        Ok(all)
    }

    /// Writes all of `writes` or none. DynamoDB takes 100 items a transaction; a larger change
    /// (a group of hundreds gaining members) is several, the resource that names the change
    /// last, so that a retry of a half-done change finds it to do again.
    pub async fn write(&self, writes: Vec<Write>) -> Result<(), WriteError> {
        for chunk in writes.chunks(100) {
            let items = chunk
                .iter()
                .map(|w| self.item(w))
                .collect::<Result<Vec<_>, Error>>()
                .map_err(WriteError::Aws)?;
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await;
            if let Err(e) = result {
                // Cancelled because a condition failed: a conflict, the client's to resolve.
                // Cancelled for any other reason (another transaction on the same item,
                // throttling): Gatehouse's, and worth a retry.
                let condition_failed = match e.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                        let reasons = c.cancellation_reasons();
                        reasons.is_empty()
                            || reasons
                                .iter()
                                .any(|r| r.code() == Some("ConditionalCheckFailed"))
                    }
                    _ => false,
                };
                let error = aws("dynamodb", "TransactWriteItems", None, e);
                return Err(if condition_failed {
                    WriteError::Conflict
                } else if error.code() == Some("TransactionCanceledException") {
                    WriteError::Aws(error.into_transient())
                } else {
                    WriteError::Aws(error)
                });
            }
        }
        Ok(())
    }

    fn item(&self, write: &Write) -> Result<TransactWriteItem, Error> {
        let built = |e: aws_sdk_dynamodb::error::BuildError| Error::Request {
            operation: "TransactWriteItems",
            detail: e.to_string(),
        };
        let item = match write {
            Write::Put(kind, r) => {
                let mut attributes = HashMap::from([
                    ("pk".to_owned(), s(resource_key(*kind, &r.id))),
                    (
                        "doc".to_owned(),
                        s(Value::Object(r.doc.clone()).to_string()),
                    ),
                    ("created".to_owned(), s(&r.created)),
                    ("modified".to_owned(), s(&r.modified)),
                    (
                        "version".to_owned(),
                        AttributeValue::N(r.version.to_string()),
                    ),
                    (
                        "groups".to_owned(),
                        s(Value::Array(r.groups.clone()).to_string()),
                    ),
                ]);
                if let Some(team) = &r.team {
                    attributes.insert("team".into(), s(team));
                }
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(attributes));
                let put = if r.version <= 1 {
                    put.condition_expression("attribute_not_exists(pk)")
                } else {
                    put.condition_expression("version = :v")
                        .expression_attribute_values(
                            ":v",
                            AttributeValue::N((r.version - 1).to_string()),
                        )
                };
                TransactWriteItem::builder().put(put.build().map_err(built)?)
            }
            Write::Delete(kind, id, version) => TransactWriteItem::builder().delete(
                Delete::builder()
                    .table_name(&self.table)
                    .key("pk", s(resource_key(*kind, id)))
                    .condition_expression("version = :v")
                    .expression_attribute_values(":v", AttributeValue::N(version.to_string()))
                    .build()
                    .map_err(built)?,
            ),
            Write::Claim(claim, id) => TransactWriteItem::builder().put(
                Put::builder()
                    .table_name(&self.table)
                    .item("pk", s(claim.key()))
                    .item("target", s(id))
                    .condition_expression("attribute_not_exists(pk) OR target = :id")
                    .expression_attribute_values(":id", s(id))
                    .build()
                    .map_err(built)?,
            ),
            Write::Release(claim, id) => TransactWriteItem::builder().delete(
                Delete::builder()
                    .table_name(&self.table)
                    .key("pk", s(claim.key()))
                    .condition_expression("attribute_not_exists(pk) OR target = :id")
                    .expression_attribute_values(":id", s(id))
                    .build()
                    .map_err(built)?,
            ),
        };
        Ok(item.build())
    }
}

fn parse(item: &HashMap<String, AttributeValue>) -> Result<Stored, Error> {
    let text = |name: &'static str| -> Result<&String, Error> {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .ok_or(Error::CorruptRecord {
                employee: "a SCIM resource".into(),
                field: name,
            })
    };
    let corrupt = |field: &'static str| Error::CorruptRecord {
        employee: "a SCIM resource".into(),
        field,
    };
    let pk = text("pk")?;
    let id = pk
        .split_once('#')
        .map(|(_, id)| id.to_owned())
        .ok_or_else(|| corrupt("pk"))?;
    let doc = match serde_json::from_str(text("doc")?) {
        Ok(Value::Object(m)) => m,
        _ => return Err(corrupt("doc")),
    };
    let groups = match item.get("groups").and_then(|v| v.as_s().ok()) {
        None => Vec::new(),
        Some(g) => match serde_json::from_str(g) {
            Ok(Value::Array(a)) => a,
            _ => return Err(corrupt("groups")),
        },
    };
    let version = item
        .get("version")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| corrupt("version"))?;
    Ok(Stored {
        id,
        doc,
        created: text("created")?.clone(),
        modified: text("modified")?.clone(),
        version,
        groups,
        team: item.get("team").and_then(|t| t.as_s().ok()).cloned(),
    })
}
