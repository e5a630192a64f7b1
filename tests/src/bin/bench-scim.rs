//! Benchmark (not a test): each SCIM operation, through the real `scim` binary as its function
//! URL delivers a request, against the emulator. For each: the median and slowest round trip
//! (the local Runtime API included) and the AWS calls the function made, by operation.
//!
//! `make bench-scim` runs it; argument: REPEATS (default 20), each operation on its own user.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use gatehouse_tests::scim::ScimClient;
use gatehouse_tests::world::World;
use serde_json::{json, Value};

struct Row {
    times: Vec<Duration>,
    calls: BTreeMap<String, usize>,
    repeats: usize,
}

#[tokio::main]
async fn main() {
    let repeats: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let mut world = World::with_environments(&["development"]).await;
    world.use_scim_policy("groups", "externalId");
    let client = ScimClient::start(&world).await;
    let mut rows: Vec<(String, Row)> = Vec::new();
    let mut measure = |name: &str, elapsed: Duration, calls: BTreeMap<String, usize>| {
        let row = match rows.iter_mut().find(|(n, _)| n == name) {
            Some((_, r)) => r,
            None => {
                rows.push((
                    name.to_owned(),
                    Row {
                        times: Vec::new(),
                        calls: BTreeMap::new(),
                        repeats: 0,
                    },
                ));
                &mut rows.last_mut().expect("just pushed").1
            }
        };
        row.times.push(elapsed);
        row.repeats += 1;
        for (k, v) in calls {
            *row.calls.entry(k).or_default() += v;
        }
    };

    // One request times one operation; the proxy counts the function's calls.
    macro_rules! op {
        ($name:expr, $method:expr, $path:expr, $body:expr, $status:expr) => {{
            world.proxy.reset();
            let started = Instant::now();
            let path: String = ($path).into();
            let answer = client.send($method, &path, $body).await;
            let elapsed = started.elapsed();
            assert_eq!(
                answer.status, $status,
                "{} {}: {:?}",
                $method, $path, answer.body
            );
            measure($name, elapsed, world.proxy.counts());
            answer
        }};
    }

    op!(
        "first request (reads the token)",
        "GET",
        "/ServiceProviderConfig",
        None,
        200
    );
    let group = op!(
        "POST /Groups (empty)",
        "POST",
        "/Groups",
        Some(
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "engineering"})
        ),
        201
    );
    let group = group.body["id"].as_str().expect("a group id").to_owned();
    for i in 0..repeats {
        let name = format!("bench{i:04}@example.com");
        op!(
            "GET /ServiceProviderConfig",
            "GET",
            "/ServiceProviderConfig",
            None,
            200
        );
        op!(
            "GET /Users?filter=userName eq (none)",
            "GET",
            format!(
                "/Users?filter=userName%20eq%20%22{}%22",
                name.replace('@', "%40")
            ),
            None,
            200
        );
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name, "externalId": format!("B{i:04}"), "active": true,
            "name": {"givenName": "Bench", "familyName": format!("User{i}")},
            "emails": [{"value": name, "type": "work", "primary": true}],
        });
        let created = op!(
            "POST /Users (no team yet: no event)",
            "POST",
            "/Users",
            Some(&user),
            201
        );
        let id = created.body["id"].as_str().expect("an id").to_owned();
        op!("GET /Users/{id}", "GET", format!("/Users/{id}"), None, 200);
        let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]});
        op!(
            "PATCH /Groups/{id} add member (1 onboarding)",
            "PATCH",
            format!("/Groups/{group}"),
            Some(&add),
            200
        );
        let mut renamed: Value = user.clone();
        renamed["displayName"] = "Bench User".into();
        op!(
            "PUT /Users/{id} (no access change)",
            "PUT",
            format!("/Users/{id}"),
            Some(&renamed),
            200
        );
        let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": false}}]});
        op!(
            "PATCH /Users/{id} active=false (1 offboarding)",
            "PATCH",
            format!("/Users/{id}"),
            Some(&off),
            200
        );
        op!(
            "GET /Users (list, first page)",
            "GET",
            "/Users?startIndex=1&count=100",
            None,
            200
        );
        if i % 2 == 0 {
            op!(
                "DELETE /Users/{id} (1 offboarding)",
                "DELETE",
                format!("/Users/{id}"),
                None,
                204
            );
        }
    }

    println!("| operation | requests | median | slowest | AWS calls per request |");
    println!("| --- | --- | --- | --- | --- |");
    for (name, mut row) in rows {
        row.times.sort();
        let median = row.times[row.times.len() / 2];
        let slowest = row.times[row.times.len() - 1];
        let per_request: Vec<String> = row
            .calls
            .iter()
            .map(|(k, v)| {
                let each = *v as f64 / row.repeats as f64;
                format!("{k} {each:.1}")
            })
            .collect();
        let total: usize = row.calls.values().sum();
        println!(
            "| {name} | {} | {:.1} ms | {:.1} ms | {:.1}: {} |",
            row.repeats,
            median.as_secs_f64() * 1000.0,
            slowest.as_secs_f64() * 1000.0,
            total as f64 / row.repeats as f64,
            if per_request.is_empty() {
                "none".to_owned()
            } else {
                per_request.join(", ")
            }
        );
    }
    println!();
    println!("(Every round adds a user and deletes every other one: the last list holds about {} users.)", repeats / 2);
}
