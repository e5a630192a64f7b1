//! Offboarding, transfers, rehires and sync items against the emulator: a leaver loses every
//! way into every account, completely and in order; a mover moves; nothing is ever deleted.

use std::collections::BTreeSet;

use gatehouse::invocation::handle;
use gatehouse::FailureKind;
use gatehouse_tests::access::{self, UserView};
use gatehouse_tests::fixtures::{offboarding, onboarding, sync, transfer, with_new_id};
use gatehouse_tests::proxy::deny_assume_role;
use gatehouse_tests::world::World;
use serde_json::Value;

const ADA: &str = "ada@example.com";

/// A world whose development environment has three accounts, with Ada (engineering) onboarded
/// in all three. Returns the three account ids.
async fn ada_in_three_accounts(world: &World) -> Vec<String> {
    let mut accounts = vec![world.account("development").to_owned()];
    accounts.push(
        world
            .create_account("development-2", Some("development"))
            .await,
    );
    accounts.push(
        world
            .create_account("development-3", Some("development"))
            .await,
    );
    let deps = world.deps("people-events");
    let report = handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    for a in &accounts {
        assert_eq!(report["accounts"][a], "granted", "{report}");
    }
    accounts
}

/// Gives `name` in `account` every kind of credential, by hand, plus a group of its own.
async fn add_credentials_by_hand(world: &World, account: &str, name: &str) {
    let iam = world.iam(account).await;
    iam.create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    iam.create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
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

async fn active_service_credentials(world: &World, account: &str, name: &str) -> usize {
    world
        .iam(account)
        .await
        .list_service_specific_credentials()
        .user_name(name)
        .send()
        .await
        .unwrap()
        .service_specific_credentials()
        .iter()
        .filter(|c| c.status().as_str() == "Active")
        .count()
}

async fn user_in(world: &World, account: &str, name: &str) -> Option<UserView> {
    access::user(&world.iam(account).await, name).await
}

fn assert_sealed(user: &UserView, by: &str) {
    assert_eq!(user.path, "/gatehouse/people/", "kept, not deleted");
    assert!(!user.console, "login profile removed");
    assert_eq!(user.active_access_keys, 0, "access keys inactive");
    assert_eq!(user.active_ssh_keys, 0, "SSH keys inactive");
    assert_eq!(
        user.active_signing_certificates, 0,
        "signing certificates inactive"
    );
    assert_eq!(user.mfa_devices, 0, "MFA devices deactivated");
    assert!(
        user.groups.iter().all(|g| g == "hand-made"),
        "no managed group: {:?}",
        user.groups
    );
    assert!(
        user.inline_policies.contains("GatehouseDenyAll"),
        "deny-all attached"
    );
    assert_eq!(user.tag("gatehouse:status"), Some("disabled"));
    assert_eq!(user.tag("gatehouse:disabled-by"), Some(by));
    assert!(user.tag("gatehouse:disabled-at").is_some());
}

fn revoked(outcomes: &[Value]) -> BTreeSet<String> {
    outcomes
        .iter()
        .filter(|o| o["detail-type"] == "Access Revoked")
        .map(|o| o["detail"]["accountId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn offboarding_closes_every_way_in_everywhere_and_keeps_the_user() {
    let world = World::new().await;
    let accounts = ada_in_three_accounts(&world).await;
    for a in &accounts {
        add_credentials_by_hand(&world, a, ADA).await;
    }
    let deps = world.deps("people-events");
    // Bystanders: another employee's user, and a hand-made user outside /gatehouse/.
    handle(
        &deps,
        onboarding(
            "E2",
            "bob@example.com",
            "engineering",
            "2026-11-02T09:00:00Z",
        ),
    )
    .await
    .unwrap();
    let dev_iam = world.iam(&accounts[0]).await;
    dev_iam
        .create_user()
        .user_name("ops-robot")
        .path("/ops/")
        .send()
        .await
        .unwrap();
    dev_iam
        .create_access_key()
        .user_name("ops-robot")
        .send()
        .await
        .unwrap();
    let robot_before = access::user(&dev_iam, "ops-robot").await.unwrap();
    let bob_before = user_in(&world, &accounts[0], "bob@example.com")
        .await
        .unwrap();
    world.outcomes().await;

    let event = offboarding("E1", "2026-11-20T17:00:00Z");
    let report = handle(&deps, event.clone()).await.unwrap();
    assert_eq!(report["result"], "applied", "{report}");

    let by = event["id"].as_str().unwrap();
    for a in &accounts {
        let user = user_in(&world, a, ADA).await.expect("user still exists");
        assert_sealed(&user, by);
        assert_eq!(
            active_service_credentials(&world, a, ADA).await,
            0,
            "service credentials"
        );
    }
    assert_eq!(
        access::user(&dev_iam, "ops-robot").await.unwrap(),
        robot_before
    );
    assert_eq!(
        user_in(&world, &accounts[0], "bob@example.com")
            .await
            .unwrap(),
        bob_before
    );
    let outcomes = world.outcomes().await;
    assert_eq!(revoked(&outcomes), accounts.iter().cloned().collect());
    assert_eq!(
        world.directory_item("E1").await.unwrap()["status"],
        "offboarded"
    );
}

#[tokio::test]
async fn the_same_offboarding_three_times_leaves_the_same_state() {
    let world = World::new().await;
    let accounts = ada_in_three_accounts(&world).await;
    let deps = world.deps("people-events");
    let event = offboarding("E1", "2026-11-20T17:00:00Z");
    handle(&deps, event.clone()).await.unwrap();
    let mut first = Vec::new();
    for a in &accounts {
        first.push(user_in(&world, a, ADA).await.unwrap());
    }
    world.outcomes().await;

    for again in [event.clone(), with_new_id(&event)] {
        let report = handle(&deps, again).await.unwrap();
        assert_eq!(report["result"], "applied");
    }
    for (a, before) in accounts.iter().zip(&first) {
        assert_eq!(
            &user_in(&world, a, ADA).await.unwrap(),
            before,
            "unchanged in {a}"
        );
    }
    assert!(
        revoked(&world.outcomes().await).is_empty(),
        "nothing more to revoke"
    );
}

#[tokio::test]
async fn an_account_whose_role_cannot_be_assumed_fails_only_itself_until_redelivery() {
    let world = World::new().await;
    let accounts = ada_in_three_accounts(&world).await;
    // A new function instance: no cached credentials to hide the failure.
    let deps = world.deps("people-events");
    world.proxy.inject(deny_assume_role(accounts[1].clone()));
    let event = offboarding("E1", "2026-11-20T17:00:00Z");

    let err = handle(&deps, event.clone())
        .await
        .expect_err("one account failed");
    assert_ne!(
        err.kind(),
        FailureKind::Rejected,
        "to be redelivered: {err}"
    );
    assert!(err.to_string().contains("1 of"), "{err}");
    assert_eq!(
        user_in(&world, &accounts[0], ADA)
            .await
            .unwrap()
            .tag("gatehouse:status"),
        Some("disabled")
    );
    assert_eq!(
        user_in(&world, &accounts[1], ADA)
            .await
            .unwrap()
            .tag("gatehouse:status"),
        Some("active")
    );
    assert_eq!(
        user_in(&world, &accounts[2], ADA)
            .await
            .unwrap()
            .tag("gatehouse:status"),
        Some("disabled")
    );

    world.proxy.clear_injections();
    let report = handle(&deps, event).await.expect("redelivery completes");
    assert_eq!(report["accounts"][&accounts[0]], "unchanged");
    assert_eq!(report["accounts"][&accounts[1]], "revoked");
    assert_eq!(report["accounts"][&accounts[2]], "unchanged");
    assert_eq!(
        user_in(&world, &accounts[1], ADA)
            .await
            .unwrap()
            .tag("gatehouse:status"),
        Some("disabled")
    );
}

#[tokio::test]
async fn a_late_onboarding_after_an_offboarding_never_reopens_access() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let dev = world.account("development").to_owned();
    let onboard = onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z");
    // The offboarding arrives first; the onboarding it follows arrives late.
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-01T09:00:00Z"),
    )
    .await
    .unwrap();
    handle(&deps, offboarding("E1", "2026-11-20T17:00:00Z"))
        .await
        .unwrap();
    let report = handle(&deps, onboard).await.unwrap();
    assert_eq!(report["result"], "stale");
    let user = user_in(&world, &dev, ADA).await.unwrap();
    assert_eq!(user.tag("gatehouse:status"), Some("disabled"));
    assert!(!user.console);

    // An offboarding for someone Gatehouse never saw is recorded, so their late onboarding
    // is stale too and nobody gets in.
    handle(&deps, offboarding("E7", "2026-11-20T17:00:00Z"))
        .await
        .unwrap();
    let late = handle(
        &deps,
        onboarding(
            "E7",
            "eve@example.com",
            "engineering",
            "2026-11-02T09:00:00Z",
        ),
    )
    .await
    .unwrap();
    assert_eq!(late["result"], "stale");
    assert!(user_in(&world, &dev, "eve@example.com").await.is_none());
}

#[tokio::test]
async fn a_transfer_moves_access_to_the_new_teams_environment() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let (dev, test) = (
        world.account("development").to_owned(),
        world.account("testing").to_owned(),
    );
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    let report = handle(&deps, transfer("E1", ADA, "qe", "2026-11-10T09:00:00Z"))
        .await
        .unwrap();
    assert_eq!(report["accounts"][&test], "granted", "{report}");
    assert_eq!(report["accounts"][&dev], "revoked", "{report}");

    let in_test = user_in(&world, &test, ADA).await.unwrap();
    assert_eq!(in_test.tag("gatehouse:status"), Some("active"));
    assert_eq!(in_test.tag("gatehouse:team"), Some("qe"));
    assert_eq!(in_test.groups, BTreeSet::from(["testers".to_owned()]));
    assert!(in_test.console);
    let in_dev = user_in(&world, &dev, ADA).await.unwrap();
    assert_eq!(in_dev.tag("gatehouse:status"), Some("disabled"));
    assert!(in_dev.groups.is_empty() && !in_dev.console);
}

