//! One SCIM request, as the function receives it: checked for size and token, routed, answered
//! with `application/scim+json`, and logged as one line of ids (never a name, an address or
//! the token).

use std::time::Instant;

use gatehouse_core::envelope::unique_keys;
use gatehouse_core::scim::discovery::{self, paging};
use gatehouse_core::scim::path::parse_filter;
use gatehouse_core::scim::resource::{self, Kind, Meta};
use gatehouse_core::scim::{schema, ScimError, MAX_BODY_BYTES};
use serde_json::Value;

use super::store::Stored;
use super::token::Verdict;
use super::{Failure, Scim};

/// A request, from the function URL's event.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    /// The path below the service's root: `/Users/2819c223-…`.
    pub path: String,
    /// The query's parameters, decoded.
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// The service's root URL, for `meta.location`: `https://<function URL host>`.
    pub base: String,
}

impl Request {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A comma-separated list parameter (`attributes`, `excludedAttributes`).
    fn list(&self, name: &str) -> Vec<String> {
        self.param(name)
            .map(|v| {
                v.split(',')
                    .map(|a| a.trim().to_owned())
                    .filter(|a| !a.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The answer: a status, and a SCIM body for every status but 204.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub body: Option<Value>,
    /// `Location` of a created resource (equal to its `meta.location`).
    pub location: Option<String>,
}

pub const CONTENT_TYPE: &str = "application/scim+json";

impl Response {
    fn ok(status: u16, body: Value) -> Response {
        Response {
            status,
            body: Some(body),
            location: None,
        }
    }

    fn error(e: &ScimError) -> Response {
        Response::ok(e.status, e.body())
    }

    /// A resource. No `ETag` header: versions are not offered for `If-Match`
    /// (`etag.supported` is false), so `meta.version` is information only.
    fn resource(status: u16, body: Value) -> Response {
        let location = body["meta"]["location"].as_str().map(str::to_owned);
        Response {
            status,
            location: location.filter(|_| status == 201),
            body: Some(body),
        }
    }
}

/// Where a request went: for the log line (a template, never the path's values).
struct Route {
    name: &'static str,
    id: Option<String>,
}

impl Route {
    /// The route template of `path`, and the resource id in it: for the log line only.
    fn of(path: &str) -> Route {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let (name, id) = match segments.as_slice() {
            ["Users"] => ("/Users", None),
            ["Users", id] => ("/Users/{id}", Some(*id)),
            ["Groups"] => ("/Groups", None),
            ["Groups", id] => ("/Groups/{id}", Some(*id)),
            ["ServiceProviderConfig"] => ("/ServiceProviderConfig", None),
            ["ResourceTypes"] => ("/ResourceTypes", None),
            ["ResourceTypes", _] => ("/ResourceTypes/{name}", None),
            ["Schemas"] => ("/Schemas", None),
            ["Schemas", _] => ("/Schemas/{id}", None),
            _ => ("-", None),
        };
        // An id is logged only if it could be one of ours (a UUID's characters, bounded): a
        // path is the client's text.
        let id = id
            .filter(|i| i.len() <= 64 && i.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        Route {
            name,
            id: id.map(str::to_owned),
        }
    }
}

impl Scim {
    /// Answers one request. Never fails: whatever goes wrong is a SCIM error response.
    pub async fn handle(&self, request: Request) -> Response {
        let started = Instant::now();
        // Named before anything is checked, so that a request refused for its token or its size
        // is logged (and alarmed on) with the route it was for.
        let mut route = Route::of(&request.path);
        let response = self.answer(&request, &mut route).await;
        tracing::info!(
            method = %request.method,
            route = route.name,
            id = route.id.as_deref().unwrap_or("-"),
            status = response.status,
            ms = started.elapsed().as_millis() as u64,
            "scim request"
        );
        response
    }

    async fn answer(&self, request: &Request, route: &mut Route) -> Response {
        if request.body.len() > MAX_BODY_BYTES {
            return Response::error(&ScimError::status(
                413,
                format!("the body is over {MAX_BODY_BYTES} bytes"),
            ));
        }
        match self.tokens.check(request.authorization.as_deref()).await {
            Ok(Verdict::Accepted) => {}
            Ok(Verdict::Refused) => {
                return Response::error(&ScimError::status(
                    401,
                    "a valid bearer token is required (Authorization: Bearer <token>)",
                ))
            }
            Err(e) => return failure(Failure::Aws(e)),
        }
        match self.route(request, route).await {
            Ok(r) => r,
            Err(f) => failure(f),
        }
    }

    async fn route(&self, request: &Request, route: &mut Route) -> Result<Response, Failure> {
        let segments: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
        let method = request.method.as_str();
        let base = request.base.as_str();
        // The resource type the first segment names, if it names one.
        let kind = match segments.first() {
            Some(&"Users") => Some(Kind::User),
            Some(&"Groups") => Some(Kind::Group),
            _ => None,
        };
        match (segments.as_slice(), kind, method) {
            (["ServiceProviderConfig"], _, m) => {
                only_get(m)?;
                Ok(Response::ok(200, discovery::service_provider_config(base)))
            }
            (["ResourceTypes"], _, m) => {
                only_get(m)?;
                Ok(Response::ok(200, discovery::resource_types(base)))
            }
            (["ResourceTypes", name], _, m) => {
                only_get(m)?;
                discovery::resource_type(name, base)
                    .map(|b| Response::ok(200, b))
                    .ok_or_else(|| ScimError::not_found("no such resource type").into())
            }
            (["Schemas"], _, m) => {
                only_get(m)?;
                Ok(Response::ok(200, discovery::schemas(base)))
            }
            (["Schemas", urn], _, m) => {
                only_get(m)?;
                schema::render(urn, base)
                    .map(|b| Response::ok(200, b))
                    .ok_or_else(|| ScimError::not_found("no such schema").into())
            }
            ([".search"] | [_, ".search"], _, "POST") => {
                route.name = "/.search";
                Err(ScimError::status(
                    501,
                    "searching with POST is not supported: use GET with `filter`",
                )
                .into())
            }
            ([_], Some(kind), m) => match m {
                "GET" => self.list(kind, request).await,
                "POST" => {
                    let body = json_body(request)?;
                    let created = match kind {
                        Kind::User => self.create_user(&body).await?,
                        Kind::Group => self.create_group(&body).await?,
                    };
                    route.id = Some(created.id.clone());
                    Ok(Response::resource(201, rendered(kind, &created, request)))
                }
                _ => Err(not_allowed().into()),
            },
            ([_, id], Some(kind), m) => {
                let stored = match (kind, m) {
                    (_, "GET") => self.get_resource(kind, id).await?,
                    (Kind::User, "PUT") => self.replace_user(id, &json_body(request)?).await?,
                    (Kind::Group, "PUT") => self.replace_group(id, &json_body(request)?).await?,
                    (Kind::User, "PATCH") => self.patch_user(id, &json_body(request)?).await?,
                    (Kind::Group, "PATCH") => self.patch_group(id, &json_body(request)?).await?,
                    (Kind::User, "DELETE") => {
                        self.delete_user(id).await?;
                        return Ok(no_content());
                    }
                    (Kind::Group, "DELETE") => {
                        self.delete_group(id).await?;
                        return Ok(no_content());
                    }
                    _ => return Err(not_allowed().into()),
                };
                Ok(Response::resource(200, rendered(kind, &stored, request)))
            }
            _ => Err(ScimError::not_found("no such endpoint").into()),
        }
    }

    async fn list(&self, kind: Kind, request: &Request) -> Result<Response, Failure> {
        let filter = request
            .param("filter")
            .map(|f| parse_filter(kind, f))
            .transpose()?;
        let (start, count) = paging(request.param("startIndex"), request.param("count"))?;
        let found = self.find(kind, filter.as_ref()).await?;
        let total = found.len();
        let page: Vec<Value> = found
            .iter()
            .skip(start - 1)
            .take(count)
            .map(|r| rendered(kind, r, request))
            .collect();
        Ok(Response::ok(200, discovery::list(page, total, start)))
    }
}

fn rendered(kind: Kind, stored: &Stored, request: &Request) -> Value {
    let meta = Meta {
        created: stored.created.clone(),
        last_modified: stored.modified.clone(),
        version: stored.version,
    };
    let full = resource::render(
        kind,
        &stored.id,
        &stored.doc,
        &meta,
        &stored.groups,
        &request.base,
    );
    resource::project(
        full,
        &request.list("attributes"),
        &request.list("excludedAttributes"),
    )
}

fn no_content() -> Response {
    Response {
        status: 204,
        body: None,
        location: None,
    }
}

fn not_allowed() -> ScimError {
    ScimError::status(405, "this endpoint does not take that method")
}

fn only_get(method: &str) -> Result<(), ScimError> {
    if method == "GET" {
        Ok(())
    } else {
        Err(not_allowed())
    }
}

/// The request's JSON body: `application/scim+json` or `application/json`, no key twice.
fn json_body(request: &Request) -> Result<Value, ScimError> {
    let media = request
        .content_type
        .as_deref()
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    if !matches!(
        media.as_deref(),
        Some("application/scim+json" | "application/json")
    ) {
        return Err(ScimError::status(
            415,
            "the body must be application/scim+json (or application/json)",
        ));
    }
    unique_keys(&request.body).map_err(|r| ScimError::invalid_syntax(r.reason))?;
    serde_json::from_slice(&request.body)
        .map_err(|_| ScimError::invalid_syntax("the body is not JSON"))
}

/// A failure as the client sees it: its own request's error, or 503 (retry) / 500 for
/// Gatehouse's side, whose cause goes to the log only.
fn failure(f: Failure) -> Response {
    match f {
        Failure::Scim(e) => Response::error(&e),
        Failure::Aws(e) => {
            let transient = e.kind() == crate::error::FailureKind::Transient;
            tracing::error!(error = %e, transient, "scim request failed");
            let status = if transient { 503 } else { 500 };
            Response::error(&ScimError::status(
                status,
                "Gatehouse could not complete the request: retry it",
            ))
        }
    }
}
