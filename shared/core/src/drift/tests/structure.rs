//! Groups, service accounts, users outside `/gatehouse/` and old keys.

use super::*;

#[test]
fn a_group_policy_attached_by_hand_or_missing_is_reported() {
    let id = EventId::parse("run-7").unwrap();
    let mfa = format!("arn:aws:iam::{DEV}:policy/gatehouse/GatehouseEnforceMfa");
    let inventory = Inventory {
        groups: BTreeSet::from(["developers".to_owned()]),
        group_policies: BTreeMap::from([(
            "developers".to_owned(),
            BTreeSet::from([
                mfa,
                "arn:aws:iam::aws:policy/AdministratorAccess".to_owned(),
            ]),
        )]),
        partition: "aws".into(),
        ..Inventory::default()
    };
    let a = assess(
        &[dev(inventory)],
        &[],
        &policy("repair", 10),
        &run(&id, ReconcileMode::Repair, false),
    );
    assert_eq!(kinds(&a), [(Kind::GroupPolicy, "developers")]);
    assert_eq!(
        a.findings[0].detail,
        "attached but not named by the policy: arn:aws:iam::aws:policy/AdministratorAccess; \
         named by the policy but not attached: arn:aws:iam::aws:policy/PowerUserAccess"
    );
    // A baseline's to repair: one request to account-created, and no person's sync.
    assert!(a.findings[0].repairable);
    assert!(a.repairs.is_empty());
    assert_eq!(
        a.rebaselines,
        [BaselineRequest {
            account_id: AccountId::parse(DEV).unwrap(),
            cause: "run-7".into(),
            users: vec![],
        }]
    );
    assert_eq!(a.held, None);
    let reported = assess(
        &[dev(Inventory {
            boundaries: BTreeMap::from([("ada@x.io".to_owned(), None)]),
            ..inventory_with_admin_on_developers()
        })],
        &[],
        &policy("report", 10),
        &run(&id, ReconcileMode::Report, false),
    );
    assert_eq!(reported.rebaselines[0].users, ["ada@x.io"]);
    assert_eq!(
        reported.held.as_deref(),
        Some("report mode: nothing is repaired")
    );
}

fn inventory_with_admin_on_developers() -> Inventory {
    Inventory {
        groups: BTreeSet::from(["developers".to_owned()]),
        group_policies: BTreeMap::from([(
            "developers".to_owned(),
            BTreeSet::from(["arn:aws:iam::aws:policy/AdministratorAccess".to_owned()]),
        )]),
        partition: "aws".into(),
        ..Inventory::default()
    }
}

#[test]
fn groups_service_accounts_outsiders_and_old_keys_are_reported_only() {
    let id = EventId::parse("run-6").unwrap();
    let inventory = Inventory {
        groups: BTreeSet::from(["developers".to_owned(), "legacy-admins".to_owned()]),
        service_users: BTreeSet::from(["svc-old-ci".to_owned()]),
        others: vec![
            OtherUser {
                name: "root-ish".into(),
                path: "/".into(),
                console: true,
                active_keys: 0,
            },
            OtherUser {
                name: "quiet".into(),
                path: "/".into(),
                console: false,
                active_keys: 0,
            },
        ],
        access_keys: vec![
            KeySeen {
                user: "ci".into(),
                key_id: "AKIAOLD".into(),
                created: at("2026-08-01T00:00:00Z"),
            },
            KeySeen {
                user: "ci".into(),
                key_id: "AKIANEW".into(),
                created: at("2026-11-01T00:00:00Z"),
            },
        ],
        ..Inventory::default()
    };
    let a = assess(
        &[dev(inventory)],
        &[],
        &policy("repair", 10),
        &run(&id, ReconcileMode::Repair, false),
    );
    assert_eq!(
        kinds(&a),
        [
            (Kind::UndefinedGroup, "legacy-admins"),
            (Kind::RetiredServiceAccount, "svc-old-ci"),
            (Kind::UnmanagedAccess, "root-ish"),
            (Kind::OldAccessKey, "AKIAOLD"),
        ]
    );
    assert_eq!(
        a.findings[3].detail,
        "ci's active key is 118 days old (max 90)"
    );
    assert!(a.findings.iter().all(|f| !f.repairable));
    assert!(a.repairs.is_empty());
}

#[test]
fn each_edge_of_the_structural_checks() {
    let id = EventId::parse("run-10").unwrap();
    let mfa = format!("arn:aws:iam::{DEV}:policy/gatehouse/GatehouseEnforceMfa");
    let development = Inventory {
        // Only an extra policy on a group: reported.
        groups: BTreeSet::from(["developers".to_owned()]),
        group_policies: BTreeMap::from([(
            "developers".to_owned(),
            BTreeSet::from([
                mfa,
                "arn:aws:iam::aws:policy/PowerUserAccess".to_owned(),
                "arn:aws:iam::aws:policy/IAMFullAccess".to_owned(),
            ]),
        )]),
        // The deployer is production's: here it is retired.
        service_users: BTreeSet::from(["svc-deployer".to_owned()]),
        // Keys alone, no console: still a way in.
        others: vec![OtherUser {
            name: "ci".into(),
            path: "/".into(),
            console: false,
            active_keys: 1,
        }],
        // Exactly the maximum age: not over it.
        access_keys: vec![KeySeen {
            user: "ci".into(),
            key_id: "AKIAEDGE".into(),
            created: at("2026-08-29T12:00:00Z"),
        }],
        partition: "aws".into(),
        ..Inventory::default()
    };
    let production = (
        AccountRef {
            id: AccountId::parse("210987654321").unwrap(),
            environment: Some("production".into()),
        },
        AccountState::Read(Box::new(Inventory {
            service_users: BTreeSet::from(["svc-deployer".to_owned()]),
            ..Inventory::default()
        })),
    );
    let a = assess(
        &[dev(development), production],
        &[],
        &policy("repair", 10),
        &run(&id, ReconcileMode::Repair, false),
    );
    assert_eq!(
        kinds(&a),
        [
            (Kind::GroupPolicy, "developers"),
            (Kind::RetiredServiceAccount, "svc-deployer"),
            (Kind::UnmanagedAccess, "ci"),
        ]
    );
    assert_eq!(a.findings[1].account_id, DEV);
    assert_eq!(
        a.findings[0].detail,
        "attached but not named by the policy: arn:aws:iam::aws:policy/IAMFullAccess"
    );
}
