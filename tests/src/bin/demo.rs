//! `make run`: a company in the local emulator, the real `people-events` binary running behind a
//! local Lambda Runtime API, the sample HR events, and what the accounts hold afterwards.
//!
//! It checks what it shows: if any person ends up anywhere the access model does not put them,
//! it says so and exits non-zero.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use gatehouse_tests::access::{self, UserView};
use gatehouse_tests::fixtures;
use gatehouse_tests::runtime::Function;
use gatehouse_tests::world::{World, ENVIRONMENTS};
use serde_json::Value;

/// Employee id, sample file, and where the access model says they belong.
const PEOPLE: &[(&str, &str, Option<&str>)] = &[
    ("E1001", "onboard-engineer.json", Some("development")),
    ("E2001", "onboard-qe.json", Some("testing")),
    ("E3001", "onboard-pm.json", Some("staging")),
    ("E4001", "onboard-sa.json", Some("staging")),
    ("E9001", "onboard-sre-allowed.json", Some("production")),
    ("E9002", "onboard-sre-refused.json", None),
];

#[tokio::main]
async fn main() -> ExitCode {
    let binary = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/debug/people-events"));
    let log_dir = PathBuf::from("target/localworld");
    std::fs::create_dir_all(&log_dir).expect("create target/localworld");

    let world = World::new().await;
    println!("Organization (management account {}):", world.management);
    for env in ENVIRONMENTS {
        println!("  {:<12} {}", env, world.account(env));
    }

    let mut env = world.settings();
    let creds = &world.credentials;
    env.extend([
        ("AWS_ENDPOINT_URL".to_owned(), world.proxy.url.clone()),
        ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
        (
            "AWS_ACCESS_KEY_ID".to_owned(),
            creds.access_key_id().to_owned(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY".to_owned(),
            creds.secret_access_key().to_owned(),
        ),
        (
            "AWS_SESSION_TOKEN".to_owned(),
            creds.session_token().unwrap_or_default().to_owned(),
        ),
        ("AWS_LAMBDA_LOG_FORMAT".to_owned(), "JSON".to_owned()),
        ("AWS_LAMBDA_LOG_LEVEL".to_owned(), "INFO".to_owned()),
    ]);
    let log = log_dir.join("people-events.log");
    let function = match Function::start("people-events", &binary, &env, &log).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cannot start {}: {e}", binary.display());
            return ExitCode::FAILURE;
        }
    };

    println!(
        "\nEvery event goes through the Lambda Runtime API into {}.",
        binary.display()
    );
    let mut wrong = Vec::new();
    for (title, files, expected) in steps() {
        println!("\n== {title}");
        for file in files {
            let event = fixtures::load(file);
            world.proxy.reset();
            let answer = function.invoke(&event).await;
            let calls = world.proxy.calls().len();
            let d = &event["detail"];
            let what = format!(
                "{} {} {}",
                event["detail-type"].as_str().unwrap_or_default(),
                d["employeeId"].as_str().unwrap_or_default(),
                d["team"]
                    .as_str()
                    .map(|t| format!("-> {t}"))
                    .unwrap_or_default()
            );
            match answer {
                Ok(report) => println!(
                    "  {what:<44} {} ({calls} AWS calls)",
                    summary(&report, &world)
                ),
                Err(e) => println!("  {what:<44} FAILED: {e}"),
            }
        }
        let matrix = read_matrix(&world).await;
        print_matrix(&matrix);
        wrong.extend(
            check(&matrix, &expected)
                .into_iter()
                .map(|w| format!("after {title}: {w}")),
        );
    }

    println!("\nOutcome events on the bus:");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for o in world.outcomes().await {
        let kind = o["detail-type"].as_str().unwrap_or("?").to_owned();
        if kind == "Request Rejected" {
            println!(
                "  refused: {} {}: {}",
                o["detail"]["employeeId"].as_str().unwrap_or("-"),
                o["detail"]["environment"].as_str().unwrap_or("-"),
                o["detail"]["reason"].as_str().unwrap_or_default()
            );
        }
        *counts.entry(kind).or_default() += 1;
    }
    for (kind, n) in counts {
        println!("  {n} x {kind}");
    }
    println!("\nFunction logs: {}", log.display());

    if wrong.is_empty() {
        println!("\nAfter every step, everybody was exactly where the access model puts them.");
        ExitCode::SUCCESS
    } else {
        for w in &wrong {
            eprintln!("WRONG: {w}");
        }
        ExitCode::FAILURE
    }
}

