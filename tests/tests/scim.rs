//! The SCIM front door against the emulator: what Okta, Entra ID and JumpCloud send (the
//! requests under `fixtures/scim/`), through the real `scim` binary as a function URL delivers
//! it, onto the bus as HR events, through the work queue and `people-events`, to the IAM users
//! in the emulated accounts. And what cannot succeed: refused with a SCIM error, nothing
//! changed anywhere.

use std::collections::BTreeSet;

use gatehouse::invocation::handle;
use gatehouse_tests::scenario::{open_in, user_in};
use gatehouse_tests::scim::{Answer, ScimClient};
use gatehouse_tests::world::{World, ENVIRONMENTS};
use serde_json::{json, Value};

fn fixture(path: &str, user_id: &str) -> Value {
    let file = format!("{}/../fixtures/scim/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text.replace("{{userId}}", user_id)).expect("a JSON fixture")
}

/// A world whose policy takes teams `teams_from` groups or the department, and employee ids
/// from Okta's `externalId` (its fixtures carry no employeeNumber) or Entra ID's and JumpCloud's
/// `employeeNumber`.
async fn scim_world(teams_from: &str) -> (World, ScimClient) {
    let mut world = World::new().await;
    let employee_id_from = match teams_from {
        "groups" => "externalId",
        _ => "employeeNumber",
    };
    world.use_scim_policy(teams_from, employee_id_from);
    let client = ScimClient::start(&world).await;
    (world, client)
}

/// Delivers what the SCIM function put on the bus, as the bus and the work queue would, to
/// `people-events`. Returns the HR events' detail-types.
async fn deliver(world: &World) -> Vec<String> {
    let envelopes = world.route_hr_events().await;
    let people = world.deps("people-events");
    let drained = world
        .drain_work_queue(|batch| async { handle(&people, batch).await.unwrap() }, 20)
        .await;
    assert!(drained.handed_back.is_empty(), "{:?}", drained.handed_back);
    envelopes
        .iter()
        .map(|e| e["detail-type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn created(answer: &Answer) -> String {
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert_eq!(
        answer.headers["location"], answer.body["meta"]["location"],
        "Location is meta.location"
    );
    answer.body["id"].as_str().expect("an id").to_owned()
}

/// Every account in which `name` has a user: all of them disabled, none deleted.
async fn assert_disabled_everywhere(world: &World, name: &str) -> usize {
    let mut found = 0;
    for env in ENVIRONMENTS {
        if let Some(u) = user_in(world, world.account(env), name).await {
            found += 1;
            assert_eq!(u.tag("gatehouse:status"), Some("disabled"), "{env}: {name}");
            assert!(!u.console, "{env}: {name} keeps no console");
        }
    }
    assert!(open_in(world, name).await.is_empty());
    found
}

#[tokio::test]
async fn okta_creates_pushes_the_team_group_and_deactivates_through_to_iam() {
    let (world, okta) = scim_world("groups").await;
    let name = "test.user@okta.local";
    // Okta looks the user up before it creates it.
    let lookup = okta
        .send(
            "GET",
            "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100",
            None,
        )
        .await;
    assert_eq!(
        (lookup.status, &lookup.body["totalResults"]),
        (200, &json!(0))
    );

    let answer = okta
        .send(
            "POST",
            "/Users",
            Some(&fixture("okta/create-user.json", "")),
        )
        .await;
    let id = created(&answer);
    assert!(
        answer.body.get("password").is_none(),
        "a password is never returned"
    );
    assert_eq!(answer.headers["content-type"], "application/scim+json");
    // Created, but in no team yet: nothing to grant.
    assert!(deliver(&world).await.is_empty());
    assert!(open_in(&world, name).await.is_empty());

    let group = okta
        .send(
            "POST",
            "/Groups",
            Some(&fixture("okta/push-group.json", &id)),
        )
        .await;
    created(&group);
    assert_eq!(deliver(&world).await, ["Employee Onboarded"]);
    assert_eq!(
        open_in(&world, name).await,
        BTreeSet::from(["development".to_owned()])
    );
    let user = okta.send("GET", &format!("/Users/{id}"), None).await;
    assert_eq!(
        user.body["groups"][0]["display"], "engineering",
        "{:?}",
        user.body
    );

    let deactivated = okta
        .send(
            "PATCH",
            &format!("/Users/{id}"),
            Some(&fixture("okta/deactivate-user.json", &id)),
        )
        .await;
    assert_eq!(
        (deactivated.status, &deactivated.body["active"]),
        (200, &json!(false))
    );
    assert_eq!(deliver(&world).await, ["Employee Offboarded"]);
    assert_eq!(assert_disabled_everywhere(&world, name).await, 1);

    // Okta repeats itself: the offboarding is sent again and changes nothing more.
    let again = okta
        .send(
            "PATCH",
            &format!("/Users/{id}"),
            Some(&fixture("okta/deactivate-user.json", &id)),
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(deliver(&world).await, ["Employee Offboarded"]);
    assert_eq!(assert_disabled_everywhere(&world, name).await, 1);

    // Reactivated: a rehire, back in the team's environment.
    let back = okta
        .send(
            "PATCH",
            &format!("/Users/{id}"),
            Some(&fixture("okta/reactivate-user.json", &id)),
        )
        .await;
    assert_eq!(back.status, 200);
    assert_eq!(deliver(&world).await, ["Employee Onboarded"]);
    assert_eq!(
        open_in(&world, name).await,
        BTreeSet::from(["development".to_owned()])
    );
}

#[tokio::test]
async fn entra_creates_transfers_and_deactivates_through_to_iam() {
    let (world, entra) = scim_world("department").await;
    let name = "test_user_fd0ea19b@contoso.com";
    let id = created(
        &entra
            .send(
                "POST",
                "/Users",
                Some(&fixture("entra/create-user.json", "")),
            )
            .await,
    );
    assert_eq!(deliver(&world).await, ["Employee Onboarded"]);
    assert_eq!(
        open_in(&world, name).await,
        BTreeSet::from(["development".to_owned()])
    );

    let moved = entra
        .send(
            "PATCH",
            &format!("/Users/{id}"),
            Some(&fixture("entra/transfer-department.json", &id)),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!(deliver(&world).await, ["Employee Transferred"]);
    assert_eq!(
        open_in(&world, name).await,
        BTreeSet::from(["testing".to_owned()])
    );

    // Entra ID's long-standing form: "Replace", and the boolean as the string "False".
    let gone = entra
        .send(
            "PATCH",
            &format!("/Users/{id}"),
            Some(&fixture("entra/deactivate-user.json", &id)),
        )
        .await;
    assert_eq!((gone.status, &gone.body["active"]), (200, &json!(false)));
    assert_eq!(deliver(&world).await, ["Employee Offboarded"]);
    assert_eq!(assert_disabled_everywhere(&world, name).await, 2);
}

#[tokio::test]
async fn entras_conformant_flavour_and_jumpclouds_put_deactivate_too() {
    let (world, client) = scim_world("department").await;
    let entra = "test_user_fd0ea19b@contoso.com";
    let jumpcloud = "jane.doe@example.com";
    let e = created(
        &client
            .send(
                "POST",
                "/Users",
                Some(&fixture("entra/create-user.json", "")),
            )
            .await,
    );
    let j = created(
        &client
            .send(
                "POST",
                "/Users",
                Some(&fixture("jumpcloud/create-user.json", "")),
            )
            .await,
    );
    let mut kinds = deliver(&world).await;
    kinds.sort();
    assert_eq!(kinds, ["Employee Onboarded", "Employee Onboarded"]);
    assert_eq!(
        open_in(&world, entra).await,
        BTreeSet::from(["development".to_owned()])
    );
    assert_eq!(
        open_in(&world, jumpcloud).await,
        BTreeSet::from(["staging".to_owned()])
    );

    let gone = client
        .send(
            "PATCH",
            &format!("/Users/{e}"),
            Some(&fixture("entra/deactivate-user-aadOptscim062020.json", &e)),
        )
        .await;
    assert_eq!(gone.status, 200);
    let put = client
        .send(
            "PUT",
            &format!("/Users/{j}"),
            Some(&fixture("jumpcloud/deactivate-user.json", &j)),
        )
        .await;
    assert_eq!((put.status, &put.body["active"]), (200, &json!(false)));
    assert_eq!(
        deliver(&world).await,
        ["Employee Offboarded", "Employee Offboarded"]
    );
    assert_eq!(assert_disabled_everywhere(&world, entra).await, 1);
    assert_eq!(assert_disabled_everywhere(&world, jumpcloud).await, 1);
}

#[tokio::test]
async fn delete_offboards_and_never_deletes_the_iam_user() {
    let (world, okta) = scim_world("groups").await;
    let name = "test.user@okta.local";
    let id = created(
        &okta
            .send(
                "POST",
                "/Users",
                Some(&fixture("okta/create-user.json", "")),
            )
            .await,
    );
    let group = created(
        &okta
            .send(
                "POST",
                "/Groups",
                Some(&fixture("okta/push-group.json", &id)),
            )
            .await,
    );
    assert_eq!(deliver(&world).await, ["Employee Onboarded"]);

    let deleted = okta.send("DELETE", &format!("/Users/{id}"), None).await;
    assert_eq!((deleted.status, &deleted.body), (204, &Value::Null));
    assert_eq!(
        okta.send("GET", &format!("/Users/{id}"), None).await.status,
        404
    );
    let group = okta.send("GET", &format!("/Groups/{group}"), None).await;
    assert!(
        group.body.get("members").is_none(),
        "gone from its group: {:?}",
        group.body
    );
    assert_eq!(deliver(&world).await, ["Employee Offboarded"]);
    assert_eq!(
        assert_disabled_everywhere(&world, name).await,
        1,
        "disabled, kept"
    );
}

/// The SCIM table, whole: what a refused request must leave as it was.
async fn scim_table(world: &World) -> Vec<String> {
    let scan = aws_sdk_dynamodb::Client::new(&world.direct)
        .scan()
        .table_name(gatehouse_tests::scim::SCIM_TABLE)
        .send()
        .await
        .unwrap();
    let mut items: Vec<String> = scan
        .items()
        .iter()
        .map(|i| {
            format!(
                "{:?}",
                i.iter().collect::<std::collections::BTreeMap<_, _>>()
            )
        })
        .collect();
    items.sort();
    items
}

#[tokio::test]
async fn a_request_that_cannot_succeed_is_refused_and_changes_nothing() {
    let (world, client) = scim_world("department").await;
    let name = "test_user_fd0ea19b@contoso.com";
    let id = created(
        &client
            .send(
                "POST",
                "/Users",
                Some(&fixture("entra/create-user.json", "")),
            )
            .await,
    );
    let team = client
        .send("POST", "/Groups", Some(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "admins"})))
        .await;
    let group = created(&team);
    deliver(&world).await;
    let table = scim_table(&world).await;
    let before = user_in(&world, world.account("development"), name)
        .await
        .unwrap();

    let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    let mut duplicate = fixture("entra/create-user.json", "");
    duplicate["userName"] = "TEST_USER_AB6490EE-1E48-479E-A20B-2D77186B5DD1@CONTOSO.COM".into();
    let mut same_employee = fixture("entra/create-user.json", "");
    same_employee["userName"] = "someone.else@contoso.com".into();
    let user = format!("/Users/{id}");
    // method, path, body, the status and scimType answered.
    type Case<'a> = (&'a str, String, Option<Value>, u16, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/Users".into(),
            Some(json!({"userName": "x"})),
            400,
            Some("invalidValue"),
        ),
        (
            "POST",
            "/Users".into(),
            Some(duplicate),
            409,
            Some("uniqueness"),
        ),
        (
            "POST",
            "/Users".into(),
            Some(same_employee),
            409,
            Some("uniqueness"),
        ),
        (
            "PATCH",
            user.clone(),
            Some(patch(
                json!([{"op": "merge", "path": "active", "value": false}]),
            )),
            400,
            Some("invalidValue"),
        ),
        (
            "PATCH",
            user.clone(),
            Some(patch(
                json!([{"op": "replace", "path": "active", "value": "maybe"}]),
            )),
            400,
            Some("invalidValue"),
        ),
        (
            "PATCH",
            user.clone(),
            Some(patch(
                json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "not an address"}]),
            )),
            400,
            Some("invalidValue"),
        ),
        (
            "PATCH",
            user.clone(),
            Some(patch(
                json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "E 1"}]),
            )),
            400,
            Some("invalidValue"),
        ),
        // Two operations, the second invalid: the first is not applied either.
        (
            "PATCH",
            user.clone(),
            Some(patch(
                json!([{"op": "replace", "path": "active", "value": false}, {"op": "add", "path": "nosuch", "value": 1}]),
            )),
            400,
            Some("invalidPath"),
        ),
        (
            "PATCH",
            format!("/Groups/{group}"),
            Some(patch(
                json!([{"op": "add", "path": "members", "value": [{"value": "no-such-user"}]}]),
            )),
            400,
            Some("invalidValue"),
        ),
        (
            "GET",
            "/Users?filter=title%20eq%20%22x%22".into(),
            None,
            400,
            Some("invalidFilter"),
        ),
        ("GET", "/Users/no-such-id".into(), None, 404, None),
        (
            "PUT",
            "/Users/no-such-id".into(),
            Some(fixture("entra/create-user.json", "")),
            404,
            None,
        ),
        ("DELETE", "/ServiceProviderConfig".into(), None, 405, None),
        ("POST", "/.search".into(), Some(json!({})), 501, None),
        ("GET", "/Bulk".into(), None, 404, None),
    ];
    for (method, path, body, status, scim_type) in cases {
        let answer = client.send(method, &path, body.as_ref()).await;
        assert_eq!(answer.status, status, "{method} {path}: {:?}", answer.body);
        assert_eq!(
            answer.body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
            "{method} {path}"
        );
        assert_eq!(answer.body["status"], json!(status.to_string()));
        assert_eq!(
            answer.body["scimType"].as_str(),
            scim_type,
            "{method} {path}: {:?}",
            answer.body
        );
    }
    // Not JSON, a key twice, too big, no token, a wrong token.
    let token = format!("Bearer {}", world.scim_token().await);
    for (authorization, body, status) in [
        (Some(token.as_str()), "{\"schemas\":".to_owned(), 400),
        (Some(token.as_str()), r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false,"value":true}]}"#.to_owned(), 400),
        (Some(token.as_str()), format!("{{\"schemas\":[],\"x\":\"{}\"}}", "a".repeat(300 * 1024)), 413),
        (None, fixture("okta/deactivate-user.json", "").to_string(), 401),
        (Some("Bearer not-the-token-but-long-enough-to-be-one-000000"), fixture("okta/deactivate-user.json", "").to_string(), 401),
        (Some(&token.replace("Bearer ", "Basic ")), fixture("okta/deactivate-user.json", "").to_string(), 401),
    ] {
        let answer = client.send_as(authorization, "PATCH", &user, Some(body)).await;
        assert_eq!(answer.status, status, "{:?}", answer.body);
        assert_eq!(answer.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
    }

    assert_eq!(
        scim_table(&world).await,
        table,
        "the SCIM store is as it was"
    );
    assert!(
        world.route_hr_events().await.is_empty(),
        "no HR event was sent"
    );
    let after = user_in(&world, world.account("development"), name)
        .await
        .unwrap();
    assert_eq!(after.tag("gatehouse:status"), Some("active"));
    assert_eq!(
        (after.console, &after.groups),
        (before.console, &before.groups)
    );
}

