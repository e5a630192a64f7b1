//! IAM inside one member account, in the planner's terms: read a user as a [`Found`], apply an
//! [`Action`], lay the baseline. Every write stays under `/gatehouse/`, and every write is
//! idempotent: "already done" answers from IAM count as success.

use std::collections::BTreeSet;

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::{StatusType, Tag};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use crate::error::{aws, Error};
use crate::event::AccountId;
use crate::plan::{
    Action, Credential, Found, UserState, DENY_ALL_POLICY, MANAGED_PATH, PEOPLE_PATH, SERVICE_PATH,
    STATUS_ACTIVE, TAG_STATUS,
};
use crate::policy::Policy;

/// Marks the roles Gatehouse made, so that a role of the same name made by anyone else is
/// never taken over.
pub const TAG_ROLE: &str = "gatehouse:role";
const ROLE_PROVISIONER: &str = "provisioner";

/// The permissions boundary every managed user carries.
pub const BOUNDARY_POLICY: &str = "GatehouseUserBoundary";
/// The MFA-enforcing policy attached to every group granted to people.
pub const MFA_POLICY: &str = "GatehouseEnforceMfa";

pub const BOUNDARY_DOCUMENT: &str = include_str!("../policies/user-boundary.json");
pub const MFA_DOCUMENT: &str = include_str!("../policies/enforce-mfa.json");
pub const DENY_ALL_DOCUMENT: &str = include_str!("../policies/deny-all.json");

/// The password policy laid in every account: long, mixed, rotated, not reused.
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

pub const PROVISIONER_DOCUMENT: &str = include_str!("../policies/provisioner-permissions.json");

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

/// How much of a user to read: enough to grant, or everything needed to revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    Grant,
    Revoke,
}

/// IAM in one account, through an assumed role.
pub struct AccountIam {
    client: aws_sdk_iam::Client,
    account: AccountId,
}

impl AccountIam {
    pub fn new(client: aws_sdk_iam::Client, account: AccountId) -> Self {
        AccountIam { client, account }
    }

    pub fn account(&self) -> &AccountId {
        &self.account
    }

    fn policy_arn(&self, name: &str) -> String {
        format!("arn:aws:iam::{}:policy{MANAGED_PATH}{name}", self.account)
    }

    fn err<E>(&self, op: &'static str, e: SdkError<E, HttpResponse>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        aws("iam", op, Some(self.account.as_str()), e)
    }

