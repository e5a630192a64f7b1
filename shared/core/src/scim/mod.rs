//! SCIM 2.0 (RFC 7643 and 7644), the front door for identity providers: everything that
//! decides, as plain functions. The `scim` function's shell stores resources, checks the
//! bearer token and sends the HR events these functions say a change means.
//!
//! - [`error`]: SCIM errors, status and `scimType`;
//! - [`schema`]: the User, enterprise extension and Group schemas, as data;
//! - [`resource`]: request bodies validated into the stored form, and rendered back;
//! - [`path`]: PATCH paths and `filter=` expressions;
//! - [`patch`]: PATCH applied, with the documented identity providers' variations;
//! - [`person`]: what a user means to Gatehouse, and which HR events a change is;
//! - [`discovery`]: `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`, list responses.

pub mod discovery;
pub mod error;
pub mod patch;
pub mod path;
pub mod person;
pub mod resource;
pub mod schema;

pub use error::ScimError;
pub use resource::Kind;

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SERVICE_PROVIDER_CONFIG_URN: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// The largest request body accepted, in bytes: a group of a few thousand members fits.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
