//! What an event would do, read against the current state and changing nothing: the operator's
//! `gatehouse plan --event FILE`. An HR event or an `Employee Sync` is parsed exactly as
//! `people-events` parses it, merged with the directory's record as it would be (without the
//! write), and each account in its scope is read and given to the planner; an account event is
//! parsed as `account-created` parses it, and answered with the environment it would get, the
//! baseline repairs it would make and the people it would enqueue.
//!
//! Only reads: GetItem and Scan on the directory, the organization's account list, and IAM
//! reads through the provisioner role.

use futures::stream::{self, StreamExt};
use gatehouse_core::access::{active_user, names_to_seal, sealed_user, Access, Scope};
use gatehouse_core::account_event::{parse_account_event, Creation, CONTROL_TOWER_SOURCE};
use gatehouse_core::account_event::{AccountEvent, ORGANIZATIONS_SOURCE};
use gatehouse_core::drift::{assess, AccountRef, AccountState, Run};
use gatehouse_core::envelope::Envelope;
use gatehouse_core::hr_event::{parse_inbound, Inbound};
use gatehouse_core::ids::{EventId, Timestamp};
use gatehouse_core::names::{BASELINE_REQUESTED, GATEHOUSE_SOURCE};
use gatehouse_core::plan::{plan, Action};
use gatehouse_core::policy::ReconcileMode;
use gatehouse_core::record::EmployeeRecord;
use serde::Serialize;

use crate::deps::Deps;
use crate::directory::Recorded;
use crate::error::Error;
use crate::org::Account;

