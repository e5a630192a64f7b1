//! Attribute paths (RFC 7644 §3.5.2, `PATCH`) and filters (§3.4.2.2, `GET ?filter=`), in the
//! subset identity providers use: `attr`, `attr.sub`, `urn:…:attr`, `attr[sub eq "v"]` and
//! `attr[sub eq "v"].sub`; filters `attr eq "value"`. Anything else is refused with the RFC's
//! `invalidPath` or `invalidFilter`, never read as something close to it.

use serde_json::Value;

use super::error::ScimError;
use super::resource::{strip_urn, top_level, Kind};
use super::schema::{self, Attribute, Type};
use super::{ENTERPRISE_URN, GROUP_URN, USER_URN};

/// Where a `PATCH` operation points.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The enterprise extension as a whole (`path` is its URN).
    Extension,
    Attribute(AttributePath),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttributePath {
    /// Under the enterprise extension's URN rather than at the top level.
    pub extension: bool,
    pub attribute: &'static Attribute,
    /// `[sub eq value]`: which values of a multi-valued attribute.
    pub filter: Option<(&'static Attribute, Value)>,
    pub sub: Option<&'static Attribute>,
}

pub fn parse_path(kind: Kind, path: &str) -> Result<Target, ScimError> {
    let bad = || ScimError::invalid_path("`path` is not an attribute path Gatehouse can follow");
    let (extension, rest) = if let Some(rest) = strip_urn(path, ENTERPRISE_URN) {
        if kind != Kind::User {
            return Err(bad());
        }
        if rest.is_empty() {
            return Ok(Target::Extension);
        }
        (true, rest.strip_prefix(':').ok_or_else(bad)?)
    } else if let Some(rest) = [USER_URN, GROUP_URN]
        .into_iter()
        .filter(|u| *u == kind.core_urn())
        .find_map(|u| strip_urn(path, u))
    {
        (false, rest.strip_prefix(':').ok_or_else(bad)?)
    } else {
        (false, path)
    };
    let end = rest.find(['[', '.']).unwrap_or(rest.len());
    let (name, mut rest) = rest.split_at(end);
    let attribute = if extension {
        schema::find(schema::ENTERPRISE, name)
    } else {
        top_level(kind, name)
    }
    .ok_or_else(bad)?;
    let mut filter = None;
    if let Some(inner) = rest.strip_prefix('[') {
        let close = inner.rfind(']').ok_or_else(bad)?;
        if !attribute.multi || attribute.ty != Type::Complex {
            return Err(bad());
        }
        let (sub_name, value) = comparison(&inner[..close]).map_err(|_| bad())?;
        let sub = attribute.sub_attribute(sub_name).ok_or_else(bad)?;
        filter = Some((sub, value));
        rest = &inner[close + 1..];
    }
    let sub = match rest.strip_prefix('.') {
        None if rest.is_empty() => None,
        None => return Err(bad()),
        Some(sub) => Some(attribute.sub_attribute(sub).ok_or_else(bad)?),
    };
    if sub.is_some() && attribute.ty != Type::Complex {
        return Err(bad());
    }
    Ok(Target::Attribute(AttributePath {
        extension,
        attribute,
        filter,
        sub,
    }))
}

/// `attr eq value`, the only comparison Gatehouse evaluates: the attribute (as written) and
/// the value (a JSON string, boolean or number).
fn comparison(s: &str) -> Result<(&str, Value), ()> {
    let (attribute, rest) = s.split_once(' ').ok_or(())?;
    let (op, value) = rest.split_once(' ').ok_or(())?;
    if !op.eq_ignore_ascii_case("eq") || attribute.is_empty() {
        return Err(());
    }
    let value: Value = serde_json::from_str(value).map_err(|_| ())?;
    match value {
        Value::String(_) | Value::Bool(_) | Value::Number(_) => Ok((attribute, value)),
        _ => Err(()),
    }
}

/// What a `GET ?filter=` asks for: resources whose attribute equals the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `userName eq "…"` (case-insensitive, as `userName` is) or a group's `displayName eq "…"`.
    Name(String),
    /// `externalId eq "…"` (case-exact).
    ExternalId(String),
    /// `id eq "…"`.
    Id(String),
}

