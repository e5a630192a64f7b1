//! Structural drift: Gatehouse's groups and their policies (repaired through the baseline),
//! and service accounts, users outside `/gatehouse/` and old keys (reported only).

use std::collections::BTreeSet;

use super::{AccountRef, Finding, Inventory, Kind, Run};
use crate::policy::Policy;

/// Groups (repaired through the baseline), and service accounts, users outside `/gatehouse/`
/// and old keys (reported only).
pub(super) fn drift(
    account: &AccountRef,
    inventory: &Inventory,
    policy: &Policy,
    run: &Run,
) -> Vec<Finding> {
    let finding = |kind: Kind, subject: &str, detail: String| Finding {
        account_id: account.id.to_string(),
        kind,
        subject: subject.to_owned(),
        employee_id: None,
        detail,
        // A group's policies are the baseline's (`account-created` detaches what the policy
        // does not name); the rest is for a person.
        repairable: matches!(kind, Kind::UndefinedGroup | Kind::GroupPolicy),
    };
    let env = account.environment.as_deref().unwrap_or_default();
    let mut out = Vec::new();
    let defined = policy.groups_in(env);
    for group in inventory.groups.difference(&defined) {
        // Repaired by detaching its policies; once it grants nothing, what is left (deleting
        // it) is for a person, and no run asks for a repair again.
        let powerless = inventory
            .group_policies
            .get(group)
            .is_none_or(BTreeSet::is_empty);
        out.push(Finding {
            repairable: !powerless,
            ..finding(
                Kind::UndefinedGroup,
                group,
                if powerless {
                    format!(
                        "the policy defines no group {group} in {env}; it has no policy attached"
                    )
                } else {
                    format!("the policy defines no group {group} in {env}")
                },
            )
        });
    }
    for group in inventory.groups.intersection(&defined) {
        let Some(attached) = inventory.group_policies.get(group) else {
            continue;
        };
        let at = crate::documents::Placement {
            partition: &inventory.partition,
            account: &account.id,
        };
        let wanted = crate::baseline::group_policies(policy, group, at);
        let extra: Vec<&String> = attached.difference(&wanted).collect();
        let missing: Vec<&String> = wanted.difference(attached).collect();
        if extra.is_empty() && missing.is_empty() {
            continue;
        }
        let list = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
        let mut detail = Vec::new();
        if !extra.is_empty() {
            detail.push(format!(
                "attached but not named by the policy: {}",
                list(&extra)
            ));
        }
        if !missing.is_empty() {
            detail.push(format!(
                "named by the policy but not attached: {}",
                list(&missing)
            ));
        }
        out.push(finding(Kind::GroupPolicy, group, detail.join("; ")));
    }
    let services: BTreeSet<String> = policy
        .service_accounts
        .iter()
        .filter(|(_, s)| s.environment == env)
        .map(|(name, _)| crate::names::service_user_name(name))
        .collect();
    for user in inventory.service_users.difference(&services) {
        out.push(finding(
            Kind::RetiredServiceAccount,
            user,
            format!(
                "the policy defines no such service account in {env}; account-created's \
                 schedule retires it"
            ),
        ));
    }
    for other in &inventory.others {
        if other.console || other.active_keys > 0 {
            out.push(finding(
                Kind::UnmanagedAccess,
                &other.name,
                format!(
                    "outside /gatehouse/ (path {}): {}console, {} active access key(s)",
                    other.path,
                    if other.console { "" } else { "no " },
                    other.active_keys
                ),
            ));
        }
    }
    let limit = i128::from(policy.reconcile.max_key_age_days) * 86_400 * 1_000_000_000;
    for key in &inventory.access_keys {
        let age = run.now.unix_nanos() - key.created.unix_nanos();
        if age > limit {
            out.push(finding(
                Kind::OldAccessKey,
                &key.key_id,
                format!(
                    "{}'s active key is {} days old (max {})",
                    key.user,
                    age / (86_400 * 1_000_000_000),
                    policy.reconcile.max_key_age_days
                ),
            ));
        }
    }
    out
}
