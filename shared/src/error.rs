//! Errors of the AWS shell, and the one question every caller asks of them: retry or not?
//!
//! The SDK error is kept whole as the `#[source]`: flattening it into a string would lose the
//! very facts (throttling, 5xx, timeouts) that decide whether a retry can help.

use std::error::Error as StdError;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::event::Rejection;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What to do with a message whose handling failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// The input can never succeed: acknowledge it, report it, never retry it.
    Rejected,
    /// A transient fault (throttling, 5xx, network, a role not yet assumable): retry later.
    Transient,
    /// Anything else (access denied, a missing resource): retrying may help only after a person
    /// acts, so the message is redelivered and ends in the dead-letter queue, never dropped.
    Fault,
}

impl Disposition {
    /// The Lambda `Diagnostic` error type for this disposition.
    pub fn error_type(self) -> &'static str {
        match self {
            Disposition::Rejected => "Rejected",
            Disposition::Transient => "Transient",
            Disposition::Fault => "Fault",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("{service} {operation} failed{}: {}", in_account(.account), .detail)]
    Aws {
        service: &'static str,
        operation: &'static str,
        account: Option<String>,
        /// The service's error code and message, for the log line; never carries request data.
        detail: String,
        transient: bool,
        #[source]
        source: BoxError,
    },
    /// A 200 answer that reports a partial failure (e.g. PutEvents' failed entries).
    #[error("{operation}: {detail}")]
    Partial {
        operation: &'static str,
        detail: String,
        transient: bool,
    },
    /// Work in some accounts failed; the others were done. Retrying converges the rest.
    #[error("{failed} of {total} accounts failed; first: {first}")]
    FanOut {
        failed: usize,
        total: usize,
        first: Box<Error>,
    },
}

fn in_account(account: &Option<String>) -> String {
    account
        .as_deref()
        .map(|a| format!(" in account {a}"))
        .unwrap_or_default()
}

/// What a function hands back to Lambda when an invocation fails: the disposition as the error
/// type (what the retry policy and alarms key on) and the message, which carries no request data.
impl From<Error> for lambda_runtime::Diagnostic {
    fn from(e: Error) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.disposition().error_type().to_owned(),
            error_message: e.to_string(),
        }
    }
}

impl Error {
    pub fn disposition(&self) -> Disposition {
        match self {
            Error::Rejected(_) => Disposition::Rejected,
            Error::Aws {
                transient: true, ..
            }
            | Error::Partial {
                transient: true, ..
            } => Disposition::Transient,
            Error::Aws { .. } | Error::Partial { .. } => Disposition::Fault,
            Error::FanOut { first, .. } => match first.disposition() {
                Disposition::Rejected => Disposition::Fault,
                d => d,
            },
        }
    }

    /// The same error, marked transient: for a fault that time is expected to cure, such as
    /// the role of an account created seconds ago.
    pub fn into_transient(self) -> Error {
        match self {
            Error::Aws {
                service,
                operation,
                account,
                detail,
                source,
                ..
            } => Error::Aws {
                service,
                operation,
                account,
                detail,
                transient: true,
                source,
            },
            Error::Partial {
                operation, detail, ..
            } => Error::Partial {
                operation,
                detail,
                transient: true,
            },
            other => other,
        }
    }

    /// The service error code, when AWS answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Aws { detail, .. } => detail.split(':').next(),
            _ => None,
        }
    }
}

/// Wraps an SDK error, classifying it once while its details are at hand.
pub fn aws<E>(
    service: &'static str,
    operation: &'static str,
    account: Option<&str>,
    err: SdkError<E, HttpResponse>,
) -> Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let (transient, detail) = match &err {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("Unknown");
            let message = se.err().message().unwrap_or("");
            let server_fault = se.raw().status().is_server_error();
            (
                server_fault || is_transient_code(code),
                format!("{code}: {message}"),
            )
        }
        SdkError::TimeoutError(_) => (true, "timeout".to_owned()),
        SdkError::DispatchFailure(_) => (true, "could not reach the service".to_owned()),
        SdkError::ResponseError(_) => (true, "unreadable response".to_owned()),
        _ => (false, "could not build the request".to_owned()),
    };
    Error::Aws {
        service,
        operation,
        account: account.map(str::to_owned),
        detail,
        transient,
        source: Box::new(err),
    }
}

/// Service error codes that mean "try again later" across the services Gatehouse uses.
fn is_transient_code(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "ProvisionedThroughputExceededException"
            | "RequestThrottled"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "ServiceFailure"
            | "InternalFailure"
            | "InternalServerError"
            | "InternalError"
            | "InternalServiceError"
            | "ConcurrentModification"
            | "ConcurrentModificationException"
            | "TransactionConflictException"
            | "RegionDisabledException"
            | "IDPCommunicationError"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_are_never_retried_and_fan_out_failures_always_are() {
        let rejected = Error::Rejected(Rejection::new("bad"));
        assert_eq!(rejected.disposition(), Disposition::Rejected);
        let fan = Error::FanOut {
            failed: 1,
            total: 3,
            first: Box::new(rejected),
        };
        assert_eq!(fan.disposition(), Disposition::Fault);
        let throttled = Error::Partial {
            operation: "PutEvents",
            detail: "1 failed".into(),
            transient: true,
        };
        assert_eq!(throttled.disposition(), Disposition::Transient);
    }

    #[test]
    fn throttling_and_server_faults_are_transient() {
        assert!(is_transient_code("Throttling"));
        assert!(is_transient_code("ServiceFailure"));
        assert!(!is_transient_code("AccessDenied"));
        assert!(!is_transient_code("NoSuchEntity"));
    }
}
