//! IAM inside one member account, through an assumed role. A file per job:
//!
//! - [`baseline`]: what `account-created` lays through the bootstrap role (policies, groups,
//!   password policy, the provisioner role, service accounts);
//! - [`converge`]: what `account-created` rewrites when a baseline was changed by hand;
//! - [`inventory`]: an account read whole for `reconcile`;
//! - [`keys`]: service accounts' access keys, and their retirement;
//! - [`user`]: a person's user, created or read back as the planner's
//!   [`Found`](gatehouse_core::plan::Found);
//! - [`apply`]: applying one planned [`Action`](gatehouse_core::plan::Action);
//! - [`seal`]: sealing a user, closers first, so that a failing listing leaves no way in.
//!
//! Every write stays under `/gatehouse/`, and every write is idempotent: "already done" answers
//! from IAM count as success.

pub mod apply;
pub mod baseline;
pub mod converge;
pub mod groups;
pub mod inventory;
pub mod keys;
pub mod seal;
pub mod user;

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::Tag;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use gatehouse_core::documents::Placement;
use gatehouse_core::ids::AccountId;

use crate::error::{aws, Error};

pub use baseline::{Laid, ServiceAccount};
pub use groups::GroupsLaid;
pub use user::Depth;

/// IAM in one account, through an assumed role.
pub struct AccountIam {
    client: aws_sdk_iam::Client,
    account: AccountId,
    partition: String,
}

impl AccountIam {
    pub fn new(client: aws_sdk_iam::Client, account: AccountId, partition: &str) -> Self {
        AccountIam {
            client,
            account,
            partition: partition.to_owned(),
        }
    }

    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// Where documents laid through this client are placed.
    pub fn placement(&self) -> Placement<'_> {
        Placement {
            partition: &self.partition,
            account: &self.account,
        }
    }

    fn policy_arn(&self, name: &str) -> String {
        self.placement().policy_arn(name)
    }

    fn err<E>(&self, op: &'static str, e: SdkError<E, HttpResponse>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        aws("iam", op, Some(self.account.as_str()), e)
    }

    /// Maps an "already so" error code to success (`Ok(None)`).
    fn tolerate<T, E>(
        &self,
        op: &'static str,
        result: Result<T, SdkError<E, HttpResponse>>,
        codes: &[&str],
    ) -> Result<Option<T>, Error>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code().is_some_and(|c| codes.contains(&c)) => Ok(None),
            Err(e) => Err(self.err(op, e)),
        }
    }
}

/// A policy document as IAM answers it (URL-encoded, RFC 3986), decoded.
fn decode(encoded: &str) -> String {
    percent_encoding::percent_decode_str(encoded)
        .decode_utf8_lossy()
        .into_owned()
}

/// An IAM tag, for `operation`.
fn tag(operation: &'static str, k: &str, v: &str) -> Result<Tag, Error> {
    Tag::builder()
        .key(k)
        .value(v)
        .build()
        .map_err(|e| Error::Request {
            operation,
            detail: format!("tag {k}: {e}"),
        })
}
