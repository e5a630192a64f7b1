//! The SCIM schemas Gatehouse serves (RFC 7643 §4 and §8.7.1), as data: the validator of
//! request bodies ([`super::resource`]), the PATCH engine and `/Schemas` all read these
//! tables, so what is advertised is exactly what is accepted.
//!
//! Left out on purpose: `ims`, `photos`, `entitlements` and `x509Certificates` (nothing
//! in Gatehouse reads them, no documented provider sends them by default; a client that sends
//! them is told so). The enterprise `manager` is kept as sent and never followed: Entra ID maps
//! it by default and clears it when someone leaves, in the same request as the deactivation.

use serde_json::{json, Map, Value};

use super::{ENTERPRISE_URN, GROUP_URN, USER_URN};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Boolean,
    DateTime,
    Reference,
    Complex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    /// Accepted and never stored or returned: `password` (Okta sends one unless told not to).
    WriteOnly,
}

#[derive(Debug)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: Type,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    /// `server` for `userName` and a group's `displayName`; `none` otherwise.
    pub unique: bool,
    pub canonical: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub: &'static [Attribute],
    pub description: &'static str,
}

const fn string(name: &'static str, description: &'static str) -> Attribute {
    Attribute {
        name,
        ty: Type::String,
        multi: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        unique: false,
        canonical: &[],
        reference_types: &[],
        sub: &[],
        description,
    }
}

impl Attribute {
    const fn of(mut self, ty: Type) -> Self {
        self.ty = ty;
        self
    }
    const fn multi(mut self) -> Self {
        self.multi = true;
        self
    }
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    const fn read_only(mut self) -> Self {
        self.mutability = Mutability::ReadOnly;
        self
    }
    const fn write_only(mut self) -> Self {
        self.mutability = Mutability::WriteOnly;
        self
    }
    const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical = values;
        self
    }
    const fn references(mut self, types: &'static [&'static str]) -> Self {
        self.ty = Type::Reference;
        self.reference_types = types;
        self
    }
    const fn complex(mut self, sub: &'static [Attribute]) -> Self {
        self.ty = Type::Complex;
        self.sub = sub;
        self
    }

    /// The sub-attribute named `name`, compared without regard to case (RFC 7643 §2.1).
    pub fn sub_attribute(&self, name: &str) -> Option<&'static Attribute> {
        find(self.sub, name)
    }
}

/// Two attributes are the same if they have the same name and description (no table holds
/// two such).
impl PartialEq for Attribute {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.description == other.description
    }
}

