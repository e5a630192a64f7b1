//! The planner: given what one person should have in one account and what the account holds,
//! decide the IAM actions that close the gap. Pure, so every rule of the contract (disable never
//! delete, never take over a user Gatehouse does not manage, keep old keys inactive on rehire)
//! is tested here without AWS, and a dry run is just printing the plan.

use std::collections::{BTreeMap, BTreeSet};

use crate::ids::{EmployeeId, EventId, Team, Timestamp};
use crate::names::{
    PEOPLE_PATH, STATUS_ACTIVE, STATUS_DISABLED, TAG_DISABLED_AT, TAG_DISABLED_BY, TAG_EMPLOYEE,
    TAG_STATUS, TAG_TEAM,
};

/// What one person should have in one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub user_name: String,
    pub employee_id: EmployeeId,
    pub state: DesiredState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DesiredState {
    /// An active user with console access, in exactly these managed groups.
    Active {
        team: Team,
        groups: BTreeSet<String>,
    },
    /// Sealed: no way in, kept for audit.
    Disabled { at: Timestamp, by: EventId },
}

/// What an account holds under a user name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Absent,
    /// A user Gatehouse did not make (outside `/gatehouse/people/`): never to be taken over.
    Unmanaged {
        path: String,
    },
    Managed(UserState),
}

/// A managed user as read from IAM. `credentials` lists only the *active* ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserState {
    pub tags: BTreeMap<String, String>,
    /// Memberships of groups under `/gatehouse/`; other groups are not Gatehouse's to change.
    pub managed_groups: BTreeSet<String>,
    pub login_profile: bool,
    pub deny_all: bool,
    pub credentials: Vec<Credential>,
}

impl UserState {
    pub fn employee_id(&self) -> Option<&str> {
        self.tags.get(TAG_EMPLOYEE).map(String::as_str)
    }

    pub fn is_active(&self) -> bool {
        self.tags.get(TAG_STATUS).map(String::as_str) == Some(STATUS_ACTIVE)
    }
}

/// An active credential of a user, other than its console password.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Credential {
    AccessKey(String),
    SshPublicKey(String),
    ServiceSpecific(String),
    SigningCertificate(String),
    MfaDevice(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create the user under [`PEOPLE_PATH`] with these tags and the permissions boundary.
    CreateUser {
        tags: BTreeMap<String, String>,
    },
    Tag(BTreeMap<String, String>),
    Untag(Vec<String>),
    AddToGroup(String),
    RemoveFromGroup(String),
    /// Console access with a fresh random password that must be reset at first sign-in.
    CreateLoginProfile,
    DeleteLoginProfile,
    PutDenyAll,
    DeleteDenyAll,
    Deactivate(Credential),
}

impl Action {
    /// Whether the action opens access (as opposed to closing or labelling it).
    pub fn grants(&self) -> bool {
        matches!(
            self,
            Action::CreateUser { .. }
                | Action::AddToGroup(_)
                | Action::CreateLoginProfile
                | Action::DeleteDenyAll
        )
    }
}

/// Why the user under this name is not Gatehouse's to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("user name is taken by a user outside {PEOPLE_PATH} (path {path}), which Gatehouse does not manage")]
    Unmanaged { path: String },
    #[error("user name is taken by a managed user of another employee ({other})")]
    OtherEmployee { other: String },
}

/// The actions that take `found` to `desired`, in a safe order: when enabling, access opens
/// last (deny-all removed after everything else is in place); when disabling, it closes first
/// (deny-all attached before anything else is undone).
pub fn plan(desired: &Desired, found: &Found) -> Result<Vec<Action>, Conflict> {
    let state = match found {
        Found::Absent => {
            return Ok(match &desired.state {
                DesiredState::Active { team, groups } => {
                    let mut actions = vec![Action::CreateUser {
                        tags: active_tags(desired, team),
                    }];
                    actions.extend(groups.iter().cloned().map(Action::AddToGroup));
                    actions.push(Action::CreateLoginProfile);
                    actions
                }
                DesiredState::Disabled { .. } => Vec::new(),
            });
        }
        Found::Unmanaged { path } => {
            return match desired.state {
                // Nothing of ours to disable; nothing to report either.
                DesiredState::Disabled { .. } => Ok(Vec::new()),
                DesiredState::Active { .. } => Err(Conflict::Unmanaged { path: path.clone() }),
            };
        }
        Found::Managed(state) => state,
    };
    match state.employee_id() {
        Some(id) if id == desired.employee_id.as_str() => {}
        other => {
            return match desired.state {
                DesiredState::Disabled { .. } => Ok(Vec::new()),
                DesiredState::Active { .. } => Err(Conflict::OtherEmployee {
                    other: other.unwrap_or("no employee tag").to_owned(),
                }),
            };
        }
    }
    Ok(match &desired.state {
        DesiredState::Active { team, groups } => enable(desired, team, groups, state),
        DesiredState::Disabled { at, by } => disable(at, by, state),
    })
}

