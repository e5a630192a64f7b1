//! Service account keys, on `account-created`'s daily schedule: for every service account the
//! policy gives keys (`keys = true`), a working access key in its environment account's
//! Secrets Manager, rotated every `rotate_days` with `grace_days` of overlap; for every service
//! account user the policy no longer defines, retirement (deny-all, keys deactivated, groups
//! removed, the secret scheduled for deletion). Through the bootstrap role, which
//! `account-created` already holds: the provisioner gets no key or secret rights.
//!
//! Each service account goes one step at a time ([`gatehouse_core::service_keys::next`]), read
//! afresh before each: a run interrupted anywhere converges on the next one, and two at once
//! never leave the workload without a working key.

use gatehouse_core::ids::{AccountId, EventId, Timestamp};
use gatehouse_core::names::{service_user_name, SERVICE_PATH};
use gatehouse_core::outcome::{Outcome, ServiceKey, ServiceRetired};
use gatehouse_core::policy::Policy;
use gatehouse_core::service_keys::{next, Rotation, Step};
use serde::Serialize;
use tracing::{info, warn};

use crate::deps::Deps;
use crate::error::Error;
use crate::iam::AccountIam;
use crate::service_secret::ServiceSecrets;

/// Steps one service account takes in one run at the most (cleaning up after a rotation is
/// two; a run issues one key at the most).
const MAX_STEPS: usize = 8;

/// What a run did, for the answer and the log.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeysReport {
    pub event_id: String,
    /// `<account>/<service account>` of each key issued for the first time.
    pub issued: Vec<String>,
    pub rotated: Vec<String>,
    /// Keys deactivated or deleted after their grace period, or as orphans.
    pub cleaned: Vec<String>,
    pub retired: Vec<String>,
    /// Service accounts a person must look at, with why.
    pub blocked: Vec<String>,
    /// Accounts that failed, with why (the run then fails, for the alarm and the retry).
    pub failed: Vec<String>,
}

/// One run over every account of an environment that has service accounts.
pub async fn run(deps: &Deps, event_id: &EventId, now: Timestamp) -> Result<KeysReport, Error> {
    let policy = &deps.config.policy;
    let mut report = KeysReport {
        event_id: event_id.to_string(),
        ..KeysReport::default()
    };
    let mut outcomes = Vec::new();
    for account in deps.accounts.accounts_now().await?.iter() {
        let Some(environment) = account
            .environment
            .as_deref()
            .filter(|e| policy.environments.contains_key(*e))
        else {
            continue;
        };
        let work = Account {
            deps,
            policy,
            id: &account.id,
            environment,
            event_id,
            now,
        };
        let keyed = policy
            .service_accounts
            .values()
            .any(|s| s.keys && s.environment == environment);
        match work.run(&mut report, &mut outcomes).await {
            Ok(()) => {}
            // No bootstrap role (an account that joined by invitation): Gatehouse never laid a
            // service account there, so there is nothing to retire, and without keys to keep
            // there is nothing to do. Passed over, not failed every day.
            Err(e) if e.code() == Some("AccessDenied") && !keyed => {
                info!(event_id = %event_id, account = %account.id,
                      "no bootstrap role and no keys to keep here: passed over");
            }
            Err(e) => {
                warn!(event_id = %event_id, account = %account.id, error = %e,
                      "service keys failed here");
                report.failed.push(format!("{}: {e}", account.id));
            }
        }
    }
    deps.outcomes.publish(&outcomes).await?;
    info!(event_id = %event_id, issued = report.issued.len(), rotated = report.rotated.len(),
          cleaned = report.cleaned.len(), retired = report.retired.len(),
          blocked = report.blocked.len(), failed = report.failed.len(), "service keys");
    match report.failed.first() {
        None => Ok(report),
        Some(first) => Err(Error::Request {
            operation: "service keys",
            detail: format!("{} account(s) failed; first: {first}", report.failed.len()),
        }),
    }
}

struct Account<'a> {
    deps: &'a Deps,
    policy: &'a Policy,
    id: &'a AccountId,
    environment: &'a str,
    event_id: &'a EventId,
    now: Timestamp,
}

