//! The access policy (`policy.toml`): which team gets which groups in which environment, and
//! who may enter a restricted environment. Loading validates everything the contract lists and
//! names the offending key; a loaded [`Policy`] is therefore always internally consistent.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::ids::{EmployeeId, Invalid, Team};

mod validate;
pub mod view;

pub use validate::is_iam_name;

/// The policy compiled into every binary; `GATEHOUSE_POLICY_FILE` overrides it.
pub const BUILTIN_POLICY: &str = include_str!("../../../../policy.toml");

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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default = "default_hr_source")]
    pub hr_source: String,
    /// The AWS accounts allowed to send HR events (the envelope's `account`).
    #[serde(default)]
    pub hr_accounts: Vec<String>,
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
    #[serde(default)]
    pub reconcile: Reconcile,
    #[serde(default)]
    pub scim: Scim,
}

/// The SCIM front door (`[scim]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scim {
    /// Where a SCIM user's team comes from.
    #[serde(default)]
    pub teams_from: TeamSource,
    /// Which SCIM attribute is the HR employee id.
    #[serde(default)]
    pub employee_id_from: EmployeeIdSource,
}

/// `employeeNumber` (the default): the enterprise extension's `employeeNumber`, which identity
/// providers map from HR. `externalId`: the client's own id for the user (Okta's user id,
/// Entra ID's mailNickname by default), for organizations that key employees by it. One
/// attribute, never a fallback from one to the other: an identity is not guessed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum EmployeeIdSource {
    #[default]
    #[serde(rename = "employeeNumber")]
    EmployeeNumber,
    #[serde(rename = "externalId")]
    ExternalId,
}

/// `groups` (the default): the user's membership of a SCIM group named like a team.
/// `department`: the enterprise extension's `department`, named like a team.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TeamSource {
    #[default]
    Groups,
    Department,
}

/// How `reconcile` treats the drift it finds (`[reconcile]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reconcile {
    /// `report` (the default) writes nothing but its outcome; `repair` also enqueues an
    /// `Employee Sync` for each person whose access drifted.
    #[serde(default)]
    pub mode: ReconcileMode,
    /// The breaker: a run that would close access for more people than this reports instead
    /// of repairing, unless the operator confirms.
    #[serde(default = "default_max_disables")]
    pub max_disables: usize,
    /// Active access keys older than this many days are reported.
    #[serde(default = "default_max_key_age_days")]
    pub max_key_age_days: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReconcileMode {
    #[default]
    Report,
    Repair,
}

impl Default for Reconcile {
    fn default() -> Self {
        Reconcile {
            mode: ReconcileMode::default(),
            max_disables: default_max_disables(),
            max_key_age_days: default_max_key_age_days(),
        }
    }
}

fn default_max_disables() -> usize {
    10
}
fn default_max_key_age_days() -> u32 {
    90
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
    /// Whether Gatehouse issues it an access key, kept in its environment account's Secrets
    /// Manager and rotated.
    #[serde(default)]
    pub keys: bool,
    /// Days between rotations.
    #[serde(default = "default_rotate_days")]
    pub rotate_days: u32,
    /// Days the previous key keeps working after a rotation.
    #[serde(default = "default_grace_days")]
    pub grace_days: u32,
}

fn default_rotate_days() -> u32 {
    90
}

fn default_grace_days() -> u32 {
    7
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

impl Policy {
    /// Parses and validates a policy.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text)?;
        validate::validate(&policy)?;
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

    /// Whether `account` may send HR events.
    pub fn is_hr_account(&self, account: &str) -> bool {
        self.hr_accounts.iter().any(|a| a == account)
    }

    /// The team named `name`, if the policy defines it: the only way input becomes a [`Team`].
    pub fn team(&self, name: &str) -> Result<Team, Invalid> {
        match self.teams.get_key_value(name) {
            Some((name, _)) => Ok(Team::from_record(name.clone())),
            None => Err(Invalid(
                "`team` is not a team of the access policy".to_owned(),
            )),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const MINIMAL: &str = r#"
        hr_accounts = ["111122223333"]
        [environments.development]
        [environments.production]
        restricted = true
        allow = ["E1"]
        [groups.developers]
        managed_policies = ["arn:aws:iam::aws:policy/PowerUserAccess"]
        [teams.engineering]
        access = { development = ["developers"], production = ["developers"] }
    "#;

    #[test]
    fn builtin_policy_encodes_the_access_model() {
        let p = Policy::builtin().unwrap();
        let who = EmployeeId::parse("E1").unwrap();
        let grants = |team: &str| p.grants(&p.team(team).unwrap(), &who);
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
        let team = p.team("engineering").unwrap();
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
    fn groups_in_an_environment_include_service_accounts() {
        let p = Policy::builtin().unwrap();
        assert_eq!(
            p.groups_in("production"),
            BTreeSet::from(["deployers".to_string(), "operators".to_string()])
        );
        assert!(p.is_people_group("operators"));
        assert!(!p.is_people_group("deployers"));
    }

    #[test]
    fn keys_left_out_take_their_defaults() {
        let p = Policy::parse(MINIMAL).unwrap();
        assert_eq!(p.hr_source, "com.example.hr");
        assert_eq!(p.environment_tag, "environment");
        assert_eq!(p.bootstrap_role, "OrganizationAccountAccessRole");
        assert_eq!(p.provisioner_role, "GatehouseProvisioner");
        assert!(p.service_accounts.is_empty());
        assert_eq!(p.reconcile.mode, ReconcileMode::Report);
        assert_eq!(p.reconcile.max_disables, 10);
        assert_eq!(p.reconcile.max_key_age_days, 90);
    }

    #[test]
    fn only_a_team_the_policy_defines_becomes_a_team() {
        let p = Policy::parse(MINIMAL).unwrap();
        assert_eq!(p.team("engineering").unwrap().as_str(), "engineering");
        assert!(p.team("pirates").is_err());
        assert!(p.team("Engineering").is_err());
    }
}
