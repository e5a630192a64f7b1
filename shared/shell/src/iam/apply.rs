//! Applying the planner's actions to a user, one IAM call each. "Already so" answers count as
//! done, so a redelivered event applies the same plan harmlessly.

use aws_sdk_iam::types::StatusType;
use gatehouse_core::names::DENY_ALL_POLICY;
use gatehouse_core::plan::{Action, Credential};

use super::{tag, AccountIam};
use crate::error::Error;

impl AccountIam {
    /// Applies one planned action to the user `name`. [`Action::CreateUser`] and
    /// [`Action::CreateLoginProfile`] have their own methods (they need more than the plan).
    pub async fn apply(&self, name: &str, action: &Action) -> Result<(), Error> {
        let c = &self.client;
        match action {
            Action::CreateUser { tags } => {
                self.create_user(name, tags).await?;
            }
            Action::CreateLoginProfile => {
                return Err(Error::Request {
                    operation: "CreateLoginProfile",
                    detail: "needs a password: use create_login_profile".into(),
                })
            }
            Action::Tag(tags) => {
                let tags = tags
                    .iter()
                    .map(|(k, v)| tag("TagUser", k, v))
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
            Action::AttachDenyAll => {
                c.attach_user_policy()
                    .user_name(name)
                    .policy_arn(self.policy_arn(DENY_ALL_POLICY))
                    .send()
                    .await
                    .map_err(|e| self.err("AttachUserPolicy", e))?;
            }
            Action::DetachDenyAll => {
                let r = c
                    .detach_user_policy()
                    .user_name(name)
                    .policy_arn(self.policy_arn(DENY_ALL_POLICY))
                    .send()
                    .await;
                self.tolerate("DetachUserPolicy", r, &["NoSuchEntity"])?;
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
    /// If a profile appeared since the user was read (a concurrent delivery), it is set to
    /// `password` too, and the answer says so: the caller then stores the password again, so
    /// that the last password set is also the last one stored.
    pub async fn create_login_profile(&self, name: &str, password: &str) -> Result<Profile, Error> {
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
            return Ok(Profile::Replaced);
        }
        Ok(Profile::Created)
    }
}

/// How a console password was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Created,
    /// A concurrent delivery had created one first; it now has this password.
    Replaced,
}
