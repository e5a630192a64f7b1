//! `PATCH` (RFC 7644 §3.5.2) applied to a stored resource, all operations or none.
//!
//! The operations work on the stored form; the result goes through
//! [`resource::validate`](super::resource::validate) again, so a PATCH can never store what a
//! PUT could not. Variations accepted because a documented identity provider sends them, and
//! nothing else:
//! - `op` in any case: Entra ID sends `Replace`, `Add`, `Remove`;
//! - a boolean given as the string `"True"` or `"False"` (any case): Entra ID's
//!   `{"op":"Replace","path":"active","value":"False"}`;
//! - `remove` of `members` with a `value` list removes those members (Entra ID without
//!   `aadOptscim062020`); the RFC's form is `members[value eq "…"]`;
//! - `add` to `attr[type eq "x"].sub` with no such value creates it (Entra ID adds a work
//!   e-mail that way).
//!
//! Removing a value that is not there changes nothing and succeeds: identity providers retry.

use serde_json::{Map, Value};

use super::error::ScimError;
use super::path::{parse_path, AttributePath, Target};
use super::resource::{validate, Kind};
use super::schema::{Attribute, Type};
use super::{ENTERPRISE_URN, PATCH_URN};

/// The most operations one request may carry.
pub const MAX_OPERATIONS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Remove,
    Replace,
}

/// Applies the `PatchOp` `body` to `stored` (a resource of `kind` in stored form) and
/// returns the new stored form. Says whether an operation set `active` explicitly.
pub fn apply(
    kind: Kind,
    stored: &Map<String, Value>,
    body: &Value,
) -> Result<(Map<String, Value>, bool), ScimError> {
    let Value::Object(body) = body else {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    };
    if let Some(key) = body
        .keys()
        .find(|k| !matches!(k.as_str(), "schemas" | "Operations"))
    {
        return Err(ScimError::invalid_syntax(format!(
            "a PatchOp has only `schemas` and `Operations`, not {}",
            crate::envelope::quoted(key)
        )));
    }
    match &body.get("schemas") {
        Some(Value::Array(s)) if s.len() == 1 && s[0] == PATCH_URN => {}
        _ => {
            return Err(ScimError::invalid_value(format!(
                "`schemas` must be [\"{PATCH_URN}\"]"
            )))
        }
    }
    let operations = match body.get("Operations") {
        Some(Value::Array(ops)) if !ops.is_empty() && ops.len() <= MAX_OPERATIONS => ops,
        _ => {
            return Err(ScimError::invalid_value(format!(
                "`Operations` must be a list of 1 to {MAX_OPERATIONS} operations"
            )))
        }
    };
    let mut working = stored.clone();
    let resource = &mut working;
    let mut touched_active = false;
    for operation in operations {
        let (op, path, value) = operation_parts(operation)?;
        match path {
            Some(path) => {
                let target = parse_path(kind, path)?;
                touched_active |= is_active(&target);
                apply_at(resource, op, &target, value)?;
            }
            None => {
                if op == Op::Remove {
                    return Err(ScimError::no_target("`remove` needs a `path`"));
                }
                let Some(Value::Object(values)) = value else {
                    return Err(ScimError::invalid_value(
                        "an operation without `path` must have an object `value`",
                    ));
                };
                for (key, v) in values {
                    if matches!(key.as_str(), "schemas" | "id" | "meta") {
                        continue;
                    }
                    let target = parse_path(kind, key)?;
                    touched_active |= is_active(&target);
                    apply_at(resource, op, &target, Some(v))?;
                }
            }
        }
    }
    // The extension is declared in `schemas` exactly when it holds something.
    let mut schemas = vec![Value::from(kind.core_urn())];
    if resource.contains_key(ENTERPRISE_URN) {
        schemas.push(ENTERPRISE_URN.into());
    }
    resource.insert("schemas".into(), Value::Array(schemas));
    Ok((validate(kind, &Value::Object(working))?, touched_active))
}

fn is_active(target: &Target) -> bool {
    matches!(target, Target::Attribute(p) if !p.extension && p.attribute.name == "active")
}

