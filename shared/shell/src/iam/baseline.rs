//! An account's baseline, laid through the bootstrap role by `account-created` (and, but for the
//! boundary and the role, by `people-events` when a call shows a piece missing): the password
//! policy, the boundary, the MFA and deny-all policies, the environment's groups with their
//! policies ([`groups`](super::groups)), the provisioner role, and the environment's service
//! accounts. What each must be is decided in
//! [`gatehouse_core::baseline`] and [`gatehouse_core::documents`]; this file reads what the
//! account holds and writes the difference.

use std::collections::BTreeSet;

use gatehouse_core::baseline::{CurrentPasswordPolicy, PASSWORD_POLICY};
use gatehouse_core::documents::{self, same_document};
use gatehouse_core::names::{
    service_user_name, BOUNDARY_POLICY, MANAGED_PATH, PROVISIONER_POLICY, ROLE_PROVISIONER,
    SERVICE_PATH, STATUS_ACTIVE, TAG_ROLE, TAG_SERVICE_ACCOUNT, TAG_STATUS,
};
use gatehouse_core::plan::Action;
use gatehouse_core::policy::Policy;

use super::{decode, tag, AccountIam};
use crate::error::Error;

/// What laying one piece of the baseline found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Laid {
    /// It was missing and is now there.
    Created,
    /// It was there but said something else, and was rewritten.
    Rewritten,
    /// It was there as shipped: nothing was written.
    AsShipped,
}

/// What became of a service account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceAccount {
    Created(String),
    Existing(String),
    /// The name is taken by a user outside [`SERVICE_PATH`]: reported, not taken over.
    Conflict {
        user: String,
        path: String,
    },
}

impl AccountIam {
    /// Checks that the member stack laid the boundary and a provisioner role Gatehouse may use
    /// (tagged, under `/gatehouse/`), without changing either: for organizations where the
    /// StackSet, not `account-created`, lays them.
    pub async fn require_member_stack(&self, policy: &Policy) -> Result<(), Error> {
        let boundary = self
            .client
            .get_policy()
            .policy_arn(self.policy_arn(BOUNDARY_POLICY))
            .send()
            .await;
        if self
            .tolerate("GetPolicy", boundary, &["NoSuchEntity"])?
            .is_none()
        {
            return Err(Error::NotYet {
                account: self.account.to_string(),
                what: format!("policy {BOUNDARY_POLICY}"),
            });
        }
        let name = &policy.provisioner_role;
        let role = self.client.get_role().role_name(name).send().await;
        let Some(role) = self
            .tolerate("GetRole", role, &["NoSuchEntity"])?
            .and_then(|r| r.role)
        else {
            return Err(Error::NotYet {
                account: self.account.to_string(),
                what: format!("role {name}"),
            });
        };
        self.check_provisioner_role(name, &role)
    }

    /// A provisioner role is Gatehouse's to use only if Gatehouse made it: tagged, under
    /// `/gatehouse/`.
    fn check_provisioner_role(
        &self,
        name: &str,
        role: &aws_sdk_iam::types::Role,
    ) -> Result<(), Error> {
        let ours = role
            .tags()
            .iter()
            .any(|t| t.key() == TAG_ROLE && t.value() == ROLE_PROVISIONER);
        if !ours {
            return Err(Error::Conflict {
                account: self.account.to_string(),
                what: format!("role {name}"),
                why: format!("Gatehouse did not make it: no {TAG_ROLE} tag"),
            });
        }
        if role.path() != MANAGED_PATH {
            return Err(Error::Conflict {
                account: self.account.to_string(),
                what: format!("role {name}"),
                why: format!("it is at path {}, not {MANAGED_PATH}", role.path()),
            });
        }
        Ok(())
    }