/// employee id -> column -> expected status of their user there (no entry: no user).
type Expected = BTreeMap<&'static str, BTreeMap<&'static str, &'static str>>;

/// The story: who joins, who moves, who leaves, and where everybody must be after each step.
fn steps() -> Vec<(&'static str, Vec<&'static str>, Expected)> {
    let onboarded: Expected = PEOPLE
        .iter()
        .map(|(id, _, home)| (*id, home.iter().map(|h| (*h, "active")).collect()))
        .collect();
    let mut transferred = onboarded.clone();
    transferred.insert(
        "E1001",
        [("development", "disabled"), ("testing", "active")].into(),
    );
    let mut offboarded = transferred.clone();
    offboarded.insert(
        "E1001",
        [("development", "disabled"), ("testing", "disabled")].into(),
    );
    vec![
        (
            "Onboarding",
            PEOPLE.iter().map(|(_, f, _)| *f).collect(),
            onboarded,
        ),
        (
            "Transfer: E1001 from engineering to qe",
            vec!["transfer-engineer-to-qe.json"],
            transferred,
        ),
        (
            "Offboarding: E1001 leaves",
            vec!["offboard-engineer.json"],
            offboarded,
        ),
    ]
}

fn summary(report: &Value, world: &World) -> String {
    let mut s = report["result"].as_str().unwrap_or("?").to_owned();
    if let Some(accounts) = report["accounts"].as_object() {
        for (acct, r) in accounts.iter().filter(|(_, r)| *r != "unchanged") {
            let env = world
                .accounts
                .iter()
                .find(|(_, id)| *id == acct)
                .map(|(e, _)| e.as_str());
            s.push_str(&format!(
                ", {} in {}",
                r.as_str().unwrap_or("?"),
                env.unwrap_or(acct)
            ));
        }
    }
    if let Some(r) = report["rejections"].as_array().filter(|r| !r.is_empty()) {
        s.push_str(&format!(", {} refused", r.len()));
    }
    s
}

/// employee id -> column -> the user found there. Columns: `management` and the environments.
type Matrix = BTreeMap<String, BTreeMap<String, UserView>>;

async fn read_matrix(world: &World) -> Matrix {
    let mut columns = vec![(
        "management".to_owned(),
        aws_sdk_iam::Client::new(&world.direct),
    )];
    for env in ENVIRONMENTS {
        columns.push((env.to_owned(), world.iam(world.account(env)).await));
    }
    let mut matrix = Matrix::new();
    for (column, iam) in columns {
        for user in access::users(&iam, "/gatehouse/").await {
            let who = user.tag("gatehouse:employee-id").unwrap_or("?").to_owned();
            matrix.entry(who).or_default().insert(column.clone(), user);
        }
    }
    matrix
}

fn print_matrix(matrix: &Matrix) {
    let columns: Vec<&str> = std::iter::once("management").chain(ENVIRONMENTS).collect();
    println!("\nAccess matrix (read back from the accounts):");
    print!("  {:<8}", "person");
    for c in &columns {
        print!(" | {c:<30}");
    }
    println!();
    for (id, _, _) in PEOPLE {
        print!("  {id:<8}");
        for c in &columns {
            let cell = match matrix.get(*id).and_then(|row| row.get(*c)) {
                None => "-".to_owned(),
                Some(u) => {
                    let groups: Vec<&str> = u.groups.iter().map(String::as_str).collect();
                    format!(
                        "{} [{}]{}",
                        u.tag("gatehouse:status").unwrap_or("?"),
                        groups.join(","),
                        if u.console { " console" } else { "" }
                    )
                }
            };
            print!(" | {cell:<30}");
        }
        println!();
    }
}

fn check(matrix: &Matrix, expected: &Expected) -> Vec<String> {
    let mut wrong = Vec::new();
    for (id, _, _) in PEOPLE {
        let row = matrix.get(*id).cloned().unwrap_or_default();
        let want = expected.get(id).cloned().unwrap_or_default();
        let got: BTreeMap<&str, &str> = row
            .iter()
            .map(|(c, u)| (c.as_str(), u.tag("gatehouse:status").unwrap_or("?")))
            .collect();
        if got != want {
            wrong.push(format!("{id} holds {got:?}, expected {want:?}"));
        }
        for (column, user) in &row {
            let active = user.tag("gatehouse:status") == Some("active");
            if active != (user.console && !user.groups.is_empty()) {
                wrong.push(format!("{id} in {column}: status and access disagree"));
            }
        }
    }
    wrong
}
