//! Browsers as the clients under test: `wsspec browse` starts serve and
//! Debian's headless `chromium` on serve's page, which drives the browser's
//! own WebSocket through the cases. Over `ws://` and over `wss://` (serve's
//! throwaway CA) chromium runs every case of `tests/data/browsers/chromium.yaml`
//! (groups 1–7 and 10, a subset of 9, 12 and 13, the client handshake and
//! permessage-deflate cases), fails only what that file's allow-list
//! documents (each deviation with its RFC sentence, docs/browsers.md), gets
//! the same verdicts over both transports, and passes every case of the
//! groups a page could get wrong (echoes, pings, fragmentation). The agent is
//! the browser's name and major version unless named; a browser that exits
//! or never finishes the page is exit 3.

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

fn config() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/browsers/chromium.yaml")
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

/// How many client cases the config selects, from `wsspec list`.
fn selected() -> usize {
    let config = std::fs::read_to_string(config()).expect("config");
    let mut list = wsspec();
    list.args(["list", "--role", "client"]);
    for line in config.lines() {
        if let Some(glob) = line.trim().strip_prefix("- '") {
            list.args(["--cases", glob.trim_end_matches('\'')]);
        }
    }
    let out = list.output().expect("list");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// `wsspec browse chromium` with the config, over TLS when `secure`.
fn browse(name: &str, secure: bool) -> (Output, PathBuf) {
    let dir = temp(name);
    let mut cmd = wsspec();
    cmd.arg("browse")
        .arg(peers::chromium())
        .args(["--listen", "127.0.0.1:0", "--config"])
        .arg(config())
        .arg("--report-dir")
        .arg(&dir);
    if secure {
        cmd.arg("--tls-self-signed");
    }
    (cmd.output().expect("browse"), dir)
}

#[test]
fn chromium_fails_only_its_documented_deviations_over_ws_and_wss() {
    if peers::available(PeerName::Chromium, peers::chromium_installed()).is_err() {
        return;
    }
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let want = selected();
    assert!(want > 250, "the config selects {want} cases");
    let mut seen = Vec::new();
    for (name, secure) in [("ws", false), ("wss", true)] {
        let (out, dir) = browse(name, secure);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "{name}: {all}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains(&format!(
                "agent chromium: {want} of {want} cases run, 0 failed"
            )),
            "{name}: {all}"
        );
        assert!(
            !stdout.contains("stale allow-list"),
            "{name}: a deviation is gone: {all}"
        );
        let r = results(&dir.join("chromium/results.json"));
        let target = r["target"].as_str().unwrap_or_default();
        let scheme = if secure { "wss://" } else { "ws://" };
        assert!(
            target.starts_with(scheme)
                && target.contains("User-Agent: ")
                && target.contains("Chrome/"),
            "{name}: {target}"
        );
        let by_case = outcomes(&r);
        assert_eq!(by_case.len(), want, "{name}");
        // What a page could get wrong (echoing text and binary, pings,
        // fragmented messages) passes.
        for (id, o) in &by_case {
            let page_side = ["1.", "2.", "5.", "9.", "10."]
                .iter()
                .any(|g| id.starts_with(g));
            assert!(
                !page_side || o == "OK" || o == "NON-STRICT",
                "{name}: {id} is {o}: the page or the browser echoes wrongly"
            );
        }
        // Every deviation is an allowed one, and there are some.
        let failed: Vec<&Value> = r["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .filter(|c| c["verdict"]["outcome"] == "FAILED")
            .collect();
        assert!(
            !failed.is_empty(),
            "{name}: chromium's deviations are gone: {all}"
        );
        for c in &failed {
            assert_eq!(c["allowed"]["deviated"], true, "{name}: {c}");
        }
        if secure {
            let events = &r["cases"][0]["transcript"]["events"];
            assert!(
                events
                    .as_array()
                    .is_some_and(|es| es.iter().any(|e| e["event"] == "tls_established")),
                "{name}: no TLS in {events}"
            );
        }
        seen.push(by_case);
        let _ = std::fs::remove_dir_all(&dir);
    }
    // The transport changes nothing a case judges.
    let differ: Vec<String> = seen[0]
        .iter()
        .filter(|(id, o)| seen[1].get(*id) != Some(*o))
        .map(|(id, o)| format!("{id}: ws {o}, wss {:?}", seen[1].get(id)))
        .collect();
    assert!(differ.is_empty(), "ws and wss differ: {differ:?}");
}

#[test]
fn the_agent_is_the_browsers_name_and_major_version() {
    let Ok(version) = peers::available(
        PeerName::Chromium,
        peers::chromium_installed().and_then(|()| {
            let out = Command::new(peers::chromium())
                .arg("--version")
                .output()
                .map_err(|e| e.to_string())?;
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        }),
    ) else {
        return;
    };
    // "Chromium 148.0.7778.96 built on Debian …"
    let major: String = version
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert!(!major.is_empty(), "{version}");
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp("agent");
    let out = wsspec()
        .arg("browse")
        .arg(peers::chromium())
        .args(["--listen", "127.0.0.1:0", "--cases", "1.1.*", "--no-config"])
        .arg("--report-dir")
        .arg(&dir)
        .output()
        .expect("browse");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let agent = format!("chrome-{major}");
    let r = results(&dir.join(&agent).join("results.json"));
    assert_eq!(r["agent"], agent.as_str());
    assert!(outcomes(&r).values().all(|o| o == "OK"), "{r}");
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
