//! The local AWS world for Gatehouse's integration tests and demo.
//!
//! - [`world`]: a company in the emulator (organization, environment accounts, table, queues,
//!   bus), one isolated management account per world;
//! - [`proxy`]: a recording, failure-injecting proxy in front of the emulator;
//! - [`access`]: reading back users, groups and credentials from the emulated accounts;
//! - [`capture`]: capturing log lines;
//! - [`chaos`]: random HR events under injected faults, checked against the core as oracle;
//! - [`runtime`]: a local Lambda Runtime API that runs the real function binaries;
//! - [`fixtures`]: the sample events under `fixtures/`, shared with `cargo lambda invoke`;
//! - [`binaries`]: where cargo put the function binaries;
//! - [`scim`]: the SCIM front door in a world: its table, token, HR route, and a client;
//! - [`scenario`]: steps and checks the integration tests share (what "sealed" means);
//! - [`emulator`]: a private emulator for a world that enforces IAM authorization;
//! - [`template`]: the functions' execution-role policies, read from `infra/template.yaml`;
//! - [`stub`]: the latency stub of `bench-fanout`, an organization of any size from canned answers.

pub mod access;
pub mod binaries;
pub mod capture;
pub mod chaos;
pub mod emulator;
pub mod fixtures;
pub mod proxy;
pub mod runtime;
pub mod scenario;
pub mod scim;
pub mod stub;
pub mod template;
pub mod world;
