//! Browsers as the clients under test: `wsspec browse` starts serve and
//! Debian's headless `chromium` or `firefox-esr` on serve's page, which
//! drives the browser's own WebSocket through the cases. Over `ws://` and
//! over `wss://` (serve's throwaway CA; in Firefox's profile through
//! certutil) each browser runs every case of `tests/data/browsers/<name>.yaml`
//! (groups 1–7 and 10, a subset of 9, 12 and 13, the client handshake and
//! permessage-deflate cases), fails only what that file's allow-list
//! documents (each deviation with its RFC sentence, docs/browsers.md), gets
//! the same verdicts over both transports, and passes every case of the
//! groups a page could get wrong (echoes, pings, fragmentation). Every case
//! is compared with its snapshot committed in `snapshots/browsers/<name>/`
//! (none NEW, none naming the browser's version); drift from a browser
//! update is allowed by the config's `drift: only` entry and announced, not
//! failed. The agent is the browser's name and major version unless named;
//! a browser that exits or never finishes the page is exit 3.

#[path = "common/peers.rs"]
mod peers;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use peers::PeerName;
use serde_json::Value;

fn wsspec() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wsspec"));
    c.env("CI", "1");
    c
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wsspec-browsers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A browser under test: how to find it and what the project keeps of it.
struct Browser {
    peer: PeerName,
    program: fn() -> String,
    installed: fn() -> Result<(), String>,
    /// The agent its config names, also its snapshot folder.
    agent: &'static str,
    /// What its User-Agent says of it (`Chrome/`, `Firefox/`).
    ua: &'static str,
}

const CHROMIUM: Browser = Browser {
    peer: PeerName::Chromium,
    program: peers::chromium,
    installed: peers::chromium_installed,
    agent: "chromium",
    ua: "Chrome/",
};

