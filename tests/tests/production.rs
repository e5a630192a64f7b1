//! The production allow-list holds on every path into production, not only a first onboarding:
//! a transfer, a rehire, a sync, and the backfill of a new production account. (E9001 is on the
//! built-in policy's allow-list; E9002 is not.)

use gatehouse::account_setup;
use gatehouse::invocation::handle;
use gatehouse_tests::access;
use gatehouse_tests::fixtures::{create_account_result, offboarding, onboarding, sync, transfer};
use gatehouse_tests::scenario::{iam_writes, open_in, outcomes_of, user_in};
use gatehouse_tests::world::World;

const LISTED: &str = "linus.sre@example.com";
const UNLISTED: &str = "mallory.sre@example.com";

/// Asserts that the last event refused production for E9002, once, and created nothing there.
async fn refused_once(world: &World, report: &serde_json::Value) {
    assert_eq!(report["result"], "applied", "{report}");
    assert_eq!(
        report["rejections"].as_array().unwrap().len(),
        1,
        "{report}"
    );
    let outcomes = world.outcomes().await;
    let rejected = outcomes_of(&outcomes, "Request Rejected");
    assert_eq!(rejected.len(), 1, "{outcomes:?}");
    assert_eq!(rejected[0]["detail"]["employeeId"], "E9002");
    assert_eq!(rejected[0]["detail"]["environment"], "production");
    assert!(user_in(world, world.account("production"), UNLISTED)
        .await
        .is_none());
}

#[tokio::test]
async fn a_transfer_into_production_is_refused_unless_allow_listed() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    for (id, email) in [("E9001", LISTED), ("E9002", UNLISTED)] {
        handle(
            &deps,
            onboarding(id, email, "engineering", "2026-11-02T09:00:00Z"),
        )
        .await
        .unwrap();
    }
    world.outcomes().await;

    let report = handle(
        &deps,
        transfer(
            "E9002",
            UNLISTED,
            "site-reliability",
            "2026-11-10T09:00:00Z",
        ),
    )
    .await
    .unwrap();
    refused_once(&world, &report).await;
    assert!(
        open_in(&world, UNLISTED).await.is_empty(),
        "moved out, let in nowhere"
    );

    handle(
        &deps,
        transfer("E9001", LISTED, "site-reliability", "2026-11-10T09:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(
        open_in(&world, LISTED)
            .await
            .into_iter()
            .collect::<Vec<_>>(),
        ["production"]
    );
}

#[tokio::test]
async fn a_rehire_into_production_is_refused_unless_allow_listed() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    handle(
        &deps,
        onboarding("E9002", UNLISTED, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    handle(&deps, offboarding("E9002", "2026-11-10T09:00:00Z"))
        .await
        .unwrap();
    world.outcomes().await;

    let report = handle(
        &deps,
        onboarding(
            "E9002",
            UNLISTED,
            "site-reliability",
            "2026-11-25T09:00:00Z",
        ),
    )
    .await
    .unwrap();
    refused_once(&world, &report).await;
    assert!(open_in(&world, UNLISTED).await.is_empty());
    let dev = user_in(&world, world.account("development"), UNLISTED)
        .await
        .unwrap();
    assert_eq!(
        dev.tag("gatehouse:status"),
        Some("disabled"),
        "still sealed"
    );
}

#[tokio::test]
async fn a_sync_never_brings_the_unlisted_into_production() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let prod = world.account("production").to_owned();
    handle(
        &deps,
        onboarding(
            "E9002",
            UNLISTED,
            "site-reliability",
            "2026-11-02T09:00:00Z",
        ),
    )
    .await
    .unwrap();
    world.outcomes().await;

    world.proxy.reset();
    for item in [sync("E9002", Some(&prod)), sync("E9002", None)] {
        let report = handle(&deps, item).await.unwrap();
        assert_eq!(report["result"], "applied");
        assert_eq!(
            report["rejections"].as_array().unwrap().len(),
            1,
            "{report}"
        );
    }
    assert_eq!(iam_writes(&world.proxy.calls()), Vec::<String>::new());
    assert!(user_in(&world, &prod, UNLISTED).await.is_none());
    // The refusal was reported when HR asked; a work item repeats no outcome.
    assert!(world.outcomes().await.is_empty());
}

#[tokio::test]
async fn a_new_production_account_is_backfilled_with_the_allow_listed_only() {
    let world = World::new().await;
    let people = world.deps("people-events");
    for (id, email) in [("E9001", LISTED), ("E9002", UNLISTED)] {
        handle(
            &people,
            onboarding(id, email, "site-reliability", "2026-11-02T09:00:00Z"),
        )
        .await
        .unwrap();
    }
    let account = world
        .create_bare_account("production-2", Some("production"))
        .await;
    let report = account_setup::handle_payload(
        &world.deps("account-created"),
        create_account_result(&account),
    )
    .await
    .unwrap();
    assert_eq!(report["result"], "baselined", "{report}");
    assert_eq!(report["backfilled"], 1, "E9001 only");

    let drained = world
        .drain_work_queue(|batch| async { handle(&people, batch).await.unwrap() }, 10)
        .await;
    assert_eq!(drained.delivered, 1);
    assert!(drained.handed_back.is_empty());
    let iam = world.iam(&account).await;
    let people_there: Vec<String> = access::users(&iam, "/gatehouse/people/")
        .await
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(people_there, [LISTED]);
    assert!(
        access::user(&iam, "svc-deployer").await.is_some(),
        "its service account"
    );
}
