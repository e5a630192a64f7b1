//! Setting up a new account: when the organization creates an account, lay the Gatehouse
//! baseline through the bootstrap role and enqueue a sync for everyone who belongs there.
//!
//! The people themselves are brought in by `people-events`, from the FIFO work queue: backfill
//! and HR events for one person then go through one ordered queue and can never race.

use std::time::{Duration, Instant};

use gatehouse_core::access::Access;
use gatehouse_core::account_event::{parse_account_event, AccountEvent, Creation};
use gatehouse_core::documents;
use gatehouse_core::envelope::Rejection;
use gatehouse_core::ids::{AccountId, EmployeeId};
use gatehouse_core::names::BOUNDARY_POLICY;
use gatehouse_core::outcome::{Baselined, Outcome, Rejected};
use gatehouse_core::report::{SetupReport, SetupResult};
use gatehouse_core::work_item::SyncRequest;
use tracing::{info, warn};

use crate::deps::Deps;
use crate::error::Error;
use crate::iam::{AccountIam, Laid, ServiceAccount};
use crate::org::Account;

/// Handles a validated account creation event.
pub async fn handle(deps: &Deps, event: &AccountEvent) -> Result<SetupReport, Error> {
    let account_id = match &event.result {
        Creation::Failed { reason } => {
            warn!(event_id = %event.event_id, reported_by = %event.reported_by, %reason,
                  "account creation failed; nothing to set up");
            let reason = format!("account creation failed ({reason}); nothing to set up");
            deps.outcomes
                .publish(&[rejected(event, None, None, &reason)])
                .await?;
            let mut report = SetupReport::new(event.event_id.as_str(), SetupResult::Failed);
            report.reason = Some(reason);
            return Ok(report);
        }
        Creation::Succeeded { account_id } => account_id,
        Creation::Requested(request) => &request.account_id,
        Creation::Tagged { account_id, tags } => {
            if !tags.contains_key(&deps.config.policy.environment_tag) {
                let why = format!(
                    "was tagged, but not with {}: nothing for Gatehouse to do",
                    deps.config.policy.environment_tag
                );
                return refuse(deps, event, account_id, None, &why).await;
            }
            // The cached list may know the account from before it was tagged.
            deps.accounts.invalidate().await;
            account_id
        }
    };
    let Some(account) = settled(deps, account_id).await? else {
        return Err(Error::NotYet {
            account: account_id.to_string(),
            what: "a place among the organization's ACTIVE accounts".into(),
        });
    };
    let policy = &deps.config.policy;
    let environment = match account.environment {
        Some(env) if policy.environments.contains_key(&env) => env,
        Some(env) => {
            let why = format!(
                "is tagged {}={env}, which the policy does not define",
                policy.environment_tag
            );
            return refuse(deps, event, account_id, None, &why).await;
        }
        None => {
            let why = format!(
                "has no {} tag; it is left alone until it is tagged (a TagResource event brings \
                 it in)",
                policy.environment_tag
            );
            return refuse(deps, event, account_id, None, &why).await;
        }
    };

    let started = Instant::now();
    let client = deps
        .credentials
        .iam_when_ready(
            account_id,
            &policy.bootstrap_role,
            &event.event_id,
            deps.config.account_wait,
        )
        .await?;
    let iam = AccountIam::new(
        client,
        account_id.clone(),
        deps.credentials.partition().await?,
    );
    let mut report = SetupReport::new(event.event_id.as_str(), SetupResult::Baselined);
    report.account_id = Some(account_id.to_string());
    report.environment = Some(environment.clone());
    let mut outcomes = Vec::new();

    // With the member stack in charge, nothing is laid until it has reached the account.
    if deps.config.member_stack {
        iam.require_member_stack(policy).await?;
    }
    if iam.ensure_password_policy().await? {
        report.created.push("password policy".into());
    }
    lay(deps, &iam, event, &environment, &mut report).await?;
    for (name, sa) in policy
        .service_accounts
        .iter()
        .filter(|(_, sa)| sa.environment == environment)
    {
        match iam.ensure_service_account(name, &sa.groups).await? {
            ServiceAccount::Created(user) => report.created.push(format!("service account {user}")),
            ServiceAccount::Existing(_) => {}
            ServiceAccount::Conflict { user, path } => {
                let why = format!("service account {user}: the name is taken by a user outside /gatehouse/service/ (path {path})");
                warn!(event_id = %event.event_id, account = %account_id, %why, "conflict");
                outcomes.push(rejected(event, Some(account_id), Some(&environment), &why));
            }
        }
    }

    deps.directory
        .record_baseline(account_id, &environment)
        .await?;

    let requests: Vec<SyncRequest> = backfill(deps, event, &environment)
        .await?
        .into_iter()
        .map(|employee_id| SyncRequest {
            employee_id,
            account_id: Some(account_id.clone()),
            cause: event.event_id.to_string(),
        })
        .collect();
    // `Config::require_account_setup` refuses to start without a queue; checked again here
    // rather than trusted, since this is a library others may wire differently.
    let queue = deps.work_queue.as_ref().ok_or(Error::Request {
        operation: "SendMessageBatch",
        detail: format!("{} is not set", crate::config::WORK_QUEUE_URL),
    })?;
    queue.enqueue(&requests).await?;
    report.backfilled = requests.len();

    outcomes.push(Outcome::Baselined(Baselined {
        event_id: event.event_id.to_string(),
        account_id: account_id.clone(),
        environment: environment.clone(),
        created: report.created.clone(),
        repaired: report.repaired.clone(),
        backfilled: report.backfilled,
    }));
    deps.outcomes.publish(&outcomes).await?;
    info!(event_id = %event.event_id, account = %account_id, environment = %environment,
          created = ?report.created, repaired = ?report.repaired, backfilled = report.backfilled,
          elapsed_ms = started.elapsed().as_millis() as u64, "account set up");
    Ok(report)
}

