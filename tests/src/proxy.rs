//! A recording proxy between the AWS SDK and the emulator, on loopback.
//!
//! It sees every request, so a test can assert on what the code *asked* where the emulator
//! forgets a parameter (moto ignores `PermissionsBoundary` on `CreateUser`, for instance), count
//! API calls per operation, and inject a failure for chosen requests (a role that cannot be
//! assumed yet). Each test starts its own, so counts never mix between parallel tests.
//!
//! In [chaos](Proxy::set_chaos) mode it also breaks a seeded share of all calls the way AWS and
//! networks do: throttling, server errors, answers too slow to wait for, connections dropped
//! before the request arrives and connections dropped after the write took effect.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Call {
    /// The SigV4 service name (`iam`, `sts`, `dynamodb`, ...).
    pub service: String,
    /// The API operation (`CreateUser`, `PutItem`, ...).
    pub operation: String,
    /// Query-protocol parameters (IAM, STS), decoded from the form body.
    pub params: BTreeMap<String, String>,
    /// The raw body (JSON protocols).
    pub body: String,
    /// When the proxy received it.
    pub at: std::time::Instant,
}

/// An answer the proxy gives instead of forwarding.
pub struct Injected {
    pub status: u16,
    pub body: String,
}

/// A fault chaos mode injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Refused as throttled (400 `Throttling` / `ThrottlingException`), not forwarded.
    Throttled,
    /// A 500 or 503, not forwarded.
    ServerError,
    /// Forwarded only after [`Chaos::hold`] (longer than the client waits): the write may land
    /// after the caller gave up on it.
    Timeout,
    /// The connection closed before the request was forwarded.
    DroppedBefore,
    /// Forwarded (the write took effect), then the connection closed without the answer.
    DroppedAfter,
}

impl Fault {
    pub const ALL: [Fault; 5] = [
        Fault::Throttled,
        Fault::ServerError,
        Fault::Timeout,
        Fault::DroppedBefore,
        Fault::DroppedAfter,
    ];
}

/// Chaos mode's settings.
#[derive(Debug, Clone)]
pub struct Chaos {
    pub seed: u64,
    /// The share of calls that fail, 0.0..=1.0.
    pub rate: f64,
    /// How the faults divide among themselves: relative weights, in [`Fault::ALL`]'s order.
    pub weights: [u32; 5],
    /// How long a [`Fault::Timeout`] holds its request.
    pub hold: std::time::Duration,
}

struct ChaosState {
    settings: Chaos,
    rng: rand::rngs::StdRng,
    injected: BTreeMap<Fault, usize>,
}

impl ChaosState {
    fn draw(&mut self) -> Option<Fault> {
        use rand::Rng;
        if !self.rng.random_bool(self.settings.rate) {
            return None;
        }
        let total: u32 = self.settings.weights.iter().sum();
        let mut pick = self.rng.random_range(0..total.max(1));
        for (fault, weight) in Fault::ALL.into_iter().zip(self.settings.weights) {
            if pick < weight {
                *self.injected.entry(fault).or_default() += 1;
                return Some(fault);
            }
            pick -= weight;
        }
        None
    }
}

/// The error a proxied connection ends with when chaos drops it: hyper then closes it without
/// an answer, which the client sees as a connection reset mid-request.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the chaos proxy")
    }
}

impl std::error::Error for Dropped {}

type Rule = Box<dyn Fn(&Call) -> Option<Injected> + Send + Sync>;
type DelayRule = Box<dyn Fn(&Call) -> Option<std::time::Duration> + Send + Sync>;

#[derive(Clone)]
pub struct Proxy {
    pub url: String,
    calls: Arc<Mutex<Vec<Call>>>,
    rules: Arc<Mutex<Vec<Rule>>>,
    delays: Arc<Mutex<Vec<DelayRule>>>,
    /// Added to every forwarded call, in milliseconds: AWS's latency, which the emulator lacks.
    latency_ms: Arc<std::sync::atomic::AtomicU64>,
    chaos: Arc<Mutex<Option<ChaosState>>>,
    /// The last answer to each `service:Operation`, while recording ([`Proxy::record_answers`]).
    answers: Arc<Mutex<Option<BTreeMap<String, Answer>>>>,
}

