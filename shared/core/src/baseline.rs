//! An account's baseline, decided: the policy documents Gatehouse lays in every member account,
//! the password policy it requires, the policies each managed group must carry, and the trust
//! of the provisioner role. The shell's `iam::baseline` only reads what an account holds and
//! writes the difference these functions name.

use std::collections::BTreeSet;

use crate::ids::AccountId;
use crate::names::{MANAGED_PATH, MFA_POLICY};
use crate::policy::Policy;

/// The permissions boundary every managed user carries (`GatehouseUserBoundary`).
pub const BOUNDARY_DOCUMENT: &str = include_str!("../../policies/user-boundary.json");
/// The MFA-enforcing policy attached to people's groups (`GatehouseEnforceMfa`).
pub const MFA_DOCUMENT: &str = include_str!("../../policies/enforce-mfa.json");
/// The inline policy that seals a disabled user (`GatehouseDenyAll`).
pub const DENY_ALL_DOCUMENT: &str = include_str!("../../policies/deny-all.json");
/// The provisioner role's inline permissions.
pub const PROVISIONER_DOCUMENT: &str = include_str!("../../policies/provisioner-permissions.json");

/// The password policy laid in every account: long, mixed, rotated, not reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub minimum_length: i32,
    pub max_age_days: i32,
    pub reuse_prevention: i32,
}

pub const PASSWORD_POLICY: PasswordPolicy = PasswordPolicy {
    minimum_length: 14,
    max_age_days: 90,
    reuse_prevention: 24,
};

/// An account's password policy as IAM reports it (`None`: the field is not set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CurrentPasswordPolicy {
    pub minimum_length: Option<i32>,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub allow_users_to_change: bool,
    pub max_age_days: Option<i32>,
    pub reuse_prevention: Option<i32>,
    pub hard_expiry: Option<bool>,
}

impl PasswordPolicy {
    /// Whether `current` is already exactly this policy (then nothing is written).
    pub fn is_met_by(&self, current: &CurrentPasswordPolicy) -> bool {
        current.minimum_length == Some(self.minimum_length)
            && current.require_symbols
            && current.require_numbers
            && current.require_uppercase
            && current.require_lowercase
            && current.allow_users_to_change
            && current.max_age_days == Some(self.max_age_days)
            && current.reuse_prevention == Some(self.reuse_prevention)
            && current.hard_expiry != Some(true)
    }
}

/// The ARN of the Gatehouse-managed policy `name` in `account`.
pub fn managed_policy_arn(account: &AccountId, name: &str) -> String {
    format!("arn:aws:iam::{account}:policy{MANAGED_PATH}{name}")
}

/// The policies the managed group `group` must carry in `account`: those the policy file names
/// for it, plus the MFA-enforcing policy when the group is granted to people.
pub fn group_policies(policy: &Policy, group: &str, account: &AccountId) -> BTreeSet<String> {
    let mut wanted: BTreeSet<String> = policy
        .groups
        .get(group)
        .map(|g| g.managed_policies.iter().cloned().collect())
        .unwrap_or_default();
    if policy.is_people_group(group) {
        wanted.insert(managed_policy_arn(account, MFA_POLICY));
    }
    wanted
}

/// The provisioner role's trust: only the functions' execution roles may assume it.
pub fn provisioner_trust(trusted: &[String]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "OnlyGatehouseFunctions",
            "Effect": "Allow",
            "Principal": { "AWS": trusted },
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> CurrentPasswordPolicy {
        CurrentPasswordPolicy {
            minimum_length: Some(14),
            require_symbols: true,
            require_numbers: true,
            require_uppercase: true,
            require_lowercase: true,
            allow_users_to_change: true,
            max_age_days: Some(90),
            reuse_prevention: Some(24),
            hard_expiry: Some(false),
        }
    }

    #[test]
    fn the_password_policy_is_met_only_by_itself() {
        assert!(PASSWORD_POLICY.is_met_by(&strict()));
        assert!(PASSWORD_POLICY.is_met_by(&CurrentPasswordPolicy {
            hard_expiry: None,
            ..strict()
        }));
        assert!(!PASSWORD_POLICY.is_met_by(&CurrentPasswordPolicy::default()));
        let variants = [
            CurrentPasswordPolicy {
                minimum_length: Some(8),
                ..strict()
            },
            CurrentPasswordPolicy {
                require_symbols: false,
                ..strict()
            },
            CurrentPasswordPolicy {
                require_numbers: false,
                ..strict()
            },
            CurrentPasswordPolicy {
                require_uppercase: false,
                ..strict()
            },
            CurrentPasswordPolicy {
                require_lowercase: false,
                ..strict()
            },
            CurrentPasswordPolicy {
                allow_users_to_change: false,
                ..strict()
            },
            CurrentPasswordPolicy {
                max_age_days: None,
                ..strict()
            },
            CurrentPasswordPolicy {
                reuse_prevention: Some(5),
                ..strict()
            },
            CurrentPasswordPolicy {
                hard_expiry: Some(true),
                ..strict()
            },
        ];
        for v in variants {
            assert!(!PASSWORD_POLICY.is_met_by(&v), "{v:?}");
        }
    }

    #[test]
    fn people_groups_carry_the_mfa_policy_and_service_groups_do_not() {
        let p = Policy::builtin().unwrap();
        let acct = AccountId::parse("123456789012").unwrap();
        assert_eq!(
            group_policies(&p, "operators", &acct),
            BTreeSet::from([
                "arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned(),
                "arn:aws:iam::123456789012:policy/gatehouse/GatehouseEnforceMfa".to_owned(),
            ])
        );
        assert_eq!(
            group_policies(&p, "deployers", &acct),
            BTreeSet::from(["arn:aws:iam::aws:policy/AWSCloudFormationFullAccess".to_owned()])
        );
    }

    #[test]
    fn the_provisioner_trusts_exactly_the_functions() {
        let roles = vec![
            "arn:aws:iam::111122223333:role/a".to_owned(),
            "arn:aws:iam::111122223333:role/b".to_owned(),
        ];
        let trust: serde_json::Value = serde_json::from_str(&provisioner_trust(&roles)).unwrap();
        let statements = trust["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0]["Effect"], "Allow");
        assert_eq!(statements[0]["Action"], "sts:AssumeRole");
        assert_eq!(statements[0]["Principal"]["AWS"], serde_json::json!(roles));
    }

    #[test]
    fn shipped_documents_are_valid_json_policies() {
        for doc in [
            BOUNDARY_DOCUMENT,
            MFA_DOCUMENT,
            DENY_ALL_DOCUMENT,
            PROVISIONER_DOCUMENT,
        ] {
            let v: serde_json::Value = serde_json::from_str(doc).unwrap();
            assert_eq!(v["Version"], "2012-10-17");
            assert!(!v["Statement"].as_array().unwrap().is_empty());
        }
    }
}
