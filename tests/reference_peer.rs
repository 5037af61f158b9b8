//! The whole corpus against the embedded reference server, through the library
//! and through the `wsspec` binary (exit codes, reports on disk).

#[path = "common/harness.rs"]
mod harness;

use std::process::Command;

use wsspec::judge::Outcome;

#[test]
fn reference_server_is_ok_on_every_case() {
    let (url, _rt) = harness::reference_server();
    let cases = harness::corpus(&[]);
    let results = harness::run(&url, &cases);
    assert_eq!(results.cases.len(), cases.len());
    // OK everywhere, INFORMATIONAL exactly where a case is informational by design.
    let informational: std::collections::BTreeSet<String> = cases
        .iter()
        .filter(|c| c.spec.informational)
        .map(|c| c.spec.id.clone())
        .collect();
    let not_ok: std::collections::BTreeSet<String> = results
        .cases
        .iter()
        .filter(|c| {
            let want = if informational.contains(&c.id) {
                Outcome::Informational
            } else {
                Outcome::Ok
            };
            c.verdict.outcome != want
        })
        .map(|c| c.id.clone())
        .collect();
    assert!(
        not_ok.is_empty(),
        "reference server not OK on:\n{}",
        harness::explain(&results, &not_ok)
    );
    assert!(!results.failed());
}

/// The RFC 8441 group handed to the library against an HTTP/1.1 target:
/// every case is ERROR, not started, with a reason that says what target it
/// needs (the CLI leaves them out before this; a library user gets a reason
/// instead of a case run over the wrong transport).
#[test]
fn http2_only_cases_over_http1_are_not_started_and_say_why() {
    let (url, _rt) = harness::reference_server();
    let all = wsspec::case::load::load(&wsspec::case::embedded_sources()).expect("corpus loads");
    let h2_only: Vec<_> = all
        .into_iter()
        .filter(|c| c.spec.http2_only() && c.spec.roles.contains(&wsspec::case::Role::Server))
        .collect();
    assert!(h2_only.len() >= 20, "{}", h2_only.len());
    let results = harness::run(&url, &h2_only);
    assert_eq!(results.cases.len(), h2_only.len());
    for c in &results.cases {
        assert_eq!(c.verdict.outcome, Outcome::Error, "{}", c.id);
        assert!(
            c.verdict.behavior_reason.contains("runs only over HTTP/2")
                && c.verdict.behavior_reason.contains("h2c://"),
            "{}: {}",
            c.id,
            c.verdict.behavior_reason
        );
    }
}

fn wsspec() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsspec"))
}

#[test]
fn run_without_url_tests_the_reference_server_and_writes_reports() {
    let dir = std::env::temp_dir().join(format!("wsspec-ref-{}", std::process::id()));
    let out = wsspec()
        .args(["run", "--report-dir"])
        .arg(&dir)
        .args(harness::beyond_ci_args())
        .args(["--autobahn-json"])
        .arg(dir.join("autobahn"))
        .env("CI", "1")
        .output()
        .expect("run wsspec");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cases = harness::corpus(&[]);
    let info = cases.iter().filter(|c| c.spec.informational).count();
    let summary = format!(
        "{} cases: {} OK, {info} INFORMATIONAL, 0 FAILED",
        cases.len(),
        cases.len() - info
    );
    assert!(stdout.contains(&summary), "want `{summary}` in: {stdout}");
    for f in [
        "junit.xml",
        "index.html",
        "results.json",
        "autobahn/index.json",
    ] {
        let meta = std::fs::metadata(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(meta.len() > 100, "{f} is nearly empty");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unreachable_target_exits_3() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let dir = std::env::temp_dir().join(format!("wsspec-unreach-{}", std::process::id()));
    let out = wsspec()
        .args(["run", &format!("ws://127.0.0.1:{port}/"), "--report-dir"])
        .arg(&dir)
        .output()
        .expect("run wsspec");
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"));
}

#[test]
fn selection_and_usage_errors() {
    let out = wsspec()
        .args(["list", "--cases", "2.1*"])
        .output()
        .expect("list");
    let text = String::from_utf8_lossy(&out.stdout);
    let ids: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(ids, ["2.1", "2.10", "2.11"]);
    // Every case is listed with the roles it runs in; --role narrows it to
    // what `run` (server) or `serve` (client) would select.
    let list = |args: &[&str]| {
        let out = wsspec().arg("list").args(args).output().expect("list");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let both = list(&["--cases", "cl.1.1", "--cases", "hs.1.1", "--cases", "2.1"]);
    let roles: Vec<(&str, &str)> = both
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?, w.nth(1)?))
        })
        .collect();
    assert_eq!(
        roles,
        [("2.1", "both"), ("cl.1.1", "client"), ("hs.1.1", "server")]
    );
    assert!(!list(&["--role", "server", "--cases", "cl.*"]).contains("cl."));
    assert!(!list(&["--role", "client", "--cases", "hs.*"]).contains("hs."));
    let out = wsspec().args(["run", "http://x"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = wsspec()
        .args(["run", "--cases", "99.*"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = wsspec().args(["--version"]).output().expect("version");
    assert!(String::from_utf8_lossy(&out.stdout).contains("case corpus"));
}

#[test]
fn a_target_that_dies_mid_run_gives_errors_not_a_hang() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cases = harness::corpus(&["1.*", "2.*"]);
    let results = rt.block_on(async {
        // A reference server that dies after six connections: wsspec's
        // reachability probe and the first five cases (one at a time).
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            for _ in 0..6 {
                if let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(wsspec::reference::serve_connection(stream));
                }
            }
            // the listener goes away: new connections are refused
        });
        let config = wsspec::suite::SuiteConfig {
            target: wsspec::run::Target::parse(&format!("ws://{addr}/")).expect("url"),
            agent: "dies".into(),
            options: wsspec::run::RunOptions::default(),
            jobs: 1,
            strict: false,
            snapshots: None,
            allow: Default::default(),
            strict_allowlist: false,
        };
        wsspec::suite::run(&cases, &config, &mut wsspec::report::Reporters::new())
            .await
            .expect("reachable at the start")
    });
    let outcomes: Vec<Outcome> = results.cases.iter().map(|c| c.verdict.outcome).collect();
    assert!(
        outcomes[..5].iter().all(|o| *o == Outcome::Ok),
        "the first five cases ran: {outcomes:?}"
    );
    assert!(
        outcomes[5..].iter().all(|o| *o == Outcome::Error),
        "every case after the target died is ERROR: {outcomes:?}"
    );
    let first_error = results
        .cases
        .iter()
        .find(|c| c.verdict.outcome == Outcome::Error)
        .expect("an error");
    assert!(
        first_error
            .verdict
            .behavior_reason
            .contains("could not connect"),
        "{}",
        first_error.verdict.behavior_reason
    );
    assert!(results
        .cases
        .iter()
        .rev()
        .take(3)
        .all(|c| c.verdict.behavior_reason.contains("stopped accepting")));
    assert!(results.failed(), "ERROR cases must fail the run");
}