/// What an event would do.
#[derive(Debug, Clone, Serialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum Preview {
    /// The function would refuse it, changing nothing.
    Refused {
        #[serde(skip_serializing_if = "Option::is_none")]
        event_id: Option<String>,
        reason: String,
    },
    /// An HR event or an `Employee Sync`, for `people-events`.
    Person(PersonPlan),
    /// An account event, for `account-created`.
    Account(AccountPlan),
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonPlan {
    pub event_id: String,
    pub employee_id: String,
    /// Older than what the directory knows: nothing would change.
    pub stale: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_after: Option<String>,
    /// Environments the policy refuses this person, with why.
    pub refused: Vec<String>,
    /// Every user in scope, with what would be done to it (empty: nothing).
    pub users: Vec<UserPlan>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPlan {
    pub account_id: String,
    pub environment: Option<String>,
    pub user_name: String,
    pub actions: Vec<String>,
    /// Why nothing can be said or done here (a name taken by someone else, an account not
    /// read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountPlan {
    pub event_id: String,
    pub account_id: String,
    pub environment: String,
    /// Whether Gatehouse has laid its baseline there before.
    pub baselined_before: bool,
    /// What the baseline would repair (when the account can be read now).
    pub repairs: Vec<String>,
    /// Why the account could not be read now (a new account often cannot, yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_read: Option<String>,
    /// The employees it would enqueue for a sync.
    pub backfill: Vec<String>,
}

/// What the event in `bytes` would do now.
pub async fn preview(deps: &Deps, bytes: &[u8]) -> Result<Preview, Error> {
    let policy = &deps.config.policy;
    let is_account_event = Envelope::parse(bytes).is_ok_and(|e| {
        [ORGANIZATIONS_SOURCE, CONTROL_TOWER_SOURCE].contains(&e.source.as_str())
            || (e.source == GATEHOUSE_SOURCE && e.detail_type == BASELINE_REQUESTED)
    });
    if is_account_event {
        return match parse_account_event(bytes) {
            Ok(event) => account(deps, &event).await,
            Err(r) => Ok(Preview::Refused {
                event_id: r.event_id,
                reason: r.reason,
            }),
        };
    }
    let (event_id, employee, before, after, scope) =
        match parse_inbound(bytes, policy, Timestamp::now()) {
            Err(r) => {
                return Ok(Preview::Refused {
                    event_id: r.event_id,
                    reason: r.reason,
                })
            }
            Ok(Inbound::Hr(event)) => match deps.directory.preview(&event).await? {
                Recorded::Stale { .. } => (event.event_id, event.employee_id, None, None, None),
                Recorded::Current { record, before, .. } => {
                    let scope = Scope::of_hr_event(&event.change, before.as_ref(), &record);
                    (
                        event.event_id,
                        event.employee_id,
                        before,
                        Some(record),
                        Some(scope),
                    )
                }
            },
            Ok(Inbound::Sync(item)) => {
                let record = deps.directory.get(&item.employee_id).await?;
                let scope = Scope::of_sync(item.account_id.as_ref());
                let record = record.map(|e| e.record);
                (
                    item.event_id,
                    item.employee_id,
                    record.clone(),
                    record,
                    Some(scope),
                )
            }
        };
    let mut person = PersonPlan {
        event_id: event_id.to_string(),
        employee_id: employee.to_string(),
        stale: scope.is_none(),
        status_before: before.as_ref().map(|r| r.status.as_str().to_owned()),
        status_after: after.as_ref().map(|r| r.status.as_str().to_owned()),
        refused: Vec::new(),
        users: Vec::new(),
    };
    let (Some(record), Some(scope)) = (after, scope) else {
        return Ok(Preview::Person(person));
    };
    let access = Access::of(&record, policy);
    person.refused = access.refused.iter().map(|r| r.reason.clone()).collect();
    let accounts = deps.accounts.in_scope(scope, &access).await?;
    let (record, access, event_id) = (&record, &access, &event_id);
    let planned: Vec<Vec<UserPlan>> = stream::iter(accounts)
        .map(|account| async move { plan_account(deps, record, &account, access, event_id).await })
        .buffered(deps.config.max_concurrency.max(1))
        .collect()
        .await;
    person.users = planned.into_iter().flatten().collect();
    Ok(Preview::Person(person))
}

/// Every user of this person in one account, and what converging it would do.
async fn plan_account(
    deps: &Deps,
    record: &EmployeeRecord,
    account: &Account,
    access: &Access,
    event_id: &EventId,
) -> Vec<UserPlan> {
    let granted = access.groups_in(account.environment.as_deref());
    let mut wanted = Vec::new();
    if let Some((_, groups)) = granted {
        if let Some(desired) = active_user(record, groups) {
            wanted.push(desired);
        }
    }
    for name in names_to_seal(record, granted.is_some()) {
        wanted.push(sealed_user(record, name, event_id));
    }
    let entry = |user: &str, actions: Vec<String>, note: Option<String>| UserPlan {
        account_id: account.id.to_string(),
        environment: account.environment.clone(),
        user_name: user.to_owned(),
        actions,
        note,
    };
    if wanted.is_empty() {
        return Vec::new();
    }
    let iam = match deps.iam(&account.id, event_id).await {
        Ok(iam) => iam,
        Err(e) => {
            return wanted
                .iter()
                .map(|d| entry(&d.user_name, Vec::new(), Some(format!("not read: {e}"))))
                .collect()
        }
    };
    let mut out = Vec::new();
    for desired in wanted {
        let found = iam.read_whole(&desired.user_name).await;
        out.push(match found.map(|f| plan(&desired, &f)) {
            Ok(Ok(actions)) => entry(
                &desired.user_name,
                actions.iter().map(Action::describe).collect(),
                None,
            ),
            Ok(Err(conflict)) => entry(
                &desired.user_name,
                Vec::new(),
                Some(format!("left as it is: {conflict}")),
            ),
            Err(e) => entry(
                &desired.user_name,
                Vec::new(),
                Some(format!("not read: {e}")),
            ),
        });
    }
    out
}

/// What `account-created` would do with `event`.
async fn account(deps: &Deps, event: &AccountEvent) -> Result<Preview, Error> {
    let refused = |reason: String| Preview::Refused {
        event_id: Some(event.event_id.to_string()),
        reason,
    };
    let policy = &deps.config.policy;
    let account_id = match &event.result {
        Creation::Failed { reason } => {
            return Ok(refused(format!(
                "account creation failed ({reason}); nothing to set up"
            )))
        }
        Creation::Tagged { tags, .. } if !tags.contains_key(&policy.environment_tag) => {
            return Ok(refused(format!(
                "tagged, but not with {}: nothing for Gatehouse to do",
                policy.environment_tag
            )))
        }
        Creation::Succeeded { account_id } | Creation::Tagged { account_id, .. } => account_id,
        Creation::Requested(request) => &request.account_id,
    };
    let Some(found) = deps.accounts.find(account_id).await? else {
        return Ok(refused(format!(
            "account {account_id} is not among the organization's ACTIVE accounts (yet)"
        )));
    };
    let environment = match found.environment {
        Some(env) if policy.environments.contains_key(&env) => env,
        other => {
            return Ok(refused(format!(
                "account {account_id} is tagged {}={}, which the policy does not define: it \
                 would be left alone",
                policy.environment_tag,
                other.as_deref().unwrap_or("(nothing)")
            )))
        }
    };
    let state = crate::reconcile::read_account(deps, account_id, &event.event_id).await;
    let (repairs, not_read) = match &state {
        AccountState::Read(_) => {
            let run = Run {
                id: &event.event_id,
                mode: ReconcileMode::Report,
                confirmed: false,
                now: Timestamp::now(),
            };
            let accounts = [(
                AccountRef {
                    id: account_id.clone(),
                    environment: Some(environment.clone()),
                },
                state,
            )];
            let assessment = assess(&accounts, &[], policy, &run);
            let repairs = assessment
                .findings
                .iter()
                .filter(|f| f.repairable && f.employee_id.is_none())
                .map(|f| format!("{}: {}", f.subject, f.detail))
                .collect();
            (repairs, None)
        }
        AccountState::Unknown { reason } => (Vec::new(), Some(reason.clone())),
        AccountState::NoBaseline => (
            Vec::new(),
            Some("the provisioner role is not there yet: the whole baseline would be laid".into()),
        ),
    };
    let backfill = crate::account_setup::backfill(deps, event, &environment)
        .await?
        .iter()
        .map(ToString::to_string)
        .collect();
    Ok(Preview::Account(AccountPlan {
        event_id: event.event_id.to_string(),
        account_id: account_id.to_string(),
        environment,
        baselined_before: deps.directory.was_baselined(account_id).await?,
        repairs,
        not_read,
        backfill,
    }))
}