/// Who `event` enqueues a sync for in an account of `environment`: everyone active whose
/// team is granted it. Nobody for a repair `reconcile` asked for: it enqueues the syncs its
/// own findings call for. (`gatehouse plan` shows the same list.)
pub(crate) async fn backfill(
    deps: &Deps,
    event: &AccountEvent,
    environment: &str,
) -> Result<Vec<EmployeeId>, Error> {
    if matches!(event.result, Creation::Requested(_)) {
        return Ok(Vec::new());
    }
    let policy = &deps.config.policy;
    Ok(deps
        .directory
        .active_employees()
        .await?
        .into_iter()
        .filter(|r| Access::of(r, policy).granted.contains_key(environment))
        .map(|r| r.employee_id)
        .collect())
}

/// Lays the baseline, or brings back what was changed by hand in one already laid:
/// Gatehouse's documents (the boundary's first, which every user needs), its groups with their
/// policies, the provisioner role (the boundary's document and the role are the member stack's
/// when it is in charge), and the boundary of the users a `Baseline Requested` names. Every
/// piece is read first and written only where it differs, so a repeated baseline writes
/// nothing: what was missing goes to `report.created`, what was changed to `report.repaired`.
async fn lay(
    deps: &Deps,
    iam: &AccountIam,
    event: &AccountEvent,
    environment: &str,
    report: &mut SetupReport,
) -> Result<(), Error> {
    let policy = &deps.config.policy;
    let mut documents = Vec::new();
    if !deps.config.member_stack {
        documents.push((
            BOUNDARY_POLICY,
            documents::boundary(policy, iam.placement()),
        ));
    }
    documents.extend(documents::provisioner_policies(iam.placement()));
    for (name, document) in documents {
        match iam.lay_document(name, &document).await? {
            Laid::Created => report.created.push(format!("policy {name}")),
            Laid::Rewritten => report
                .repaired
                .push(format!("policy {name}: the shipped document")),
            Laid::AsShipped => {}
        }
    }
    let groups = iam.lay_groups(policy, environment, true).await?;
    report.created.extend(groups.created);
    for detached in groups.detached {
        report.repaired.push(format!("group {detached}: detached"));
    }
    if !deps.config.member_stack {
        let role = &policy.provisioner_role;
        let organization = &deps.accounts.organization().await?.id;
        match iam
            .lay_provisioner_role(policy, &deps.config.trusted_role_arns, organization)
            .await?
        {
            Laid::Created => report.created.push(format!("role {role}")),
            Laid::Rewritten => report
                .repaired
                .push(format!("role {role}: the shipped trust and permissions")),
            Laid::AsShipped => {}
        }
        for removed in iam.prune_provisioner_role(policy).await? {
            report
                .repaired
                .push(format!("role {role}: {removed} removed"));
        }
    }
    if let Creation::Requested(request) = &event.result {
        for user in iam.restore_boundaries(&request.users).await? {
            report.repaired.push(format!("user {user}: boundary"));
        }
    }
    Ok(())
}