#[tokio::test]
async fn a_transfer_fixes_groups_in_place_when_the_environment_stays() {
    let path = std::env::temp_dir().join(format!("policy-{}.toml", std::process::id()));
    let policy = gatehouse::core::policy::BUILTIN_POLICY.replace(
        "[teams.qe]\naccess = { testing = [\"testers\"] }",
        "[teams.qe]\naccess = { testing = [\"testers\"] }\n[teams.platform]\naccess = { testing = [\"operators\"] }",
    );
    assert!(policy.contains("teams.platform"));
    std::fs::write(&path, policy).unwrap();
    let mut world = World::new().await;
    world.use_policy_file(path.to_str().unwrap());
    let deps = world.deps("people-events");
    let test = world.account("testing").to_owned();
    handle(&deps, onboarding("E1", ADA, "qe", "2026-11-02T09:00:00Z"))
        .await
        .unwrap();
    let password = world
        .secret(&format!("gatehouse/initial-password/{test}/{ADA}"))
        .await;
    handle(
        &deps,
        transfer("E1", ADA, "platform", "2026-11-10T09:00:00Z"),
    )
    .await
    .unwrap();

    let user = user_in(&world, &test, ADA).await.unwrap();
    assert_eq!(user.groups, BTreeSet::from(["operators".to_owned()]));
    assert_eq!(user.tag("gatehouse:team"), Some("platform"));
    assert!(user.console);
    assert_eq!(
        world
            .secret(&format!("gatehouse/initial-password/{test}/{ADA}"))
            .await,
        password,
        "same user, same password: no reset on a move"
    );
}

