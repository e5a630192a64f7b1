//! Initial passwords, kept in Secrets Manager in the account the functions run in. The password
//! goes from here to IAM and nowhere else: no log line, no outcome event, no error message.
//! Outcomes carry only the secret's ARN.

use aws_sdk_secretsmanager::types::Tag;
use rand::seq::IndexedRandom;
use rand::Rng;

use gatehouse_core::ids::{AccountId, EmployeeId};
use gatehouse_core::names::{initial_password_secret, SECRET_TAG_ACCOUNT, SECRET_TAG_EMPLOYEE};

use crate::error::{aws, Error};

/// A random 24-character password with every character class IAM password policies ask for.
/// Drawn from the thread's cryptographically secure generator (ChaCha, seeded by the OS).
pub(crate) fn random_password() -> String {
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"!@#$%^&*()-_=+[]{}";
    let mut rng = rand::rng();
    let all: Vec<u8> = [LOWER, UPPER, DIGIT, SYMBOL].concat();
    let mut chars: Vec<u8> = [LOWER, UPPER, DIGIT, SYMBOL]
        .iter()
        .filter_map(|class| class.choose(&mut rng).copied())
        .collect();
    while chars.len() < 24 {
        chars.push(all[rng.random_range(0..all.len())]);
    }
    // Fisher-Yates, so the guaranteed classes are not always in the first four places.
    for i in (1..chars.len()).rev() {
        chars.swap(i, rng.random_range(0..=i));
    }
    chars.into_iter().map(char::from).collect()
}

pub struct PasswordVault {
    client: aws_sdk_secretsmanager::Client,
}

impl PasswordVault {
    pub fn new(client: aws_sdk_secretsmanager::Client) -> Self {
        PasswordVault { client }
    }

    /// Stores `password` as the initial password of `user` in `account` and returns the
    /// secret's ARN. One write in the usual case; a rehire adds a new version to the same secret.
    pub async fn store(
        &self,
        account: &AccountId,
        user: &str,
        employee: &EmployeeId,
        password: &str,
    ) -> Result<String, Error> {
        let name = initial_password_secret(account, user);
        let created = self
            .client
            .create_secret()
            .name(&name)
            .description("Gatehouse: initial console password; must be changed at first sign-in")
            .secret_string(password)
            .tags(
                Tag::builder()
                    .key(SECRET_TAG_EMPLOYEE)
                    .value(employee.as_str())
                    .build(),
            )
            .tags(
                Tag::builder()
                    .key(SECRET_TAG_ACCOUNT)
                    .value(account.as_str())
                    .build(),
            )
            .send()
            .await;
        match created {
            Ok(out) => arn("CreateSecret", out.arn),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_resource_exists_exception()) =>
            {
                let out = self
                    .client
                    .put_secret_value()
                    .secret_id(&name)
                    .secret_string(password)
                    .send()
                    .await
                    .map_err(|e| aws("secretsmanager", "PutSecretValue", None, e))?;
                arn("PutSecretValue", out.arn)
            }
            Err(e) => Err(aws("secretsmanager", "CreateSecret", None, e)),
        }
    }
}

fn arn(operation: &'static str, arn: Option<String>) -> Result<String, Error> {
    arn.ok_or(Error::IncompleteAnswer {
        operation,
        missing: "ARN",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_mixed_and_different_each_time() {
        let a = random_password();
        assert_eq!(a.len(), 24);
        assert!(a.bytes().any(|c| c.is_ascii_lowercase()));
        assert!(a.bytes().any(|c| c.is_ascii_uppercase()));
        assert!(a.bytes().any(|c| c.is_ascii_digit()));
        assert!(a.bytes().any(|c| !c.is_ascii_alphanumeric()));
        assert_ne!(a, random_password());
    }
}
