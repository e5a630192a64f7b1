//! Gatehouse's shell: the thin layer that reads AWS, asks the pure core what to do, and does it.
//!
//! Every decision (what an event means, what the policy grants, which actions close the gap
//! between what a person should hold and what an account holds) lives in [`gatehouse_core`],
//! re-exported here as [`core`]. This crate holds what the core must not: the AWS SDK clients,
//! the async runtime, and the classification of every failure as rejected, transient or fault.
//! The Lambda functions (`functions/*`) only wire it up: load [`Config`] once, build [`Deps`]
//! once, then hand each invocation to [`invocation::handle`] (`people-events`) or
//! [`account_setup::handle_payload`] (`account-created`).
//!
//! # Layout
//!
//! - Adapters, one per AWS service, speaking the core's types:
//!   - [`org`]: the organization's ACTIVE accounts and their environments (Organizations);
//!   - [`credentials`]: assumed-role IAM clients per account, cached and renewed (STS);
//!   - [`iam`]: one member account's IAM: its [baseline](iam::baseline), a person's
//!     [user](iam::user) read as the planner's `Found`, [applying](iam::apply) planned
//!     actions, and the [inventory](iam::inventory) `reconcile` reads;
//!   - [`directory`]: every employee's standing (DynamoDB), written conditionally;
//!   - [`secrets`]: initial passwords (Secrets Manager);
//!   - [`bus`]: outcome events (EventBridge);
//!   - [`queue`]: `Employee Sync` work items on the FIFO work queue (SQS).
//! - Wiring: [`config`] (environment variables, read once), [`deps`] (the adapters, built
//!   once per process), [`people`] (converging one person everywhere; [`grant`]: their user in
//!   one account), [`invocation`] (one
//!   `people-events` invocation: an envelope or an SQS batch), [`account_setup`] (a new
//!   account's baseline and backfill), [`reconcile`] (drift: every account read whole and
//!   compared, repairs through the work queue).
//! - [`scim`]: the SCIM front door: identity providers' user changes, as HR events.
//! - [`sdk`]: the SDK configuration (retries, timeouts, one bounded HTTP client) the functions run with.
//! - [`error`]: what can be retried and what cannot.
//! - [`init`]: a function that refuses its configuration says why to the Lambda Runtime API.

pub use gatehouse_core as core;

pub mod account_setup;
pub mod bus;
pub mod config;
pub mod credentials;
pub mod deps;
pub mod directory;
pub mod error;
pub mod grant;
pub mod iam;
pub mod init;
pub mod invocation;
pub mod org;
pub mod people;
pub mod preview;
pub mod queue;
pub mod reconcile;
pub mod scim;
pub mod sdk;
pub mod secrets;
pub mod service_keys;
pub mod service_secret;

pub use config::Config;
pub use deps::Deps;
pub use error::{Error, FailureKind};