    /// Maps an "already so" error code to success.
    fn tolerate<T, E>(
        &self,
        op: &'static str,
        result: Result<T, SdkError<E, HttpResponse>>,
        codes: &[&str],
    ) -> Result<Option<T>, Error>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code().is_some_and(|c| codes.contains(&c)) => Ok(None),
            Err(e) => Err(self.err(op, e)),
        }
    }

    /// Lays what managed users rely on, idempotently: the boundary and MFA policies, and the
    /// groups of `environment` with their policies. A group name already taken outside
    /// `/gatehouse/` is a fault for a person to resolve; Gatehouse does not adopt it.
    /// Returns what it had to create, for the `Account Baselined` outcome.
    pub async fn ensure_baseline(
        &self,
        policy: &Policy,
        environment: &str,
    ) -> Result<Vec<String>, Error> {
        let mut made = Vec::new();
        for (name, document) in [
            (BOUNDARY_POLICY, BOUNDARY_DOCUMENT),
            (MFA_POLICY, MFA_DOCUMENT),
        ] {
            let created = self
                .client
                .create_policy()
                .policy_name(name)
                .path(MANAGED_PATH)
                .policy_document(document)
                .description("Managed by Gatehouse")
                .send()
                .await;
            if self
                .tolerate("CreatePolicy", created, &["EntityAlreadyExists"])?
                .is_some()
            {
                made.push(format!("policy {name}"));
            }
        }
        for group in policy.groups_in(environment) {
            let mut wanted: BTreeSet<String> = policy
                .groups
                .get(&group)
                .map(|g| g.managed_policies.iter().cloned().collect())
                .unwrap_or_default();
            if policy.is_people_group(&group) {
                wanted.insert(self.policy_arn(MFA_POLICY));
            }
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

    /// Sets the account's password policy to [`PASSWORD_POLICY`] unless it already is.
    /// `true`: it was changed.
    pub async fn ensure_password_policy(&self) -> Result<bool, Error> {
        let got = self.client.get_account_password_policy().send().await;
        let current = self.tolerate("GetAccountPasswordPolicy", got, &["NoSuchEntity"])?;
        let p = PASSWORD_POLICY;
        if let Some(c) = current.and_then(|o| o.password_policy) {
            let same = c.minimum_password_length == Some(p.minimum_length)
                && c.require_symbols
                && c.require_numbers
                && c.require_uppercase_characters
                && c.require_lowercase_characters
                && c.allow_users_to_change_password
                && c.max_password_age == Some(p.max_age_days)
                && c.password_reuse_prevention == Some(p.reuse_prevention)
                && c.hard_expiry != Some(true);
            if same {
                return Ok(false);
            }
        }
        self.client
            .update_account_password_policy()
            .minimum_password_length(p.minimum_length)
            .require_symbols(true)
            .require_numbers(true)
            .require_uppercase_characters(true)
            .require_lowercase_characters(true)
            .allow_users_to_change_password(true)
            .max_password_age(p.max_age_days)
            .password_reuse_prevention(p.reuse_prevention)
            .hard_expiry(false)
            .send()
            .await
            .map_err(|e| self.err("UpdateAccountPasswordPolicy", e))?;
        Ok(true)
    }

    /// Creates the role the other functions assume, or brings an existing one's trust and
    /// permissions back to what they must be. `true`: it was created. A role of that name that
    /// Gatehouse did not make (it lacks the [`TAG_ROLE`] tag) is a fault for a person to
    /// resolve: it is never rewritten.
    pub async fn ensure_provisioner_role(
        &self,
        name: &str,
        trusted: &[String],
    ) -> Result<bool, Error> {
        let trust = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "OnlyGatehouseFunctions",
                "Effect": "Allow",
                "Principal": { "AWS": trusted },
                "Action": "sts:AssumeRole"
            }]
        })
        .to_string();
        let created = self
            .client
            .create_role()
            .role_name(name)
            .assume_role_policy_document(&trust)
            .description("Gatehouse: manages IAM users, groups and policies under /gatehouse/")
            .max_session_duration(3600)
            .tags(tag(TAG_ROLE, ROLE_PROVISIONER)?)
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
            let ours = existing.role().is_some_and(|r| {
                r.tags()
                    .iter()
                    .any(|t| t.key() == TAG_ROLE && t.value() == ROLE_PROVISIONER)
            });
            if !ours {
                return Err(Error::Partial {
                    operation: "CreateRole",
                    detail: format!(
                        "a role named {name} exists in account {} that Gatehouse did not make \
                         (no {TAG_ROLE} tag); it is not taken over",
                        self.account
                    ),
                    transient: false,
                });
            }
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
            .policy_name("GatehouseProvisioner")
            .policy_document(PROVISIONER_DOCUMENT)
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
        let user = format!("svc-{name}");
        let created = self
            .client
            .create_user()
            .user_name(&user)
            .path(SERVICE_PATH)
            .permissions_boundary(self.policy_arn(BOUNDARY_POLICY))
            .tags(tag("gatehouse:service-account", name)?)
            .tags(tag(TAG_STATUS, STATUS_ACTIVE)?)
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
            return Err(Error::Partial {
                operation: "CreateGroup",
                detail: format!(
                    "group name {group} is taken in account {} by a group outside {MANAGED_PATH}",
                    self.account
                ),
                transient: false,
            });
        }
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

    /// Creates a person's user with its tags and boundary. `false`: the name is taken (by whom
    /// is for [`read_user`](Self::read_user) to find out).
    pub async fn create_user(
        &self,
        name: &str,
        tags: &std::collections::BTreeMap<String, String>,
    ) -> Result<bool, Error> {
        let mut req = self
            .client
            .create_user()
            .user_name(name)
            .path(PEOPLE_PATH)
            .permissions_boundary(self.policy_arn(BOUNDARY_POLICY));
        for (k, v) in tags {
            req = req.tags(tag(k, v)?);
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
        let (managed_groups, login_profile, deny_all, credentials) = futures::try_join!(
            self.managed_groups(name),
            self.has_login_profile(name),
            self.has_deny_all(name),
            async {
                match depth {
                    Depth::Grant => Ok(Vec::new()),
                    Depth::Revoke => self.active_credentials(name).await,
                }
            }
        )?;
        Ok(Found::Managed(UserState {
            tags,
            managed_groups,
            login_profile,
            deny_all,
            credentials,
        }))
    }

    async fn managed_groups(&self, name: &str) -> Result<BTreeSet<String>, Error> {
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

    async fn has_login_profile(&self, name: &str) -> Result<bool, Error> {
        let got = self.client.get_login_profile().user_name(name).send().await;
        Ok(self
            .tolerate("GetLoginProfile", got, &["NoSuchEntity"])?
            .is_some())
    }

    async fn has_deny_all(&self, name: &str) -> Result<bool, Error> {
        let got = self
            .client
            .get_user_policy()
            .user_name(name)
            .policy_name(DENY_ALL_POLICY)
            .send()
            .await;
        Ok(self
            .tolerate("GetUserPolicy", got, &["NoSuchEntity"])?
            .is_some())
    }

    async fn active_credentials(&self, name: &str) -> Result<Vec<Credential>, Error> {
        let c = &self.client;
        let (keys, ssh, certs, mfa, service) = futures::try_join!(
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
                Ok(keys
                    .into_iter()
                    .filter(|k| k.status() == &StatusType::Active)
                    .map(|k| Credential::SshPublicKey(k.ssh_public_key_id))
                    .collect::<Vec<_>>())
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
                Ok(certs
                    .into_iter()
                    .filter(|k| k.status() == &StatusType::Active)
                    .map(|k| Credential::SigningCertificate(k.certificate_id))
                    .collect::<Vec<_>>())
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
                Ok(devices
                    .into_iter()
                    .map(|d| Credential::MfaDevice(d.serial_number))
                    .collect::<Vec<_>>())
            },
            async {
                let out = c
                    .list_service_specific_credentials()
                    .user_name(name)
                    .send()
                    .await
                    .map_err(|e| self.err("ListServiceSpecificCredentials", e))?;
                Ok(out
                    .service_specific_credentials()
                    .iter()
                    .filter(|k| k.status() == &StatusType::Active)
                    .map(|k| {
                        Credential::ServiceSpecific(k.service_specific_credential_id().to_owned())
                    })
                    .collect::<Vec<_>>())
            },
        )?;
        Ok([keys, ssh, certs, mfa, service].concat())
    }

    /// Applies one planned action to the user `name`. [`Action::CreateUser`] and
    /// [`Action::CreateLoginProfile`] have their own methods (they need more than the plan).
    pub async fn apply(&self, name: &str, action: &Action) -> Result<(), Error> {
        let c = &self.client;
        match action {
            Action::CreateUser { tags } => {
                self.create_user(name, tags).await?;
            }
            Action::CreateLoginProfile => {
                return Err(Error::Partial {
                    operation: "CreateLoginProfile",
                    detail: "needs a password: use create_login_profile".into(),
                    transient: false,
                })
            }
            Action::Tag(tags) => {
                let tags = tags
                    .iter()
                    .map(|(k, v)| tag(k, v))
                    .collect::<Result<Vec<_>, _>>()?;
                c.tag_user()
                    .user_name(name)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .map_err(|e| self.err("TagUser", e))?;
            }
            Action::Untag(keys) => {
                c.untag_user()
                    .user_name(name)
                    .set_tag_keys(Some(keys.clone()))
                    .send()
                    .await
                    .map_err(|e| self.err("UntagUser", e))?;
            }
            Action::AddToGroup(g) => {
                c.add_user_to_group()
                    .user_name(name)
                    .group_name(g)
                    .send()
                    .await
                    .map_err(|e| self.err("AddUserToGroup", e))?;
            }
            Action::RemoveFromGroup(g) => {
                let r = c
                    .remove_user_from_group()
                    .user_name(name)
                    .group_name(g)
                    .send()
                    .await;
                self.tolerate("RemoveUserFromGroup", r, &["NoSuchEntity"])?;
            }
            Action::DeleteLoginProfile => {
                let r = c.delete_login_profile().user_name(name).send().await;
                self.tolerate("DeleteLoginProfile", r, &["NoSuchEntity"])?;
            }
            Action::PutDenyAll => {
                c.put_user_policy()
                    .user_name(name)
                    .policy_name(DENY_ALL_POLICY)
                    .policy_document(DENY_ALL_DOCUMENT)
                    .send()
                    .await
                    .map_err(|e| self.err("PutUserPolicy", e))?;
            }
            Action::DeleteDenyAll => {
                let r = c
                    .delete_user_policy()
                    .user_name(name)
                    .policy_name(DENY_ALL_POLICY)
                    .send()
                    .await;
                self.tolerate("DeleteUserPolicy", r, &["NoSuchEntity"])?;
            }
            Action::Deactivate(credential) => self.deactivate(name, credential).await?,
        }
        Ok(())
    }

    async fn deactivate(&self, name: &str, credential: &Credential) -> Result<(), Error> {
        let c = &self.client;
        match credential {
            Credential::AccessKey(id) => c
                .update_access_key()
                .user_name(name)
                .access_key_id(id)
                .status(StatusType::Inactive)
                .send()
                .await
                .map(drop)
                .map_err(|e| self.err("UpdateAccessKey", e)),
            Credential::SshPublicKey(id) => c
                .update_ssh_public_key()
                .user_name(name)
                .ssh_public_key_id(id)
                .status(StatusType::Inactive)
                .send()
                .await
                .map(drop)
                .map_err(|e| self.err("UpdateSSHPublicKey", e)),
            Credential::ServiceSpecific(id) => c
                .update_service_specific_credential()
                .user_name(name)
                .service_specific_credential_id(id)
                .status(StatusType::Inactive)
                .send()
                .await
                .map(drop)
                .map_err(|e| self.err("UpdateServiceSpecificCredential", e)),
            Credential::SigningCertificate(id) => c
                .update_signing_certificate()
                .user_name(name)
                .certificate_id(id)
                .status(StatusType::Inactive)
                .send()
                .await
                .map(drop)
                .map_err(|e| self.err("UpdateSigningCertificate", e)),
            Credential::MfaDevice(serial) => {
                let r = c
                    .deactivate_mfa_device()
                    .user_name(name)
                    .serial_number(serial)
                    .send()
                    .await;
                self.tolerate("DeactivateMFADevice", r, &["NoSuchEntity"])
                    .map(drop)
            }
        }
    }

    /// Gives the user console access with `password`, which must be changed at first sign-in.
    /// If a profile appeared since the user was read (a concurrent delivery), it is set to the
    /// same password, so that the stored secret is always the password that works.
    pub async fn create_login_profile(&self, name: &str, password: &str) -> Result<(), Error> {
        let created = self
            .client
            .create_login_profile()
            .user_name(name)
            .password(password)
            .password_reset_required(true)
            .send()
            .await;
        if self
            .tolerate("CreateLoginProfile", created, &["EntityAlreadyExists"])?
            .is_none()
        {
            self.client
                .update_login_profile()
                .user_name(name)
                .password(password)
                .password_reset_required(true)
                .send()
                .await
                .map_err(|e| self.err("UpdateLoginProfile", e))?;
        }
        Ok(())
    }
}

fn tag(k: &str, v: &str) -> Result<Tag, Error> {
    Tag::builder()
        .key(k)
        .value(v)
        .build()
        .map_err(|e| Error::Partial {
            operation: "TagUser",
            detail: format!("tag {k} could not be built: {e}"),
            transient: false,
        })
}
