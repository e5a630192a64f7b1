//! Drift: what an account holds that the directory and the policy do not say, found by
//! `reconcile` on a schedule. Pure: the shell reads each account into an [`Inventory`] (or
//! says why it could not), and [`assess`] classifies every difference and decides the repairs.
//!
//! A person's drift is exactly what an `Employee Sync` for that account would change: the
//! planner is asked, with the user as read, what it would do, and its access-changing actions
//! (not its labels) are the finding. So a repair is always that sync, through the work queue,
//! in order with the person's HR events; `reconcile` never changes people's IAM itself.
//!
//! Baseline drift (Gatehouse's documents, its groups' policies, the provisioner role, a user
//! without the boundary) is repaired by `account-created`, the one function holding the
//! bootstrap role: a repair run asks it with one [`BaselineRequest`] per account.
//!
//! Fail closed: an account that could not be read whole is `unknown`, never "no users", and
//! nothing is repaired there. The breaker: a run whose repairs would close access for more
//! people than `[reconcile] max_disables` repairs nothing, unless the operator confirms.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::access::{active_user, sealed_user, Access};
use crate::baseline::{BaselineRequest, MAX_REQUESTED_USERS};
use crate::ids::{AccountId, EventId, Timestamp};
use crate::names::{STATUS_DISABLED, TAG_STATUS};
use crate::plan::{plan, Action, DesiredState, Found};
use crate::policy::{Policy, ReconcileMode};
use crate::record::EmployeeRecord;
use crate::work_item::SyncRequest;

mod baseline;
mod inventory;
mod structure;
pub use inventory::{AccountRef, AccountState, Inventory, KeySeen, OtherUser, RolePolicies};

/// The kinds of drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A person the policy grants this account lacks their user, a group, the console, or is
    /// still sealed.
    MissingGrant,
    /// An active managed user in a group the person's team does not get here.
    ExtraGroup,
    /// The user of an offboarded or transferred employee is still active here.
    LeaverActive,
    /// A sealed user has a way in again (console, a credential, deny-all gone, a group).
    Reopened,
    /// A user under `/gatehouse/people/` that no directory record names.
    UnknownUser,
    /// A user under `/gatehouse/people/` tagged as another employee's than its name's.
    Conflict,
    /// A group under `/gatehouse/` the policy does not define for this environment.
    UndefinedGroup,
    /// A Gatehouse group whose attached policies are not the ones the policy names (one
    /// attached by hand, or one the policy no longer names; or one missing).
    GroupPolicy,
    /// A managed user without Gatehouse's permissions boundary (or with another).
    MissingBoundary,
    /// One of Gatehouse's own policies (boundary, MFA, deny-all) whose document is not the
    /// shipped one, or a boundary that is missing.
    PolicyDocument,
    /// The provisioner role holds a policy besides its own.
    ProvisionerPolicy,
    /// A service account user the policy no longer defines here.
    RetiredServiceAccount,
    /// A user outside `/gatehouse/` with a console password or an active access key.
    UnmanagedAccess,
    /// An active access key older than `[reconcile] max_key_age_days`.
    OldAccessKey,
    /// An account with no Gatehouse baseline.
    NoBaseline,
}

impl Kind {
    /// Whether repairing it closes access (what the breaker counts).
    pub fn closes(self) -> bool {
        matches!(self, Kind::ExtraGroup | Kind::LeaverActive | Kind::Reopened)
    }
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub account_id: String,
    pub kind: Kind,
    /// The user, group or key it is about.
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee_id: Option<String>,
    pub detail: String,
    /// Whether a repair run fixes it (a person's, through an `Employee Sync`; a baseline's,
    /// through a [`BaselineRequest`]); the others are for a person.
    pub repairable: bool,
}

