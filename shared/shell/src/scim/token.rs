//! The bearer token: identity providers cannot sign requests (a function URL offers only IAM
//! authorization or none), so the token in the function's Secrets Manager secret is the gate.
//!
//! Both the current value (`AWSCURRENT`) and the one before it (`AWSPREVIOUS`) are accepted, so
//! that a rotation does not cut an identity provider off before it is given the new token. The
//! values are kept for at most [`MAX_AGE`] (so a token rotated out stops working within it); a
//! token that matches neither makes the function read them again, at most once every
//! [`REFRESH_EVERY`], so that a new token works within seconds and a flood of wrong tokens
//! costs one read per interval. Tokens are compared in constant time, and never logged.

use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::Client;
use subtle::ConstantTimeEq;
use tokio::sync::Mutex;

use crate::error::{aws, Error};

/// The least time between two reads of the secret caused by tokens that did not match.
pub const REFRESH_EVERY: Duration = Duration::from_secs(5);
/// The longest the values read are trusted, matched or not: a token rotated out stops working
/// on a warm instance within this, not when the instance is recycled.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// A token shorter than this is a misconfiguration: such a secret is not used.
pub const MIN_TOKEN_CHARS: usize = 32;

pub struct TokenCheck {
    client: Client,
    secret: String,
    cache: Mutex<Option<Cached>>,
}

struct Cached {
    tokens: Vec<Vec<u8>>,
    read_at: Instant,
}

/// What a request's `Authorization` header is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    Refused,
}

impl TokenCheck {
    pub fn new(client: Client, secret: String) -> Self {
        TokenCheck {
            client,
            secret,
            cache: Mutex::new(None),
        }
    }

    /// Checks `header` (the whole `Authorization` value) against the secret's current and
    /// previous values.
    pub async fn check(&self, header: Option<&str>) -> Result<Verdict, Error> {
        // The scheme is case-insensitive (RFC 7235 §2.1); the token is compared exactly.
        let token = header.and_then(|h| {
            let (scheme, token) = h.split_once(' ')?;
            scheme.eq_ignore_ascii_case("Bearer").then_some(token)
        });
        let Some(token) = token else {
            return Ok(Verdict::Refused);
        };
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref().filter(|c| c.read_at.elapsed() < MAX_AGE) {
            if matches(&c.tokens, token) {
                return Ok(Verdict::Accepted);
            }
            if c.read_at.elapsed() < REFRESH_EVERY {
                return Ok(Verdict::Refused);
            }
        }
        let tokens = self.read().await?;
        let verdict = if matches(&tokens, token) {
            Verdict::Accepted
        } else {
            Verdict::Refused
        };
        *cache = Some(Cached {
            tokens,
            read_at: Instant::now(),
        });
        Ok(verdict)
    }

    /// The usable values of the secret: the current one, and the previous one if there is one.
    async fn read(&self) -> Result<Vec<Vec<u8>>, Error> {
        let (current, previous) =
            futures::join!(self.value("AWSCURRENT"), self.value("AWSPREVIOUS"));
        let mut tokens = Vec::new();
        if let Some(t) = current? {
            tokens.push(t);
        }
        if let Some(t) = previous? {
            tokens.push(t);
        }
        if tokens.is_empty() {
            tracing::error!(
                "the SCIM token secret has no value of at least {MIN_TOKEN_CHARS} characters: every request is refused"
            );
        }
        Ok(tokens)
    }

    async fn value(&self, stage: &str) -> Result<Option<Vec<u8>>, Error> {
        let answer = self
            .client
            .get_secret_value()
            .secret_id(&self.secret)
            .version_stage(stage)
            .send()
            .await;
        match answer {
            Ok(out) => Ok(out
                .secret_string()
                .filter(|t| t.chars().count() >= MIN_TOKEN_CHARS)
                .map(|t| t.as_bytes().to_vec())),
            // No previous value before the first rotation.
            Err(e)
                if stage == "AWSPREVIOUS"
                    && e.as_service_error()
                        .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(aws("secretsmanager", "GetSecretValue", None, e)),
        }
    }
}

/// Whether `token` is one of `tokens`, every one of them compared in constant time (the
/// comparison does not stop at the first match, nor at the first differing byte).
fn matches(tokens: &[Vec<u8>], token: &str) -> bool {
    let mut found = subtle::Choice::from(0);
    for t in tokens {
        found |= t.as_slice().ct_eq(token.as_bytes());
    }
    found.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_equal_token_matches() {
        let tokens = vec![b"a".repeat(40), b"b".repeat(40)];
        assert!(matches(&tokens, &"a".repeat(40)));
        assert!(matches(&tokens, &"b".repeat(40)));
        assert!(!matches(&tokens, &"a".repeat(39)));
        assert!(!matches(&tokens, &"a".repeat(41)));
        assert!(!matches(&tokens, ""));
        assert!(!matches(&[], &"a".repeat(40)));
    }
}