const FIREFOX: Browser = Browser {
    peer: PeerName::Firefox,
    program: peers::firefox,
    installed: peers::firefox_installed,
    agent: "firefox",
    ua: "Firefox/",
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl Browser {
    /// tests/data/browsers/<agent>.yaml: the cases and the allow-list.
    fn config(&self) -> PathBuf {
        root().join(format!("tests/data/browsers/{}.yaml", self.agent))
    }

    /// The committed snapshots: snapshots/browsers/<agent>/client.
    fn snapshots(&self) -> PathBuf {
        root().join(format!("snapshots/browsers/{}/client", self.agent))
    }

    /// The version `--version` prints (`148.0.7778.96`, `153.8.0esr`): the
    /// token after the name that starts with a digit.
    fn full_version(&self) -> String {
        let out = Command::new((self.program)())
            .arg("--version")
            .output()
            .expect("--version");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.split_whitespace()
            .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
            .unwrap_or_else(|| panic!("no version in {text:?}"))
            .to_string()
    }

    /// How many client cases the config selects, from `wsspec list`.
    fn selected(&self) -> usize {
        let config = std::fs::read_to_string(self.config()).expect("config");
        let mut list = wsspec();
        list.args(["list", "--role", "client"]);
        let cases = config
            .split("\noptions:")
            .next()
            .expect("the cases come first");
        for line in cases.lines() {
            // The HTTP/2-only globs: serve leaves their cases out over
            // HTTP/1.1, and these runs are over HTTP/1.1.
            if let Some(glob) = line
                .trim()
                .strip_prefix("- '")
                .filter(|g| !g.starts_with("h2."))
            {
                list.args(["--cases", glob.trim_end_matches('\'')]);
            }
        }
        let out = list.output().expect("list");
        String::from_utf8_lossy(&out.stdout).lines().count()
    }

    /// `wsspec browse` with the config, over TLS when `secure`, comparing
    /// with a copy of the committed snapshots in the report folder (a test
    /// writes no `.snap.new` into the tree).
    fn browse(&self, name: &str, secure: bool) -> (Output, PathBuf) {
        let dir = temp(&format!("{}-{name}", self.agent));
        let store = dir.join("snapshots").join(self.agent).join("client");
        std::fs::create_dir_all(&store).expect("store");
        for entry in std::fs::read_dir(self.snapshots()).expect("committed snapshots") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "snap") {
                std::fs::copy(&path, store.join(path.file_name().expect("name"))).expect("copy");
            }
        }
        let mut cmd = wsspec();
        cmd.arg("browse")
            .arg((self.program)())
            .args(["--listen", "127.0.0.1:0", "--config"])
            .arg(self.config())
            .arg("--snapshots")
            .arg(dir.join("snapshots"))
            .arg("--report-dir")
            .arg(dir.join("reports"));
        if secure {
            cmd.arg("--tls-self-signed");
        }
        (cmd.output().expect("browse"), dir)
    }

    /// Over `ws://` and `wss://`: every selected case runs, the only
    /// deviations are the allow-list's, no entry is stale, the cases a page
    /// could get wrong pass, both transports give the same verdicts, and
    /// every case is compared with its committed snapshot: none is NEW, none
    /// carries the browser's full version, and drift (a browser update) is
    /// allowed by the config's `drift: only` entry and announced.
    fn fails_only_its_documented_deviations(&self) {
        if peers::available(self.peer, (self.installed)()).is_err() {
            return;
        }
        let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let want = self.selected();
        assert!(want > 250, "the config selects {want} cases");
        let committed = std::fs::read_dir(self.snapshots())
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "snap"))
                    .count()
            })
            .unwrap_or(0);
        assert_eq!(
            committed,
            want,
            "one committed snapshot per case in {}; after an intended change: \
             wsspec browse {} --config {} --snapshots snapshots/browsers --snapshots-update",
            self.snapshots().display(),
            (self.program)(),
            self.config().display()
        );
        let version = self.full_version();
        let agent = self.agent;
        let mut seen = Vec::new();
        for (name, secure) in [("ws", false), ("wss", true)] {
            let (out, dir) = self.browse(name, secure);
            let all = text(&out);
            assert_eq!(out.status.code(), Some(0), "{agent} {name}: {all}");
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                stdout.contains(&format!(
                    "agent {agent}: {want} of {want} cases run, 0 failed"
                )),
                "{agent} {name}: {all}"
            );
            assert!(
                !stdout.contains("stale allow-list"),
                "{agent} {name}: a deviation is gone: {all}"
            );
            let r = results(&dir.join("reports").join(agent).join("results.json"));
            let target = r["target"].as_str().unwrap_or_default();
            let scheme = if secure { "wss://" } else { "ws://" };
            assert!(
                target.starts_with(scheme)
                    && target.contains("User-Agent: ")
                    && target.contains(self.ua),
                "{agent} {name}: {target}"
            );
            let by_case = outcomes(&r);
            assert_eq!(by_case.len(), want, "{agent} {name}");
            // What a page could get wrong (echoing text and binary, pings,
            // fragmented messages) passes.
            for (id, o) in &by_case {
                let page_side = ["1.", "2.", "5.", "9.", "10."]
                    .iter()
                    .any(|g| id.starts_with(g));
                assert!(
                    !page_side || o == "OK" || o == "NON-STRICT",
                    "{agent} {name}: {id} is {o}: the page or the browser echoes wrongly"
                );
            }
            let cases = r["cases"].as_array().expect("cases");
            // Every deviation is an allowed one, and there are some.
            let failed: Vec<&Value> = cases
                .iter()
                .filter(|c| c["verdict"]["outcome"] == "FAILED")
                .collect();
            assert!(
                !failed.is_empty(),
                "{agent} {name}: the deviations are gone: {all}"
            );
            for c in &failed {
                assert_eq!(c["allowed"]["deviated"], true, "{agent} {name}: {c}");
            }
            // Every case met its committed snapshot; drift is allowed and shown.
            let mut drifted = Vec::new();
            for c in cases {
                let status = c["snapshot"]["status"].as_str().unwrap_or("none");
                assert!(
                    status == "match" || status == "drift",
                    "{agent} {name}: {} snapshot {status}",
                    c["id"]
                );
                // Drift the config names case by case is a known race;
                // anything else is news to announce.
                if status == "drift" {
                    let pattern = &c["drift_allowed"]["pattern"];
                    assert!(
                        pattern.is_string(),
                        "{agent} {name}: drift not allowed: {c}"
                    );
                    if pattern == "*" {
                        drifted.push(c["id"].as_str().unwrap_or("?").to_string());
                    }
                }
            }
            if !drifted.is_empty() {
                announce(&format!(
                    "{agent} over {name}: {} cases drifted from {} (allowed): {}; \
                     review the DRIFT ALLOWED lines of its output",
                    drifted.len(),
                    self.snapshots().display(),
                    drifted.join(", ")
                ));
            }
            // The snapshots (committed and observed) never name the version.
            for entry in
                std::fs::read_dir(dir.join("snapshots").join(agent).join("client")).expect("store")
            {
                let path = entry.expect("entry").path();
                let body = std::fs::read_to_string(&path).expect("snap");
                assert!(
                    !body.contains(&version) && !body.contains(self.ua),
                    "{}: names the browser's version {version}",
                    path.display()
                );
            }
            if secure {
                let events = &r["cases"][0]["transcript"]["events"];
                assert!(
                    events
                        .as_array()
                        .is_some_and(|es| es.iter().any(|e| e["event"] == "tls_established")),
                    "{agent} {name}: no TLS in {events}"
                );
            }
            seen.push(by_case);
            let _ = std::fs::remove_dir_all(&dir);
        }
        // The transport changes nothing a case judges, but for the races.
        let config = std::fs::read_to_string(self.config()).expect("config");
        for id in RACES {
            assert!(
                config.contains(&format!("'{id}'")),
                "{agent}: the config names no race entry for {id}"
            );
        }
        let race = |id: &str, o: &str, other: Option<&String>| {
            RACES.contains(&id)
                && ["OK", "NON-STRICT"].contains(&o)
                && other.is_some_and(|p| p == "OK" || p == "NON-STRICT")
        };
        let differ: Vec<String> = seen[0]
            .iter()
            .filter(|(id, o)| seen[1].get(*id) != Some(*o) && !race(id, o, seen[1].get(*id)))
            .map(|(id, o)| format!("{id}: ws {o}, wss {:?}", seen[1].get(id)))
            .collect();
        assert!(differ.is_empty(), "{agent}: ws and wss differ: {differ:?}");
    }
}

