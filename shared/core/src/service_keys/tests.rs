use super::*;

const ROTATION: Rotation = Rotation {
    rotate_days: 90,
    grace_days: 7,
};

fn at(days: i64, secs: i64) -> Timestamp {
    // 2026-01-01T00:00:00Z plus a duration.
    let base: i128 = 1_767_225_600 * 1_000_000_000;
    Timestamp::from_unix_nanos(
        base + i128::from(days) * DAY_NANOS + i128::from(secs) * 1_000_000_000,
    )
    .unwrap()
}

fn key(id: &str, active: bool, created: Timestamp) -> Key {
    Key {
        id: id.into(),
        active,
        created,
    }
}

fn version(id: &str, written: Timestamp, current: bool) -> Version {
    Version {
        key_id: id.into(),
        written,
        current,
    }
}

#[test]
fn a_service_account_without_a_key_gets_one() {
    assert_eq!(
        next(&KeyState::default(), ROTATION, at(0, 0)),
        Step::Issue { rotation: false }
    );
}

#[test]
fn a_key_is_rotated_when_due_and_the_old_one_works_through_the_grace_period() {
    let k1 = key("K1", true, at(0, 0));
    let fresh = KeyState {
        keys: vec![k1.clone()],
        versions: vec![version("K1", at(0, 1), true)],
        intent: None,
    };
    assert_eq!(next(&fresh, ROTATION, at(89, 0)), Step::Done);
    assert_eq!(
        next(&fresh, ROTATION, at(90, 0)),
        Step::Issue { rotation: true }
    );
    // Rotated on day 90: K2 current, K1 still active for the grace period.
    let rotated = KeyState {
        keys: vec![k1.clone(), key("K2", true, at(90, 0))],
        versions: vec![
            version("K1", at(0, 1), false),
            version("K2", at(90, 1), true),
        ],
        intent: None,
    };
    assert_eq!(next(&rotated, ROTATION, at(96, 0)), Step::Done);
    assert_eq!(
        next(&rotated, ROTATION, at(97, 2)),
        Step::Deactivate {
            key_id: "K1".into(),
            why: "replaced, and its grace period is over"
        }
    );
    let deactivated = KeyState {
        keys: vec![key("K1", false, at(0, 0)), key("K2", true, at(90, 0))],
        ..rotated
    };
    assert_eq!(
        next(&deactivated, ROTATION, at(97, 3)),
        Step::Delete {
            key_id: "K1".into(),
            why: "replaced, and deactivated"
        }
    );
}

#[test]
fn the_current_key_is_never_deactivated_or_deleted() {
    // Whatever the state, a step never names the key the secret holds as current.
    let k1 = key("K1", true, at(0, 0));
    let k2 = key("K2", true, at(90, 0));
    for state in [
        KeyState {
            keys: vec![k1.clone()],
            versions: vec![version("K1", at(0, 1), true)],
            intent: Some(at(0, 0)),
        },
        KeyState {
            keys: vec![k1.clone(), k2.clone()],
            versions: vec![
                version("K1", at(0, 1), true),
                version("K2", at(90, 1), false),
            ],
            intent: None,
        },
        KeyState {
            keys: vec![k1.clone(), k2.clone()],
            versions: vec![version("K2", at(90, 1), true)],
            intent: Some(at(0, 0)),
        },
    ] {
        let current = state
            .versions
            .iter()
            .find(|v| v.current)
            .unwrap()
            .key_id
            .clone();
        for day in [0, 50, 89, 90, 97, 200, 400] {
            match next(&state, ROTATION, at(day, 0)) {
                Step::Deactivate { key_id, .. } | Step::Delete { key_id, .. } => {
                    assert_ne!(key_id, current, "day {day}: {state:?}")
                }
                _ => {}
            }
        }
    }
}

#[test]
fn a_key_whose_secret_was_never_written_is_an_orphan_once_old_enough() {
    // Interrupted between CreateAccessKey and the secret: K2 exists, no version names it.
    let state = KeyState {
        keys: vec![key("K1", true, at(0, 0)), key("K2", true, at(90, 5))],
        versions: vec![version("K1", at(0, 1), true)],
        intent: Some(at(90, 4)),
    };
    // Minutes later it may be another run's key whose secret is being written: wait.
    assert_eq!(next(&state, ROTATION, at(90, 60)), Step::Done);
    assert_eq!(
        next(&state, ROTATION, at(90, 16 * 60)),
        Step::Deactivate {
            key_id: "K2".into(),
            why: "its secret was never written"
        }
    );
    // A key made by hand long after the mark is not an orphan: never touched.
    let by_hand = KeyState {
        keys: vec![key("K1", true, at(0, 0)), key("H", true, at(95, 0))],
        intent: Some(at(90, 4)),
        ..state
    };
    assert!(matches!(
        next(&by_hand, ROTATION, at(100, 0)),
        Step::Done | Step::Blocked(_) | Step::ClearIntent
    ));
}

#[test]
fn a_hand_made_key_in_the_second_place_blocks_rotation_and_is_left_alone() {
    let state = KeyState {
        keys: vec![key("K1", true, at(0, 0)), key("H", true, at(10, 0))],
        versions: vec![version("K1", at(0, 1), true)],
        intent: None,
    };
    let Step::Blocked(why) = next(&state, ROTATION, at(90, 0)) else {
        panic!("{:?}", next(&state, ROTATION, at(90, 0)))
    };
    assert!(why.contains("1 not Gatehouse's"), "{why}");
}

