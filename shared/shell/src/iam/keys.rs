//! A service account's access keys, for the rotation in [`crate::service_keys`]: read as the
//! core's [`Key`]s, created, deactivated, deleted, and the intent mark that says a key is
//! about to be created. Only ever on users under `/gatehouse/service/`.

use std::collections::BTreeMap;

use aws_sdk_iam::types::StatusType;
use gatehouse_core::ids::{EventId, Timestamp};
use gatehouse_core::names::{
    SERVICE_PATH, STATUS_DISABLED, TAG_DISABLED_BY, TAG_KEY_INTENT, TAG_STATUS,
};
use gatehouse_core::plan::Action;
use gatehouse_core::service_keys::Key;

use super::{tag, AccountIam};
use crate::error::Error;

/// A key just created: its id, and its secret (never logged: the caller stores it and drops
/// it).
pub struct NewKey {
    pub id: String,
    pub secret: String,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("id", &self.id)
            .field("secret", &"** redacted **")
            .finish()
    }
}

impl AccountIam {
    /// The service account user's keys and its intent mark; `None`: no such user under
    /// `/gatehouse/service/`.
    pub async fn service_keys(
        &self,
        user: &str,
    ) -> Result<Option<(Vec<Key>, Option<Timestamp>)>, Error> {
        let got = self.client.get_user().user_name(user).send().await;
        let Some(found) = self
            .tolerate("GetUser", got, &["NoSuchEntity"])?
            .and_then(|o| o.user)
        else {
            return Ok(None);
        };
        if found.path() != SERVICE_PATH {
            return Ok(None);
        }
        let intent = found
            .tags()
            .iter()
            .find(|t| t.key() == TAG_KEY_INTENT)
            .and_then(|t| Timestamp::parse_rfc3339(TAG_KEY_INTENT, t.value()).ok());
        let listed = self
            .client
            .list_access_keys()
            .user_name(user)
            .send()
            .await
            .map_err(|e| self.err("ListAccessKeys", e))?;
        let keys = listed
            .access_key_metadata()
            .iter()
            .filter_map(|k| {
                Some(Key {
                    id: k.access_key_id()?.to_owned(),
                    active: k.status() == Some(&StatusType::Active),
                    created: Timestamp::from_unix_nanos(k.create_date()?.as_nanos())?,
                })
            })
            .collect();
        Ok(Some((keys, intent)))
    }

    /// Marks the user as about to get a key (at `now`), or clears the mark.
    pub async fn mark_key_intent(&self, user: &str, now: Option<Timestamp>) -> Result<(), Error> {
        match now {
            Some(at) => self
                .client
                .tag_user()
                .user_name(user)
                .tags(tag("TagUser", TAG_KEY_INTENT, &at.rfc3339())?)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.err("TagUser", e)),
            None => self
                .client
                .untag_user()
                .user_name(user)
                .tag_keys(TAG_KEY_INTENT)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.err("UntagUser", e)),
        }
    }

    pub async fn create_key(&self, user: &str) -> Result<NewKey, Error> {
        let out = self
            .client
            .create_access_key()
            .user_name(user)
            .send()
            .await
            .map_err(|e| self.err("CreateAccessKey", e))?;
        let key = out.access_key.ok_or(Error::IncompleteAnswer {
            operation: "CreateAccessKey",
            missing: "AccessKey",
        })?;
        Ok(NewKey {
            id: key.access_key_id,
            secret: key.secret_access_key,
        })
    }

    pub async fn set_key_active(&self, user: &str, key: &str, active: bool) -> Result<(), Error> {
        let status = if active {
            StatusType::Active
        } else {
            StatusType::Inactive
        };
        self.client
            .update_access_key()
            .user_name(user)
            .access_key_id(key)
            .status(status)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.err("UpdateAccessKey", e))
    }

    /// Deletes a key; one already gone counts as deleted.
    pub async fn delete_key(&self, user: &str, key: &str) -> Result<(), Error> {
        let out = self
            .client
            .delete_access_key()
            .user_name(user)
            .access_key_id(key)
            .send()
            .await;
        self.tolerate("DeleteAccessKey", out, &["NoSuchEntity"])
            .map(|_| ())
    }
}

impl AccountIam {
    /// The names of the users under `path`.
    pub async fn users_under(&self, path: &str) -> Result<Vec<String>, Error> {
        let users: Vec<_> = self
            .client
            .list_users()
            .path_prefix(path)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.err("ListUsers", e))?;
        Ok(users.into_iter().map(|u| u.user_name).collect())
    }

    /// Retires a service account's user as a leaver is sealed: deny-all first, then every
    /// active key deactivated and every Gatehouse group left, then the disabled tag. Never
    /// deleted. `true`: something was closed.
    pub async fn retire_service_user(&self, user: &str, event: &EventId) -> Result<bool, Error> {
        let mut closed = false;
        if !self.has_deny_all(user).await? {
            self.apply(user, &Action::AttachDenyAll).await?;
            closed = true;
        }
        let keys = self
            .service_keys(user)
            .await?
            .map(|(keys, _)| keys)
            .unwrap_or_default();
        for key in keys.iter().filter(|k| k.active) {
            self.set_key_active(user, &key.id, false).await?;
            closed = true;
        }
        for group in self.managed_groups(user).await? {
            self.apply(user, &Action::RemoveFromGroup(group)).await?;
            closed = true;
        }
        if closed {
            let tags = BTreeMap::from([
                (TAG_STATUS.to_owned(), STATUS_DISABLED.to_owned()),
                (TAG_DISABLED_BY.to_owned(), event.to_string()),
            ]);
            self.apply(user, &Action::Tag(tags)).await?;
        }
        Ok(closed)
    }
}