#[tokio::test]
async fn the_token_rotates_without_cutting_the_provider_off() {
    let (world, client) = scim_world("groups").await;
    let first = world.scim_token().await;
    let ask = |token: String| {
        let client = &client;
        async move {
            client
                .send_as(
                    Some(&format!("Bearer {token}")),
                    "GET",
                    "/ServiceProviderConfig",
                    None,
                )
                .await
                .status
        }
    };
    assert_eq!(ask(first.clone()).await, 200);
    let secrets = aws_sdk_secretsmanager::Client::new(&world.direct);
    let rotate = |value: String| {
        let secrets = secrets.clone();
        let arn = world.scim_token_secret.clone();
        async move {
            secrets
                .put_secret_value()
                .secret_id(arn)
                .secret_string(value)
                .send()
                .await
                .unwrap();
        }
    };
    let second = "S".repeat(48);
    rotate(second.clone()).await;
    // A token that matches nothing makes the function read the secret again, at most once per
    // interval: the new token works once the interval since the last read has passed.
    tokio::time::sleep(
        gatehouse::scim::token::REFRESH_EVERY + std::time::Duration::from_millis(300),
    )
    .await;
    assert_eq!(ask(second.clone()).await, 200, "the new token");
    assert_eq!(
        ask(first.clone()).await,
        200,
        "the previous token, until the next rotation"
    );
    let third = "T".repeat(48);
    rotate(third.clone()).await;
    tokio::time::sleep(
        gatehouse::scim::token::REFRESH_EVERY + std::time::Duration::from_millis(300),
    )
    .await;
    assert_eq!(ask(third).await, 200);
    assert_eq!(ask(second).await, 200);
    assert_eq!(ask(first).await, 401, "two rotations ago: refused");
    assert_eq!(ask("x".repeat(48)).await, 401);
}

