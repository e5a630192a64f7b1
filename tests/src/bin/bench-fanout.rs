//! Benchmark (not a test): offboarding one employee across N accounts, with the configured
//! concurrency bound and with a bound of 1, on the emulator, optionally with latency added to
//! every AWS call by the proxy (the emulator answers in microseconds; AWS does not).
//!
//! `make bench-fanout` runs it; arguments: ACCOUNTS LATENCY_MS BOUND... (default 50 0 16 1).

use std::time::{Duration, Instant};

use gatehouse::invocation::handle;
use gatehouse_tests::fixtures::{offboarding, onboarding};
use gatehouse_tests::world::World;

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let accounts = *args.first().unwrap_or(&50) as usize;
    let latency = Duration::from_millis(*args.get(1).unwrap_or(&0));
    let bounds: Vec<u64> = if args.len() > 2 {
        args[2..].to_vec()
    } else {
        vec![16, 1]
    };

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
        // (Re)hire first, with the same function instance: the offboarding then runs warm
        // (account list and credentials cached), as it would minutes after an onboarding.
        let day = 2 + 2 * round;
        let hire = onboarding(
            "E1",
            "ada@example.com",
            "engineering",
            &format!("2026-11-{day:02}T09:00:00Z"),
        );
        let report = handle(&deps, hire).await.expect("onboarding");
        assert_eq!(report["accounts"].as_object().unwrap().len(), accounts);

        world.proxy.reset();
        world.proxy.set_latency(latency);
        let leave = offboarding("E1", &format!("2026-11-{:02}T17:00:00Z", day + 1));
        let started = Instant::now();
        let report = handle(&deps, leave).await.expect("offboarding");
        let wall = started.elapsed();
        world.proxy.set_latency(Duration::ZERO);
        let revoked = report["accounts"]
            .as_object()
            .unwrap()
            .values()
            .filter(|v| *v == "revoked")
            .count();
        assert_eq!(revoked, accounts, "every account revoked");
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
