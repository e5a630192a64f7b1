//! Converging people: applies an HR event or an `Employee Sync` work item by recording it in the
//! directory, asking the core what each account should hold for that person, and making it so.
//!
//! The directory record, not the event, is what gets converged: an event that arrives late
//! loses to the newer record (it is stale and changes nothing), and a redelivered event simply
//! converges again, which is a no-op once the first delivery finished.

use std::time::Instant;

use futures::stream::{self, StreamExt};
use gatehouse_core::access::{active_user, names_to_seal, sealed_user, Access, Scope};
use gatehouse_core::hr_event::{HrEvent, Inbound, SyncItem};
use gatehouse_core::ids::{EmployeeId, EventId};
use gatehouse_core::outcome::{BusEvent, Outcome, Rejected, Revoked};
use gatehouse_core::record::EmployeeRecord;
use gatehouse_core::report::{AccountResult, EventReport, EventResult};
use tracing::{info, warn};

use crate::deps::Deps;
use crate::directory::{Entry, Recorded};
use crate::error::Error;
use crate::grant::AccountWork;
use crate::iam::seal::Sealed;
use crate::org::Account;

/// Applies one validated inbound item.
pub(crate) async fn handle(deps: &Deps, inbound: &Inbound) -> Result<EventReport, Error> {
    match inbound {
        Inbound::Hr(event) => handle_hr(deps, event).await,
        Inbound::Sync(item) => handle_sync(deps, item).await,
    }
}

async fn handle_hr(deps: &Deps, event: &HrEvent) -> Result<EventReport, Error> {
    let (record, before, pending) = match deps.directory.record(event).await? {
        Recorded::Stale { pending } => {
            info!(event_id = %event.event_id, employee_id = %event.employee_id,
                  effective_at = %event.effective_at, "stale: a newer event is recorded; nothing changes");
            // This may be the redelivery of the delivery that kept them.
            publish(deps, &event.employee_id, &pending, &[]).await?;
            return Ok(EventReport::new(
                event.event_id.as_str(),
                Some(&event.employee_id),
                EventResult::Stale,
            ));
        }
        Recorded::Current {
            record,
            before,
            pending,
        } => (record, before, pending),
    };
    let scope = Scope::of_hr_event(&event.change, before.as_ref(), &record);
    converge(
        deps,
        Entry { record, pending },
        scope,
        &event.event_id,
        true,
    )
    .await
}

async fn handle_sync(deps: &Deps, item: &SyncItem) -> Result<EventReport, Error> {
    let Some(entry) = deps.directory.get(&item.employee_id).await? else {
        info!(event_id = %item.event_id, employee_id = %item.employee_id,
              "sync: employee not in the directory; nothing to converge");
        return Ok(EventReport::new(
            item.event_id.as_str(),
            Some(&item.employee_id),
            EventResult::Applied,
        ));
    };
    let scope = Scope::of_sync(item.account_id.as_ref());
    converge(deps, entry, scope, &item.event_id, false).await
}

/// How many times a person is converged again because their record moved on while access was
/// being opened (a concurrent event outside the FIFO queue), before the event is handed back.
const RECONVERGE_ROUNDS: usize = 3;

