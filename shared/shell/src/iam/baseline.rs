//! An account's baseline, laid through the bootstrap role by `account-created` (and, but for the
//! boundary and the role, checked by `people-events` on first use): the password policy, the
//! boundary, the MFA and deny-all policies, the environment's groups with their policies, the
//! provisioner role, and the environment's service accounts. What each must be is decided in
//! [`gatehouse_core::baseline`] and [`gatehouse_core::documents`]; this file reads what the
//! account holds and writes the difference.

use std::collections::BTreeSet;

use gatehouse_core::baseline::{group_policies, CurrentPasswordPolicy, PASSWORD_POLICY};
use gatehouse_core::documents;
use gatehouse_core::names::{
    service_user_name, BOUNDARY_POLICY, MANAGED_PATH, PROVISIONER_POLICY, ROLE_PROVISIONER,
    SERVICE_PATH, STATUS_ACTIVE, TAG_ROLE, TAG_SERVICE_ACCOUNT, TAG_STATUS,
};
use gatehouse_core::plan::Action;
use gatehouse_core::policy::Policy;

use super::{tag, AccountIam};
use crate::error::Error;

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
    /// Lays the permissions boundary, idempotently. Only through the bootstrap role
    /// (`account-created`): the provisioner may not write the ceiling it works under. `true`:
    /// it was created.
    pub async fn ensure_boundary(&self, policy: &Policy) -> Result<bool, Error> {
        self.create_policy(
            BOUNDARY_POLICY,
            &documents::boundary(policy, self.placement()),
        )
        .await
    }

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

    /// Lays what managed users rely on, idempotently, through either role: the managed policies
    /// the provisioner may create (MFA, deny-all) and the groups of `environment` with their
    /// policies. The boundary must already be there (laid by `account-created` or the member
    /// stack); an account without it has no Gatehouse baseline and is a fault. A group name
    /// already taken outside `/gatehouse/` is a fault for a person to resolve; Gatehouse does not
    /// adopt it. Returns what it had to create, for the `Account Baselined` outcome.
    pub async fn ensure_baseline(
        &self,
        policy: &Policy,
        environment: &str,
    ) -> Result<Vec<String>, Error> {
        let mut made = Vec::new();
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
            return Err(Error::NoBaseline {
                account: self.account.to_string(),
                missing: BOUNDARY_POLICY,
            });
        }
        for (name, document) in documents::provisioner_policies(self.placement()) {
            if self.create_policy(name, &document).await? {
                made.push(format!("policy {name}"));
            }
        }
        for group in policy.groups_in(environment) {
            let wanted = group_policies(policy, &group, self.placement());
            let created = self
                .client
                .create_group()
                .group_name(&group)
                .path(MANAGED_PATH)
                .send()
                .await;
            let attached = match self.tolerate("CreateGroup", created, &["EntityAlreadyExists"])? {
                Some(_) => {
                    made.push(format!("group {group}"));
                    BTreeSet::new()
                }
                None => self.existing_group_policies(&group).await?,
            };
            for arn in wanted.difference(&attached) {
                self.client
                    .attach_group_policy()
                    .group_name(&group)
                    .policy_arn(arn)
                    .send()
                    .await
                    .map_err(|e| self.err("AttachGroupPolicy", e))?;
            }
        }
        Ok(made)
    }

    /// Creates the managed policy `name` under `/gatehouse/` unless it exists. `true`: created.
    async fn create_policy(&self, name: &str, document: &str) -> Result<bool, Error> {
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

    /// Creates the role the other functions assume, under `/gatehouse/`, or brings an existing
    /// one's trust and permissions back to what they must be. `true`: it was created. A role of
    /// that name that Gatehouse did not make (it lacks the [`TAG_ROLE`] tag), or one at another
    /// path, is a fault for a person to resolve: it is never rewritten.
    pub async fn ensure_provisioner_role(
        &self,
        policy: &Policy,
        trusted: &[String],
        organization: &str,
    ) -> Result<bool, Error> {
        let name = &policy.provisioner_role;
        let trust = documents::provisioner_trust(trusted, organization);
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
        let created = self
            .tolerate("CreateRole", created, &["EntityAlreadyExists"])?
            .is_some();
        if !created {
            let existing = self
                .client
                .get_role()
                .role_name(name)
                .send()
                .await
                .map_err(|e| self.err("GetRole", e))?;
            let role = existing.role().ok_or(Error::IncompleteAnswer {
                operation: "GetRole",
                missing: "role",
            })?;
            self.check_provisioner_role(name, role)?;
            self.client
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(&trust)
                .send()
                .await
                .map_err(|e| self.err("UpdateAssumeRolePolicy", e))?;
        }
        self.client
            .put_role_policy()
            .role_name(name)
            .policy_name(PROVISIONER_POLICY)
            .policy_document(documents::provisioner_permissions(policy, self.placement()))
            .send()
            .await
            .map_err(|e| self.err("PutRolePolicy", e))?;
        Ok(created)
    }

    /// Ensures the service account user `svc-<name>` under [`SERVICE_PATH`], with the boundary,
    /// in its groups, without console access.
    pub async fn ensure_service_account(
        &self,
        name: &str,
        groups: &[String],
    ) -> Result<ServiceAccount, Error> {
        let user = service_user_name(name);
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
        let created = self
            .tolerate("CreateUser", created, &["EntityAlreadyExists"])?
            .is_some();
        if !created {
            let got = self.client.get_user().user_name(&user).send().await;
            let path = self
                .tolerate("GetUser", got, &["NoSuchEntity"])?
                .and_then(|o| o.user)
                .map(|u| u.path)
                .unwrap_or_default();
            if path != SERVICE_PATH {
                return Ok(ServiceAccount::Conflict { user, path });
            }
        }
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

    async fn existing_group_policies(&self, group: &str) -> Result<BTreeSet<String>, Error> {
        let found = self
            .client
            .get_group()
            .group_name(group)
            .max_items(1)
            .send()
            .await
            .map_err(|e| self.err("GetGroup", e))?;
        let path = found.group().map(|g| g.path()).unwrap_or_default();
        if !path.starts_with(MANAGED_PATH) {
            return Err(Error::Conflict {
                account: self.account.to_string(),
                what: format!("group {group}"),
                why: format!("it is outside {MANAGED_PATH}"),
            });
        }
        self.attached_group_policies(group).await
    }

    /// The managed policies attached to `group`.
    pub(super) async fn attached_group_policies(
        &self,
        group: &str,
    ) -> Result<BTreeSet<String>, Error> {
        let policies: Vec<_> = self
            .client
            .list_attached_group_policies()
            .group_name(group)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.err("ListAttachedGroupPolicies", e))?;
        Ok(policies.into_iter().filter_map(|p| p.policy_arn).collect())
    }
}
