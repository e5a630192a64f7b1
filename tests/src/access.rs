//! Reading back what the emulated accounts hold: users, groups, console access, credentials.
//! The integration tests assert on this, and the demo prints it as an access matrix.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::types::StatusType;

/// One IAM user as the account holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    pub name: String,
    pub path: String,
    pub tags: BTreeMap<String, String>,
    pub groups: BTreeSet<String>,
    pub console: bool,
    pub inline_policies: BTreeSet<String>,
    pub active_access_keys: usize,
    pub active_ssh_keys: usize,
    pub active_signing_certificates: usize,
    pub mfa_devices: usize,
}

impl UserView {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }
}

/// The user `name`, if the account holds one.
pub async fn user(iam: &aws_sdk_iam::Client, name: &str) -> Option<UserView> {
    let u = iam.get_user().user_name(name).send().await.ok()?.user?;
    let groups = iam
        .list_groups_for_user()
        .user_name(name)
        .send()
        .await
        .expect("list groups")
        .groups
        .into_iter()
        .map(|g| g.group_name)
        .collect();
    let console = iam.get_login_profile().user_name(name).send().await.is_ok();
    let inline_policies = iam
        .list_user_policies()
        .user_name(name)
        .send()
        .await
        .expect("list user policies")
        .policy_names
        .into_iter()
        .collect();
    let keys = iam
        .list_access_keys()
        .user_name(name)
        .send()
        .await
        .expect("list keys");
    let ssh = iam
        .list_ssh_public_keys()
        .user_name(name)
        .send()
        .await
        .expect("list ssh keys");
    let certs = iam
        .list_signing_certificates()
        .user_name(name)
        .send()
        .await
        .expect("list certs");
    let mfa = iam
        .list_mfa_devices()
        .user_name(name)
        .send()
        .await
        .expect("list mfa");
    Some(UserView {
        name: u.user_name.clone(),
        path: u.path.clone(),
        tags: u
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect(),
        groups,
        console,
        inline_policies,
        active_access_keys: keys
            .access_key_metadata()
            .iter()
            .filter(|k| k.status() == Some(&StatusType::Active))
            .count(),
        active_ssh_keys: ssh
            .ssh_public_keys()
            .iter()
            .filter(|k| k.status() == &StatusType::Active)
            .count(),
        active_signing_certificates: certs
            .certificates()
            .iter()
            .filter(|k| k.status() == &StatusType::Active)
            .count(),
        mfa_devices: mfa.mfa_devices().len(),
    })
}

/// Every user of the account whose path starts with `prefix`.
pub async fn users(iam: &aws_sdk_iam::Client, prefix: &str) -> Vec<UserView> {
    let listed = iam
        .list_users()
        .path_prefix(prefix)
        .send()
        .await
        .expect("list users");
    let mut out = Vec::new();
    for u in listed.users() {
        if let Some(v) = user(iam, u.user_name()).await {
            out.push(v);
        }
    }
    out
}
