//! The access policy (`policy.toml`): which team gets which groups in which environment, and
//! who may enter a restricted environment. Loading validates everything the contract lists and
//! names the offending key; a loaded [`Policy`] is therefore always internally consistent.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::event::{EmployeeId, Team};

/// The policy compiled into every binary; `GATEHOUSE_POLICY_FILE` overrides it.
pub const BUILTIN_POLICY: &str = include_str!("../../policy.toml");

/// The policy could not be loaded. Always names the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy is not valid TOML or has an unknown key: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("policy key `{key}`: {reason}")]
    Invalid { key: String, reason: String },
    #[error("cannot read policy file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn invalid(key: impl Into<String>, reason: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default = "default_hr_source")]
    pub hr_source: String,
    #[serde(default = "default_environment_tag")]
    pub environment_tag: String,
    #[serde(default = "default_bootstrap_role")]
    pub bootstrap_role: String,
    #[serde(default = "default_provisioner_role")]
    pub provisioner_role: String,
    #[serde(default)]
    pub environments: BTreeMap<String, Environment>,
    #[serde(default)]
    pub groups: BTreeMap<String, Group>,
    #[serde(default)]
    pub teams: BTreeMap<String, TeamAccess>,
    #[serde(default)]
    pub service_accounts: BTreeMap<String, ServiceAccount>,
}

