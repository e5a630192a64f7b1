//! Configuration from the environment, read once at start. A missing or invalid setting stops
//! the function before it takes any event, with a message naming the variable.

use std::time::Duration;

use gatehouse_core::policy::{Policy, PolicyError};

pub const POLICY_FILE: &str = "GATEHOUSE_POLICY_FILE";
pub const DIRECTORY_TABLE: &str = "GATEHOUSE_DIRECTORY_TABLE";
pub const WORK_QUEUE_URL: &str = "GATEHOUSE_WORK_QUEUE_URL";
pub const EVENT_BUS: &str = "GATEHOUSE_EVENT_BUS";
pub const MAX_CONCURRENCY: &str = "GATEHOUSE_MAX_CONCURRENCY";
pub const ACCOUNT_CACHE_SECONDS: &str = "GATEHOUSE_ACCOUNT_CACHE_SECONDS";
pub const TRUSTED_ROLE_ARNS: &str = "GATEHOUSE_TRUSTED_ROLE_ARNS";
pub const ACCOUNT_WAIT_SECONDS: &str = "GATEHOUSE_ACCOUNT_WAIT_SECONDS";
pub const MEMBER_STACK: &str = "GATEHOUSE_MEMBER_STACK";

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
    /// The functions' execution roles: the only principals the provisioner role trusts.
    /// Needed by `account-created`, which creates that role.
    pub trusted_role_arns: Vec<String>,
    /// How long `account-created` waits for a brand-new account's role to become assumable
    /// before it gives the event back for redelivery.
    pub account_wait: Duration,
    /// The member-account StackSet lays the boundary and the provisioner role: `account-created`
    /// then requires them instead of laying them (CloudFormation cannot adopt what it finds).
    pub member_stack: bool,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `get`, so that tests need not touch the process
    /// environment (which is shared between parallel tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let required = |name: &'static str| required(&get, name);
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
        let policy = policy(&get)?;
        let work_queue_url = match get(WORK_QUEUE_URL) {
            None => None,
            Some(_) => Some(required(WORK_QUEUE_URL)?),
        };
        let trusted_role_arns = match get(TRUSTED_ROLE_ARNS) {
            None => Vec::new(),
            Some(v) => {
                let arns: Vec<String> = v.split(',').map(str::to_owned).collect();
                if let Some(bad) = arns.iter().find(|a| !is_role_arn(a)) {
                    return Err(ConfigError::Invalid {
                        name: TRUSTED_ROLE_ARNS,
                        reason: format!(
                            "`{bad}` is not an IAM role ARN (comma-separated, no spaces)"
                        ),
                    });
                }
                arns
            }
        };
        Ok(Config {
            policy,
            directory_table: required(DIRECTORY_TABLE)?,
            event_bus: required(EVENT_BUS)?,
            work_queue_url,
            max_concurrency: number(MAX_CONCURRENCY, 128, 1..=256)? as usize,
            account_cache_ttl: Duration::from_secs(number(ACCOUNT_CACHE_SECONDS, 300, 0..=3600)?),
            trusted_role_arns,
            account_wait: Duration::from_secs(number(ACCOUNT_WAIT_SECONDS, 60, 0..=600)?),
            member_stack: match get(MEMBER_STACK).as_deref() {
                None | Some("false") => false,
                Some("true") => true,
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        name: MEMBER_STACK,
                        reason: format!("`{other}` is neither true nor false"),
                    })
                }
            },
        })
    }

    /// `reconcile` repairs through the work queue.
    pub fn require_work_queue(&self) -> Result<(), ConfigError> {
        match self.work_queue_url {
            Some(_) => Ok(()),
            None => Err(ConfigError::Missing(WORK_QUEUE_URL)),
        }
    }

    /// Checks the settings only some functions need; `account-created` needs both.
    pub fn require_account_setup(&self) -> Result<(), ConfigError> {
        if self.work_queue_url.is_none() {
            return Err(ConfigError::Missing(WORK_QUEUE_URL));
        }
        if self.trusted_role_arns.is_empty() {
            return Err(ConfigError::Missing(TRUSTED_ROLE_ARNS));
        }
        Ok(())
    }
}

/// The setting `name`, which must be there and not empty.
pub(crate) fn required(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<String, ConfigError> {
    match get(name) {
        Some(v) if !v.is_empty() => Ok(v),
        Some(_) => Err(ConfigError::Invalid {
            name,
            reason: "is empty".into(),
        }),
        None => Err(ConfigError::Missing(name)),
    }
}

/// The policy `GATEHOUSE_POLICY_FILE` names, or the built-in one.
pub(crate) fn policy(get: &impl Fn(&str) -> Option<String>) -> Result<Policy, ConfigError> {
    Ok(match get(POLICY_FILE) {
        Some(path) => Policy::load(&path)?,
        None => Policy::builtin()?,
    })
}

/// `arn:<partition>:iam::<12 digits>:role/<path/>name`.
fn is_role_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", p, "iam", "", acct, res]
        if p.starts_with("aws") && acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit())
            && res.strip_prefix("role/").is_some_and(|n| !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-/".contains(&b))))
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
    fn trusted_roles_must_be_role_arns() {
        let base = [(EVENT_BUS, "bus"), (DIRECTORY_TABLE, "t")];
        let with = |v: &'static str| {
            let mut pairs = base.to_vec();
            pairs.push((TRUSTED_ROLE_ARNS, v));
            Config::from_lookup(lookup(&pairs))
        };
        let ok =
            with("arn:aws:iam::111122223333:role/a,arn:aws:iam::111122223333:role/ops/b").unwrap();
        assert_eq!(ok.trusted_role_arns.len(), 2);
        let err = with("arn:aws:iam::111122223333:user/a").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("GATEHOUSE_TRUSTED_ROLE_ARNS is invalid"),
            "{err}"
        );
        let missing = Config::from_lookup(lookup(&base))
            .unwrap()
            .require_account_setup();
        assert_eq!(
            missing.unwrap_err().to_string(),
            "GATEHOUSE_WORK_QUEUE_URL is not set"
        );
    }

    #[test]
    fn the_member_stack_setting_is_true_or_false() {
        let base = [(EVENT_BUS, "bus"), (DIRECTORY_TABLE, "t")];
        let with = |v: &'static str| {
            let mut pairs = base.to_vec();
            pairs.push((MEMBER_STACK, v));
            Config::from_lookup(lookup(&pairs))
        };
        assert!(with("true").unwrap().member_stack);
        assert!(!with("false").unwrap().member_stack);
        assert!(with("yes")
            .unwrap_err()
            .to_string()
            .starts_with("GATEHOUSE_MEMBER_STACK is invalid"));
        assert!(!Config::from_lookup(lookup(&base)).unwrap().member_stack);
    }

    #[test]
    fn defaults_apply() {
        let c = Config::from_lookup(lookup(&[(EVENT_BUS, "bus"), (DIRECTORY_TABLE, "t")])).unwrap();
        assert_eq!(c.max_concurrency, 128);
        assert_eq!(c.policy.hr_source, "com.example.hr");
        assert!(c.work_queue_url.is_none());
    }
}