impl Browser {
    /// `serve --h2` under TLS: the browser gets the page over HTTP/2 and
    /// opens every WebSocket as an extended-CONNECT stream on that
    /// connection (RFC 8441), which every transcript and the report's target
    /// line show; what a page could get wrong passes, and every failure is
    /// one of the config's documented deviations or one of `over_http2`, the
    /// browser's own deviations over HTTP/2 (docs/browsers.md), which must
    /// all show.
    fn opens_its_websockets_over_http2(&self, over_http2: &[&str]) {
        if peers::available(self.peer, (self.installed)()).is_err() {
            return;
        }
        let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let agent = self.agent;
        let dir = temp(&format!("{agent}-h2"));
        let out = wsspec()
            .arg("browse")
            .arg((self.program)())
            .args(["--listen", "127.0.0.1:0", "--config"])
            .arg(self.config())
            .args(["--h2", "--tls-self-signed", "--report-dir"])
            .arg(dir.join("reports"))
            .output()
            .expect("browse");
        let all = text(&out);
        let want = if over_http2.is_empty() { 0 } else { 1 };
        assert_eq!(out.status.code(), Some(want), "{agent} over HTTP/2: {all}");
        let r = results(&dir.join("reports").join(agent).join("results.json"));
        let target = r["target"].as_str().unwrap_or_default();
        assert!(
            target.contains("over HTTP/2 (RFC 8441)") && !target.contains(" of "),
            "{agent}: {target}"
        );
        let cases = r["cases"].as_array().expect("cases");
        assert!(cases.len() > 250, "{agent}: {} cases", cases.len());
        // RFC 8441's own client cases ran too (they exist over HTTP/2 only).
        let answers = cases
            .iter()
            .filter(|c| c["id"].as_str().is_some_and(|id| id.starts_with("h2.3.")));
        assert_eq!(answers.count(), 4, "{agent}: h2.3.* did not all run");
        let mut failed = Vec::new();
        for c in cases {
            let events = c["transcript"]["events"].as_array().expect("events");
            assert!(
                events.iter().any(|e| e["event"] == "http2_stream"),
                "{agent}: {} did not run on an HTTP/2 stream",
                c["id"]
            );
            let id = c["id"].as_str().unwrap_or("?");
            let o = c["verdict"]["outcome"].as_str().unwrap_or("?");
            let page_side = ["1.", "2.", "5.", "9.", "10."]
                .iter()
                .any(|g| id.starts_with(g));
            assert!(
                !page_side || o == "OK" || o == "NON-STRICT",
                "{agent} over HTTP/2: {id} is {o}"
            );
            if o == "FAILED" && c["allowed"]["deviated"] != true {
                failed.push(id.to_string());
            }
        }
        assert_eq!(failed, over_http2, "{agent}: its deviations over HTTP/2");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Cases whose verdict is a race in a browser, OK or NON-STRICT run to run
/// (a valid message, then an invalid frame: whether the page's echo leaves
/// before the browser fails the connection), each named by a `drift: only`
/// entry of both configs.
const RACES: [&str; 10] = [
    "3.2", "3.3", "3.4", "4.1.3", "4.1.4", "4.1.5", "4.2.3", "4.2.4", "4.2.5", "5.15",
];

/// Writes past libtest's capture (as peers.rs announces a skip), so allowed
/// drift is seen in a passing run's output.
fn announce(line: &str) {
    use std::io::Write;
    let _ = std::io::stderr()
        .lock()
        .write_all(format!("\n*** SNAPSHOT DRIFT ALLOWED: {line}\n").as_bytes());
}

fn results(path: &Path) -> Value {
    let json = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&json).expect("results.json")
}

/// Each case's outcome.
fn outcomes(r: &Value) -> BTreeMap<String, String> {
    r["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or("?").to_string(),
                c["verdict"]["outcome"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect()
}

#[test]
fn chromium_fails_only_its_documented_deviations_over_ws_and_wss() {
    CHROMIUM.fails_only_its_documented_deviations();
}

#[test]
fn firefox_fails_only_its_documented_deviations_over_ws_and_wss() {
    FIREFOX.fails_only_its_documented_deviations();
}

impl Browser {
    /// Without `--agent`, the agent is `<prefix>-<major version>`.
    fn agent_is_its_name_and_major_version(&self, prefix: &str) {
        if peers::available(self.peer, (self.installed)()).is_err() {
            return;
        }
        let version = self.full_version();
        let major: String = version.chars().take_while(char::is_ascii_digit).collect();
        assert!(!major.is_empty(), "{version}");
        let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let dir = temp(&format!("agent-{prefix}"));
        let out = wsspec()
            .arg("browse")
            .arg((self.program)())
            .args(["--listen", "127.0.0.1:0", "--cases", "1.1.*", "--no-config"])
            .arg("--report-dir")
            .arg(&dir)
            .output()
            .expect("browse");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let agent = format!("{prefix}-{major}");
        let r = results(&dir.join(&agent).join("results.json"));
        assert_eq!(r["agent"], agent.as_str());
        assert!(outcomes(&r).values().all(|o| o == "OK"), "{r}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn chromium_opens_its_websockets_over_http2_when_the_page_came_over_http2() {
    // Sent a close and another frame in one write, chromium resets its
    // stream instead of answering the close (RFC 6455 5.5.1).
    CHROMIUM.opens_its_websockets_over_http2(&["7.1.2", "7.1.3", "7.1.4", "7.1.5"]);
}

#[test]
fn firefox_opens_its_websockets_over_http2_when_the_page_came_over_http2() {
    // Over HTTP/2 firefox accepts the extension answers it refuses over
    // HTTP/1.1 (RFC 6455 9.1, RFC 7692 7.1).
    // It also opens a WebSocket on a 200 whose fields it should have failed
    // it for (an extension or subprotocol it did not offer, RFC 8441 5 with
    // RFC 6455 4.1), as over HTTP/1.1 (cl.2.7, docs/browsers.md).
    FIREFOX.opens_its_websockets_over_http2(&[
        "h2.3.1", "h2.3.2", "h2.3.4", "pmd.4.1", "pmd.4.2", "pmd.4.3", "pmd.4.4", "pmd.4.5",
        "pmd.4.7", "pmd.4.8",
    ]);
}

#[test]
fn the_agent_is_the_browsers_name_and_major_version() {
    CHROMIUM.agent_is_its_name_and_major_version("chrome");
    FIREFOX.agent_is_its_name_and_major_version("firefox");
}

#[test]
fn firefox_over_tls_without_certutil_is_an_error_naming_the_package() {
    let dir = temp("no-certutil");
    // A Firefox by its name, never started: the profile is made first.
    let fake = dir.join("firefox-esr");
    std::fs::write(&fake, "#!/bin/sh\nexit 0\n").expect("script");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let empty = dir.join("empty-path");
    std::fs::create_dir_all(&empty).expect("dir");
    let out = wsspec()
        .env("PATH", &empty)
        .arg("browse")
        .arg(&fake)
        .args(["--listen", "127.0.0.1:0", "--cases", "1.1.1", "--no-config"])
        .arg("--tls-self-signed")
        .arg("--report-dir")
        .arg(&dir)
        .output()
        .expect("browse");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("`certutil` is not installed") && all.contains("libnss3-tools"),
        "{all}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_browser_that_exits_or_never_finishes_the_page_is_exit_3() {
    let dir = temp("gone");
    // A "browser" that exits at once.
    let out = wsspec()
        .args([
            "browse",
            "/bin/false",
            "--listen",
            "127.0.0.1:0",
            "--cases",
            "1.1.1",
        ])
        .arg("--report-dir")
        .arg(&dir)
        .output()
        .expect("browse");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(
        all.contains("the browser exited (exit status: 1) before the page finished"),
        "{all}"
    );
    // One that never loads the page.
    let sleeper = dir.join("sleepy-browser");
    std::fs::write(&sleeper, "#!/bin/sh\nexec sleep 60\n").expect("script");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&sleeper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let started = std::time::Instant::now();
    let out = wsspec()
        .arg("browse")
        .arg(&sleeper)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--cases",
            "1.1.1",
            "--browse-timeout",
            "1",
        ])
        .arg("--report-dir")
        .arg(&dir)
        .output()
        .expect("browse");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(
        all.contains("did not finish within --browse-timeout 1 s"),
        "{all}"
    );
    assert!(
        started.elapsed().as_secs() < 30,
        "the browser was not stopped"
    );
    // A browser that is not there is a usage error.
    let out = wsspec()
        .args(["browse", "/nonexistent/browser", "--listen", "127.0.0.1:0"])
        .arg("--report-dir")
        .arg(&dir)
        .output()
        .expect("browse");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("cannot start the browser /nonexistent/browser"),
        "{all}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