#[tokio::test]
async fn a_transfer_never_brings_a_leaver_back() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    handle(&deps, offboarding("E1", "2026-11-20T17:00:00Z"))
        .await
        .unwrap();
    handle(&deps, transfer("E1", ADA, "qe", "2026-11-21T09:00:00Z"))
        .await
        .unwrap();
    assert!(user_in(&world, world.account("testing"), ADA)
        .await
        .is_none());
    let dev = user_in(&world, world.account("development"), ADA)
        .await
        .unwrap();
    assert_eq!(dev.tag("gatehouse:status"), Some("disabled"));
    assert_eq!(
        world.directory_item("E1").await.unwrap()["status"],
        "offboarded"
    );
}

/// The environments where `name` can sign in (an active user with console access).
async fn open_in(world: &World, name: &str) -> BTreeSet<String> {
    let mut open = BTreeSet::new();
    for env in gatehouse_tests::world::ENVIRONMENTS {
        if let Some(u) = user_in(world, world.account(env), name).await {
            if u.tag("gatehouse:status") == Some("active") && u.console {
                open.insert(env.to_owned());
            }
        }
    }
    open
}

#[tokio::test]
async fn the_end_state_does_not_depend_on_arrival_order() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let deliver = |events: Vec<Value>| {
        let deps = &deps;
        async move {
            for e in events {
                handle(deps, e).await.unwrap();
            }
        }
    };
    // Hired, left, then (a late HR correction) moved to QE: a transfer never reopens a leaver,
    // and the offboarding must not be dismissed as stale when the transfer arrives first.
    let (hired, left, moved) = (
        "2026-11-02T09:00:00Z",
        "2026-11-20T17:00:00Z",
        "2026-11-21T09:00:00Z",
    );
    for (id, email) in [
        ("E1", "in.order@example.com"),
        ("E2", "reordered@example.com"),
    ] {
        let on = onboarding(id, email, "engineering", hired);
        let (off, tr) = (offboarding(id, left), transfer(id, email, "qe", moved));
        if id == "E1" {
            deliver(vec![on, off, tr]).await;
        } else {
            deliver(vec![on, tr, off]).await;
        }
        assert!(open_in(&world, email).await.is_empty(), "{id}");
        assert_eq!(
            world.directory_item(id).await.unwrap()["status"],
            "offboarded"
        );
    }

    // An onboarding into another team, newer than the first: the old team's access closes,
    // whichever of the two arrives first.
    let (first, second) = ("2026-11-02T09:00:00Z", "2026-11-03T09:00:00Z");
    for (id, email) in [
        ("E3", "moved.in.order@example.com"),
        ("E4", "moved.late@example.com"),
    ] {
        let old = onboarding(id, email, "engineering", first);
        let new = onboarding(id, email, "qe", second);
        if id == "E3" {
            deliver(vec![old, new]).await;
        } else {
            deliver(vec![new, old]).await;
        }
        assert_eq!(
            open_in(&world, email).await,
            BTreeSet::from(["testing".to_owned()]),
            "{id}"
        );
    }

    // At the very same instant, an offboarding wins over an onboarding, in either order.
    let at = "2026-11-05T09:00:00Z";
    for (id, email) in [
        ("E5", "same.instant@example.com"),
        ("E6", "same.instant.2@example.com"),
    ] {
        let (on, off) = (
            onboarding(id, email, "engineering", at),
            offboarding(id, at),
        );
        if id == "E5" {
            deliver(vec![on, off]).await;
        } else {
            deliver(vec![off, on]).await;
        }
        assert!(open_in(&world, email).await.is_empty(), "{id}");
    }
}

