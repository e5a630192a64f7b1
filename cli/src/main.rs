//! `gatehouse`: the operator's command line, on the same core as the functions.
//!
//! - `gatehouse policy check [FILE]`: validate a policy and print what it grants, environment by
//!   environment;
//! - `gatehouse policy diff OLD NEW`: who gains and who loses what, per environment;
//! - `gatehouse plan --event FILE`: what an HR, sync or account event would do, changing
//!   nothing;
//! - `gatehouse reconcile --dry-run`: the drift report on demand, changing nothing;
//! - `gatehouse access [--env ENV] [--employee ID]`: who holds what, read from the accounts;
//! - `gatehouse explain EMPLOYEE`: why a person has, or lacks, access in each account.
//!
//! Exit codes, for scripts: 0 done (for `diff`: the two policies grant the same; for
//! `reconcile`: no drift; for `plan`: the event would change nothing), 1 `diff` found changes,
//! `reconcile` found drift, `plan` would change something, or an account could not be read, 2 a
//! usage error, 3 a policy, setting or event refused, 4 AWS could not be read.
//! Tables for people, `--output json` for machines; progress on stderr; no colour, so output is
//! the same on a terminal and in a pipe.

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use gatehouse_core::policy::view::{self, Change, EnvironmentView, Subject};
use gatehouse_core::policy::{Policy, PolicyError};

mod accounts;
mod plan;
mod table;

/// Where the functions read their policy from, when it is not the one built in.
const POLICY_FILE: &str = "GATEHOUSE_POLICY_FILE";

pub(crate) const CHANGED: u8 = 1;
pub(crate) const REFUSED: u8 = 3;
pub(crate) const UNREADABLE: u8 = 4;

#[derive(Parser)]
#[command(name = "gatehouse", version, about = "Gatehouse, for operators", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The access policy (policy.toml).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Drift: every account read and compared with the directory and the policy, with the
    /// functions' settings (GATEHOUSE_DIRECTORY_TABLE, GATEHOUSE_EVENT_BUS, AWS credentials of
    /// a role the provisioner role trusts). Exits 1 when there is drift.
    Reconcile {
        /// Read and report only: no repair, no outcome event. Required: repairs are the
        /// reconcile function's, through the work queue.
        #[arg(long, required = true)]
        dry_run: bool,
        #[arg(long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// What an event would do against the current state, changing nothing: an HR event or an
    /// Employee Sync (as people-events would take it), or an account event (as
    /// account-created would). Exits 0 when it would change nothing, 1 when it would change
    /// something, 3 when the function would refuse it, 4 when AWS could not be read.
    Plan {
        /// The event, as EventBridge would deliver it (a JSON envelope).
        #[arg(long)]
        event: String,
        #[arg(long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Who holds what: every Gatehouse user of every account, read from the accounts (the
    /// same settings as reconcile). Exits 1 when an account could not be read.
    Access {
        /// Only the accounts of this environment.
        #[arg(long = "env")]
        environment: Option<String>,
        /// Only this employee's users.
        #[arg(long)]
        employee: Option<String>,
        #[arg(long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Why a person has, or lacks, access in each account: the directory's record, what the
    /// policy grants, what each account holds, and any drift.
    Explain {
        employee: String,
        #[arg(long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Validate a policy and print what it grants, environment by environment. Without FILE,
    /// the policy the functions use: GATEHOUSE_POLICY_FILE, else the one built in.
    Check {
        file: Option<String>,
        #[arg(long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Who gains and who loses what, per environment, going from OLD to NEW. Exits 1 when
    /// anything changes, 0 when the two grant exactly the same.
    Diff {
        old: String,
        new: String,
        #[arg(long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Output {
    /// Aligned columns, for people.
    Table,
    /// One JSON document, for machines.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (ask, output) = match cli.command {
        Command::Reconcile { output, .. } => (accounts::Ask::Drift, output),
        Command::Access {
            environment,
            employee,
            output,
        } => (
            accounts::Ask::Access {
                environment,
                employee,
            },
            output,
        ),
        Command::Explain { employee, output } => (accounts::Ask::Explain { employee }, output),
        Command::Plan { event, output } => return ExitCode::from(plan::run(&event, output)),
        Command::Policy(command) => {
            return match run(command) {
                Ok(code) => ExitCode::from(code),
                Err(e) => {
                    eprintln!("gatehouse: {e}");
                    ExitCode::from(REFUSED)
                }
            };
        }
    };
    ExitCode::from(accounts::run(ask, output))
}

fn run(command: PolicyCommand) -> Result<u8, PolicyError> {
    match command {
        PolicyCommand::Check { file, output } => {
            let (policy, source) = match file.or_else(|| std::env::var(POLICY_FILE).ok()) {
                Some(path) => (Policy::load(&path)?, path),
                None => (Policy::builtin()?, "the built-in policy".to_owned()),
            };
            let environments = view::view(&policy);
            match output {
                Output::Json => print_json(&serde_json::json!({
                    "source": source,
                    "valid": true,
                    "environments": environments,
                })),
                Output::Table => {
                    println!("{source}: valid");
                    print!("{}", grants_table(&environments));
                }
            }
            Ok(0)
        }
        PolicyCommand::Diff { old, new, output } => {
            let changes = view::diff(&Policy::load(&old)?, &Policy::load(&new)?);
            match output {
                Output::Json => print_json(&serde_json::json!({ "changes": changes })),
                Output::Table if changes.is_empty() => println!("no change in access"),
                Output::Table => print!("{}", changes_table(&changes)),
            }
            Ok(if changes.is_empty() { 0 } else { CHANGED })
        }
    }
}

pub(crate) fn print_json(value: &serde_json::Value) {
    // A value built from strings and sets: printing it cannot fail.
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

fn grants_table(environments: &[EnvironmentView]) -> String {
    let mut rows = Vec::new();
    for env in environments {
        let entry = match &env.allow {
            None => "every member of a granted team".to_owned(),
            Some(allow) if allow.is_empty() => "nobody (restricted, empty allow list)".to_owned(),
            Some(allow) => format!("restricted to {}", join(allow)),
        };
        rows.push([env.environment.clone(), "entry".into(), entry]);
        for (team, groups) in &env.teams {
            rows.push([String::new(), format!("team {team}"), join(groups)]);
        }
        for (svc, groups) in &env.service_accounts {
            rows.push([
                String::new(),
                format!("service account {svc}"),
                join(groups),
            ]);
        }
        for (group, policies) in &env.groups {
            rows.push([String::new(), format!("group {group}"), join(policies)]);
        }
    }
    table::render(["ENVIRONMENT", "WHO", "GETS"], &rows)
}

fn changes_table(changes: &[Change]) -> String {
    let rows: Vec<[String; 4]> = changes
        .iter()
        .map(|c| {
            [
                c.environment.clone(),
                subject(&c.subject),
                join(&c.gains),
                join(&c.loses),
            ]
        })
        .collect();
    table::render(["ENVIRONMENT", "WHO", "GAINS", "LOSES"], &rows)
}

fn subject(s: &Subject) -> String {
    match s {
        Subject::Environment => "(the environment)".into(),
        Subject::Team(t) => format!("team {t}"),
        Subject::Employee(e) => format!("employee {e}"),
        Subject::ServiceAccount(s) => format!("service account {s}"),
        Subject::Group(g) => format!("group {g}"),
    }
}

fn join<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    let joined: Vec<&str> = items.into_iter().map(String::as_str).collect();
    if joined.is_empty() {
        "-".to_owned()
    } else {
        joined.join(", ")
    }
}
