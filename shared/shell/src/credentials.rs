//! The credentials broker: IAM clients that act inside a member account through an assumed
//! role. Credentials are cached per account and role across warm invocations and renewed a
//! margin before they expire, never after a call has failed with them. They are never logged:
//! the SDK's `Credentials` redacts its secrets in `Debug`, and nothing here formats them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as SyncMutex};
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use tokio::sync::Mutex;

use gatehouse_core::ids::{AccountId, EventId};

use crate::error::{aws, Error, FailureKind};

/// Credentials are renewed when less than this is left of their lifetime, so that no call of a
/// running event starts with credentials about to lapse.
const RENEW_MARGIN: Duration = Duration::from_secs(5 * 60);
/// The longest session every role allows by default.
const SESSION_SECONDS: i32 = 3600;

type Slot = Arc<Mutex<Option<(Session, SystemTime)>>>;

/// Clients acting as one role in one account.
#[derive(Clone)]
pub struct Session {
    pub iam: aws_sdk_iam::Client,
    /// Secrets Manager in that account (service accounts' keys live there).
    pub secrets: aws_sdk_secretsmanager::Client,
}

pub struct CredentialsBroker {
    sts: aws_sdk_sts::Client,
    base: SdkConfig,
    function: String,
    /// From the functions' own identity, asked once per process.
    partition: tokio::sync::OnceCell<String>,
    slots: SyncMutex<HashMap<(AccountId, String), Slot>>,
}

impl CredentialsBroker {
    /// `function` names the calling function in every session name, for CloudTrail.
    pub fn new(base: &SdkConfig, function: &str) -> Self {
        CredentialsBroker {
            sts: crate::sdk::sts(base),
            base: base.clone(),
            function: function.to_owned(),
            partition: tokio::sync::OnceCell::new(),
            slots: SyncMutex::new(HashMap::new()),
        }
    }

