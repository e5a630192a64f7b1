use super::*;
use crate::ids::{EmployeeId, Team};
use crate::names::{TAG_EMPLOYEE, TAG_TEAM};
use crate::plan::{Credential, UserState};
use crate::standing::Status;

const DEV: &str = "111111111111";
const PROD: &str = "444444444444";

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339("t", s).unwrap()
}

fn policy(mode: &str, max_disables: usize) -> Policy {
    let text = crate::policy::BUILTIN_POLICY.replace(
        "mode = \"report\"\nmax_disables = 10",
        &format!("mode = \"{mode}\"\nmax_disables = {max_disables}"),
    );
    assert!(
        text.contains(&format!(
            "mode = \"{mode}\"\nmax_disables = {max_disables}\n"
        )),
        "the policy has [reconcile]"
    );
    Policy::parse(&text).unwrap()
}

fn record(id: &str, team: &str, status: Status, name: &str) -> EmployeeRecord {
    EmployeeRecord {
        employee_id: EmployeeId::parse(id).unwrap(),
        status,
        team: Some(Team::from_record(team.into())),
        user_name: Some(name.into()),
        user_names: BTreeSet::from([name.to_owned()]),
        effective_at: at("2026-11-01T09:00:00Z"),
    }
}

fn active(id: &str, team: &str, groups: &[&str]) -> UserState {
    UserState {
        tags: BTreeMap::from([
            (TAG_EMPLOYEE.to_owned(), id.to_owned()),
            (TAG_TEAM.to_owned(), team.to_owned()),
            (TAG_STATUS.to_owned(), "active".to_owned()),
        ]),
        managed_groups: groups.iter().map(|g| g.to_string()).collect(),
        login_profile: true,
        deny_all: false,
        credentials: Vec::new(),
    }
}

fn sealed(id: &str, team: &str) -> UserState {
    let mut s = active(id, team, &[]);
    s.tags.insert(TAG_STATUS.into(), STATUS_DISABLED.into());
    s.tags.insert(
        "gatehouse:disabled-at".into(),
        "2026-11-01T09:00:00Z".into(),
    );
    s.tags.insert("gatehouse:disabled-by".into(), "e-1".into());
    s.login_profile = false;
    s.deny_all = true;
    s
}

fn dev(inventory: Inventory) -> (AccountRef, AccountState) {
    (
        AccountRef {
            id: AccountId::parse(DEV).unwrap(),
            environment: Some("development".into()),
        },
        AccountState::Read(Box::new(inventory)),
    )
}

fn people(users: &[(&str, UserState)]) -> Inventory {
    Inventory {
        people: users
            .iter()
            .map(|(n, s)| (n.to_string(), s.clone()))
            .collect(),
        groups: BTreeSet::from(["developers".to_owned()]),
        ..Inventory::default()
    }
}

fn run(id: &EventId, mode: ReconcileMode, confirmed: bool) -> Run<'_> {
    Run {
        id,
        mode,
        confirmed,
        now: at("2026-11-27T12:00:00Z"),
    }
}

fn kinds(a: &Assessment) -> Vec<(Kind, &str)> {
    a.findings
        .iter()
        .map(|f| (f.kind, f.subject.as_str()))
        .collect()
}

#[test]
fn an_account_as_the_directory_says_has_no_drift() {
    let id = EventId::parse("run-1").unwrap();
    let records = [
        record("E1", "engineering", Status::Active, "ada@x.io"),
        record("E2", "engineering", Status::Offboarded, "bob@x.io"),
    ];
    let inventory = people(&[
        ("ada@x.io", active("E1", "engineering", &["developers"])),
        ("bob@x.io", sealed("E2", "engineering")),
    ]);
    let a = assess(
        &[dev(inventory)],
        &records,
        &policy("repair", 10),
        &run(&id, ReconcileMode::Repair, false),
    );
    assert_eq!(a.findings, []);
    assert!(a.repairs.is_empty());
    assert_eq!(a.held, None);
}