/// An answer the upstream gave, as recorded.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Proxy {
    /// Starts a proxy to `upstream` (e.g. `http://127.0.0.1:5000`) on a free loopback port.
    pub async fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let proxy = Proxy {
            url,
            calls: Arc::new(Mutex::new(Vec::new())),
            rules: Arc::new(Mutex::new(Vec::new())),
            delays: Arc::new(Mutex::new(Vec::new())),
            latency_ms: Arc::default(),
            chaos: Arc::default(),
            answers: Arc::default(),
        };
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let upstream = upstream.trim_end_matches('/').to_owned();
        let shared = proxy.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (client, upstream, proxy) = (client.clone(), upstream.clone(), shared.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req| {
                        forward(req, client.clone(), upstream.clone(), proxy.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        proxy
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// Forgets the calls so far (to count one step of a scenario).
    pub fn reset(&self) {
        self.calls.lock().unwrap().clear();
    }

    /// Calls so far, counted by `service:Operation`.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for c in self.calls() {
            *out.entry(format!("{}:{}", c.service, c.operation))
                .or_default() += 1;
        }
        out
    }

    /// Calls of one operation.
    pub fn calls_of(&self, operation: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.operation == operation)
            .collect()
    }

    /// Answers matching requests with `rule`'s response instead of forwarding them.
    pub fn inject(&self, rule: impl Fn(&Call) -> Option<Injected> + Send + Sync + 'static) {
        self.rules.lock().unwrap().push(Box::new(rule));
    }

    /// Holds matching requests back for the duration `rule` returns before forwarding them:
    /// to make one of two concurrent calls lose a race.
    pub fn delay(
        &self,
        rule: impl Fn(&Call) -> Option<std::time::Duration> + Send + Sync + 'static,
    ) {
        self.delays.lock().unwrap().push(Box::new(rule));
    }

    /// Adds `latency` to every call from now on (zero: none).
    pub fn set_latency(&self, latency: std::time::Duration) {
        let ms = latency.as_millis() as u64;
        self.latency_ms
            .store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Breaks a share of every call from now on, as `chaos` says (`None`: no more faults).
    /// Faults are drawn from `chaos.seed` in the order calls arrive, so a run with the same
    /// seed injects the same sequence of faults (which call each hits depends on timing).
    pub fn set_chaos(&self, chaos: Option<Chaos>) {
        use rand::SeedableRng;
        *self.chaos.lock().unwrap() = chaos.map(|settings| ChaosState {
            rng: rand::rngs::StdRng::seed_from_u64(settings.seed),
            settings,
            injected: BTreeMap::new(),
        });
    }

    /// The faults chaos mode injected so far, by kind.
    pub fn injected(&self) -> BTreeMap<Fault, usize> {
        self.chaos
            .lock()
            .unwrap()
            .as_ref()
            .map(|c| c.injected.clone())
            .unwrap_or_default()
    }

    /// Starts (`true`) or stops recording the last answer to each operation; stopping forgets
    /// what was recorded (take it with [`Proxy::answers`] first).
    pub fn record_answers(&self, on: bool) {
        let mut answers = self.answers.lock().unwrap();
        if on {
            answers.get_or_insert_with(BTreeMap::new);
        } else {
            *answers = None;
        }
    }

    /// The answers recorded so far, by `service:Operation`.
    pub fn answers(&self) -> BTreeMap<String, Answer> {
        self.answers.lock().unwrap().clone().unwrap_or_default()
    }

    /// Removes every injected rule and delay.
    pub fn clear_injections(&self) {
        self.rules.lock().unwrap().clear();
        self.delays.lock().unwrap().clear();
    }
}

/// An STS `AccessDenied` for `AssumeRole` into `account`: what a brand-new account, or one whose
/// role is broken, answers. The emulator lets any role be assumed, so the test injects it.
pub fn deny_assume_role(account: String) -> impl Fn(&Call) -> Option<Injected> + Send + Sync {
    move |call: &Call| {
        let arn = call.params.get("RoleArn")?;
        (call.operation == "AssumeRole" && arn.contains(&format!(":{account}:"))).then(|| {
            Injected {
                status: 403,
                body: format!(
                    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>\
                 <Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized \
                 to perform: sts:AssumeRole on resource: {arn}</Message></Error>\
                 <RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
                ),
            }
        })
    }
}