fn operation_parts(operation: &Value) -> Result<(Op, Option<&str>, Option<&Value>), ScimError> {
    let Value::Object(o) = operation else {
        return Err(ScimError::invalid_syntax(
            "every operation must be an object",
        ));
    };
    if o.keys()
        .any(|k| !matches!(k.as_str(), "op" | "path" | "value"))
    {
        return Err(ScimError::invalid_syntax(
            "an operation has only `op`, `path` and `value`",
        ));
    }
    let op = match o.get("op").and_then(Value::as_str) {
        Some(s) if s.eq_ignore_ascii_case("add") => Op::Add,
        Some(s) if s.eq_ignore_ascii_case("remove") => Op::Remove,
        Some(s) if s.eq_ignore_ascii_case("replace") => Op::Replace,
        _ => {
            return Err(ScimError::invalid_value(
                "`op` must be add, remove or replace",
            ))
        }
    };
    let path = match o.get("path") {
        None => None,
        Some(Value::String(p)) => Some(p.as_str()),
        Some(_) => return Err(ScimError::invalid_path("`path` must be a string")),
    };
    let value = o.get("value");
    if op != Op::Remove && value.is_none() {
        return Err(ScimError::invalid_value(
            "`add` and `replace` need a `value`",
        ));
    }
    Ok((op, path, value))
}

