//! An account's baseline, decided: the password policy Gatehouse requires and the policies each
//! managed group must carry (the documents themselves are [`crate::documents`]). The shell's
//! `iam::baseline` only reads what an account holds and writes the difference these name.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::documents::Placement;
use crate::ids::AccountId;
use crate::names::MFA_POLICY;
use crate::policy::Policy;

/// Users a [`BaselineRequest`] names at most; the next run names the rest.
pub const MAX_REQUESTED_USERS: usize = 100;

/// A request to bring one account's baseline back to what Gatehouse ships (detail-type
/// `Baseline Requested`): put on Gatehouse's bus by `reconcile` in repair mode, for
/// `account-created`, which alone holds the bootstrap role that may rewrite a baseline.
///
/// It carries no authority. All it can make `account-created` do is converge the account on the
/// policy: Gatehouse's documents, its groups' policies, the provisioner role. The users it
/// names are only candidates for the boundary, each read before anything is written, and only
/// a user under `/gatehouse/` gets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BaselineRequest {
    pub account_id: AccountId,
    /// The run that asked (`reconcile.<request id>`).
    pub cause: String,
    /// Managed users found without Gatehouse's boundary (at most [`MAX_REQUESTED_USERS`]).
    pub users: Vec<String>,
}

/// Whether `name` is a name IAM can hold for a user: 1 to 64 of `A-Z a-z 0-9 + = , . @ _ -`.
pub fn is_user_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

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
    /// The password policy to set in an account that has `current` (`None`: none at all), or
    /// `None` when nothing needs writing. Gatehouse never weakens an account: each field keeps
    /// the stricter of the account's value and Gatehouse's (longer minimum, every character
    /// class, shorter maximum age, longer reuse memory, hard expiry if the account has it).
    /// Users may always change their own password: Gatehouse's initial passwords must be.
    pub fn applied_to(
        &self,
        current: Option<&CurrentPasswordPolicy>,
    ) -> Option<CurrentPasswordPolicy> {
        let none = CurrentPasswordPolicy::default();
        let c = current.unwrap_or(&none);
        let wanted = CurrentPasswordPolicy {
            minimum_length: Some(c.minimum_length.unwrap_or(0).max(self.minimum_length)),
            require_symbols: true,
            require_numbers: true,
            require_uppercase: true,
            require_lowercase: true,
            allow_users_to_change: true,
            max_age_days: Some(match c.max_age_days {
                Some(days) if days > 0 => days.min(self.max_age_days),
                _ => self.max_age_days,
            }),
            reuse_prevention: Some(c.reuse_prevention.unwrap_or(0).max(self.reuse_prevention)),
            hard_expiry: Some(c.hard_expiry == Some(true)),
        };
        let unchanged = current.is_some_and(|c| {
            CurrentPasswordPolicy {
                hard_expiry: Some(c.hard_expiry == Some(true)),
                ..c.clone()
            } == wanted
        });
        (!unchanged).then_some(wanted)
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

    #[test]
    fn user_names_are_iams() {
        for good in ["ada@example.com", "svc-deployer", "a", "x+y=z,w._-"] {
            assert!(is_user_name(good), "{good}");
        }
        let long = "a".repeat(65);
        for bad in ["", "ada example", "ada/x", "ä", "ada\n", long.as_str()] {
            assert!(!is_user_name(bad), "{bad}");
        }
        assert!(is_user_name(&"a".repeat(64)));
    }

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
    fn an_account_with_no_policy_gets_gatehouses() {
        assert_eq!(PASSWORD_POLICY.applied_to(None), Some(strict()));
        assert_eq!(
            PASSWORD_POLICY.applied_to(Some(&CurrentPasswordPolicy::default())),
            Some(strict())
        );
    }

    #[test]
    fn gatehouses_policy_already_there_is_left_alone() {
        assert_eq!(PASSWORD_POLICY.applied_to(Some(&strict())), None);
        let unset_expiry = CurrentPasswordPolicy {
            hard_expiry: None,
            ..strict()
        };
        assert_eq!(PASSWORD_POLICY.applied_to(Some(&unset_expiry)), None);
    }

    #[test]
    fn a_stricter_account_is_never_weakened_field_by_field() {
        let stricter = CurrentPasswordPolicy {
            minimum_length: Some(20),
            max_age_days: Some(30),
            reuse_prevention: Some(24),
            hard_expiry: Some(true),
            ..strict()
        };
        assert_eq!(
            PASSWORD_POLICY.applied_to(Some(&stricter)),
            None,
            "kept as is"
        );
        let mixed = CurrentPasswordPolicy {
            minimum_length: Some(20),
            require_symbols: false,
            max_age_days: Some(365),
            reuse_prevention: Some(5),
            ..CurrentPasswordPolicy::default()
        };
        assert_eq!(
            PASSWORD_POLICY.applied_to(Some(&mixed)),
            Some(CurrentPasswordPolicy {
                minimum_length: Some(20),
                ..strict()
            }),
            "the longer minimum kept, everything weaker raised"
        );
        let no_expiry = CurrentPasswordPolicy {
            max_age_days: Some(0),
            ..strict()
        };
        assert_eq!(PASSWORD_POLICY.applied_to(Some(&no_expiry)), Some(strict()));
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