/// A run's conclusion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub findings: Vec<Finding>,
    /// Accounts not read whole, with why.
    pub unknown: BTreeMap<String, String>,
    /// The `Employee Sync` items that would repair people's repairable findings.
    pub repairs: Vec<SyncRequest>,
    /// The requests to `account-created` that would repair the baselines' findings.
    pub rebaselines: Vec<BaselineRequest>,
    /// People whose access the repairs would close.
    pub closing: BTreeSet<String>,
    /// Why nothing is repaired although repairs exist (`None`: go ahead).
    pub held: Option<String>,
}

/// How a run goes: its mode, whether the operator confirmed a tripped breaker, and its id
/// (the cause of its work items).
#[derive(Debug, Clone)]
pub struct Run<'a> {
    pub id: &'a EventId,
    pub mode: ReconcileMode,
    pub confirmed: bool,
    pub now: Timestamp,
}

/// Classifies every difference in `accounts` and decides the repairs.
pub fn assess(
    accounts: &[(AccountRef, AccountState)],
    records: &[EmployeeRecord],
    policy: &Policy,
    run: &Run,
) -> Assessment {
    let mut findings = Vec::new();
    let mut unknown = BTreeMap::new();
    for (account, state) in accounts {
        match state {
            AccountState::Read(inventory) => {
                findings.extend(people(account, inventory, records, policy, run));
                findings.extend(structure::drift(account, inventory, policy, run));
                findings.extend(baseline::drift(account, inventory, policy));
            }
            AccountState::Unknown { reason } => {
                unknown.insert(account.id.to_string(), reason.clone());
            }
            AccountState::NoBaseline => findings.push(Finding {
                account_id: account.id.to_string(),
                kind: Kind::NoBaseline,
                subject: account.id.to_string(),
                employee_id: None,
                detail: "the provisioner role is refused and Gatehouse never laid its baseline \
                         here: give the account to account-created"
                    .into(),
                repairable: false,
            }),
        }
    }
    let mut repairs: BTreeMap<(String, String), SyncRequest> = BTreeMap::new();
    let mut closing = BTreeSet::new();
    for f in findings.iter().filter(|f| f.repairable) {
        let (Some(employee), Ok(account)) = (&f.employee_id, AccountId::parse(&f.account_id))
        else {
            continue;
        };
        if f.kind.closes() {
            closing.insert(employee.clone());
        }
        let Ok(employee_id) = crate::ids::EmployeeId::parse(employee) else {
            continue;
        };
        repairs
            .entry((f.account_id.clone(), employee.clone()))
            .or_insert(SyncRequest {
                employee_id,
                account_id: Some(account),
                cause: run.id.to_string(),
            });
    }
    let repairs: Vec<SyncRequest> = repairs.into_values().collect();
    let rebaselines = rebaselines(&findings, run);
    let held = if repairs.is_empty() && rebaselines.is_empty() {
        None
    } else if run.mode == ReconcileMode::Report {
        Some("report mode: nothing is repaired".into())
    } else if closing.len() > policy.reconcile.max_disables && !run.confirmed {
        Some(format!(
            "the breaker tripped: the repairs would close access for {} people, more than \
             [reconcile] max_disables = {}; confirm to repair",
            closing.len(),
            policy.reconcile.max_disables
        ))
    } else {
        None
    };
    Assessment {
        findings,
        unknown,
        repairs,
        rebaselines,
        closing,
        held,
    }
}

/// One request per account whose baseline has a repairable finding, naming the users found
/// without the boundary.
fn rebaselines(findings: &[Finding], run: &Run) -> Vec<BaselineRequest> {
    let mut requests: BTreeMap<&str, BaselineRequest> = BTreeMap::new();
    for f in findings
        .iter()
        .filter(|f| f.repairable && f.employee_id.is_none())
    {
        let Ok(account_id) = AccountId::parse(&f.account_id) else {
            continue;
        };
        let request = requests
            .entry(f.account_id.as_str())
            .or_insert_with(|| BaselineRequest {
                account_id,
                cause: run.id.to_string(),
                users: Vec::new(),
            });
        if f.kind == Kind::MissingBoundary && request.users.len() < MAX_REQUESTED_USERS {
            request.users.push(f.subject.clone());
        }
    }
    requests.into_values().collect()
}