/// An error answer of a JSON-protocol service (DynamoDB, EventBridge, Secrets Manager, SQS)
/// to every call of `operation`.
pub fn json_error(
    operation: &'static str,
    status: u16,
    code: &'static str,
) -> impl Fn(&Call) -> Option<Injected> + Send + Sync {
    move |call: &Call| {
        (call.operation == operation).then(|| Injected {
            status,
            body: format!(r#"{{"__type":"{code}","message":"injected by the test proxy"}}"#),
        })
    }
}

/// An error answer of a query-protocol service (IAM, STS) to every call of `operation`.
pub fn query_error(
    operation: &'static str,
    status: u16,
    code: &'static str,
) -> impl Fn(&Call) -> Option<Injected> + Send + Sync {
    move |call: &Call| {
        (call.operation == operation).then(|| Injected {
            status,
            body: format!(
                "<ErrorResponse><Error><Type>{}</Type><Code>{code}</Code>\
                 <Message>injected by the test proxy</Message></Error>\
                 <RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>",
                if status >= 500 { "Receiver" } else { "Sender" }
            ),
        })
    }
}

/// `rule`, for its first `n` matches only.
pub fn first(
    n: usize,
    rule: impl Fn(&Call) -> Option<Injected> + Send + Sync,
) -> impl Fn(&Call) -> Option<Injected> + Send + Sync {
    let hits = std::sync::atomic::AtomicUsize::new(0);
    move |call: &Call| {
        let answer = rule(call)?;
        (hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < n).then_some(answer)
    }
}

async fn forward(
    req: Request<Incoming>,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    upstream: String,
    proxy: Proxy,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (mut parts, body) = req.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let call = describe(&parts, &bytes);
    proxy.calls.lock().unwrap().push(call.clone());
    // AWS's latency, which the emulator lacks: on every answer, injected ones too (the
    // latency stub of `bench-fanout` answers from canned responses).
    let latency = proxy.latency_ms.load(std::sync::atomic::Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let injected = proxy
        .rules
        .lock()
        .unwrap()
        .iter()
        .find_map(|rule| rule(&call));
    if let Some(Injected { status, body }) = injected {
        return Ok(answer(status, body));
    }
    let fault = proxy
        .chaos
        .lock()
        .unwrap()
        .as_mut()
        .and_then(|chaos| Some((chaos.draw()?, chaos.settings.hold)));
    match fault {
        Some((Fault::Throttled, _)) => return Ok(chaos_error(&call, 400)),
        Some((Fault::ServerError, _)) => {
            let status = if call.operation.len() % 2 == 0 {
                500
            } else {
                503
            };
            return Ok(chaos_error(&call, status));
        }
        Some((Fault::DroppedBefore, _)) => return Err(Dropped),
        Some((Fault::Timeout, hold)) => tokio::time::sleep(hold).await,
        Some((Fault::DroppedAfter, _)) | None => {}
    }
    let held = proxy
        .delays
        .lock()
        .unwrap()
        .iter()
        .find_map(|rule| rule(&call));
    if let Some(held) = held {
        tokio::time::sleep(held).await;
    }
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    parts.uri = format!("{upstream}{path}").parse().unwrap();
    // In a task of its own, so that the write completes even when the client has given up
    // (and closed the connection, which drops this future).
    let sent = tokio::spawn(async move {
        client
            .request(Request::from_parts(parts, Full::new(bytes)))
            .await
    });
    let forwarded = match sent.await {
        Ok(forwarded) => forwarded,
        Err(_) => return Err(Dropped),
    };
    if matches!(fault, Some((Fault::DroppedAfter, _))) {
        return Err(Dropped);
    }
    match forwarded {
        Ok(resp) => {
            let (parts, body) = resp.into_parts();
            let bytes = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            if let Some(answers) = proxy.answers.lock().unwrap().as_mut() {
                answers.insert(
                    format!("{}:{}", call.service, call.operation),
                    Answer {
                        status: parts.status.as_u16(),
                        body: String::from_utf8_lossy(&bytes).into_owned(),
                    },
                );
            }
            Ok(Response::from_parts(parts, Full::new(bytes)))
        }
        Err(e) => {
            let mut resp = Response::new(Full::new(Bytes::from(format!("proxy: {e}"))));
            *resp.status_mut() = hyper::StatusCode::BAD_GATEWAY;
            Ok(resp)
        }
    }
}

fn answer(status: u16, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    resp
}

/// A throttling (400) or server (5xx) error in the protocol of `call`'s service.
fn chaos_error(call: &Call, status: u16) -> Response<Full<Bytes>> {
    let code = match (status, call.params.is_empty()) {
        (400, false) => "Throttling",
        (400, true) => "ThrottlingException",
        (_, false) => "ServiceUnavailable",
        (_, true) => "InternalFailure",
    };
    if call.params.is_empty() {
        answer(
            status,
            format!(r#"{{"__type":"{code}","message":"injected by the chaos proxy"}}"#),
        )
    } else {
        answer(
            status,
            format!(
                "<ErrorResponse><Error><Type>{}</Type><Code>{code}</Code>\
                 <Message>injected by the chaos proxy</Message></Error>\
                 <RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>",
                if status >= 500 { "Receiver" } else { "Sender" }
            ),
        )
    }
}

fn describe(parts: &hyper::http::request::Parts, body: &[u8]) -> Call {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    // SigV4: Credential=AKID/20261125/us-east-1/iam/aws4_request
    let auth = header("authorization");
    let service = auth
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or_default()
        .to_owned();
    let params: BTreeMap<String, String> =
        if header("content-type").starts_with("application/x-www-form-urlencoded") {
            url::form_urlencoded::parse(body).into_owned().collect()
        } else {
            BTreeMap::new()
        };
    let target = header("x-amz-target");
    let operation = match params.get("Action") {
        Some(action) => action.clone(),
        None => target.rsplit('.').next().unwrap_or_default().to_owned(),
    };
    Call {
        service,
        operation,
        params,
        body: String::from_utf8_lossy(body).into_owned(),
        at: std::time::Instant::now(),
    }
}
