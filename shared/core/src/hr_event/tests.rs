//! Parsing HR events and work items: what is accepted, and every way input is refused.

use super::*;

/// The clock the tests parse at.
fn now() -> Timestamp {
    Timestamp::parse_rfc3339("now", "2026-11-27T12:00:00Z").unwrap()
}
use crate::envelope::MAX_EVENT_BYTES;

fn policy() -> Policy {
    Policy::builtin().expect("built-in policy is valid")
}

fn envelope(detail_type: &str, detail: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": "com.example.hr",
        "account": "111122223333",
        "time": "2026-11-02T09:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }))
    .unwrap()
}

fn onboarding(detail: serde_json::Value) -> Result<Inbound, Rejection> {
    parse_inbound(&envelope(ONBOARDED, detail), &policy(), now())
}

#[test]
fn onboarding_parses_and_defaults_effective_at_to_envelope_time() {
    let Inbound::Hr(e) = onboarding(serde_json::json!({
        "employeeId": "E1001", "email": "Ada.Lovelace@Example.com", "team": "engineering",
        "givenName": "Ada", "familyName": "Lovelace"
    }))
    .unwrap() else {
        panic!("not an HR event")
    };
    assert_eq!(e.employee_id.as_str(), "E1001");
    assert_eq!(e.effective_at.rfc3339(), "2026-11-02T09:00:00Z");
    let Change::Onboarded { email, team, .. } = e.change else {
        panic!()
    };
    assert_eq!(email.user_name(), "ada.lovelace@example.com");
    assert_eq!(team.as_str(), "engineering");
}

#[test]
fn effective_at_overrides_envelope_time() {
    let Inbound::Hr(e) = onboarding(serde_json::json!({
        "employeeId": "E1", "email": "a@example.com", "team": "qe",
        "effectiveAt": "2026-11-01T10:00:00+02:00"
    }))
    .unwrap() else {
        panic!()
    };
    assert_eq!(e.effective_at.rfc3339(), "2026-11-01T08:00:00Z");
}

#[test]
fn bad_onboardings_are_rejected_with_a_reason() {
    let cases = [
        serde_json::json!({"email": "a@example.com", "team": "qe"}),
        serde_json::json!({"employeeId": 42, "email": "a@example.com", "team": "qe"}),
        serde_json::json!({"employeeId": "E1", "email": "a@example.com", "team": "pirates"}),
        serde_json::json!({"employeeId": "E1", "email": "not-an-email", "team": "qe"}),
        serde_json::json!({"employeeId": "E1", "email": " a@example.com", "team": "qe"}),
        serde_json::json!({"employeeId": "E1", "email": "a@exаmple.com", "team": "qe"}),
        serde_json::json!({"employeeId": "E1", "email": "a/b@example.com", "team": "qe"}),
        serde_json::json!({"employeeId": "E1", "email": "a@example", "team": "qe"}),
        serde_json::json!({"employeeId": "../E1", "email": "a@example.com", "team": "qe"}),
        serde_json::json!({"employeeId": "E1", "email": "a@example.com", "team": "qe", "admin": true}),
        serde_json::json!({"employeeId": "E1", "email": "a@example.com", "team": "qe", "effectiveAt": "yesterday"}),
        serde_json::json!({"employeeId": "E1", "email": "a@example.com", "team": "qe", "givenName": "A\u{7}"}),
    ];
    for detail in cases {
        let r = onboarding(detail.clone()).expect_err(&detail.to_string());
        assert!(!r.reason.is_empty());
        assert_eq!(
            r.event_id.as_deref(),
            Some("6a7e8feb-b491-4cf7-a9f1-bf3703467718")
        );
    }
}

#[test]
fn foreign_sources_and_unknown_detail_types_are_refused() {
    let mut v: serde_json::Value =
        serde_json::from_slice(&envelope(ONBOARDED, serde_json::json!({}))).unwrap();
    v["source"] = "com.evil.hr".into();
    let r = parse_inbound(&serde_json::to_vec(&v).unwrap(), &policy(), now()).unwrap_err();
    assert!(r.reason.contains("com.evil.hr"));
    let r = parse_inbound(
        &envelope("Employee Promoted", serde_json::json!({})),
        &policy(),
        now(),
    )
    .unwrap_err();
    assert!(r.reason.contains("Employee Promoted"));
}