fn active_tags(desired: &Desired, team: &Team) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            TAG_EMPLOYEE.to_owned(),
            desired.employee_id.as_str().to_owned(),
        ),
        (TAG_TEAM.to_owned(), team.as_str().to_owned()),
        (TAG_STATUS.to_owned(), STATUS_ACTIVE.to_owned()),
    ])
}

fn enable(
    desired: &Desired,
    team: &Team,
    groups: &BTreeSet<String>,
    state: &UserState,
) -> Vec<Action> {
    let mut actions = Vec::new();
    let changed: BTreeMap<String, String> = active_tags(desired, team)
        .into_iter()
        .filter(|(k, v)| state.tags.get(k) != Some(v))
        .collect();
    if !changed.is_empty() {
        actions.push(Action::Tag(changed));
    }
    let stale: Vec<String> = [TAG_DISABLED_AT, TAG_DISABLED_BY]
        .into_iter()
        .filter(|k| state.tags.contains_key(*k))
        .map(str::to_owned)
        .collect();
    if !stale.is_empty() {
        actions.push(Action::Untag(stale));
    }
    actions.extend(
        state
            .managed_groups
            .difference(groups)
            .cloned()
            .map(Action::RemoveFromGroup),
    );
    actions.extend(
        groups
            .difference(&state.managed_groups)
            .cloned()
            .map(Action::AddToGroup),
    );
    if !state.login_profile {
        actions.push(Action::CreateLoginProfile);
    }
    // Old credentials stay inactive: a rehire gets a new password, not their old keys back.
    if state.deny_all {
        actions.push(Action::DeleteDenyAll);
    }
    actions
}

