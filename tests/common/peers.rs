//! Starting third-party peers (Node's `ws`, Python's `websockets`) installed by
//! .ci/run, and the expected verdicts Autobahn gave them. A missing peer fails
//! its test, unless the person running the tests asked to skip it with
//! `WSSPEC_SKIP_PEERS` (`ws`, `websockets`, a comma-separated list, or `all`);
//! a skip is written straight to the terminal, past the test harness's output
//! capture, so it is seen even though the test passes.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Serialises tests that drive real peers, so timing-graded cases behave as for a user.
pub static SERIAL: Mutex<()> = Mutex::new(());

/// A running peer process, killed on drop.
pub struct Peer {
    child: Child,
    pub url: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// Either the peer, or why it is not available (the caller decides to skip or fail).
pub fn spawn(program: &str, args: &[&str], env: &[(&str, String)]) -> Result<Peer, String> {
    // The peer's stderr goes to a file: a pipe nobody drains would fill up and
    // stall a chatty peer (websockets logs every failed connection).
    let log_path = std::env::temp_dir().join(format!(
        "wsspec-peer-{}-{}.log",
        args.first().unwrap_or(&program),
        std::process::id()
    ));
    let log =
        std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(peers_dir())
        .stdout(Stdio::piped())
        .stderr(log);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(port) = line.strip_prefix("listening ") {
                let _ = tx.send(port.trim().to_string());
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(port) => Ok(Peer {
            child,
            url: format!("ws://127.0.0.1:{port}/"),
        }),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!(
                "{program} {args:?} did not start listening: {}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            ))
        }
    }
}

/// The two third-party peers, by the names `WSSPEC_SKIP_PEERS` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerName {
    /// Node's `ws` (tests/peers/node_modules/ws).
    Ws,
    /// Python's `websockets` (tests/peers/requirements.txt).
    Websockets,
}

impl PeerName {
    pub fn as_str(self) -> &'static str {
        match self {
            PeerName::Ws => "ws",
            PeerName::Websockets => "websockets",
        }
    }
}

/// Whether `WSSPEC_SKIP_PEERS` names this peer (or says `all`).
pub fn skip_requested(name: PeerName) -> bool {
    std::env::var("WSSPEC_SKIP_PEERS").is_ok_and(|v| {
        v.split(',')
            .map(str::trim)
            .any(|w| w == "all" || w == name.as_str())
    })
}

/// The peer when it is available; `None` only when the person asked to skip
/// it (announced on the terminal); otherwise the test fails with what to do.
pub fn require(name: PeerName, peer: Result<Peer, String>) -> Option<Peer> {
    available(name, peer).ok()
}

/// As [`require`] for anything that needs the peer installed: `Ok` to go on,
/// `Err(())` when skipped on request; panics when missing and not skipped.
pub fn available<T>(name: PeerName, found: Result<T, String>) -> Result<T, ()> {
    match found {
        Ok(t) => Ok(t),
        Err(why) if skip_requested(name) => {
            announce_skip(name, &why);
            Err(())
        }
        Err(why) => panic!(
            "peer `{}` unavailable: {why}\n\
             install the peers with: (cd tests/peers && npm install) && pip install -r tests/peers/requirements.txt\n\
             or skip the tests that need it with WSSPEC_SKIP_PEERS={}",
            name.as_str(),
            name.as_str()
        ),
    }
}

/// Writes to the process's stderr directly: libtest captures `eprintln!` of
/// a passing test, not writes to the stream itself.
fn announce_skip(name: PeerName, why: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "\n*** SKIPPED (WSSPEC_SKIP_PEERS): a test needing `{}`: {why}",
        name.as_str()
    );
}

/// Node's `ws` is installed under tests/peers and `node` runs.
pub fn node_ws_installed() -> Result<(), String> {
    if !peers_dir().join("node_modules/ws").exists() {
        return Err("tests/peers/node_modules/ws is not installed".into());
    }
    runs("node", &["-e", "require('ws')"])
}

/// The Python interpreter (`WSSPEC_PYTHON`, default `python3`) imports `websockets`.
pub fn python_websockets_installed() -> Result<(), String> {
    runs(&python(), &["-c", "import websockets.asyncio.server"])
}

pub fn python() -> String {
    std::env::var("WSSPEC_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn runs(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(peers_dir())
        .output()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

pub fn node_ws() -> Result<Peer, String> {
    node_ws_installed()?;
    spawn("node", &["ws-echo-server.js", "0"], &[])
}

pub fn python_websockets() -> Result<Peer, String> {
    python_websockets_installed()?;
    spawn(&python(), &["websockets_echo_server.py", "0"], &[])
}

/// Autobahn's verdicts: case id → (behavior, behaviorClose) for a peer column
/// prefix of tests/data/autobahn-server-verdicts.tsv (`ws-node`, `py-websockets`).
pub fn autobahn_verdicts(peer: &str) -> BTreeMap<String, (String, String)> {
    verdict_table("autobahn-server-verdicts.tsv", peer)
}

/// Autobahn's verdicts from one of the tables in tests/data, for the column
/// prefix `peer` (e.g. `py-websockets-client` in autobahn-client-verdicts.tsv).
pub fn verdict_table(file: &str, peer: &str) -> BTreeMap<String, (String, String)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("verdict table");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let b = header
        .iter()
        .position(|h| *h == format!("{peer}.behavior"))
        .expect("behavior column");
    let c = header
        .iter()
        .position(|h| *h == format!("{peer}.behaviorClose"))
        .expect("close column");
    lines
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .map(|f| (f[0].to_string(), (f[b].to_string(), f[c].to_string())))
        .collect()
}
