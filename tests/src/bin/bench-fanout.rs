//! Benchmark (not a test): offboarding one employee across many accounts, with latency added to
//! every AWS call (the emulator answers in microseconds; AWS does not).
//!
//! Two modes:
//! - `stub BINARY LATENCY_MS ACCOUNTS...`: the real `people-events` binary, run the way Lambda
//!   runs it (through the local Runtime API), against the latency stub ([`gatehouse_tests::stub`]):
//!   an organization of ACCOUNTS accounts whose IAM, STS and Organizations answers are canned
//!   from one real offboarding in the emulator. Measures the critical path of the fan-out, the
//!   calls it makes and the process's peak memory, free of the emulator's own speed.
//! - `emulator LATENCY_MS ACCOUNTS BOUND...`: the same offboarding against real accounts in the
//!   emulator, in process, once per concurrency bound: the emulator's figure, beside the stub's.
//!
//! Each measured offboarding runs in a process that has listed the organization already (as
//! one does within `GATEHOUSE_ACCOUNT_CACHE_SECONDS` of its last event) but holds no role
//! credentials yet: every account's AssumeRole is on the clock.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use gatehouse::invocation::handle;
use gatehouse::Deps;
use gatehouse_core::hr_event::{parse_inbound, Inbound};
use gatehouse_core::ids::Timestamp;
use gatehouse_tests::binaries;
use gatehouse_tests::fixtures::{offboarding, onboarding};
use gatehouse_tests::runtime::Function;
use gatehouse_tests::stub;
use gatehouse_tests::world::World;
use serde_json::Value;

const ADA: &str = "ada@example.com";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let numbers = |from: usize| -> Vec<u64> {
        args.iter()
            .skip(from)
            .map(|a| a.parse().expect("a number"))
            .collect()
    };
    match args.first().map(String::as_str) {
        Some("stub") => {
            let binary = PathBuf::from(args.get(1).expect("BINARY"));
            let n = numbers(2);
            let latency = Duration::from_millis(*n.first().expect("LATENCY_MS"));
            let sizes: Vec<usize> = n[1..].iter().map(|&a| a as usize).collect();
            on_stub(&binary, latency, &sizes).await;
        }
        Some("emulator") => {
            let n = numbers(1);
            let latency = Duration::from_millis(*n.first().expect("LATENCY_MS"));
            let accounts = *n.get(1).expect("ACCOUNTS") as usize;
            on_emulator(latency, accounts, &n[2..]).await;
        }
        _ => panic!(
            "usage: bench-fanout stub BINARY LATENCY_MS ACCOUNTS... | \
             bench-fanout emulator LATENCY_MS ACCOUNTS BOUND..."
        ),
    }
}

/// Day `d` of November 2026 (in the past: future-dated HR events wait) at `hour`.
fn at(d: u64, hour: u32) -> String {
    format!("2026-11-{:02}T{hour:02}:00:00Z", d.min(27))
}

/// The calls of one measured event, counted by service.
fn by_service(world: &World) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for call in world.proxy.calls() {
        *counts.entry(call.service).or_default() += 1;
    }
    counts
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where the time went (to standard error): when the first and the last call of each
/// operation reached the stub, from the invocation's start.
fn timeline(world: &World, started: Instant) {
    let mut spans: BTreeMap<String, (Duration, Duration, usize)> = BTreeMap::new();
    for call in world.proxy.calls() {
        let t = call.at.saturating_duration_since(started);
        let span = spans
            .entry(format!("{}:{}", call.service, call.operation))
            .or_insert((t, t, 0));
        span.0 = span.0.min(t);
        span.1 = span.1.max(t);
        span.2 += 1;
    }
    let mut spans: Vec<_> = spans.into_iter().collect();
    spans.sort_by_key(|(_, (first, _, _))| *first);
    for (operation, (first, last, n)) in spans {
        eprintln!(
            "  {operation:<40} {n:>5} calls, from {:>6.0} ms to {:>6.0} ms",
            first.as_secs_f64() * 1000.0,
            last.as_secs_f64() * 1000.0
        );
    }
}

fn revoked(report: &Value) -> usize {
    report["accounts"]
        .as_object()
        .map(|a| a.values().filter(|v| *v == "revoked").count())
        .unwrap_or(0)
}

/// Records `event` in the directory only (DynamoDB, not IAM): to make the leaver active again
/// before each round without touching the stub's accounts.
async fn record_only(world: &World, deps: &Deps, event: &Value) {
    let bytes = serde_json::to_vec(event).unwrap();
    let Ok(Inbound::Hr(event)) = parse_inbound(&bytes, &world.config().policy, Timestamp::now())
    else {
        panic!("a valid HR event");
    };
    deps.directory.record(&event).await.expect("recorded");
}

