//! Errors of the AWS shell, and the one question every caller asks of them: retry or not?
//!
//! The SDK error is kept whole as the `#[source]`, and the service's error code is kept as a
//! field: flattening either into a string would lose the very facts (throttling, 5xx, timeouts,
//! which code) that decide whether a retry can help.

use std::error::Error as StdError;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use gatehouse_core::envelope::Rejection;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What kind of failure an error is: what to do with the message that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The input can never succeed: acknowledge it, report it, never retry it.
    Rejected,
    /// A transient fault (throttling, 5xx, network, a role not yet assumable): retry later.
    Transient,
    /// Anything else (access denied, a missing resource, a name taken by someone else):
    /// retrying may help only after a person acts, so the message is redelivered and ends in
    /// the dead-letter queue, never dropped.
    Fault,
}

impl FailureKind {
    /// The Lambda `Diagnostic` error type for this kind.
    pub fn error_type(self) -> &'static str {
        match self {
            FailureKind::Rejected => "Rejected",
            FailureKind::Transient => "Transient",
            FailureKind::Fault => "Fault",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// A call that AWS (or the network on the way) refused.
    #[error("{service} {operation} failed{}: {}", in_account(.account), describe(.code, .message))]
    Aws {
        service: &'static str,
        operation: &'static str,
        account: Option<String>,
        /// The service's error code (`Throttling`, `NoSuchEntity`, ...), when it answered.
        code: Option<String>,
        /// What went wrong, for the log line; never carries request data.
        message: String,
        transient: bool,
        #[source]
        source: BoxError,
    },
    /// A 200 answer of a batch call that reports failed entries (PutEvents' failed entries,
    /// SendMessageBatch's `Failed`).
    #[error("{operation}: {failed} of {total} entries were not accepted ({})", .codes.join(", "))]
    PartialBatch {
        operation: &'static str,
        failed: usize,
        total: usize,
        codes: Vec<String>,
        transient: bool,
    },
    /// A 200 answer without a field the API promises (no credentials from AssumeRole, no ARN
    /// from CreateSecret).
    #[error("{operation}: the answer has no {missing}")]
    IncompleteAnswer {
        operation: &'static str,
        missing: &'static str,
    },
    /// A name Gatehouse must lay (a role, a group) is taken by something it did not make: never
    /// taken over, a fault for a person to resolve.
    #[error("{what} in account {account} is not Gatehouse's ({why}); it is not taken over")]
    Conflict {
        account: String,
        what: String,
        why: String,
    },
    /// An account without the Gatehouse baseline the provisioner works within (the boundary):
    /// neither `account-created` nor the member stack has been there.
    #[error("account {account} has no Gatehouse baseline ({missing} is missing): deploy the member-account stack to it or replay its account-created event")]
    NoBaseline {
        account: String,
        missing: &'static str,
    },
    /// Something another process lays (the member stack) has not reached an account yet.
    #[error(
        "account {account} has no {what} yet: the member-account stack has not been deployed to it"
    )]
    NotYet { account: String, what: String },
    /// A directory record that Gatehouse cannot read back.
    #[error("directory record of {employee} has no valid {field}")]
    CorruptRecord {
        employee: String,
        field: &'static str,
    },
    /// A directory write kept losing to concurrent writes.
    #[error("the directory record of {employee} kept changing under concurrent writes")]
    Contention { employee: String },
    /// A request Gatehouse could not even build (an invalid tag, say): a bug, not an input.
    #[error("{operation}: the request could not be built: {detail}")]
    Request {
        operation: &'static str,
        detail: String,
    },
    /// Work in some accounts failed; the others were done. Retrying converges the rest.
    #[error("{failed} of {total} accounts failed; first: {first}")]
    FanOut {
        failed: usize,
        total: usize,
        first: Box<Error>,
    },
}

/// `Code: message`, or the message alone when AWS gave no code (a timeout, say).
fn describe(code: &Option<String>, message: &str) -> String {
    match code {
        Some(code) => format!("{code}: {message}"),
        None => message.to_owned(),
    }
}