#[tokio::test]
async fn each_operation_makes_only_the_calls_it_needs() {
    let (world, client) = scim_world("groups").await;
    let calls = |expected: &[(&str, usize)]| {
        let counts = world.proxy.counts();
        let expected: std::collections::BTreeMap<String, usize> =
            expected.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        assert_eq!(counts, expected);
        world.proxy.reset();
    };
    world.proxy.reset();
    assert_eq!(
        client
            .send("GET", "/ServiceProviderConfig", None)
            .await
            .status,
        200
    );
    calls(&[("secretsmanager:GetSecretValue", 2)]); // current and previous, once per process
    let id = created(
        &client
            .send(
                "POST",
                "/Users",
                Some(&fixture("okta/create-user.json", "")),
            )
            .await,
    );
    // The two names it claims (userName, employee id) looked up, then one transaction.
    calls(&[("dynamodb:GetItem", 2), ("dynamodb:TransactWriteItems", 1)]);
    let found = client
        .send(
            "GET",
            "/Users?filter=userName%20eq%20%22TEST.USER%40okta.local%22",
            None,
        )
        .await;
    assert_eq!(
        found.body["Resources"][0]["id"],
        json!(id),
        "userName is not case-exact"
    );
    calls(&[("dynamodb:GetItem", 2)]);
    created(
        &client
            .send(
                "POST",
                "/Groups",
                Some(&fixture("okta/push-group.json", &id)),
            )
            .await,
    );
    // The member read, the group name's claim looked up, the onboarding sent, one transaction.
    calls(&[
        ("dynamodb:GetItem", 2),
        ("events:PutEvents", 1),
        ("dynamodb:TransactWriteItems", 1),
    ]);
    let gone = client
        .send(
            "PATCH",
            &format!("/Users/{id}"),
            Some(&fixture("okta/deactivate-user.json", &id)),
        )
        .await;
    assert_eq!(gone.status, 200);
    calls(&[
        ("dynamodb:GetItem", 1),
        ("events:PutEvents", 1),
        ("dynamodb:TransactWriteItems", 1),
    ]);
    // A wrong token makes the function read the secret again (a rotated token works at once),
    // at most once in a few seconds: the one right after it costs nothing.
    let refused = client
        .send_as(Some("Bearer wrong"), "GET", "/Users", None)
        .await;
    assert_eq!(refused.status, 401);
    let reads = world.proxy.counts();
    assert!(
        reads.keys().all(|k| k == "secretsmanager:GetSecretValue")
            && reads.values().all(|n| *n <= 2),
        "{reads:?}"
    );
    world.proxy.reset();
    let refused = client
        .send_as(Some("Bearer wrong"), "GET", "/Users", None)
        .await;
    assert_eq!(refused.status, 401);
    calls(&[]);
}

