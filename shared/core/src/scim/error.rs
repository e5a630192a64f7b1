//! SCIM errors (RFC 7644 §3.12): an HTTP status, a `scimType` where the RFC names one, and a
//! detail that says which rule was broken. Like [`crate::ids::Invalid`], a detail names the
//! attribute and the rule and never echoes the value: it may be anything a client sent.

use serde_json::{json, Value};

use super::ERROR_URN;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    /// One of the RFC's `scimType` keywords (`invalidFilter`, `uniqueness`, `mutability`,
    /// `invalidSyntax`, `invalidPath`, `noTarget`, `invalidValue`, `tooMany`, ...).
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// 400 `invalidValue`: a value that breaks the schema or Gatehouse's rules.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        ScimError::new(400, Some("invalidValue"), detail)
    }

    /// 400 `invalidSyntax`: a body that is not the JSON a request of its kind must be.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        ScimError::new(400, Some("invalidSyntax"), detail)
    }

    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        ScimError::new(400, Some("invalidFilter"), detail)
    }

    pub fn invalid_path(detail: impl Into<String>) -> Self {
        ScimError::new(400, Some("invalidPath"), detail)
    }

    pub fn no_target(detail: impl Into<String>) -> Self {
        ScimError::new(400, Some("noTarget"), detail)
    }

    pub fn mutability(detail: impl Into<String>) -> Self {
        ScimError::new(400, Some("mutability"), detail)
    }

    /// 409 `uniqueness`: another resource holds a value that must be unique.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        ScimError::new(409, Some("uniqueness"), detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ScimError::new(404, None, detail)
    }

    /// A status without a `scimType` (401, 405, 409 on a concurrent change, 413, 415, 501, ...).
    pub fn status(status: u16, detail: impl Into<String>) -> Self {
        ScimError::new(status, None, detail)
    }

    /// The error response body. `status` is a string, as RFC 7644 §3.12 shows it.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_URN],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = t.into();
        }
        body
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

impl std::error::Error for ScimError {}
