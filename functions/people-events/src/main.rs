//! `people-events`: applies HR events and `Employee Sync` work items, from the FIFO work queue
//! (an SQS batch) or directly (an EventBridge envelope, e.g. `cargo lambda invoke`).
//!
//! This file only wires: configuration and AWS clients are built once, then every invocation
//! goes to [`gatehouse::invocation::handle`].

use gatehouse::{Config, Deps};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::value::RawValue;
use serde_json::Value;

const FUNCTION: &str = "people-events";

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    // A bad setting stops the function here, naming the variable, before any event is taken,
    // and is reported to the Runtime API as the init error (what the invocation answers).
    let config = gatehouse::init::or_report(FUNCTION, Config::from_env()).await?;
    let sdk = gatehouse::sdk::load().await;
    let deps = Deps::new(config, &sdk, FUNCTION);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Box<RawValue>>| {
        handler(&deps, event)
    }))
    .await
}

async fn handler(deps: &Deps, event: LambdaEvent<Box<RawValue>>) -> Result<Value, Diagnostic> {
    // Boxed: the handler's future is deep (concurrent AWS calls all the way down); inline in
    // the runtime's, its type is too deep for the compiler to lay out.
    Box::pin(gatehouse::invocation::handle_bytes(
        deps,
        event.payload.get().as_bytes(),
    ))
    .await
    .map_err(Diagnostic::from)
}
