//! Gatehouse keeps a company's people in the right AWS accounts.
//!
//! HR events (onboarded, transferred, offboarded) and Organizations events come in; IAM users in
//! the environment accounts of the organization come out, created, updated or disabled (never
//! deleted) to match `policy.toml`. This crate holds everything the Lambda functions share.
//!
//! The layout follows one rule: a pure core decides, a thin shell applies.
//!
//! - The pure core, tested without AWS:
//!   - [`event`]: parsing and exact validation of inbound HR events and work items;
//!   - [`account_event`]: parsing account creation events (Organizations, Control Tower);
//!   - [`policy`]: the access policy and what it grants whom;
//!   - [`plan`]: what must change for one person in one account.
//!   - [`standing`]: an employee's standing, merged from HR events in any order;
//! - The shell, one adapter per AWS service, each speaking the domain's types:
//!   - [`org`]: the organization's ACTIVE accounts and their environments (Organizations);
//!   - [`credentials`]: assumed-role IAM clients per account, cached (STS);
//!   - [`iam`]: reading and changing users, groups and baselines in one account (IAM);
//!   - [`directory`]: the latest HR record of every employee (DynamoDB);
//!   - [`secrets`]: initial passwords (Secrets Manager);
//!   - [`outcome`]: granted / revoked / rejected / baselined events (EventBridge);
//!   - [`queue`]: `Employee Sync` work items on the FIFO work queue (SQS).
//! - Wiring: [`config`] (environment variables), [`deps`] (adapters built once per process),
//!   [`people`] (converging one person), [`invocation`] (one `people-events` invocation: an
//!   envelope or an SQS batch), [`account_setup`] (baseline and backfill of a new account), and
//!   [`error`] (what can be retried and what cannot).

pub mod account_event;
pub mod account_setup;
pub mod config;
pub mod credentials;
pub mod deps;
pub mod directory;
pub mod error;
pub mod event;
pub mod iam;
pub mod invocation;
pub mod org;
pub mod outcome;
pub mod people;
pub mod plan;
pub mod policy;
pub mod queue;
pub mod secrets;
pub mod standing;

pub use config::Config;
pub use deps::Deps;
pub use error::{Disposition, Error};
