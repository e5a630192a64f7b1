//! What a policy grants, environment by environment, and what changes between two policies.
//! A change to `policy.toml` is a change to who can enter which account: the operator CLI's
//! `policy check` prints the first and `policy diff` the second, so that a review reads
//! "qe gains developers in development", not a TOML diff.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::Policy;

/// One environment as a policy grants it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentView {
    pub environment: String,
    pub restricted: bool,
    /// In a restricted environment, the employee ids that may enter (members of a team
    /// granted here); everyone else is refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow: Option<BTreeSet<String>>,
    /// Team → the groups its members get here.
    pub teams: BTreeMap<String, BTreeSet<String>>,
    /// Service account → its groups here.
    pub service_accounts: BTreeMap<String, BTreeSet<String>>,
    /// Every group used here → the managed policies it carries.
    pub groups: BTreeMap<String, BTreeSet<String>>,
}

/// Every environment the policy defines, in name order.
pub fn view(policy: &Policy) -> Vec<EnvironmentView> {
    policy
        .environments
        .iter()
        .map(|(name, env)| EnvironmentView {
            environment: name.clone(),
            restricted: env.restricted,
            allow: env
                .restricted
                .then(|| env.allow.iter().flatten().cloned().collect()),
            teams: policy
                .teams
                .iter()
                .filter_map(|(team, spec)| {
                    let groups = spec.access.get(name)?;
                    Some((team.clone(), groups.iter().cloned().collect()))
                })
                .collect(),
            service_accounts: policy
                .service_accounts
                .iter()
                .filter(|(_, s)| &s.environment == name)
                .map(|(svc, s)| (svc.clone(), s.groups.iter().cloned().collect()))
                .collect(),
            groups: policy
                .groups_in(name)
                .into_iter()
                .map(|g| {
                    let policies = policy
                        .groups
                        .get(&g)
                        .map(|spec| spec.managed_policies.iter().cloned().collect())
                        .unwrap_or_default();
                    (g, policies)
                })
                .collect(),
        })
        .collect()
}

/// Whose access a [`Change`] is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "camelCase")]
pub enum Subject {
    /// The environment itself: defined or not, restricted or not.
    Environment,
    /// Every member of a team: the groups they get.
    Team(String),
    /// One employee on a restricted environment's allow list: entry.
    Employee(String),
    /// A service account: its groups.
    ServiceAccount(String),
    /// Everyone in a group: the managed policies it carries.
    Group(String),
}

/// What one subject gains and loses in one environment between two policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub environment: String,
    pub subject: Subject,
    pub gains: BTreeSet<String>,
    pub loses: BTreeSet<String>,
}

/// What an environment's restriction reads as in a [`Change`] of [`Subject::Environment`].
pub const RESTRICTED: &str = "restricted";
/// What an environment's existence reads as.
pub const DEFINED: &str = "defined";
/// What a place on an allow list reads as.
pub const ENTRY: &str = "entry";

