//! Bringing a baseline back to what Gatehouse ships, through the bootstrap role only
//! (`account-created`): [`baseline`](super::baseline) lays what is missing, this rewrites what
//! was changed. Gatehouse's policy documents get a new default version (the oldest other
//! version pruned when IAM's five are taken); its groups lose the policies the policy file does
//! not name; the provisioner role loses every policy but its own; a managed user named as
//! lacking the boundary gets it. Each step reads first and writes only the difference, so a
//! baseline already as shipped costs reads and no write.
//!
//! Nothing here deletes a user, a group or a policy Gatehouse did not make, and nothing
//! reaches outside `/gatehouse/` but the provisioner role's own attachments.

use std::collections::BTreeSet;

use gatehouse_core::baseline::group_policies;
use gatehouse_core::documents::same_document;
use gatehouse_core::names::{BOUNDARY_POLICY, MANAGED_PATH, PROVISIONER_POLICY};
use gatehouse_core::policy::Policy;

use super::AccountIam;
use crate::error::Error;

/// IAM keeps at most five versions of a managed policy.
const MAX_POLICY_VERSIONS: usize = 5;

impl AccountIam {
    /// Makes `shipped` the default version of Gatehouse's policy `name` if its default says
    /// something else. `true`: a version was written. A policy that does not exist is left to
    /// [`ensure_baseline`](Self::ensure_baseline).
    pub async fn converge_document(&self, name: &str, shipped: &str) -> Result<bool, Error> {
        match self.policy_document(name).await? {
            Some(found) if !same_document(&found, shipped) => {}
            _ => return Ok(false),
        }
        let arn = self.policy_arn(name);
        let versions: Vec<_> = self
            .client
            .list_policy_versions()
            .policy_arn(&arn)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.err("ListPolicyVersions", e))?;
        if versions.len() >= MAX_POLICY_VERSIONS {
            // The oldest that is not the default: the default is the one being replaced, and
            // IAM refuses to delete it.
            let oldest = versions
                .iter()
                .filter(|v| !v.is_default_version)
                .min_by_key(|v| v.create_date.map(|d| d.as_nanos()))
                .and_then(|v| v.version_id.clone());
            if let Some(version) = oldest {
                self.client
                    .delete_policy_version()
                    .policy_arn(&arn)
                    .version_id(version)
                    .send()
                    .await
                    .map_err(|e| self.err("DeletePolicyVersion", e))?;
            }
        }
        self.client
            .create_policy_version()
            .policy_arn(&arn)
            .policy_document(shipped)
            .set_as_default(true)
            .send()
            .await
            .map_err(|e| self.err("CreatePolicyVersion", e))?;
        Ok(true)
    }

    /// Detaches from every group under `/gatehouse/` the managed policies the policy file does
    /// not name for it in `environment` (all of them, for a group it does not define there).
    /// Returns what was detached, as `group: arn`. Detaching only narrows access.
    pub async fn prune_group_policies(
        &self,
        policy: &Policy,
        environment: &str,
    ) -> Result<Vec<String>, Error> {
        let defined = policy.groups_in(environment);
        let mut detached = Vec::new();
        for name in self.gatehouse_groups().await? {
            let wanted = if defined.contains(&name) {
                group_policies(policy, &name, self.placement())
            } else {
                BTreeSet::new()
            };
            let attached = self.attached_group_policies(&name).await?;
            for arn in attached.difference(&wanted) {
                self.client
                    .detach_group_policy()
                    .group_name(&name)
                    .policy_arn(arn)
                    .send()
                    .await
                    .map_err(|e| self.err("DetachGroupPolicy", e))?;
                detached.push(format!("{name}: {arn}"));
            }
        }
        Ok(detached)
    }

    /// Removes from the provisioner role every policy but its own inline one: whatever else it
    /// holds widens what the functions can do. Returns what was removed.
    pub async fn prune_provisioner_role(&self, policy: &Policy) -> Result<Vec<String>, Error> {
        let role = &policy.provisioner_role;
        let found = self.role_policies(role).await?;
        let mut removed = Vec::new();
        for arn in &found.attached {
            self.client
                .detach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| self.err("DetachRolePolicy", e))?;
            removed.push(arn.clone());
        }
        for name in found.inline.iter().filter(|n| *n != PROVISIONER_POLICY) {
            self.client
                .delete_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| self.err("DeleteRolePolicy", e))?;
            removed.push(name.clone());
        }
        Ok(removed)
    }

    /// Puts Gatehouse's boundary back on each of `users` that is under `/gatehouse/` and lacks
    /// it; anyone else is left alone, whoever named them. Returns the users it was put on.
    pub async fn restore_boundaries(&self, users: &[String]) -> Result<Vec<String>, Error> {
        let boundary = self.policy_arn(BOUNDARY_POLICY);
        let mut restored = Vec::new();
        for name in users {
            let got = self.client.get_user().user_name(name).send().await;
            let Some(user) = self
                .tolerate("GetUser", got, &["NoSuchEntity"])?
                .and_then(|o| o.user)
            else {
                continue;
            };
            let current = user
                .permissions_boundary
                .and_then(|b| b.permissions_boundary_arn);
            if !user.path.starts_with(MANAGED_PATH) || current.as_deref() == Some(&boundary) {
                continue;
            }
            self.client
                .put_user_permissions_boundary()
                .user_name(name)
                .permissions_boundary(&boundary)
                .send()
                .await
                .map_err(|e| self.err("PutUserPermissionsBoundary", e))?;
            restored.push(name.clone());
        }
        Ok(restored)
    }
}
