//! Benchmark (not a test): the cold start of the real `people-events` binary, run the way
//! Lambda runs it (through the local Runtime API), on the emulator.
//!
//! Each round starts a fresh process and measures
//! - init: from spawning the binary to its first poll for work (configuration, policy, clients);
//! - the first invocation: an onboarding into the development account, paying for what a new
//!   process has not cached yet (the account list, the role's credentials, the baseline check);
//! - a second onboarding in the same process: the warm path.
//!
//! `make bench-coldstart` runs it; arguments: BINARY ROUNDS (default: the `people-events` built
//! beside this benchmark, 10 rounds).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use gatehouse_tests::binaries;
use gatehouse_tests::fixtures::onboarding;
use gatehouse_tests::runtime::Function;
use gatehouse_tests::world::World;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// One onboarding of a new engineer through the running binary: its wall time and AWS calls.
async fn onboard(world: &World, function: &Function, round: usize, n: usize) -> (Duration, usize) {
    let event = onboarding(
        &format!("C{round}-{n}"),
        &format!("cold{round}.{n}@example.com"),
        "engineering",
        "2026-11-02T09:00:00Z",
    );
    world.proxy.reset();
    let started = Instant::now();
    let answer = function.invoke(&event).await;
    let elapsed = started.elapsed();
    let report = answer.unwrap_or_else(|e| panic!("round {round}: {e}"));
    assert_eq!(report["result"], "applied", "round {round}: {report}");
    assert_eq!(report["accounts"].as_object().map(|a| a.len()), Some(1));
    (elapsed, world.proxy.calls().len())
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let binary = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| binaries::path("people-events"));
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let log_dir = binaries::log_dir();

    let world = World::new().await;
    let env = world.function_env("people-events");
    let (mut inits, mut colds, mut warms) = (Vec::new(), Vec::new(), Vec::new());

    println!(
        "| round | init | first invocation | its AWS calls | second invocation | its AWS calls |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for round in 1..=rounds {
        let log = log_dir.join(format!("bench-coldstart-{round}.log"));
        let function = Function::start("people-events", &binary, &env, &log)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
        let init = function
            .init_duration(Duration::from_secs(30))
            .await
            .expect("the binary asks for work within 30 s");

        let (cold, cold_calls) = onboard(&world, &function, round, 1).await;
        let (warm, warm_calls) = onboard(&world, &function, round, 2).await;
        println!(
            "| {round} | {} | {} | {cold_calls} | {} | {warm_calls} |",
            ms(init),
            ms(cold),
            ms(warm)
        );
        inits.push(init);
        // Round 1 lays the development account's baseline; later rounds only check it.
        if round > 1 {
            colds.push(cold);
        }
        warms.push(warm);
    }
    println!();
    println!(
        "median init {}, median first invocation (baseline already laid) {}, median warm invocation {}",
        ms(median(inits)),
        if colds.is_empty() {
            "n/a".to_owned()
        } else {
            ms(median(colds))
        },
        ms(median(warms))
    );
}