    /// Lays what managed users rely on, through the provisioner role, when a call has shown
    /// part of it missing (`people-events` trusts what `account-created` laid and repairs only
    /// on such evidence): the managed policies the provisioner may create (MFA, deny-all) and
    /// the groups of `environment` with their policies. The boundary must already be there
    /// (laid by `account-created` or the member stack); an account without it has no
    /// Gatehouse baseline and is a fault. Reads first and writes only what is missing.
    pub async fn ensure_baseline(&self, policy: &Policy, environment: &str) -> Result<(), Error> {
        if !self.policy_exists(BOUNDARY_POLICY).await? {
            return Err(Error::NoBaseline {
                account: self.account.to_string(),
                missing: BOUNDARY_POLICY,
            });
        }
        for (name, document) in documents::provisioner_policies(self.placement()) {
            if !self.policy_exists(name).await? {
                self.create_policy(name, &document).await?;
            }
        }
        self.lay_groups(policy, environment, false).await?;
        Ok(())
    }

    /// Whether Gatehouse's managed policy `name` exists (one GetPolicy).
    async fn policy_exists(&self, name: &str) -> Result<bool, Error> {
        let got = self
            .client
            .get_policy()
            .policy_arn(self.policy_arn(name))
            .send()
            .await;
        Ok(self
            .tolerate("GetPolicy", got, &["NoSuchEntity"])?
            .is_some())
    }

    /// Creates the managed policy `name` under `/gatehouse/` unless it exists. `true`: created.
    pub(super) async fn create_policy(&self, name: &str, document: &str) -> Result<bool, Error> {
        let created = self
            .client
            .create_policy()
            .policy_name(name)
            .path(MANAGED_PATH)
            .policy_document(document)
            .description("Managed by Gatehouse")
            .send()
            .await;
        Ok(self
            .tolerate("CreatePolicy", created, &["EntityAlreadyExists"])?
            .is_some())
    }

    /// Brings the account's password policy up to [`PASSWORD_POLICY`], keeping whatever the
    /// account has that is stricter. `true`: it was changed.
    pub async fn ensure_password_policy(&self) -> Result<bool, Error> {
        let got = self.client.get_account_password_policy().send().await;
        let current = self
            .tolerate("GetAccountPasswordPolicy", got, &["NoSuchEntity"])?
            .and_then(|o| o.password_policy)
            .map(|c| CurrentPasswordPolicy {
                minimum_length: c.minimum_password_length,
                require_symbols: c.require_symbols,
                require_numbers: c.require_numbers,
                require_uppercase: c.require_uppercase_characters,
                require_lowercase: c.require_lowercase_characters,
                allow_users_to_change: c.allow_users_to_change_password,
                max_age_days: c.max_password_age,
                reuse_prevention: c.password_reuse_prevention,
                hard_expiry: c.hard_expiry,
            });
        let Some(wanted) = PASSWORD_POLICY.applied_to(current.as_ref()) else {
            return Ok(false);
        };
        self.client
            .update_account_password_policy()
            .set_minimum_password_length(wanted.minimum_length)
            .require_symbols(wanted.require_symbols)
            .require_numbers(wanted.require_numbers)
            .require_uppercase_characters(wanted.require_uppercase)
            .require_lowercase_characters(wanted.require_lowercase)
            .allow_users_to_change_password(wanted.allow_users_to_change)
            .set_max_password_age(wanted.max_age_days)
            .set_password_reuse_prevention(wanted.reuse_prevention)
            .set_hard_expiry(wanted.hard_expiry)
            .send()
            .await
            .map_err(|e| self.err("UpdateAccountPasswordPolicy", e))?;
        Ok(true)
    }

