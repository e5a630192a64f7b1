//! Steps and checks the integration tests share: people placed in accounts, credentials added
//! by hand, and what "sealed" means, checked whole.

use std::collections::{BTreeMap, BTreeSet};

use gatehouse::core::documents::DENY_ALL;
use gatehouse::core::names::PEOPLE_PATH;
use gatehouse::invocation::handle;
use serde_json::Value;

use crate::access::{self, UserView};
use crate::fixtures::onboarding;
use crate::proxy::Call;
use crate::world::{World, ENVIRONMENTS};

pub const ADA: &str = "ada@example.com";

/// Three development accounts (the world's and two more), with Ada (E1, engineering) onboarded
/// in all three. Returns the three account ids.
pub async fn ada_in_three_accounts(world: &World) -> Vec<String> {
    let mut accounts = vec![world.account("development").to_owned()];
    for name in ["development-2", "development-3"] {
        accounts.push(world.create_account(name, Some("development")).await);
    }
    let report = handle(
        &world.deps("people-events"),
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    for a in &accounts {
        assert_eq!(report["accounts"][a], "granted", "{report}");
    }
    accounts
}

/// Gives `name` in `account` every kind of credential, by hand, plus a group of its own
/// outside `/gatehouse/`.
pub async fn add_credentials_by_hand(world: &World, account: &str, name: &str) {
    let iam = world.iam(account).await;
    for _ in 0..2 {
        iam.create_access_key()
            .user_name(name)
            .send()
            .await
            .unwrap();
    }
    iam.upload_ssh_public_key()
        .user_name(name)
        .ssh_public_key_body("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 ada@laptop")
        .send()
        .await
        .unwrap();
    iam.upload_signing_certificate()
        .user_name(name)
        .certificate_body(TEST_CERTIFICATE)
        .send()
        .await
        .unwrap();
    iam.create_service_specific_credential()
        .user_name(name)
        .service_name("codecommit.amazonaws.com")
        .send()
        .await
        .unwrap();
    let device = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name(format!("{}-mfa", name.replace('@', "-")))
        .send()
        .await
        .unwrap();
    iam.enable_mfa_device()
        .user_name(name)
        .serial_number(device.virtual_mfa_device().unwrap().serial_number())
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .unwrap();
    iam.create_group().group_name("hand-made").send().await.ok();
    iam.add_user_to_group()
        .group_name("hand-made")
        .user_name(name)
        .send()
        .await
        .unwrap();
}

/// The user `name` in `account`.
pub async fn user_in(world: &World, account: &str, name: &str) -> Option<UserView> {
    access::user(&world.iam(account).await, name).await
}

/// Asserts that `after` is `before` sealed by the event `by`: kept at its path (never deleted),
/// no console, every credential of every kind still there and inactive, no MFA device, out of
/// every managed group (groups outside `/gatehouse/` are not Gatehouse's to change), the
/// deny-all policy attached, and tagged disabled by `by`. (That the deny-all policy holds
/// exactly the shipped document is [`assert_deny_all_as_shipped`].)
pub fn assert_sealed(before: &UserView, after: &UserView, by: &str) {
    assert_eq!(after.name, before.name);
    assert_eq!(after.path, PEOPLE_PATH, "kept, not deleted");
    assert!(!after.console, "login profile removed");
    for (kind, was, now) in [
        ("access keys", &before.access_keys, &after.access_keys),
        ("SSH keys", &before.ssh_keys, &after.ssh_keys),
        (
            "signing certificates",
            &before.signing_certificates,
            &after.signing_certificates,
        ),
        (
            "service credentials",
            &before.service_credentials,
            &after.service_credentials,
        ),
    ] {
        assert_eq!(
            now.keys().collect::<Vec<_>>(),
            was.keys().collect::<Vec<_>>(),
            "{kind}: every one kept"
        );
        assert!(
            now.values().all(|s| s == "Inactive"),
            "{kind}: every one inactive: {now:?}"
        );
    }
    assert!(after.mfa_devices.is_empty(), "MFA devices deactivated");
    let unmanaged: BTreeSet<String> = before
        .groups
        .iter()
        .filter(|g| *g == "hand-made")
        .cloned()
        .collect();
    assert_eq!(after.groups, unmanaged, "out of every managed group");
    assert!(after.denied_all(), "the deny-all policy attached");
    assert_eq!(
        after.inline_policies, before.inline_policies,
        "no inline policy put"
    );
    assert_eq!(after.tag("gatehouse:status"), Some("disabled"));
    assert_eq!(after.tag("gatehouse:disabled-by"), Some(by));
    assert!(after.tag("gatehouse:disabled-at").is_some());
    assert_eq!(
        after.tag("gatehouse:employee-id"),
        before.tag("gatehouse:employee-id")
    );
}

/// Asserts that the account's `GatehouseDenyAll` holds exactly the shipped document.
pub async fn assert_deny_all_as_shipped(world: &World, account: &str) {
    let shipped: Value = serde_json::from_str(DENY_ALL).unwrap();
    let arn = format!("arn:aws:iam::{account}:policy/gatehouse/GatehouseDenyAll");
    let held = access::managed_policy_document(&world.iam(account).await, &arn).await;
    assert_eq!(
        held, shipped,
        "the deny-all policy in {account}, exactly as shipped"
    );
}

/// The IAM calls among `calls` that change something (anything but Get and List).
pub fn iam_writes(calls: &[Call]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c.service == "iam")
        .filter(|c| !c.operation.starts_with("Get") && !c.operation.starts_with("List"))
        .map(|c| c.operation.clone())
        .collect()
}