/// The account as the organization lists it, waiting (within `GATEHOUSE_ACCOUNT_WAIT_SECONDS`)
/// for what a brand-new account may not show yet: its place among the ACTIVE accounts
/// (Organizations' listing lags its events) and its environment tag (Control Tower and AFT tag
/// after creating). `None`: still not listed when the wait ran out. An account still untagged
/// then is returned as it is, to be reported and left alone.
async fn settled(deps: &Deps, account_id: &AccountId) -> Result<Option<Account>, Error> {
    let deadline = Instant::now() + deps.config.account_wait;
    let mut delay = Duration::from_millis(250);
    loop {
        // An id the cached list does not know refreshes it (`find`).
        let found = deps.accounts.find(account_id).await?;
        if found.as_ref().is_some_and(|a| a.environment.is_some()) {
            return Ok(found);
        }
        if Instant::now() + delay > deadline {
            return Ok(found);
        }
        info!(account = %account_id, listed = found.is_some(), retry_in_ms = delay.as_millis() as u64,
              "account not listed or not tagged yet");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(8));
        deps.accounts.invalidate().await;
    }
}

fn rejected(
    event: &AccountEvent,
    account: Option<&AccountId>,
    environment: Option<&str>,
    reason: &str,
) -> Outcome {
    Outcome::Rejected(Rejected {
        reason: reason.to_owned(),
        event_id: Some(event.event_id.to_string()),
        employee_id: None,
        environment: environment.map(str::to_owned),
        account_id: account.cloned(),
    })
}

/// Reports an account Gatehouse will not set up, and acknowledges the event.
async fn refuse(
    deps: &Deps,
    event: &AccountEvent,
    account: &AccountId,
    environment: Option<&str>,
    why: &str,
) -> Result<SetupReport, Error> {
    let reason = format!("account {account} {why}");
    warn!(event_id = %event.event_id, account = %account, %reason, "account not set up");
    deps.outcomes
        .publish(&[rejected(event, Some(account), environment, &reason)])
        .await?;
    let mut report = SetupReport::new(event.event_id.as_str(), SetupResult::Rejected);
    report.account_id = Some(account.to_string());
    report.reason = Some(reason);
    Ok(report)
}

/// Handles one invocation payload of `account-created`: an EventBridge envelope (an account
/// event, `reconcile`'s `Baseline Requested`, or the schedule of service account keys).
pub async fn handle_payload(
    deps: &Deps,
    payload: serde_json::Value,
) -> Result<serde_json::Value, Error> {
    // Re-encoding a `Value` cannot fail.
    handle_bytes(deps, &serde_json::to_vec(&payload).unwrap_or_default()).await
}

/// Handles one invocation payload as the bytes Lambda delivered (see
/// [`crate::invocation::handle_bytes`] for why the raw text, not a parsed `Value`).
pub async fn handle_bytes(deps: &Deps, bytes: &[u8]) -> Result<serde_json::Value, Error> {
    // The daily schedule: service accounts' keys (the bootstrap role is this function's).
    if gatehouse_core::service_keys::is_schedule(bytes) {
        let event_id = gatehouse_core::envelope::Envelope::parse(bytes)
            .ok()
            .and_then(|e| gatehouse_core::ids::EventId::parse(&e.id).ok());
        if let Some(event_id) = event_id {
            // Boxed: the two futures side by side are too deep a type for one stack frame.
            let report = Box::pin(crate::service_keys::run(
                deps,
                &event_id,
                gatehouse_core::ids::Timestamp::now(),
            ))
            .await?;
            return Ok(serde_json::to_value(report).unwrap_or_default());
        }
    }
    let report = match parse_account_event(bytes) {
        Ok(event) => handle(deps, &event).await?,
        Err(rejection) => reject_input(deps, rejection).await?,
    };
    // A plain struct of strings and numbers: serializing it cannot fail.
    Ok(serde_json::to_value(report).unwrap_or_default())
}

async fn reject_input(deps: &Deps, rejection: Rejection) -> Result<SetupReport, Error> {
    warn!(event_id = rejection.event_id.as_deref().unwrap_or("-"), reason = %rejection.reason,
          "account event rejected");
    deps.outcomes
        .publish(&[Outcome::Rejected(Rejected::from(&rejection))])
        .await?;
    let mut report = SetupReport::new(
        rejection.event_id.as_deref().unwrap_or("unknown"),
        SetupResult::Rejected,
    );
    report.reason = Some(rejection.reason);
    Ok(report)
}
