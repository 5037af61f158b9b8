//! The third-party peers and tools the tests drive (Node's `ws`, Python's
//! `websockets` and `junitparser`, installed locally by scripts/test.sh;
//! `xmllint`), starting the peers, and the verdicts Autobahn gave them. Every
//! test that needs one asks [`available`] or [`require`]: under
//! `WSSPEC_REQUIRE_PEERS=1` (scripts/test.sh, .ci/run) a missing peer fails
//! its test with how to install it; under plain `cargo test` the test is
//! skipped and says so with `*** SKIPPED (peer missing: …)`, written straight
//! to the terminal past the test harness's output capture, so it is seen even
//! though the test passes.

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

/// The third-party peers and tools the tests drive, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerName {
    /// Node's `ws` (tests/peers/node_modules/ws).
    Ws,
    /// Python's `websockets` (tests/peers/requirements.txt).
    Websockets,
    /// Python's `junitparser` (tests/peers/requirements.txt).
    Junitparser,
    /// `xmllint` (Debian's libxml2-utils, a system package).
    Xmllint,
    /// Debian's `chromium` (a system package; `WSSPEC_CHROMIUM` names another).
    Chromium,
    /// Python's `hypercorn`, an ASGI server with WebSockets over HTTP/2
    /// (tests/peers/requirements.txt).
    Hypercorn,
    /// Debian's `firefox-esr` with `certutil` (libnss3-tools) for its
    /// profile's CA (system packages; `WSSPEC_FIREFOX` names another).
    Firefox,
}

impl PeerName {
    pub fn as_str(self) -> &'static str {
        match self {
            PeerName::Ws => "ws",
            PeerName::Websockets => "websockets",
            PeerName::Junitparser => "junitparser",
            PeerName::Xmllint => "xmllint",
            PeerName::Chromium => "chromium",
            PeerName::Hypercorn => "hypercorn",
            PeerName::Firefox => "firefox-esr",
        }
    }

    /// The command that installs it.
    pub fn install_hint(self) -> &'static str {
        match self {
            PeerName::Ws | PeerName::Websockets | PeerName::Junitparser | PeerName::Hypercorn => {
                "run scripts/test.sh"
            }
            PeerName::Xmllint => "apt-get install libxml2-utils, then run scripts/test.sh",
            PeerName::Chromium => "apt-get install chromium, then run scripts/test.sh",
            PeerName::Firefox => {
                "apt-get install firefox-esr libnss3-tools, then run scripts/test.sh"
            }
        }
    }
}

