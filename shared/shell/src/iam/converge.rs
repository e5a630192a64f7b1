//! Bringing a baseline back to what Gatehouse ships, through the bootstrap role only
//! (`account-created`): [`baseline`](super::baseline) lays what is missing, this rewrites what
//! was changed. Gatehouse's policy documents are laid, or get a new default version (the
//! oldest other version pruned when IAM's five are taken); the provisioner role loses every
//! policy but its own; a managed user named as lacking the boundary gets it. (Groups lose the
//! policies the policy file does not name in [`lay_groups`](AccountIam::lay_groups).) Each step reads first and writes only the difference, so a
//! baseline already as shipped costs reads and no write.
//!
//! Nothing here deletes a user, a group or a policy Gatehouse did not make, and nothing
//! reaches outside `/gatehouse/` but the provisioner role's own attachments.

use gatehouse_core::documents::same_document;
use gatehouse_core::names::{BOUNDARY_POLICY, MANAGED_PATH, PROVISIONER_POLICY};
use gatehouse_core::policy::Policy;

use super::{AccountIam, Laid};
use crate::error::Error;

/// IAM keeps at most five versions of a managed policy.
const MAX_POLICY_VERSIONS: usize = 5;

impl AccountIam {
    /// Lays Gatehouse's managed policy `name` as `shipped`, reading first: created when
    /// missing; given `shipped` as its new default version when its default says something
    /// else; left alone (no write) when it is as shipped.
    pub async fn lay_document(&self, name: &str, shipped: &str) -> Result<Laid, Error> {
        match self.policy_document(name).await? {
            None => {
                self.create_policy(name, shipped).await?;
                return Ok(Laid::Created);
            }
            Some(found) if same_document(&found, shipped) => return Ok(Laid::AsShipped),
            Some(_) => {}
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
        Ok(Laid::Rewritten)
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