async fn on_stub(binary: &std::path::Path, latency: Duration, sizes: &[usize]) {
    let mut world = World::with_environments(&["development"]).await;
    // To compare bounds: the function's concurrency bound, if this benchmark was given one.
    if let Ok(bound) = std::env::var("GATEHOUSE_MAX_CONCURRENCY") {
        world.set("GATEHOUSE_MAX_CONCURRENCY", &bound);
    }
    let dev = world.account("development").to_owned();
    let deps = world.deps("people-events");

    // One real offboarding in one real account, its answers recorded: a leaver in their team's
    // group, with the console password and an access key.
    world.proxy.record_answers(true);
    handle(&deps, onboarding("E1", ADA, "engineering", &at(1, 9)))
        .await
        .expect("onboarding");
    world
        .iam(&dev)
        .await
        .create_access_key()
        .user_name(ADA)
        .send()
        .await
        .expect("an access key");
    let report = handle(&deps, offboarding("E1", &at(1, 17)))
        .await
        .expect("offboarding");
    assert_eq!(revoked(&report), 1, "{report}");
    let recorded = world.proxy.answers();
    world.proxy.record_answers(false);
    // What one call in flight holds, whatever it waits for (the HTTP client bounds the calls
    // on the wire, not the calls begun): the fan-out's memory is this times the calls begun.
    let iam = world.iam(&dev).await;
    let one_call = iam.get_user().user_name(ADA).send();
    eprintln!(
        "one IAM call's future: {} bytes",
        std::mem::size_of_val(&one_call)
    );
    drop(one_call);
    let tag = world.config().policy.environment_tag.clone();
    let env = world.function_env("people-events");
    let log_dir = binaries::log_dir();

    println!(
        "| accounts | added latency | wall time | its CPU time | AWS calls | calls per account | by service | peak RSS |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |");
    for (round, &accounts) in sizes.iter().enumerate() {
        let day = 2 + 2 * round as u64;
        world.proxy.clear_injections();
        world.proxy.set_latency(Duration::ZERO);
        stub::install(
            &world.proxy,
            recorded.clone(),
            accounts,
            &tag,
            "development",
        );
        // The leaver is active again, in the directory only.
        record_only(
            &world,
            &deps,
            &onboarding("E1", ADA, "engineering", &at(day, 9)),
        )
        .await;

        let log = log_dir.join(format!("bench-fanout-{accounts}.log"));
        let function = Function::start("people-events", binary, &env, &log)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
        function
            .init_duration(Duration::from_secs(30))
            .await
            .expect("the binary asks for work within 30 s");
        // The organization listed, as a running function has it: the offboarding of someone
        // never hired lists it and enters no account.
        let warm = function
            .invoke(&offboarding(&format!("W{round}"), &at(day, 12)))
            .await
            .expect("warm-up");
        assert_eq!(revoked(&warm), 0, "{warm}");

        world.proxy.reset();
        world.proxy.set_latency(latency);
        let cpu_before = function.cpu_time().unwrap_or_default();
        let started = Instant::now();
        let report = function
            .invoke(&offboarding("E1", &at(day, 17)))
            .await
            .unwrap_or_else(|e| panic!("{accounts} accounts: {e}"));
        let wall = started.elapsed();
        let cpu = function.cpu_time().unwrap_or_default() - cpu_before;
        timeline(&world, started);
        world.proxy.set_latency(Duration::ZERO);
        assert_eq!(revoked(&report), accounts, "every account revoked");
        let calls = world.proxy.calls().len();
        println!(
            "| {accounts} | {} ms | {:.2} s | {:.2} s | {calls} | {:.1} | {} | {:.1} MiB |",
            latency.as_millis(),
            wall.as_secs_f64(),
            cpu.as_secs_f64(),
            calls as f64 / accounts as f64,
            by_service(&world),
            function.peak_rss_kib().unwrap_or(0) as f64 / 1024.0,
        );
    }
}

async fn on_emulator(latency: Duration, accounts: usize, bounds: &[u64]) {
    let mut world = World::with_environments(&[]).await;
    let setup = Instant::now();
    for i in 0..accounts {
        world
            .create_account(&format!("dev-{i:03}"), Some("development"))
            .await;
    }
    eprintln!("created {accounts} accounts in {:.1?}", setup.elapsed());

    println!("| accounts | added latency | bound | wall time | AWS calls | calls per account |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for (round, bound) in bounds.iter().enumerate() {
        world.set("GATEHOUSE_MAX_CONCURRENCY", &bound.to_string());
        let deps = world.deps("people-events");
        // (Re)hire first, with the same function instance: the offboarding then runs with the
        // organization listed and the credentials cached, minutes after an onboarding.
        let day = 2 + 2 * round as u64;
        let report = handle(&deps, onboarding("E1", ADA, "engineering", &at(day, 9)))
            .await
            .expect("onboarding");
        assert_eq!(report["accounts"].as_object().unwrap().len(), accounts);

        world.proxy.reset();
        world.proxy.set_latency(latency);
        let started = Instant::now();
        let report = handle(&deps, offboarding("E1", &at(day, 17)))
            .await
            .expect("offboarding");
        let wall = started.elapsed();
        world.proxy.set_latency(Duration::ZERO);
        assert_eq!(revoked(&report), accounts, "every account revoked");
        let calls = world.proxy.calls().len();
        println!(
            "| {accounts} | {} ms | {bound} | {:.2} s | {calls} | {:.1} |",
            latency.as_millis(),
            wall.as_secs_f64(),
            calls as f64 / accounts as f64
        );
        eprintln!("calls by operation: {:?}", world.proxy.counts());
    }
}
