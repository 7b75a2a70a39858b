//! For tests: `moto_server` (installed by `scripts/setup` into `.tools/venv`) on a free
//! loopback port, shared by the tests running at the same time in one process and stopped
//! when the last one lets go. The tests of this crate, of `orders-aws`, `charge-payment` and
//! the `orderflow` CLI use it. Without moto those tests skip, saying so once on stderr, or
//! fail when `ORDERFLOW_REQUIRE_ALL` is set (as `scripts/test` sets it).

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

/// How long moto may take to start listening; a cold Python start with moto's imports takes
/// a few seconds on a busy machine.
const START_LIMIT: Duration = Duration::from_secs(60);

/// A running `moto_server`, killed on drop.
pub struct Moto {
    child: Child,
    url: String,
}

static SHARED: Mutex<Weak<Moto>> = Mutex::new(Weak::new());

impl Moto {
    /// The server the running tests share, started if none is running. `None` when
    /// `moto_server` is not installed (`MOTO_SERVER`, else `.tools/venv/bin/moto_server`):
    /// the test returns, skipped; the skip is reported once per test binary, and is a
    /// failure under `ORDERFLOW_REQUIRE_ALL`. Panics when moto is installed but does not start.
    pub fn shared() -> Option<Arc<Moto>> {
        let program = test_prereqs::program(
            &test_prereqs::MOTO_SERVER,
            "the tests against DynamoDB, SNS and SQS on moto_server",
        )?;
        let mut slot = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(running) = slot.upgrade() {
            return Some(running);
        }
        let started = Arc::new(Moto::start(&program));
        *slot = Arc::downgrade(&started);
        Some(started)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn start(program: &Path) -> Moto {
        // Port 0: the server binds a free port and prints it.
        let mut child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let stderr = child.stderr.take().expect("piped stderr");
        let (found, port) = mpsc::channel();
        // Keeps reading after the port is found: a full pipe would stall the server's logging.
        std::thread::spawn(move || {
            let mut found = Some(found);
            let mut seen = Vec::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(tx) = &found {
                    if let Some(port) = line.split("Running on http://127.0.0.1:").nth(1) {
                        let port = port.trim().parse::<u16>().ok();
                        let _ = tx.send(port.ok_or_else(|| seen.join("\n")));
                        found = None;
                    } else {
                        seen.push(line);
                    }
                }
            }
            if let Some(tx) = found {
                let _ = tx.send(Err(seen.join("\n")));
            }
        });
        let port = match port.recv_timeout(START_LIMIT) {
            Ok(Ok(port)) => port,
            Ok(Err(output)) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("moto_server did not say which port it listens on; its output:\n{output}");
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "moto_server did not start within {} s",
                    START_LIMIT.as_secs()
                );
            }
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("moto_server printed port {port} but does not accept connections");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
