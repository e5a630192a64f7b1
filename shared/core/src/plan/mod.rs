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
    AttachDenyAll,
    DetachDenyAll,
    Deactivate(Credential),
}

impl Action {
    /// The action in words, for people (drift findings, `gatehouse plan`).
    pub fn describe(&self) -> String {
        let pairs = |tags: &BTreeMap<String, String>| {
            tags.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        match self {
            Action::CreateUser { .. } => "create the user".into(),
            Action::Tag(tags) => format!("tag {}", pairs(tags)),
            Action::Untag(keys) => format!("untag {}", keys.join(" ")),
            Action::AddToGroup(g) => format!("add to {g}"),
            Action::RemoveFromGroup(g) => format!("remove from {g}"),
            Action::CreateLoginProfile => "give a console password".into(),
            Action::DeleteLoginProfile => "delete the console password".into(),
            Action::AttachDenyAll => "attach deny-all".into(),
            Action::DetachDenyAll => "detach deny-all".into(),
            Action::Deactivate(c) => format!("deactivate {c:?}"),
        }
    }

    /// Whether the action only labels the user (its tags), changing no access.
    pub fn labels(&self) -> bool {
        matches!(self, Action::Tag(_) | Action::Untag(_))
    }

    /// Whether the action opens access (as opposed to closing or labelling it).
    pub fn grants(&self) -> bool {
        matches!(
            self,
            Action::CreateUser { .. }
                | Action::AddToGroup(_)
                | Action::CreateLoginProfile
                | Action::DetachDenyAll
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
/// (deny-all attached before anything else is undone). A user under the name that is not this
/// employee's Gatehouse user is a conflict, whether the person is to have access or not: it is
/// reported, never changed.
pub fn plan(desired: &Desired, found: &Found) -> Result<Vec<Action>, Conflict> {
    let Some(state) = owned(desired, found)? else {
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
    };
    Ok(match &desired.state {
        DesiredState::Active { team, groups } => enable(desired, team, groups, state),
        DesiredState::Disabled { at, by } => disable(at, by, state),
    })
}

/// What is known of the two ways in that sealing always closes, whatever the listings say:
/// `None` when reading it failed (throttled, denied by an SCP).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Closers {
    pub deny_all: Option<bool>,
    pub login_profile: Option<bool>,
}

/// The closers of sealing a user: attach the deny-all policy and delete the console login,
/// taken whether or not the credentials could be listed, so that a listing that fails
/// (throttling during a mass layoff, an SCP) leaves no way in open. Each is skipped only when
/// it is known to be done already, and taken blind when unknown (both are idempotent). The
/// rest of the seal is [`plan`] over the listings, as they stand once these are done.
pub fn seal_first(
    desired: &Desired,
    found: &Found,
    closers: Closers,
) -> Result<Vec<Action>, Conflict> {
    if owned(desired, found)?.is_none() {
        return Ok(Vec::new());
    }
    let mut actions = Vec::new();
    if closers.deny_all != Some(true) {
        actions.push(Action::AttachDenyAll);
    }
    if closers.login_profile != Some(false) {
        actions.push(Action::DeleteLoginProfile);
    }
    Ok(actions)
}

/// The user under the name if it is this employee's Gatehouse user (`None`: there is none).
fn owned<'a>(desired: &Desired, found: &'a Found) -> Result<Option<&'a UserState>, Conflict> {
    let state = match found {
        Found::Absent => return Ok(None),
        Found::Unmanaged { path } => return Err(Conflict::Unmanaged { path: path.clone() }),
        Found::Managed(state) => state,
    };
    match state.employee_id() {
        Some(id) if id == desired.employee_id.as_str() => Ok(Some(state)),
        other => Err(Conflict::OtherEmployee {
            other: other.unwrap_or("no employee tag").to_owned(),
        }),
    }
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
        actions.push(Action::DetachDenyAll);
    }
    actions
}

fn disable(at: &Timestamp, by: &EventId, state: &UserState) -> Vec<Action> {
    let mut actions = Vec::new();
    if !state.deny_all {
        actions.push(Action::AttachDenyAll);
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
    // `disabled-at` is when access should have ended: the effective time of the event that
    // ended it. A redelivery changes nothing. An event that shows access should have ended
    // earlier (an offboarding processed after the transfer that sealed this user, though
    // dated before it) moves the time back and names itself, so the tags end the same
    // whatever order the events came in.
    let recorded = state
        .tags
        .get(TAG_DISABLED_AT)
        .and_then(|t| Timestamp::parse_rfc3339(TAG_DISABLED_AT, t).ok());
    let disabled = state.tags.get(TAG_STATUS).map(String::as_str) == Some(STATUS_DISABLED);
    let mut tags = BTreeMap::new();
    if !disabled {
        tags.insert(TAG_STATUS.to_owned(), STATUS_DISABLED.to_owned());
    }
    if !disabled || recorded.is_none_or(|r| *at < r) {
        tags.insert(TAG_DISABLED_AT.to_owned(), at.rfc3339());
        tags.insert(TAG_DISABLED_BY.to_owned(), by.as_str().to_owned());
    }
    if !tags.is_empty() {
        actions.push(Action::Tag(tags));
    }
    actions
}

#[cfg(test)]
mod tests;
