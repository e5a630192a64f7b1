//! The exact AWS calls of Gatehouse's common events, as the proxy counts them. Lambda bills by
//! the millisecond and IAM's rate limits are low: a call that creeps in is a cost on every
//! event, and these counts are deterministic where times are not (the timings are
//! `make bench`'s, in `docs/benchmarks.md`).
//!
//! The world has four accounts, one per environment; "warm" means a process that has handled an
//! event before (the organization listed, the role's credentials cached).

use std::collections::BTreeMap;

use gatehouse::account_setup;
use gatehouse::invocation::handle;
use gatehouse_tests::fixtures::{create_account_result, offboarding, onboarding, sync, transfer};
use gatehouse_tests::scenario::{add_credentials_by_hand, iam_writes, ADA};
use gatehouse_tests::world::World;

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn total(counts: &BTreeMap<String, usize>) -> usize {
    counts.values().sum()
}

#[tokio::test]
async fn a_first_onboarding_into_a_baselined_account_makes_at_most_ten_calls_but_for_the_listing() {
    let world = World::new().await;
    // The development account's baseline laid (by an earlier process).
    handle(
        &world.deps("people-events"),
        onboarding(
            "E0",
            "grace@example.com",
            "engineering",
            "2026-11-01T09:00:00Z",
        ),
    )
    .await
    .unwrap();

    // A fresh process: nothing cached.
    let deps = world.deps("people-events");
    world.proxy.reset();
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    let cold = world.proxy.counts();
    assert_eq!(
        cold,
        counts(&[
            // The organization, listed once per process (and then every
            // GATEHOUSE_ACCOUNT_CACHE_SECONDS): one tag read per account.
            ("organizations:DescribeOrganization", 1),
            ("organizations:ListAccounts", 1),
            ("organizations:ListTagsForResource", 4),
            // The partition, once per process; the role, once per account and hour.
            ("sts:GetCallerIdentity", 1),
            ("sts:AssumeRole", 1),
            // The baseline is trusted, not read: what follows is the onboarding itself.
            ("dynamodb:PutItem", 1),
            ("iam:CreateUser", 1),
            ("iam:AddUserToGroup", 1),
            ("secretsmanager:CreateSecret", 1),
            ("iam:CreateLoginProfile", 1),
            ("dynamodb:GetItem", 1),
            ("events:PutEvents", 1),
        ])
    );
    let listing = 2 + 4;
    assert!(total(&cold) - listing <= 10, "{cold:?}");
}

#[tokio::test]
async fn a_warm_onboarding_makes_seven_calls() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    handle(
        &deps,
        onboarding(
            "E0",
            "grace@example.com",
            "engineering",
            "2026-11-01T09:00:00Z",
        ),
    )
    .await
    .unwrap();
    // The first, into an account whose groups it lays: still one role, one identity.
    let cold = world.proxy.counts();
    assert_eq!(
        cold.get("sts:AssumeRole"),
        Some(&1),
        "one AssumeRole per account"
    );
    assert_eq!(
        cold.get("sts:GetCallerIdentity"),
        Some(&1),
        "the partition, once per process"
    );
    world.proxy.reset();
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(
        world.proxy.counts(),
        counts(&[
            // The record written, then read again after access opened (a race guard).
            ("dynamodb:PutItem", 1),
            ("iam:CreateUser", 1),
            ("iam:AddUserToGroup", 1),
            ("secretsmanager:CreateSecret", 1),
            ("iam:CreateLoginProfile", 1),
            ("dynamodb:GetItem", 1),
            ("events:PutEvents", 1),
        ])
    );
}

#[tokio::test]
async fn an_offboarding_reads_each_thing_once_and_closes_each_thing_once() {
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
    // Every account's role assumed before, as in a process that has worked them all.
    handle(&deps, sync("E1", None)).await.unwrap();

    world.proxy.reset();
    let report = handle(&deps, offboarding("E1", "2026-11-20T17:00:00Z"))
        .await
        .unwrap();
    assert_eq!(report["accounts"][&dev], "revoked", "{report}");
    assert_eq!(
        world.proxy.counts(),
        counts(&[
            ("dynamodb:GetItem", 1),
            ("dynamodb:PutItem", 1),
            // A revocation lists the accounts afresh (the cached list may miss a new one).
            ("organizations:ListAccounts", 1),
            // GetUser in all four accounts; only development holds the user.
            ("iam:GetUser", 4),
            // The reads, at once.
            ("iam:ListAttachedUserPolicies", 1),
            ("iam:GetLoginProfile", 1),
            ("iam:ListGroupsForUser", 1),
            ("iam:ListAccessKeys", 1),
            ("iam:ListSSHPublicKeys", 1),
            ("iam:ListSigningCertificates", 1),
            ("iam:ListMFADevices", 1),
            ("iam:ListServiceSpecificCredentials", 1),
            // The writes, at once: the two closers, then what was listed (two access keys, an
            // SSH key, a certificate, an MFA device, a service credential, one managed group).
            ("iam:AttachUserPolicy", 1),
            ("iam:DeleteLoginProfile", 1),
            ("iam:UpdateAccessKey", 2),
            ("iam:UpdateSSHPublicKey", 1),
            ("iam:UpdateSigningCertificate", 1),
            ("iam:DeactivateMFADevice", 1),
            ("iam:UpdateServiceSpecificCredential", 1),
            ("iam:RemoveUserFromGroup", 1),
            // Then the disabled tag, last.
            ("iam:TagUser", 1),
            ("events:PutEvents", 1),
        ])
    );
}

