//! A local Lambda Runtime API: runs a real function binary the way Lambda does (the binary polls
//! `/runtime/invocation/next` and posts its answer back), so the demo exercises the very same
//! `lambda_runtime` path as production, not a shortcut into the handler.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, Mutex};

const PREFIX: &str = "/2018-06-01/runtime";

type Reply = oneshot::Sender<Result<Value, Value>>;

struct State {
    next: Mutex<mpsc::Receiver<(String, Vec<u8>)>>,
    pending: Mutex<HashMap<String, Reply>>,
    init_error: Mutex<Option<String>>,
    /// The `Lambda-Runtime-Function-Error-Type` header of the init error.
    init_error_type: Mutex<Option<String>>,
    /// When the binary first asked for work: its init (cold start) is over.
    first_poll: std::sync::OnceLock<std::time::Instant>,
}

/// A function binary running against a local Runtime API.
pub struct Function {
    name: String,
    queue: mpsc::Sender<(String, Vec<u8>)>,
    state: Arc<State>,
    counter: std::sync::atomic::AtomicU64,
    spawned: std::time::Instant,
    _child: Child,
}

impl Function {
    /// Starts `binary` with `env` (plus the variables Lambda sets), its logs going to `log`.
    pub async fn start(
        name: &str,
        binary: &Path,
        env: &[(String, String)],
        log: &Path,
    ) -> std::io::Result<Function> {
        Function::launch(name, binary, env, log, false).await
    }

    /// Like [`Function::start`], but the binary sees only `env` and the variables Lambda sets,
    /// nothing of this process's environment: for a test of what it does without a setting.
    pub async fn start_isolated(
        name: &str,
        binary: &Path,
        env: &[(String, String)],
        log: &Path,
    ) -> std::io::Result<Function> {
        Function::launch(name, binary, env, log, true).await
    }

    async fn launch(
        name: &str,
        binary: &Path,
        env: &[(String, String)],
        log: &Path,
        isolated: bool,
    ) -> std::io::Result<Function> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (queue, rx) = mpsc::channel(16);
        let state = Arc::new(State {
            next: Mutex::new(rx),
            pending: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
            init_error_type: Mutex::new(None),
            first_poll: std::sync::OnceLock::new(),
        });
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| route(req, state.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        let log = std::fs::File::create(log)?;
        let spawned = std::time::Instant::now();
        let mut command = Command::new(binary);
        if isolated {
            command.env_clear();
        }
        let child = command
            .envs(env.iter().cloned())
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()?;
        Ok(Function {
            name: name.to_owned(),
            queue,
            state,
            counter: Default::default(),
            spawned,
            _child: child,
        })
    }

    /// The process's peak resident memory so far (VmHWM, in KiB), as Linux counts it.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let pid = self._child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// The CPU time the process has used so far (user and system), as Linux counts it.
    pub fn cpu_time(&self) -> Option<std::time::Duration> {
        let pid = self._child.id()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The fields after the command name (which may hold spaces, so cut at its last ')').
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        // Linux reports in clock ticks of 1/100 s (USER_HZ) on every platform Lambda runs.
        Some(std::time::Duration::from_millis(ticks * 10))
    }

    /// How long the binary took from being started to asking for its first event (Lambda's
    /// init phase), once it has asked; waits up to `limit` for that.
    pub async fn init_duration(&self, limit: std::time::Duration) -> Option<std::time::Duration> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(at) = self.state.first_poll.get() {
                return Some(at.saturating_duration_since(self.spawned));
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    /// The init error the binary reported to the Runtime API (the document it posted to
    /// `/init/error`, and the error type it named in the header), once it has; waits up to
    /// `limit` for it.
    pub async fn init_error(&self, limit: std::time::Duration) -> Option<(String, Option<String>)> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(body) = self.state.init_error.lock().await.clone() {
                let kind = self.state.init_error_type.lock().await.clone();
                return Some((body, kind));
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// How the binary ended, once it has; waits up to `limit` for that.
    pub async fn exit_status(
        &mut self,
        limit: std::time::Duration,
    ) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(limit, self._child.wait())
            .await
            .ok()
            .and_then(Result::ok)
    }

    /// Invokes the function synchronously: `Ok(answer)` or `Err(error document)`.
    pub async fn invoke(&self, payload: &Value) -> Result<Value, Value> {
        self.invoke_raw(payload.to_string().into_bytes()).await
    }

    /// Invokes the function with these exact bytes (text a `Value` cannot hold, such as a
    /// duplicated key).
    pub async fn invoke_raw(&self, payload: Vec<u8>) -> Result<Value, Value> {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("{}-{n:06}", self.name);
        let (tx, rx) = oneshot::channel();
        self.state.pending.lock().await.insert(id.clone(), tx);
        self.queue
            .send((id, payload))
            .await
            .map_err(|_| serde_json::json!({"errorMessage": "runtime API stopped"}))?;
        match tokio::time::timeout(std::time::Duration::from_secs(120), rx).await {
            Ok(Ok(answer)) => answer,
            _ => Err(serde_json::json!({
                "errorMessage": format!("no answer from {} (init error: {:?})", self.name,
                    self.state.init_error.lock().await.clone())
            })),
        }
    }
}

fn respond(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r
}

async fn route(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let error_type = req
        .headers()
        .get("Lambda-Runtime-Function-Error-Type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Ok(respond(StatusCode::NOT_FOUND, b"unknown path".to_vec()));
    };
    let parsed = || serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    match (method, rest) {
        (Method::GET, "/invocation/next") => {
            let _ = state.first_poll.set(std::time::Instant::now());
            let next = state.next.lock().await.recv().await;
            let Some((id, payload)) = next else {
                return Ok(respond(StatusCode::GONE, Vec::new()));
            };
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() + 300_000)
                .unwrap_or_default();
            let mut r = respond(StatusCode::OK, payload);
            let h = r.headers_mut();
            h.insert("Lambda-Runtime-Aws-Request-Id", id.parse().unwrap());
            h.insert(
                "Lambda-Runtime-Deadline-Ms",
                deadline.to_string().parse().unwrap(),
            );
            h.insert(
                "Lambda-Runtime-Invoked-Function-Arn",
                "arn:aws:lambda:us-east-1:000000000000:function:local"
                    .parse()
                    .unwrap(),
            );
            h.insert(
                "Lambda-Runtime-Trace-Id",
                "Root=1-00000000-000000000000000000000000".parse().unwrap(),
            );
            Ok(r)
        }
        (Method::POST, "/init/error") => {
            *state.init_error_type.lock().await = error_type;
            *state.init_error.lock().await = Some(String::from_utf8_lossy(&body).into_owned());
            Ok(respond(StatusCode::ACCEPTED, Vec::new()))
        }
        (Method::POST, rest) => {
            let (id, kind) = rest
                .strip_prefix("/invocation/")
                .and_then(|r| r.rsplit_once('/'))
                .unwrap_or(("", ""));
            if let Some(reply) = state.pending.lock().await.remove(id) {
                let _ = reply.send(if kind == "response" {
                    Ok(parsed())
                } else {
                    Err(parsed())
                });
            }
            Ok(respond(StatusCode::ACCEPTED, Vec::new()))
        }
        _ => Ok(respond(StatusCode::NOT_FOUND, Vec::new())),
    }
}
