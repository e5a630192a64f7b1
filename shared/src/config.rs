//! Configuration from the environment, read once at start. A missing or invalid setting stops
//! the function before it takes any event, with a message naming the variable.

use std::time::Duration;

use crate::policy::{Policy, PolicyError};

pub const POLICY_FILE: &str = "GATEHOUSE_POLICY_FILE";
pub const DIRECTORY_TABLE: &str = "GATEHOUSE_DIRECTORY_TABLE";
pub const WORK_QUEUE_URL: &str = "GATEHOUSE_WORK_QUEUE_URL";
pub const EVENT_BUS: &str = "GATEHOUSE_EVENT_BUS";
pub const MAX_CONCURRENCY: &str = "GATEHOUSE_MAX_CONCURRENCY";
pub const ACCOUNT_CACHE_SECONDS: &str = "GATEHOUSE_ACCOUNT_CACHE_SECONDS";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("{POLICY_FILE}: {0}")]
    Policy(#[from] PolicyError),
}

/// Everything a function needs to know that is not in an event.
#[derive(Debug, Clone)]
pub struct Config {
    pub policy: Policy,
    pub directory_table: String,
    pub event_bus: String,
    /// Needed by the functions that enqueue work; `people-events` only consumes it.
    pub work_queue_url: Option<String>,
    /// How many accounts one event works on at once.
    pub max_concurrency: usize,
    /// How long the organization's account list is trusted before it is read again.
    pub account_cache_ttl: Duration,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `get`, so that tests need not touch the process
    /// environment (which is shared between parallel tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let required = |name: &'static str| -> Result<String, ConfigError> {
            match get(name) {
                Some(v) if !v.is_empty() => Ok(v),
                Some(_) => Err(ConfigError::Invalid {
                    name,
                    reason: "is empty".into(),
                }),
                None => Err(ConfigError::Missing(name)),
            }
        };
        let number = |name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| range.contains(n))
                    .ok_or_else(|| ConfigError::Invalid {
                        name,
                        reason: format!(
                            "`{v}` is not a whole number from {} to {}",
                            range.start(),
                            range.end()
                        ),
                    }),
            }
        };
        let policy = match get(POLICY_FILE) {
            Some(path) => Policy::load(&path)?,
            None => Policy::builtin()?,
        };
        let work_queue_url = match get(WORK_QUEUE_URL) {
            None => None,
            Some(_) => Some(required(WORK_QUEUE_URL)?),
        };
        Ok(Config {
            policy,
            directory_table: required(DIRECTORY_TABLE)?,
            event_bus: required(EVENT_BUS)?,
            work_queue_url,
            max_concurrency: number(MAX_CONCURRENCY, 16, 1..=256)? as usize,
            account_cache_ttl: Duration::from_secs(number(ACCOUNT_CACHE_SECONDS, 300, 0..=3600)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn a_missing_setting_is_named() {
        let err = Config::from_lookup(lookup(&[(EVENT_BUS, "bus")])).unwrap_err();
        assert_eq!(err.to_string(), "GATEHOUSE_DIRECTORY_TABLE is not set");
    }

    #[test]
    fn an_invalid_number_is_named() {
        let err = Config::from_lookup(lookup(&[
            (EVENT_BUS, "bus"),
            (DIRECTORY_TABLE, "t"),
            (MAX_CONCURRENCY, "0"),
        ]))
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("GATEHOUSE_MAX_CONCURRENCY is invalid"),
            "{err}"
        );
    }

    #[test]
    fn an_unreadable_policy_file_is_named() {
        let err = Config::from_lookup(lookup(&[
            (EVENT_BUS, "bus"),
            (DIRECTORY_TABLE, "t"),
            (POLICY_FILE, "/nonexistent/policy.toml"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("GATEHOUSE_POLICY_FILE"), "{err}");
    }

    #[test]
    fn defaults_apply() {
        let c = Config::from_lookup(lookup(&[(EVENT_BUS, "bus"), (DIRECTORY_TABLE, "t")])).unwrap();
        assert_eq!(c.max_concurrency, 16);
        assert_eq!(c.policy.hr_source, "com.example.hr");
        assert!(c.work_queue_url.is_none());
    }
}
