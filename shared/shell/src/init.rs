//! Init errors, reported where people look. A function that refuses to start (a missing or
//! invalid setting) tells the Lambda Runtime API why, on its init-error endpoint, before it
//! exits: Lambda then answers the invocation with that message (`Runtime.InitError`) and logs
//! it, and `cargo lambda watch` hands it to the waiting `cargo lambda invoke` instead of
//! leaving it hanging. `lambda_runtime` only reports its own init failures (SnapStart's), so
//! the functions report theirs through [`or_report`].

use std::fmt::Display;
use std::time::Duration;

use lambda_runtime::Diagnostic;
use lambda_runtime_api_client::body::Body;
use lambda_runtime_api_client::{build_request, PooledClient};

/// The `errorType` of an init error, as Lambda names the init phase's failures.
pub const INIT_ERROR_TYPE: &str = "Runtime.InitError";
/// The Runtime API's address, set by Lambda (and by `cargo lambda watch`).
const RUNTIME_API: &str = "AWS_LAMBDA_RUNTIME_API";
const ENDPOINT: &str = "/2018-06-01/runtime/init/error";
/// Never wait long on the way out: the function stops whether or not the report arrives.
const REPORT_TIMEOUT: Duration = Duration::from_secs(5);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Passes a value through; on an error, reports `"<function>: configuration: <error>"` as the
/// init error (see [`report`]) and returns it, for `main` to stop the process with.
pub async fn or_report<T, E: Display>(
    function: &str,
    configured: Result<T, E>,
) -> Result<T, lambda_runtime::Error> {
    match configured {
        Ok(value) => Ok(value),
        Err(e) => {
            let message = format!("{function}: configuration: {e}");
            report(&message).await;
            Err(message.into())
        }
    }
}

/// The document posted to the init-error endpoint.
pub fn diagnostic(message: &str) -> Diagnostic {
    Diagnostic {
        error_type: INIT_ERROR_TYPE.to_owned(),
        error_message: message.to_owned(),
    }
}

/// Posts `message` to the Runtime API's init-error endpoint, when there is a Runtime API (not
/// when the binary is run by hand). Never fails: a report that cannot be delivered is logged,
/// and the caller stops the process either way.
pub async fn report(message: &str) {
    let Ok(api) = std::env::var(RUNTIME_API) else {
        return;
    };
    let outcome = tokio::time::timeout(REPORT_TIMEOUT, post(&api, message)).await;
    let failure = match outcome {
        Ok(Ok(())) => return,
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {REPORT_TIMEOUT:?}"),
    };
    tracing::error!(%failure, "could not report the init error to the Runtime API");
}

async fn post(api: &str, message: &str) -> Result<(), BoxError> {
    let base = format!("http://{}", api.trim_start_matches("http://"));
    let client = PooledClient::builder()
        .with_endpoint(
            base.parse()
                .map_err(|e| format!("{RUNTIME_API}={api}: {e}"))?,
        )
        .build();
    let request = build_request()
        .method("POST")
        .uri(ENDPOINT)
        .header("Lambda-Runtime-Function-Error-Type", INIT_ERROR_TYPE)
        .header("Content-Type", "application/json")
        .body(Body::from(serde_json::to_vec(&diagnostic(message))?))?;
    let answer = client.call(request).await?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(format!("{ENDPOINT} answered {}", answer.status()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diagnostic_names_the_init_error_and_carries_the_message() {
        let d = serde_json::to_value(diagnostic("f: configuration: X is not set")).unwrap();
        assert_eq!(
            d,
            serde_json::json!({
                "errorType": "Runtime.InitError",
                "errorMessage": "f: configuration: X is not set"
            })
        );
    }

    #[tokio::test]
    async fn a_good_configuration_passes_through() {
        let got = or_report::<_, String>("f", Ok(7)).await.unwrap();
        assert_eq!(got, 7);
    }

    #[tokio::test]
    async fn a_refused_configuration_stops_the_function_naming_the_setting() {
        // No Runtime API in a unit test: nothing is posted, the message is returned.
        if std::env::var(RUNTIME_API).is_ok() {
            return;
        }
        let e = or_report::<(), _>("f", Err("X is not set"))
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "f: configuration: X is not set");
    }
}
