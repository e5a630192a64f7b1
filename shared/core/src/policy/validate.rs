//! Loading rules of the policy file: everything the contract says a policy must be, checked
//! once at load so that a loaded [`Policy`] is always internally consistent. Every refusal names
//! the key at fault.

use super::{Policy, PolicyError};
use crate::ids::{AccountId, EmployeeId};
use crate::names::GATEHOUSE_SOURCE;

fn invalid(key: impl Into<String>, reason: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

/// IAM's rule for user, group, role and policy names (`[\w+=,.@-]`, ASCII), with its length.
pub fn is_iam_name(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

pub(super) fn validate(policy: &Policy) -> Result<(), PolicyError> {
    if policy.hr_source.is_empty() || policy.hr_source == GATEHOUSE_SOURCE {
        return Err(invalid(
            "hr_source",
            "must be a non-empty source other than `gatehouse`",
        ));
    }
    if policy.hr_accounts.is_empty() {
        return Err(invalid(
            "hr_accounts",
            "must list the AWS accounts allowed to send HR events",
        ));
    }
    for (i, account) in policy.hr_accounts.iter().enumerate() {
        AccountId::parse(account).map_err(|r| invalid(format!("hr_accounts[{i}]"), r.0))?;
    }
    if !is_valid_tag_key(&policy.environment_tag) {
        return Err(invalid("environment_tag", "must be a valid tag key"));
    }
    for (key, role) in [
        ("bootstrap_role", &policy.bootstrap_role),
        ("provisioner_role", &policy.provisioner_role),
    ] {
        if !is_iam_name(role, 64) {
            return Err(invalid(key, "is not a name IAM can hold for a role"));
        }
    }
    if policy.reconcile.max_key_age_days == 0 {
        return Err(invalid(
            "reconcile.max_key_age_days",
            "must be at least one day",
        ));
    }
    if policy.environments.is_empty() {
        return Err(invalid(
            "environments",
            "at least one environment is needed",
        ));
    }
    for (name, env) in &policy.environments {
        if !is_simple_name(name) {
            return Err(invalid(
                format!("environments.{name}"),
                "environment names are 1-64 of a-z 0-9 -",
            ));
        }
        match (&env.allow, env.restricted) {
            (None, true) => {
                return Err(invalid(
                    format!("environments.{name}.allow"),
                    "a restricted environment needs an allow list (it may be empty)",
                ))
            }
            (Some(allow), _) => {
                for (i, id) in allow.iter().enumerate() {
                    EmployeeId::parse(id)
                        .map_err(|r| invalid(format!("environments.{name}.allow[{i}]"), r.0))?;
                }
            }
            (None, false) => {}
        }
    }
    for (name, group) in &policy.groups {
        if !is_iam_name(name, 128) {
            return Err(invalid(
                format!("groups.{name}"),
                "is not a name IAM can hold for a group",
            ));
        }
        for (i, arn) in group.managed_policies.iter().enumerate() {
            if !is_policy_arn(arn) {
                return Err(invalid(
                    format!("groups.{name}.managed_policies[{i}]"),
                    "must be an IAM policy ARN (arn:aws:iam::...:policy/...)",
                ));
            }
        }
    }
    for (team, spec) in &policy.teams {
        if !is_simple_name(team) {
            return Err(invalid(
                format!("teams.{team}"),
                "team names are 1-64 of a-z 0-9 -",
            ));
        }
        for (env, groups) in &spec.access {
            let key = format!("teams.{team}.access.{env}");
            if !policy.environments.contains_key(env) {
                return Err(invalid(
                    key,
                    "names an environment the policy does not define",
                ));
            }
            for (i, g) in groups.iter().enumerate() {
                if !policy.groups.contains_key(g) {
                    return Err(invalid(format!("{key}[{i}]"), "names an unknown group"));
                }
            }
        }
    }
    for (name, sa) in &policy.service_accounts {
        let key = format!("service_accounts.{name}");
        // Service account users are named `svc-<name>`; the prefix keeps them apart from
        // people, whose names are e-mail addresses.
        if !is_iam_name(name, 60) {
            return Err(invalid(key, "is not a name IAM can hold for a user"));
        }
        if !policy.environments.contains_key(&sa.environment) {
            return Err(invalid(
                format!("{key}.environment"),
                "names an unknown environment",
            ));
        }
        if sa.keys && name.contains(',') {
            return Err(invalid(
                key,
                "has keys, and a secret's name cannot hold a comma",
            ));
        }
        if sa.rotate_days == 0 {
            return Err(invalid(format!("{key}.rotate_days"), "must be at least 1"));
        }
        if sa.grace_days >= sa.rotate_days {
            return Err(invalid(
                format!("{key}.grace_days"),
                "must be shorter than rotate_days: two keys are all IAM allows",
            ));
        }
        for (i, g) in sa.groups.iter().enumerate() {
            if !policy.groups.contains_key(g) {
                return Err(invalid(
                    format!("{key}.groups[{i}]"),
                    "names an unknown group",
                ));
            }
        }
    }
    Ok(())
}

fn is_simple_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_valid_tag_key(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && !s.starts_with("aws:")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" _.:/=+-@".contains(&b))
}

fn is_policy_arn(s: &str) -> bool {
    let mut parts = s.splitn(6, ':');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("arn"), Some(p), Some("iam"), Some(""), Some(acct), Some(res))
            if p.starts_with("aws") && (acct == "aws" || acct.len() == 12)
                && res.starts_with("policy/") && res.len() > 7
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::tests::MINIMAL;

    fn key_of(err: PolicyError) -> String {
        match err {
            PolicyError::Invalid { key, .. } => key,
            other => other.to_string(),
        }
    }

    #[test]
    fn unknown_environment_in_a_team_is_refused_naming_the_key() {
        let text = MINIMAL.replace("production = [", "prod = [");
        assert_eq!(
            key_of(Policy::parse(&text).unwrap_err()),
            "teams.engineering.access.prod"
        );
    }

    #[test]
    fn unknown_group_is_refused_naming_the_key() {
        let text = MINIMAL.replace(
            "development = [\"developers\"]",
            "development = [\"admins\"]",
        );
        assert_eq!(
            key_of(Policy::parse(&text).unwrap_err()),
            "teams.engineering.access.development[0]"
        );
    }

    #[test]
    fn service_account_keys_are_validated_naming_the_key() {
        let with = |extra: &str| {
            crate::policy::BUILTIN_POLICY.replace(
                "groups = [\"deployers\"]\n",
                &format!("groups = [\"deployers\"]\n{extra}"),
            )
        };
        let p = Policy::parse(&with("keys = true\n")).unwrap();
        let deployer = &p.service_accounts["deployer"];
        assert!(deployer.keys);
        assert_eq!((deployer.rotate_days, deployer.grace_days), (90, 7));
        for (extra, key) in [
            (
                "keys = true\nrotate_days = 0\n",
                "service_accounts.deployer.rotate_days",
            ),
            (
                "keys = true\nrotate_days = 7\n",
                "service_accounts.deployer.grace_days",
            ),
            (
                "keys = true\ngrace_days = 90\n",
                "service_accounts.deployer.grace_days",
            ),
        ] {
            assert_eq!(
                key_of(Policy::parse(&with(extra)).unwrap_err()),
                key,
                "{extra}"
            );
        }
        assert!(Policy::parse(&with("keys = \"yes\"\n")).is_err());
        assert!(Policy::parse(&with("rotate_every = 9\n")).is_err());
    }

    #[test]
    fn unknown_key_is_refused_naming_it() {
        let err = Policy::parse(&format!("colour = \"blue\"\n{MINIMAL}")).unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn restricted_environment_without_allow_is_refused() {
        let text = MINIMAL.replace("allow = [\"E1\"]", "");
        assert_eq!(
            key_of(Policy::parse(&text).unwrap_err()),
            "environments.production.allow"
        );
    }

    #[test]
    fn group_name_iam_cannot_hold_is_refused() {
        let text = MINIMAL.replace(
            "[groups.developers]",
            "[groups.developers]\n[groups.\"dev ops\"]",
        );
        assert_eq!(key_of(Policy::parse(&text).unwrap_err()), "groups.dev ops");
    }

    #[test]
    fn a_service_account_may_share_a_group_with_people() {
        // The MFA policy people's groups carry exempts service accounts' users by path, so a
        // shared group works for both (the contract allows it).
        let text = format!(
            "{MINIMAL}\n[service_accounts.ci]\nenvironment = \"development\"\ngroups = [\"developers\"]"
        );
        let p = Policy::parse(&text).unwrap();
        assert!(p.is_people_group("developers"));
        assert_eq!(p.service_accounts["ci"].groups, ["developers"]);
    }

    #[test]
    fn hr_accounts_are_required_and_twelve_digits() {
        let without = MINIMAL.replace("hr_accounts = [\"111122223333\"]", "");
        assert_eq!(key_of(Policy::parse(&without).unwrap_err()), "hr_accounts");
        let empty = MINIMAL.replace("[\"111122223333\"]", "[]");
        assert_eq!(key_of(Policy::parse(&empty).unwrap_err()), "hr_accounts");
        let bad = MINIMAL.replace("[\"111122223333\"]", "[\"111122223333\", \"1111\"]");
        assert_eq!(key_of(Policy::parse(&bad).unwrap_err()), "hr_accounts[1]");
        let p = Policy::parse(MINIMAL).unwrap();
        assert!(p.is_hr_account("111122223333"));
        assert!(!p.is_hr_account("444455556666"));
    }

    #[test]
    fn the_hr_source_must_be_set_and_not_gatehouse() {
        for source in ["", "gatehouse"] {
            let text = format!("hr_source = \"{source}\"\n{MINIMAL}");
            assert_eq!(
                key_of(Policy::parse(&text).unwrap_err()),
                "hr_source",
                "{source:?}"
            );
        }
    }

    #[test]
    fn names_outside_their_rules_are_refused_naming_the_key() {
        let cases = [
            (
                MINIMAL
                    .replace("[environments.development]", "[environments.Development]")
                    .replace("development = [", "Development = ["),
                "environments.Development",
            ),
            (
                MINIMAL.replace("[teams.engineering]", "[teams.Engineering]"),
                "teams.Engineering",
            ),
            (
                format!("environment_tag = \"aws:env\"\n{MINIMAL}"),
                "environment_tag",
            ),
            (
                format!("environment_tag = \"env\\n\"\n{MINIMAL}"),
                "environment_tag",
            ),
            (
                format!("environment_tag = \"{}\"\n{MINIMAL}", "e".repeat(129)),
                "environment_tag",
            ),
            (
                format!("provisioner_role = \"Gatehouse Provisioner\"\n{MINIMAL}"),
                "provisioner_role",
            ),
            (
                MINIMAL.replace("arn:aws:iam::aws:policy/PowerUserAccess", "PowerUserAccess"),
                "groups.developers.managed_policies[0]",
            ),
            (
                MINIMAL.replace(
                    "arn:aws:iam::aws:policy/PowerUserAccess",
                    "arn:aws:iam::12:policy/X",
                ),
                "groups.developers.managed_policies[0]",
            ),
            (
                MINIMAL.replace(
                    "arn:aws:iam::aws:policy/PowerUserAccess",
                    "arn:aws:s3:::aws:policy/X",
                ),
                "groups.developers.managed_policies[0]",
            ),
            (
                MINIMAL.replace(
                    "arn:aws:iam::aws:policy/PowerUserAccess",
                    "arn:aws:iam::aws:policy/",
                ),
                "groups.developers.managed_policies[0]",
            ),
            (
                MINIMAL.replace("allow = [\"E1\"]", "allow = [\"E 1\"]"),
                "environments.production.allow[0]",
            ),
        ];
        for (text, key) in cases {
            assert_eq!(key_of(Policy::parse(&text).unwrap_err()), key, "{text}");
        }
        // And the same rules accept what they should.
        let ok = MINIMAL.replace(
            "arn:aws:iam::aws:policy/PowerUserAccess",
            "arn:aws-us-gov:iam::123456789012:policy/team/Custom",
        );
        assert!(Policy::parse(&format!("environment_tag = \"org:env/name\"\n{ok}")).is_ok());
    }
}
