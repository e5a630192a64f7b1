//! An account read whole for `reconcile`: every user (people's as the planner reads them,
//! service accounts, and everyone outside `/gatehouse/` with their ways in), every active
//! access key with its age, Gatehouse's groups with their policies, every managed user's
//! boundary, Gatehouse's own policy documents, and the provisioner role's policies. Read
//! only: nothing here writes.
//!
//! Whole or not at all: any listing that fails fails the read, and `reconcile` reports the
//! account `unknown`. A partial read taken for "no users" is how drift tools remove everyone.

use aws_sdk_iam::types::{StatusType, User};
use futures::{StreamExt, TryStreamExt};
use gatehouse_core::drift::{Inventory, KeySeen, OtherUser, RolePolicies};
use gatehouse_core::ids::Timestamp;
use gatehouse_core::names::{
    BOUNDARY_POLICY, DENY_ALL_POLICY, MANAGED_PATH, MFA_POLICY, PEOPLE_PATH, SERVICE_PATH,
};
use gatehouse_core::plan::Found;
use gatehouse_core::policy::Policy;

use super::AccountIam;
use crate::error::Error;

/// Users read at once: IAM's read limits are per account, and a fan-out already runs
/// accounts side by side.
const USERS_AT_ONCE: usize = 4;

/// What one user contributes to the inventory.
enum Seen {
    /// A person's user, with its permissions boundary.
    Person(String, gatehouse_core::plan::UserState, Option<String>),
    /// A service account's user, with its permissions boundary.
    Service(String, Option<String>),
    Other(OtherUser),
    /// Under `/gatehouse/` but neither people nor service: nothing of the contract's.
    Ignored,
}

impl AccountIam {
    /// The account's [`Inventory`], or the first listing that failed.
    pub async fn inventory(&self, policy: &Policy) -> Result<Inventory, Error> {
        let users: Vec<User> = self
            .client
            .list_users()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.err("ListUsers", e))?;
        let groups = self.gatehouse_groups().await?;
        let seen: Vec<(Seen, Vec<KeySeen>)> = futures::stream::iter(users)
            .map(|user| self.inventory_user(user))
            .buffer_unordered(USERS_AT_ONCE)
            .try_collect()
            .await?;
        let mut inventory = Inventory {
            partition: self.placement().partition.to_owned(),
            ..Inventory::default()
        };
        for group in groups {
            let arns = self.attached_group_policies(&group).await?;
            inventory.group_policies.insert(group.clone(), arns);
            inventory.groups.insert(group);
        }
        for (user, keys) in seen {
            inventory.access_keys.extend(keys);
            match user {
                Seen::Person(name, state, boundary) => {
                    inventory.boundaries.insert(name.clone(), boundary);
                    inventory.people.insert(name, state);
                }
                Seen::Service(name, boundary) => {
                    inventory.boundaries.insert(name.clone(), boundary);
                    inventory.service_users.insert(name);
                }
                Seen::Other(other) => inventory.others.push(other),
                Seen::Ignored => {}
            }
        }
        for name in [BOUNDARY_POLICY, MFA_POLICY, DENY_ALL_POLICY] {
            let document = self.policy_document(name).await?;
            inventory.documents.insert(name.to_owned(), document);
        }
        inventory.provisioner = Some(self.role_policies(&policy.provisioner_role).await?);
        inventory.others.sort_by(|a, b| a.name.cmp(&b.name));
        inventory
            .access_keys
            .sort_by(|a, b| (&a.user, &a.key_id).cmp(&(&b.user, &b.key_id)));
        Ok(inventory)
    }

    async fn inventory_user(&self, user: User) -> Result<(Seen, Vec<KeySeen>), Error> {
        let name = user.user_name;
        let keys = self.active_keys(&name).await?;
        let seen = if user.path == PEOPLE_PATH {
            let Found::Managed(state) = self.read_whole(&name).await? else {
                // Listed a moment ago, gone or moved now: not a state to decide on.
                return Err(Error::NotYet {
                    account: self.account.to_string(),
                    what: format!("a steady read of user {name}"),
                });
            };
            let boundary = self.boundary(&name).await?;
            Seen::Person(name, state, boundary)
        } else if user.path == SERVICE_PATH {
            let boundary = self.boundary(&name).await?;
            Seen::Service(name, boundary)
        } else if user.path.starts_with(MANAGED_PATH) {
            Seen::Ignored
        } else {
            let console = self.has_login_profile(&name).await?;
            Seen::Other(OtherUser {
                active_keys: keys.len(),
                name,
                path: user.path,
                console,
            })
        };
        Ok((seen, keys))
    }

    /// The names of the groups under `/gatehouse/`.
    pub(super) async fn gatehouse_groups(&self) -> Result<Vec<String>, Error> {
        let groups: Vec<_> = self
            .client
            .list_groups()
            .path_prefix(MANAGED_PATH)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.err("ListGroups", e))?;
        // Filtered again here: the prefix is the server's to apply, and not every
        // implementation of the API does (the emulator does not).
        Ok(groups
            .into_iter()
            .filter(|g| g.path.starts_with(MANAGED_PATH))
            .map(|g| g.group_name)
            .collect())
    }

    /// The user's permissions boundary (GetUser: ListUsers does not say).
    async fn boundary(&self, name: &str) -> Result<Option<String>, Error> {
        let got = self
            .client
            .get_user()
            .user_name(name)
            .send()
            .await
            .map_err(|e| self.err("GetUser", e))?;
        Ok(got
            .user
            .and_then(|u| u.permissions_boundary)
            .and_then(|b| b.permissions_boundary_arn))
    }

    /// The default version's document of Gatehouse's policy `name`, decoded (`None`: no
    /// such policy).
    pub(super) async fn policy_document(&self, name: &str) -> Result<Option<String>, Error> {
        let arn = self.policy_arn(name);
        let got = self.client.get_policy().policy_arn(&arn).send().await;
        let Some(version) = self
            .tolerate("GetPolicy", got, &["NoSuchEntity"])?
            .and_then(|p| p.policy)
            .and_then(|p| p.default_version_id)
        else {
            return Ok(None);
        };
        let got = self
            .client
            .get_policy_version()
            .policy_arn(&arn)
            .version_id(version)
            .send()
            .await
            .map_err(|e| self.err("GetPolicyVersion", e))?;
        let encoded = got
            .policy_version
            .and_then(|v| v.document)
            .unwrap_or_default();
        Ok(Some(super::decode(&encoded)))
    }

    /// The managed and inline policies of the role `name`.
    pub(super) async fn role_policies(&self, name: &str) -> Result<RolePolicies, Error> {
        let attached: Vec<_> = self
            .client
            .list_attached_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.err("ListAttachedRolePolicies", e))?;
        let inline: Vec<String> = self
            .client
            .list_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.err("ListRolePolicies", e))?;
        Ok(RolePolicies {
            attached: attached.into_iter().filter_map(|p| p.policy_arn).collect(),
            inline: inline.into_iter().collect(),
        })
    }

    async fn active_keys(&self, name: &str) -> Result<Vec<KeySeen>, Error> {
        let keys: Vec<_> = self
            .client
            .list_access_keys()
            .user_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.err("ListAccessKeys", e))?;
        Ok(keys
            .into_iter()
            .filter(|k| k.status() == Some(&StatusType::Active))
            .filter_map(|k| {
                Some(KeySeen {
                    user: name.to_owned(),
                    key_id: k.access_key_id?,
                    created: Timestamp::from_unix_nanos(k.create_date?.as_nanos())?,
                })
            })
            .collect())
    }
}