#[tokio::test]
async fn a_rehire_reopens_the_same_user_with_a_new_password_and_old_keys_stay_inactive() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let dev = world.account("development").to_owned();
    let secret = format!("gatehouse/initial-password/{dev}/{ADA}");
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    let first_password = world.secret(&secret).await.unwrap();
    world
        .iam(&dev)
        .await
        .create_access_key()
        .user_name(ADA)
        .send()
        .await
        .unwrap();
    handle(&deps, offboarding("E1", "2026-11-20T17:00:00Z"))
        .await
        .unwrap();

    let report = handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-12-01T09:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(report["accounts"][&dev], "granted", "{report}");
    let user = user_in(&world, &dev, ADA).await.unwrap();
    assert_eq!(user.tag("gatehouse:status"), Some("active"));
    assert_eq!(user.tag("gatehouse:disabled-at"), None);
    assert!(user.console);
    assert!(!user.inline_policies.contains("GatehouseDenyAll"));
    assert_eq!(user.groups, BTreeSet::from(["developers".to_owned()]));
    assert_eq!(user.active_access_keys, 0, "old keys stay inactive");
    let new_password = world.secret(&secret).await.unwrap();
    assert_ne!(new_password, first_password, "a fresh initial password");
    let profile = world.proxy.calls_of("CreateLoginProfile");
    assert_eq!(profile.last().unwrap().params["Password"], new_password);
}