fn default_hr_source() -> String {
    "com.example.hr".into()
}
fn default_environment_tag() -> String {
    "environment".into()
}
fn default_bootstrap_role() -> String {
    "OrganizationAccountAccessRole".into()
}
fn default_provisioner_role() -> String {
    "GatehouseProvisioner".into()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    #[serde(default)]
    pub restricted: bool,
    pub allow: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    #[serde(default)]
    pub managed_policies: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamAccess {
    #[serde(default)]
    pub access: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccount {
    pub environment: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// What the policy says about one person in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// A user in these groups.
    Allowed {
        environment: String,
        groups: BTreeSet<String>,
    },
    /// The team reaches this environment but the person may not enter it.
    Refused { environment: String, reason: String },
}

/// IAM's rule for user, group, role and policy names (`[\w+=,.@-]`, ASCII), with its length.
pub fn is_iam_name(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

impl Policy {
    /// Parses and validates a policy.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text)?;
        policy.validate()?;
        Ok(policy)
    }

    /// The policy built into the binary.
    pub fn builtin() -> Result<Policy, PolicyError> {
        Policy::parse(BUILTIN_POLICY)
    }

    /// Reads the file at `path`.
    pub fn load(path: &str) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_owned(),
            source,
        })?;
        Policy::parse(&text)
    }

    fn validate(&self) -> Result<(), PolicyError> {
        if self.hr_source.is_empty() || self.hr_source == crate::event::GATEHOUSE_SOURCE {
            return Err(invalid(
                "hr_source",
                "must be a non-empty source other than `gatehouse`",
            ));
        }
        if !is_valid_tag_key(&self.environment_tag) {
            return Err(invalid("environment_tag", "must be a valid tag key"));
        }
        for (key, role) in [
            ("bootstrap_role", &self.bootstrap_role),
            ("provisioner_role", &self.provisioner_role),
        ] {
            if !is_iam_name(role, 64) {
                return Err(invalid(key, "is not a name IAM can hold for a role"));
            }
        }
        if self.environments.is_empty() {
            return Err(invalid(
                "environments",
                "at least one environment is needed",
            ));
        }
        for (name, env) in &self.environments {
            if !is_simple_name(name) {
                return Err(invalid(
                    format!("environments.{name}"),
                    "environment names are 1-64 of a-z 0-9 -",
                ));
            }
            match (&env.allow, env.restricted) {
                (None, true) => {
                    return Err(invalid(
                        format!("environments.{name}.allow"),
                        "a restricted environment needs an allow list (it may be empty)",
                    ))
                }
                (Some(allow), _) => {
                    for (i, id) in allow.iter().enumerate() {
                        EmployeeId::parse(id).map_err(|r| {
                            invalid(format!("environments.{name}.allow[{i}]"), r.reason)
                        })?;
                    }
                }
                (None, false) => {}
            }
        }
        for (name, group) in &self.groups {
            if !is_iam_name(name, 128) {
                return Err(invalid(
                    format!("groups.{name}"),
                    "is not a name IAM can hold for a group",
                ));
            }
            for (i, arn) in group.managed_policies.iter().enumerate() {
                if !is_policy_arn(arn) {
                    return Err(invalid(
                        format!("groups.{name}.managed_policies[{i}]"),
                        "must be an IAM policy ARN (arn:aws:iam::...:policy/...)",
                    ));
                }
            }
        }
        let mut people_groups = BTreeSet::new();
        for (team, spec) in &self.teams {
            if !is_simple_name(team) {
                return Err(invalid(
                    format!("teams.{team}"),
                    "team names are 1-64 of a-z 0-9 -",
                ));
            }
            for (env, groups) in &spec.access {
                let key = format!("teams.{team}.access.{env}");
                if !self.environments.contains_key(env) {
                    return Err(invalid(
                        key,
                        "names an environment the policy does not define",
                    ));
                }
                for (i, g) in groups.iter().enumerate() {
                    if !self.groups.contains_key(g) {
                        return Err(invalid(format!("{key}[{i}]"), "names an unknown group"));
                    }
                    people_groups.insert(g.as_str());
                }
            }
        }
        for (name, sa) in &self.service_accounts {
            let key = format!("service_accounts.{name}");
            // Service account users are named `svc-<name>`; the prefix keeps them apart from
            // people, whose names are e-mail addresses.
            if !is_iam_name(name, 60) {
                return Err(invalid(key, "is not a name IAM can hold for a user"));
            }
            if !self.environments.contains_key(&sa.environment) {
                return Err(invalid(
                    format!("{key}.environment"),
                    "names an unknown environment",
                ));
            }
            for (i, g) in sa.groups.iter().enumerate() {
                if !self.groups.contains_key(g) {
                    return Err(invalid(
                        format!("{key}.groups[{i}]"),
                        "names an unknown group",
                    ));
                }
                // People's groups carry the MFA-enforcing policy; a service account (no console,
                // access keys only) in such a group would be locked out.
                if people_groups.contains(g.as_str()) {
                    return Err(invalid(
                        format!("{key}.groups[{i}]"),
                        "is also granted to a team: people's groups enforce MFA, so service \
                         accounts need groups of their own",
                    ));
                }
            }
        }
        Ok(())
    }

    /// What `team` grants the employee `who`, environment by environment.
    pub fn grants(&self, team: &Team, who: &EmployeeId) -> Vec<Grant> {
        let Some(spec) = self.teams.get(team.as_str()) else {
            return Vec::new();
        };
        spec.access
            .iter()
            .map(|(env, groups)| {
                let environment = env.clone();
                match self.environments.get(env) {
                    Some(e) if e.restricted && !e.allows(who) => Grant::Refused {
                        environment,
                        reason: format!(
                            "{env} is restricted and employee {who} is not on its allow list"
                        ),
                    },
                    _ => Grant::Allowed {
                        environment,
                        groups: groups.iter().cloned().collect(),
                    },
                }
            })
            .collect()
    }

    /// Every group used in `environment`: by any team and by its service accounts.
    pub fn groups_in(&self, environment: &str) -> BTreeSet<String> {
        let people = self
            .teams
            .values()
            .filter_map(|t| t.access.get(environment))
            .flatten();
        let services = self
            .service_accounts
            .values()
            .filter(|s| s.environment == environment)
            .flat_map(|s| s.groups.iter());
        people.chain(services).cloned().collect()
    }

    /// Whether `group` is granted to people (and so carries the MFA-enforcing policy).
    pub fn is_people_group(&self, group: &str) -> bool {
        self.teams
            .values()
            .flat_map(|t| t.access.values())
            .flatten()
            .any(|g| g == group)
    }
}

impl Environment {
    fn allows(&self, who: &EmployeeId) -> bool {
        self.allow
            .as_ref()
            .is_some_and(|a| a.iter().any(|id| id == who.as_str()))
    }
}

fn is_simple_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_valid_tag_key(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && !s.starts_with("aws:")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" _.:/=+-@".contains(&b))
}

