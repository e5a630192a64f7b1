//! Benchmark (not a test): the backfill of N employees into one new account. The directory
//! holds N active project managers and solutions architects; a staging account is created and
//! its `CreateAccountResult` handled by `account-created`; then the work queue is drained into
//! `people-events`, one SQS batch of ten at a time (one consumer: the slowest case).
//!
//! `make bench-backfill` runs it; argument: EMPLOYEES (default 1000).

use std::time::Instant;

use gatehouse::{account_setup, invocation};
use gatehouse_tests::access;
use gatehouse_tests::fixtures::{create_account_result, onboarding};
use gatehouse_tests::world::World;

#[tokio::main]
async fn main() {
    let employees: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let world = World::with_environments(&[]).await;
    let people = world.deps("people-events");

    let started = Instant::now();
    for i in 0..employees {
        let team = if i % 2 == 0 {
            "product-management"
        } else {
            "solutions-architecture"
        };
        let event = onboarding(
            &format!("E{i:05}"),
            &format!("person{i:05}@example.com"),
            team,
            "2026-11-02T09:00:00Z",
        );
        invocation::handle(&people, event)
            .await
            .expect("record employee");
    }
    eprintln!(
        "directory of {employees} employees written in {:.1?}",
        started.elapsed()
    );

    let account = world
        .create_bare_account("staging-new", Some("staging"))
        .await;
    let setup = world.deps("account-created");
    world.proxy.reset();
    let started = Instant::now();
    let report = account_setup::handle_payload(&setup, create_account_result(&account))
        .await
        .expect("setup");
    let setup_time = started.elapsed();
    let setup_calls = world.proxy.calls().len();
    assert_eq!(report["backfilled"], employees);

    world.proxy.reset();
    let started = Instant::now();
    let drained = world
        .drain_work_queue(
            |batch| async { invocation::handle(&people, batch).await.expect("batch") },
            employees,
        )
        .await;
    assert!(drained.handed_back.is_empty(), "{:?}", drained.handed_back);
    let delivered = drained.delivered;
    let drain_time = started.elapsed();
    let drain_calls = world.proxy.calls().len();
    let users = access::users(&world.iam(&account).await, "/gatehouse/people/")
        .await
        .len();
    assert_eq!(
        users, employees,
        "every employee has a user in the new account"
    );

    println!("| employees | account-created | its AWS calls | queue drained into people-events | their AWS calls | calls per employee | total |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| {employees} | {:.2} s | {setup_calls} | {:.2} s ({delivered} items) | {drain_calls} | {:.1} | {:.2} s |",
        setup_time.as_secs_f64(),
        drain_time.as_secs_f64(),
        drain_calls as f64 / employees as f64,
        (setup_time + drain_time).as_secs_f64()
    );
    eprintln!("drain calls by operation: {:?}", world.proxy.counts());
}
