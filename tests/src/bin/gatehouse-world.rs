//! `gatehouse-world`: the local world on demand, for invoking the functions by hand with
//! `cargo lambda` (README, "Invoking a function by hand"). `make world` runs `serve`; the other
//! commands talk to the world it serves (`cargo world <command>`, an alias in `.cargo/`).
//!
//! - `serve`: starts the emulator on `GATEHOUSE_WORLD_PORT` (default 4599), builds the same
//!   world the integration tests build (an organization with its four environment accounts,
//!   each with the member-account stack, the directory table, the FIFO work queue, the bus and
//!   a queue capturing every outcome event), prints the functions' environment as `export`
//!   lines, and runs until interrupted. The functions talk to the emulator directly.
//! - `env`: those `export` lines again (`eval "$(cargo world env)"`).
//! - `users [--json]`: every account of the organization and the Gatehouse users it holds.
//! - `outcomes`: the outcome events published since the last time asked (a JSON array).
//! - `new-account <environment> [<name>]`: a new account in the organization, tagged with
//!   the environment, as Organizations leaves it; prints the `CreateAccountResult` event for
//!   it (the shape of `fixtures/create-account-result-succeeded.json`, with the real id).
//! - `work`: up to ten queued work items, taken off the work queue, as the SQS batch Lambda
//!   would hand `people-events`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use aws_credential_types::Credentials;
use aws_smithy_types::error::display::DisplayErrorContext;
use gatehouse_tests::access;
use gatehouse_tests::binaries;
use gatehouse_tests::emulator::Emulator;
use gatehouse_tests::fixtures;
use gatehouse_tests::world::{World, ENVIRONMENTS, REGION};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const PORT_VARIABLE: &str = "GATEHOUSE_WORLD_PORT";
const DEFAULT_PORT: u16 = 4599;
const USAGE: &str = "usage: gatehouse-world serve | env | users [--json] | outcomes | \
                     new-account <environment> [<name>] | work";

/// What `serve` leaves for the other commands: how to reach its world.
#[derive(Serialize, Deserialize)]
struct Saved {
    pid: u32,
    emulator: String,
    management: String,
    organization_id: String,
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    accounts: BTreeMap<String, String>,
    /// The functions' settings, in the order they are printed.
    settings: Vec<(String, String)>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match port() {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    if args.first().map(String::as_str) == Some("serve") {
        // The world is the tests' world, built against this emulator, never an authorizing
        // one of its own (which would listen elsewhere). Set before any thread exists.
        std::env::remove_var("GATEHOUSE_TEST_AUTHORIZATION");
        std::env::set_var("AWS_ENDPOINT_URL", emulator_url(port));
    }
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let done = runtime.block_on(async {
        match args
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["serve"] => serve(port).await,
            ["env"] => saved(port).map(|s| print!("{}", exports(&s))),
            ["users"] => users(port, false).await,
            ["users", "--json"] => users(port, true).await,
            ["outcomes"] => outcomes(port).await,
            ["new-account", environment] => new_account(port, environment, None).await,
            ["new-account", environment, name] => new_account(port, environment, Some(name)).await,
            ["work"] => work(port).await,
            _ => Err(USAGE.to_owned()),
        }
    });
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("gatehouse-world: {message}");
    ExitCode::FAILURE
}

fn port() -> Result<u16, String> {
    match std::env::var(PORT_VARIABLE) {
        Err(_) => Ok(DEFAULT_PORT),
        Ok(v) if v.is_empty() => Ok(DEFAULT_PORT),
        Ok(v) => v
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("{PORT_VARIABLE}={v} is not a port number")),
    }
}

fn emulator_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

fn state_file(port: u16) -> PathBuf {
    binaries::log_dir().join(format!("world-{port}.json"))
}

