//! What a client reads before it writes: `/ServiceProviderConfig` (what Gatehouse supports),
//! `/ResourceTypes`, `/Schemas` (rendered from [`super::schema`]), and list responses with
//! their paging (RFC 7644 §3.4.2.4).

use serde_json::{json, Value};

use super::error::ScimError;
use super::SERVICE_PROVIDER_CONFIG_URN;
use super::{schema, ENTERPRISE_URN, GROUP_URN, LIST_URN, RESOURCE_TYPE_URN, USER_URN};

/// The most resources one page holds, whatever `count` asks for.
pub const MAX_PAGE: usize = 100;

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_URN],
        // RFC 7643 §5 has no place for a request size limit outside bulk: a larger body is
        // answered 413 with a SCIM error naming the limit (MAX_BODY_BYTES).
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_PAGE},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "The token in the function's Secrets Manager secret, as `Authorization: Bearer <token>`",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

pub fn resource_type(name: &str, base: &str) -> Option<Value> {
    let (endpoint, urn, extensions, description) = match name {
        "User" => ("/Users", USER_URN, vec![ENTERPRISE_URN], "A person"),
        "Group" => ("/Groups", GROUP_URN, vec![], "A group of users"),
        _ => return None,
    };
    let extensions: Vec<Value> = extensions
        .into_iter()
        .map(|u| json!({"schema": u, "required": false}))
        .collect();
    Some(json!({
        "schemas": [RESOURCE_TYPE_URN],
        "id": name,
        "name": name,
        "endpoint": endpoint,
        "description": description,
        "schema": urn,
        "schemaExtensions": extensions,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base}/ResourceTypes/{name}"),
        },
    }))
}

pub fn resource_types(base: &str) -> Value {
    let all: Vec<Value> = ["User", "Group"]
        .into_iter()
        .filter_map(|n| resource_type(n, base))
        .collect();
    list(all, 2, 1)
}

pub fn schemas(base: &str) -> Value {
    let all: Vec<Value> = [USER_URN, ENTERPRISE_URN, GROUP_URN]
        .into_iter()
        .filter_map(|u| schema::render(u, base))
        .collect();
    list(all, 3, 1)
}

/// A `ListResponse` of one page, `start_index` being the 1-based index of its first resource.
pub fn list(resources: Vec<Value>, total: usize, start_index: usize) -> Value {
    json!({
        "schemas": [LIST_URN],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// `startIndex` and `count` as RFC 7644 §3.4.2.4 reads them: a start below 1 is 1, a negative
/// count is 0; a count above [`MAX_PAGE`] is [`MAX_PAGE`]. Not a whole number: refused.
pub fn paging(start: Option<&str>, count: Option<&str>) -> Result<(usize, usize), ScimError> {
    let number = |name: &str, v: Option<&str>, default: i64| match v {
        None => Ok(default),
        Some(s) => s
            .parse::<i64>()
            .map_err(|_| ScimError::invalid_value(format!("`{name}` must be a whole number"))),
    };
    let start = number("startIndex", start, 1)?.max(1) as usize;
    let count = number("count", count, MAX_PAGE as i64)?.clamp(0, MAX_PAGE as i64) as usize;
    Ok((start, count))
}