#[test]
fn oversized_and_malformed_json_are_refused() {
    let big = vec![b' '; MAX_EVENT_BYTES + 1];
    assert!(parse_inbound(&big, &policy(), now())
        .unwrap_err()
        .reason
        .contains("bytes"));
    assert!(parse_inbound(b"{\"id\": ", &policy(), now()).is_err());
    assert!(parse_inbound(b"[]", &policy(), now()).is_err());
}

#[test]
fn sync_items_parse_with_and_without_account() {
    let mut v: serde_json::Value = serde_json::from_slice(&envelope(
        SYNC,
        serde_json::json!({"employeeId": "E1", "accountId": "123456789012"}),
    ))
    .unwrap();
    v["source"] = GATEHOUSE_SOURCE.into();
    let Inbound::Sync(s) =
        parse_inbound(&serde_json::to_vec(&v).unwrap(), &policy(), now()).unwrap()
    else {
        panic!()
    };
    assert_eq!(s.account_id.unwrap().as_str(), "123456789012");
    v["detail"] = serde_json::json!({"employeeId": "E1", "accountId": "12345"});
    assert!(parse_inbound(&serde_json::to_vec(&v).unwrap(), &policy(), now()).is_err());
}

#[test]
fn offboarding_needs_only_the_employee_id() {
    let Inbound::Hr(e) = parse_inbound(
        &envelope(OFFBOARDED, serde_json::json!({"employeeId": "E7"})),
        &policy(),
        now(),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(e.change, Change::Offboarded);
}

#[test]
fn names_with_bidirectional_or_other_format_characters_are_refused() {
    for bad in [
        "Ada\u{202E}ecalevoL",
        "Ada\u{2066}x\u{2069}",
        "A\u{200B}da",
        "\u{FEFF}Ada",
        "Ada\u{00AD}",
        "Ada\u{2028}",
        "Ada\u{E0041}",
    ] {
        assert!(parse_person_name("givenName", bad).is_err(), "{bad:?}");
    }
    for ok in ["Zoë", "José María", "Łukasz", "李", "O'Brien-Smith"] {
        assert!(parse_person_name("givenName", ok).is_ok(), "{ok}");
    }
}

#[test]
fn person_names_are_one_to_128_characters_without_controls() {
    assert_eq!(parse_person_name("givenName", "Ada").unwrap(), "Ada");
    assert!(parse_person_name("givenName", &"é".repeat(128)).is_ok());
    for bad in [
        String::new(),
        "é".repeat(129),
        "A\u{7}".into(),
        "A\nB".into(),
    ] {
        let e = parse_person_name("givenName", &bad).unwrap_err();
        assert!(e.0.contains("givenName"), "{bad:?}");
    }
}

#[test]
fn each_change_names_its_detail_type() {
    let email = Email::parse("a@example.com").unwrap();
    let team = Team::from_record("qe".into());
    let onboarded = Change::Onboarded {
        email: email.clone(),
        team: team.clone(),
        given_name: None,
        family_name: None,
    };
    assert_eq!(onboarded.detail_type(), "Employee Onboarded");
    assert_eq!(
        Change::Transferred { email, team }.detail_type(),
        "Employee Transferred"
    );
    assert_eq!(Change::Offboarded.detail_type(), "Employee Offboarded");
}

#[test]
fn hr_events_are_accepted_only_from_the_policys_hr_accounts() {
    let mut v: serde_json::Value = serde_json::from_slice(&envelope(
        OFFBOARDED,
        serde_json::json!({"employeeId": "E1"}),
    ))
    .unwrap();
    assert!(parse_inbound(&serde_json::to_vec(&v).unwrap(), &policy(), now()).is_ok());
    v["account"] = "444455556666".into();
    let r = parse_inbound(&serde_json::to_vec(&v).unwrap(), &policy(), now()).unwrap_err();
    assert!(r.reason.contains("444455556666") && r.reason.contains("hr_accounts"));
    assert!(r.event_id.is_some());
    v.as_object_mut().unwrap().remove("account");
    let r = parse_inbound(&serde_json::to_vec(&v).unwrap(), &policy(), now()).unwrap_err();
    assert!(r.reason.contains("account"), "{}", r.reason);
}

#[test]
fn foreign_values_are_echoed_bounded() {
    let mut v: serde_json::Value =
        serde_json::from_slice(&envelope(ONBOARDED, serde_json::json!({}))).unwrap();
    v["source"] = "s".repeat(5000).into();
    v["detail-type"] = "d".repeat(5000).into();
    let r = parse_inbound(&serde_json::to_vec(&v).unwrap(), &policy(), now()).unwrap_err();
    assert!(r.reason.len() < 300, "{}", r.reason.len());
    let r = parse_inbound(
        &envelope(&"Employee ".repeat(500), serde_json::json!({})),
        &policy(),
        now(),
    )
    .unwrap_err();
    assert!(r.reason.len() < 200, "{}", r.reason.len());
}

#[test]
fn a_work_item_is_accepted_only_from_gatehouse_itself() {
    let item = |source: &str, detail_type: &str| {
        let mut v: serde_json::Value = serde_json::from_slice(&envelope(
            detail_type,
            serde_json::json!({"employeeId": "E1"}),
        ))
        .unwrap();
        v["source"] = source.into();
        parse_inbound(&serde_json::to_vec(&v).unwrap(), &policy(), now())
    };
    assert!(matches!(item(GATEHOUSE_SOURCE, SYNC), Ok(Inbound::Sync(_))));
    // A forged work item from anyone else, even the HR source, is refused.
    assert!(item("com.evil.hr", SYNC).is_err());
    assert!(item("com.example.hr", SYNC).is_err());
    // Gatehouse's own source with an HR detail-type is not an HR event.
    assert!(item(GATEHOUSE_SOURCE, OFFBOARDED).is_err());
}

#[test]
fn a_rejection_names_the_event_and_the_employee_once_known() {
    let r = onboarding(serde_json::json!({
        "employeeId": "E1", "email": "a@example.com", "team": "pirates"
    }))
    .unwrap_err();
    assert_eq!(r.employee_id.unwrap().as_str(), "E1");
    let r = parse_inbound(
        &envelope(
            OFFBOARDED,
            serde_json::json!({"employeeId": "E1", "effectiveAt": "soon"}),
        ),
        &policy(),
        now(),
    )
    .unwrap_err();
    assert_eq!(r.employee_id.unwrap().as_str(), "E1");
    assert!(r.event_id.is_some());
}

#[test]
fn an_hr_event_dated_beyond_the_skew_is_refused() {
    let at = |effective: &str| {
        onboarding(serde_json::json!({
            "employeeId": "E1", "email": "a@example.com", "team": "qe", "effectiveAt": effective
        }))
    };
    assert!(at("2026-11-27T12:05:00Z").is_ok(), "within the skew");
    let r = at("2026-11-27T12:05:01Z").unwrap_err();
    assert!(r.reason.contains("future"), "{}", r.reason);
    assert_eq!(r.employee_id.unwrap().as_str(), "E1");
    assert!(at("2062-11-02T09:00:00Z").is_err(), "a mistyped year");
    let off = parse_inbound(
        &envelope(
            OFFBOARDED,
            serde_json::json!({"employeeId": "E1", "effectiveAt": "2026-12-31T00:00:00Z"}),
        ),
        &policy(),
        now(),
    );
    assert!(off.is_err(), "an offboarding too");
    // Without effectiveAt the envelope's time counts.
    let mut v: serde_json::Value = serde_json::from_slice(&envelope(
        OFFBOARDED,
        serde_json::json!({"employeeId": "E1"}),
    ))
    .unwrap();
    v["time"] = "2027-01-01T00:00:00Z".into();
    assert!(parse_inbound(&serde_json::to_vec(&v).unwrap(), &policy(), now()).is_err());
}