fn is_policy_arn(s: &str) -> bool {
    let mut parts = s.splitn(6, ':');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("arn"), Some(p), Some("iam"), Some(""), Some(acct), Some(res))
            if p.starts_with("aws") && (acct == "aws" || acct.len() == 12)
                && res.starts_with("policy/") && res.len() > 7
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        [environments.development]
        [environments.production]
        restricted = true
        allow = ["E1"]
        [groups.developers]
        managed_policies = ["arn:aws:iam::aws:policy/PowerUserAccess"]
        [teams.engineering]
        access = { development = ["developers"], production = ["developers"] }
    "#;

    fn key_of(err: PolicyError) -> String {
        match err {
            PolicyError::Invalid { key, .. } => key,
            other => other.to_string(),
        }
    }

    #[test]
    fn builtin_policy_encodes_the_access_model() {
        let p = Policy::builtin().unwrap();
        let who = EmployeeId::parse("E1").unwrap();
        let grants = |team: &str| p.grants(&Team::parse(team, &p).unwrap(), &who);
        let envs = |team: &str| -> Vec<String> {
            grants(team)
                .into_iter()
                .map(|g| match g {
                    Grant::Allowed { environment, .. } | Grant::Refused { environment, .. } => {
                        environment
                    }
                })
                .collect()
        };
        assert_eq!(envs("engineering"), ["development"]);
        assert_eq!(envs("qe"), ["testing"]);
        assert_eq!(envs("product-management"), ["staging"]);
        assert_eq!(envs("solutions-architecture"), ["staging"]);
        assert!(p.environments["production"].restricted);
        assert!(matches!(
            grants("site-reliability")[0],
            Grant::Refused { .. }
        ));
    }

    #[test]
    fn production_is_refused_unless_allow_listed() {
        let p = Policy::parse(MINIMAL).unwrap();
        let team = Team::parse("engineering", &p).unwrap();
        let out = p.grants(&team, &EmployeeId::parse("E2").unwrap());
        assert!(out.contains(&Grant::Refused {
            environment: "production".into(),
            reason: "production is restricted and employee E2 is not on its allow list".into()
        }));
        assert!(
            matches!(&out[0], Grant::Allowed { environment, .. } if environment == "development")
        );
        let ok = p.grants(&team, &EmployeeId::parse("E1").unwrap());
        assert!(ok.iter().all(|g| matches!(g, Grant::Allowed { .. })));
    }

    #[test]
    fn unknown_environment_in_a_team_is_refused_naming_the_key() {
        let text = MINIMAL.replace("production = [", "prod = [");
        assert_eq!(
            key_of(Policy::parse(&text).unwrap_err()),
            "teams.engineering.access.prod"
        );
    }

    #[test]
    fn unknown_group_is_refused_naming_the_key() {
        let text = MINIMAL.replace(
            "development = [\"developers\"]",
            "development = [\"admins\"]",
        );
        assert_eq!(
            key_of(Policy::parse(&text).unwrap_err()),
            "teams.engineering.access.development[0]"
        );
    }

    #[test]
    fn unknown_key_is_refused_naming_it() {
        let err = Policy::parse(&format!("colour = \"blue\"\n{MINIMAL}")).unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn restricted_environment_without_allow_is_refused() {
        let text = MINIMAL.replace("allow = [\"E1\"]", "");
        assert_eq!(
            key_of(Policy::parse(&text).unwrap_err()),
            "environments.production.allow"
        );
    }

    #[test]
    fn group_name_iam_cannot_hold_is_refused() {
        let text = MINIMAL.replace(
            "[groups.developers]",
            "[groups.developers]\n[groups.\"dev ops\"]",
        );
        assert_eq!(key_of(Policy::parse(&text).unwrap_err()), "groups.dev ops");
    }

    #[test]
    fn service_accounts_may_not_share_people_groups() {
        let text = format!(
            "{MINIMAL}\n[service_accounts.ci]\nenvironment = \"development\"\ngroups = [\"developers\"]"
        );
        assert_eq!(
            key_of(Policy::parse(&text).unwrap_err()),
            "service_accounts.ci.groups[0]"
        );
    }

    #[test]
    fn groups_in_an_environment_include_service_accounts() {
        let p = Policy::builtin().unwrap();
        assert_eq!(
            p.groups_in("production"),
            BTreeSet::from(["deployers".to_string(), "operators".to_string()])
        );
        assert!(p.is_people_group("operators"));
        assert!(!p.is_people_group("deployers"));
    }
}
