//! `gatehouse plan --event FILE` against the emulator: what an HR, sync or account event would
//! do, read from the directory and the accounts as they are, and nothing written anywhere.

use gatehouse::invocation::handle;
use gatehouse_tests::fixtures::{create_account_result, offboarding, onboarding, sync};
use gatehouse_tests::scenario::{iam_writes, ADA};
use gatehouse_tests::world::World;
use serde_json::{json, Value};

const BOB: &str = "bob@example.com";

struct Planned {
    code: Option<i32>,
    stdout: String,
}

/// Runs `gatehouse plan --event` on `event`, with the settings a deployment gives reconcile.
async fn plan(world: &World, event: &Value, json_output: bool) -> Planned {
    let path = std::env::temp_dir().join(format!(
        "gatehouse-plan-{}-{}.json",
        std::process::id(),
        gatehouse_tests::fixtures::fresh_id()
    ));
    std::fs::write(&path, event.to_string()).unwrap();
    let env = world.function_env("reconcile");
    let cli = gatehouse_tests::binaries::path("gatehouse");
    let out = tokio::task::spawn_blocking(move || {
        let mut args = vec!["plan".to_owned(), "--event".to_owned()];
        args.push(path.to_str().unwrap().to_owned());
        if json_output {
            args.extend(["--output".to_owned(), "json".to_owned()]);
        }
        let out = std::process::Command::new(&cli)
            .args(args)
            .env_clear()
            .envs(env)
            .output()
            .expect("the gatehouse binary runs");
        let _ = std::fs::remove_file(&path);
        out
    })
    .await
    .unwrap();
    assert!(
        out.stderr.starts_with(b"gatehouse: "),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Planned {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
    }
}

fn doc(p: &Planned) -> Value {
    serde_json::from_str(&p.stdout).unwrap_or_else(|e| panic!("{e}: {}", p.stdout))
}

/// (account, user, actions) of every user in a person's plan.
fn users(doc: &Value) -> Vec<(String, String, Vec<String>)> {
    let mut out: Vec<_> = doc["users"]
        .as_array()
        .unwrap_or_else(|| panic!("users in {doc}"))
        .iter()
        .map(|u| {
            (
                u["accountId"].as_str().unwrap().to_owned(),
                u["userName"].as_str().unwrap().to_owned(),
                u["actions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn plan_shows_what_an_event_would_do_and_writes_nothing() {
    let world = World::new().await;
    let deps = world.deps("people-events");
    let ada_hired = onboarding("E1", ADA, "engineering", "2026-11-02T09:00:00Z");
    for event in [
        ada_hired.clone(),
        onboarding("E2", BOB, "qe", "2026-11-02T09:00:00Z"),
    ] {
        handle(&deps, event).await.unwrap();
    }
    let (dev, test) = (world.account("development"), world.account("testing"));
    let _ = world.outcomes().await;
    world.proxy.reset();

    // An offboarding: Ada's user in development would be sealed, closers first.
    let leaving = plan(&world, &offboarding("E1", "2026-11-20T17:00:00Z"), true).await;
    assert_eq!(leaving.code, Some(1), "it would change something");
    let d = doc(&leaving);
    assert_eq!(d["kind"], "person");
    assert_eq!(d["statusBefore"], "active");
    assert_eq!(d["statusAfter"], "offboarded");
    assert_eq!(d["stale"], false);
    // Every account is in scope (a leaver may hold users anywhere); only development holds one.
    let planned = users(&d);
    assert_eq!(planned.len(), 4, "{d}");
    let changing: Vec<_> = planned.iter().filter(|(_, _, a)| !a.is_empty()).collect();
    assert_eq!(changing.len(), 1, "{d}");
    let (account, user, actions) = changing[0];
    assert_eq!((account.as_str(), user.as_str()), (dev, ADA));
    assert_eq!(
        &actions[..3],
        [
            "attach deny-all",
            "delete the console password",
            "remove from developers"
        ],
        "{d}"
    );
    assert!(actions.iter().any(|a| a.starts_with("tag ")), "{d}");

    // A transfer: Bob would leave testing and get development.
    let moving = plan(
        &world,
        &gatehouse_tests::fixtures::transfer("E2", BOB, "engineering", "2026-11-21T09:00:00Z"),
        true,
    )
    .await;
    let planned = users(&doc(&moving));
    let in_dev = planned.iter().find(|(a, _, _)| a == dev).unwrap();
    assert_eq!(in_dev.2[0], "create the user", "{planned:?}");
    let in_test = planned.iter().find(|(a, _, _)| a == test).unwrap();
    assert!(
        in_test.2.contains(&"attach deny-all".to_owned()),
        "{planned:?}"
    );

    // The onboarding again: already so; exit 0. A sync of Ada: also nothing.
    let again = plan(&world, &ada_hired, true).await;
    assert_eq!(again.code, Some(0), "{}", again.stdout);
    assert!(users(&doc(&again)).iter().all(|(_, _, a)| a.is_empty()));
    let synced = plan(&world, &sync("E1", Some(dev)), true).await;
    assert_eq!(synced.code, Some(0), "{}", synced.stdout);
    assert_eq!(users(&doc(&synced)).len(), 1);

    // An event older than what the directory knows: stale, nothing.
    let old = plan(
        &world,
        &onboarding("E1", ADA, "qe", "2026-10-01T09:00:00Z"),
        true,
    )
    .await;
    assert_eq!(old.code, Some(0));
    assert_eq!(doc(&old)["stale"], true);

    // An event the function would refuse: exit 3, the reason.
    let bad = plan(
        &world,
        &onboarding(
            "E3",
            "eve@example.com",
            "astronauts",
            "2026-11-02T09:00:00Z",
        ),
        true,
    )
    .await;
    assert_eq!(bad.code, Some(3));
    let d = doc(&bad);
    assert_eq!(d["kind"], "refused");
    assert!(d["eventId"].is_string(), "{d}");
    assert!(
        d["reason"]
            .as_str()
            .unwrap()
            .contains("not a team of the access policy"),
        "{d}"
    );

    // An account event: the environment it would get and who would be enqueued.
    let staging = world
        .create_bare_account("staging-2", Some("staging"))
        .await;
    let created = plan(&world, &create_account_result(&staging), true).await;
    assert_eq!(created.code, Some(1));
    let d = doc(&created);
    assert_eq!(d["kind"], "account");
    assert_eq!(d["environment"], "staging");
    assert_eq!(d["baselinedBefore"], false);
    assert_eq!(d["backfill"], json!([]), "no PM or SA hired yet");
    let dev_again = plan(&world, &create_account_result(dev), true).await;
    let d = doc(&dev_again);
    assert_eq!(d["baselinedBefore"], true, "{d}");
    assert_eq!(d["repairs"], json!([]), "{d}");
    assert_eq!(d["backfill"], json!(["E1"]), "{d}");

    // For people: a table.
    let table = plan(&world, &offboarding("E1", "2026-11-20T17:00:00Z"), false).await;
    assert!(table.stdout.starts_with("E1 ("), "{}", table.stdout);
    assert!(
        table
            .stdout
            .lines()
            .any(|l| l.contains(ADA) && l.contains("attach deny-all")),
        "{}",
        table.stdout
    );

    // Nothing written anywhere: IAM, the directory, the queue, the bus.
    let calls = world.proxy.calls();
    assert!(iam_writes(&calls).is_empty(), "{:?}", iam_writes(&calls));
    for write in [
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "SendMessage",
        "SendMessageBatch",
        "PutEvents",
        "CreateSecret",
        "PutSecretValue",
    ] {
        assert!(world.proxy.calls_of(write).is_empty(), "{write}");
    }
    assert!(world.outcomes().await.is_empty());
    let ada = gatehouse_tests::access::user(&world.iam(dev).await, ADA)
        .await
        .unwrap();
    assert_eq!(ada.tag("gatehouse:status"), Some("active"));
}