#[tokio::test]
async fn a_lost_race_ends_with_the_store_and_the_directory_agreeing() {
    // Okta renames a group to a team while, at the same moment, it deactivates a member. The
    // rename reads the member as active, and is held back before it sends; the deactivation
    // sends its offboarding and wins the write; then the rename sends an onboarding newer than
    // that offboarding. Its write loses: before it answers 409, it sends what the store says.
    let (world, rename) = scim_world("groups").await;
    let deactivate = ScimClient::start(&world).await;
    let name = "test.user@okta.local";
    let id = created(
        &rename
            .send(
                "POST",
                "/Users",
                Some(&fixture("okta/create-user.json", "")),
            )
            .await,
    );
    let mut group = fixture("okta/push-group.json", &id);
    group["displayName"] = "all-staff".into();
    let group = created(&rename.send("POST", "/Groups", Some(&group)).await);
    assert!(deliver(&world).await.is_empty(), "all-staff is no team");

    // The rename is held at its last read (the new name's claim), after it has read the member.
    let held = |call: &gatehouse_tests::proxy::Call| {
        call.operation == "GetItem" && call.body.contains("GroupName#engineering")
    };
    world
        .proxy
        .delay(move |call| held(call).then(|| std::time::Duration::from_secs(3)));
    let to_team = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "engineering"}]});
    let group_path = format!("/Groups/{group}");
    let user_path = format!("/Users/{id}");
    let off = fixture("okta/deactivate-user.json", &id);
    let (renamed, deactivated) =
        tokio::join!(rename.send("PATCH", &group_path, Some(&to_team)), async {
            // Once the rename is held (whatever the machine's load), the deactivation runs.
            while !world.proxy.calls().iter().any(held) {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            deactivate.send("PATCH", &user_path, Some(&off)).await
        });
    assert_eq!(deactivated.status, 200, "{:?}", deactivated.body);
    assert_eq!(renamed.status, 409, "{:?}", renamed.body);
    let mut kinds = deliver(&world).await;
    kinds.sort();
    // The deactivation's offboarding, the rename's onboarding, and the truth after it.
    assert_eq!(
        kinds,
        [
            "Employee Offboarded",
            "Employee Offboarded",
            "Employee Onboarded"
        ]
    );
    assert!(
        open_in(&world, name).await.is_empty(),
        "the store says inactive, and so does IAM"
    );
}
