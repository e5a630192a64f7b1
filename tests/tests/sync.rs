//! `Employee Sync` work items against the emulator: converging one person from the directory,
//! in one account or everywhere; re-sealing what was reopened by hand; and the warm account
//! cache meeting an account it has never seen.

use std::collections::BTreeSet;

use gatehouse::invocation::handle;
use gatehouse_tests::access;
use gatehouse_tests::fixtures::{offboarding, onboarding, sync};
use gatehouse_tests::scenario::{
    add_credentials_by_hand, assert_sealed, iam_writes, outcomes_of, user_in, ADA,
};
use gatehouse_tests::world::World;

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
    let before = user_in(&world, &dev, ADA).await.unwrap();
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
        report["accounts"].as_object().unwrap().len(),
        1,
        "that account only"
    );
    assert_eq!(access::user(&iam, ADA).await.unwrap(), before, "as it was");
    assert_eq!(
        iam_writes(&world.proxy.calls()),
        ["CreateUser", "AddUserToGroup"]
    );
    assert!(
        world.proxy.calls_of("PutItem").is_empty(),
        "a sync never writes the directory"
    );

    // A sync for someone the directory does not know changes nothing.
    world.proxy.reset();
    let unknown = handle(&deps, sync("E404", Some(&dev))).await.unwrap();
    assert_eq!(unknown["result"], "applied");
    assert!(unknown["accounts"].as_object().unwrap().is_empty());
    assert_eq!(
        world.proxy.counts().into_iter().collect::<Vec<_>>(),
        [("dynamodb:GetItem".to_owned(), 1)]
    );
}

#[tokio::test]
async fn a_sync_for_a_leaver_keeps_everything_sealed_and_writes_nothing() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let dev = world.account("development").to_owned();
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    add_credentials_by_hand(&world, &dev, ADA).await;
    let before = user_in(&world, &dev, ADA).await.unwrap();
    let leave = offboarding("E1", "2026-11-20T17:00:00Z");
    handle(&deps, leave.clone()).await.unwrap();
    let sealed = user_in(&world, &dev, ADA).await.unwrap();
    assert_sealed(&before, &sealed, leave["id"].as_str().unwrap());
    world.outcomes().await;

    world.proxy.reset();
    let report = handle(&deps, sync("E1", None)).await.unwrap();
    assert_eq!(report["accounts"][&dev], "unchanged", "{report}");
    assert_eq!(iam_writes(&world.proxy.calls()), Vec::<String>::new());
    assert_eq!(user_in(&world, &dev, ADA).await.unwrap(), sealed);
    assert!(world.outcomes().await.is_empty());
}

#[tokio::test]
async fn a_sync_reseals_a_leaver_whose_access_was_reopened_by_hand() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let dev = world.account("development").to_owned();
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    add_credentials_by_hand(&world, &dev, ADA).await;
    let before = user_in(&world, &dev, ADA).await.unwrap();
    let leave = offboarding("E1", "2026-11-20T17:00:00Z");
    handle(&deps, leave.clone()).await.unwrap();
    world.outcomes().await;

    // By hand: a console password again, a key re-activated, back in the group, deny-all gone.
    let iam = world.iam(&dev).await;
    iam.create_login_profile()
        .user_name(ADA)
        .password("Reopened-by-hand-1!")
        .send()
        .await
        .unwrap();
    let key = before.access_keys.keys().next().unwrap().clone();
    iam.update_access_key()
        .user_name(ADA)
        .access_key_id(&key)
        .status(aws_sdk_iam::types::StatusType::Active)
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .user_name(ADA)
        .group_name("developers")
        .send()
        .await
        .unwrap();
    iam.detach_user_policy()
        .user_name(ADA)
        .policy_arn(format!(
            "arn:aws:iam::{dev}:policy/gatehouse/GatehouseDenyAll"
        ))
        .send()
        .await
        .unwrap();
    let reopened = user_in(&world, &dev, ADA).await.unwrap();
    assert!(reopened.console && reopened.active_access_keys() == 1 && !reopened.denied_all());

    let report = handle(&deps, sync("E1", None)).await.unwrap();
    assert_eq!(report["accounts"][&dev], "revoked", "{report}");
    // Sealed again, still as the offboarding sealed it (the first disable's tags stay).
    let after = user_in(&world, &dev, ADA).await.unwrap();
    assert_sealed(&before, &after, leave["id"].as_str().unwrap());
    let outcomes = world.outcomes().await;
    assert_eq!(outcomes_of(&outcomes, "Access Revoked").len(), 1);
}

#[tokio::test]
async fn a_warm_function_meets_an_account_created_after_its_cache_filled() {
    let world = World::new().await;
    // A long cache, so that only the unknown-id rule can make it read again.
    let mut world = world;
    world.set("GATEHOUSE_ACCOUNT_CACHE_SECONDS", "3600");
    let deps = world.deps("people-events");
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    let listed = world.proxy.calls_of("ListAccounts").len();
    assert!(listed >= 1, "the first event filled the cache");

    let late = world
        .create_account("development-2", Some("development"))
        .await;
    world.proxy.reset();
    let report = handle(&deps, sync("E1", Some(&late))).await.unwrap();
    assert_eq!(report["accounts"][&late], "granted", "{report}");
    assert_eq!(
        world.proxy.calls_of("ListAccounts").len(),
        1,
        "an unknown account id refreshes the list"
    );
    let user = user_in(&world, &late, ADA).await.unwrap();
    assert_eq!(user.groups, BTreeSet::from(["developers".to_owned()]));
    assert!(user.console);

    // An offboarding lists afresh too: a second late account is not missed.
    let later = world
        .create_account("development-3", Some("development"))
        .await;
    handle(&deps, sync("E1", Some(&later))).await.unwrap();
    world.proxy.reset();
    let report = handle(&deps, offboarding("E1", "2026-11-20T17:00:00Z"))
        .await
        .unwrap();
    for account in [world.account("development"), &late, &later] {
        assert_eq!(report["accounts"][account], "revoked", "{report}");
    }
}
