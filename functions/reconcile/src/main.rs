//! `reconcile`: on a schedule (or invoked by an operator), reads every ACTIVE account whole,
//! compares it with the directory and the policy, publishes one `Drift Detected` outcome, and
//! in repair mode enqueues an `Employee Sync` for each person whose access drifted.
//!
//! This file only wires: configuration and AWS clients are built once, then every invocation
//! goes to [`gatehouse::reconcile::handle_bytes`].

use gatehouse::core::ids::EventId;
use gatehouse::{Config, Deps};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::value::RawValue;
use serde_json::Value;

const FUNCTION: &str = "reconcile";

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    // A bad setting stops the function here, naming the variable, before any event is taken,
    // and is reported to the Runtime API as the init error (what the invocation answers).
    let config = gatehouse::init::or_report(
        FUNCTION,
        Config::from_env().and_then(|c| c.require_work_queue().map(|()| c)),
    )
    .await?;
    let sdk = gatehouse::sdk::load().await;
    let deps = Deps::new(config, &sdk, FUNCTION);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Box<RawValue>>| {
        handler(&deps, event)
    }))
    .await
}

async fn handler(deps: &Deps, event: LambdaEvent<Box<RawValue>>) -> Result<Value, Diagnostic> {
    // The run's id is the invocation's: it names the run's STS sessions and its work items.
    let run_id =
        EventId::parse(&format!("reconcile.{}", event.context.request_id)).map_err(|e| {
            Diagnostic {
                error_type: "Rejected".into(),
                error_message: format!("request id: {}", e.0),
            }
        })?;
    // Boxed: the handler's future is deep (concurrent AWS calls all the way down); inline in
    // the runtime's, its type is too deep for the compiler to lay out.
    Box::pin(gatehouse::reconcile::handle_bytes(
        deps,
        event.payload.get().as_bytes(),
        &run_id,
    ))
    .await
    .map_err(Diagnostic::from)
}
