//! A request body validated against the schemas ([`super::schema`]) into the form Gatehouse
//! stores, and a stored resource rendered back with its `id` and `meta`.
//!
//! The stored form is the resource as a client would send it, made canonical: attribute names
//! in the schema's spelling (names are case-insensitive, RFC 7643 §2.1), the enterprise
//! extension under its URN, and nothing that is read-only, write-only, null or empty. Every
//! write (POST, PUT, and the result of a PATCH) goes through [`validate`], so a stored resource
//! has always passed it.

use serde_json::{Map, Value};

use super::error::ScimError;
use super::schema::{self, find, Attribute, Mutability, Type};
use super::{ENTERPRISE_URN, GROUP_URN, USER_URN};
use crate::envelope::quoted;

/// The longest string value accepted, in characters.
pub const MAX_STRING: usize = 1024;
/// The most values a multi-valued attribute may hold (a group's members excepted).
pub const MAX_VALUES: usize = 32;
/// The most members a group may hold (and [`MAX_STORED_BYTES`] bounds them too).
pub const MAX_MEMBERS: usize = 10_000;
/// The largest resource stored, as JSON: a DynamoDB item holds at most 400 KB, and a resource
/// the store cannot hold must be refused before its HR events are sent, not after.
pub const MAX_STORED_BYTES: usize = 350 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    pub fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }

    pub fn core_urn(self) -> &'static str {
        match self {
            Kind::User => USER_URN,
            Kind::Group => GROUP_URN,
        }
    }

    pub fn attributes(self) -> &'static [Attribute] {
        match self {
            Kind::User => schema::USER,
            Kind::Group => schema::GROUP,
        }
    }

    /// The schema URNs a resource of this kind may declare.
    fn allows(self, urn: &str) -> Option<&'static str> {
        let allowed: &[&'static str] = match self {
            Kind::User => &[USER_URN, ENTERPRISE_URN],
            Kind::Group => &[GROUP_URN],
        };
        allowed
            .iter()
            .copied()
            .find(|u| u.eq_ignore_ascii_case(urn))
    }
}

/// `externalId`, common to every resource (RFC 7643 §3.1): set by the client, case-exact.
pub const EXTERNAL_ID: Attribute = Attribute {
    name: "externalId",
    ty: Type::String,
    multi: false,
    required: false,
    case_exact: true,
    mutability: Mutability::ReadWrite,
    unique: false,
    canonical: &[],
    reference_types: &[],
    sub: &[],
    description: "The client's identifier for the resource",
};

/// The top-level attribute `name` of a resource of `kind` (core schema, or `externalId`).
pub fn top_level(kind: Kind, name: &str) -> Option<&'static Attribute> {
    if name.eq_ignore_ascii_case(EXTERNAL_ID.name) {
        return Some(&EXTERNAL_ID);
    }
    find(kind.attributes(), name)
}

/// Validates a POST or PUT body (or a patched resource) of `kind` into its stored form.
pub fn validate(kind: Kind, body: &Value) -> Result<Map<String, Value>, ScimError> {
    let Value::Object(body) = body else {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    };
    let schemas = declared_schemas(kind, body)?;
    let mut out = Map::new();
    let mut extension: Option<Map<String, Value>> = None;
    for (key, value) in body {
        if ["schemas", "id", "meta"]
            .iter()
            .any(|k| key.eq_ignore_ascii_case(k))
        {
            // `id` and `meta` are the server's: ignored on input (RFC 7644 §3.3).
            continue;
        }
        if kind == Kind::User && key.eq_ignore_ascii_case(ENTERPRISE_URN) {
            if !schemas.contains(&ENTERPRISE_URN) {
                return Err(ScimError::invalid_value(format!(
                    "the enterprise extension is present but `schemas` does not list {ENTERPRISE_URN}"
                )));
            }
            if extension.is_some() {
                return Err(ScimError::invalid_syntax(
                    "the enterprise extension appears twice",
                ));
            }
            let Value::Object(fields) = value else {
                return Err(ScimError::invalid_value(
                    "the enterprise extension must be an object",
                ));
            };
            extension = Some(attributes(schema::ENTERPRISE, fields, "")?);
            continue;
        }
        let attribute = top_level(kind, key).ok_or_else(|| unknown(kind.name(), key))?;
        insert(&mut out, attribute, value, "")?;
    }
    for attribute in kind.attributes().iter().filter(|a| a.required) {
        match out.get(attribute.name) {
            Some(Value::String(s)) if !s.is_empty() => {}
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "`{}` is required",
                    attribute.name
                )))
            }
        }
    }
    let mut declared: Vec<Value> = vec![kind.core_urn().into()];
    if let Some(ext) = extension.filter(|e| !e.is_empty()) {
        out.insert(ENTERPRISE_URN.into(), Value::Object(ext));
        declared.push(ENTERPRISE_URN.into());
    }
    out.insert("schemas".into(), Value::Array(declared));
    let size = serde_json::to_vec(&out).map_or(usize::MAX, |b| b.len());
    if size > MAX_STORED_BYTES {
        return Err(ScimError::invalid_value(format!(
            "the {} would be {size} bytes, more than the {MAX_STORED_BYTES} Gatehouse stores",
            kind.name()
        )));
    }
    Ok(out)
}

