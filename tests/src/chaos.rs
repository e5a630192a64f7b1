//! Chaos against an oracle: a few hundred random HR events, delivered the way the FIFO work
//! queue and direct invocations deliver them while the proxy breaks a fifth of all calls, then
//! every account's IAM state compared with what the pure core says the events mean.
//!
//! - [`Script::generate`] writes the events from a seed: lifecycles of onboardings, transfers
//!   (some with a new e-mail address), offboardings and rehires, each employee's dated in
//!   order; some events dated in the future (a start date, a mistyped year); duplicates, some
//!   on the queue and some invoked directly beside it; and all of it shuffled.
//! - [`run`] delivers them through two warm instances of the real handler, batches of up to
//!   ten as Lambda's FIFO event source mapping forms them, redelivering what they hand back,
//!   while the proxy injects faults ([`crate::proxy::Chaos`]). A message handed back as often
//!   as the work queue's `maxReceiveCount` (from `infra/template.yaml`) is dead-lettered.
//! - [`check`] computes each employee's standing with the core's `merge` and their access with
//!   `Access::of`, and compares every account: a granted person holds an active user in exactly
//!   the expected groups with a console password; anyone else's user, and every former user
//!   name, is absent or sealed; no user exists that no event asked for; the directory agrees;
//!   every grant was announced; nothing was dead-lettered.
//!
//! Every failure message names the seed: `make chaos SEED=<seed> EVENTS=<n>` runs it again.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use gatehouse::core::access::Access;
use gatehouse::core::hr_event::{parse_inbound, HrEvent, Inbound};
use gatehouse::core::ids::Timestamp;
use gatehouse::core::record::EmployeeRecord;
use gatehouse::core::standing::{merge, Standing, Status};
use gatehouse::Deps;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::access::{self, UserView};
use crate::proxy::{deny_assume_role, Chaos, Fault};
use crate::scenario::outcomes_of;
use crate::world::{World, REGION, WORK_QUEUE};

/// The HR system's source and account, as `policy.toml` allows them.
const HR_SOURCE: &str = "com.example.hr";
const HR_ACCOUNT: &str = "111122223333";
/// The allow-listed production operator of `policy.toml`.
const ON_CALL_LEAD: &str = "E9001";
const DAY: i128 = 86_400 * 1_000_000_000;
/// Messages per batch, as Lambda's SQS event source mapping sends at most.
const BATCH: usize = 10;
/// A direct invocation that keeps failing is given up on after this many tries (EventBridge's
/// own retry policy would keep trying for a day).
const DIRECT_TRIES: usize = 20;

/// One chaos run's parameters.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub seed: u64,
    /// HR events to generate (duplicates come on top).
    pub events: usize,
    /// The share of calls the proxy breaks.
    pub fault_rate: f64,
}

impl Settings {
    /// `GATEHOUSE_CHAOS_SEED` and `GATEHOUSE_CHAOS_EVENTS` (from `make chaos`), or the defaults.
    pub fn from_env(seed: u64, events: usize) -> Settings {
        let number = |name: &str| {
            std::env::var(name).ok().map(|v| {
                v.parse::<u64>()
                    .unwrap_or_else(|_| panic!("{name} must be a number, not {v:?}"))
            })
        };
        Settings {
            seed: number("GATEHOUSE_CHAOS_SEED").unwrap_or(seed),
            events: number("GATEHOUSE_CHAOS_EVENTS").map_or(events, |n| n as usize),
            fault_rate: 0.2,
        }
    }
}

/// One message as the test queue holds it.
#[derive(Debug, Clone)]
struct Message {
    id: String,
    group: String,
    body: String,
    receives: usize,
}

