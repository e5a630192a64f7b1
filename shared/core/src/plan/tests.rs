//! The planner's rules, one test each.

use super::*;

fn id(s: &str) -> EmployeeId {
    EmployeeId::parse(s).unwrap()
}

fn active(groups: &[&str]) -> Desired {
    Desired {
        user_name: "ada@example.com".into(),
        employee_id: id("E1"),
        state: DesiredState::Active {
            team: Team::from_record("engineering".into()),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        },
    }
}

fn disabled() -> Desired {
    Desired {
        state: DesiredState::Disabled {
            at: Timestamp::parse_rfc3339("t", "2026-11-20T10:00:00Z").unwrap(),
            by: EventId::parse("ev-2").unwrap(),
        },
        ..active(&[])
    }
}

fn managed(tags: &[(&str, &str)]) -> UserState {
    UserState {
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..UserState::default()
    }
}

fn ours_active() -> UserState {
    UserState {
        managed_groups: ["developers".to_string()].into(),
        login_profile: true,
        ..managed(&[
            (TAG_EMPLOYEE, "E1"),
            (TAG_TEAM, "engineering"),
            (TAG_STATUS, STATUS_ACTIVE),
        ])
    }
}

#[test]
fn onboarding_an_absent_user_creates_tags_groups_and_console() {
    let actions = plan(&active(&["developers", "readers"]), &Found::Absent).unwrap();
    let Action::CreateUser { tags } = &actions[0] else {
        panic!("{actions:?}")
    };
    assert_eq!(tags[TAG_EMPLOYEE], "E1");
    assert_eq!(tags[TAG_TEAM], "engineering");
    assert_eq!(tags[TAG_STATUS], STATUS_ACTIVE);
    assert_eq!(
        actions[1..],
        [
            Action::AddToGroup("developers".into()),
            Action::AddToGroup("readers".into()),
            Action::CreateLoginProfile
        ]
    );
}

#[test]
fn converged_user_needs_nothing_and_keeps_its_password() {
    assert_eq!(
        plan(&active(&["developers"]), &Found::Managed(ours_active())).unwrap(),
        []
    );
}

#[test]
fn a_hand_made_user_is_a_conflict_never_taken_over() {
    let found = Found::Unmanaged { path: "/".into() };
    assert_eq!(
        plan(&active(&["developers"]), &found),
        Err(Conflict::Unmanaged { path: "/".into() })
    );
    assert_eq!(
        plan(&disabled(), &found),
        Err(Conflict::Unmanaged { path: "/".into() }),
        "reported on the way out too"
    );
}

#[test]
fn another_employees_user_is_a_conflict() {
    let mut other = ours_active();
    other.tags.insert(TAG_EMPLOYEE.into(), "E2".into());
    let found = Found::Managed(other);
    assert_eq!(
        plan(&active(&["developers"]), &found),
        Err(Conflict::OtherEmployee { other: "E2".into() })
    );
    assert_eq!(
        plan(&disabled(), &found),
        Err(Conflict::OtherEmployee { other: "E2".into() })
    );
}

#[test]
fn offboard_disables_every_credential_kind_and_keeps_the_user() {
    let user = UserState {
        credentials: vec![
            Credential::AccessKey("AKIA1".into()),
            Credential::SshPublicKey("APKA1".into()),
            Credential::ServiceSpecific("ACCA1".into()),
            Credential::SigningCertificate("CERT1".into()),
            Credential::MfaDevice("arn:aws:iam::1:mfa/ada".into()),
        ],
        ..ours_active()
    };
    let actions = plan(&disabled(), &Found::Managed(user.clone())).unwrap();
    assert_eq!(actions[0], Action::AttachDenyAll, "access closes first");
    assert!(actions.contains(&Action::DeleteLoginProfile));
    for c in &user.credentials {
        assert!(actions.contains(&Action::Deactivate(c.clone())), "{c:?}");
    }
    assert!(actions.contains(&Action::RemoveFromGroup("developers".into())));
    let Some(Action::Tag(tags)) = actions.last() else {
        panic!()
    };
    assert_eq!(tags[TAG_STATUS], STATUS_DISABLED);
    assert_eq!(tags[TAG_DISABLED_BY], "ev-2");
    assert!(!actions.iter().any(Action::grants));
}

#[test]
fn disabling_twice_changes_nothing_the_second_time() {
    let first = plan(&disabled(), &Found::Managed(ours_active())).unwrap();
    let Some(Action::Tag(tags)) = first.last() else {
        panic!("{first:?}")
    };
    // The user as the first disable left it.
    let sealed = UserState {
        deny_all: true,
        tags: ours_active().tags.into_iter().chain(tags.clone()).collect(),
        ..UserState::default()
    };
    assert_eq!(plan(&disabled(), &Found::Managed(sealed)).unwrap(), []);
    assert_eq!(plan(&disabled(), &Found::Absent).unwrap(), []);
}

