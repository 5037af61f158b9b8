//! `wsspec run URL1 URL2 ...`: several targets in one invocation, one
//! report set (a folder per agent, Autobahn's index.json, an overview with a
//! column per target), a line per target, the worst exit code; `--agent`
//! once per URL; snapshots one store per agent.

#[path = "common/faulty.rs"]
mod faulty;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn wsspec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(args)
        .env("CI", "1")
        .output()
        .expect("run wsspec")
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wsspec-several-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("JSON")
}

/// Outcome per case id in an agent's results.json.
fn outcomes(results: &Value) -> Vec<(String, String)> {
    results["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().expect("id").to_string(),
                c["verdict"]["outcome"]
                    .as_str()
                    .or_else(|| c["outcome"].as_str())
                    .unwrap_or("?")
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn two_servers_one_report_set_with_a_column_each() {
    let good = faulty::start(faulty::Fault::None);
    let bad = faulty::start(faulty::Fault::EchoReservedOpcodes);
    let dir = temp("two");
    let out = wsspec(&[
        "run",
        &good.url(),
        &bad.url(),
        "--agent",
        "good",
        "--agent",
        "bad",
        "--cases",
        "4.*",
        "--report-dir",
        dir.to_str().expect("utf-8 path"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The worst of the two: the faulty server failed.
    assert_eq!(out.status.code(), Some(1), "{stderr}");

    // Each target's own report, verdicts differing where the fault shows.
    let good_cases = outcomes(&json(&dir.join("good/results.json")));
    let bad_cases = outcomes(&json(&dir.join("bad/results.json")));
    assert_eq!(good_cases.len(), 10);
    assert_eq!(bad_cases.len(), 10);
    assert!(good_cases.iter().all(|(_, o)| o == "OK"), "{good_cases:?}");
    let failed: Vec<&str> = bad_cases
        .iter()
        .filter(|(_, o)| o == "FAILED")
        .map(|(id, _)| id.as_str())
        .collect();
    assert!(failed.contains(&"4.1.1"), "{bad_cases:?}");
    assert!(failed.len() >= 5, "{bad_cases:?}");
    assert!(dir.join("good/junit.xml").is_file());
    assert!(dir.join("bad/index.html").is_file());

    // The overview: servers tested, a column per target, links into each.
    let overview = std::fs::read_to_string(dir.join("index.html")).expect("overview");
    assert!(overview.contains("<h1>wsspec: servers tested</h1>"));
    assert!(overview.contains("<th>good</th><th>bad</th>"), "{overview}");
    assert!(overview.contains("href=\"good/index.html#"));
    assert!(overview.contains("href=\"bad/index.html#"));
    // Autobahn's index.json, both agents.
    let index = json(&dir.join("index.json"));
    assert_eq!(index["good"]["4.1.1"]["behavior"], "OK");
    assert_eq!(index["bad"]["4.1.1"]["behavior"], "FAILED");

    // Each summary, then a line per target, then the overview's path.
    let recap = stdout.split("\nTargets:\n").nth(1).expect("a recap");
    let lines: Vec<&str> = recap.lines().collect();
    assert!(
        lines[0].trim_start().starts_with("good") && lines[0].contains("exit 0"),
        "{recap}"
    );
    assert!(
        lines[1].trim_start().starts_with("bad") && lines[1].contains("exit 1"),
        "{recap}"
    );
    assert!(lines[2].starts_with("Overview: "), "{recap}");
    assert_eq!(stdout.matches("10 cases: ").count(), 4, "{stdout}");
    assert!(
        stdout.find("== good").expect("good's heading") < stdout.find("== bad").expect("bad's")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unreachable_target_is_the_worst_and_the_others_still_run() {
    let good = faulty::start(faulty::Fault::None);
    let gone = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let dir = temp("unreachable");
    let out = wsspec(&[
        "run",
        &format!("ws://{gone}/"),
        &good.url(),
        "--cases",
        "1.1.*",
        "--report-dir",
        dir.to_str().expect("utf-8 path"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("error: cannot reach"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("exit 3  unreachable"));
    // Default names: host:port; the reachable one has its reports.
    let index = json(&dir.join("index.json"));
    let agents: Vec<&String> = index.as_object().expect("object").keys().collect();
    assert_eq!(agents, [&good.addr.to_string()]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn agent_count_must_match_and_names_be_unique() {
    let out = wsspec(&[
        "run",
        "ws://127.0.0.1:1/",
        "ws://127.0.0.1:2/",
        "--agent",
        "a",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 --agent for 2 URL(s)"));
    let out = wsspec(&["run", "ws://127.0.0.1:1/a", "ws://127.0.0.1:1/b"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("two targets are named `127.0.0.1:1`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = wsspec(&[
        "run",
        "ws://127.0.0.1:1/",
        "ws://127.0.0.1:2/",
        "--junit",
        "j.xml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--junit names one run's file"));
}

#[test]
fn snapshots_are_one_store_per_agent() {
    let one = faulty::start(faulty::Fault::None);
    let two = faulty::start(faulty::Fault::CloseReason);
    let dir = temp("snapshots");
    let store = dir.join("snaps");
    let run = |update: bool| {
        let mut args = vec![
            "run".to_string(),
            one.url(),
            two.url(),
            "--agent".into(),
            "one".into(),
            "--agent".into(),
            "two".into(),
            "--cases".into(),
            "1.1.*".into(),
            "--report-dir".into(),
            dir.join("reports").display().to_string(),
            "--snapshots".into(),
            store.display().to_string(),
        ];
        if update {
            args.push("--snapshots-update".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        wsspec(&args)
    };
    let first = run(true);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    for agent in ["one", "two"] {
        let snaps = std::fs::read_dir(store.join(agent).join("server"))
            .unwrap_or_else(|e| panic!("{agent}'s store: {e}"))
            .count();
        assert_eq!(snaps, 8, "{agent}");
    }
    // Each agent compared with its own store: both match.
    let again = run(false);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