/// Who gains and who loses what, environment by environment, going from `old` to `new`.
/// Empty when the two grant exactly the same.
pub fn diff(old: &Policy, new: &Policy) -> Vec<Change> {
    let old = by_name(view(old));
    let new = by_name(view(new));
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut changes = Vec::new();
    for name in names {
        let (before, after) = (old.get(name), new.get(name));
        let mut push = |subject: Subject, was: BTreeSet<String>, is: BTreeSet<String>| {
            let change = Change {
                environment: name.clone(),
                subject,
                gains: is.difference(&was).cloned().collect(),
                loses: was.difference(&is).cloned().collect(),
            };
            if !change.gains.is_empty() || !change.loses.is_empty() {
                changes.push(change);
            }
        };
        let facts = |v: Option<&EnvironmentView>| -> BTreeSet<String> {
            v.map(|v| {
                let mut f = BTreeSet::from([DEFINED.to_owned()]);
                if v.restricted {
                    f.insert(RESTRICTED.to_owned());
                }
                f
            })
            .unwrap_or_default()
        };
        push(Subject::Environment, facts(before), facts(after));
        // Entry for an allow-listed id: in an unrestricted environment every member of a
        // granted team may enter, so lifting a restriction takes nobody's entry away.
        let allowed = |v: Option<&EnvironmentView>| v.and_then(|v| v.allow.clone());
        let entry = |v: Option<&EnvironmentView>, id: &String| -> BTreeSet<String> {
            match v.map(|v| v.allow.as_ref()) {
                Some(None) => BTreeSet::from([ENTRY.to_owned()]),
                Some(Some(a)) if a.contains(id) => BTreeSet::from([ENTRY.to_owned()]),
                _ => BTreeSet::new(),
            }
        };
        for id in keys(allowed(before).as_ref(), allowed(after).as_ref()) {
            push(
                Subject::Employee(id.clone()),
                entry(before, &id),
                entry(after, &id),
            );
        }
        let sections = [
            Section::new(Subject::Team, |v| &v.teams),
            Section::new(Subject::ServiceAccount, |v| &v.service_accounts),
            Section::new(Subject::Group, |v| &v.groups),
        ];
        for section in sections {
            let (was, is) = (before.map(section.of), after.map(section.of));
            for key in keys(was, is) {
                let of = |s: Option<&Sets>| s.and_then(|s| s.get(&key)).cloned();
                push(
                    (section.subject)(key.clone()),
                    of(was).unwrap_or_default(),
                    of(is).unwrap_or_default(),
                );
            }
        }
    }
    changes
}

type Sets = BTreeMap<String, BTreeSet<String>>;

/// One of a view's name → set sections (teams, service accounts, groups), and whom its keys
/// name.
struct Section {
    subject: fn(String) -> Subject,
    of: fn(&EnvironmentView) -> &Sets,
}

impl Section {
    fn new(subject: fn(String) -> Subject, of: fn(&EnvironmentView) -> &Sets) -> Self {
        Section { subject, of }
    }
}

fn by_name(views: Vec<EnvironmentView>) -> BTreeMap<String, EnvironmentView> {
    views
        .into_iter()
        .map(|v| (v.environment.clone(), v))
        .collect()
}

/// The union of the keys (or members) of two optional collections, in order.
fn keys<'a, C, K>(a: Option<&'a C>, b: Option<&'a C>) -> BTreeSet<String>
where
    &'a C: IntoIterator<Item = K>,
    K: Key,
{
    a.into_iter()
        .chain(b)
        .flat_map(|c| c.into_iter().map(Key::name))
        .collect()
}

/// A collection's key as text: a map's key or a set's member.
trait Key {
    fn name(self) -> String;
}

impl Key for &String {
    fn name(self) -> String {
        self.clone()
    }
}

impl Key for (&String, &BTreeSet<String>) {
    fn name(self) -> String {
        self.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
        hr_accounts = ["111122223333"]
        [environments.development]
        [environments.production]
        restricted = true
        allow = ["E9001"]
        [groups.developers]
        managed_policies = ["arn:aws:iam::aws:policy/PowerUserAccess"]
        [groups.operators]
        managed_policies = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
        [teams.engineering]
        access = { development = ["developers"] }
        [teams.site-reliability]
        access = { production = ["operators"] }
        [service_accounts.deployer]
        environment = "production"
        groups = ["operators"]
    "#;

    fn policy(text: &str) -> Policy {
        Policy::parse(text).unwrap()
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_view_shows_each_environment_as_granted() {
        let v = view(&policy(BASE));
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].environment, "development");
        assert!(!v[0].restricted);
        assert_eq!(v[0].allow, None);
        assert_eq!(v[0].teams["engineering"], set(&["developers"]));
        assert!(v[0].service_accounts.is_empty());
        assert_eq!(
            v[0].groups["developers"],
            set(&["arn:aws:iam::aws:policy/PowerUserAccess"])
        );
        assert_eq!(v[1].environment, "production");
        assert!(v[1].restricted);
        assert_eq!(v[1].allow, Some(set(&["E9001"])));
        assert_eq!(v[1].teams["site-reliability"], set(&["operators"]));
        assert_eq!(v[1].service_accounts["deployer"], set(&["operators"]));
    }

