//! `make run`: a company in the local emulator, told as a story. The organization creates its
//! environment accounts (each `CreateAccountResult` goes to `account-created`), HR onboards,
//! transfers and offboards people (each event goes to `people-events`), and a new staging
//! account appears and is backfilled through the work queue. Then someone changes things by
//! hand, and `reconcile` reports the drift and repairs it (people through the work queue, the
//! baseline through `account-created`). The functions are the real binaries, running behind a
//! local Lambda Runtime API. After each step the accounts are read back and printed as an
//! access matrix.
//!
//! It checks what it shows: if anyone ends up anywhere the access model does not put them, it
//! says so and exits non-zero.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use gatehouse_tests::access::{self, UserView};
use gatehouse_tests::binaries;
use gatehouse_tests::fixtures;
use gatehouse_tests::runtime::Function;
use gatehouse_tests::world::{World, ENVIRONMENTS};
use serde_json::{json, Value};

/// Employee id, sample file, and where the access model says they belong.
const PEOPLE: &[(&str, &str, Option<&str>)] = &[
    ("E1001", "onboard-engineer.json", Some("development")),
    ("E2001", "onboard-qe.json", Some("testing")),
    ("E3001", "onboard-pm.json", Some("staging")),
    ("E4001", "onboard-sa.json", Some("staging")),
    ("E9001", "onboard-sre-allowed.json", Some("production")),
    ("E9002", "onboard-sre-refused.json", None),
];

/// The account that appears late in the story.
const NEW_ACCOUNT: &str = "staging-2";

/// employee id -> account label -> expected status of their user there (no entry: no user).
type Expected = BTreeMap<&'static str, BTreeMap<&'static str, &'static str>>;

/// employee id -> account label -> the user found there.
type Matrix = BTreeMap<String, BTreeMap<String, UserView>>;

struct Demo {
    world: World,
    people_events: Function,
    account_created: Function,
    reconcile: Function,
    /// Outcome events already taken off the bus (to deliver reconcile's requests), for the
    /// summary at the end.
    taken: Vec<Value>,
}

#[tokio::main]
async fn main() -> ExitCode {
    // The functions are built beside the demo (`make run` builds all three), wherever cargo's
    // target directory is; a directory given as the first argument overrides that.
    let bin_dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(binaries::profile_dir);
    let log_dir = binaries::log_dir();

    let mut world = World::with_environments(&[]).await;
    // The built-in policy, with this world's own account among the HR accounts: the scim
    // function puts its HR events from there.
    world.use_scim_policy("groups", "externalId");
    let start = |name: &'static str| {
        let (bin, log) = (bin_dir.join(name), log_dir.join(format!("{name}.log")));
        let env = world.function_env(name);
        async move {
            Function::start(name, &bin, &env, &log)
                .await
                .map_err(|e| format!("{}: {e}", bin.display()))
        }
    };
    let (people_events, account_created, reconcile) = match (
        start("people-events").await,
        start("account-created").await,
        start("reconcile").await,
    ) {
        (Ok(p), Ok(a), Ok(r)) => (p, a, r),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            eprintln!("cannot start a function: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut demo = Demo {
        world,
        people_events,
        account_created,
        reconcile,
        taken: Vec::new(),
    };
    println!(
        "A company in the local emulator: management account {}.",
        demo.world.management
    );
    println!(
        "The functions run from {} behind a local Lambda Runtime API.",
        bin_dir.display()
    );

    let mut wrong = Vec::new();
    let mut expected = Expected::new();

    println!("\n== The organization creates its environment accounts");
    for env in ENVIRONMENTS {
        wrong.extend(demo.new_account(env, env).await);
    }
    wrong.extend(demo.show(&expected, "accounts").await);

    println!("\n== HR onboards six people");
    for (id, file, home) in PEOPLE {
        demo.hr_event(file).await;
        expected.insert(id, home.iter().map(|h| (*h, "active")).collect());
    }
    wrong.extend(demo.show(&expected, "onboarding").await);

    println!("\n== E1001 moves from engineering to qe");
    demo.hr_event("transfer-engineer-to-qe.json").await;
    expected.insert(
        "E1001",
        [("development", "disabled"), ("testing", "active")].into(),
    );
    wrong.extend(demo.show(&expected, "transfer").await);

    println!("\n== E1001 leaves the company");
    demo.hr_event("offboard-engineer.json").await;
    expected.insert(
        "E1001",
        [("development", "disabled"), ("testing", "disabled")].into(),
    );
    wrong.extend(demo.show(&expected, "offboarding").await);

    println!(
        "\n== A second staging account appears; its people are brought in through the work queue"
    );
    wrong.extend(demo.new_account(NEW_ACCOUNT, "staging").await);
    for id in ["E3001", "E4001"] {
        expected
            .entry(id)
            .or_default()
            .insert(NEW_ACCOUNT, "active");
    }
    wrong.extend(demo.show(&expected, "new account").await);

    println!(
        "\n== An identity provider (Okta) provisions an engineer over SCIM, then deactivates them"
    );
    wrong.extend(demo.scim(&mut expected).await);

    println!("\n== Someone changes things by hand; reconcile reports the drift, then repairs it");
    wrong.extend(demo.drift().await);
    wrong.extend(demo.show(&expected, "repair").await);

    demo.print_outcomes().await;
    println!("\nFunction logs: {}/", log_dir.display());
    if wrong.is_empty() {
        println!("\nAfter every step, everybody was exactly where the access model puts them.");
        ExitCode::SUCCESS
    } else {
        for w in &wrong {
            eprintln!("WRONG: {w}");
        }
        ExitCode::FAILURE
    }
}

