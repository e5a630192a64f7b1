//! The SCIM core against what identity providers send (`fixtures/scim/`): bodies validated,
//! PATCHes applied, and the HR events each change is. Pure: no AWS, no store.

use gatehouse_core::hr_event::Change;
use gatehouse_core::ids::Team;
use gatehouse_core::policy::{EmployeeIdSource, Policy};
use gatehouse_core::scim::patch::apply;
use gatehouse_core::scim::person::{changes, entitlement, group_team, person, team};
use gatehouse_core::scim::resource::{validate, Kind};
use gatehouse_core::scim::ENTERPRISE_URN;
use serde_json::{json, Map, Value};

fn fixture(path: &str, user_id: &str) -> Value {
    let file = format!("{}/../../fixtures/scim/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text.replace("{{userId}}", user_id)).expect("a JSON fixture")
}

fn user(path: &str) -> Map<String, Value> {
    validate(Kind::User, &fixture(path, "u1")).unwrap()
}

fn policy_with(teams_from: &str) -> Policy {
    let text = gatehouse_core::policy::BUILTIN_POLICY.replace(
        "teams_from = \"groups\"",
        &format!("teams_from = \"{teams_from}\""),
    );
    Policy::parse(&text).unwrap()
}

#[test]
fn okta_create_is_stored_without_its_password_or_groups() {
    let stored = user("okta/create-user.json");
    assert!(!stored.contains_key("password"), "{stored:?}");
    assert!(!stored.contains_key("groups"), "{stored:?}");
    assert_eq!(stored["userName"], "test.user@okta.local");
    assert_eq!(stored["locale"], "en-US");
    let p = person(&stored, EmployeeIdSource::ExternalId).unwrap();
    assert_eq!(p.employee_id.unwrap().as_str(), "00ujl29u0le5T6Aj10h7");
    assert!(p.active);
    // The policy names one attribute: no employeeNumber is no employee id, not externalId's.
    let p = person(&stored, EmployeeIdSource::EmployeeNumber).unwrap();
    assert_eq!(p.employee_id, None);
}

#[test]
fn okta_deactivation_without_a_path_closes_the_user() {
    let stored = user("okta/create-user.json");
    let (after, touched) = apply(
        Kind::User,
        &stored,
        &fixture("okta/deactivate-user.json", "u1"),
    )
    .unwrap();
    assert!(touched);
    assert_eq!(after["active"], false);
    assert!(!person(&after, EmployeeIdSource::ExternalId).unwrap().active);
    let (again, _) = apply(
        Kind::User,
        &after,
        &fixture("okta/reactivate-user.json", "u1"),
    )
    .unwrap();
    assert_eq!(again["active"], true);
}

#[test]
fn entra_deactivation_in_both_flavours_closes_the_user() {
    let stored = user("entra/create-user.json");
    for f in [
        "entra/deactivate-user.json",
        "entra/deactivate-user-aadOptscim062020.json",
    ] {
        let (after, touched) = apply(Kind::User, &stored, &fixture(f, "u1")).unwrap();
        assert!(touched, "{f}");
        assert_eq!(after["active"], Value::Bool(false), "{f}");
    }
}

#[test]
fn entras_manager_is_kept_and_cleared_with_a_deactivation() {
    let stored = user("entra/create-user.json");
    let (managed, _) = apply(
        Kind::User,
        &stored,
        &fixture("entra/set-manager.json", "u1"),
    )
    .unwrap();
    assert_eq!(
        managed[ENTERPRISE_URN]["manager"],
        json!({"value": "2819c223-7f76-453a-919d-413861904646"})
    );
    let (gone, touched) = apply(
        Kind::User,
        &managed,
        &fixture("entra/deactivate-and-clear-manager.json", "u1"),
    )
    .unwrap();
    assert!(touched);
    assert_eq!(gone["active"], false);
    assert!(gone[ENTERPRISE_URN].get("manager").is_none());
    assert_eq!(gone[ENTERPRISE_URN]["employeeNumber"], "E4711");
}

#[test]
fn names_in_a_patch_value_are_case_insensitive() {
    let stored = user("entra/create-user.json");
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "name", "value": {"GivenName": "Ada"}},
                       {"op": "replace", "value": {"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": {"Department": "qe"}}}]});
    let (after, _) = apply(Kind::User, &stored, &body).unwrap();
    assert_eq!(after["name"]["givenName"], "Ada");
    assert!(after["name"].get("GivenName").is_none());
    assert_eq!(after[ENTERPRISE_URN]["department"], "qe");
}