/// Parses a `filter` for `kind`: only equality on the attributes identity providers look
/// resources up by. Everything else is `invalidFilter`.
pub fn parse_filter(kind: Kind, s: &str) -> Result<Filter, ScimError> {
    let refused = || {
        ScimError::invalid_filter(
            "Gatehouse filters only on `attribute eq \"value\"` with userName (Users), \
             displayName (Groups), externalId or id",
        )
    };
    let (attribute, value) = comparison(s).map_err(|_| refused())?;
    let Value::String(value) = value else {
        return Err(refused());
    };
    let name_attribute = match kind {
        Kind::User => "userName",
        Kind::Group => "displayName",
    };
    let attribute = [USER_URN, GROUP_URN]
        .into_iter()
        .filter(|u| *u == kind.core_urn())
        .find_map(|u| strip_urn(attribute, u).and_then(|r| r.strip_prefix(':')))
        .unwrap_or(attribute);
    if attribute.eq_ignore_ascii_case(name_attribute) {
        Ok(Filter::Name(value))
    } else if attribute.eq_ignore_ascii_case("externalId") {
        Ok(Filter::ExternalId(value))
    } else if attribute.eq_ignore_ascii_case("id") {
        Ok(Filter::Id(value))
    } else {
        Err(refused())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribute(kind: Kind, p: &str) -> AttributePath {
        match parse_path(kind, p).unwrap() {
            Target::Attribute(a) => a,
            Target::Extension => panic!("{p} is the extension"),
        }
    }

    #[test]
    fn paths_identity_providers_send_are_followed() {
        let a = attribute(Kind::User, "active");
        assert_eq!(
            (a.attribute.name, a.extension, a.sub),
            ("active", false, None)
        );
        let a = attribute(Kind::User, "name.givenName");
        assert_eq!(a.sub.map(|s| s.name), Some("givenName"));
        let a = attribute(Kind::User, "emails[type eq \"work\"].value");
        assert_eq!(
            a.filter.as_ref().map(|f| (f.0.name, f.1.clone())),
            Some(("type", "work".into()))
        );
        assert_eq!(a.sub.map(|s| s.name), Some("value"));
        let a = attribute(
            Kind::User,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        );
        assert!(a.extension);
        assert_eq!(a.attribute.name, "employeeNumber");
        let a = attribute(
            Kind::User,
            "urn:ietf:params:scim:schemas:core:2.0:User:userName",
        );
        assert_eq!(a.attribute.name, "userName");
        let a = attribute(Kind::Group, "members[value eq \"2819c223\"]");
        assert_eq!(a.filter.map(|f| f.1), Some(Value::from("2819c223")));
        assert_eq!(
            parse_path(Kind::User, ENTERPRISE_URN).unwrap(),
            Target::Extension
        );
        // Names are case-insensitive.
        assert_eq!(attribute(Kind::User, "ACTIVE").attribute.name, "active");
    }

    #[test]
    fn anything_else_is_invalid_path() {
        for p in [
            "",
            "nosuch",
            "name.nosuch",
            "active.value",
            "emails[type ne \"work\"]",
            "emails[type eq work]",
            "emails[type eq \"work\"",
            "userName[value eq \"x\"]",
            "emails[type eq \"work\"]x",
            "urn:example:custom:attr",
            "members",
        ] {
            let err = parse_path(Kind::User, p).unwrap_err();
            assert_eq!(err.scim_type, Some("invalidPath"), "{p}");
        }
        assert!(parse_path(Kind::Group, ENTERPRISE_URN).is_err());
    }

    #[test]
    fn filters_are_equality_on_lookup_attributes_only() {
        assert_eq!(
            parse_filter(Kind::User, "userName eq \"ada@example.com\"").unwrap(),
            Filter::Name("ada@example.com".into())
        );
        assert_eq!(
            parse_filter(Kind::User, "externalId EQ \"00u1\"").unwrap(),
            Filter::ExternalId("00u1".into())
        );
        assert_eq!(
            parse_filter(Kind::Group, "displayName eq \"engineering\"").unwrap(),
            Filter::Name("engineering".into())
        );
        for f in [
            "userName sw \"a\"",
            "userName eq \"a\" and active eq true",
            "title eq \"x\"",
            "displayName eq \"x\"",
            "userName eq true",
            "userName eq",
        ] {
            let err = parse_filter(Kind::User, f).unwrap_err();
            assert_eq!(
                (err.status, err.scim_type),
                (400, Some("invalidFilter")),
                "{f}"
            );
        }
    }
}
