//! A service account's access key in Secrets Manager, in the service account's own environment
//! account, where its workload reads it with its own role: `gatehouse/service/<name>`, a JSON
//! `{"AccessKeyId", "SecretAccessKey"}`, tagged as Gatehouse's. Each key is one version, whose id
//! names the key (`gatehouse-key-<key id>`), so the versions say which keys Gatehouse made and
//! which one is current without ever reading a secret value back.

use aws_sdk_secretsmanager::types::Tag;
use gatehouse_core::ids::{AccountId, Timestamp};
use gatehouse_core::names::{service_key_secret, TAG_SERVICE_ACCOUNT};
use gatehouse_core::service_keys::{key_of_version, version_id, Version};

use crate::error::{aws, Error};
use crate::iam::keys::NewKey;

/// How long a retired service account's secret can still be restored.
pub const RECOVERY_WINDOW_DAYS: i64 = 30;

pub struct ServiceSecrets {
    client: aws_sdk_secretsmanager::Client,
    account: AccountId,
}

impl ServiceSecrets {
    pub fn new(client: aws_sdk_secretsmanager::Client, account: AccountId) -> Self {
        ServiceSecrets { client, account }
    }

    fn err<E>(
        &self,
        op: &'static str,
        e: aws_smithy_runtime_api::client::result::SdkError<
            E,
            aws_smithy_runtime_api::client::orchestrator::HttpResponse,
        >,
    ) -> Error
    where
        E: aws_sdk_secretsmanager::error::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
    {
        aws("secretsmanager", op, Some(self.account.as_str()), e)
    }

    /// Gatehouse's versions of the service account's secret (none: no secret yet).
    pub async fn versions(&self, service: &str) -> Result<Vec<Version>, Error> {
        let out = self
            .client
            .list_secret_version_ids()
            .secret_id(service_key_secret(service))
            // Every version Gatehouse wrote, labelled or not: a key it made stays its own.
            .include_deprecated(true)
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_resource_not_found_exception()) =>
            {
                return Ok(Vec::new())
            }
            Err(e) => return Err(self.err("ListSecretVersionIds", e)),
        };
        Ok(out
            .versions()
            .iter()
            .filter_map(|v| {
                Some(Version {
                    key_id: key_of_version(v.version_id()?)?.to_owned(),
                    written: Timestamp::from_unix_nanos(v.created_date()?.as_nanos())?,
                    current: v.version_stages().iter().any(|s| s == "AWSCURRENT"),
                })
            })
            .collect())
    }

    /// Stores `key` as the secret's current version, creating the secret (or restoring one
    /// scheduled for deletion) as needed; `exists`: Gatehouse's versions were read, so a new
    /// version is all it takes. Returns the secret's ARN. The value goes to Secrets Manager and
    /// nowhere else.
    pub async fn write(&self, service: &str, key: &NewKey, exists: bool) -> Result<String, Error> {
        let name = service_key_secret(service);
        // Built here and handed over: the secret is never formatted anywhere else.
        let value =
            serde_json::json!({"AccessKeyId": key.id, "SecretAccessKey": key.secret}).to_string();
        let token = version_id(&key.id);
        if !exists {
            let created = self
                .client
                .create_secret()
                .name(&name)
                .client_request_token(&token)
                .description("Gatehouse: the access key of a service account, rotated on schedule")
                .secret_string(&value)
                .tags(
                    Tag::builder()
                        .key(TAG_SERVICE_ACCOUNT)
                        .value(service)
                        .build(),
                )
                .send()
                .await;
            match created {
                Ok(out) => return arn("CreateSecret", out.arn),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|se| se.is_resource_exists_exception()) => {}
                Err(e) => return Err(self.err("CreateSecret", e)),
            }
        }
        // A retired service account's secret, scheduled for deletion, is restored first
        // (PutSecretValue refuses a secret marked for deletion).
        let described = self
            .client
            .describe_secret()
            .secret_id(&name)
            .send()
            .await
            .map_err(|e| self.err("DescribeSecret", e))?;
        if described.deleted_date().is_some() {
            self.client
                .restore_secret()
                .secret_id(&name)
                .send()
                .await
                .map_err(|e| self.err("RestoreSecret", e))?;
        }
        let out = self
            .client
            .put_secret_value()
            .secret_id(&name)
            .client_request_token(&token)
            .secret_string(&value)
            .send()
            .await
            .map_err(|e| self.err("PutSecretValue", e))?;
        arn("PutSecretValue", out.arn)
    }

    /// Schedules the secret's deletion, recoverable for [`RECOVERY_WINDOW_DAYS`]. `true`: it
    /// was scheduled now (not already, and there was one).
    pub async fn schedule_deletion(&self, service: &str) -> Result<bool, Error> {
        let name = service_key_secret(service);
        let described = self.client.describe_secret().secret_id(&name).send().await;
        let described = match described {
            Ok(d) => d,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_resource_not_found_exception()) =>
            {
                return Ok(false)
            }
            Err(e) => return Err(self.err("DescribeSecret", e)),
        };
        if described.deleted_date().is_some() {
            return Ok(false);
        }
        self.client
            .delete_secret()
            .secret_id(&name)
            .recovery_window_in_days(RECOVERY_WINDOW_DAYS)
            .send()
            .await
            .map_err(|e| self.err("DeleteSecret", e))?;
        Ok(true)
    }
}

fn arn(operation: &'static str, arn: Option<String>) -> Result<String, Error> {
    arn.ok_or(Error::IncompleteAnswer {
        operation,
        missing: "ARN",
    })
}
