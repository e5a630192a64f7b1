//! Converging people: applies an HR event or an `Employee Sync` work item by recording it in the
//! directory, deciding what each account should hold for that person, and making it so.
//!
//! The directory record, not the event, is what gets converged: an event that arrives late
//! loses to the newer record (it is stale and changes nothing), and a redelivered event simply
//! converges again, which is a no-op once the first delivery finished.

use std::collections::BTreeMap;
use std::time::Instant as Clock;

use futures::stream::{self, StreamExt};
use serde::Serialize;
use tracing::{info, warn};

use crate::deps::Deps;
use crate::directory::{EmployeeRecord, Recorded, Status};
use crate::error::Error;
use crate::event::{AccountId, Change, EventId, HrEvent, Inbound, Instant, SyncItem};
use crate::iam::Depth;
use crate::org::Account;
use crate::outcome::{Granted, Outcome, Rejected, Revoked};
use crate::plan::{plan, Action, Desired, DesiredState, Found};
use crate::policy::Grant;

/// What one event did, for the invocation's answer and the summary log line. Holds no
/// credential: a new password is only ever referred to by its secret's ARN.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub event_id: String,
    pub employee_id: Option<String>,
    pub result: Disposition,
    /// Account id → what happened there.
    pub accounts: BTreeMap<String, AccountResult>,
    pub rejections: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Disposition {
    Applied,
    Stale,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountResult {
    Granted,
    Revoked,
    Unchanged,
    Conflict,
}

/// Where to converge.
enum Scope {
    /// The accounts of the environments the person is granted: enough for a first onboarding.
    Granted,
    /// Every ACTIVE account: a leaver or a mover may hold users anywhere.
    Everywhere,
    One(AccountId),
}

/// Applies one validated inbound item.
pub async fn handle(deps: &Deps, inbound: &Inbound) -> Result<Report, Error> {
    match inbound {
        Inbound::Hr(event) => handle_hr(deps, event).await,
        Inbound::Sync(item) => handle_sync(deps, item).await,
    }
}

async fn handle_hr(deps: &Deps, event: &HrEvent) -> Result<Report, Error> {
    let (record, before) = match deps.directory.record(event).await? {
        Recorded::Stale => {
            info!(event_id = %event.event_id, employee_id = %event.employee_id,
                  effective_at = %event.effective_at, "stale: a newer event is recorded; nothing changes");
            return Ok(Report::new(
                event.event_id.as_str(),
                Some(&event.employee_id),
                Disposition::Stale,
            ));
        }
        Recorded::Current { record, before } => (record, before),
    };
    // A first onboarding (or a redelivery of it) needs only the accounts it grants. Anything
    // that may have left access behind elsewhere (a rehire, a newer onboarding into another
    // team, a transfer, an offboarding) converges every account.
    let same_access = |b: &EmployeeRecord| {
        b.status == Status::Active && b.team == record.team && b.user_name == record.user_name
    };
    let scope = match event.change {
        Change::Onboarded { .. } if before.as_ref().is_none_or(same_access) => Scope::Granted,
        _ => Scope::Everywhere,
    };
    converge(deps, &record, scope, &event.event_id, true).await
}

async fn handle_sync(deps: &Deps, item: &SyncItem) -> Result<Report, Error> {
    let Some(record) = deps.directory.get(&item.employee_id).await? else {
        info!(event_id = %item.event_id, employee_id = %item.employee_id,
              "sync: employee not in the directory; nothing to converge");
        return Ok(Report::new(
            item.event_id.as_str(),
            Some(&item.employee_id),
            Disposition::Applied,
        ));
    };
    let scope = match &item.account_id {
        Some(a) => Scope::One(a.clone()),
        None => Scope::Everywhere,
    };
    converge(deps, &record, scope, &item.event_id, false).await
}

/// Makes every account in `scope` hold what `record` and the policy say. Accounts are worked
/// concurrently up to the configured bound; a failure in one does not stop the others, and the
/// first failure is returned after all have run so that a redelivery converges the rest.
async fn converge(
    deps: &Deps,
    record: &EmployeeRecord,
    scope: Scope,
    event_id: &EventId,
    report_refusals: bool,
) -> Result<Report, Error> {
    let started = Clock::now();
    let policy = &deps.config.policy;
    let mut report = Report::new(
        event_id.as_str(),
        Some(&record.employee_id),
        Disposition::Applied,
    );
    let mut outcomes = Vec::new();

    // environment -> groups, for the environments this person is granted.
    let mut granted: BTreeMap<String, _> = BTreeMap::new();
    if let (Status::Active, Some(team)) = (record.status, &record.team) {
        for grant in policy.grants(team, &record.employee_id) {
            match grant {
                Grant::Allowed {
                    environment,
                    groups,
                } => {
                    granted.insert(environment, groups);
                }
                Grant::Refused {
                    environment,
                    reason,
                } => {
                    warn!(event_id = %event_id, employee_id = %record.employee_id,
                          environment = %environment, %reason, "grant refused by policy");
                    report.rejections.push(reason.clone());
                    if report_refusals {
                        outcomes.push(Outcome::Rejected(Rejected {
                            reason,
                            event_id: Some(event_id.to_string()),
                            employee_id: Some(record.employee_id.clone()),
                            environment: Some(environment),
                            account_id: None,
                        }));
                    }
                }
            }
        }
    }

    let accounts: Vec<Account> = match scope {
        Scope::Granted => {
            let mut v = Vec::new();
            for env in granted.keys() {
                v.extend(deps.accounts.in_environment(env).await?);
            }
            v
        }
        Scope::Everywhere => deps.accounts.accounts_now().await?.to_vec(),
        Scope::One(id) => deps.accounts.find(&id).await?.into_iter().collect(),
    };

    let results: Vec<(Account, Result<AccountWork, Error>)> = stream::iter(accounts)
        .map(|account| {
            let desired = account
                .environment
                .as_ref()
                .and_then(|env| granted.get(env).map(|groups| (env.clone(), groups.clone())));
            async move {
                let result = converge_account(deps, record, &account, desired, event_id).await;
                (account, result)
            }
        })
        .buffer_unordered(deps.config.max_concurrency)
        .collect()
        .await;

    let total = results.len();
    let mut failures = Vec::new();
    for (account, result) in results {
        match result {
            Ok(work) => {
                report.accounts.insert(account.id.to_string(), work.result);
                outcomes.extend(work.outcomes);
            }
            Err(e) => {
                warn!(event_id = %event_id, employee_id = %record.employee_id,
                      account = %account.id, error = %e, "account failed; redelivery will converge it");
                failures.push(e);
            }
        }
    }
    // Outcomes of the accounts that succeeded are published even when others failed: they
    // happened. The redelivery will not repeat them (those accounts are then unchanged).
    deps.outcomes.publish(&outcomes).await?;
    let changed = report
        .accounts
        .values()
        .filter(|r| matches!(r, AccountResult::Granted | AccountResult::Revoked))
        .count();
    info!(event_id = %event_id, employee_id = %record.employee_id, accounts = total,
          changed, failed = failures.len(), refused = report.rejections.len(),
          elapsed_ms = started.elapsed().as_millis() as u64, "converged");
    match failures.len() {
        0 => Ok(report),
        failed => {
            let first = Box::new(failures.swap_remove(0));
            Err(Error::FanOut {
                failed,
                total,
                first,
            })
        }
    }
}

struct AccountWork {
    result: AccountResult,
    outcomes: Vec<Outcome>,
}

/// Converges every user of this person in one account. `granted`: the environment and groups
/// the person should have here; `None`: every user of theirs here must be disabled.
async fn converge_account(
    deps: &Deps,
    record: &EmployeeRecord,
    account: &Account,
    granted: Option<(String, std::collections::BTreeSet<String>)>,
    event_id: &EventId,
) -> Result<AccountWork, Error> {
    let mut work = AccountWork {
        result: AccountResult::Unchanged,
        outcomes: Vec::new(),
    };
    let current = record.user_name.as_deref();
    if let (Some((environment, groups)), Some(name), Some(team)) = (&granted, current, &record.team)
    {
        let iam = deps
            .baselined_iam(&account.id, environment, event_id)
            .await?;
        let desired = Desired {
            user_name: name.to_owned(),
            employee_id: record.employee_id.clone(),
            state: DesiredState::Active {
                team: team.clone(),
                groups: groups.clone(),
            },
        };
        // Optimistic: a new hire's user does not exist yet, so try to create it first and read
        // the account only if the name turns out to be taken. Saves reads on the common path.
        let mut actions = plan(&desired, &Found::Absent).unwrap_or_default();
        let mut applied = Vec::new();
        if let Some(Action::CreateUser { tags }) = actions.first() {
            if iam.create_user(name, tags).await? {
                applied.push(actions.remove(0));
            } else {
                match plan(&desired, &iam.read_user(name, Depth::Grant).await?) {
                    Ok(a) => actions = a,
                    Err(conflict) => {
                        warn!(event_id = %event_id, employee_id = %record.employee_id,
                              account = %account.id, user = %name, %conflict, "conflict");
                        work.result = AccountResult::Conflict;
                        work.outcomes.push(Outcome::Rejected(Rejected {
                            reason: format!("{name}: {conflict}"),
                            event_id: Some(event_id.to_string()),
                            employee_id: Some(record.employee_id.clone()),
                            environment: Some(environment.clone()),
                            account_id: Some(account.id.clone()),
                        }));
                        actions.clear();
                    }
                }
            }
        }
        let mut secret_arn = None;
        for action in actions {
            if action == Action::CreateLoginProfile {
                secret_arn = Some(issue_password(deps, &iam, record, name).await?);
            } else {
                iam.apply(name, &action).await?;
            }
            applied.push(action);
        }
        if !applied.is_empty() {
            work.result = AccountResult::Granted;
            work.outcomes.push(Outcome::Granted(Granted {
                event_id: event_id.to_string(),
                employee_id: record.employee_id.clone(),
                account_id: account.id.clone(),
                environment: environment.clone(),
                user_name: name.to_owned(),
                groups: groups.iter().cloned().collect(),
                initial_password_secret_arn: secret_arn,
            }));
        }
    }
    // Every other user name this person has had here is sealed (the current one too, when the
    // person has no access in this account).
    let keep = granted.as_ref().and(current);
    let stale: Vec<&String> = record
        .user_names
        .iter()
        .filter(|n| Some(n.as_str()) != keep)
        .collect();
    if stale.is_empty() {
        return Ok(work);
    }
    let iam = deps.iam(&account.id, event_id).await?;
    let at = match record.status {
        Status::Offboarded => record.effective_at,
        Status::Active => Instant::now(),
    };
    for name in stale {
        let desired = Desired {
            user_name: name.clone(),
            employee_id: record.employee_id.clone(),
            state: DesiredState::Disabled {
                at,
                by: event_id.clone(),
            },
        };
        let actions =
            plan(&desired, &iam.read_user(name, Depth::Revoke).await?).unwrap_or_default();
        for action in &actions {
            iam.apply(name, action).await?;
        }
        if !actions.is_empty() {
            if work.result == AccountResult::Unchanged {
                work.result = AccountResult::Revoked;
            }
            work.outcomes.push(Outcome::Revoked(Revoked {
                event_id: event_id.to_string(),
                employee_id: record.employee_id.clone(),
                account_id: account.id.clone(),
                environment: account.environment.clone(),
                user_name: name.clone(),
            }));
        }
    }
    Ok(work)
}

/// A fresh initial password: stored first, then set, so that the secret always holds the
/// password that works even if this is interrupted between the two (a redelivery finds no
/// login profile and issues another).
async fn issue_password(
    deps: &Deps,
    iam: &crate::iam::AccountIam,
    record: &EmployeeRecord,
    name: &str,
) -> Result<String, Error> {
    let password = crate::secrets::random_password();
    let arn = deps
        .vault
        .store(iam.account(), name, &record.employee_id, &password)
        .await?;
    iam.create_login_profile(name, &password).await?;
    Ok(arn)
}

impl Report {
    pub fn new(
        event_id: &str,
        employee_id: Option<&crate::event::EmployeeId>,
        result: Disposition,
    ) -> Report {
        Report {
            event_id: event_id.to_owned(),
            employee_id: employee_id.map(|e| e.to_string()),
            result,
            accounts: BTreeMap::new(),
            rejections: Vec::new(),
        }
    }
}
