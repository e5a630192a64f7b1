//! Chaos against an oracle (see `gatehouse_tests::chaos`): random HR events, a fifth of all
//! calls broken, and every account compared with what the core says the events mean. `make
//! test` runs one small fixed seed; `make chaos SEED=<n> EVENTS=<n>` runs any other.

use gatehouse::core::ids::Timestamp;
use gatehouse_tests::chaos::{self, Script, Settings};

#[tokio::test]
async fn random_hr_events_under_faults_end_exactly_where_the_core_says() {
    let settings = Settings::from_env(20261127, 120);
    println!(
        "chaos seed {} with {} events",
        settings.seed, settings.events
    );
    let world = chaos::world().await;
    let script = Script::generate(settings.seed, settings.events, Timestamp::now(), &world);
    let figures = chaos::run(&world, &script, settings).await;
    println!("{figures}");
    let differences = chaos::check(&world, &script, &figures).await;
    assert!(
        differences.is_empty(),
        "seed {}: {} differences from the oracle (rerun: make chaos SEED={} EVENTS={}):\n{}",
        settings.seed,
        differences.len(),
        settings.seed,
        settings.events,
        differences.join("\n")
    );
    let injected: usize = figures.injected.values().sum();
    assert!(
        injected * 10 >= figures.calls,
        "seed {}: faults were injected into {injected} of {} calls, not about a fifth",
        settings.seed,
        figures.calls
    );
}
