//! Reading back what the emulated accounts hold: users, groups, console access, every kind of
//! credential with its status, inline policies with their documents. The integration tests
//! assert on this, and the demo prints it as an access matrix.
//!
//! Only "no such entity" means absent. Any other error (a throttled call, a broken emulator, a
//! wrong account) fails the test loudly: a read that fails must never pass for "absent" or
//! "sealed".

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::StatusType;
use aws_smithy_types::error::display::DisplayErrorContext;

/// One IAM user as the account holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    pub name: String,
    pub path: String,
    pub tags: BTreeMap<String, String>,
    pub groups: BTreeSet<String>,
    pub console: bool,
    /// Inline policy name -> its document, parsed (IAM returns it URL-encoded).
    pub inline_policies: BTreeMap<String, serde_json::Value>,
    /// The names of the managed policies attached to the user.
    pub attached_policies: BTreeSet<String>,
    /// Credential id -> status (`Active` / `Inactive`), per kind.
    pub access_keys: BTreeMap<String, String>,
    pub ssh_keys: BTreeMap<String, String>,
    pub signing_certificates: BTreeMap<String, String>,
    pub service_credentials: BTreeMap<String, String>,
    /// Serial numbers of the MFA devices enabled for the user.
    pub mfa_devices: BTreeSet<String>,
}

fn active(credentials: &BTreeMap<String, String>) -> usize {
    credentials.values().filter(|s| *s == "Active").count()
}

impl UserView {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }

    /// Whether the managed deny-all policy is attached.
    pub fn denied_all(&self) -> bool {
        self.attached_policies.contains("GatehouseDenyAll")
    }

    pub fn active_access_keys(&self) -> usize {
        active(&self.access_keys)
    }

    pub fn active_ssh_keys(&self) -> usize {
        active(&self.ssh_keys)
    }

    pub fn active_signing_certificates(&self) -> usize {
        active(&self.signing_certificates)
    }

    pub fn active_service_credentials(&self) -> usize {
        active(&self.service_credentials)
    }

    /// Every credential of every kind, as `(kind, id, status)`.
    pub fn credentials(&self) -> Vec<(&'static str, &str, &str)> {
        let kinds = [
            ("access key", &self.access_keys),
            ("ssh key", &self.ssh_keys),
            ("signing certificate", &self.signing_certificates),
            ("service credential", &self.service_credentials),
        ];
        kinds
            .into_iter()
            .flat_map(|(kind, m)| m.iter().map(move |(id, s)| (kind, id.as_str(), s.as_str())))
            .collect()
    }
}

fn status(s: &StatusType) -> String {
    s.as_str().to_owned()
}

/// Fails the test with the whole error chain.
fn must<T, E: std::error::Error + 'static>(what: &str, r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {}", DisplayErrorContext(&e)))
}

/// The user `name`, if the account holds one (and only if IAM says it does not: any other
/// failure to read fails the test).
pub async fn user(iam: &aws_sdk_iam::Client, name: &str) -> Option<UserView> {
    let u = match iam.get_user().user_name(name).send().await {
        Ok(out) => out.user.expect("GetUser answers with the user"),
        Err(e) if e.code() == Some("NoSuchEntity") => return None,
        Err(e) => panic!("GetUser {name}: {}", DisplayErrorContext(&e)),
    };
    let groups = must(
        "ListGroupsForUser",
        iam.list_groups_for_user().user_name(name).send().await,
    )
    .groups
    .into_iter()
    .map(|g| g.group_name)
    .collect();
    let console = match iam.get_login_profile().user_name(name).send().await {
        Ok(_) => true,
        Err(e) if e.code() == Some("NoSuchEntity") => false,
        Err(e) => panic!("GetLoginProfile {name}: {}", DisplayErrorContext(&e)),
    };
    let mut inline_policies = BTreeMap::new();
    let names = must(
        "ListUserPolicies",
        iam.list_user_policies().user_name(name).send().await,
    )
    .policy_names;
    for policy in names {
        let got = must(
            "GetUserPolicy",
            iam.get_user_policy()
                .user_name(name)
                .policy_name(&policy)
                .send()
                .await,
        );
        inline_policies.insert(policy, decode_policy(got.policy_document()));
    }
    let attached_policies = must(
        "ListAttachedUserPolicies",
        iam.list_attached_user_policies()
            .user_name(name)
            .send()
            .await,
    )
    .attached_policies()
    .iter()
    .filter_map(|p| p.policy_name().map(str::to_owned))
    .collect();
    let keys = must(
        "ListAccessKeys",
        iam.list_access_keys().user_name(name).send().await,
    );
    let ssh = must(
        "ListSSHPublicKeys",
        iam.list_ssh_public_keys().user_name(name).send().await,
    );
    let certs = must(
        "ListSigningCertificates",
        iam.list_signing_certificates().user_name(name).send().await,
    );
    let service = must(
        "ListServiceSpecificCredentials",
        iam.list_service_specific_credentials()
            .user_name(name)
            .send()
            .await,
    );
    let mfa = must(
        "ListMFADevices",
        iam.list_mfa_devices().user_name(name).send().await,
    );
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
        attached_policies,
        access_keys: keys
            .access_key_metadata()
            .iter()
            .map(|k| {
                (
                    k.access_key_id().unwrap_or_default().to_owned(),
                    k.status().map(status).unwrap_or_default(),
                )
            })
            .collect(),
        ssh_keys: ssh
            .ssh_public_keys()
            .iter()
            .map(|k| (k.ssh_public_key_id().to_owned(), status(k.status())))
            .collect(),
        signing_certificates: certs
            .certificates()
            .iter()
            .map(|k| (k.certificate_id().to_owned(), status(k.status())))
            .collect(),
        service_credentials: service
            .service_specific_credentials()
            .iter()
            .map(|k| {
                (
                    k.service_specific_credential_id().to_owned(),
                    status(k.status()),
                )
            })
            .collect(),
        mfa_devices: mfa
            .mfa_devices()
            .iter()
            .map(|d| d.serial_number().to_owned())
            .collect(),
    })
}

/// A policy document as IAM returns it (URL-encoded JSON), parsed.
pub fn decode_policy(document: &str) -> serde_json::Value {
    let text = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("policy document {text}: {e}"))
}

/// The default version's document of the managed policy `arn`, parsed.
pub async fn managed_policy_document(iam: &aws_sdk_iam::Client, arn: &str) -> serde_json::Value {
    let policy = must("GetPolicy", iam.get_policy().policy_arn(arn).send().await);
    let version = policy
        .policy()
        .and_then(|p| p.default_version_id())
        .expect("a default version")
        .to_owned();
    let got = must(
        "GetPolicyVersion",
        iam.get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await,
    );
    decode_policy(
        got.policy_version()
            .and_then(|v| v.document())
            .expect("a document"),
    )
}

/// Every user of the account whose path starts with `prefix`.
pub async fn users(iam: &aws_sdk_iam::Client, prefix: &str) -> Vec<UserView> {
    let listed = must(
        "ListUsers",
        iam.list_users().path_prefix(prefix).send().await,
    );
    let mut out = Vec::new();
    for u in listed.users() {
        let view = user(iam, u.user_name())
            .await
            .unwrap_or_else(|| panic!("{} was listed but is gone", u.user_name()));
        out.push(view);
    }
    out
}
