//! The commands that read the accounts, with the functions' settings and nothing written:
//! `reconcile --dry-run` (the drift report), `access` (who holds what, read from the
//! accounts) and `explain` (why one person has, or lacks, access in each account).

use std::collections::BTreeMap;

use gatehouse_core::access::Access;
use gatehouse_core::drift::report::DriftDetected;
use gatehouse_core::drift::{assess, AccountState, Run};
use gatehouse_core::ids::{EmployeeId, EventId, Timestamp};
use gatehouse_core::names::{STATUS_ACTIVE, TAG_STATUS};
use gatehouse_core::policy::ReconcileMode;
use serde_json::{json, Value};
use shell::{Config, Deps};

use crate::{print_json, table, Output, CHANGED, REFUSED, UNREADABLE};

/// What the command asked for.
pub enum Ask {
    Drift,
    Access {
        environment: Option<String>,
        employee: Option<String>,
    },
    Explain {
        employee: String,
    },
}

/// Runs `ask` against the organization and prints it; the exit code.
pub fn run(ask: Ask, output: Output) -> u8 {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("gatehouse: configuration: {e}");
            return REFUSED;
        }
    };
    let employee = match &ask {
        Ask::Explain { employee } => match EmployeeId::parse(employee) {
            Ok(id) => Some(id),
            Err(e) => {
                eprintln!("gatehouse: employee: {}", e.0);
                return REFUSED;
            }
        },
        _ => None,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gatehouse: {e}");
            return UNREADABLE;
        }
    };
    let Ok(run_id) = EventId::parse(&format!("cli.{}", Timestamp::now().unix_nanos())) else {
        unreachable!("a prefix and digits make an event id")
    };
    eprintln!("gatehouse: reading every account (nothing is written)");
    let read = runtime.block_on(async {
        let sdk = shell::sdk::load().await;
        let deps = Deps::new(config, &sdk, "gatehouse-cli");
        let states = shell::reconcile::read_accounts(&deps, &run_id).await?;
        let records = deps.directory.all_employees().await?;
        Ok::<_, shell::Error>((deps.config.policy.clone(), states, records))
    });
    let (policy, states, records) = match read {
        Ok(read) => read,
        Err(e) => {
            eprintln!("gatehouse: {e}");
            return UNREADABLE;
        }
    };
    let run = Run {
        id: &run_id,
        mode: ReconcileMode::Report,
        confirmed: false,
        now: Timestamp::now(),
    };
    let assessment = assess(&states, &records, &policy, &run);
    let unknown = !assessment.unknown.is_empty();
    let report = DriftDetected::new(run_id.as_str(), run.mode, states.len(), &assessment, 0);
    match ask {
        Ask::Drift => {
            match output {
                Output::Json => print_json(&serde_json::to_value(&report).unwrap_or_default()),
                Output::Table => print!("{}", drift_table(&report)),
            }
            if report.findings.is_empty() && !unknown {
                0
            } else {
                CHANGED
            }
        }
        Ask::Access {
            environment,
            employee,
        } => {
            let mut rows = Vec::new();
            for (account, state) in &states {
                let env = account.environment.clone().unwrap_or_else(|| "-".into());
                if environment.as_ref().is_some_and(|e| *e != env) {
                    continue;
                }
                let AccountState::Read(inventory) = state else {
                    rows.push(json!({"accountId": account.id, "environment": env,
                                     "unknown": unknown_reason(state)}));
                    continue;
                };
                for (name, user) in &inventory.people {
                    let id = user.employee_id().unwrap_or("-");
                    if employee.as_ref().is_some_and(|e| e != id) {
                        continue;
                    }
                    rows.push(json!({
                        "accountId": account.id, "environment": env, "employeeId": id,
                        "userName": name,
                        "status": user.tags.get(TAG_STATUS).cloned().unwrap_or_default(),
                        "groups": user.managed_groups, "console": user.login_profile,
                        "activeCredentials": user.credentials.len(),
                    }));
                }
            }
            match output {
                Output::Json => print_json(&json!({ "access": rows })),
                Output::Table => print!("{}", access_table(&rows)),
            }
            u8::from(unknown)
        }
        Ask::Explain { .. } => {
            let Some(id) = employee else { return REFUSED };
            let Some(record) = records.iter().find(|r| r.employee_id == id) else {
                eprintln!("gatehouse: the directory has no record of {id}");
                return CHANGED;
            };
            let grant = Access::of(record, &policy);
            let mut accounts = Vec::new();
            for (account, state) in &states {
                let env = account.environment.as_deref();
                let should = match (grant.groups_in(env), &record.user_name) {
                    (Some((_, groups)), Some(name)) => json!({"active": name, "groups": groups}),
                    _ if record.user_names.is_empty() => json!("nothing"),
                    _ => json!("nothing active: every user of theirs absent or sealed"),
                };
                let holds: Vec<Value> = match state {
                    AccountState::Read(inventory) => record
                        .user_names
                        .iter()
                        .filter_map(|n| inventory.people.get(n).map(|u| (n, u)))
                        .map(|(n, u)| {
                            json!({"userName": n,
                                   "status": u.tags.get(TAG_STATUS).cloned().unwrap_or_default(),
                                   "groups": u.managed_groups, "console": u.login_profile,
                                   "activeCredentials": u.credentials.len()})
                        })
                        .collect(),
                    other => vec![json!({ "unknown": unknown_reason(other) })],
                };
                let drift: Vec<&str> = assessment
                    .findings
                    .iter()
                    .filter(|f| {
                        f.account_id == account.id.as_str()
                            && f.employee_id.as_deref() == Some(id.as_str())
                    })
                    .map(|f| f.detail.as_str())
                    .collect();
                accounts.push(json!({"accountId": account.id,
                                     "environment": env.unwrap_or("-"),
                                     "should": should, "holds": holds, "drift": drift}));
            }
            let doc = json!({
                "employeeId": id,
                "status": record.status.as_str(),
                "team": record.team.as_ref().map(|t| t.as_str()),
                "userName": record.user_name,
                "userNames": record.user_names,
                "since": record.effective_at.rfc3339(),
                "granted": grant.granted,
                "refused": grant.refused.iter()
                    .map(|r| json!({"environment": r.environment, "reason": r.reason}))
                    .collect::<Vec<_>>(),
                "accounts": accounts,
            });
            match output {
                Output::Json => print_json(&doc),
                Output::Table => print!("{}", explain_text(&doc)),
            }
            u8::from(unknown)
        }
    }
}

