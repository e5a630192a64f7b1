//! A private emulator: one moto server for one world, started by the test itself from the
//! project's venv (the same launcher and extensions `make test` starts). A world that switches
//! IAM authorization on needs its own server, because the switch is server-wide.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

pub struct Emulator {
    pub url: String,
    port: u16,
    child: Child,
}

impl Emulator {
    /// Starts a moto server on a free loopback port and waits until it answers.
    pub async fn start() -> Emulator {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
            listener.local_addr().expect("its address").port()
        };
        Emulator::start_on(port, &format!("emulator-private-{port}.log"))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts a moto server on loopback `port` (which must be free), its log in the local
    /// world's log directory under `log_name`, and waits until it answers.
    pub async fn start_on(port: u16, log_name: &str) -> Result<Emulator, String> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let python = root.join(".venv/bin/python");
        if !python.exists() {
            return Err(format!(
                "no project venv at {}: run the tests through make",
                python.display()
            ));
        }
        // Something else answering there would pass for the emulator.
        drop(
            TcpListener::bind(("127.0.0.1", port))
                .await
                .map_err(|e| format!("port {port} on 127.0.0.1 is not free: {e}"))?,
        );
        let path = crate::binaries::log_dir().join(log_name);
        let log = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let clone = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(python)
            .arg(root.join("scripts/emulator.py"))
            .arg("--port")
            .arg(port.to_string())
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdout(Stdio::from(clone))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("start the emulator: {e}"))?;
        let mut emulator = Emulator {
            url: format!("http://127.0.0.1:{port}"),
            port,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while emulator.get("/moto-api/").await.is_err() {
            if let Ok(Some(status)) = emulator.child.try_wait() {
                return Err(format!(
                    "the emulator stopped ({status}); see {}",
                    path.display()
                ));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the emulator did not start; see {}",
                    path.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(emulator)
    }

    /// Waits until the emulator's process ends (it should not, while the emulator is in use).
    pub async fn stopped(&mut self) -> std::io::Result<std::process::ExitStatus> {
        self.child.wait().await
    }

    /// Switches IAM authorization on (every request from now on must be allowed by the
    /// caller's policies) or off.
    pub async fn enforce_authorization(&self, on: bool) {
        let count = if on { "0" } else { "inf" };
        let answer = self
            .request("POST", "/moto-api/reset-auth", count)
            .await
            .expect("reset-auth");
        assert!(answer.starts_with("HTTP/1.1 200"), "reset-auth: {answer}");
    }

    async fn get(&self, path: &str) -> std::io::Result<String> {
        self.request("GET", path, "").await
    }

    /// A plain HTTP/1.1 request on loopback (the moto control API needs nothing more).
    async fn request(&self, method: &str, path: &str, body: &str) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).await?;
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await?;
        Ok(answer)
    }
}
