//! The edge, fuzzed: the HR-event and account-event parsers take any input and either refuse
//! it or parse it, never panic; and whatever they parse, written back out as an event, parses
//! to the very same value.

use gatehouse_core::account_event::{parse_account_event, AccountEvent, Creation, Reporter};
use gatehouse_core::hr_event::{parse_inbound, Inbound};
use gatehouse_core::ids::{AccountId, EventId, Timestamp};
use gatehouse_core::policy::Policy;
use proptest::prelude::*;
use serde_json::{json, Value};

fn policy() -> Policy {
    Policy::builtin().unwrap()
}

fn now() -> Timestamp {
    Timestamp::parse_rfc3339("now", "2026-11-27T12:00:00Z").unwrap()
}

/// Strings that are sometimes valid for a field and often almost: the edges the rules draw.
fn fuzzy(valid: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        12 => proptest::sample::select(valid).prop_map(str::to_owned),
        1 => "[A-Za-z0-9._@+=-]{0,70}",
        1 => any::<String>(),
        1 =>
        proptest::sample::select(valid).prop_flat_map(|v| {
            (0..=v.len(), any::<char>()).prop_map(move |(i, c)| {
                let mut s = v.to_owned();
                let at = s.char_indices().nth(i).map_or(s.len(), |(i, _)| i);
                s.insert(at, c);
                s
            })
        }),
    ]
}

fn maybe<T: std::fmt::Debug + Clone + 'static>(
    p: f64,
    s: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Option<T>> {
    proptest::option::weighted(p, s)
}

/// An HR envelope with fields drawn near the rules.
fn hr_envelope() -> impl Strategy<Value = Value> {
    (
        fuzzy(&[
            "Employee Onboarded",
            "Employee Transferred",
            "Employee Offboarded",
            "Employee Sync",
        ]),
        fuzzy(&["com.example.hr", "gatehouse"]),
        fuzzy(&["111122223333"]),
        fuzzy(&["6a7e8feb-b491-4cf7-a9f1-bf3703467718", "ev-1"]),
        fuzzy(&["2026-11-02T09:00:00Z", "2026-11-01T10:00:00+02:00"]),
        fuzzy(&["E1001", "e.1-2_3"]),
        maybe(
            0.9,
            fuzzy(&["ada@example.com", "Ada.Lovelace@Example.co.uk"]),
        ),
        maybe(0.9, fuzzy(&["engineering", "qe", "site-reliability"])),
        maybe(0.3, fuzzy(&["Ada", "José"])),
        maybe(
            0.7,
            fuzzy(&["2026-11-02T09:00:00Z", "2026-10-01T00:00:00.5-01:00"]),
        ),
        maybe(0.1, fuzzy(&["123456789012"])),
    )
        .prop_map(
            |(detail_type, source, account, id, time, employee, email, team, given, at, acct)| {
                let mut detail = json!({ "employeeId": employee });
                for (k, v) in [
                    ("email", email),
                    ("team", team),
                    ("givenName", given),
                    ("effectiveAt", at),
                    ("accountId", acct),
                ] {
                    if let Some(v) = v {
                        detail[k] = v.into();
                    }
                }
                json!({
                    "version": "0", "id": id, "detail-type": detail_type, "source": source,
                    "account": account, "time": time, "region": "us-east-1", "resources": [],
                    "detail": detail,
                })
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_bytes_are_refused_or_parsed_never_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_inbound(&bytes, &policy(), now());
        let _ = parse_account_event(&bytes);
    }

    #[test]
    fn any_json_text_is_refused_or_parsed_never_a_panic(text in "[\\[\\]{}:,\"a-z0-9 \\\\.-]{0,300}") {
        let _ = parse_inbound(text.as_bytes(), &policy(), now());
        let _ = parse_account_event(text.as_bytes());
    }

    #[test]
    fn a_parsed_hr_event_written_back_parses_to_itself(envelope in hr_envelope()) {
        let bytes = serde_json::to_vec(&envelope).unwrap();
        if let Ok(Inbound::Hr(event)) = parse_inbound(&bytes, &policy(), now()) {
            let again = serde_json::to_vec(&event.to_envelope("com.example.hr", "111122223333")).unwrap();
            let reparsed = parse_inbound(&again, &policy(), now());
            prop_assert_eq!(reparsed, Ok(Inbound::Hr(event)));
        }
    }

    #[test]
    fn a_parsed_account_event_written_back_parses_to_itself(
        reporter in proptest::sample::select(&[Reporter::Organizations, Reporter::ControlTower, Reporter::Reconcile][..]),
        kind in 0u8..3,
        account in "[0-9]{12}",
        reason in any::<String>(),
        tags in proptest::collection::btree_map("[a-z:/-]{1,20}", any::<String>(), 0..4),
        id in "[a-f0-9-]{1,40}",
    ) {
        let result = match (kind, reporter) {
            (_, Reporter::Reconcile) => Creation::Requested(gatehouse_core::baseline::BaselineRequest {
                account_id: AccountId::parse(&account).unwrap(),
                cause: format!("reconcile.{id}"),
                users: tags.keys().filter(|k| gatehouse_core::baseline::is_user_name(k)).cloned().collect(),
            }),
            (0, _) => Creation::Succeeded { account_id: AccountId::parse(&account).unwrap() },
            (1, _) => Creation::Failed { reason },
            (_, Reporter::Organizations) => Creation::Tagged { account_id: AccountId::parse(&account).unwrap(), tags },
            (_, Reporter::ControlTower) => Creation::Succeeded { account_id: AccountId::parse(&account).unwrap() },
        };
        let event = AccountEvent { event_id: EventId::parse(&id).unwrap(), reported_by: reporter, result };
        let bytes = serde_json::to_vec(&event.to_envelope()).unwrap();
        match parse_account_event(&bytes) {
            Ok(parsed) => prop_assert_eq!(parsed, event),
            // Only what no sender could send is refused: an event over the size limit.
            Err(r) => prop_assert!(bytes.len() > 16 * 1024, "{}", r.reason),
        }
    }
}

#[test]
fn the_generators_reach_valid_events() {
    // A property that only ever meets refusals proves little: make sure valid events are drawn.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = hr_envelope();
    let parsed = (0..2000)
        .filter(|_| {
            let v = strategy.new_tree(&mut runner).unwrap().current();
            matches!(
                parse_inbound(&serde_json::to_vec(&v).unwrap(), &policy(), now()),
                Ok(Inbound::Hr(_))
            )
        })
        .count();
    assert!(parsed > 20, "only {parsed} of 2000 drawn HR events parsed");
}