impl Demo {
    /// The emulator's CreateAccount, tagged; its CreateAccountResult to `account-created`; then
    /// the work queue drained into `people-events`. Returns the work items that failed.
    async fn new_account(&mut self, label: &str, environment: &str) -> Vec<String> {
        let id = self
            .world
            .create_bare_account(&format!("{label}-account"), Some(environment))
            .await;
        self.world.accounts.insert(label.to_owned(), id.clone());
        self.world.proxy.reset();
        let event = fixtures::create_account_result(&id);
        let line = match self.account_created.invoke(&event).await {
            Ok(r) => format!(
                "{}: {} created, {} people enqueued",
                r["result"].as_str().unwrap_or("?"),
                r["created"].as_array().map_or(0, Vec::len),
                r["backfilled"]
            ),
            Err(e) => format!("FAILED: {e}"),
        };
        let calls = self.world.proxy.calls().len();
        println!("  CreateAccountResult {label:<10} {id}  {line} ({calls} AWS calls)");
        self.drain(label).await
    }

    /// Hand-made drift: E1001's sealed user in development given a console password back, E3001
    /// put into a group nobody defined in staging, and a user outside Gatehouse with a console
    /// password in production, administrator rights on development's developers group.
    /// `reconcile` reports it (report mode), then repairs people's drift through the work queue
    /// and the group's through `account-created` (repair mode); what is left is for a person.
    async fn drift(&mut self) -> Vec<String> {
        let mut wrong = Vec::new();
        let dev = self.world.iam(self.world.account("development")).await;
        let staging = self.world.iam(self.world.account("staging")).await;
        let prod = self.world.iam(self.world.account("production")).await;
        let done = [
            dev.create_login_profile()
                .user_name("ada.lovelace@example.com")
                .password("Reopened-by-hand-1!")
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            staging
                .create_group()
                .group_name("legacy-admins")
                .path("/gatehouse/")
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            staging
                .add_user_to_group()
                .user_name("margaret.hamilton@example.com")
                .group_name("legacy-admins")
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            dev.attach_group_policy()
                .group_name("developers")
                .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            prod.create_user()
                .user_name("break-glass")
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            prod.create_login_profile()
                .user_name("break-glass")
                .password("Made-by-hand-1!")
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        ];
        for (i, d) in done.iter().enumerate() {
            if let Err(e) = d {
                wrong.push(format!("drift by hand, step {i}: {e}"));
            }
        }
        println!(
            "  by hand: a console password for E1001's sealed user in development; E3001 into"
        );
        println!("  a group nobody defined in staging; administrator rights on the developers");
        println!("  group; a user outside Gatehouse in production");
        for mode in ["report", "repair"] {
            self.world.proxy.reset();
            let report = match self.reconcile.invoke(&json!({ "mode": mode })).await {
                Ok(r) => r,
                Err(e) => {
                    wrong.push(format!("reconcile ({mode}) failed: {e}"));
                    return wrong;
                }
            };
            let calls = self.world.proxy.calls().len();
            println!(
                "  reconcile, {mode} mode: {} accounts read, {} findings, {} repairs enqueued, \
                 {} baselines requested ({calls} AWS calls)",
                report["accountsRead"],
                report["findings"].as_array().map_or(0, Vec::len),
                report["repairsEnqueued"],
                report["baselinesRequested"]
            );
            if mode == "report" {
                for f in report["findings"].as_array().into_iter().flatten() {
                    println!(
                        "    {:<10} {:<16} {:<30} {}",
                        self.label(f["accountId"].as_str().unwrap_or_default()),
                        f["kind"].as_str().unwrap_or_default(),
                        f["subject"].as_str().unwrap_or_default(),
                        f["detail"].as_str().unwrap_or_default()
                    );
                }
                if report["findings"].as_array().map_or(0, Vec::len) != 5 {
                    wrong.push(format!("reconcile should find five differences: {report}"));
                }
            } else if report["repairsEnqueued"] != 2 || report["baselinesRequested"] != 1 {
                wrong.push(format!(
                    "reconcile should repair two people and one baseline: {report}"
                ));
            }
        }
        wrong.extend(self.drain("repair").await);
        wrong.extend(self.deliver_baseline_requests().await);
        let admin = dev
            .list_attached_group_policies()
            .group_name("developers")
            .send()
            .await
            .map(|o| {
                o.attached_policies()
                    .iter()
                    .any(|p| p.policy_name() == Some("AdministratorAccess"))
            });
        if !matches!(admin, Ok(false)) {
            wrong.push(format!(
                "after repair: the developers group still has administrator rights ({admin:?})"
            ));
        }
        let ada = access::user(&dev, "ada.lovelace@example.com").await;
        if ada.as_ref().is_none_or(|u| u.console) {
            wrong.push("after repair: E1001's console password is still there".into());
        }
        wrong
    }

