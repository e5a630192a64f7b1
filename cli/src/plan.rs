//! `gatehouse plan --event FILE`: what an HR, sync or account event would do against the
//! current state, changing nothing ([`shell::preview`] does the reading and the planning).

use shell::preview::{AccountPlan, PersonPlan, Preview};
use shell::{Config, Deps};

use crate::{print_json, table, Output, CHANGED, REFUSED, UNREADABLE};

/// Plans the event in `path` and prints it; the exit code: 0 nothing would change, 1 something
/// would, 3 the function would refuse the event (or a setting is refused), 4 AWS could not be
/// read (also when an account or a user in the plan could not).
pub fn run(path: &str, output: Output) -> u8 {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("gatehouse: {path}: {e}");
            return 2;
        }
    };
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("gatehouse: configuration: {e}");
            return REFUSED;
        }
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
    eprintln!("gatehouse: planning {path} against the current state (nothing is written)");
    let planned = runtime.block_on(async {
        let sdk = shell::sdk::load().await;
        let deps = Deps::new(config, &sdk, "gatehouse-cli");
        shell::preview::preview(&deps, &bytes).await
    });
    let preview = match planned {
        Ok(p) => p,
        Err(e) => {
            eprintln!("gatehouse: {e}");
            return UNREADABLE;
        }
    };
    match output {
        Output::Json => print_json(&serde_json::to_value(&preview).unwrap_or_default()),
        Output::Table => print!("{}", text(&preview)),
    }
    match &preview {
        Preview::Refused { .. } => REFUSED,
        Preview::Person(p)
            if p.users
                .iter()
                .any(|u| u.note.as_deref().is_some_and(not_read)) =>
        {
            UNREADABLE
        }
        Preview::Person(p) if p.users.iter().any(|u| !u.actions.is_empty()) => CHANGED,
        Preview::Person(_) => 0,
        Preview::Account(a)
            if a.baselined_before && a.repairs.is_empty() && a.backfill.is_empty() =>
        {
            0
        }
        Preview::Account(_) => CHANGED,
    }
}

fn not_read(note: &str) -> bool {
    note.starts_with("not read")
}

fn text(preview: &Preview) -> String {
    match preview {
        Preview::Refused { event_id, reason } => format!(
            "{}: would be refused, changing nothing: {reason}\n",
            event_id.as_deref().unwrap_or("the event")
        ),
        Preview::Person(p) => person_text(p),
        Preview::Account(a) => account_text(a),
    }
}

fn person_text(p: &PersonPlan) -> String {
    let mut out = format!("{} ({}): ", p.employee_id, p.event_id);
    if p.stale {
        out.push_str("stale: the directory knows a newer event; nothing would change\n");
        return out;
    }
    out.push_str(&format!(
        "{} -> {}\n",
        p.status_before.as_deref().unwrap_or("unknown"),
        p.status_after.as_deref().unwrap_or("unknown")
    ));
    for r in &p.refused {
        out.push_str(&format!("refused by the policy: {r}\n"));
    }
    if p.users.is_empty() {
        out.push_str("no account in scope: nothing would change\n");
        return out;
    }
    let rows: Vec<[String; 4]> = p
        .users
        .iter()
        .map(|u| {
            let what = match (&u.note, u.actions.is_empty()) {
                (Some(note), _) => note.clone(),
                (None, true) => "nothing (already so)".into(),
                (None, false) => u.actions.join(", "),
            };
            [
                u.account_id.clone(),
                u.environment.clone().unwrap_or_else(|| "-".into()),
                u.user_name.clone(),
                what,
            ]
        })
        .collect();
    out.push_str(&table::render(
        ["ACCOUNT", "ENVIRONMENT", "USER", "WOULD"],
        &rows,
    ));
    out
}

fn account_text(a: &AccountPlan) -> String {
    let mut out = format!(
        "account {} ({}), event {}: baseline {}\n",
        a.account_id,
        a.environment,
        a.event_id,
        if a.baselined_before {
            "laid before: would be checked and repaired"
        } else {
            "never laid: would be laid"
        }
    );
    if let Some(why) = &a.not_read {
        out.push_str(&format!("not read now: {why}\n"));
    }
    for r in &a.repairs {
        out.push_str(&format!("would repair: {r}\n"));
    }
    out.push_str(&format!(
        "would enqueue a sync for {} people{}{}\n",
        a.backfill.len(),
        if a.backfill.is_empty() { "" } else { ": " },
        a.backfill.join(", ")
    ));
    out
}