/// Whether `WSSPEC_REQUIRE_PEERS` is set (to anything but empty or `0`):
/// scripts/test.sh and .ci/run set it, so a missing peer fails there.
pub fn peers_required() -> bool {
    std::env::var("WSSPEC_REQUIRE_PEERS").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The peer when it is available; `None` when it is missing and peers are
/// not required (announced on the terminal); under `WSSPEC_REQUIRE_PEERS` a
/// missing peer fails the test with what to do.
pub fn require(name: PeerName, peer: Result<Peer, String>) -> Option<Peer> {
    available(name, peer).ok()
}

/// As [`require`] for anything that needs the peer installed: `Ok` to go on,
/// `Err(())` when it is missing and the test should return (the skip is
/// announced); panics when missing under `WSSPEC_REQUIRE_PEERS`.
pub fn available<T>(name: PeerName, found: Result<T, String>) -> Result<T, ()> {
    match found {
        Ok(t) => Ok(t),
        Err(why) if peers_required() => panic!(
            "peer `{}` unavailable: {why}\n\
             WSSPEC_REQUIRE_PEERS is set, so a missing peer fails; install it: {}",
            name.as_str(),
            name.install_hint()
        ),
        Err(why) => {
            announce_skip(name, &why);
            Err(())
        }
    }
}

/// Writes to the process's stderr directly: libtest captures `eprintln!` of
/// a passing test, not writes to the stream itself.
fn announce_skip(name: PeerName, why: &str) {
    use std::io::Write;
    // One write, so tests running beside it cannot cut the line.
    let line = format!(
        "\n*** SKIPPED (peer missing: `{}`, {}): {} ({why})\n",
        name.as_str(),
        name.install_hint(),
        std::thread::current().name().unwrap_or("a test")
    );
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Node's `ws` is installed under tests/peers and `node` runs.
pub fn node_ws_installed() -> Result<(), String> {
    if !peers_dir().join("node_modules/ws").exists() {
        return Err("tests/peers/node_modules/ws is not installed".into());
    }
    runs("node", &["-e", "require('ws')"])
}

/// The Python interpreter ([`python`]) imports `websockets`.
pub fn python_websockets_installed() -> Result<(), String> {
    runs(&python(), &["-c", "import websockets.asyncio.server"])
}

/// The Python interpreter ([`python`]) imports `hypercorn`.
pub fn python_hypercorn_installed() -> Result<(), String> {
    runs(&python(), &["-c", "import hypercorn.asyncio"])
}

/// The Python interpreter ([`python`]) imports `junitparser`.
pub fn python_junitparser_installed() -> Result<(), String> {
    runs(&python(), &["-c", "import junitparser"])
}

/// `xmllint` runs.
pub fn xmllint_installed() -> Result<(), String> {
    runs("xmllint", &["--version"])
}

/// The Chromium to drive: `WSSPEC_CHROMIUM` when set, else `chromium`.
pub fn chromium() -> String {
    std::env::var("WSSPEC_CHROMIUM").unwrap_or_else(|_| "chromium".into())
}

/// [`chromium`] runs.
pub fn chromium_installed() -> Result<(), String> {
    runs(&chromium(), &["--version"])
}

/// The Firefox to drive: `WSSPEC_FIREFOX` when set, else `firefox-esr`.
pub fn firefox() -> String {
    std::env::var("WSSPEC_FIREFOX").unwrap_or_else(|_| "firefox-esr".into())
}

/// [`firefox`] runs, and so does `certutil` (libnss3-tools), which
/// `wsspec browse` needs to have Firefox trust serve's CA over `wss://`.
pub fn firefox_installed() -> Result<(), String> {
    runs(&firefox(), &["--version"])?;
    runs("certutil", &["-H"]).or_else(|e| {
        // `certutil -H` prints its help and exits 1: it ran.
        if e.starts_with("cannot start") {
            Err(format!("{e} (Debian's libnss3-tools)"))
        } else {
            Ok(())
        }
    })
}

/// The Python that runs the Python peers: `WSSPEC_PYTHON` when set (scripts/test.sh
/// sets it), else the venv scripts/test.sh makes (`tests/peers/.venv`) when it
/// exists, else `python3` from the PATH.
pub fn python() -> String {
    if let Ok(p) = std::env::var("WSSPEC_PYTHON") {
        return p;
    }
    let venv = peers_dir().join(".venv/bin/python3");
    if venv.exists() {
        return venv.to_string_lossy().into_owned();
    }
    "python3".into()
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

/// Node's `ws` on Node's own HTTP/2 module (nghttp2), h2c with extended
/// CONNECT enabled (tests/peers/ws-h2-echo-server.js); no permessage-deflate.
/// `url` is `ws://` with its port; the server speaks HTTP/2 only.
pub fn node_ws_h2() -> Result<Peer, String> {
    node_ws_installed()?;
    spawn("node", &["ws-h2-echo-server.js", "0"], &[])
}

pub fn python_websockets() -> Result<Peer, String> {
    python_websockets_installed()?;
    spawn(&python(), &["websockets_echo_server.py", "0"], &[])
}

/// Hypercorn serving an echo app (tests/peers/hypercorn_echo_server.py):
/// `url` is its HTTP/1.1 address; the same port speaks HTTP/2 (h2c).
pub fn hypercorn() -> Result<Peer, String> {
    python_hypercorn_installed()?;
    spawn(&python(), &["hypercorn_echo_server.py", "0"], &[])
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
