//! Usage mistakes get exit code 2 and a message, never a silent success:
//! `check` reports every broken file (an unreadable or non-UTF-8 one does not
//! hide the others), `list` of a selection that matches nothing says so as
//! `run` does, and the `snapshots` commands refuse a folder that is not there.

#[path = "common/raw_server.rs"]
mod raw_server;

use std::path::PathBuf;
use std::process::{Command, Output};

fn wsspec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(args)
        .output()
        .expect("run wsspec")
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wsspec-usage-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[test]
fn check_reports_every_broken_file_not_only_the_first() {
    let dir = temp("check");
    // Sorted first: a file that is not UTF-8; then two with located errors.
    std::fs::write(dir.join("a.yaml"), [0xff, 0xfe, b'\n']).expect("write");
    std::fs::write(dir.join("b.yaml"), "x: [1,\n  2\nid: 3\n").expect("write");
    std::fs::write(dir.join("c.yaml"), "cases: 7\n").expect("write");
    let out = wsspec(&["check", dir.to_str().expect("utf-8 path")]);
    let text = said(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("a.yaml:1:1: not UTF-8 text"), "{text}");
    assert!(
        text.contains("b.yaml:3:3:") && text.contains("inside the `[` opened at line 1, column 4"),
        "{text}"
    );
    assert!(text.contains("c.yaml:1:"), "{text}");
    assert!(text.contains("3 error(s) in case files"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn list_of_a_selection_that_matches_nothing_is_an_error() {
    let out = wsspec(&["list", "--cases", "no.such.case"]);
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    assert!(said(&out).contains("no case matches the selection"));
    // As `run` says it.
    let run = wsspec(&["run", "--cases", "no.such.case"]);
    assert_eq!(run.status.code(), Some(2), "{}", said(&run));
    // A selection that matches still lists, exit 0.
    let ok = wsspec(&["list", "--cases", "1.1.1"]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("1.1.1 "));
}

#[test]
fn snapshot_commands_refuse_a_folder_that_is_not_there() {
    let missing = std::env::temp_dir().join(format!("wsspec-no-snaps-{}", std::process::id()));
    let path = missing.to_str().expect("utf-8 path");
    for cmd in ["review", "accept", "reject", "prune"] {
        let out = wsspec(&["snapshots", cmd, path]);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {}", said(&out));
        assert!(
            said(&out).contains("no snapshot folder at"),
            "{cmd}: {}",
            said(&out)
        );
    }
    // An existing empty folder is simply nothing pending.
    let empty = temp("empty-snaps");
    let out = wsspec(&["snapshots", "review", empty.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn snapshots_update_says_what_it_stored() {
    let dir = temp("update");
    let snaps = dir.join("snaps");
    let reports = dir.join("reports");
    let n =
        String::from_utf8_lossy(&wsspec(&["list", "--cases", "2.*", "--role", "server"]).stdout)
            .lines()
            .count();
    assert!(n > 5);
    let update = || {
        let out = Command::new(env!("CARGO_BIN_EXE_wsspec"))
            .args(["run", "--cases", "2.*", "--snapshots"])
            .arg(&snaps)
            .arg("--snapshots-update")
            .arg("--report-dir")
            .arg(&reports)
            .env("CI", "1")
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{}", said(&out));
        said(&out)
    };
    // Into an empty folder: every case is new, and is said to be.
    let first = update();
    assert!(
        first.contains(&format!(
            "snapshots stored: {n} new, 0 replaced, 0 unchanged"
        )),
        "{first}"
    );
    let json = std::fs::read_to_string(reports.join("results.json")).expect("results.json");
    let results: serde_json::Value = serde_json::from_str(&json).expect("json");
    let cases = results["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), n);
    for c in cases {
        assert_eq!(
            c["snapshot"],
            serde_json::json!({"status": "stored", "replaced": false}),
            "{}",
            c["id"]
        );
    }
    // One stored snapshot changed by hand is replaced; the rest are unchanged.
    let one = std::fs::read_dir(snaps.join("server"))
        .expect("server folder")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "snap"))
        .expect("a .snap");
    let text = std::fs::read_to_string(&one).expect("read");
    std::fs::write(&one, format!("{text}edited by hand\n")).expect("write");
    let second = update();
    assert!(
        second.contains(&format!(
            "snapshots stored: 0 new, 1 replaced, {} unchanged",
            n - 1
        )),
        "{second}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Three cases of our own against the reference server: `u.1` passes, `u.2`
/// (a SHOULD that expects no echo) is NON-STRICT, `u.3` (a MUST that does)
/// is FAILED.
const MIXED_CASES: &str = r#"group: "u"
title: "usage"
spec: "RFC 6455 5.6"
cases:
  - id: "u.1"
    title: "echoed"
    requirement: MUST
    steps:
      - send: {opcode: text, payload: "a"}
      - wait: echo
      - close: 1000
      - wait: end
    expect:
      ok: [echo]
      close: {by: harness, codes: [1000], clean: true}
  - id: "u.2"
    title: "a SHOULD the reference server misses"
    requirement: SHOULD
    steps:
      - send: {opcode: text, payload: "b"}
      - wait: echo
      - close: 1000
      - wait: end
    expect:
      ok: []
      close: {by: harness, codes: [1000], clean: true}
  - id: "u.3"
    title: "a MUST the reference server misses"
    requirement: MUST
    steps:
      - send: {opcode: text, payload: "c"}
      - wait: echo
      - close: 1000
      - wait: end
    expect:
      ok: []
      close: {by: harness, codes: [1000], clean: true}
"#;

#[test]
fn the_console_lists_what_did_not_pass_in_case_order_and_names_the_reports() {
    let dir = temp("console");
    std::fs::write(dir.join("u.yaml"), MIXED_CASES).expect("write");
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_wsspec"))
            .args(["run", "--cases", "u.*", "--cases-dir"])
            .arg(&dir)
            .arg("--report-dir")
            .arg(dir.join("reports"))
            .args(extra)
            .env("CI", "1")
            .output()
            .expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, stdout) = run(&[]);
    assert_eq!(code, Some(1), "{stdout}");
    let recap = stdout
        .split_once("1 case not passing, in case order:\n")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no recap:\n{stdout}"));
    assert!(recap.starts_with("  FAILED        u.3 "), "{stdout}");
    assert!(
        stdout.contains("3 cases: 1 OK, 1 NON-STRICT, 1 FAILED"),
        "{stdout}"
    );
    assert!(!stdout.contains("--strict:"), "{stdout}");
    let reports = dir.join("reports");
    assert!(
        stdout.contains(&format!(
            "reports: {}, {}, {}",
            reports.join("index.html").display(),
            reports.join("junit.xml").display(),
            reports.join("results.json").display()
        )),
        "{stdout}"
    );
    // Under --strict the NON-STRICT case fails too, in case order, and the
    // console says that --strict is why.
    let (code, stdout) = run(&["--strict"]);
    assert_eq!(code, Some(1), "{stdout}");
    let u2 = stdout.find("  NON-STRICT    u.2 ").expect("u.2 listed");
    let u3 = stdout.find("  FAILED        u.3 ").expect("u.3 listed");
    assert!(u2 < u3, "{stdout}");
    assert!(
        stdout.contains("2 cases not passing, in case order:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--strict: 1 case NON-STRICT counted as failing"),
        "{stdout}"
    );
    // One case: "1 case", not "1 cases".
    let (code, stdout) = run(&["--exclude", "u.2", "--exclude", "u.3"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("1 case: 1 OK, 0 FAILED"), "{stdout}");
    assert!(!stdout.contains("not passing"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn signal(child: &std::process::Child, sig: i32) {
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig})");
}

#[test]
fn ctrl_c_stops_a_run_and_still_writes_the_reports() {
    let dir = temp("interrupt");
    let snaps = dir.join("snaps");
    let child = Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(["run", "--report-dir"])
        .arg(dir.join("reports"))
        .arg("--snapshots")
        .arg(&snaps)
        .arg("--snapshots-update")
        .env("CI", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    // The whole corpus takes minutes; stop it after a moment.
    std::thread::sleep(std::time::Duration::from_secs(2));
    signal(&child, libc::SIGINT);
    let started = std::time::Instant::now();
    let out = child.wait_with_output().expect("wait");
    assert!(started.elapsed().as_secs() < 20, "stopped within seconds");
    let text = said(&out);
    assert_eq!(out.status.code(), Some(130), "{text}");
    assert!(
        text.contains("interrupted: the cases left are ERROR"),
        "{text}"
    );
    let json = std::fs::read_to_string(dir.join("reports/results.json")).expect("results.json");
    let results: serde_json::Value = serde_json::from_str(&json).expect("json");
    let cases = results["cases"].as_array().expect("cases");
    let interrupted = cases
        .iter()
        .filter(|c| {
            c["verdict"]["behavior_reason"] == "not finished: the run was interrupted (Ctrl-C)"
        })
        .count();
    assert!(
        interrupted > 0 && interrupted < cases.len(),
        "{interrupted} of {}",
        cases.len()
    );
    assert!(cases
        .iter()
        .filter(
            |c| c["verdict"]["behavior_reason"] == "not finished: the run was interrupted (Ctrl-C)"
        )
        .all(|c| c["verdict"]["outcome"] == "ERROR" && c["snapshot"].is_null()));
    // Snapshots were stored for the cases that ran, none for those that did not.
    let stored = std::fs::read_dir(snaps.join("server"))
        .expect("snapshots")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "snap"))
        .count();
    assert_eq!(stored, cases.len() - interrupted);
    assert!(dir.join("reports/index.html").exists() && dir.join("reports/junit.xml").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_stops_serve_with_its_summary_and_reports() {
    let dir = temp("sigterm");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let serve = Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--cases",
            "1.1.*",
        ])
        .arg("--report-dir")
        .arg(&dir)
        .env("CI", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve");
    let up = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(25));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "serve listens");
    // A driver that never asks for reports nor shutdown.
    let client = wsspec(&[
        "reference-client",
        &format!("ws://127.0.0.1:{port}"),
        "--agent",
        "a",
    ]);
    assert!(client.status.success(), "{}", said(&client));
    signal(&serve, libc::SIGTERM);
    let out = serve.wait_with_output().expect("wait");
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("stopping on a signal; writing the reports"),
        "{text}"
    );
    assert!(
        text.contains("agent a: 8 of 8 cases run, 0 failed"),
        "{text}"
    );
    assert!(dir.join("a/results.json").exists() && dir.join("index.html").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn colour_on_request_never_in_a_pipe_by_default_and_jobs_0_is_refused() {
    let dir = temp("colour");
    std::fs::write(dir.join("u.yaml"), MIXED_CASES).expect("write");
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_wsspec"))
            .args(["run", "--cases", "u.*", "--cases-dir"])
            .arg(&dir)
            .arg("--report-dir")
            .arg(dir.join("reports"))
            .args(extra)
            .env("CI", "1")
            .output()
            .expect("run");
        said(&out)
    };
    let always = run(&["--color", "always"]);
    assert!(
        always.contains("\x1b[1;31mFAILED       \x1b[0m u.3 "),
        "{always:?}"
    );
    assert!(always.contains("\x1b[33mNON-STRICT"), "{always:?}");
    for plain in [run(&[]), run(&["--color", "never"])] {
        assert!(!plain.contains('\x1b'), "{plain:?}");
        assert!(plain.contains("FAILED        u.3 "), "{plain}");
    }
    let zero = wsspec(&["run", "--jobs", "0", "--cases", "1.1.1"]);
    assert_eq!(zero.status.code(), Some(2), "{}", said(&zero));
    assert!(said(&zero).contains("--jobs"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wait_for_target_retries_until_the_server_is_up() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dir = temp("wait");
    let url = format!("ws://127.0.0.1:{port}/");
    let run = Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args([
            "run",
            &url,
            "--cases",
            "1.1.1",
            "--wait-for-target",
            "20",
            "--report-dir",
        ])
        .arg(&dir)
        .env("CI", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    // The server comes up a while after wsspec started.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let mut server = Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(["reference-server", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("reference-server");
    let out = run.wait_with_output().expect("wait");
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(said(&out).contains("1 case: 1 OK"), "{}", said(&out));
    // Nobody ever listens: exit 3 once the time is up, saying so.
    let started = std::time::Instant::now();
    let out = wsspec(&["run", &url, "--cases", "1.1.1", "--wait-for-target", "0.6"]);
    assert_eq!(out.status.code(), Some(3), "{}", said(&out));
    assert!(
        said(&out).contains("after --wait-for-target"),
        "{}",
        said(&out)
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(600));
    // Without it, at once.
    let out = wsspec(&["run", &url, "--cases", "1.1.1"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(!said(&out).contains("--wait-for-target"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_closing_recap_lists_at_most_forty_cases_and_counts_the_rest() {
    // Every handshake refused: every case of groups 1, 2, 3 and 5 fails.
    let url = raw_server::serve(Some(std::time::Duration::from_secs(5)), |stream, _| {
        use std::io::Write;
        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    let dir = std::env::temp_dir().join(format!("wsspec-recap-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args([
            "run", &url, "--cases", "1.*", "--cases", "2.*", "--cases", "3.*",
        ])
        .args(["--cases", "5.*", "--report-dir"])
        .arg(&dir)
        .env("CI", "1")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let (head, recap) = stdout
        .split_once(" not passing, in case order:\n")
        .unwrap_or_else(|| panic!("no recap:\n{stdout}"));
    let failing: usize = head
        .rsplit('\n')
        .next()
        .and_then(|l| l.trim_end_matches(" cases").parse().ok())
        .unwrap_or_else(|| panic!("no count:\n{stdout}"));
    assert!(failing > 40, "{stdout}");
    let listed = recap
        .lines()
        .take_while(|l| l.starts_with("  FAILED "))
        .count();
    assert_eq!(listed, 40, "{stdout}");
    let more = format!(
        "  … and {} more (each was shown as it finished; all are in the reports)",
        failing - 40
    );
    assert_eq!(recap.lines().nth(40), Some(more.as_str()), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
