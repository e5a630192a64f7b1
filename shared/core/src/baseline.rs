//! An account's baseline, decided: the password policy Gatehouse requires and the policies each
//! managed group must carry (the documents themselves are [`crate::documents`]). The shell's `iam::baseline` only reads what an account holds and
//! writes the difference these functions name.

use std::collections::BTreeSet;

use crate::documents::Placement;
use crate::names::MFA_POLICY;
use crate::policy::Policy;

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

/// The policies the managed group `group` must carry where it is laid: those the policy file
/// names for it, plus the MFA-enforcing policy when the group is granted to people.
pub fn group_policies(policy: &Policy, group: &str, at: Placement) -> BTreeSet<String> {
    let mut wanted: BTreeSet<String> = policy
        .groups
        .get(group)
        .map(|g| g.managed_policies.iter().cloned().collect())
        .unwrap_or_default();
    if policy.is_people_group(group) {
        wanted.insert(at.policy_arn(MFA_POLICY));
    }
    wanted
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
        let acct = crate::ids::AccountId::parse("123456789012").unwrap();
        let at = Placement {
            partition: "aws",
            account: &acct,
        };
        assert_eq!(
            group_policies(&p, "operators", at),
            BTreeSet::from([
                "arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned(),
                "arn:aws:iam::123456789012:policy/gatehouse/GatehouseEnforceMfa".to_owned(),
            ])
        );
        assert_eq!(
            group_policies(&p, "deployers", at),
            BTreeSet::from(["arn:aws:iam::aws:policy/AWSCloudFormationFullAccess".to_owned()])
        );
    }
}
