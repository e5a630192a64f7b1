//! `scim`: the SCIM 2.0 front door for identity providers, behind a Lambda function URL.
//!
//! This file only wires: the function URL's request becomes a [`gatehouse::scim::http::Request`]
//! and [`gatehouse::scim::Scim::handle`] answers it.

use gatehouse::scim::http::{Request as ScimRequest, CONTENT_TYPE};
use gatehouse::scim::{Scim, ScimConfig};
use lambda_http::request::RequestContext;
use lambda_http::{service_fn, Body, Error, Request, RequestExt, Response};

const FUNCTION: &str = "scim";

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = gatehouse::init::or_report(FUNCTION, ScimConfig::from_env()).await?;
    let sdk = gatehouse::sdk::load().await;
    let sdk = gatehouse::sdk::shared_http(&sdk);
    let scim = Scim::new(config, &sdk);
    lambda_http::run(service_fn(|request: Request| handler(&scim, request))).await
}

async fn handler(scim: &Scim, request: Request) -> Result<Response<Body>, Error> {
    let answer = Box::pin(scim.handle(from_url_request(&request))).await;
    let mut response = Response::builder().status(answer.status);
    if let Some(location) = &answer.location {
        response = response.header("location", location);
    }
    let body = match answer.body {
        Some(body) => {
            response = response.header("content-type", CONTENT_TYPE);
            Body::Text(body.to_string())
        }
        None => Body::Empty,
    };
    Ok(response.body(body)?)
}

/// The parts of a function URL request the front door reads.
fn from_url_request(request: &Request) -> ScimRequest {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let host = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.domain_name.clone(),
        _ => None,
    }
    .or_else(|| header("host"))
    .unwrap_or_else(|| "localhost".to_owned());
    ScimRequest {
        method: request.method().as_str().to_owned(),
        path: request.raw_http_path().to_owned(),
        query: request
            .query_string_parameters_ref()
            .map(|q| {
                q.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        authorization: header("authorization"),
        content_type: header("content-type"),
        body: request.body().to_vec(),
        base: format!("https://{host}"),
    }
}