fn declared_schemas(kind: Kind, body: &Map<String, Value>) -> Result<Vec<&'static str>, ScimError> {
    let schemas = body
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
        .map(|(_, v)| v);
    let Some(Value::Array(list)) = schemas else {
        return Err(ScimError::invalid_value(format!(
            "`schemas` must be a list naming {}",
            kind.core_urn()
        )));
    };
    let mut urns = Vec::new();
    for urn in list {
        let known = urn.as_str().and_then(|u| kind.allows(u)).ok_or_else(|| {
            ScimError::invalid_value(format!(
                "`schemas` names a schema a {} does not have",
                kind.name()
            ))
        })?;
        if urns.contains(&known) {
            return Err(ScimError::invalid_value("`schemas` names a schema twice"));
        }
        urns.push(known);
    }
    if !urns.contains(&kind.core_urn()) {
        return Err(ScimError::invalid_value(format!(
            "`schemas` must name {}",
            kind.core_urn()
        )));
    }
    Ok(urns)
}

fn unknown(owner: &str, key: &str) -> ScimError {
    ScimError::invalid_value(format!("{} has no attribute {}", owner, quoted(key)))
}

/// Validates `fields` against `attributes` (a complex value's, or the extension's).
fn attributes(
    attributes: &'static [Attribute],
    fields: &Map<String, Value>,
    prefix: &str,
) -> Result<Map<String, Value>, ScimError> {
    let mut out = Map::new();
    for (key, value) in fields {
        let attribute = find(attributes, key).ok_or_else(|| unknown("the schema", key))?;
        insert(&mut out, attribute, value, prefix)?;
    }
    Ok(out)
}

/// Puts `attribute`'s validated `value` into `out`, unless it is read-only, write-only, null
/// or empty (all of which leave the attribute unassigned). A name given twice in different
/// cases is refused: which one counts would be a guess.
fn insert(
    out: &mut Map<String, Value>,
    attribute: &'static Attribute,
    value: &Value,
    prefix: &str,
) -> Result<(), ScimError> {
    let name = format!("{prefix}{}", attribute.name);
    if out.contains_key(attribute.name) {
        return Err(ScimError::invalid_syntax(format!(
            "`{name}` is given twice"
        )));
    }
    if attribute.mutability != Mutability::ReadWrite {
        return Ok(());
    }
    if let Some(v) = checked(attribute, value, &name)? {
        out.insert(attribute.name.into(), v);
    }
    Ok(())
}