/// Entra ID's `"True"` / `"False"` for a boolean, as a boolean; its manager given as the bare
/// id (`"value": "<id>"`) as the complex value it stands for; any other value unchanged.
fn lenient(attribute: &Attribute, value: &Value) -> Value {
    match (attribute.ty, value) {
        (Type::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => true.into(),
        (Type::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => false.into(),
        (Type::Complex, Value::String(id)) if attribute.name == "manager" => {
            serde_json::json!({ "value": id })
        }
        _ => value.clone(),
    }
}

/// Puts `value` at `key` of `object`, under the name `attributes` spell it (names are
/// case-insensitive), replacing whatever was there under any spelling.
fn merge(
    object: &mut Map<String, Value>,
    attributes: &'static [Attribute],
    key: &str,
    value: Value,
) {
    let attribute = super::schema::find(attributes, key);
    let name = attribute.map_or(key, |a| a.name);
    object.retain(|k, _| !k.eq_ignore_ascii_case(name));
    let value = attribute.map_or_else(|| value.clone(), |a| lenient(a, &value));
    object.insert(name.to_owned(), value);
}

fn apply_at(
    resource: &mut Map<String, Value>,
    op: Op,
    target: &Target,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let path = match target {
        Target::Extension => {
            return match (op, value) {
                (Op::Remove, _) => {
                    resource.remove(ENTERPRISE_URN);
                    Ok(())
                }
                (_, Some(Value::Object(fields))) => {
                    let ext = container(resource, true);
                    // A value given as a resource may declare its schema: that is the path's.
                    for (k, v) in fields.iter().filter(|(k, _)| *k != "schemas") {
                        merge(ext, super::schema::ENTERPRISE, k, v.clone());
                    }
                    Ok(())
                }
                _ => Err(ScimError::invalid_value(
                    "the enterprise extension's value must be an object",
                )),
            };
        }
        Target::Attribute(path) => path,
    };
    let AttributePath {
        extension,
        attribute,
        filter,
        sub,
    } = path;
    if attribute.mutability != super::schema::Mutability::ReadWrite {
        if attribute.name == "password" && op != Op::Remove {
            return Ok(()); // write-only: accepted, never kept.
        }
        return Err(ScimError::mutability(format!(
            "`{}` cannot be changed by a client",
            attribute.name
        )));
    }
    let holder = container(resource, *extension);
    let name = attribute.name;
    match (filter, sub) {
        (None, None) => whole(holder, op, attribute, value),
        (None, Some(sub)) => {
            let mut object = match holder.remove(name) {
                Some(Value::Object(o)) => o,
                None => Map::new(),
                Some(_) => return Err(ScimError::invalid_path("not a complex attribute")),
            };
            match op {
                Op::Remove => {
                    object.remove(sub.name);
                }
                _ => {
                    let v = value.map(|v| lenient(sub, v)).unwrap_or(Value::Null);
                    object.insert(sub.name.into(), v);
                }
            }
            if !object.is_empty() {
                holder.insert(name.into(), Value::Object(object));
            }
            Ok(())
        }
        (Some((filter_attribute, wanted)), sub) => {
            let mut values = match holder.remove(name) {
                Some(Value::Array(a)) => a,
                None => Vec::new(),
                Some(_) => return Err(ScimError::invalid_path("not a multi-valued attribute")),
            };
            let matches =
                |v: &Value| filter_match(filter_attribute, &v[filter_attribute.name], wanted);
            let found = values.iter().any(matches);
            match (op, sub) {
                (Op::Remove, None) => values.retain(|v| !matches(v)),
                (Op::Remove, Some(sub)) => {
                    for v in values.iter_mut().filter(|v| matches(v)) {
                        if let Value::Object(o) = v {
                            o.remove(sub.name);
                        }
                    }
                }
                (_, Some(sub)) if found => {
                    let new = lenient(sub, value.unwrap_or(&Value::Null));
                    for v in values.iter_mut().filter(|v| matches(v)) {
                        v[sub.name] = new.clone();
                    }
                }
                (Op::Add, Some(sub)) => {
                    let mut created = Map::new();
                    created.insert(filter_attribute.name.into(), wanted.clone());
                    created.insert(sub.name.into(), lenient(sub, value.unwrap_or(&Value::Null)));
                    values.push(Value::Object(created));
                }
                (_, None) if found => {
                    let Some(Value::Object(new)) = value else {
                        return Err(ScimError::invalid_value("the value must be an object"));
                    };
                    for v in values.iter_mut().filter(|v| matches(v)) {
                        if let Value::Object(o) = v {
                            for (k, x) in new {
                                merge(o, attribute.sub, k, x.clone());
                            }
                        }
                    }
                }
                _ => return Err(ScimError::no_target("no value matches the path's filter")),
            }
            if !values.is_empty() {
                holder.insert(name.into(), Value::Array(values));
            }
            Ok(())
        }
    }
}

/// An operation on a whole attribute.
fn whole(
    holder: &mut Map<String, Value>,
    op: Op,
    attribute: &'static Attribute,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let name = attribute.name;
    match op {
        Op::Remove if attribute.multi => {
            // Entra ID removes members by listing them; with no value, all go (RFC).
            match value {
                Some(Value::Array(gone)) if name == "members" => {
                    let ids: Vec<&Value> = gone.iter().map(|m| &m["value"]).collect();
                    if let Some(Value::Array(members)) = holder.get_mut(name) {
                        members.retain(|m| !ids.contains(&&m["value"]));
                    }
                }
                None => {
                    holder.remove(name);
                }
                Some(_) => {
                    return Err(ScimError::invalid_value(
                        "`remove` takes a `value` only for `members`",
                    ))
                }
            }
        }
        Op::Remove => {
            holder.remove(name);
        }
        Op::Add if attribute.multi => {
            let added = match value {
                Some(Value::Array(a)) => a.clone(),
                Some(v) => vec![v.clone()],
                None => Vec::new(),
            };
            let mut values = match holder.remove(name) {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            };
            for v in added {
                let same_member = |x: &Value| name == "members" && x["value"] == v["value"];
                if !values.iter().any(|x| *x == v || same_member(x)) {
                    values.push(v);
                }
            }
            holder.insert(name.into(), Value::Array(values));
        }
        Op::Add | Op::Replace if attribute.ty == Type::Complex && !attribute.multi => {
            let mut object = match holder.remove(name) {
                Some(Value::Object(o)) => o,
                _ => Map::new(),
            };
            match value.map(|v| lenient(attribute, v)) {
                Some(Value::Object(new)) => {
                    for (k, v) in new {
                        merge(&mut object, attribute.sub, &k, v);
                    }
                }
                Some(Value::Null) => object.clear(),
                _ => {
                    return Err(ScimError::invalid_value(format!(
                        "`{name}` must be an object"
                    )))
                }
            }
            if !object.is_empty() {
                holder.insert(name.into(), Value::Object(object));
            }
        }
        Op::Add | Op::Replace => {
            holder.insert(
                name.into(),
                lenient(attribute, value.unwrap_or(&Value::Null)),
            );
        }
    }
    Ok(())
}

/// String comparisons in filters ignore case unless the attribute is case-exact (a member's
/// id is; an e-mail's `type` is not).
fn filter_match(attribute: &Attribute, actual: &Value, wanted: &Value) -> bool {
    match (actual, wanted) {
        (Value::String(a), Value::String(w)) if !attribute.case_exact => a.eq_ignore_ascii_case(w),
        _ => actual == wanted,
    }
}

/// The object operations on `extension`'s attributes work in (created on demand).
fn container(resource: &mut Map<String, Value>, extension: bool) -> &mut Map<String, Value> {
    if !extension {
        return resource;
    }
    let entry = resource
        .entry(ENTERPRISE_URN)
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut().expect("just made an object")
}