/// Makes every account in `scope` hold what the record and the policy say, and publishes the
/// outcomes (with any an earlier delivery could not publish).
///
/// Races outside the queue (a direct invocation beside the queue, a visibility timeout shorter
/// than a slow fan-out) are closed by re-reading the record after any round that opened
/// access: if it moved on meanwhile (an offboarding committed while a rehire was opening the
/// user), the person is converged again, everywhere, to the newer record. Checking before
/// opening would leave a window between the check and the opening; checking after leaves none.
async fn converge(
    deps: &Deps,
    entry: Entry,
    scope: Scope,
    event_id: &EventId,
    report_refusals: bool,
) -> Result<EventReport, Error> {
    let Entry {
        mut record,
        mut pending,
    } = entry;
    let mut scope = scope;
    let mut report = EventReport::new(
        event_id.as_str(),
        Some(&record.employee_id),
        EventResult::Applied,
    );
    for round in 0..=RECONVERGE_ROUNDS {
        let opened = converge_round(
            deps,
            &record,
            &pending,
            scope,
            event_id,
            report_refusals,
            &mut report,
        )
        .await?;
        if !opened {
            return Ok(report);
        }
        match deps.directory.get(&record.employee_id).await? {
            Some(now) if now.record != record => {
                warn!(event_id = %event_id, employee_id = %record.employee_id, round,
                      "the record moved on while access was being opened; converging again");
                record = now.record;
                pending = now.pending;
                scope = Scope::Everywhere;
            }
            _ => return Ok(report),
        }
    }
    Err(Error::Contention {
        employee: record.employee_id.to_string(),
    })
}