#[tokio::test]
async fn a_transfer_opens_the_new_account_and_seals_the_old_one() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    for (id, email, team) in [
        ("E0", "grace@example.com", "qe"),
        ("E1", ADA, "engineering"),
    ] {
        handle(&deps, onboarding(id, email, team, "2026-11-02T09:00:00Z"))
            .await
            .unwrap();
    }
    handle(&deps, sync("E1", None)).await.unwrap();

    world.proxy.reset();
    handle(&deps, transfer("E1", ADA, "qe", "2026-11-10T09:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        world.proxy.counts(),
        counts(&[
            // The record read and written; read again after access opened.
            ("dynamodb:GetItem", 2),
            ("dynamodb:PutItem", 1),
            ("organizations:ListAccounts", 1),
            // Testing: QE's user, with the console password.
            ("iam:CreateUser", 1),
            ("iam:AddUserToGroup", 1),
            ("secretsmanager:CreateSecret", 1),
            ("iam:CreateLoginProfile", 1),
            // Every other account: the name looked for; in development, the engineer's user
            // sealed (its console password and its group; it has no credential).
            ("iam:GetUser", 3),
            ("iam:ListAttachedUserPolicies", 1),
            ("iam:GetLoginProfile", 1),
            ("iam:ListGroupsForUser", 1),
            ("iam:ListAccessKeys", 1),
            ("iam:ListSSHPublicKeys", 1),
            ("iam:ListSigningCertificates", 1),
            ("iam:ListMFADevices", 1),
            ("iam:ListServiceSpecificCredentials", 1),
            ("iam:AttachUserPolicy", 1),
            ("iam:DeleteLoginProfile", 1),
            ("iam:RemoveUserFromGroup", 1),
            ("iam:TagUser", 1),
            ("events:PutEvents", 1),
        ])
    );
}

#[tokio::test]
async fn a_sync_with_nothing_to_change_changes_nothing() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let dev = world.account("development").to_owned();
    handle(
        &deps,
        onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z"),
    )
    .await
    .unwrap();
    handle(&deps, sync("E1", None)).await.unwrap();

    world.proxy.reset();
    let report = handle(&deps, sync("E1", Some(&dev))).await.unwrap();
    assert_eq!(report["accounts"][&dev], "unchanged", "{report}");
    assert_eq!(
        world.proxy.counts(),
        counts(&[
            ("dynamodb:GetItem", 1),
            // The optimistic CreateUser (a new hire's user does not exist yet: no read before
            // it) answers that it exists; the user is then read whole (its groups, its console
            // password, its policies) and nothing is written.
            ("iam:CreateUser", 1),
            ("iam:GetUser", 1),
            ("iam:ListGroupsForUser", 1),
            ("iam:GetLoginProfile", 1),
            ("iam:ListAttachedUserPolicies", 1),
        ])
    );
}

#[tokio::test]
async fn a_repeated_baseline_reads_and_writes_nothing_in_iam() {
    let world = World::new().await;
    let account = world
        .create_bare_account("staging-2", Some("staging"))
        .await;
    let deps = world.deps("account-created");
    let first = account_setup::handle_payload(&deps, create_account_result(&account))
        .await
        .unwrap();
    assert_eq!(first["result"], "baselined", "{first}");

    world.proxy.reset();
    let again = account_setup::handle_payload(&deps, create_account_result(&account))
        .await
        .unwrap();
    assert_eq!(again["result"], "baselined", "{again}");
    let calls = world.proxy.calls();
    assert_eq!(iam_writes(&calls), Vec::<String>::new(), "no IAM write");
    let iam: BTreeMap<String, usize> = world
        .proxy
        .counts()
        .into_iter()
        .filter(|(k, _)| k.starts_with("iam:"))
        .collect();
    assert_eq!(
        iam,
        counts(&[
            ("iam:GetAccountPasswordPolicy", 1),
            // The boundary, MFA and deny-all documents.
            ("iam:GetPolicy", 3),
            ("iam:GetPolicyVersion", 3),
            // Staging's group (stakeholders) and its policies.
            ("iam:ListGroups", 1),
            ("iam:ListAttachedGroupPolicies", 1),
            // The provisioner role: its trust, its permissions, nothing else attached.
            ("iam:GetRole", 1),
            ("iam:GetRolePolicy", 1),
            ("iam:ListAttachedRolePolicies", 1),
            ("iam:ListRolePolicies", 1),
        ])
    );
}