/// `value` checked against `attribute`: `None` when it leaves the attribute unassigned.
pub fn checked(
    attribute: &'static Attribute,
    value: &Value,
    name: &str,
) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    if !attribute.multi {
        return single(attribute, value, name);
    }
    let Value::Array(values) = value else {
        return Err(ScimError::invalid_value(format!("`{name}` must be a list")));
    };
    let limit = if attribute.name == "members" {
        MAX_MEMBERS
    } else {
        MAX_VALUES
    };
    if values.len() > limit {
        return Err(ScimError::invalid_value(format!(
            "`{name}` holds more than {limit} values"
        )));
    }
    let mut out: Vec<Value> = Vec::with_capacity(values.len());
    for v in values {
        if let Some(v) = single(attribute, v, name)? {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    let primaries = out
        .iter()
        .filter(|v| v["primary"] == Value::Bool(true))
        .count();
    if primaries > 1 {
        return Err(ScimError::invalid_value(format!(
            "`{name}` has more than one primary value"
        )));
    }
    if attribute.name == "members" {
        check_members(&out, name)?;
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

fn check_members(members: &[Value], name: &str) -> Result<(), ScimError> {
    let mut ids = std::collections::BTreeSet::new();
    for m in members {
        let Some(id) = m["value"].as_str() else {
            return Err(ScimError::invalid_value(format!(
                "every one of `{name}` must have a `value` (the member's id)"
            )));
        };
        if !ids.insert(id) {
            return Err(ScimError::invalid_value(format!(
                "`{name}` names one member twice"
            )));
        }
    }
    Ok(())
}

fn single(
    attribute: &'static Attribute,
    value: &Value,
    name: &str,
) -> Result<Option<Value>, ScimError> {
    let wrong = |what: &str| ScimError::invalid_value(format!("`{name}` must be {what}"));
    match (attribute.ty, value) {
        (_, Value::Null) => Ok(None),
        (Type::Complex, Value::Object(fields)) => {
            let inner = attributes(attribute.sub, fields, &format!("{name}."))?;
            Ok((!inner.is_empty()).then_some(Value::Object(inner)))
        }
        (Type::Complex, _) => Err(wrong("an object")),
        (Type::Boolean, Value::Bool(_)) => Ok(Some(value.clone())),
        (Type::Boolean, _) => Err(wrong("true or false")),
        (Type::String | Type::Reference | Type::DateTime, Value::String(s)) => {
            if s.chars().count() > MAX_STRING || s.chars().any(char::is_control) {
                return Err(wrong(&format!(
                    "at most {MAX_STRING} characters, none of them a control character"
                )));
            }
            Ok(Some(value.clone()))
        }
        (Type::String | Type::Reference | Type::DateTime, _) => Err(wrong("a string")),
    }
}

/// What a stored resource's `meta` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub created: String,
    pub last_modified: String,
    pub version: u64,
}

/// The resource as the client reads it: the stored form with `id`, `meta` (and, for a user,
/// the groups Gatehouse keeps for it).
pub fn render(
    kind: Kind,
    id: &str,
    stored: &Map<String, Value>,
    meta: &Meta,
    groups: &[Value],
    base: &str,
) -> Value {
    let mut out = stored.clone();
    out.insert("id".into(), id.into());
    if kind == Kind::User && !groups.is_empty() {
        out.insert("groups".into(), Value::Array(groups.to_vec()));
    }
    out.insert(
        "meta".into(),
        serde_json::json!({
            "resourceType": kind.name(),
            "created": meta.created,
            "lastModified": meta.last_modified,
            "location": format!("{base}/{}/{id}", kind.endpoint()),
            "version": format!("W/\"{}\"", meta.version),
        }),
    );
    Value::Object(out)
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5), by top-level attribute (a
/// sub-attribute names its parent): `id`, `schemas` and `meta` are always returned.
pub fn project(resource: Value, attributes: &[String], excluded: &[String]) -> Value {
    let Value::Object(fields) = resource else {
        return resource;
    };
    let named = |list: &[String], k: &str| list.iter().any(|a| top_name(a).eq_ignore_ascii_case(k));
    let kept = fields
        .into_iter()
        .filter(|(k, _)| {
            matches!(k.as_str(), "id" | "schemas" | "meta")
                || (attributes.is_empty() || named(attributes, k)) && !named(excluded, k)
        })
        .collect();
    Value::Object(kept)
}

/// The top-level key an attribute path lands in: `name.givenName` is `name`, a core schema's
/// URN prefix is dropped, anything under the enterprise extension is the extension's URN.
fn top_name(path: &str) -> &str {
    if strip_urn(path, ENTERPRISE_URN).is_some() {
        return ENTERPRISE_URN;
    }
    let path = [USER_URN, GROUP_URN]
        .into_iter()
        .find_map(|urn| strip_urn(path, urn).and_then(|rest| rest.strip_prefix(':')))
        .unwrap_or(path);
    path.split('.').next().unwrap_or(path)
}

/// `s` without the leading `urn` (compared without regard to case), if it starts with it.
pub fn strip_urn<'a>(s: &'a str, urn: &str) -> Option<&'a str> {
    let head = s.get(..urn.len())?;
    head.eq_ignore_ascii_case(urn).then(|| &s[urn.len()..])
}
