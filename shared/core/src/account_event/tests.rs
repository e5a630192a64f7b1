use super::*;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn edit(name: &str, f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&fixture(name)).unwrap();
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}

fn request(detail: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "version": "0", "id": "ev-1", "detail-type": "Baseline Requested",
        "source": "gatehouse", "account": "111111111111", "time": "2026-11-27T12:00:00Z",
        "region": "us-east-1", "resources": [], "detail": detail,
    }))
    .unwrap()
}

#[test]
fn reconciles_baseline_request_is_exactly_valid_or_refused() {
    let e = parse_account_event(&request(serde_json::json!({
        "accountId": "123456789012", "cause": "reconcile.r-1", "users": ["ada@example.com"]
    })))
    .unwrap();
    assert_eq!(e.reported_by, Reporter::Reconcile);
    let Creation::Requested(r) = &e.result else {
        panic!("{e:?}")
    };
    assert_eq!(r.account_id.as_str(), "123456789012");
    assert_eq!(r.users, ["ada@example.com"]);
    let back = parse_account_event(&serde_json::to_vec(&e.to_envelope()).unwrap()).unwrap();
    assert_eq!(back, e);

    let most: Vec<String> = (0..MAX_REQUESTED_USERS).map(|n| format!("u{n}")).collect();
    assert!(parse_account_event(&request(serde_json::json!({
        "accountId": "123456789012", "cause": "c", "users": most
    })))
    .is_ok());
    let many: Vec<String> = (0..=MAX_REQUESTED_USERS).map(|n| format!("u{n}")).collect();
    for bad in [
        serde_json::json!({"accountId": "123", "cause": "c", "users": []}),
        serde_json::json!({"accountId": "123456789012", "users": []}),
        serde_json::json!({"accountId": "123456789012", "cause": "c"}),
        serde_json::json!({"accountId": "123456789012", "cause": "c", "users": [], "x": 1}),
        serde_json::json!({"accountId": "123456789012", "cause": "c", "users": ["a b"]}),
        serde_json::json!({"accountId": "123456789012", "cause": "c", "users": ["a/b"]}),
        serde_json::json!({"accountId": "123456789012", "cause": "c", "users": many}),
        serde_json::json!({"accountId": "123456789012", "cause": "", "users": []}),
    ] {
        assert!(parse_account_event(&request(bad.clone())).is_err(), "{bad}");
    }
    // From anyone but Gatehouse, it is not a request.
    let mut other: serde_json::Value = serde_json::from_slice(&request(
        serde_json::json!({"accountId": "123456789012", "cause": "c", "users": []}),
    ))
    .unwrap();
    other["source"] = "com.example.hr".into();
    assert!(parse_account_event(&serde_json::to_vec(&other).unwrap()).is_err());
}

#[test]
fn cloudtrail_timestamps_parse() {
    let t = parse_cloudtrail_time("Sep 16, 2020 9:20:50 PM").unwrap();
    assert_eq!(
        (t.hour(), t.minute(), t.second(), t.day()),
        (21, 20, 50, 16)
    );
    assert!(parse_cloudtrail_time("2020-09-16T21:20:50Z").is_none());
}

#[test]
fn a_succeeded_creation_names_the_account() {
    let e = parse_account_event(&fixture("create-account-result-succeeded.json")).unwrap();
    assert_eq!(
        e.result,
        Creation::Succeeded {
            account_id: AccountId::parse("444455556666").unwrap()
        }
    );
}

#[test]
fn either_cloudtrail_detail_type_is_accepted() {
    let bytes = edit("create-account-result-succeeded.json", |v| {
        v["detail-type"] = "AWS API Call via CloudTrail".into();
    });
    assert!(parse_account_event(&bytes).is_ok());
}

#[test]
fn a_failed_creation_carries_its_reason() {
    let e = parse_account_event(&fixture("create-account-result-failed.json")).unwrap();
    assert_eq!(
        e.result,
        Creation::Failed {
            reason: "EMAIL_ALREADY_EXISTS".into()
        }
    );
}

#[test]
fn control_tower_creations_are_understood() {
    let e = parse_account_event(&fixture("control-tower-create-managed-account.json")).unwrap();
    assert_eq!(
        e.result,
        Creation::Succeeded {
            account_id: AccountId::parse("777788889999").unwrap()
        }
    );
    assert_eq!(e.reported_by, Reporter::ControlTower);
}

#[test]
fn incomplete_or_foreign_events_are_refused() {
    let no_id = edit("create-account-result-succeeded.json", |v| {
        v["detail"]["serviceEventDetails"]["createAccountStatus"]
            .as_object_mut()
            .unwrap()
            .remove("accountId");
    });
    let bogus_id = edit("create-account-result-succeeded.json", |v| {
        v["detail"]["serviceEventDetails"]["createAccountStatus"]["accountId"] = "12345".into();
    });
    let bad_time = edit("create-account-result-succeeded.json", |v| {
        v["detail"]["serviceEventDetails"]["createAccountStatus"]["completedTimestamp"] =
            "yesterday".into();
    });
    let other_event = edit("create-account-result-succeeded.json", |v| {
        v["detail"]["eventName"] = "InviteAccountToOrganization".into();
    });
    let spoofed = edit("create-account-result-succeeded.json", |v| {
        v["source"] = "com.example.hr".into();
    });
    let in_progress = edit("create-account-result-succeeded.json", |v| {
        v["detail"]["serviceEventDetails"]["createAccountStatus"]["state"] = "IN_PROGRESS".into();
    });
    for bytes in [no_id, bogus_id, bad_time, other_event, spoofed, in_progress] {
        let r = parse_account_event(&bytes).unwrap_err();
        assert!(r.event_id.is_some(), "{}", r.reason);
    }
    assert!(parse_account_event(b"{").is_err());
}

#[test]
fn the_reporter_is_named_for_logs_and_outcomes() {
    assert_eq!(Reporter::Organizations.as_str(), "organizations");
    assert_eq!(Reporter::ControlTower.to_string(), "controltower");
    let e = parse_account_event(&fixture("create-account-result-succeeded.json")).unwrap();
    assert_eq!(e.reported_by, Reporter::Organizations);
}

#[test]
fn a_tag_set_on_an_account_is_understood() {
    let e = parse_account_event(&fixture("tag-resource-environment.json")).unwrap();
    let Creation::Tagged { account_id, tags } = e.result else {
        panic!("not a tag event: {:?}", e.result)
    };
    assert_eq!(account_id.as_str(), "444455556666");
    assert_eq!(tags["environment"], "staging");
    assert_eq!(tags.len(), 2);
    assert_eq!(e.reported_by, Reporter::Organizations);
}

#[test]
fn a_tag_on_anything_but_an_account_is_refused() {
    for resource in ["ou-ab12-cdef3456", "r-ab12", "p-FullAWSAccess"] {
        let bytes = edit("tag-resource-environment.json", |v| {
            v["detail"]["requestParameters"]["resourceId"] = resource.into();
        });
        let r = parse_account_event(&bytes).unwrap_err();
        assert!(r.reason.contains("not an account"), "{}", r.reason);
    }
    let no_parameters = edit("tag-resource-environment.json", |v| {
        v["detail"]
            .as_object_mut()
            .unwrap()
            .remove("requestParameters");
    });
    assert!(parse_account_event(&no_parameters).is_err());
}