/// The events of a run, and what they are.
pub struct Script {
    /// Every envelope in the order it is sent: to the queue, or invoked directly.
    sends: Vec<Send>,
    /// The HR events the core accepts (not future-dated), by employee.
    accepted: BTreeMap<String, Vec<HrEvent>>,
    /// Every user name any of an employee's events names.
    user_names: BTreeMap<String, BTreeSet<String>>,
    /// The ids of the future-dated events, which must be refused.
    future: BTreeSet<String>,
    /// Distinct HR events.
    pub events: usize,
}

#[derive(Debug, Clone)]
enum Send {
    Queue { group: String, body: String },
    Direct { body: String },
}

const TEAMS: [&str; 5] = [
    "engineering",
    "qe",
    "product-management",
    "solutions-architecture",
    "site-reliability",
];
const GIVEN: [&str; 8] = [
    "ada", "alan", "grace", "edsger", "barbara", "donald", "frances", "ken",
];
const FAMILY: [&str; 8] = [
    "lovelace", "turing", "hopper", "dijkstra", "liskov", "knuth", "allen", "thompson",
];

impl Script {
    /// `events` random HR events from `seed`, dated relative to `now`.
    pub fn generate(seed: u64, events: usize, now: Timestamp, world: &World) -> Script {
        let policy = world.config().policy;
        let mut rng = StdRng::seed_from_u64(seed);
        let employees = (events / 6).max(8);
        let ids: Vec<String> = (1..employees)
            .map(|i| format!("E{i}"))
            .chain([ON_CALL_LEAD.to_owned()])
            .collect();
        let mut lives: BTreeMap<String, Life> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), Life::new(id, i, now, &mut rng)))
            .collect();
        let mut envelopes = Vec::new();
        while envelopes.len() < events {
            let id = ids[rng.random_range(0..ids.len())].clone();
            let life = lives.get_mut(&id).expect("every employee has a life");
            envelopes.push((id, life.next(now, &mut rng)));
        }
        let mut script = Script {
            sends: Vec::new(),
            accepted: BTreeMap::new(),
            user_names: BTreeMap::new(),
            future: BTreeSet::new(),
            events: envelopes.len(),
        };
        for (employee, envelope) in &envelopes {
            let bytes = serde_json::to_vec(envelope).expect("JSON");
            match parse_inbound(&bytes, &policy, now) {
                Ok(Inbound::Hr(event)) => {
                    if let Some(person) = merge(None, &event).standing.person {
                        script
                            .user_names
                            .entry(employee.clone())
                            .or_default()
                            .insert(person.user_name);
                    }
                    script
                        .accepted
                        .entry(employee.clone())
                        .or_default()
                        .push(event);
                }
                Ok(Inbound::Sync(_)) => unreachable!("the script writes HR events only"),
                Err(_) => {
                    script
                        .future
                        .insert(envelope["id"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
        // Duplicates: one in ten again on the queue (an HR system that retried), one in
        // twenty invoked directly as well (a direct rule beside the queue).
        let mut sends: Vec<Send> = Vec::new();
        for (employee, envelope) in &envelopes {
            let body = envelope.to_string();
            let queued = Send::Queue {
                group: employee.clone(),
                body: body.clone(),
            };
            sends.push(queued.clone());
            if rng.random_bool(0.1) {
                sends.push(queued);
            }
            if rng.random_bool(0.05) {
                sends.push(Send::Direct { body });
            }
        }
        sends.shuffle(&mut rng);
        script.sends = sends;
        script
    }

    /// Messages sent, duplicates included.
    pub fn messages(&self) -> usize {
        self.sends.len()
    }
}

/// One employee's HR history, written in date order.
struct Life {
    id: String,
    email: String,
    team: String,
    /// The date of the latest event so far.
    at: i128,
    status: Option<Status>,
    renamed: usize,
}

impl Life {
    fn new(id: &str, index: usize, now: Timestamp, rng: &mut StdRng) -> Life {
        let given = GIVEN[index % GIVEN.len()];
        let family = FAMILY[(index / GIVEN.len()) % FAMILY.len()];
        let team = if id == ON_CALL_LEAD {
            "site-reliability"
        } else {
            TEAMS[rng.random_range(0..TEAMS.len())]
        };
        Life {
            id: id.to_owned(),
            email: format!("{given}.{family}{index}@example.com"),
            team: team.to_owned(),
            at: now.unix_nanos() - 400 * DAY + rng.random_range(0..30) as i128 * DAY,
            status: None,
            renamed: 0,
        }
    }

    /// The next event of this life: usually the next step, dated after the last; one in
    /// fifteen is dated in the future instead and is not part of the life.
    fn next(&mut self, now: Timestamp, rng: &mut StdRng) -> Value {
        if rng.random_bool(1.0 / 15.0) {
            let at = if rng.random_bool(0.3) {
                // A mistyped year.
                Timestamp::parse_rfc3339("effectiveAt", "2062-01-05T09:00:00Z")
                    .expect("a valid date")
                    .unix_nanos()
            } else {
                now.unix_nanos() + rng.random_range(1..120) as i128 * DAY
            };
            let team = TEAMS[rng.random_range(0..TEAMS.len())];
            let kind = if rng.random_bool(0.5) {
                "Employee Onboarded"
            } else {
                "Employee Transferred"
            };
            return self.envelope(kind, at, Some(team), rng);
        }
        // Steps are a day to five apart, and never reach today.
        self.at = (self.at + rng.random_range(1..6) as i128 * DAY).min(now.unix_nanos() - DAY);
        let at = self.at;
        match self.status {
            // The first event: usually an onboarding; sometimes a transfer, for someone
            // onboarded before Gatehouse.
            None => {
                self.status = Some(Status::Active);
                let kind = if rng.random_bool(0.85) {
                    "Employee Onboarded"
                } else {
                    "Employee Transferred"
                };
                let team = self.team.clone();
                self.envelope(kind, at, Some(&team), rng)
            }
            Some(Status::Active) if rng.random_bool(0.35) => {
                self.status = Some(Status::Offboarded);
                self.envelope("Employee Offboarded", at, None, rng)
            }
            Some(Status::Active) => {
                if self.id != ON_CALL_LEAD || rng.random_bool(0.3) {
                    self.team = TEAMS[rng.random_range(0..TEAMS.len())].to_owned();
                }
                if rng.random_bool(0.2) {
                    // A new name, a new address: a new user name.
                    self.renamed += 1;
                    let (local, domain) = self.email.split_once('@').expect("an address");
                    let base = local.split('-').next().unwrap_or(local);
                    self.email = format!("{base}-{}@{domain}", self.renamed);
                }
                let team = self.team.clone();
                self.envelope("Employee Transferred", at, Some(&team), rng)
            }
            // A rehire, possibly into another team.
            Some(Status::Offboarded) => {
                self.status = Some(Status::Active);
                if rng.random_bool(0.5) && self.id != ON_CALL_LEAD {
                    self.team = TEAMS[rng.random_range(0..TEAMS.len())].to_owned();
                }
                let team = self.team.clone();
                self.envelope("Employee Onboarded", at, Some(&team), rng)
            }
        }
    }

    fn envelope(&self, kind: &str, at: i128, team: Option<&str>, rng: &mut StdRng) -> Value {
        let at = Timestamp::from_unix_nanos(at)
            .expect("a date in range")
            .rfc3339();
        let mut detail = json!({ "employeeId": self.id, "effectiveAt": at });
        if let Some(team) = team {
            detail["email"] = self.email.clone().into();
            detail["team"] = team.into();
        }
        json!({
            "version": "0",
            "id": format!("{:016x}-{:016x}", rng.random::<u64>(), rng.random::<u64>()),
            "detail-type": kind,
            "source": HR_SOURCE,
            "account": HR_ACCOUNT,
            "time": at,
            "region": REGION,
            "resources": [],
            "detail": detail,
        })
    }
}

/// What a run did, for the note.
#[derive(Debug, Default)]
pub struct Figures {
    pub seed: u64,
    pub events: usize,
    pub messages: usize,
    /// Messages handed to the function, redeliveries included.
    pub deliveries: usize,
    pub redeliveries: usize,
    pub batches: usize,
    pub direct_invocations: usize,
    pub calls: usize,
    pub injected: BTreeMap<Fault, usize>,
    pub max_receives: usize,
    /// Messages that reached the work queue's `maxReceiveCount`.
    pub dead_lettered: Vec<String>,
    /// Direct invocations still failing after [`DIRECT_TRIES`].
    pub given_up: Vec<String>,
    pub wall: Duration,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let injected: usize = self.injected.values().sum();
        write!(
            f,
            "seed {}: {} events ({} messages, {} direct) in {:.1?}; {} deliveries ({} redeliveries) \
             in {} batches; {} calls, {} faults injected {:?}; at most {} receives of one message; \
             {} dead-lettered",
            self.seed,
            self.events,
            self.messages,
            self.direct_invocations,
            self.wall,
            self.deliveries,
            self.redeliveries,
            self.batches,
            self.calls,
            injected,
            self.injected,
            self.max_receives,
            self.dead_lettered.len(),
        )
    }
}

/// The chaos world: the four environment accounts, a second development and testing account
/// (six managed in all), and an account Gatehouse never baselined that refuses its role
/// (Control Tower's Audit, say).
pub async fn world() -> World {
    let world = World::new().await;
    world
        .create_account("development-2", Some("development"))
        .await;
    world.create_account("testing-2", Some("testing")).await;
    let audit = world.create_bare_account("audit", None).await;
    world.proxy.inject(deny_assume_role(audit));
    world
}

/// The SDK configuration of the chaos instances: the functions' own retry and timeout policy
/// (`gatehouse::sdk`), with backoffs and the attempt timeout scaled down so that a run of a
/// few hundred events takes minutes, not hours.
fn chaos_sdk(world: &World) -> aws_config::SdkConfig {
    world
        .function_sdk("people-events")
        .to_builder()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(gatehouse::sdk::ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(100)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_millis(800))
                .build(),
        )
        .build()
}

/// Delivers `script` to two warm instances of `people-events` under chaos until every message
/// is acknowledged (or dead-lettered), and says what it took.
pub async fn run(world: &World, script: &Script, settings: Settings) -> Figures {
    let sdk = chaos_sdk(world);
    let instances = [
        Deps::new(world.config(), &sdk, "people-events"),
        Deps::new(world.config(), &sdk, "people-events"),
    ];
    let max_receives = crate::template::work_queue_max_receive_count();
    let mut rng = StdRng::seed_from_u64(settings.seed ^ 0x5eed);
    let mut groups: BTreeMap<String, VecDeque<Message>> = BTreeMap::new();
    let mut direct: VecDeque<(String, usize)> = VecDeque::new();
    for (n, send) in script.sends.iter().enumerate() {
        match send {
            Send::Queue { group, body } => {
                groups.entry(group.clone()).or_default().push_back(Message {
                    id: format!("m-{n}"),
                    group: group.clone(),
                    body: body.clone(),
                    receives: 0,
                })
            }
            Send::Direct { body } => direct.push_back((body.clone(), 0)),
        }
    }
    let mut figures = Figures {
        seed: settings.seed,
        events: script.events,
        messages: script.messages(),
        direct_invocations: direct.len(),
        ..Figures::default()
    };
    world.proxy.reset();
    world.proxy.set_chaos(Some(Chaos {
        seed: settings.seed,
        rate: settings.fault_rate,
        // Throttling, server errors, timeouts, dropped before, dropped after the write.
        weights: [35, 25, 5, 15, 20],
        hold: Duration::from_millis(1200),
    }));
    let started = Instant::now();
    while groups.values().any(|g| !g.is_empty()) || !direct.is_empty() {
        // Two batches from disjoint groups, as two concurrent Lambda instances receive them.
        let mut ready: Vec<String> = groups
            .iter()
            .filter(|(_, g)| !g.is_empty())
            .map(|(k, _)| k.clone())
            .collect();
        ready.shuffle(&mut rng);
        let mut batches: [Vec<Message>; 2] = [Vec::new(), Vec::new()];
        for (i, group) in ready.iter().enumerate() {
            let batch = &mut batches[i % 2];
            let queue = &groups[group];
            let take = rng
                .random_range(1..=3)
                .min(queue.len())
                .min(BATCH - batch.len());
            batch.extend(queue.iter().take(take).cloned());
        }
        let direct_now = direct.pop_front();
        let (a, b, d) = tokio::join!(
            deliver(&instances[0], &batches[0]),
            deliver(&instances[1], &batches[1]),
            async {
                match &direct_now {
                    Some((body, _)) => {
                        let envelope: Value = serde_json::from_str(body).expect("JSON");
                        Some(gatehouse::invocation::handle(&instances[0], envelope).await)
                    }
                    None => None,
                }
            }
        );
        for (batch, handed_back) in batches.iter().zip([a, b]) {
            if batch.is_empty() {
                continue;
            }
            figures.batches += 1;
            figures.deliveries += batch.len();
            settle(
                &mut groups,
                batch,
                &handed_back,
                max_receives,
                &mut figures,
                settings.seed,
            );
        }
        if let (Some((body, tries)), Some(answer)) = (direct_now, d) {
            figures.deliveries += 1;
            if answer.is_err() {
                if tries + 1 >= DIRECT_TRIES {
                    figures.given_up.push(body);
                } else {
                    direct.push_back((body, tries + 1));
                }
            }
        }
    }
    figures.wall = started.elapsed();
    figures.injected = world.proxy.injected();
    figures.calls = world.proxy.calls().len();
    figures.redeliveries = figures.deliveries - figures.messages;
    world.proxy.set_chaos(None);
    figures
}

/// One batch through `deps`: the ids it hands back.
async fn deliver(deps: &Deps, batch: &[Message]) -> Vec<String> {
    if batch.is_empty() {
        return Vec::new();
    }
    let records: Vec<Value> = batch
        .iter()
        .map(|m| {
            json!({
                "messageId": m.id,
                "receiptHandle": format!("rh-{}-{}", m.id, m.receives),
                "body": m.body,
                "attributes": {
                    "MessageGroupId": m.group,
                    "ApproximateReceiveCount": (m.receives + 1).to_string(),
                },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:{REGION}:000000000000:{WORK_QUEUE}"),
                "awsRegion": REGION,
            })
        })
        .collect();
    let answer = gatehouse::invocation::handle(deps, json!({ "Records": records }))
        .await
        .expect("an SQS batch is always answered");
    answer["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("an SQS batch answer carries batchItemFailures: {answer}"))
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Acknowledges what the batch did not hand back; counts a receive of what it did, and
/// dead-letters a message received `max_receives` times. A handed-back message must take the
/// rest of its group in the batch with it: FIFO order.
fn settle(
    groups: &mut BTreeMap<String, VecDeque<Message>>,
    batch: &[Message],
    handed_back: &[String],
    max_receives: usize,
    figures: &mut Figures,
    seed: u64,
) {
    // Per group, how many of its messages in this batch were handed back and stay queued.
    let mut kept: BTreeMap<&str, usize> = BTreeMap::new();
    for m in batch {
        let back = handed_back.contains(&m.id);
        let at = kept.get(m.group.as_str()).copied().unwrap_or(0);
        assert!(
            back || at == 0,
            "seed {seed}: {} was acknowledged after an earlier message of group {} was handed \
             back",
            m.id,
            m.group
        );
        let queue = groups.get_mut(&m.group).expect("the message's group");
        let queued = &mut queue[at];
        assert_eq!(
            queued.id, m.id,
            "seed {seed}: batches hold groups' heads in order"
        );
        // Every receive counts, as in SQS: also of a message handed back only because one
        // before it in its group failed.
        queued.receives += 1;
        figures.max_receives = figures.max_receives.max(queued.receives);
        if !back {
            queue.remove(at);
        } else if queued.receives >= max_receives {
            let dead = queue.remove(at).expect("the message");
            figures.dead_lettered.push(dead.body);
        } else {
            kept.insert(&m.group, at + 1);
        }
    }
}

/// Compares the world with the oracle; returns every difference (empty: none).
pub async fn check(world: &World, script: &Script, figures: &Figures) -> Vec<String> {
    let policy = world.config().policy;
    let mut differences = Vec::new();
    for body in &figures.dead_lettered {
        differences.push(format!("dead-lettered: {body}"));
    }
    for body in &figures.given_up {
        differences.push(format!("a direct invocation never succeeded: {body}"));
    }

    // The managed accounts by environment, and the one Gatehouse never entered.
    let mut managed: Vec<(String, String)> = Vec::new();
    let mut unmanaged: Vec<String> = Vec::new();
    let org = aws_sdk_organizations::Client::new(&world.direct);
    let listed = org.list_accounts().send().await.expect("list accounts");
    for account in listed.accounts() {
        let id = account.id().unwrap_or_default().to_owned();
        if id == world.management {
            continue;
        }
        let tags = org
            .list_tags_for_resource()
            .resource_id(&id)
            .send()
            .await
            .expect("list tags");
        match tags
            .tags()
            .iter()
            .find(|t| t.key() == policy.environment_tag)
        {
            Some(tag) => managed.push((tag.value().to_owned(), id)),
            None => unmanaged.push(id),
        }
    }
    assert!(
        managed.len() >= 6,
        "the chaos world has six managed accounts"
    );

    let outcomes = world.outcomes().await;
    let granted_outcomes: BTreeSet<(String, String, String)> =
        outcomes_of(&outcomes, "Access Granted")
            .into_iter()
            .map(|o| {
                let d = &o["detail"];
                (
                    d["employeeId"].as_str().unwrap_or_default().to_owned(),
                    d["accountId"].as_str().unwrap_or_default().to_owned(),
                    d["userName"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
    for (employee, account, _) in &granted_outcomes {
        let production = managed
            .iter()
            .any(|(env, id)| env == "production" && id == account);
        if production && employee != ON_CALL_LEAD {
            differences.push(format!(
                "{employee} was granted production ({account}) without being allow-listed"
            ));
        }
    }
    let rejected_ids: BTreeSet<String> = outcomes_of(&outcomes, "Request Rejected")
        .into_iter()
        .filter_map(|o| o["detail"]["eventId"].as_str().map(str::to_owned))
        .collect();
    for id in &script.future {
        if !rejected_ids.contains(id) {
            differences.push(format!("the future-dated event {id} was not refused"));
        }
    }

    // Every user under /gatehouse/ (but service accounts), per account.
    let mut found: BTreeMap<String, BTreeMap<String, UserView>> = BTreeMap::new();
    for (_, account) in &managed {
        let iam = world.iam(account).await;
        let users = access::users(&iam, "/gatehouse/").await;
        found.insert(
            account.clone(),
            users
                .into_iter()
                .filter(|u| !u.path.starts_with("/gatehouse/service/"))
                .map(|u| (u.name.clone(), u))
                .collect(),
        );
    }
    for account in &unmanaged {
        let iam = world.iam(account).await;
        for u in access::users(&iam, "/gatehouse/").await {
            differences.push(format!("{} in {account}, which was never managed", u.name));
        }
    }

    let known: BTreeSet<&String> = script.user_names.values().flatten().collect();
    for (account, users) in &found {
        for name in users.keys() {
            if !known.contains(name) {
                differences.push(format!("{name} in {account}: no event asked for it"));
            }
        }
    }

    for (employee, events) in &script.accepted {
        let mut standing: Option<Standing> = None;
        for event in events {
            standing = Some(merge(standing.as_ref(), event).standing);
        }
        let Some(standing) = standing else { continue };
        let record = EmployeeRecord::from(&standing);
        let access = Access::of(&record, &policy);
        let names = script.user_names.get(employee).cloned().unwrap_or_default();
        for (environment, account) in &managed {
            let users = &found[account];
            for name in &names {
                let user = users.get(name);
                let current = record.user_name.as_ref() == Some(name);
                let expected = access.granted.get(environment).filter(|_| current);
                let problem = match (expected, user) {
                    (Some(groups), Some(u)) => open_as_granted(u, employee, groups),
                    (Some(_), None) => Some("granted, but there is no user".to_owned()),
                    (None, Some(u)) => not_sealed(u),
                    (None, None) => None,
                };
                if let Some(problem) = problem {
                    differences.push(format!(
                        "{employee} ({:?}, {:?}) as {name} in {environment} {account}: {problem}",
                        record.status, record.team
                    ));
                }
                if let (Some(_), Some(_)) = (expected, user) {
                    let announced = granted_outcomes.contains(&(
                        employee.clone(),
                        account.clone(),
                        name.clone(),
                    ));
                    if !announced {
                        differences.push(format!(
                            "{employee}'s access as {name} in {account} was never announced"
                        ));
                    }
                }
            }
        }
        match world.directory_item(employee).await {
            Some(item) => {
                let status = item.get("status").map(String::as_str);
                if status != Some(record.status.as_str()) {
                    differences.push(format!(
                        "{employee}: the directory says {status:?}, the events {:?}",
                        record.status
                    ));
                }
                // A leaver's team is history, and history may depend on the order events
                // arrived in (a transfer dated before the offboarding that arrived after it
                // is stale): only a current employee's team decides anything.
                let team = item.get("team").map(String::as_str);
                let current = record.status == Status::Active;
                if current && team != record.team.as_ref().map(|t| t.as_str()) {
                    differences.push(format!(
                        "{employee}: the directory's team is {team:?}, the events' {:?}",
                        record.team
                    ));
                }
            }
            None => differences.push(format!("{employee}: not in the directory")),
        }
    }
    differences
}

/// What is wrong with `u` as the open user of a person granted `groups`, if anything.
fn open_as_granted(u: &UserView, employee: &str, groups: &BTreeSet<String>) -> Option<String> {
    let mut wrong = Vec::new();
    if u.tag("gatehouse:employee-id") != Some(employee) {
        wrong.push(format!("tagged {:?}", u.tag("gatehouse:employee-id")));
    }
    if u.tag("gatehouse:status") != Some("active") {
        wrong.push(format!("status {:?}", u.tag("gatehouse:status")));
    }
    if !u.console {
        wrong.push("no console password".to_owned());
    }
    if u.denied_all() {
        wrong.push("deny-all still attached".to_owned());
    }
    if &u.groups != groups {
        wrong.push(format!("groups {:?}, not {groups:?}", u.groups));
    }
    (!wrong.is_empty()).then(|| wrong.join(", "))
}

/// What is left open of a user that must be sealed, if anything.
fn not_sealed(u: &UserView) -> Option<String> {
    let mut open = Vec::new();
    if u.console {
        open.push("console password".to_owned());
    }
    if !u.denied_all() {
        open.push("no deny-all".to_owned());
    }
    if !u.groups.is_empty() {
        open.push(format!("groups {:?}", u.groups));
    }
    let credentials = u.active_access_keys()
        + u.active_ssh_keys()
        + u.active_signing_certificates()
        + u.active_service_credentials();
    if credentials > 0 {
        open.push(format!("{credentials} active credentials"));
    }
    if u.tag("gatehouse:status") != Some("disabled") {
        open.push(format!("status {:?}", u.tag("gatehouse:status")));
    }
    (!open.is_empty()).then(|| format!("should be sealed, has {}", open.join(", ")))
}