#[test]
fn each_kind_of_peoples_drift_is_found_and_repaired_by_a_sync_of_that_account() {
    let id = EventId::parse("run-2").unwrap();
    let records = [
        record("E1", "engineering", Status::Active, "ada@x.io"),
        record("E2", "engineering", Status::Offboarded, "bob@x.io"),
        record("E3", "engineering", Status::Offboarded, "cy@x.io"),
        record("E4", "engineering", Status::Active, "dee@x.io"),
        record("E5", "qe", Status::Active, "eve@x.io"),
        record("E6", "engineering", Status::Active, "fay@x.io"),
    ];
    let mut reopened = sealed("E3", "engineering");
    reopened.login_profile = true;
    reopened.credentials = vec![Credential::AccessKey("AKIA1".into())];
    let inventory = people(&[
        // E1: in a group engineering does not get, besides developers.
        (
            "ada@x.io",
            active("E1", "engineering", &["developers", "operators"]),
        ),
        // E2: offboarded, still active.
        ("bob@x.io", active("E2", "engineering", &["developers"])),
        // E3: sealed, then a console password and a key turned on by hand.
        ("cy@x.io", reopened),
        // E4: lost their group.
        ("dee@x.io", active("E4", "engineering", &[])),
        // E5: moved to QE, still active in development.
        ("eve@x.io", active("E5", "engineering", &["developers"])),
        // E6: no user at all. And a user nobody's record names:
        ("zed@x.io", active("E99", "engineering", &["developers"])),
    ]);
    let a = assess(
        &[dev(inventory)],
        &records,
        &policy("repair", 10),
        &run(&id, ReconcileMode::Repair, false),
    );
    assert_eq!(
        kinds(&a),
        [
            (Kind::ExtraGroup, "ada@x.io"),
            (Kind::LeaverActive, "bob@x.io"),
            (Kind::Reopened, "cy@x.io"),
            (Kind::MissingGrant, "dee@x.io"),
            (Kind::LeaverActive, "eve@x.io"),
            (Kind::UnknownUser, "zed@x.io"),
            (Kind::MissingGrant, "fay@x.io"),
        ]
    );
    let reopened = &a.findings[2];
    assert_eq!(
        reopened.detail,
        "delete the console password, deactivate AccessKey(\"AKIA1\")"
    );
    assert!(
        !a.findings[5].repairable,
        "nobody to sync for an unknown user"
    );
    let synced: Vec<(String, String)> = a
        .repairs
        .iter()
        .map(|r| {
            assert_eq!(r.cause, "run-2");
            (
                r.employee_id.to_string(),
                r.account_id.as_ref().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = ["E1", "E2", "E3", "E4", "E5", "E6"]
        .iter()
        .map(|e| (e.to_string(), DEV.to_string()))
        .collect();
    assert_eq!(synced, expected);
    assert_eq!(
        a.closing,
        BTreeSet::from(["E1", "E2", "E3", "E5"].map(String::from))
    );
    assert_eq!(a.held, None);
    assert!(
        a.rebaselines.is_empty(),
        "people are synced, not re-baselined"
    );
    assert!(
        a.findings.iter().all(|f| !f.detail.contains("tag ")),
        "labels are not access: {:?}",
        a.findings
    );
}

#[test]
fn a_baseline_request_names_at_most_a_hundred_users() {
    let id = EventId::parse("run-9").unwrap();
    let boundaries = (0..=MAX_REQUESTED_USERS)
        .map(|n| (format!("u{n:03}@x.io"), None))
        .collect();
    let a = assess(
        &[dev(Inventory {
            boundaries,
            partition: "aws".into(),
            ..Inventory::default()
        })],
        &[],
        &policy("repair", 10),
        &run(&id, ReconcileMode::Repair, false),
    );
    assert_eq!(a.findings.len(), MAX_REQUESTED_USERS + 1);
    assert_eq!(a.rebaselines.len(), 1);
    assert_eq!(a.rebaselines[0].users.len(), MAX_REQUESTED_USERS);
    assert_eq!(a.rebaselines[0].users[0], "u000@x.io");
}

#[test]
fn report_mode_holds_every_repair() {
    let id = EventId::parse("run-3").unwrap();
    let records = [record("E2", "engineering", Status::Offboarded, "bob@x.io")];
    let inventory = people(&[("bob@x.io", active("E2", "engineering", &["developers"]))]);
    let a = assess(
        &[dev(inventory)],
        &records,
        &policy("report", 10),
        &run(&id, ReconcileMode::Report, true),
    );
    assert_eq!(kinds(&a), [(Kind::LeaverActive, "bob@x.io")]);
    assert_eq!(
        a.repairs.len(),
        1,
        "what a repair would do is still decided"
    );
    assert_eq!(a.held.as_deref(), Some("report mode: nothing is repaired"));
}

#[test]
fn the_breaker_trips_past_max_disables_unless_confirmed() {
    let id = EventId::parse("run-4").unwrap();
    let records: Vec<EmployeeRecord> = (1..=3)
        .map(|i| {
            record(
                &format!("E{i}"),
                "engineering",
                Status::Offboarded,
                &format!("u{i}@x.io"),
            )
        })
        .collect();
    let users: Vec<(String, UserState)> = (1..=3)
        .map(|i| {
            (
                format!("u{i}@x.io"),
                active(&format!("E{i}"), "engineering", &[]),
            )
        })
        .collect();
    let refs: Vec<(&str, UserState)> = users.iter().map(|(n, s)| (n.as_str(), s.clone())).collect();
    let accounts = [dev(people(&refs))];
    let p = policy("repair", 2);
    let tripped = assess(
        &accounts,
        &records,
        &p,
        &run(&id, ReconcileMode::Repair, false),
    );
    assert_eq!(tripped.closing.len(), 3);
    assert!(
        tripped
            .held
            .as_deref()
            .unwrap()
            .starts_with("the breaker tripped"),
        "{:?}",
        tripped.held
    );
    let confirmed = assess(
        &accounts,
        &records,
        &p,
        &run(&id, ReconcileMode::Repair, true),
    );
    assert_eq!(confirmed.held, None);
    // At the limit, not past it: repaired.
    let at_limit = assess(
        &accounts,
        &records,
        &policy("repair", 3),
        &run(&id, ReconcileMode::Repair, false),
    );
    assert_eq!(at_limit.held, None);
}

#[test]
fn an_unknown_account_is_never_read_as_empty_and_nothing_is_repaired_there() {
    let id = EventId::parse("run-5").unwrap();
    let records = [record("E1", "engineering", Status::Active, "ada@x.io")];
    let accounts = [
        (
            AccountRef {
                id: AccountId::parse(DEV).unwrap(),
                environment: Some("development".into()),
            },
            AccountState::Unknown {
                reason: "iam ListUsers failed: throttled".into(),
            },
        ),
        (
            AccountRef {
                id: AccountId::parse(PROD).unwrap(),
                environment: Some("production".into()),
            },
            AccountState::NoBaseline,
        ),
    ];
    let a = assess(
        &accounts,
        &records,
        &policy("repair", 10),
        &run(&id, ReconcileMode::Repair, false),
    );
    assert_eq!(a.unknown[DEV], "iam ListUsers failed: throttled");
    assert_eq!(kinds(&a), [(Kind::NoBaseline, PROD)]);
    assert!(
        a.repairs.is_empty(),
        "no missing grant read from an unread account"
    );
}

mod structure;