    /// Delivers reconcile's `Baseline Requested` events to `account-created`, as the bus's
    /// rule does; says what failed.
    async fn deliver_baseline_requests(&mut self) -> Vec<String> {
        let outcomes = self.world.outcomes().await;
        let mut wrong = Vec::new();
        for request in outcomes
            .iter()
            .filter(|o| o["detail-type"] == "Baseline Requested")
        {
            self.world.proxy.reset();
            match self.account_created.invoke(request).await {
                Ok(r) => {
                    let calls = self.world.proxy.calls().len();
                    println!(
                        "  account-created, asked by reconcile for {}: repaired {} ({calls} AWS calls)",
                        self.label(request["detail"]["accountId"].as_str().unwrap_or_default()),
                        r["repaired"]
                    );
                }
                Err(e) => wrong.push(format!("account-created on a Baseline Requested: {e}")),
            }
        }
        self.taken.extend(outcomes);
        wrong
    }

    /// Delivers the work queue to `people-events` until it is empty; the items handed back.
    async fn drain(&self, label: &str) -> Vec<String> {
        let people_events = &self.people_events;
        let drained = self
            .world
            .drain_work_queue(
                |batch| async move {
                    match people_events.invoke(&batch).await {
                        Ok(answer) => answer,
                        Err(e) => {
                            eprintln!("  people-events failed on a batch: {e}");
                            let all: Vec<Value> = batch["Records"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(|r| json!({"itemIdentifier": r["messageId"]}))
                                .collect();
                            json!({ "batchItemFailures": all })
                        }
                    }
                },
                20,
            )
            .await;
        if drained.delivered > 0 {
            println!(
                "  work queue: {} work items delivered to people-events",
                drained.delivered
            );
        }
        drained
            .handed_back
            .iter()
            .map(|item| format!("{label}: work item handed back: {item}"))
            .collect()
    }

    /// Okta's requests (`fixtures/scim/okta/`) to the real scim binary, as its function URL
    /// delivers them: a create, the team group pushed, then the deactivation; each time the HR
    /// events it put on the bus go through the work queue to people-events.
    async fn scim(&mut self, expected: &mut Expected) -> Vec<String> {
        const OKTA_USER: &str = "00ujl29u0le5T6Aj10h7";
        let client = gatehouse_tests::scim::ScimClient::start(&self.world).await;
        let okta = |file: &str, id: &str| {
            let text = fixtures::load(&format!("scim/okta/{file}")).to_string();
            serde_json::from_str::<Value>(&text.replace("{{userId}}", id)).expect("a fixture")
        };
        let mut wrong = Vec::new();
        let steps: [(&str, &str, &str); 3] = [
            ("POST", "/Users", "create-user.json"),
            ("POST", "/Groups", "push-group.json"),
            ("PATCH", "/Users/{id}", "deactivate-user.json"),
        ];
        let mut id = String::new();
        for (i, (method, path, file)) in steps.into_iter().enumerate() {
            self.world.proxy.reset();
            let path = path.replace("{id}", &id);
            let answer = client.send(method, &path, Some(&okta(file, &id))).await;
            let calls = self.world.proxy.calls().len();
            if i == 0 {
                id = answer.body["id"].as_str().unwrap_or_default().to_owned();
            }
            let events = self.world.route_hr_events().await;
            let kinds: Vec<&str> = events
                .iter()
                .filter_map(|e| e["detail-type"].as_str())
                .collect();
            println!(
                "  {:<44} {} ({calls} AWS calls); HR events: {}",
                format!("{method} {path} ({file})"),
                answer.status,
                if kinds.is_empty() {
                    "none".to_owned()
                } else {
                    kinds.join(", ")
                }
            );
            if !matches!(answer.status, 200 | 201) {
                wrong.push(format!(
                    "SCIM {method} {path}: {} {}",
                    answer.status, answer.body
                ));
            }
            wrong.extend(self.drain("scim").await);
            let state = match i {
                0 => continue, // no team yet: no access
                1 => "active",
                _ => "disabled",
            };
            expected.insert(OKTA_USER, [("development", state)].into());
            wrong.extend(self.show(expected, &format!("SCIM {method} {path}")).await);
        }
        wrong
    }

    async fn hr_event(&self, file: &str) {
        let event = fixtures::load(file);
        self.world.proxy.reset();
        let answer = self.people_events.invoke(&event).await;
        let calls = self.world.proxy.calls().len();
        let d = &event["detail"];
        let what = format!(
            "{} {} {}",
            event["detail-type"].as_str().unwrap_or_default(),
            d["employeeId"].as_str().unwrap_or_default(),
            d["team"]
                .as_str()
                .map(|t| format!("-> {t}"))
                .unwrap_or_default()
        );
        match answer {
            Ok(report) => println!("  {what:<44} {} ({calls} AWS calls)", self.summary(&report)),
            Err(e) => println!("  {what:<44} FAILED: {e}"),
        }
    }

    fn label(&self, account: &str) -> String {
        self.world
            .accounts
            .iter()
            .find(|(_, id)| *id == account)
            .map(|(l, _)| l.clone())
            .unwrap_or_else(|| account.to_owned())
    }

    fn summary(&self, report: &Value) -> String {
        let mut s = report["result"].as_str().unwrap_or("?").to_owned();
        if let Some(accounts) = report["accounts"].as_object() {
            for (acct, r) in accounts.iter().filter(|(_, r)| *r != "unchanged") {
                s.push_str(&format!(
                    ", {} in {}",
                    r.as_str().unwrap_or("?"),
                    self.label(acct)
                ));
            }
        }
        if let Some(r) = report["rejections"].as_array().filter(|r| !r.is_empty()) {
            s.push_str(&format!(", {} refused", r.len()));
        }
        s
    }

    /// Reads the accounts back, prints the matrix, and returns what differs from `expected`.
    async fn show(&self, expected: &Expected, step: &str) -> Vec<String> {
        let matrix = self.read_matrix().await;
        self.print_matrix(&matrix);
        check(&matrix, expected)
            .into_iter()
            .map(|w| format!("after {step}: {w}"))
            .collect()
    }

    fn columns(&self) -> Vec<String> {
        let mut labels: Vec<String> = ENVIRONMENTS.iter().map(|e| e.to_string()).collect();
        labels.extend(
            self.world
                .accounts
                .keys()
                .filter(|l| !labels.contains(l))
                .cloned()
                .collect::<Vec<_>>(),
        );
        labels.retain(|l| self.world.accounts.contains_key(l));
        std::iter::once("management".to_owned())
            .chain(labels)
            .collect()
    }

    async fn read_matrix(&self) -> Matrix {
        let mut matrix = Matrix::new();
        for column in self.columns() {
            let iam = match self.world.accounts.get(&column) {
                Some(id) => self.world.iam(id).await,
                None => aws_sdk_iam::Client::new(&self.world.direct),
            };
            for user in access::users(&iam, "/gatehouse/people/").await {
                let who = user.tag("gatehouse:employee-id").unwrap_or("?").to_owned();
                matrix.entry(who).or_default().insert(column.clone(), user);
            }
        }
        matrix
    }

    fn print_matrix(&self, matrix: &Matrix) {
        let columns = self.columns();
        let people = everyone(matrix, &Expected::new());
        let width = people.iter().map(|p| p.len()).max().unwrap_or(6).max(6);
        print!("\n  {:<width$}", "person");
        for c in &columns {
            print!(" | {c:<30}");
        }
        println!();
        for id in &people {
            print!("  {id:<width$}");
            for c in &columns {
                let cell = match matrix.get(id).and_then(|row| row.get(c)) {
                    None => "-".to_owned(),
                    Some(u) => {
                        let groups: Vec<&str> = u.groups.iter().map(String::as_str).collect();
                        format!(
                            "{} [{}]{}",
                            u.tag("gatehouse:status").unwrap_or("?"),
                            groups.join(","),
                            if u.console { " +console" } else { "" }
                        )
                    }
                };
                print!(" | {cell:<30}");
            }
            println!();
        }
    }

    async fn print_outcomes(&self) {
        println!("\nOutcome events on the bus:");
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let mut all = self.taken.clone();
        all.extend(self.world.outcomes().await);
        for o in all {
            let kind = o["detail-type"].as_str().unwrap_or("?").to_owned();
            if kind == "Request Rejected" {
                println!(
                    "  refused: {} {}: {}",
                    o["detail"]["employeeId"].as_str().unwrap_or("-"),
                    o["detail"]["environment"].as_str().unwrap_or("-"),
                    o["detail"]["reason"].as_str().unwrap_or_default()
                );
            }
            *counts.entry(kind).or_default() += 1;
        }
        for (kind, n) in counts {
            println!("  {n} x {kind}");
        }
    }
}

/// The HR fixtures' people in their order, then anybody else the accounts hold or the story
/// expects (the SCIM user): nobody found in an account goes unchecked.
fn everyone(matrix: &Matrix, expected: &Expected) -> Vec<String> {
    let mut ids: Vec<String> = PEOPLE.iter().map(|(id, _, _)| id.to_string()).collect();
    let others: std::collections::BTreeSet<String> = matrix
        .keys()
        .cloned()
        .chain(expected.keys().map(|k| k.to_string()))
        .filter(|k| !ids.contains(k))
        .collect();
    ids.extend(others);
    ids
}

fn check(matrix: &Matrix, expected: &Expected) -> Vec<String> {
    let mut wrong = Vec::new();
    for id in everyone(matrix, expected) {
        let row = matrix.get(&id).cloned().unwrap_or_default();
        let want = expected.get(id.as_str()).cloned().unwrap_or_default();
        let got: BTreeMap<&str, &str> = row
            .iter()
            .map(|(c, u)| (c.as_str(), u.tag("gatehouse:status").unwrap_or("?")))
            .collect();
        if got != want {
            wrong.push(format!("{id} holds {got:?}, expected {want:?}"));
        }
        for (column, user) in &row {
            let active = user.tag("gatehouse:status") == Some("active");
            if active != (user.console && !user.groups.is_empty()) {
                wrong.push(format!("{id} in {column}: status and access disagree"));
            }
        }
    }
    wrong
}