#[test]
fn entra_updates_by_filtered_and_dotted_paths() {
    let stored = user("entra/create-user.json");
    let (after, touched) = apply(
        Kind::User,
        &stored,
        &fixture("entra/update-work-email.json", "u1"),
    )
    .unwrap();
    assert!(!touched);
    assert_eq!(after["emails"][0]["value"], "Test_User_moved@contoso.com");
    assert_eq!(after["emails"][0]["type"], "work");
    assert_eq!(after["name"]["familyName"], "updatedFamilyName");
    assert_eq!(after["name"]["givenName"], "givenName");
    let (moved, _) = apply(
        Kind::User,
        &stored,
        &fixture("entra/transfer-department.json", "u1"),
    )
    .unwrap();
    assert_eq!(moved[ENTERPRISE_URN]["department"], "qe");
    assert_eq!(moved[ENTERPRISE_URN]["employeeNumber"], "E4711");
}

#[test]
fn entra_member_removal_in_both_flavours() {
    let group = validate(
        Kind::Group,
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "engineering",
                "members": [{"value": "u1"}, {"value": "u2"}]}),
    )
    .unwrap();
    for f in [
        "entra/group-remove-member.json",
        "entra/group-remove-member-aadOptscim062020.json",
        "okta/group-remove-member.json",
    ] {
        let (after, _) = apply(Kind::Group, &group, &fixture(f, "u1")).unwrap();
        assert_eq!(after["members"], json!([{"value": "u2"}]), "{f}");
    }
    // Removing a member that is not there changes nothing (identity providers retry).
    let (after, _) = apply(
        Kind::Group,
        &group,
        &fixture("okta/group-remove-member.json", "u9"),
    )
    .unwrap();
    assert_eq!(after, group);
    let (added, _) = apply(
        Kind::Group,
        &group,
        &fixture("okta/group-add-member.json", "u3"),
    )
    .unwrap();
    assert_eq!(added["members"].as_array().unwrap().len(), 3);
    let (same, _) = apply(
        Kind::Group,
        &group,
        &fixture("okta/group-add-member.json", "u1"),
    )
    .unwrap();
    assert_eq!(
        same["members"].as_array().unwrap().len(),
        2,
        "a member is added once"
    );
}

#[test]
fn jumpclouds_put_with_active_false_is_a_valid_user() {
    let stored = user("jumpcloud/deactivate-user.json");
    assert!(!stored.contains_key("id"));
    let p = person(&stored, EmployeeIdSource::EmployeeNumber).unwrap();
    assert!(!p.active);
    assert_eq!(p.employee_id.unwrap().as_str(), "E5150");
}

#[test]
fn what_no_provider_documents_is_refused() {
    let base = fixture("okta/create-user.json", "u1");
    let cases: Vec<(Value, &str)> = vec![
        (json!({"userName": "a"}), "invalidValue"),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "userName": "a"}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", "nickname2": "x"}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", "active": "true"}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", "userNAME": "b"}),
            "invalidSyntax",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a",
                "emails": [{"value": "a@b.c", "primary": true}, {"value": "c@d.e", "primary": true}]}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a\u{0007}"}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a",
                ENTERPRISE_URN: {"department": "x"}}),
            "invalidValue",
        ),
    ];
    for (body, scim_type) in cases {
        let e = validate(Kind::User, &body).unwrap_err();
        assert_eq!(
            (e.status, e.scim_type),
            (400, Some(scim_type)),
            "{body}: {e}"
        );
    }
    let stored = validate(Kind::User, &base).unwrap();
    let patches = [
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "merge", "path": "active", "value": false}]}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []}),
            "invalidValue",
        ),
        (
            json!({"Operations": [{"op": "replace", "path": "active", "value": false}]}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove"}]}),
            "noTarget",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": "no"}]}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "x@y.z"}]}),
            "noTarget",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "groups", "value": []}]}),
            "mutability",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "userName"}]}),
            "invalidValue",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false, "extra": 1}]}),
            "invalidSyntax",
        ),
    ];
    for (body, scim_type) in patches {
        let e = apply(Kind::User, &stored, &body).unwrap_err();
        assert_eq!(
            (e.status, e.scim_type),
            (400, Some(scim_type)),
            "{body}: {e}"
        );
    }
}

#[test]
fn a_resource_larger_than_the_store_holds_is_refused_before_anything_is_sent() {
    let members: Vec<Value> = (0..3000)
        .map(|i| json!({"value": format!("{i:08}-0000-4000-8000-000000000000"), "display": "x".repeat(100)}))
        .collect();
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "big", "members": members});
    let e = validate(Kind::Group, &group).unwrap_err();
    assert_eq!((e.status, e.scim_type), (400, Some("invalidValue")), "{e}");
}