/// The attribute of `attributes` named `name`, without regard to case.
pub fn find(attributes: &'static [Attribute], name: &str) -> Option<&'static Attribute> {
    attributes
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
}

const PLURAL_TYPES: &[&str] = &["work", "home", "other"];

const NAME: &[Attribute] = &[
    string("formatted", "The full name"),
    string("familyName", "The family name"),
    string("givenName", "The given name"),
    string("middleName", "The middle name"),
    string("honorificPrefix", "The honorific prefix"),
    string("honorificSuffix", "The honorific suffix"),
];

const EMAIL: &[Attribute] = &[
    string("value", "The e-mail address"),
    string("display", "A human-readable name"),
    string("type", "work, home or other").canonical(PLURAL_TYPES),
    string("primary", "The primary address").of(Type::Boolean),
];

const PHONE: &[Attribute] = &[
    string("value", "The phone number"),
    string("display", "A human-readable name"),
    string("type", "work, home, mobile, fax, pager or other")
        .canonical(&["work", "home", "mobile", "fax", "pager", "other"]),
    string("primary", "The primary number").of(Type::Boolean),
];

const ADDRESS: &[Attribute] = &[
    string("formatted", "The full address"),
    string("streetAddress", "The street"),
    string("locality", "The city"),
    string("region", "The state or region"),
    string("postalCode", "The postal code"),
    string("country", "The country"),
    string("type", "work, home or other").canonical(PLURAL_TYPES),
    string("primary", "The primary address").of(Type::Boolean),
];

const ROLE: &[Attribute] = &[
    string("value", "The role"),
    string("display", "A human-readable name"),
    string("type", "The role's kind"),
    string("primary", "The primary role").of(Type::Boolean),
];

const MEMBERSHIP: &[Attribute] = &[
    string("value", "The group's id").read_only(),
    string("$ref", "The group's URI")
        .references(&["Group"])
        .read_only(),
    string("display", "The group's displayName").read_only(),
    string("type", "direct")
        .canonical(&["direct", "indirect"])
        .read_only(),
];

pub const USER: &[Attribute] = &[
    string(
        "userName",
        "Unique identifier for the user, as the identity provider names them",
    )
    .required()
    .unique(),
    string("name", "The user's name").complex(NAME),
    string("displayName", "The name displayed for the user"),
    string("nickName", "The casual name"),
    string("profileUrl", "The user's profile").references(&["external"]),
    string("title", "The user's title"),
    string("userType", "The user's relation to the organization"),
    string("preferredLanguage", "The preferred language"),
    string("locale", "The user's locale"),
    string("timezone", "The user's time zone"),
    string(
        "active",
        "Whether the user may have access: false closes it everywhere",
    )
    .of(Type::Boolean),
    string(
        "password",
        "Accepted and discarded: Gatehouse never stores a password",
    )
    .write_only()
    .case_exact(),
    string(
        "emails",
        "E-mail addresses; the primary one is the work address Gatehouse uses",
    )
    .complex(EMAIL)
    .multi(),
    string("phoneNumbers", "Phone numbers")
        .complex(PHONE)
        .multi(),
    string("addresses", "Physical addresses")
        .complex(ADDRESS)
        .multi(),
    // Entra ID sends `"roles": []` with every user; kept, never read.
    string("roles", "Roles, as the identity provider names them")
        .complex(ROLE)
        .multi(),
    string(
        "groups",
        "The groups the user belongs to, kept by Gatehouse from /Groups",
    )
    .complex(MEMBERSHIP)
    .multi()
    .read_only(),
];

const MANAGER: &[Attribute] = &[
    string("value", "The manager's id").case_exact(),
    string("$ref", "The manager's URI").references(&["User"]),
    string("displayName", "The manager's name").read_only(),
];

pub const ENTERPRISE: &[Attribute] = &[
    string(
        "employeeNumber",
        "The HR employee id (takes precedence over externalId)",
    )
    .case_exact(),
    string("costCenter", "The cost center"),
    string("organization", "The organization"),
    string("division", "The division"),
    string(
        "department",
        "The department (a team, when the policy takes teams from it)",
    ),
    string("manager", "The user's manager (kept, never followed)").complex(MANAGER),
];

const MEMBER: &[Attribute] = &[
    string("value", "The member's id").case_exact(),
    string("$ref", "The member's URI").references(&["User"]),
    string("display", "The member's name"),
    string("type", "User").canonical(&["User"]),
];

pub const GROUP: &[Attribute] = &[
    string(
        "displayName",
        "The group's name (a team, when the policy takes teams from groups)",
    )
    .required()
    .unique(),
    string("members", "The group's users")
        .complex(MEMBER)
        .multi(),
];

/// The schemas a resource of each type serves, core first.
pub fn schema(urn: &str) -> Option<(&'static str, &'static [Attribute])> {
    match urn {
        u if u.eq_ignore_ascii_case(USER_URN) => Some(("User", USER)),
        u if u.eq_ignore_ascii_case(ENTERPRISE_URN) => Some(("EnterpriseUser", ENTERPRISE)),
        u if u.eq_ignore_ascii_case(GROUP_URN) => Some(("Group", GROUP)),
        _ => None,
    }
}

fn render_attribute(a: &Attribute) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), a.name.into());
    let ty = match a.ty {
        Type::String => "string",
        Type::Boolean => "boolean",
        Type::DateTime => "dateTime",
        Type::Reference => "reference",
        Type::Complex => "complex",
    };
    out.insert("type".into(), ty.into());
    out.insert("multiValued".into(), a.multi.into());
    out.insert("description".into(), a.description.into());
    out.insert("required".into(), a.required.into());
    if a.ty == Type::Complex {
        let sub: Vec<Value> = a.sub.iter().map(render_attribute).collect();
        out.insert("subAttributes".into(), sub.into());
    } else {
        out.insert("caseExact".into(), a.case_exact.into());
    }
    if !a.canonical.is_empty() {
        out.insert("canonicalValues".into(), json!(a.canonical));
    }
    if !a.reference_types.is_empty() {
        out.insert("referenceTypes".into(), json!(a.reference_types));
    }
    let (mutability, returned) = match a.mutability {
        Mutability::ReadOnly => ("readOnly", "default"),
        Mutability::ReadWrite => ("readWrite", "default"),
        Mutability::WriteOnly => ("writeOnly", "never"),
    };
    out.insert("mutability".into(), mutability.into());
    out.insert("returned".into(), returned.into());
    let uniqueness = if a.unique { "server" } else { "none" };
    out.insert("uniqueness".into(), uniqueness.into());
    Value::Object(out)
}

/// The `/Schemas` representation of the schema `urn` (RFC 7643 §7), at `base`.
pub fn render(urn: &str, base: &str) -> Option<Value> {
    let (name, attributes) = schema(urn)?;
    let canonical_urn = [USER_URN, ENTERPRISE_URN, GROUP_URN]
        .into_iter()
        .find(|u| u.eq_ignore_ascii_case(urn))?;
    let description = match name {
        "User" => "User Account",
        "EnterpriseUser" => "Enterprise User",
        _ => "Group",
    };
    Some(json!({
        "schemas": [super::SCHEMA_URN],
        "id": canonical_urn,
        "name": name,
        "description": description,
        // `password` is accepted (Okta sends one) and discarded: not advertised, so that no
        // client is led to think Gatehouse keeps it.
        "attributes": attributes
            .iter()
            .filter(|a| a.mutability != Mutability::WriteOnly)
            .map(render_attribute)
            .collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Schema",
            "location": format!("{base}/Schemas/{canonical_urn}"),
        },
    }))
}