fn in_account(account: &Option<String>) -> String {
    account
        .as_deref()
        .map(|a| format!(" in account {a}"))
        .unwrap_or_default()
}

/// What a function hands back to Lambda when an invocation fails: the failure kind as the error
/// type (what the retry policy and alarms key on) and the message, which carries no request data.
impl From<Error> for lambda_runtime::Diagnostic {
    fn from(e: Error) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.kind().error_type().to_owned(),
            error_message: e.to_string(),
        }
    }
}

impl Error {
    pub fn kind(&self) -> FailureKind {
        match self {
            Error::Rejected(_) => FailureKind::Rejected,
            Error::Aws { transient, .. } | Error::PartialBatch { transient, .. } => {
                if *transient {
                    FailureKind::Transient
                } else {
                    FailureKind::Fault
                }
            }
            Error::IncompleteAnswer { .. } | Error::Contention { .. } | Error::NotYet { .. } => {
                FailureKind::Transient
            }
            Error::Conflict { .. }
            | Error::NoBaseline { .. }
            | Error::CorruptRecord { .. }
            | Error::Request { .. } => FailureKind::Fault,
            Error::FanOut { first, .. } => match first.kind() {
                FailureKind::Rejected => FailureKind::Fault,
                k => k,
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
                code,
                message,
                source,
                ..
            } => Error::Aws {
                service,
                operation,
                account,
                code,
                message,
                transient: true,
                source,
            },
            other => other,
        }
    }

    /// The service error code, when AWS answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Aws { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

/// Wraps an SDK error, classifying it once while its details are at hand.
pub(crate) fn aws<E>(
    service: &'static str,
    operation: &'static str,
    account: Option<&str>,
    err: SdkError<E, HttpResponse>,
) -> Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let (transient, code, message) = match &err {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("Unknown");
            let message = se.err().message().unwrap_or("");
            let server_fault = se.raw().status().is_server_error();
            (
                server_fault || is_transient_code(code),
                Some(code.to_owned()),
                message.to_owned(),
            )
        }
        SdkError::TimeoutError(_) => (true, None, "timeout".to_owned()),
        SdkError::DispatchFailure(_) => (true, None, "could not reach the service".to_owned()),
        SdkError::ResponseError(_) => (true, None, "unreadable response".to_owned()),
        _ => (false, None, "could not build the request".to_owned()),
    };
    Error::Aws {
        service,
        operation,
        account: account.map(str::to_owned),
        code,
        message,
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
        assert_eq!(rejected.kind(), FailureKind::Rejected);
        let fan = Error::FanOut {
            failed: 1,
            total: 3,
            first: Box::new(rejected),
        };
        assert_eq!(fan.kind(), FailureKind::Fault);
        let throttled = Error::PartialBatch {
            operation: "PutEvents",
            failed: 1,
            total: 1,
            codes: vec!["ThrottlingException".into()],
            transient: true,
        };
        assert_eq!(throttled.kind(), FailureKind::Transient);
    }

    #[test]
    fn throttling_and_server_faults_are_transient() {
        assert!(is_transient_code("Throttling"));
        assert!(is_transient_code("ServiceFailure"));
        assert!(!is_transient_code("AccessDenied"));
        assert!(!is_transient_code("NoSuchEntity"));
    }

    #[test]
    fn each_case_knows_its_kind() {
        let conflict = Error::Conflict {
            account: "123456789012".into(),
            what: "role GatehouseProvisioner".into(),
            why: "no gatehouse:role tag".into(),
        };
        assert_eq!(conflict.kind(), FailureKind::Fault);
        assert!(conflict.to_string().contains("not taken over"));
        let contention = Error::Contention {
            employee: "E1".into(),
        };
        assert_eq!(contention.kind(), FailureKind::Transient);
        let corrupt = Error::CorruptRecord {
            employee: "E1".into(),
            field: "version",
        };
        assert_eq!(corrupt.kind(), FailureKind::Fault);
        let incomplete = Error::IncompleteAnswer {
            operation: "AssumeRole",
            missing: "credentials",
        };
        assert_eq!(incomplete.kind(), FailureKind::Transient);
        assert_eq!(incomplete.code(), None);
    }
}