#[tokio::test]
async fn a_sync_item_converges_one_account_from_the_directory() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let dev = world.account("development").to_owned();
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    // Someone takes Ada out of her group by hand.
    let iam = world.iam(&dev).await;
    iam.remove_user_from_group()
        .user_name(ADA)
        .group_name("developers")
        .send()
        .await
        .unwrap();

    world.proxy.reset();
    let report = handle(&deps, sync("E1", Some(&dev))).await.unwrap();
    assert_eq!(report["accounts"][&dev], "granted", "{report}");
    assert_eq!(
        access::user(&iam, ADA).await.unwrap().groups,
        BTreeSet::from(["developers".to_owned()])
    );
    assert!(
        world.proxy.calls_of("PutItem").is_empty(),
        "a sync never writes the directory"
    );

    // For an offboarded employee, a sync keeps everything sealed.
    handle(&deps, offboarding("E1", "2026-11-20T17:00:00Z"))
        .await
        .unwrap();
    handle(&deps, sync("E1", None)).await.unwrap();
    assert_eq!(
        access::user(&iam, ADA)
            .await
            .unwrap()
            .tag("gatehouse:status"),
        Some("disabled")
    );

    // A sync for someone the directory does not know changes nothing.
    let unknown = handle(&deps, sync("E404", Some(&dev))).await.unwrap();
    assert_eq!(unknown["result"], "applied");
    assert!(unknown["accounts"].as_object().unwrap().is_empty());
}

/// A self-signed certificate for `UploadSigningCertificate` (the emulator parses it).
const TEST_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----
MIIBNTCB3aADAgECAgEBMAoGCCqGSM49BAMCMCUxIzAhBgNVBAMMGmdhdGVob3Vz
ZS10ZXN0LmV4YW1wbGUuY29tMB4XDTI2MDEwMTAwMDAwMFoXDTM2MDEwMTAwMDAw
MFowJTEjMCEGA1UEAwwaZ2F0ZWhvdXNlLXRlc3QuZXhhbXBsZS5jb20wWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAARSzwhHvgfAQwFi+5d1xDEKT0xwDYk5LLR+0Gcz
kWU4WHL4yB+wjSTSeE+KDPNy9j1S1DA0kTMjFVzmg4c6jCPfMAoGCCqGSM49BAMC
A0cAMEQCIFQjQJt/BQc89ievZZb6djG6B0YtpXdzOxsCN7XDjddIAiA9NWgqaARq
do+o8dmHFVEeE11UeXH7IdiBEBUNy3Y5lg==
-----END CERTIFICATE-----";