fn disable(at: &Timestamp, by: &EventId, state: &UserState) -> Vec<Action> {
    let mut actions = Vec::new();
    if !state.deny_all {
        actions.push(Action::PutDenyAll);
    }
    if state.login_profile {
        actions.push(Action::DeleteLoginProfile);
    }
    actions.extend(state.credentials.iter().cloned().map(Action::Deactivate));
    actions.extend(
        state
            .managed_groups
            .iter()
            .cloned()
            .map(Action::RemoveFromGroup),
    );
    // The first disable's time and event stay on the user; a redelivery changes nothing.
    if state.tags.get(TAG_STATUS).map(String::as_str) != Some(STATUS_DISABLED) {
        actions.push(Action::Tag(BTreeMap::from([
            (TAG_STATUS.to_owned(), STATUS_DISABLED.to_owned()),
            (TAG_DISABLED_AT.to_owned(), at.rfc3339()),
            (TAG_DISABLED_BY.to_owned(), by.as_str().to_owned()),
        ])));
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> EmployeeId {
        EmployeeId::parse(s).unwrap()
    }

    fn active(groups: &[&str]) -> Desired {
        Desired {
            user_name: "ada@example.com".into(),
            employee_id: id("E1"),
            state: DesiredState::Active {
                team: Team::from_record("engineering".into()),
                groups: groups.iter().map(|g| g.to_string()).collect(),
            },
        }
    }

    fn disabled() -> Desired {
        Desired {
            state: DesiredState::Disabled {
                at: Timestamp::parse_rfc3339("t", "2026-11-20T10:00:00Z").unwrap(),
                by: EventId::parse("ev-2").unwrap(),
            },
            ..active(&[])
        }
    }

    fn managed(tags: &[(&str, &str)]) -> UserState {
        UserState {
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..UserState::default()
        }
    }

    fn ours_active() -> UserState {
        UserState {
            managed_groups: ["developers".to_string()].into(),
            login_profile: true,
            ..managed(&[
                (TAG_EMPLOYEE, "E1"),
                (TAG_TEAM, "engineering"),
                (TAG_STATUS, STATUS_ACTIVE),
            ])
        }
    }

    #[test]
    fn onboarding_an_absent_user_creates_tags_groups_and_console() {
        let actions = plan(&active(&["developers", "readers"]), &Found::Absent).unwrap();
        let Action::CreateUser { tags } = &actions[0] else {
            panic!("{actions:?}")
        };
        assert_eq!(tags[TAG_EMPLOYEE], "E1");
        assert_eq!(tags[TAG_TEAM], "engineering");
        assert_eq!(tags[TAG_STATUS], STATUS_ACTIVE);
        assert_eq!(
            actions[1..],
            [
                Action::AddToGroup("developers".into()),
                Action::AddToGroup("readers".into()),
                Action::CreateLoginProfile
            ]
        );
    }

    #[test]
    fn converged_user_needs_nothing_and_keeps_its_password() {
        assert_eq!(
            plan(&active(&["developers"]), &Found::Managed(ours_active())).unwrap(),
            []
        );
    }

    #[test]
    fn a_hand_made_user_is_a_conflict_never_taken_over() {
        let found = Found::Unmanaged { path: "/".into() };
        assert_eq!(
            plan(&active(&["developers"]), &found),
            Err(Conflict::Unmanaged { path: "/".into() })
        );
        assert_eq!(plan(&disabled(), &found), Ok(vec![]));
    }

    #[test]
    fn another_employees_user_is_a_conflict() {
        let mut other = ours_active();
        other.tags.insert(TAG_EMPLOYEE.into(), "E2".into());
        let found = Found::Managed(other);
        assert_eq!(
            plan(&active(&["developers"]), &found),
            Err(Conflict::OtherEmployee { other: "E2".into() })
        );
        assert_eq!(plan(&disabled(), &found), Ok(vec![]));
    }

    #[test]
    fn offboard_disables_every_credential_kind_and_keeps_the_user() {
        let user = UserState {
            credentials: vec![
                Credential::AccessKey("AKIA1".into()),
                Credential::SshPublicKey("APKA1".into()),
                Credential::ServiceSpecific("ACCA1".into()),
                Credential::SigningCertificate("CERT1".into()),
                Credential::MfaDevice("arn:aws:iam::1:mfa/ada".into()),
            ],
            ..ours_active()
        };
        let actions = plan(&disabled(), &Found::Managed(user.clone())).unwrap();
        assert_eq!(actions[0], Action::PutDenyAll, "access closes first");
        assert!(actions.contains(&Action::DeleteLoginProfile));
        for c in &user.credentials {
            assert!(actions.contains(&Action::Deactivate(c.clone())), "{c:?}");
        }
        assert!(actions.contains(&Action::RemoveFromGroup("developers".into())));
        let Some(Action::Tag(tags)) = actions.last() else {
            panic!()
        };
        assert_eq!(tags[TAG_STATUS], STATUS_DISABLED);
        assert_eq!(tags[TAG_DISABLED_BY], "ev-2");
        assert!(!actions.iter().any(Action::grants));
    }

    #[test]
    fn disabling_twice_changes_nothing_the_second_time() {
        let sealed = UserState {
            deny_all: true,
            ..managed(&[(TAG_EMPLOYEE, "E1"), (TAG_STATUS, STATUS_DISABLED)])
        };
        assert_eq!(plan(&disabled(), &Found::Managed(sealed)).unwrap(), []);
        assert_eq!(plan(&disabled(), &Found::Absent).unwrap(), []);
    }

    #[test]
    fn rehire_reopens_with_a_new_password_and_keeps_old_keys_inactive() {
        let sealed = UserState {
            deny_all: true,
            ..managed(&[
                (TAG_EMPLOYEE, "E1"),
                (TAG_TEAM, "engineering"),
                (TAG_STATUS, STATUS_DISABLED),
                (TAG_DISABLED_AT, "2026-11-20T10:00:00Z"),
                (TAG_DISABLED_BY, "ev-2"),
            ])
        };
        let actions = plan(&active(&["developers"]), &Found::Managed(sealed)).unwrap();
        assert_eq!(
            actions,
            [
                Action::Tag([(TAG_STATUS.to_string(), STATUS_ACTIVE.to_string())].into()),
                Action::Untag(vec![TAG_DISABLED_AT.into(), TAG_DISABLED_BY.into()]),
                Action::AddToGroup("developers".into()),
                Action::CreateLoginProfile,
                Action::DeleteDenyAll,
            ]
        );
    }

    #[test]
    fn changed_groups_are_fixed_in_place() {
        let actions = plan(&active(&["testers"]), &Found::Managed(ours_active())).unwrap();
        assert_eq!(
            actions,
            [
                Action::RemoveFromGroup("developers".into()),
                Action::AddToGroup("testers".into())
            ]
        );
    }
}