async fn serve(port: u16) -> Result<(), String> {
    let mut emulator = Emulator::start_on(port, &format!("world-emulator-{port}.log"))
        .await
        .map_err(|e| format!("{e} (a world already running there? `cargo world env` says)"))?;
    let world = World::new().await;
    let c = &world.credentials;
    let saved = Saved {
        pid: std::process::id(),
        emulator: emulator.url.clone(),
        management: world.management.clone(),
        organization_id: world.organization_id.clone(),
        access_key_id: c.access_key_id().to_owned(),
        secret_access_key: c.secret_access_key().to_owned(),
        session_token: c.session_token().unwrap_or_default().to_owned(),
        accounts: world.accounts.clone(),
        settings: world
            .settings()
            .into_iter()
            // account-created lays the provisioner role and the boundary itself in a new
            // account (`new-account` makes them as Organizations does, without the StackSet).
            .chain([("GATEHOUSE_MEMBER_STACK".to_owned(), "false".to_owned())])
            .collect(),
    };
    let path = state_file(port);
    let text = serde_json::to_string_pretty(&saved).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;

    println!(
        "# Gatehouse local world on {}: management account {}, organization {}",
        saved.emulator, saved.management, saved.organization_id
    );
    for environment in ENVIRONMENTS {
        println!("#   {environment:<12} {}", saved.accounts[environment]);
    }
    println!("# The functions' environment: give it to `cargo lambda watch`, e.g. there:");
    println!("#   eval \"$(cargo world env)\"");
    print!("{}", exports(&saved));
    println!(
        "# Emulator log: {}. Running until Ctrl-C.",
        binaries::log_dir()
            .join(format!("world-emulator-{port}.log"))
            .display()
    );

    let stopped = wait_for_stop(&mut emulator).await;
    let _ = std::fs::remove_file(&path);
    drop(world);
    drop(emulator);
    stopped
}

/// Until Ctrl-C, a termination or hang-up signal (`Ok`), or the emulator dying (`Err`).
async fn wait_for_stop(emulator: &mut Emulator) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut hangup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Ok(()),
        _ = term.recv() => Ok(()),
        _ = hangup.recv() => Ok(()),
        status = emulator.stopped() => Err(format!("the emulator stopped: {status:?}")),
    }
}

/// `export NAME='value'` lines, one per variable the functions read.
fn exports(saved: &Saved) -> String {
    let mut lines = vec![
        ("AWS_ENDPOINT_URL".to_owned(), saved.emulator.clone()),
        ("AWS_REGION".to_owned(), REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID".to_owned(), saved.access_key_id.clone()),
        (
            "AWS_SECRET_ACCESS_KEY".to_owned(),
            saved.secret_access_key.clone(),
        ),
        ("AWS_SESSION_TOKEN".to_owned(), saved.session_token.clone()),
    ];
    lines.extend(saved.settings.iter().cloned());
    lines
        .iter()
        .map(|(k, v)| format!("export {k}='{}'\n", v.replace('\'', r"'\''")))
        .collect()
}

fn saved(port: u16) -> Result<Saved, String> {
    let path = state_file(port);
    let text = std::fs::read_to_string(&path).map_err(|_| {
        format!(
            "no world on port {port} (nothing at {}): start one with `make world`{}",
            path.display(),
            if port == DEFAULT_PORT {
                String::new()
            } else {
                format!(" and {PORT_VARIABLE}={port}")
            }
        )
    })?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The world `serve` is serving on `port`.
async fn attach(port: u16) -> Result<World, String> {
    let s = saved(port)?;
    let credentials = Credentials::new(
        &s.access_key_id,
        &s.secret_access_key,
        Some(s.session_token.clone()),
        None,
        "gatehouse-world",
    );
    World::attach(
        &s.emulator,
        &s.management,
        &s.organization_id,
        credentials,
        s.accounts.clone(),
    )
    .await
    .map_err(|e| {
        format!("the world on port {port} does not answer ({e}): is `make world` still running?")
    })
}

/// The organization's member accounts: (id, name, environment tag).
async fn member_accounts(world: &World) -> Result<Vec<(String, String, String)>, String> {
    let org = aws_sdk_organizations::Client::new(&world.direct);
    let mut listed = Vec::new();
    let mut pages = org.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("ListAccounts: {}", DisplayErrorContext(&e)))?;
        listed.extend(page.accounts.unwrap_or_default());
    }
    let mut accounts = Vec::new();
    for account in listed {
        let id = account.id().unwrap_or_default().to_owned();
        if id == world.management {
            continue;
        }
        let tags = org
            .list_tags_for_resource()
            .resource_id(&id)
            .send()
            .await
            .map_err(|e| format!("ListTagsForResource {id}: {}", DisplayErrorContext(&e)))?;
        let environment = tags
            .tags()
            .iter()
            .find(|t| t.key() == "environment")
            .map(|t| t.value().to_owned())
            .unwrap_or_default();
        accounts.push((
            id,
            account.name().unwrap_or_default().to_owned(),
            environment,
        ));
    }
    Ok(accounts)
}