    /// The partition the functions run in, which every ARN names: read from the caller's own
    /// identity (`GetCallerIdentity`, which needs no permission) on first use, since a region
    /// name does not reliably say it (new partitions come with new region prefixes).
    pub async fn partition(&self) -> Result<&str, Error> {
        self.partition
            .get_or_try_init(|| async {
                let out = self
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| aws("sts", "GetCallerIdentity", None, e))?;
                let arn = out.arn().ok_or(Error::IncompleteAnswer {
                    operation: "GetCallerIdentity",
                    missing: "Arn",
                })?;
                partition_of_arn(arn)
                    .map(str::to_owned)
                    .ok_or(Error::IncompleteAnswer {
                        operation: "GetCallerIdentity",
                        missing: "a partition in the Arn",
                    })
            })
            .await
            .map(String::as_str)
    }

    /// An IAM client acting as `role` in `account`; `role` is the role's path and name as its
    /// ARN ends (`gatehouse/GatehouseProvisioner`, `OrganizationAccountAccessRole`). `event` names the event in the session
    /// name of a fresh assumption; a cached one keeps the name of the event that made it.
    pub async fn iam(
        &self,
        account: &AccountId,
        role: &str,
        event: &EventId,
    ) -> Result<aws_sdk_iam::Client, Error> {
        Ok(self.session(account, role, event).await?.iam)
    }

    /// Like [`iam`](Self::iam), with every client the assumed role serves.
    pub async fn session(
        &self,
        account: &AccountId,
        role: &str,
        event: &EventId,
    ) -> Result<Session, Error> {
        let slot = {
            // A poisoned lock only means another task panicked mid-insert; the map is still
            // a valid map, so carry on with it.
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots
                .entry((account.clone(), role.to_owned()))
                .or_default()
                .clone()
        };
        // One assumption per account at a time: concurrent events wait for it and share it.
        let mut slot = slot.lock().await;
        if let Some((session, expires)) = slot.as_ref() {
            if expires
                .duration_since(SystemTime::now())
                .is_ok_and(|left| left > RENEW_MARGIN)
            {
                return Ok(session.clone());
            }
        }
        let (session, expires) = self.assume(account, role, event).await?;
        *slot = Some((session.clone(), expires));
        Ok(session)
    }

    /// Like [`iam`](Self::iam), for an account that may be seconds old: while the role cannot
    /// be assumed yet (access denied, or a transient fault), retries with exponential backoff
    /// for at most `patience`, then gives up with a transient error so that the event is
    /// redelivered later rather than spinning until the Lambda timeout.
    pub async fn iam_when_ready(
        &self,
        account: &AccountId,
        role: &str,
        event: &EventId,
        patience: Duration,
    ) -> Result<aws_sdk_iam::Client, Error> {
        let deadline = std::time::Instant::now() + patience;
        let mut delay = Duration::from_millis(250);
        loop {
            match self.iam(account, role, event).await {
                Ok(client) => return Ok(client),
                Err(e) => {
                    let not_yet =
                        e.code() == Some("AccessDenied") || e.kind() == FailureKind::Transient;
                    if !not_yet {
                        return Err(e);
                    }
                    if std::time::Instant::now() + delay > deadline {
                        return Err(e.into_transient());
                    }
                    tracing::warn!(account = %account, role, retry_in_ms = delay.as_millis() as u64,
                                   error = %e, "role not assumable yet");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(8));
                }
            }
        }
    }

    async fn assume(
        &self,
        account: &AccountId,
        role: &str,
        event: &EventId,
    ) -> Result<(Session, SystemTime), Error> {
        let arn = format!("arn:{}:iam::{account}:role/{role}", self.partition().await?);
        let out = self
            .sts
            .assume_role()
            .role_arn(&arn)
            .role_session_name(session_name(&self.function, event))
            .duration_seconds(SESSION_SECONDS)
            .send()
            .await
            .map_err(|e| aws("sts", "AssumeRole", Some(account.as_str()), e))?;
        let creds = out.credentials().ok_or(Error::IncompleteAnswer {
            operation: "AssumeRole",
            missing: "credentials",
        })?;
        let expires = SystemTime::try_from(*creds.expiration())
            .unwrap_or_else(|_| SystemTime::now() + RENEW_MARGIN);
        let provider = Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_owned()),
            Some(expires),
            "gatehouse-assumed-role",
        );
        let iam = aws_sdk_iam::config::Builder::from(&self.base)
            .retry_partition(crate::sdk::retry_partition())
            .credentials_provider(provider.clone())
            .build();
        let secrets = aws_sdk_secretsmanager::config::Builder::from(&self.base)
            .retry_partition(crate::sdk::retry_partition())
            .credentials_provider(provider)
            .build();
        let session = Session {
            iam: aws_sdk_iam::Client::from_conf(iam),
            secrets: aws_sdk_secretsmanager::Client::from_conf(secrets),
        };
        Ok((session, expires))
    }
}

/// The partition of `arn:<partition>:<service>:…`, if it is one.
fn partition_of_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    let partition = match (parts.next(), parts.next()) {
        (Some("arn"), Some(p)) => p,
        _ => return None,
    };
    let valid = !partition.is_empty()
        && partition
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    valid.then_some(partition)
}

/// `<function>@<event id>`, within STS's rules: 2–64 characters of `[\w+=,.@-]`.
fn session_name(function: &str, event: &EventId) -> String {
    let raw = format!("{function}@{event}");
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if cleaned.len() < 2 {
        "gatehouse".to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partition_is_the_second_field_of_an_arn() {
        let arn = "arn:aws-cn:sts::123456789012:assumed-role/r/s";
        assert_eq!(partition_of_arn(arn), Some("aws-cn"));
        assert_eq!(
            partition_of_arn("arn:aws-iso-e:iam::1:role/x"),
            Some("aws-iso-e")
        );
        assert_eq!(partition_of_arn("arn::iam::1:role/x"), None);
        assert_eq!(partition_of_arn("arn:AWS:iam::1:role/x"), None);
        assert_eq!(partition_of_arn("nra:aws:iam::1:role/x"), None);
        assert_eq!(partition_of_arn("arn"), None);
    }

    #[test]
    fn session_names_name_function_and_event_within_sts_rules() {
        let e = EventId::parse("6a7e8feb-b491-4cf7-a9f1-bf3703467718").unwrap();
        assert_eq!(
            session_name("people-events", &e),
            "people-events@6a7e8feb-b491-4cf7-a9f1-bf3703467718"
        );
        let long = EventId::parse(&"a:".repeat(60)).unwrap();
        let s = session_name("people-events", &long);
        assert_eq!(s.len(), 64);
        assert!(!s.contains(':'));
    }
}
