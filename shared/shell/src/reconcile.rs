//! `reconcile`: every ACTIVE account read whole, compared with the directory and the policy
//! ([`gatehouse_core::drift`]), one `Drift Detected` outcome per run, and, in repair mode,
//! an `Employee Sync` on the work queue for each person whose access drifted, and a
//! `Baseline Requested` on the bus for each account whose baseline drifted. It never changes
//! IAM itself: people's repairs go through the queue, in order with the person's HR events, so
//! a repair cannot race an offboarding; baselines are `account-created`'s, which alone holds
//! the bootstrap role.

use futures::{stream, StreamExt};
use gatehouse_core::drift::report::{DriftDetected, Request};
use gatehouse_core::drift::{assess, AccountRef, AccountState, Assessment, Run};
use gatehouse_core::ids::{EventId, Timestamp};
use gatehouse_core::outcome::{Outcome, Rejected};
use tracing::{info, warn};

use crate::deps::Deps;
use crate::error::Error;

/// Handles one invocation of `reconcile`: a schedule's event or an operator's request.
pub async fn handle_bytes(
    deps: &Deps,
    bytes: &[u8],
    run_id: &EventId,
) -> Result<serde_json::Value, Error> {
    let request = match Request::parse(bytes) {
        Ok(request) => request,
        Err(rejection) => {
            warn!(reason = %rejection.reason, "reconcile request rejected");
            deps.outcomes
                .publish(&[Outcome::Rejected(Rejected::from(&rejection))])
                .await?;
            return Ok(serde_json::json!({
                "result": "rejected",
                "reason": rejection.reason,
            }));
        }
    };
    let report = run(deps, &request, run_id).await?;
    // A plain struct of strings and numbers: serializing it cannot fail.
    Ok(serde_json::to_value(report).unwrap_or_default())
}

/// One run: read, assess, repair if asked and allowed, report.
pub async fn run(deps: &Deps, request: &Request, run_id: &EventId) -> Result<DriftDetected, Error> {
    let (assessment, mut report) = inspect(deps, request, run_id).await?;
    let decided = !assessment.repairs.is_empty() || !assessment.rebaselines.is_empty();
    let mut events = Vec::new();
    match (&assessment.held, &deps.work_queue) {
        (Some(why), _) if decided => {
            info!(run = %run_id, repairs = assessment.repairs.len(),
                  rebaselines = assessment.rebaselines.len(), %why, "repairs held");
        }
        (None, Some(queue)) if decided => {
            queue.enqueue(&assessment.repairs).await?;
            report.repairs_enqueued = assessment.repairs.len();
            // Baselines are account-created's: it holds the bootstrap role.
            events.extend(
                assessment
                    .rebaselines
                    .iter()
                    .cloned()
                    .map(Outcome::BaselineRequested),
            );
            report.baselines_requested = assessment.rebaselines.len();
        }
        (None, None) if decided => {
            // The function refuses to start without the queue.
            warn!(run = %run_id, "repairs decided but no work queue is configured");
        }
        _ => {}
    }
    events.push(Outcome::Drift(Box::new(report.clone())));
    deps.outcomes.publish(&events).await?;
    info!(run = %run_id, findings = assessment.findings.len(), unknown = assessment.unknown.len(),
          enqueued = report.repairs_enqueued, baselines = report.baselines_requested, "reconciled");
    Ok(report)
}

/// Reads and assesses, and changes nothing: no repair, no outcome (the operator CLI's dry
/// run; [`run`] acts on it). The report says no repair was enqueued.
pub async fn inspect(
    deps: &Deps,
    request: &Request,
    run_id: &EventId,
) -> Result<(Assessment, DriftDetected), Error> {
    let policy = &deps.config.policy;
    let mode = request.mode.unwrap_or(policy.reconcile.mode);
    let states = read_accounts(deps, run_id).await?;
    let records = deps.directory.all_employees().await?;
    let run = Run {
        id: run_id,
        mode,
        confirmed: request.confirm,
        now: Timestamp::now(),
    };
    let assessment = assess(&states, &records, policy, &run);
    for f in &assessment.findings {
        warn!(run = %run_id, account = %f.account_id, kind = ?f.kind, subject = %f.subject,
              employee_id = f.employee_id.as_deref().unwrap_or("-"), detail = %f.detail, "drift");
    }
    for (account, reason) in &assessment.unknown {
        warn!(run = %run_id, %account, %reason, "account not read whole: unknown, nothing repaired there");
    }
    let report = DriftDetected::new(run_id.as_str(), mode, states.len(), &assessment, 0);
    Ok((assessment, report))
}

/// Every ACTIVE account of the organization, each read whole or said why not. The list is
/// read afresh: a cached one would hide an account that joined since.
pub async fn read_accounts(
    deps: &Deps,
    run_id: &EventId,
) -> Result<Vec<(AccountRef, AccountState)>, Error> {
    let accounts = deps.accounts.accounts_now().await?;
    Ok(stream::iter(accounts.iter())
        .map(|account| async move {
            let state = read_account(deps, &account.id, run_id).await;
            let account = AccountRef {
                id: account.id.clone(),
                environment: account.environment.clone(),
            };
            (account, state)
        })
        .buffered(deps.config.max_concurrency.max(1))
        .collect()
        .await)
}

/// One account, whole, or why not. Never an error: an account that cannot be read is
/// `unknown` (or, never baselined and closed to the role, `NoBaseline`), and the run goes on.
pub async fn read_account(
    deps: &Deps,
    account: &gatehouse_core::ids::AccountId,
    run_id: &EventId,
) -> AccountState {
    let iam = match deps.iam(account, run_id).await {
        Ok(iam) => iam,
        Err(e) if e.code() == Some("AccessDenied") => {
            return match deps.directory.was_baselined(account).await {
                Ok(false) => AccountState::NoBaseline,
                Ok(true) => AccountState::Unknown {
                    reason: format!("baselined, but the provisioner role is refused: {e}"),
                },
                Err(e2) => AccountState::Unknown {
                    reason: format!("{e}; and whether it was baselined: {e2}"),
                },
            };
        }
        Err(e) => {
            return AccountState::Unknown {
                reason: e.to_string(),
            }
        }
    };
    match iam.inventory(&deps.config.policy).await {
        Ok(inventory) => AccountState::Read(Box::new(inventory)),
        Err(e) => AccountState::Unknown {
            reason: e.to_string(),
        },
    }
}
