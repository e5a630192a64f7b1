//! The environment's groups under `/gatehouse/`, with the policies the policy file names for
//! them: laid by `account-created` (which also detaches what the file does not name) and, when
//! a call shows one missing, by `people-events`.

use std::collections::BTreeSet;

use gatehouse_core::baseline::group_policies;
use gatehouse_core::names::MANAGED_PATH;
use gatehouse_core::policy::Policy;

use super::AccountIam;
use crate::error::Error;

/// What laying the groups did.
#[derive(Debug, Default)]
pub struct GroupsLaid {
    /// `group <name>` for each group created.
    pub created: Vec<String>,
    /// `<group>: <arn>` for each policy detached.
    pub detached: Vec<String>,
}

impl AccountIam {
    /// Lays the groups of `environment` under `/gatehouse/` with the policies the policy file
    /// names for them: one listing of the groups, one of each group's policies, and a write
    /// only for what differs. With `prune` (the bootstrap role's repair), policies the file
    /// does not name are detached from every group under `/gatehouse/` (all of them, from a
    /// group it does not define here); detaching only narrows access. A defined name taken by
    /// a group outside `/gatehouse/` is a fault for a person: Gatehouse does not adopt it.
    pub async fn lay_groups(
        &self,
        policy: &Policy,
        environment: &str,
        prune: bool,
    ) -> Result<GroupsLaid, Error> {
        let mut laid = GroupsLaid::default();
        let mut existing: BTreeSet<String> = self.gatehouse_groups().await?.into_iter().collect();
        let defined = policy.groups_in(environment);
        let mut created = BTreeSet::new();
        for group in defined.iter().filter(|g| !existing.contains(*g)) {
            let made = self
                .client
                .create_group()
                .group_name(group)
                .path(MANAGED_PATH)
                .send()
                .await;
            if self
                .tolerate("CreateGroup", made, &["EntityAlreadyExists"])?
                .is_some()
            {
                laid.created.push(format!("group {group}"));
                created.insert(group.clone());
            } else {
                // Made since the listing (a concurrent delivery), or someone else's.
                self.check_managed_group(group).await?;
            }
        }
        existing.extend(defined.iter().cloned());
        let groups = existing.iter().filter(|g| prune || defined.contains(*g));
        for group in groups {
            let wanted = if defined.contains(group) {
                group_policies(policy, group, self.placement())
            } else {
                BTreeSet::new()
            };
            let attached = if created.contains(group) {
                BTreeSet::new()
            } else {
                self.attached_group_policies(group).await?
            };
            for arn in wanted.difference(&attached) {
                self.client
                    .attach_group_policy()
                    .group_name(group)
                    .policy_arn(arn)
                    .send()
                    .await
                    .map_err(|e| self.err("AttachGroupPolicy", e))?;
            }
            if !prune {
                continue;
            }
            for arn in attached.difference(&wanted) {
                self.client
                    .detach_group_policy()
                    .group_name(group)
                    .policy_arn(arn)
                    .send()
                    .await
                    .map_err(|e| self.err("DetachGroupPolicy", e))?;
                laid.detached.push(format!("{group}: {arn}"));
            }
        }
        Ok(laid)
    }

    /// Fails unless the group `group` is under `/gatehouse/`: a name taken by someone else's
    /// group is a fault for a person to resolve; Gatehouse does not adopt it.
    async fn check_managed_group(&self, group: &str) -> Result<(), Error> {
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
        Ok(())
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
