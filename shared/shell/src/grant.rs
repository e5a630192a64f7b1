//! Granting: bringing a person's current user in one account to what the policy grants
//! (created optimistically, read only when the name is taken), with its initial password
//! stored before it is set.

use std::collections::BTreeSet;

use gatehouse_core::ids::{EmployeeId, EventId};
use gatehouse_core::outcome::{Granted, Outcome, Rejected};
use gatehouse_core::plan::{plan, Action, Desired, Found};
use gatehouse_core::report::AccountResult;
use tracing::warn;

use crate::deps::Deps;
use crate::error::Error;
use crate::iam::apply::Profile;
use crate::iam::{AccountIam, Depth};

/// What converging one account did.
pub(crate) struct AccountWork {
    pub(crate) result: AccountResult,
    pub(crate) outcomes: Vec<Outcome>,
    /// An action that opens access was applied.
    pub(crate) opened: bool,
}

/// Brings the person's current user in one account of `environment` to `desired` (active, in
/// `groups`).
pub(crate) async fn grant(
    deps: &Deps,
    iam: &AccountIam,
    environment: &str,
    groups: &BTreeSet<String>,
    desired: &Desired,
    event_id: &EventId,
    work: &mut AccountWork,
) -> Result<(), Error> {
    let name = desired.user_name.as_str();
    let employee_id = &desired.employee_id;
    // Optimistic: a new hire's user does not exist yet, so try to create it first and read
    // the account only if the name turns out to be taken. Saves reads on the common path.
    let mut actions = plan(desired, &Found::Absent).unwrap_or_default();
    let mut applied = Vec::new();
    // The baseline is trusted, not read: a call that finds part of it missing (the boundary,
    // a group, the deny-all policy) has it repaired and is made once more.
    let mut repaired = false;
    if let Some(Action::CreateUser { tags }) = actions.first() {
        let created = match iam.create_user(name, tags).await {
            Err(e) if e.code() == Some("NoSuchEntity") => {
                deps.repair_baseline(iam, environment).await?;
                repaired = true;
                iam.create_user(name, tags).await?
            }
            created => created?,
        };
        if created {
            applied.push(actions.remove(0));
        } else {
            match plan(desired, &iam.read_user(name, Depth::Grant).await?) {
                Ok(a) => actions = a,
                Err(conflict) => {
                    warn!(event_id = %event_id, employee_id = %employee_id,
                          account = %iam.account(), user = %name, %conflict, "conflict");
                    work.result = AccountResult::Conflict;
                    work.outcomes.push(Outcome::Rejected(Rejected {
                        reason: format!("{name}: {conflict}"),
                        event_id: Some(event_id.to_string()),
                        employee_id: Some(employee_id.clone()),
                        environment: Some(environment.to_owned()),
                        account_id: Some(iam.account().clone()),
                    }));
                    actions.clear();
                }
            }
        }
    }
    // IAM is eventually consistent: right after CreateUser, a call on the new user can answer
    // NoSuchEntity. That is time to wait, not a fault: the event is handed back and converges.
    let just_created = !applied.is_empty();
    let settle = |e: Error| {
        if just_created && e.code() == Some("NoSuchEntity") {
            e.into_transient()
        } else {
            e
        }
    };
    let mut secret_arn = None;
    for action in actions {
        if action == Action::CreateLoginProfile {
            secret_arn = Some(
                issue_password(deps, iam, employee_id, name)
                    .await
                    .map_err(settle)?,
            );
        } else {
            let mut done = iam.apply(name, &action).await;
            if !repaired && needs_baseline(&action) && is_missing(&done) {
                deps.repair_baseline(iam, environment).await?;
                repaired = true;
                done = iam.apply(name, &action).await;
            }
            done.map_err(settle)?;
        }
        applied.push(action);
    }
    work.opened |= applied.iter().any(Action::grants);
    if !applied.is_empty() {
        work.result = AccountResult::Granted;
        work.outcomes.push(Outcome::Granted(Granted {
            event_id: event_id.to_string(),
            employee_id: employee_id.clone(),
            account_id: iam.account().clone(),
            environment: environment.to_owned(),
            user_name: name.to_owned(),
            groups: groups.iter().cloned().collect(),
            initial_password_secret_arn: secret_arn,
        }));
    }
    Ok(())
}

/// Whether `action` relies on a piece of the baseline (a group, the deny-all policy).
fn needs_baseline(action: &Action) -> bool {
    matches!(action, Action::AddToGroup(_) | Action::AttachDenyAll)
}

/// Whether a call failed because something it named does not exist.
fn is_missing(done: &Result<(), Error>) -> bool {
    done.as_ref()
        .is_err_and(|e| e.code() == Some("NoSuchEntity"))
}

/// A fresh initial password: stored first, then set, so that the secret always holds the
/// password that works even if this is interrupted between the two (a redelivery finds no
/// login profile and issues another). If a concurrent delivery set a profile first, this one
/// replaced its password and stores it again, last: two deliveries at once still leave the
/// secret holding the password that works. (Three or more at once can still interleave their
/// writes; the FIFO queue is what keeps one person's events apart.)
async fn issue_password(
    deps: &Deps,
    iam: &AccountIam,
    employee_id: &EmployeeId,
    name: &str,
) -> Result<String, Error> {
    let password = crate::secrets::random_password();
    let arn = deps
        .vault
        .store(iam.account(), name, employee_id, &password)
        .await?;
    if iam.create_login_profile(name, &password).await? == Profile::Replaced {
        deps.vault
            .store(iam.account(), name, employee_id, &password)
            .await?;
    }
    Ok(arn)
}