impl Account<'_> {
    async fn run(&self, report: &mut KeysReport, outcomes: &mut Vec<Outcome>) -> Result<(), Error> {
        let role = &self.policy.bootstrap_role;
        let session = self
            .deps
            .credentials
            .session(self.id, role, self.event_id)
            .await?;
        let iam = AccountIam::new(
            session.iam,
            self.id.clone(),
            self.deps.credentials.partition().await?,
        );
        let secrets = ServiceSecrets::new(session.secrets, self.id.clone());
        let defined: Vec<(&String, &gatehouse_core::policy::ServiceAccount)> = self
            .policy
            .service_accounts
            .iter()
            .filter(|(_, s)| s.environment == self.environment)
            .collect();
        for (name, service) in defined.iter().filter(|(_, s)| s.keys) {
            let rotation = Rotation {
                rotate_days: service.rotate_days,
                grace_days: service.grace_days,
            };
            self.converge(&iam, &secrets, name, rotation, report, outcomes)
                .await?;
        }
        for user in iam.users_under(SERVICE_PATH).await? {
            let retired = !defined
                .iter()
                .any(|(name, _)| service_user_name(name) == user);
            let Some(service) = user.strip_prefix("svc-").filter(|_| retired) else {
                continue;
            };
            let closed = iam.retire_service_user(&user, self.event_id).await?;
            let scheduled = secrets.schedule_deletion(service).await?;
            if closed || scheduled {
                report.retired.push(format!("{}/{service}", self.id));
                outcomes.push(Outcome::ServiceRetired(ServiceRetired {
                    event_id: self.event_id.to_string(),
                    service_account: service.to_owned(),
                    account_id: self.id.clone(),
                    environment: self.environment.to_owned(),
                    user_name: user.clone(),
                }));
            }
        }
        Ok(())
    }

    /// One service account's keys, a step at a time until there is nothing left to do now.
    async fn converge(
        &self,
        iam: &AccountIam,
        secrets: &ServiceSecrets,
        name: &str,
        rotation: Rotation,
        report: &mut KeysReport,
        outcomes: &mut Vec<Outcome>,
    ) -> Result<(), Error> {
        let user = service_user_name(name);
        let at = format!("{}/{name}", self.id);
        for _ in 0..MAX_STEPS {
            let Some((keys, intent)) = iam.service_keys(&user).await? else {
                // Not laid yet: account-created lays it with the baseline.
                report
                    .blocked
                    .push(format!("{at}: no user {user} under {SERVICE_PATH} yet"));
                return Ok(());
            };
            let versions = secrets.versions(name).await?;
            let exists = !versions.is_empty();
            let state = gatehouse_core::service_keys::KeyState {
                keys,
                versions,
                intent,
            };
            match next(&state, rotation, self.now) {
                Step::Done => return Ok(()),
                Step::Blocked(why) => {
                    warn!(event_id = %self.event_id, account = %self.id, service_account = name,
                          %why, "service account keys blocked");
                    report.blocked.push(format!("{at}: {why}"));
                    return Ok(());
                }
                Step::Issue { rotation } => {
                    iam.mark_key_intent(&user, Some(Timestamp::now())).await?;
                    let key = iam.create_key(&user).await?;
                    let secret_arn = secrets.write(name, &key, exists).await?;
                    let key_id = key.id.clone();
                    drop(key);
                    iam.mark_key_intent(&user, None).await?;
                    info!(event_id = %self.event_id, account = %self.id, service_account = name,
                          access_key_id = %key_id, rotation, "key issued and stored");
                    let detail = ServiceKey {
                        event_id: self.event_id.to_string(),
                        service_account: name.to_owned(),
                        account_id: self.id.clone(),
                        environment: self.environment.to_owned(),
                        user_name: user.clone(),
                        access_key_id: key_id,
                        secret_arn,
                    };
                    if rotation {
                        report.rotated.push(at.clone());
                        outcomes.push(Outcome::KeyRotated(detail));
                    } else {
                        report.issued.push(at.clone());
                        outcomes.push(Outcome::ServiceKeyIssued(detail));
                    }
                    // One new key per run at the most: whatever the clocks say, a run can
                    // never churn through keys.
                    return Ok(());
                }
                Step::Deactivate { key_id, why } => {
                    // The invariant, against the secret as it is now, not as it was read: the
                    // key a workload reads is never deactivated.
                    let now_current = secrets.versions(name).await?;
                    if now_current.iter().any(|v| v.current && v.key_id == key_id) {
                        return Err(Error::Conflict {
                            account: self.id.to_string(),
                            what: format!("access key {key_id} of {user}"),
                            why: "it became the secret's current key meanwhile".into(),
                        });
                    }
                    iam.set_key_active(&user, &key_id, false).await?;
                    info!(event_id = %self.event_id, account = %self.id, service_account = name,
                          access_key_id = %key_id, why, "key deactivated");
                    report
                        .cleaned
                        .push(format!("{at}: {key_id} deactivated ({why})"));
                }
                Step::Delete { key_id, why } => {
                    iam.delete_key(&user, &key_id).await?;
                    info!(event_id = %self.event_id, account = %self.id, service_account = name,
                          access_key_id = %key_id, why, "key deleted");
                    report
                        .cleaned
                        .push(format!("{at}: {key_id} deleted ({why})"));
                }
                Step::ClearIntent => iam.mark_key_intent(&user, None).await?,
            }
        }
        Ok(())
    }
}
