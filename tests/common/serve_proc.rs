//! `wsspec serve` as a child process of an integration test: on a free
//! loopback port, reports in a folder of its own, killed when the test ends
//! whichever way it ends. Include it with
//! `#[path = "common/serve_proc.rs"] mod serve_proc;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A running `wsspec serve`.
pub struct Serve {
    child: Child,
    pub port: u16,
    pub report_dir: PathBuf,
}

impl Serve {
    /// Starts `wsspec serve --cases P...` plus `extra` arguments, reporting
    /// into a fresh temporary folder named after `name`, and waits until it
    /// accepts connections.
    pub fn start(name: &str, patterns: &[&str], extra: &[&str]) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let report_dir =
            std::env::temp_dir().join(format!("wsspec-serve-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&report_dir);
        let log = std::fs::File::create(report_dir.with_extension("stderr"))
            .expect("a file for serve's stderr");
        let console = std::fs::File::create(report_dir.with_extension("stdout"))
            .expect("a file for serve's stdout");
        let child = Command::new(env!("CARGO_BIN_EXE_wsspec"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--report-dir")
            .arg(&report_dir)
            .args(patterns.iter().flat_map(|p| ["--cases", p]))
            .args(extra)
            .env("CI", "1")
            .stdout(console)
            .stderr(log)
            .spawn()
            .expect("start wsspec serve");
        let serve = Serve {
            child,
            port,
            report_dir,
        };
        let up = (0..200).any(|_| {
            std::thread::sleep(Duration::from_millis(25));
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "wsspec serve did not start listening");
        serve
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `ws://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("ws://{}", self.host())
    }

    /// Waits up to `limit` for serve to exit (after an updateReports with
    /// shutdownOnComplete); kills it otherwise. Its exit code, if it exited.
    pub fn finish(&mut self, limit: Duration) -> Option<i32> {
        let code = exit_within(&mut self.child, limit);
        if code.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        code
    }

    /// A JSON report file under the report folder (`index.json`,
    /// `AGENT/results.json`), if it is there and parses.
    pub fn json(&self, relative: impl AsRef<Path>) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(self.report_dir.join(relative)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// What serve has printed on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.report_dir.with_extension("stderr")).unwrap_or_default()
    }

    /// What serve has printed on stdout so far (its console reporter).
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.report_dir.with_extension("stdout")).unwrap_or_default()
    }

    pub fn remove_reports(&self) {
        let _ = std::fs::remove_file(self.report_dir.with_extension("stderr"));
        let _ = std::fs::remove_file(self.report_dir.with_extension("stdout"));
        let _ = std::fs::remove_dir_all(&self.report_dir);
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Waits up to `limit` for `child` to exit; its exit code (-1 for a signal).
pub fn exit_within(child: &mut Child, limit: Duration) -> Option<i32> {
    let until = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status.code().unwrap_or(-1));
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
