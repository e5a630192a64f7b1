//! Movers against the emulator: transfers, e-mail changes, rehires, and events for one person
//! arriving in any order. A mover's old access closes, a leaver never comes back but through a
//! rehire, and the end state does not depend on the order the events came in.

use std::collections::{BTreeMap, BTreeSet};

use gatehouse::invocation::handle;
use gatehouse_tests::access::UserView;
use gatehouse_tests::fixtures::{offboarding, onboarding, transfer};
use gatehouse_tests::scenario::{iam_writes, open_in, outcomes_of, user_in, ADA};
use gatehouse_tests::world::{World, ENVIRONMENTS};
use serde_json::Value;

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
        .await
        .expect("an initial password");
    handle(
        &deps,
        transfer("E1", ADA, "platform", "2026-11-10T09:00:00Z"),
    )
    .await
    .unwrap();

    let user = user_in(&world, &test, ADA).await.unwrap();
    assert_eq!(user.groups, BTreeSet::from(["operators".to_owned()]));
    assert_eq!(
        world.proxy.calls_of("CreateLoginProfile").len(),
        1,
        "the console password was set once, at onboarding"
    );
    assert_eq!(user.tag("gatehouse:team"), Some("platform"));
    assert!(user.console);
    assert_eq!(
        world
            .secret(&format!("gatehouse/initial-password/{test}/{ADA}"))
            .await
            .as_ref(),
        Some(&password),
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

#[tokio::test]
async fn an_email_change_seals_the_old_user_and_grants_the_new_one() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let dev = world.account("development").to_owned();
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    world.outcomes().await;

    let renamed = "ada.lovelace@example.com";
    let event = transfer("E1", renamed, "engineering", "2026-11-10T09:00:00Z");
    let report = handle(&deps, event.clone()).await.unwrap();
    assert_eq!(report["accounts"][&dev], "granted", "{report}");

    let old = user_in(&world, &dev, ADA).await.unwrap();
    assert_eq!(old.tag("gatehouse:status"), Some("disabled"));
    assert_eq!(old.tag("gatehouse:disabled-by"), event["id"].as_str());
    assert!(!old.console && old.groups.is_empty());
    let new = user_in(&world, &dev, renamed).await.unwrap();
    assert_eq!(new.tag("gatehouse:status"), Some("active"));
    assert_eq!(new.tag("gatehouse:employee-id"), Some("E1"));
    assert_eq!(new.groups, BTreeSet::from(["developers".to_owned()]));
    assert!(new.console);
    assert_eq!(
        open_in(&world, renamed).await,
        BTreeSet::from(["development".to_owned()])
    );
    assert!(open_in(&world, ADA).await.is_empty());

    let secret = world
        .secret(&format!("gatehouse/initial-password/{dev}/{renamed}"))
        .await
        .expect("a password for the new user");
    let profile = world.proxy.calls_of("CreateLoginProfile");
    assert_eq!(profile.last().unwrap().params["Password"], secret);

    let outcomes = world.outcomes().await;
    let granted = outcomes_of(&outcomes, "Access Granted");
    assert_eq!(granted.len(), 1);
    assert_eq!(granted[0]["detail"]["userName"], renamed);
    let revoked = outcomes_of(&outcomes, "Access Revoked");
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["detail"]["userName"], ADA);

    // The directory remembers both names: an offboarding seals both.
    let item = world.directory_item("E1").await.unwrap();
    assert!(item["userNames"].contains(ADA) && item["userNames"].contains(renamed));
    world.proxy.reset();
    handle(&deps, offboarding("E1", "2026-11-20T17:00:00Z"))
        .await
        .unwrap();
    assert!(open_in(&world, renamed).await.is_empty());
    assert!(
        iam_writes(&world.proxy.calls())
            .iter()
            .all(|op| op != "CreateUser"),
        "nothing created on the way out"
    );
}

/// A user as compared between two people who went through the same events in different
/// orders: their names, ids and the events that sealed them differ, nothing else may.
fn normalized(user: &UserView) -> UserView {
    let mut u = user.clone();
    u.name = "<name>".into();
    for tag in ["gatehouse:employee-id", "gatehouse:disabled-by"] {
        if let Some(v) = u.tags.get_mut(tag) {
            *v = "<varies>".into();
        }
    }
    u
}

/// What `name` holds in each environment's account.
async fn state(world: &World, name: &str) -> BTreeMap<String, UserView> {
    let mut out = BTreeMap::new();
    for env in ENVIRONMENTS {
        if let Some(u) = user_in(world, world.account(env), name).await {
            out.insert(env.to_owned(), u);
        }
    }
    out
}

/// `a` and `b` went through the same events in different orders. Wherever both hold a user,
/// the two are the same in every respect but name, ids and sealing event. A user one of them
/// holds and the other does not can only be history: fully sealed. (An event that arrives
/// after the offboarding it precedes never made its user, so there is nothing to seal.)
async fn assert_same_state(world: &World, a: &str, b: &str) {
    let (sa, sb) = (state(world, a).await, state(world, b).await);
    for env in ENVIRONMENTS {
        match (sa.get(env), sb.get(env)) {
            (Some(x), Some(y)) => {
                assert_eq!(normalized(x), normalized(y), "{env}: {a} and {b} differ")
            }
            (Some(only), None) | (None, Some(only)) => {
                assert_eq!(
                    only.tag("gatehouse:status"),
                    Some("disabled"),
                    "{env}: {only:?}"
                );
                assert!(!only.console && only.groups.is_empty(), "{env}: {only:?}");
                assert!(only.denied_all());
                assert!(only.credentials().iter().all(|(_, _, s)| *s == "Inactive"));
            }
            (None, None) => {}
        }
    }
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
    assert_same_state(&world, "in.order@example.com", "reordered@example.com").await;

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
    assert_same_state(
        &world,
        "moved.in.order@example.com",
        "moved.late@example.com",
    )
    .await;

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
    assert_same_state(
        &world,
        "same.instant@example.com",
        "same.instant.2@example.com",
    )
    .await;
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
        onboarding("E1", ADA, "engineering", "2026-11-25T09:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(report["accounts"][&dev], "granted", "{report}");
    let user = user_in(&world, &dev, ADA).await.unwrap();
    assert_eq!(user.tag("gatehouse:status"), Some("active"));
    assert_eq!(user.tag("gatehouse:disabled-at"), None);
    assert!(user.console);
    assert!(!user.denied_all(), "deny-all detached");
    assert!(user.inline_policies.is_empty());
    assert_eq!(user.groups, BTreeSet::from(["developers".to_owned()]));
    assert_eq!(user.access_keys.len(), 1, "the old key is kept");
    assert_eq!(user.active_access_keys(), 0, "and stays inactive");
    let new_password = world.secret(&secret).await.unwrap();
    assert_ne!(new_password, first_password, "a fresh initial password");
    let profile = world.proxy.calls_of("CreateLoginProfile");
    assert_eq!(profile.last().unwrap().params["Password"], new_password);
}