async fn users(port: u16, as_json: bool) -> Result<(), String> {
    let world = attach(port).await?;
    let mut listing = Vec::new();
    for (id, name, environment) in member_accounts(&world).await? {
        let iam = world.iam(&id).await;
        let users: Vec<Value> = access::users(&iam, "/gatehouse/")
            .await
            .iter()
            .map(|u| {
                json!({
                    "name": u.name,
                    "path": u.path,
                    "employeeId": u.tag("gatehouse:employee-id"),
                    "status": u.tag("gatehouse:status"),
                    "disabledAt": u.tag("gatehouse:disabled-at"),
                    "disabledBy": u.tag("gatehouse:disabled-by"),
                    "groups": u.groups,
                    "console": u.console,
                })
            })
            .collect();
        listing.push(json!({
            "id": id, "name": name, "environment": environment, "users": users,
        }));
    }
    if as_json {
        println!("{:#}", json!({ "accounts": listing }));
        return Ok(());
    }
    for account in &listing {
        let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
        println!(
            "{:<12} {}  {}",
            text(&account["environment"]),
            text(&account["id"]),
            text(&account["name"])
        );
        let users = account["users"].as_array().cloned().unwrap_or_default();
        if users.is_empty() {
            println!("    (no Gatehouse users)");
        }
        for u in users {
            let groups: Vec<String> = u["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect();
            println!(
                "    {:<34} {:<8} {:<9} groups [{}]{}",
                text(&u["name"]),
                text(&u["employeeId"]),
                text(&u["status"]),
                groups.join(", "),
                if u["console"] == true {
                    ", console"
                } else {
                    ""
                },
            );
        }
    }
    Ok(())
}

async fn outcomes(port: u16) -> Result<(), String> {
    let world = attach(port).await?;
    let outcomes = world.outcomes().await;
    eprintln!(
        "{} outcome event(s) since the last time asked",
        outcomes.len()
    );
    println!("{:#}", Value::Array(outcomes));
    Ok(())
}

async fn new_account(port: u16, environment: &str, name: Option<&str>) -> Result<(), String> {
    let world = attach(port).await?;
    let name = match name {
        Some(n) => n.to_owned(),
        None => {
            let same = member_accounts(&world)
                .await?
                .iter()
                .filter(|(_, _, e)| e == environment)
                .count();
            format!("{environment}-{}", same + 1)
        }
    };
    let id = world.create_bare_account(&name, Some(environment)).await;
    eprintln!("created account {id} ({name}), tagged environment={environment}");
    println!("{:#}", fixtures::create_account_result(&id));
    Ok(())
}

async fn work(port: u16) -> Result<(), String> {
    let world = attach(port).await?;
    let batch = match world.take_work_batch(10).await {
        Some(batch) => batch,
        None => {
            eprintln!("the work queue is empty");
            json!({ "Records": [] })
        }
    };
    let n = batch["Records"].as_array().map_or(0, Vec::len);
    if n > 0 {
        eprintln!(
            "{n} work item(s) taken off the queue{}",
            if n == 10 {
                " (there may be more: run again)"
            } else {
                ""
            }
        );
    }
    println!("{batch:#}");
    Ok(())
}