fn unknown_reason(state: &AccountState) -> String {
    match state {
        AccountState::Read(_) => String::new(),
        AccountState::Unknown { reason } => reason.clone(),
        AccountState::NoBaseline => {
            "no Gatehouse baseline (the provisioner role is refused)".into()
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) if a.is_empty() => "-".into(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(", "),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn drift_table(report: &DriftDetected) -> String {
    let mut rows: Vec<[String; 5]> = report
        .findings
        .iter()
        .map(|f| {
            [
                f.account_id.clone(),
                text(&serde_json::to_value(f.kind).unwrap_or_default()),
                f.subject.clone(),
                f.employee_id.clone().unwrap_or_else(|| "-".into()),
                f.detail.clone(),
            ]
        })
        .collect();
    for (account, reason) in &report.unknown_accounts {
        rows.push([
            account.clone(),
            "unknown".into(),
            "-".into(),
            "-".into(),
            reason.clone(),
        ]);
    }
    if rows.is_empty() {
        return format!("no drift in {} accounts\n", report.accounts_read);
    }
    let mut out = table::render(["ACCOUNT", "KIND", "SUBJECT", "EMPLOYEE", "DETAIL"], &rows);
    if report.findings_omitted > 0 {
        out.push_str(&format!("(and {} more)\n", report.findings_omitted));
    }
    out
}

fn access_table(rows: &[Value]) -> String {
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            if let Some(reason) = r.get("unknown") {
                return [
                    text(&r["accountId"]),
                    text(&r["environment"]),
                    "-".into(),
                    "unknown".into(),
                    "-".into(),
                    text(reason),
                ];
            }
            let console = if r["console"] == true { "console" } else { "-" };
            [
                text(&r["accountId"]),
                text(&r["environment"]),
                format!("{} {}", text(&r["employeeId"]), text(&r["userName"])),
                text(&r["status"]),
                text(&r["groups"]),
                format!("{console}, {} credentials", r["activeCredentials"]),
            ]
        })
        .collect();
    if cells.is_empty() {
        return "nobody\n".into();
    }
    table::render(
        [
            "ACCOUNT",
            "ENVIRONMENT",
            "WHO",
            "STATUS",
            "GROUPS",
            "WAYS IN",
        ],
        &cells,
    )
}

fn explain_text(doc: &Value) -> String {
    let mut out = format!(
        "{}: {} since {}, team {}, user {}\n",
        text(&doc["employeeId"]),
        text(&doc["status"]),
        text(&doc["since"]),
        text(&doc["team"]),
        text(&doc["userName"]),
    );
    let granted: BTreeMap<String, Value> = doc["granted"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    if granted.is_empty() {
        out.push_str("the policy grants nothing (not active, or no team)\n");
    }
    for (env, groups) in &granted {
        out.push_str(&format!("the policy grants {env}: {}\n", text(groups)));
    }
    for r in doc["refused"].as_array().into_iter().flatten() {
        out.push_str(&format!("the policy refuses {}\n", text(&r["reason"])));
    }
    let rows: Vec<[String; 5]> = doc["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let should = match &a["should"] {
                Value::Object(o) => {
                    format!("active {} in {}", text(&o["active"]), text(&o["groups"]))
                }
                other => text(other),
            };
            let holds: Vec<String> = a["holds"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|h| match h.get("unknown") {
                    Some(reason) => format!("unknown: {}", text(reason)),
                    None => format!(
                        "{} {}{}",
                        text(&h["userName"]),
                        if h["status"] == STATUS_ACTIVE {
                            "active"
                        } else {
                            "disabled"
                        },
                        if h["console"] == true {
                            " +console"
                        } else {
                            ""
                        }
                    ),
                })
                .collect();
            [
                text(&a["accountId"]),
                text(&a["environment"]),
                should,
                if holds.is_empty() {
                    "-".into()
                } else {
                    holds.join("; ")
                },
                text(&a["drift"]),
            ]
        })
        .collect();
    out.push_str(&table::render(
        ["ACCOUNT", "ENVIRONMENT", "SHOULD HOLD", "HOLDS", "DRIFT"],
        &rows,
    ));
    out
}
