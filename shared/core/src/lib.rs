//! Gatehouse's pure core: everything that *decides*, and nothing that calls AWS.
//!
//! Gatehouse keeps a company's people in the right AWS accounts: HR events (onboarded,
//! transferred, offboarded) and account creation events come in; IAM users in the
//! organization's environment accounts are created, updated or disabled (never deleted) to
//! match `policy.toml`. This crate holds every rule of that contract as plain functions over
//! plain data. Its `Cargo.toml` names no AWS crate and no async runtime, so "the core never
//! calls AWS" is a fact the compiler checks, and every decision is unit-tested in
//! milliseconds. The `gatehouse` crate (the shell) reads the accounts, calls these functions,
//! and applies what they return.
//!
//! # Layout
//!
//! Modules are listed bottom-up: each imports only modules above it in this list.
//!
//! - [`ids`]: validated identifiers (event id, employee id, e-mail, account id, team) and
//!   [`Timestamp`](ids::Timestamp). Exact rules, refused never repaired.
//! - [`names`]: the names other parts rely on: sources, detail-types, IAM paths, tags,
//!   policy and secret names.
//! - [`policy`]: the access policy (`policy.toml`), validated at load, and what it grants
//!   whom; [`policy::view`]: the grants environment by environment, and who gains and loses
//!   what between two policies.
//! - [`envelope`]: the EventBridge envelope and [`Rejection`](envelope::Rejection), why an
//!   input can never succeed.
//! - [`hr_event`]: HR events and `Employee Sync` work items, parsed and validated.
//! - [`account_event`]: Organizations' `CreateAccountResult` and Control Tower's
//!   `CreateManagedAccount`.
//! - [`standing`]: an employee's standing merged from HR events in any order (per-register
//!   staleness), and [`record`]: what convergence needs of it.
//! - [`plan`]: the planner, `plan(desired, found) -> actions` for one user in one account.
//! - [`access`]: what the policy grants a person, which accounts an event visits, which user
//!   names to seal.
//! - [`documents`]: the IAM policy documents laid in member accounts, rendered from the
//!   templates in `shared/policies/` (shared with the member-account StackSet);
//! - [`baseline`]: the password policy and each group's policies.
//! - [`outcome`], [`report`]: the outcome events and the functions' answers, as data.
//! - [`work_item`]: `Employee Sync` requests and their deduplication ids.
//! - [`drift`]: what an account holds that the directory and the policy do not say, and
//!   the repairs `reconcile` would enqueue.
//! - [`scim`]: SCIM 2.0 for identity providers: resources validated, PATCH applied, and the
//!   HR events a change to a user is.
//! - [`batch`]: FIFO-safe handling of an SQS batch, with the per-message handler passed in.

pub mod access;
pub mod account_event;
pub mod baseline;
pub mod batch;
pub mod documents;
pub mod drift;
pub mod envelope;
pub mod hr_event;
pub mod ids;
pub mod names;
pub mod outcome;
pub mod plan;
pub mod policy;
pub mod record;
pub mod report;
pub mod scim;
pub mod service_keys;
pub mod standing;
pub mod work_item;