#[test]
fn a_users_changes_are_the_hr_events_an_hr_system_would_send() {
    let policy = policy_with("department");
    let created = user("entra/create-user.json");
    let p = person(&created, EmployeeIdSource::EmployeeNumber).unwrap();
    let t = team(&p, &[], None, &policy);
    assert_eq!(t.as_ref().map(Team::as_str), Some("engineering"));
    let joined = entitlement(&p, t).unwrap().expect("entitled");
    let events = changes(None, Some(&joined), None);
    assert!(
        matches!(&events[..], [(id, Change::Onboarded { team, .. })] if id.as_str() == "E4711" && team.as_str() == "engineering")
    );

    let (moved, _) = apply(
        Kind::User,
        &created,
        &fixture("entra/transfer-department.json", "u1"),
    )
    .unwrap();
    let mp = person(&moved, EmployeeIdSource::EmployeeNumber).unwrap();
    let moved_to = entitlement(&mp, team(&mp, &[], None, &policy))
        .unwrap()
        .unwrap();
    let events = changes(Some(&joined), Some(&moved_to), None);
    assert!(
        matches!(&events[..], [(_, Change::Transferred { team, .. })] if team.as_str() == "qe")
    );

    // Names and other attributes change nothing Gatehouse acts on.
    assert!(changes(Some(&joined), Some(&joined), None).is_empty());

    let (gone, _) = apply(
        Kind::User,
        &created,
        &fixture("entra/deactivate-user.json", "u1"),
    )
    .unwrap();
    let gp = person(&gone, EmployeeIdSource::EmployeeNumber).unwrap();
    let after = entitlement(&gp, team(&gp, &[], None, &policy)).unwrap();
    assert!(after.is_none());
    let events = changes(Some(&joined), None, gp.employee_id.as_ref());
    assert_eq!(events.len(), 1, "one offboarding, not two: {events:?}");
    assert_eq!(events[0].1, Change::Offboarded);
    // A deactivation repeated still sends the offboarding.
    let events = changes(None, None, gp.employee_id.as_ref());
    assert_eq!(events.len(), 1);

    // A department that is no team is no access, never a guess.
    let mut other = created.clone();
    other[ENTERPRISE_URN]["department"] = "Engineering".into();
    let op = person(&other, EmployeeIdSource::EmployeeNumber).unwrap();
    assert_eq!(team(&op, &[], None, &policy), None);
}

#[test]
fn an_entitled_user_needs_a_usable_work_address() {
    let policy = policy_with("department");
    let mut created = user("entra/create-user.json");
    created["emails"] = json!([{"value": "ä@contoso.com", "primary": true}]);
    let p = person(&created, EmployeeIdSource::EmployeeNumber).unwrap();
    let e = entitlement(&p, team(&p, &[], None, &policy)).unwrap_err();
    assert_eq!(e.scim_type, Some("invalidValue"));
    // Not entitled (no team): the address is not Gatehouse's business.
    created[ENTERPRISE_URN]["department"] = "finance".into();
    let p = person(&created, EmployeeIdSource::EmployeeNumber).unwrap();
    assert_eq!(entitlement(&p, team(&p, &[], None, &policy)).unwrap(), None);
    // An employee id Gatehouse cannot use is refused outright.
    created[ENTERPRISE_URN]["employeeNumber"] = "E 1".into();
    assert_eq!(
        person(&created, EmployeeIdSource::EmployeeNumber)
            .unwrap_err()
            .scim_type,
        Some("invalidValue")
    );
}

#[test]
fn a_team_from_groups_is_never_one_the_provider_does_not_say() {
    let policy = policy_with("groups");
    let engineering = policy.team("engineering").unwrap();
    assert_eq!(
        group_team(["engineering", "all-staff"], None, &policy),
        Some(engineering.clone())
    );
    assert_eq!(group_team(["all-staff"], Some(&engineering), &policy), None);
    // Moving: in both team groups for a moment, the team stays what it was.
    assert_eq!(
        group_team(["engineering", "qe"], Some(&engineering), &policy),
        Some(engineering.clone())
    );
    assert_eq!(group_team(["engineering", "qe"], None, &policy), None);
    let qe = policy.team("qe").unwrap();
    assert_eq!(group_team(["qe"], Some(&engineering), &policy), Some(qe));
}