/// People's users: every user under `/gatehouse/people/`, and every grant the account lacks.
fn people(
    account: &AccountRef,
    inventory: &Inventory,
    records: &[EmployeeRecord],
    policy: &Policy,
    run: &Run,
) -> Vec<Finding> {
    let env = account.environment.as_deref();
    let finding = |kind: Kind, subject: &str, employee: Option<&str>, detail: String| Finding {
        account_id: account.id.to_string(),
        kind,
        subject: subject.to_owned(),
        employee_id: employee.map(str::to_owned),
        // Every finding here with a person to sync is repaired by that sync.
        repairable: employee.is_some(),
        detail,
    };
    let owners: BTreeMap<&str, &EmployeeRecord> = records
        .iter()
        .flat_map(|r| r.user_names.iter().map(move |n| (n.as_str(), r)))
        .collect();
    let mut out = Vec::new();
    for (name, state) in &inventory.people {
        let Some(record) = owners.get(name.as_str()) else {
            // Nobody to sync: the tag's employee id is reported, not trusted.
            out.push(Finding {
                repairable: false,
                ..finding(
                    Kind::UnknownUser,
                    name,
                    state.employee_id(),
                    "no directory record names this user".into(),
                )
            });
            continue;
        };
        let employee = record.employee_id.as_str();
        let access = Access::of(record, policy);
        let granted = access
            .groups_in(env)
            .filter(|_| record.user_name.as_deref() == Some(name.as_str()));
        let desired = match granted {
            Some((_, groups)) => active_user(record, groups),
            None => Some(sealed_user(record, name, run.id)),
        };
        let Some(desired) = desired else { continue };
        let actions = match plan(&desired, &Found::Managed(state.clone())) {
            Ok(actions) => actions,
            Err(conflict) => {
                out.push(finding(Kind::Conflict, name, None, conflict.to_string()));
                continue;
            }
        };
        let changes: Vec<String> = actions.iter().filter_map(describe).collect();
        if changes.is_empty() {
            continue;
        }
        let detail = changes.join(", ");
        match desired.state {
            DesiredState::Active { .. } => {
                let (removals, rest): (Vec<&Action>, Vec<&Action>) = actions
                    .iter()
                    .filter(|a| describe(a).is_some())
                    .partition(|a| matches!(a, Action::RemoveFromGroup(_)));
                if !removals.is_empty() {
                    let what: Vec<String> = removals.into_iter().filter_map(describe).collect();
                    out.push(finding(
                        Kind::ExtraGroup,
                        name,
                        Some(employee),
                        what.join(", "),
                    ));
                }
                if !rest.is_empty() {
                    let what: Vec<String> = rest.into_iter().filter_map(describe).collect();
                    out.push(finding(
                        Kind::MissingGrant,
                        name,
                        Some(employee),
                        what.join(", "),
                    ));
                }
            }
            DesiredState::Disabled { .. } => {
                let sealed =
                    state.tags.get(TAG_STATUS).map(String::as_str) == Some(STATUS_DISABLED);
                let kind = if sealed {
                    Kind::Reopened
                } else {
                    Kind::LeaverActive
                };
                out.push(finding(kind, name, Some(employee), detail));
            }
        }
    }
    for record in records {
        let access = Access::of(record, policy);
        let (Some(_), Some(name)) = (access.groups_in(env), &record.user_name) else {
            continue;
        };
        if !inventory.people.contains_key(name) {
            out.push(finding(
                Kind::MissingGrant,
                name,
                Some(record.employee_id.as_str()),
                "no user".into(),
            ));
        }
    }
    out
}

/// What an action of the planner would change, in words; `None` for labels (tags), which
/// are not access.
fn describe(action: &Action) -> Option<String> {
    (!action.labels()).then(|| action.describe())
}

pub mod report;

#[cfg(test)]
mod tests;