/// The outcomes of one detail-type, in the order they were collected.
pub fn outcomes_of<'a>(outcomes: &'a [Value], detail_type: &str) -> Vec<&'a Value> {
    outcomes
        .iter()
        .filter(|o| o["detail-type"] == detail_type)
        .collect()
}

/// The account of every `Access Revoked` outcome, sorted, duplicates kept (a duplicate outcome
/// must show).
pub fn revoked_accounts(outcomes: &[Value]) -> Vec<String> {
    let mut accounts: Vec<String> = outcomes_of(outcomes, "Access Revoked")
        .iter()
        .map(|o| o["detail"]["accountId"].as_str().unwrap().to_owned())
        .collect();
    accounts.sort();
    accounts
}

/// Where `name` holds a user: environment (or "management") -> the user.
pub async fn placements(world: &World, name: &str) -> BTreeMap<String, UserView> {
    let mut out = BTreeMap::new();
    for env in ENVIRONMENTS {
        if let Some(u) = access::user(&world.iam(world.account(env)).await, name).await {
            out.insert(env.to_owned(), u);
        }
    }
    let management = aws_sdk_iam::Client::new(&world.direct);
    if let Some(u) = access::user(&management, name).await {
        out.insert("management".to_owned(), u);
    }
    out
}

/// The environments where `name` can sign in (an active user with console access).
pub async fn open_in(world: &World, name: &str) -> BTreeSet<String> {
    let mut open = BTreeSet::new();
    for env in ENVIRONMENTS {
        if let Some(u) = user_in(world, world.account(env), name).await {
            if u.tag("gatehouse:status") == Some("active") && u.console {
                open.insert(env.to_owned());
            }
        }
    }
    open
}

/// A self-signed certificate for `UploadSigningCertificate` (the emulator parses it).
pub const TEST_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----
MIIBNTCB3aADAgECAgEBMAoGCCqGSM49BAMCMCUxIzAhBgNVBAMMGmdhdGVob3Vz
ZS10ZXN0LmV4YW1wbGUuY29tMB4XDTI2MDEwMTAwMDAwMFoXDTM2MDEwMTAwMDAw
MFowJTEjMCEGA1UEAwwaZ2F0ZWhvdXNlLXRlc3QuZXhhbXBsZS5jb20wWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAARSzwhHvgfAQwFi+5d1xDEKT0xwDYk5LLR+0Gcz
kWU4WHL4yB+wjSTSeE+KDPNy9j1S1DA0kTMjFVzmg4c6jCPfMAoGCCqGSM49BAMC
A0cAMEQCIFQjQJt/BQc89ievZZb6djG6B0YtpXdzOxsCN7XDjddIAiA9NWgqaARq
do+o8dmHFVEeE11UeXH7IdiBEBUNy3Y5lg==
-----END CERTIFICATE-----";