/// One round of [`converge`]. Accounts are worked concurrently up to the configured bound; a
/// failure in one does not stop the others, and the first failure is returned after all have
/// run so that a redelivery converges the rest. `true`: access was opened somewhere.
async fn converge_round(
    deps: &Deps,
    record: &EmployeeRecord,
    pending: &[BusEvent],
    scope: Scope,
    event_id: &EventId,
    report_refusals: bool,
    report: &mut EventReport,
) -> Result<bool, Error> {
    let started = Instant::now();
    let mut outcomes = Vec::new();
    let access = Access::of(record, &deps.config.policy);
    report.rejections.clear();
    for refusal in &access.refused {
        warn!(event_id = %event_id, employee_id = %record.employee_id,
              environment = %refusal.environment, reason = %refusal.reason, "grant refused by policy");
        report.rejections.push(refusal.reason.clone());
        if report_refusals {
            outcomes.push(Outcome::Rejected(Rejected {
                reason: refusal.reason.clone(),
                event_id: Some(event_id.to_string()),
                employee_id: Some(record.employee_id.clone()),
                environment: Some(refusal.environment.clone()),
                account_id: None,
            }));
        }
    }

    // The partition, which every role ARN names (asked once per process), is asked while the
    // accounts are listed: a fresh process's first AssumeRole then waits one round trip less.
    let (accounts, partition) = futures::join!(
        deps.accounts.in_scope(scope, &access),
        deps.credentials.partition()
    );
    let accounts = accounts?;
    if !accounts.is_empty() {
        partition?;
    }

    let access = &access;
    let results: Vec<(Account, AccountWork, Result<(), Error>)> = stream::iter(accounts)
        .map(|account| async move {
            let mut work = AccountWork {
                result: AccountResult::Unchanged,
                outcomes: Vec::new(),
                opened: false,
            };
            let result =
                converge_account(deps, record, &account, access, event_id, &mut work).await;
            (account, work, result)
        })
        .buffer_unordered(deps.config.max_concurrency)
        .collect()
        .await;

    let total = results.len();
    let mut failures = Vec::new();
    let mut opened = false;
    for (account, work, result) in results {
        // What an account did before it failed happened too: a grant applied before sealing
        // an old name failed is announced now, since its redelivery finds nothing to change.
        opened |= work.opened;
        outcomes.extend(work.outcomes);
        match result {
            Ok(()) => {
                report.accounts.insert(account.id.to_string(), work.result);
            }
            Err(e) => {
                warn!(event_id = %event_id, employee_id = %record.employee_id,
                      account = %account.id, error = %e, "account failed; redelivery will converge it");
                failures.push(e);
            }
        }
    }
    // Outcomes of what was done are published even when accounts failed: they happened. The
    // redelivery will not repeat them (what they report is then unchanged).
    publish(deps, &record.employee_id, pending, &outcomes).await?;
    info!(event_id = %event_id, employee_id = %record.employee_id, accounts = total,
          changed = report.changed(), failed = failures.len(), refused = report.rejections.len(),
          elapsed_ms = started.elapsed().as_millis() as u64, "converged");
    match failures.len() {
        0 => Ok(opened),
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

/// Publishes this event's outcomes after any the bus refused before. What the bus refuses now
/// is kept on the employee's record before the event fails, so that no outcome is lost: the
/// redelivery finds nothing left to change, but publishes what was kept.
async fn publish(
    deps: &Deps,
    employee: &EmployeeId,
    pending: &[BusEvent],
    outcomes: &[Outcome],
) -> Result<(), Error> {
    let mut events = pending.to_vec();
    events.extend(outcomes.iter().map(BusEvent::from));
    if events.is_empty() {
        return Ok(());
    }
    match deps.outcomes.publish_events(&events).await {
        Ok(()) if pending.is_empty() => Ok(()),
        Ok(()) => deps.directory.clear_pending(employee, pending).await,
        Err(refused) => {
            // What was kept already stays kept; only what is new is added.
            let new: Vec<BusEvent> = refused
                .events
                .into_iter()
                .filter(|e| !pending.contains(e))
                .collect();
            warn!(employee_id = %employee, kept = new.len(), error = %refused.error,
                  "the bus refused outcomes; kept for the next try");
            if !new.is_empty() {
                deps.directory.add_pending(employee, &new).await?;
            }
            Err(refused.error)
        }
    }
}

/// Converges every user of this person in one account: the current one to what `access` grants
/// in the account's environment (if anything), every other one sealed.
async fn converge_account(
    deps: &Deps,
    record: &EmployeeRecord,
    account: &Account,
    access: &Access,
    event_id: &EventId,
    work: &mut AccountWork,
) -> Result<(), Error> {
    let granted = access.groups_in(account.environment.as_deref());
    if let Some((environment, groups)) = granted {
        if let Some(desired) = active_user(record, groups) {
            let iam = deps.iam(&account.id, event_id).await?;
            crate::grant::grant(deps, &iam, environment, groups, &desired, event_id, work).await?;
        }
    }
    let stale = names_to_seal(record, granted.is_some());
    if stale.is_empty() {
        return Ok(());
    }
    let iam = match deps.iam(&account.id, event_id).await {
        Ok(iam) => iam,
        // Nothing of Gatehouse's can be in an account it never laid its baseline in: one it
        // cannot enter is reported and passed over. One it did baseline and cannot enter now
        // is a fault, for redelivery and the alarm.
        Err(e)
            if granted.is_none()
                && e.code() == Some("AccessDenied")
                && !deps.directory.was_baselined(&account.id).await? =>
        {
            warn!(event_id = %event_id, employee_id = %record.employee_id, account = %account.id,
                  "not entered: no Gatehouse role and never baselined here; nothing of Gatehouse's to close");
            work.result = AccountResult::Unmanaged;
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    for name in stale {
        let desired = sealed_user(record, name, event_id);
        match iam.seal(name, &desired).await? {
            Sealed::AlreadySealed => {}
            Sealed::Closed => {
                if work.result == AccountResult::Unchanged {
                    work.result = AccountResult::Revoked;
                }
                work.outcomes.push(Outcome::Revoked(Revoked {
                    event_id: event_id.to_string(),
                    employee_id: record.employee_id.clone(),
                    account_id: account.id.clone(),
                    environment: account.environment.clone(),
                    user_name: name.to_owned(),
                }));
            }
            Sealed::Conflict(conflict) => {
                warn!(event_id = %event_id, employee_id = %record.employee_id,
                      account = %account.id, user = %name, %conflict, "conflict on the way out");
                work.result = AccountResult::Conflict;
                work.outcomes.push(Outcome::Rejected(Rejected {
                    reason: format!("{name}: {conflict}; it was left as it is"),
                    event_id: Some(event_id.to_string()),
                    employee_id: Some(record.employee_id.clone()),
                    environment: account.environment.clone(),
                    account_id: Some(account.id.clone()),
                }));
            }
        }
    }
    Ok(())
}