    #[test]
    fn the_same_policy_changes_nothing() {
        assert_eq!(diff(&policy(BASE), &policy(BASE)), []);
    }

    #[test]
    fn leaving_the_allow_list_is_a_loss_of_entry_and_joining_it_a_gain() {
        let new = BASE.replace(r#"allow = ["E9001"]"#, r#"allow = ["E9002"]"#);
        assert_eq!(
            diff(&policy(BASE), &policy(&new)),
            [
                Change {
                    environment: "production".into(),
                    subject: Subject::Employee("E9001".into()),
                    gains: set(&[]),
                    loses: set(&[ENTRY]),
                },
                Change {
                    environment: "production".into(),
                    subject: Subject::Employee("E9002".into()),
                    gains: set(&[ENTRY]),
                    loses: set(&[]),
                },
            ]
        );
    }

    #[test]
    fn a_team_granted_another_environment_gains_its_groups_there() {
        let new = BASE.replace(
            r#"access = { development = ["developers"] }"#,
            r#"access = { development = ["developers", "operators"], production = ["operators"] }"#,
        );
        let changes = diff(&policy(BASE), &policy(&new));
        let team = Subject::Team("engineering".into());
        assert_eq!(
            changes,
            [
                Change {
                    environment: "development".into(),
                    subject: team.clone(),
                    gains: set(&["operators"]),
                    loses: set(&[]),
                },
                Change {
                    environment: "development".into(),
                    subject: Subject::Group("operators".into()),
                    gains: set(&["arn:aws:iam::aws:policy/ReadOnlyAccess"]),
                    loses: set(&[]),
                },
                Change {
                    environment: "production".into(),
                    subject: team,
                    gains: set(&["operators"]),
                    loses: set(&[]),
                },
            ]
        );
    }

    #[test]
    fn a_group_policy_swapped_and_a_service_account_dropped_are_both_shown() {
        let new = BASE
            .replace(
                r#"managed_policies = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]"#,
                r#"managed_policies = ["arn:aws:iam::aws:policy/ViewOnlyAccess"]"#,
            )
            .replace(
                "[service_accounts.deployer]\n        environment = \"production\"\n        groups = [\"operators\"]",
                "",
            );
        let changes = diff(&policy(BASE), &policy(&new));
        assert!(changes.contains(&Change {
            environment: "production".into(),
            subject: Subject::ServiceAccount("deployer".into()),
            gains: set(&[]),
            loses: set(&["operators"]),
        }));
        assert!(changes.contains(&Change {
            environment: "production".into(),
            subject: Subject::Group("operators".into()),
            gains: set(&["arn:aws:iam::aws:policy/ViewOnlyAccess"]),
            loses: set(&["arn:aws:iam::aws:policy/ReadOnlyAccess"]),
        }));
        assert_eq!(changes.len(), 2, "{changes:?}");
    }

    #[test]
    fn an_environment_lifted_from_restriction_and_one_removed() {
        let new = BASE
            .replace("restricted = true\n        allow = [\"E9001\"]", "")
            .replace("[environments.development]", "")
            .replace(r#"access = { development = ["developers"] }"#, "");
        let changes = diff(&policy(BASE), &policy(&new));
        let env = |e: &str, gains: &[&str], loses: &[&str]| Change {
            environment: e.into(),
            subject: Subject::Environment,
            gains: set(gains),
            loses: set(loses),
        };
        // Lifting the restriction takes nobody's entry away: E9001 is not a change.
        assert_eq!(
            changes,
            [
                env("development", &[], &[DEFINED]),
                Change {
                    environment: "development".into(),
                    subject: Subject::Team("engineering".into()),
                    gains: set(&[]),
                    loses: set(&["developers"]),
                },
                Change {
                    environment: "development".into(),
                    subject: Subject::Group("developers".into()),
                    gains: set(&[]),
                    loses: set(&["arn:aws:iam::aws:policy/PowerUserAccess"]),
                },
                env("production", &[], &[RESTRICTED]),
            ]
        );
    }
}
