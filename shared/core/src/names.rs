//! The names other parts rely on: event sources and detail-types, the IAM paths, tags and
//! policy names Gatehouse lays in member accounts, and the secret naming scheme. Operators'
//! alarms, audit queries and IAM conditions are written against these strings, so each is
//! defined once, here, below everything that uses it.

use crate::ids::AccountId;

/// `source` of the events Gatehouse itself emits: outcomes and work items.
pub const GATEHOUSE_SOURCE: &str = "gatehouse";

/// HR detail-types (source: the policy's `hr_source`).
pub const ONBOARDED: &str = "Employee Onboarded";
pub const TRANSFERRED: &str = "Employee Transferred";
pub const OFFBOARDED: &str = "Employee Offboarded";
/// The work item detail-type (source: [`GATEHOUSE_SOURCE`]).
pub const SYNC: &str = "Employee Sync";
/// `reconcile`'s request to `account-created` to repair a baseline (source:
/// [`GATEHOUSE_SOURCE`], on Gatehouse's bus).
pub const BASELINE_REQUESTED: &str = "Baseline Requested";

/// Outcome detail-types (source: [`GATEHOUSE_SOURCE`]).
pub const ACCESS_GRANTED: &str = "Access Granted";
pub const ACCESS_REVOKED: &str = "Access Revoked";
pub const REQUEST_REJECTED: &str = "Request Rejected";
pub const ACCOUNT_BASELINED: &str = "Account Baselined";
pub const DRIFT_DETECTED: &str = "Drift Detected";
pub const KEY_ROTATED: &str = "Key Rotated";

/// Path of people's users. Gatehouse manages nothing outside `/gatehouse/`.
pub const PEOPLE_PATH: &str = "/gatehouse/people/";
/// Path of service accounts' users.
pub const SERVICE_PATH: &str = "/gatehouse/service/";
/// Path of managed groups and policies.
pub const MANAGED_PATH: &str = "/gatehouse/";

pub const TAG_EMPLOYEE: &str = "gatehouse:employee-id";
pub const TAG_TEAM: &str = "gatehouse:team";
pub const TAG_STATUS: &str = "gatehouse:status";
pub const TAG_DISABLED_AT: &str = "gatehouse:disabled-at";
pub const TAG_DISABLED_BY: &str = "gatehouse:disabled-by";
/// On a service account's user: the service account's name in the policy.
pub const TAG_SERVICE_ACCOUNT: &str = "gatehouse:service-account";
/// On a service account's user, while a key is being issued: when Gatehouse was about to create
/// it (a key created just after, whose secret was never written, is Gatehouse's orphan).
pub const TAG_KEY_INTENT: &str = "gatehouse:key-intent";
pub const STATUS_ACTIVE: &str = "active";
pub const STATUS_DISABLED: &str = "disabled";

/// Marks the roles Gatehouse made, so that a role of the same name made by anyone else is
/// never taken over.
pub const TAG_ROLE: &str = "gatehouse:role";
/// The value of [`TAG_ROLE`] on the provisioner role.
pub const ROLE_PROVISIONER: &str = "provisioner";
/// The provisioner role's path and name, as its ARN ends (`role/<this>`): it lives under
/// `/gatehouse/` like everything else Gatehouse manages.
pub fn provisioner_role_path(name: &str) -> String {
    format!("gatehouse/{name}")
}

/// The name of the provisioner role's inline permissions policy.
pub const PROVISIONER_POLICY: &str = "GatehouseProvisioner";

/// Name of the inline deny-all policy that seals a disabled user.
pub const DENY_ALL_POLICY: &str = "GatehouseDenyAll";
/// The permissions boundary every managed user carries.
pub const BOUNDARY_POLICY: &str = "GatehouseUserBoundary";
/// The MFA-enforcing policy attached to every group granted to people.
pub const MFA_POLICY: &str = "GatehouseEnforceMfa";

/// Tags on an initial-password secret.
pub const SECRET_TAG_EMPLOYEE: &str = TAG_EMPLOYEE;
pub const SECRET_TAG_ACCOUNT: &str = "gatehouse:account";

/// Name of the secret holding the initial password of `user` in `account` (the contract's).
pub fn initial_password_secret(account: &AccountId, user: &str) -> String {
    format!("gatehouse/initial-password/{account}/{user}")
}

/// The IAM user name of the service account `name` of the policy. The prefix keeps service
/// accounts apart from people, whose user names are e-mail addresses.
pub fn service_user_name(name: &str) -> String {
    format!("{SERVICE_USER_PREFIX}{name}")
}

/// The prefix of service account users' names.
pub const SERVICE_USER_PREFIX: &str = "svc-";

/// The secret holding the access key of the service account `name`, in its environment
/// account: what its workload reads.
pub fn service_key_secret(name: &str) -> String {
    format!("gatehouse/service/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_follow_the_contract() {
        let acct = AccountId::parse("123456789012").unwrap();
        assert_eq!(
            initial_password_secret(&acct, "ada@example.com"),
            "gatehouse/initial-password/123456789012/ada@example.com"
        );
    }

    #[test]
    fn service_accounts_are_prefixed_and_their_keys_kept_under_their_name() {
        assert_eq!(service_user_name("deployer"), "svc-deployer");
        assert_eq!(service_key_secret("deployer"), "gatehouse/service/deployer");
    }

    #[test]
    fn the_provisioner_role_lives_under_gatehouse() {
        assert_eq!(
            provisioner_role_path("GatehouseProvisioner"),
            "gatehouse/GatehouseProvisioner"
        );
    }
}