    /// Lays the role the other functions assume, under `/gatehouse/`, reading first: created
    /// when missing; an existing one's trust and permissions are compared with what they must
    /// be and rewritten only when they differ. A role of that name that Gatehouse did not make
    /// (it lacks the [`TAG_ROLE`] tag), or one at another path, is a fault for a person to
    /// resolve: it is never rewritten.
    pub async fn lay_provisioner_role(
        &self,
        policy: &Policy,
        trusted: &[String],
        organization: &str,
    ) -> Result<Laid, Error> {
        let name = &policy.provisioner_role;
        let trust = documents::provisioner_trust(trusted, organization);
        let permissions = documents::provisioner_permissions(policy, self.placement());
        let got = self.client.get_role().role_name(name).send().await;
        let existing = self.tolerate("GetRole", got, &["NoSuchEntity"])?;
        let Some(role) = existing.and_then(|r| r.role) else {
            let created = self
                .client
                .create_role()
                .role_name(name)
                .path(MANAGED_PATH)
                .assume_role_policy_document(&trust)
                .description("Gatehouse: manages IAM users, groups and policies under /gatehouse/")
                .max_session_duration(3600)
                .tags(tag("CreateRole", TAG_ROLE, ROLE_PROVISIONER)?)
                .send()
                .await;
            // Made meanwhile by a concurrent delivery: that one lays the rest too, but this
            // one still must not trust it blindly, so it comes round again.
            self.tolerate("CreateRole", created, &["EntityAlreadyExists"])?
                .ok_or_else(|| Error::NotYet {
                    account: self.account.to_string(),
                    what: format!("role {name}, being created by another delivery"),
                })?;
            self.put_provisioner_permissions(name, &permissions).await?;
            return Ok(Laid::Created);
        };
        self.check_provisioner_role(name, &role)?;
        let mut laid = Laid::AsShipped;
        let found_trust = role.assume_role_policy_document().map(decode);
        if !found_trust.is_some_and(|t| same_document(&t, &trust)) {
            self.client
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(&trust)
                .send()
                .await
                .map_err(|e| self.err("UpdateAssumeRolePolicy", e))?;
            laid = Laid::Rewritten;
        }
        let got = self
            .client
            .get_role_policy()
            .role_name(name)
            .policy_name(PROVISIONER_POLICY)
            .send()
            .await;
        let found = self
            .tolerate("GetRolePolicy", got, &["NoSuchEntity"])?
            .map(|p| decode(p.policy_document()));
        if !found.is_some_and(|p| same_document(&p, &permissions)) {
            self.put_provisioner_permissions(name, &permissions).await?;
            laid = Laid::Rewritten;
        }
        Ok(laid)
    }

    async fn put_provisioner_permissions(&self, role: &str, document: &str) -> Result<(), Error> {
        self.client
            .put_role_policy()
            .role_name(role)
            .policy_name(PROVISIONER_POLICY)
            .policy_document(document)
            .send()
            .await
            .map_err(|e| self.err("PutRolePolicy", e))?;
        Ok(())
    }

    /// Ensures the service account user `svc-<name>` under [`SERVICE_PATH`], with the boundary,
    /// in its groups, without console access.
    pub async fn ensure_service_account(
        &self,
        name: &str,
        groups: &[String],
    ) -> Result<ServiceAccount, Error> {
        let user = service_user_name(name);
        // Read first: a repeated baseline finds it and writes nothing.
        let got = self.client.get_user().user_name(&user).send().await;
        let found = self
            .tolerate("GetUser", got, &["NoSuchEntity"])?
            .and_then(|o| o.user);
        let created = match found {
            Some(u) if u.path != SERVICE_PATH => {
                return Ok(ServiceAccount::Conflict { user, path: u.path });
            }
            Some(_) => false,
            None => {
                let created = self
                    .client
                    .create_user()
                    .user_name(&user)
                    .path(SERVICE_PATH)
                    .permissions_boundary(self.policy_arn(BOUNDARY_POLICY))
                    .tags(tag("CreateUser", TAG_SERVICE_ACCOUNT, name)?)
                    .tags(tag("CreateUser", TAG_STATUS, STATUS_ACTIVE)?)
                    .send()
                    .await;
                if self
                    .tolerate("CreateUser", created, &["EntityAlreadyExists"])?
                    .is_none()
                {
                    // Made meanwhile by a concurrent delivery: the next one converges it.
                    return Err(Error::NotYet {
                        account: self.account.to_string(),
                        what: format!("service account {user}, being created by another delivery"),
                    });
                }
                true
            }
        };
        let current = if created {
            BTreeSet::new()
        } else {
            self.managed_groups(&user).await?
        };
        for g in groups.iter().filter(|g| !current.contains(*g)) {
            self.apply(&user, &Action::AddToGroup(g.clone())).await?;
        }
        Ok(if created {
            ServiceAccount::Created(user)
        } else {
            ServiceAccount::Existing(user)
        })
    }
}