#[test]
fn an_earlier_end_moves_the_disable_time_back_and_a_later_one_does_not() {
    let sealed_at = |at: &str| UserState {
        deny_all: true,
        ..managed(&[
            (TAG_EMPLOYEE, "E1"),
            (TAG_STATUS, STATUS_DISABLED),
            (TAG_DISABLED_AT, at),
            (TAG_DISABLED_BY, "ev-1"),
        ])
    };
    // disabled() ends access at 2026-11-20T10:00:00Z, by ev-2.
    let later = sealed_at("2026-11-21T09:00:00Z");
    assert_eq!(
        plan(&disabled(), &Found::Managed(later)).unwrap(),
        [Action::Tag(
            [
                (
                    TAG_DISABLED_AT.to_string(),
                    "2026-11-20T10:00:00Z".to_string()
                ),
                (TAG_DISABLED_BY.to_string(), "ev-2".to_string()),
            ]
            .into()
        )]
    );
    for unchanged in ["2026-11-20T10:00:00Z", "2026-11-19T00:00:00Z"] {
        assert_eq!(
            plan(&disabled(), &Found::Managed(sealed_at(unchanged))).unwrap(),
            [],
            "{unchanged}"
        );
    }
    // A disabled user whose time cannot be read gets a readable one.
    let Action::Tag(tags) = &plan(&disabled(), &Found::Managed(sealed_at("soon"))).unwrap()[0]
    else {
        panic!("not a tag")
    };
    assert_eq!(tags[TAG_DISABLED_AT], "2026-11-20T10:00:00Z");
    assert!(!tags.contains_key(TAG_STATUS));
}

#[test]
fn rehire_reopens_with_a_new_password_and_keeps_old_keys_inactive() {
    let sealed = UserState {
        deny_all: true,
        ..managed(&[
            (TAG_EMPLOYEE, "E1"),
            (TAG_TEAM, "engineering"),
            (TAG_STATUS, STATUS_DISABLED),
            (TAG_DISABLED_AT, "2026-11-20T10:00:00Z"),
            (TAG_DISABLED_BY, "ev-2"),
        ])
    };
    let actions = plan(&active(&["developers"]), &Found::Managed(sealed)).unwrap();
    assert_eq!(
        actions,
        [
            Action::Tag([(TAG_STATUS.to_string(), STATUS_ACTIVE.to_string())].into()),
            Action::Untag(vec![TAG_DISABLED_AT.into(), TAG_DISABLED_BY.into()]),
            Action::AddToGroup("developers".into()),
            Action::CreateLoginProfile,
            Action::DetachDenyAll,
        ]
    );
}

#[test]
fn changed_groups_are_fixed_in_place() {
    let actions = plan(&active(&["testers"]), &Found::Managed(ours_active())).unwrap();
    assert_eq!(
        actions,
        [
            Action::RemoveFromGroup("developers".into()),
            Action::AddToGroup("testers".into())
        ]
    );
}

#[test]
fn only_actions_that_open_access_count_as_grants() {
    let opening = [
        Action::CreateUser {
            tags: BTreeMap::new(),
        },
        Action::AddToGroup("g".into()),
        Action::CreateLoginProfile,
        Action::DetachDenyAll,
    ];
    assert!(opening.iter().all(Action::grants));
    let closing = [
        Action::Tag(BTreeMap::new()),
        Action::Untag(vec![]),
        Action::RemoveFromGroup("g".into()),
        Action::DeleteLoginProfile,
        Action::AttachDenyAll,
        Action::Deactivate(Credential::AccessKey("AKIA1".into())),
    ];
    assert!(!closing.iter().any(Action::grants));
}

#[test]
fn sealing_closes_the_ways_in_first_and_blind_when_unknown() {
    let ours = Found::Managed(ours_active());
    let unknown = Closers::default();
    assert_eq!(
        seal_first(&disabled(), &ours, unknown).unwrap(),
        [Action::AttachDenyAll, Action::DeleteLoginProfile]
    );
    let known_open = Closers {
        deny_all: Some(false),
        login_profile: Some(true),
    };
    assert_eq!(
        seal_first(&disabled(), &ours, known_open).unwrap(),
        [Action::AttachDenyAll, Action::DeleteLoginProfile]
    );
    let closed = Closers {
        deny_all: Some(true),
        login_profile: Some(false),
    };
    assert_eq!(seal_first(&disabled(), &ours, closed).unwrap(), []);
    assert_eq!(
        seal_first(&disabled(), &Found::Absent, unknown).unwrap(),
        []
    );
    assert!(seal_first(&disabled(), &Found::Unmanaged { path: "/".into() }, unknown).is_err());
    let mut other = ours_active();
    other.tags.insert(TAG_EMPLOYEE.into(), "E2".into());
    assert!(seal_first(&disabled(), &Found::Managed(other), unknown).is_err());
}
