//! A person's user in one account: created optimistically, or read back as the planner's
//! [`Found`], with as much detail as the caller needs.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::types::StatusType;
use gatehouse_core::names::{BOUNDARY_POLICY, DENY_ALL_POLICY, MANAGED_PATH, PEOPLE_PATH};
use gatehouse_core::plan::{Credential, Found, UserState};

use super::{tag, AccountIam};
use crate::error::Error;

/// How much of a user to read: who it belongs to, or enough to grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// GetUser alone: path and tags (sealing reads the rest itself, closing first).
    Head,
    Grant,
}

impl AccountIam {
    /// Creates a person's user with its tags and boundary. `false`: the name is taken (by whom
    /// is for [`read_user`](Self::read_user) to find out).
    pub async fn create_user(
        &self,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<bool, Error> {
        let mut req = self
            .client
            .create_user()
            .user_name(name)
            .path(PEOPLE_PATH)
            .permissions_boundary(self.policy_arn(BOUNDARY_POLICY));
        for (k, v) in tags {
            req = req.tags(tag("CreateUser", k, v)?);
        }
        Ok(self
            .tolerate("CreateUser", req.send().await, &["EntityAlreadyExists"])?
            .is_some())
    }

    /// What the account holds under `name`.
    pub async fn read_user(&self, name: &str, depth: Depth) -> Result<Found, Error> {
        let got = self.client.get_user().user_name(name).send().await;
        let Some(user) = self
            .tolerate("GetUser", got, &["NoSuchEntity"])?
            .and_then(|o| o.user)
        else {
            return Ok(Found::Absent);
        };
        if user.path() != PEOPLE_PATH {
            return Ok(Found::Unmanaged {
                path: user.path().to_owned(),
            });
        }
        let tags = user
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect();
        if depth == Depth::Head {
            return Ok(Found::Managed(UserState {
                tags,
                ..UserState::default()
            }));
        }
        let (managed_groups, login_profile, deny_all) = futures::try_join!(
            self.managed_groups(name),
            self.has_login_profile(name),
            self.has_deny_all(name),
        )?;
        Ok(Found::Managed(UserState {
            tags,
            managed_groups,
            login_profile,
            deny_all,
            credentials: Vec::new(),
        }))
    }

    pub(super) async fn managed_groups(&self, name: &str) -> Result<BTreeSet<String>, Error> {
        let groups: Vec<_> = self
            .client
            .list_groups_for_user()
            .user_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.err("ListGroupsForUser", e))?;
        Ok(groups
            .into_iter()
            .filter(|g| g.path().starts_with(MANAGED_PATH))
            .map(|g| g.group_name)
            .collect())
    }

    pub(super) async fn has_login_profile(&self, name: &str) -> Result<bool, Error> {
        let got = self.client.get_login_profile().user_name(name).send().await;
        Ok(self
            .tolerate("GetLoginProfile", got, &["NoSuchEntity"])?
            .is_some())
    }

    pub(super) async fn has_deny_all(&self, name: &str) -> Result<bool, Error> {
        let deny_all = self.policy_arn(DENY_ALL_POLICY);
        let attached: Vec<_> = self
            .client
            .list_attached_user_policies()
            .user_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.err("ListAttachedUserPolicies", e))?;
        Ok(attached
            .iter()
            .any(|p| p.policy_arn() == Some(deny_all.as_str())))
    }

    /// What the account holds under `name`, every active credential included; any listing
    /// that fails fails the read (a plan or a drift report must not mistake it for none).
    pub async fn read_whole(&self, name: &str) -> Result<Found, Error> {
        let mut state = match self.read_user(name, Depth::Grant).await? {
            Found::Managed(state) => state,
            other => return Ok(other),
        };
        let (credentials, failures) = self.credential_listings(name).await;
        if let Some(e) = failures.into_iter().next() {
            return Err(e);
        }
        state.credentials = credentials;
        Ok(Found::Managed(state))
    }

    /// Every active credential of the user, each kind listed on its own: what could be listed,
    /// and the failures of the listings that could not (one kind's listing denied or throttled
    /// must not keep the others from being closed).
    pub(super) async fn credential_listings(&self, name: &str) -> (Vec<Credential>, Vec<Error>) {
        let c = &self.client;
        let (keys, ssh, certs, mfa, service) = futures::join!(
            async {
                let keys: Vec<_> = c
                    .list_access_keys()
                    .user_name(name)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await
                    .map_err(|e| self.err("ListAccessKeys", e))?;
                Ok::<_, Error>(
                    keys.into_iter()
                        .filter(|k| k.status() == Some(&StatusType::Active))
                        .filter_map(|k| k.access_key_id.map(Credential::AccessKey))
                        .collect::<Vec<_>>(),
                )
            },
            async {
                let keys: Vec<_> = c
                    .list_ssh_public_keys()
                    .user_name(name)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await
                    .map_err(|e| self.err("ListSSHPublicKeys", e))?;
                Ok::<_, Error>(
                    keys.into_iter()
                        .filter(|k| k.status() == &StatusType::Active)
                        .map(|k| Credential::SshPublicKey(k.ssh_public_key_id))
                        .collect::<Vec<_>>(),
                )
            },
            async {
                let certs: Vec<_> = c
                    .list_signing_certificates()
                    .user_name(name)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await
                    .map_err(|e| self.err("ListSigningCertificates", e))?;
                Ok::<_, Error>(
                    certs
                        .into_iter()
                        .filter(|k| k.status() == &StatusType::Active)
                        .map(|k| Credential::SigningCertificate(k.certificate_id))
                        .collect::<Vec<_>>(),
                )
            },
            async {
                let devices: Vec<_> = c
                    .list_mfa_devices()
                    .user_name(name)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await
                    .map_err(|e| self.err("ListMFADevices", e))?;
                Ok::<_, Error>(
                    devices
                        .into_iter()
                        .map(|d| Credential::MfaDevice(d.serial_number))
                        .collect::<Vec<_>>(),
                )
            },
            async {
                let out = c
                    .list_service_specific_credentials()
                    .user_name(name)
                    .send()
                    .await
                    .map_err(|e| self.err("ListServiceSpecificCredentials", e))?;
                Ok::<_, Error>(
                    out.service_specific_credentials()
                        .iter()
                        .filter(|k| k.status() == &StatusType::Active)
                        .map(|k| {
                            Credential::ServiceSpecific(
                                k.service_specific_credential_id().to_owned(),
                            )
                        })
                        .collect::<Vec<_>>(),
                )
            },
        );
        let mut listed = Vec::new();
        let mut failures = Vec::new();
        for listing in [keys, ssh, certs, mfa, service] {
            match listing {
                Ok(credentials) => listed.extend(credentials),
                Err(e) => failures.push(e),
            }
        }
        (listed, failures)
    }
}