#[test]
fn a_secret_whose_key_was_deactivated_by_hand_gets_a_new_key() {
    let state = KeyState {
        keys: vec![key("K1", false, at(0, 0))],
        versions: vec![version("K1", at(0, 1), true)],
        intent: None,
    };
    assert_eq!(
        next(&state, ROTATION, at(5, 0)),
        Step::Issue { rotation: false }
    );
    // With both places taken by Gatehouse's keys, the inactive one makes room.
    let full = KeyState {
        keys: vec![key("K1", false, at(0, 0)), key("K0", true, at(0, 0))],
        versions: vec![
            version("K0", at(0, 0), false),
            version("K1", at(0, 1), true),
        ],
        intent: None,
    };
    assert_eq!(
        next(&full, ROTATION, at(5, 0)),
        Step::Delete {
            key_id: "K1".into(),
            why: "making room for a new key"
        }
    );
}

#[test]
fn a_stale_intent_mark_is_cleared() {
    let state = KeyState {
        keys: vec![key("K1", true, at(0, 0))],
        versions: vec![version("K1", at(0, 1), true)],
        intent: Some(at(0, 0)),
    };
    assert_eq!(next(&state, ROTATION, at(1, 0)), Step::ClearIntent);
}

#[test]
fn version_ids_carry_the_key_id() {
    assert_eq!(version_id("AKIAEXAMPLE"), "gatehouse-key-AKIAEXAMPLE");
    assert_eq!(
        key_of_version("gatehouse-key-AKIAEXAMPLE"),
        Some("AKIAEXAMPLE")
    );
    assert_eq!(key_of_version("gatehouse-key-"), None);
    assert_eq!(key_of_version("3f0e-uuid"), None);
    let v = version_id("AKIAIOSFODNN7EXAMPLE");
    assert!((32..=64).contains(&v.len()), "{v}");
}

#[test]
fn only_the_schedule_is_a_schedule() {
    assert!(is_schedule(
        br#"{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}"#
    ));
    assert!(!is_schedule(
        br#"{"source":"com.example.hr","detail-type":"Scheduled Event"}"#
    ));
    assert!(!is_schedule(b"{}"));
}

#[test]
fn the_orphan_windows_hold_to_the_second() {
    let state = |created: Timestamp| KeyState {
        keys: vec![key("K1", true, at(0, 0)), key("K2", true, created)],
        versions: vec![version("K1", at(0, 1), true)],
        intent: Some(at(90, 0)),
    };
    let orphan = |created: Timestamp, now: Timestamp| matches!(next(&state(created), ROTATION, now), Step::Deactivate { key_id, .. } if key_id == "K2");
    // Created in the second of the mark, or the one before (second precision): Gatehouse's.
    assert!(orphan(at(90, 0), at(90, 15 * 60)));
    assert!(orphan(at(89, 86_399), at(90, 15 * 60)));
    assert!(!orphan(at(89, 86_398), at(90, 15 * 60)));
    // Up to ten minutes after the mark; later, a key made by hand.
    assert!(orphan(at(90, 600), at(90, 600 + 15 * 60)));
    assert!(!orphan(at(90, 601), at(90, 601 + 15 * 60)));
    // An orphan at fifteen minutes old, not a second before: until then, wait.
    assert_eq!(
        next(&state(at(90, 5)), ROTATION, at(90, 5 + 15 * 60 - 1)),
        Step::Done
    );
    assert!(orphan(at(90, 5), at(90, 5 + 15 * 60)));
}

#[test]
fn rotation_and_grace_fall_on_their_day() {
    let rotated = KeyState {
        keys: vec![key("K1", true, at(0, 0)), key("K2", true, at(90, 0))],
        versions: vec![
            version("K1", at(0, 0), false),
            version("K2", at(90, 0), true),
        ],
        intent: None,
    };
    assert_eq!(next(&rotated, ROTATION, at(96, 86_399)), Step::Done);
    assert!(matches!(
        next(&rotated, ROTATION, at(97, 0)),
        Step::Deactivate { .. }
    ));
    let one = KeyState {
        keys: vec![key("K1", true, at(0, 0))],
        versions: vec![version("K1", at(0, 0), true)],
        intent: None,
    };
    assert_eq!(next(&one, ROTATION, at(89, 86_399)), Step::Done);
    assert_eq!(
        next(&one, ROTATION, at(90, 0)),
        Step::Issue { rotation: true }
    );
}

#[test]
fn a_hand_made_key_is_never_what_makes_room() {
    // Rotation due, the second place taken by an inactive key made by hand: left alone.
    let state = KeyState {
        keys: vec![key("K1", true, at(0, 0)), key("H", false, at(10, 0))],
        versions: vec![version("K1", at(0, 1), true)],
        intent: None,
    };
    assert!(matches!(
        next(&state, ROTATION, at(90, 0)),
        Step::Blocked(_)
    ));
    // When the secret's key was deactivated by hand, Gatehouse's own old key makes room,
    // never the hand-made one.
    let broken = KeyState {
        keys: vec![key("K1", false, at(0, 0)), key("H", true, at(10, 0))],
        ..state
    };
    assert_eq!(
        next(&broken, ROTATION, at(5, 0)),
        Step::Delete {
            key_id: "K1".into(),
            why: "making room for a new key"
        }
    );
}
