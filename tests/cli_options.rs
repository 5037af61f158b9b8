//! `wsspec run`'s documented options, end to end: each test runs the binary
//! against the reference peer (embedded, or `wsspec reference-server` as a
//! child process) and shows what the option changes in the reports —
//! `--header`, `--origin` and `--subprotocol` in the recorded request bytes,
//! `--seed` in keys and masks, `--cases`/`--exclude`/`--cases-dir` in the ids
//! run, `--jobs`, `--case-timeout` and `--timeout-scale` in timings,
//! `--junit`/`--html`/`--json`/`--report-dir`/`--autobahn-json` in where files
//! land, `--agent` and `-v` in what is printed — plus every exit code of `run`
//! from README's table (0, 1 for FAILED, NON-STRICT with and without
//! `--strict`, 2 for usage errors and malformed case files, 3 for an
//! unreachable target). The case files it adds live in
//! `tests/data/cli_options/`.

#[path = "common/raw_server.rs"]
mod raw_server;
#[path = "common/reference_server.rs"]
mod reference_server;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reference_server::{free_port, ReferenceServer};

use serde_json::Value;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn wsspec() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wsspec"));
    // No progress line on the terminal: stderr holds only what tests read.
    c.env("CI", "1");
    c
}

/// The case files of this test (`cliopt.*`), all valid.
fn fixture_cases() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/cli_options/cases")
}

/// A folder holding one malformed case file, `broken.yaml`.
fn fixture_broken() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/cli_options/broken")
}

/// A fresh temporary folder (not created), removed when dropped.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str) -> Temp {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("wsspec-cliopt-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Temp(dir)
    }

    fn join(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A finished `wsspec` process.
struct Ran {
    args: Vec<String>,
    out: Output,
}

impl Ran {
    fn code(&self) -> Option<i32> {
        self.out.status.code()
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    /// The command line and both streams, for assertion messages.
    fn describe(&self) -> String {
        format!(
            "wsspec {}\nexit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args.join(" "),
            self.code(),
            self.stdout(),
            self.stderr()
        )
    }

    fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), Some(code), "{}", self.describe());
        self
    }
}

/// Runs `wsspec ARGS...` to completion.
fn wsspec_run(args: Vec<OsString>) -> Ran {
    let out = wsspec().args(&args).output().expect("start wsspec");
    Ran {
        args: args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        out,
    }
}

/// Builds an argument list from `&str`s and paths.
macro_rules! args {
    ($($a:expr),* $(,)?) => {
        vec![$(OsString::from($a)),*]
    };
}

/// Parses a results.json.
fn results(path: &Path, ran: &Ran) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", path.display(), ran.describe()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cases(results: &Value) -> &Vec<Value> {
    results["cases"].as_array().expect("`cases` is an array")
}

fn case<'a>(results: &'a Value, id: &str) -> &'a Value {
    cases(results)
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id} in results.json"))
}

/// The ids in results.json, in report order.
fn ids(results: &Value) -> Vec<String> {
    cases(results)
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect()
}

/// Case id → outcome.
fn outcomes(results: &Value) -> BTreeMap<String, String> {
    cases(results)
        .iter()
        .map(|c| {
            (
                c["id"].as_str().expect("id").to_string(),
                c["verdict"]["outcome"]
                    .as_str()
                    .expect("outcome")
                    .to_string(),
            )
        })
        .collect()
}

fn count(results: &Value, outcome: &str) -> u64 {
    results["counts"][outcome].as_u64().expect("a count")
}

fn events(case: &Value) -> impl Iterator<Item = &Value> {
    case["transcript"]["events"]
        .as_array()
        .expect("transcript events")
        .iter()
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The opening request a case wrote, as recorded (`request_sent`): its text
/// and its SHA-256.
fn request(case: &Value) -> (String, String) {
    let ev = events(case)
        .find(|e| e["event"] == "request_sent")
        .unwrap_or_else(|| panic!("no request_sent in {}", case["id"]));
    let raw = &ev["raw"];
    let head = unhex(raw["head"].as_str().expect("head"));
    assert_eq!(
        raw["len"].as_u64(),
        Some(head.len() as u64),
        "the request of {} is recorded whole",
        case["id"]
    );
    (
        String::from_utf8_lossy(&head).into_owned(),
        raw["sha256"].as_str().expect("sha256").to_string(),
    )
}

/// The masking keys of every frame a case sent, in order.
fn masks(case: &Value) -> Vec<Value> {
    events(case)
        .filter(|e| e["event"] == "frame_sent")
        .map(|e| e["frame"]["head"]["mask"].clone())
        .collect()
}

// ---------------------------------------------------------------------------
// Handshake options
// ---------------------------------------------------------------------------

#[test]
fn header_origin_and_subprotocol_are_in_every_recorded_request() {
    let with = Temp::new("hdr");
    // 1.1.1 writes the standard request; hs.1.3 a raw one with `{headers}`.
    let ran = wsspec_run(args![
        "run",
        "--cases",
        "1.1.1",
        "--cases",
        "hs.1.3",
        "--header",
        "X-Probe: abc",
        "--header",
        "X-Second:two",
        "--origin",
        "http://example.test",
        "--subprotocol",
        "chat",
        "--subprotocol",
        "superchat",
        "--report-dir",
        &with.0,
    ]);
    ran.expect_code(0);
    let r = results(&with.join("results.json"), &ran);
    assert_eq!(ids(&r), ["1.1.1", "hs.1.3"], "{}", ran.describe());
    for c in cases(&r) {
        let (req, _) = request(c);
        for line in [
            "\r\nX-Probe: abc\r\n",
            "\r\nX-Second: two\r\n",
            "\r\nOrigin: http://example.test\r\n",
            "\r\nSec-WebSocket-Protocol: chat, superchat\r\n",
        ] {
            assert!(
                req.contains(line),
                "{}: {line:?} missing from the request:\n{req}",
                c["id"]
            );
        }
        assert!(req.ends_with("\r\n\r\n"), "{}: {req:?}", c["id"]);
        assert_eq!(c["verdict"]["outcome"], "OK", "{}", c["id"]);
    }

    // Without the options none of it is sent.
    let without = Temp::new("nohdr");
    let ran = wsspec_run(args![
        "run",
        "--cases",
        "1.1.1",
        "--cases",
        "hs.1.3",
        "--report-dir",
        &without.0
    ]);
    ran.expect_code(0);
    let r = results(&without.join("results.json"), &ran);
    for c in cases(&r) {
        let (req, _) = request(c);
        for name in ["X-Probe", "X-Second", "Origin", "Sec-WebSocket-Protocol"] {
            assert!(
                !req.contains(name),
                "{}: {name} sent unasked:\n{req}",
                c["id"]
            );
        }
    }
}

#[test]
fn seed_fixes_handshake_keys_and_masks() {
    // One server for all three runs, so that the Host header is the same.
    let server = ReferenceServer::start();
    let url = server.url();
    let dirs = [Temp::new("seed1a"), Temp::new("seed1b"), Temp::new("seed2")];
    let runs: Vec<Value> = [("1", &dirs[0]), ("1", &dirs[1]), ("2", &dirs[2])]
        .iter()
        .map(|(seed, dir)| {
            let ran = wsspec_run(args![
                "run",
                &url,
                "--cases",
                "1.1.1",
                "--cases",
                "1.1.2",
                "--cases",
                "2.2",
                "--seed",
                *seed,
                "--report-dir",
                &dir.0,
            ]);
            ran.expect_code(0);
            results(&dir.join("results.json"), &ran)
        })
        .collect();
    let key = |req: &str| {
        req.lines()
            .find(|l| l.starts_with("Sec-WebSocket-Key: "))
            .expect("a key line")
            .to_string()
    };
    for id in ["1.1.1", "1.1.2", "2.2"] {
        let (a, b, other) = (case(&runs[0], id), case(&runs[1], id), case(&runs[2], id));
        // Same seed: the same request bytes and the same mask keys.
        assert_eq!(request(a), request(b), "{id}: --seed 1 twice");
        assert_eq!(masks(a), masks(b), "{id}: --seed 1 twice");
        assert!(masks(a).len() >= 2, "{id}: a data frame and a close");
        // Another seed: another key and other masks.
        let (ra, _) = request(a);
        let (ro, _) = request(other);
        assert_ne!(key(&ra), key(&ro), "{id}: --seed 1 and --seed 2");
        assert_ne!(masks(a), masks(other), "{id}: --seed 1 and --seed 2");
        for (m1, m2) in masks(a).iter().zip(masks(other).iter()) {
            assert_ne!(m1, m2, "{id}: a mask key repeated across seeds");
        }
    }
    // Within a run the cases' keys differ (the case id is part of the seed).
    let (r1, _) = request(case(&runs[0], "1.1.1"));
    let (r2, _) = request(case(&runs[0], "1.1.2"));
    assert_ne!(key(&r1), key(&r2));
}

// ---------------------------------------------------------------------------
// Selecting cases
// ---------------------------------------------------------------------------

#[test]
fn exclude_removes_exactly_the_ids_it_matches() {
    let run = |extra: &[&str]| {
        let dir = Temp::new("exclude");
        let mut a = args![
            "run",
            "--cases",
            "1.1.*",
            "--cases",
            "2.1",
            "--report-dir",
            &dir.0
        ];
        a.extend(extra.iter().map(OsString::from));
        let ran = wsspec_run(a);
        ran.expect_code(0);
        let r = results(&dir.join("results.json"), &ran);
        assert_eq!(
            count(&r, "OK") as usize,
            ids(&r).len(),
            "{}",
            ran.describe()
        );
        ids(&r)
    };
    let all: Vec<String> = (1..=8)
        .map(|n| format!("1.1.{n}"))
        .chain(["2.1".to_string()])
        .collect();
    assert_eq!(run(&[]), all);
    assert_eq!(run(&["--exclude", "1.*"]), ["2.1"]);
    let mut some = all.clone();
    some.retain(|id| id != "1.1.2" && id != "1.1.7");
    assert_eq!(
        run(&["--exclude", "1.1.2", "--exclude", "1.1.7"]),
        some,
        "two --exclude take out exactly two ids"
    );
    // `2.1` matches whole ids: 2.10 and 2.11 were never selected, and 2.1 stays.
    assert_eq!(run(&["--exclude", "2.1?"]).len(), 9);
}

#[test]
fn cases_dir_adds_the_cases_of_its_files() {
    let dir = Temp::new("casesdir");
    let ran = wsspec_run(args![
        "run",
        "--cases-dir",
        fixture_cases(),
        "--cases",
        "cliopt.echo",
        "--report-dir",
        &dir.0,
    ]);
    ran.expect_code(0);
    let r = results(&dir.join("results.json"), &ran);
    assert_eq!(ids(&r), ["cliopt.echo"], "{}", ran.describe());
    let c = case(&r, "cliopt.echo");
    assert_eq!(
        c["title"],
        "a text message is echoed (passes against the reference server)"
    );
    assert_eq!(c["group"], "cliopt");
    assert_eq!(c["verdict"]["outcome"], "OK");
    // The message the file describes is the one on the wire.
    let sent = events(c)
        .find(|e| e["event"] == "message_sent")
        .expect("a message sent");
    assert_eq!(sent["message"]["payload"]["head"], "70726f6265"); // "probe"

    // Without --cases-dir the id is unknown: a usage error.
    let ran = wsspec_run(args![
        "run",
        "--cases",
        "cliopt.echo",
        "--report-dir",
        dir.join("none")
    ]);
    ran.expect_code(2);
    assert!(
        ran.stderr().contains("no case matches"),
        "{}",
        ran.describe()
    );
}

#[test]
fn a_malformed_case_file_exits_2_with_file_line_column() {
    let dir = Temp::new("broken");
    let file = fixture_broken().join("broken.yaml");
    let at = format!("{}:10:24: ", file.display());
    let commands: [Vec<OsString>; 3] = [
        args![
            "run",
            "--cases-dir",
            fixture_broken(),
            "--cases",
            "1.1.1",
            "--report-dir",
            &dir.0
        ],
        args!["list", "--cases-dir", fixture_broken()],
        args!["check", fixture_broken()],
    ];
    for a in commands {
        let ran = wsspec_run(a);
        ran.expect_code(2);
        let err = ran.stderr();
        assert!(
            err.contains(&at) && err.contains("opcode 16 does not fit in 4 bits"),
            "expected `{at}opcode 16 …`:\n{}",
            ran.describe()
        );
    }
    assert!(
        !dir.0.exists(),
        "a run stopped by a malformed case file writes no reports"
    );
}

// ---------------------------------------------------------------------------
// Concurrency and time
// ---------------------------------------------------------------------------

#[test]
fn jobs_1_runs_cases_one_at_a_time_with_the_same_verdicts() {
    let run = |jobs: &str| {
        let dir = Temp::new("jobs");
        let ran = wsspec_run(args![
            "run",
            "--cases-dir",
            fixture_cases(),
            "--cases",
            "cliopt.pause.*",
            "--cases",
            "1.1.*",
            "--cases",
            "2.*",
            "--jobs",
            jobs,
            "--report-dir",
            &dir.0,
        ]);
        ran.expect_code(0);
        let r = results(&dir.join("results.json"), &ran);
        let wall = r["wall_ms"].as_f64().expect("wall_ms");
        let pauses: f64 = cases(&r)
            .iter()
            .filter(|c| c["id"].as_str().is_some_and(|id| id.starts_with("cliopt.")))
            .map(|c| c["duration_ms"].as_f64().expect("duration_ms"))
            .sum();
        (outcomes(&r), wall, pauses)
    };
    let (one, wall_one, pauses_one) = run("1");
    let (many, wall_many, pauses_many) = run("16");
    assert_eq!(one.len(), 8 + 11 + 4);
    assert!(one.values().all(|o| o == "OK"), "{one:?}");
    assert_eq!(one, many, "--jobs 1 and --jobs 16 give the same verdicts");
    // Four 300 ms pauses: one at a time they add up; 16 at once they overlap.
    assert!(pauses_one >= 1200.0 && pauses_many >= 1200.0);
    assert!(
        wall_one >= pauses_one,
        "--jobs 1: the run ({wall_one} ms) is at least the sum of its cases ({pauses_one} ms)"
    );
    assert!(
        wall_many < pauses_many - 400.0,
        "--jobs 16: the pauses overlap (run {wall_many} ms, pauses {pauses_many} ms)"
    );
}

/// Runs the case `cliopt.hang` (a 10 s wait for an end that never comes)
/// with `extra` options; its deadline event's `after_ms` and its duration.
fn hang(extra: &[&str]) -> (u64, f64) {
    let dir = Temp::new("hang");
    let mut a = args![
        "run",
        "--cases-dir",
        fixture_cases(),
        "--cases",
        "cliopt.hang",
        "--report-dir",
        &dir.0
    ];
    a.extend(extra.iter().map(OsString::from));
    let started = Instant::now();
    let ran = wsspec_run(a);
    let elapsed = started.elapsed();
    ran.expect_code(0);
    assert!(
        elapsed < Duration::from_secs(8),
        "the run took {elapsed:?}\n{}",
        ran.describe()
    );
    let r = results(&dir.join("results.json"), &ran);
    let c = case(&r, "cliopt.hang");
    let deadline = events(c)
        .find(|e| e["event"] == "deadline")
        .unwrap_or_else(|| panic!("no deadline event:\n{c:#}"));
    assert!(
        !events(c).any(|e| e["event"] == "wait_timed_out"),
        "the deadline came before the wait's own 10 s timeout"
    );
    (
        deadline["after_ms"].as_u64().expect("after_ms"),
        c["duration_ms"].as_f64().expect("duration_ms"),
    )
}

#[test]
fn case_timeout_ends_a_stuck_case_at_its_deadline() {
    let (after, duration) = hang(&["--case-timeout", "1"]);
    assert_eq!(after, 1000);
    assert!(
        (950.0..2500.0).contains(&duration),
        "a 1 s deadline ended the case after {duration} ms"
    );
    let (after, duration) = hang(&["--case-timeout", "0.3"]);
    assert_eq!(after, 300);
    assert!(
        (280.0..1800.0).contains(&duration),
        "a 0.3 s deadline ended the case after {duration} ms"
    );
}

#[test]
fn timeout_scale_multiplies_the_case_deadline() {
    let (after, duration) = hang(&["--case-timeout", "1", "--timeout-scale", "0.5"]);
    assert_eq!(after, 500);
    assert!(
        (480.0..2000.0).contains(&duration),
        "a 1 s deadline scaled by 0.5 ended the case after {duration} ms"
    );
}

// ---------------------------------------------------------------------------
// Where reports go, and what they name
// ---------------------------------------------------------------------------

#[test]
fn junit_html_and_json_go_exactly_where_named() {
    let tmp = Temp::new("paths");
    let (junit, html, json, dir) = (
        tmp.join("a/j.xml"),
        tmp.join("b/r.html"),
        tmp.join("c/r.json"),
        tmp.join("reports"),
    );
    let ran = wsspec_run(args![
        "run",
        "--cases",
        "1.1.1",
        "--cases",
        "2.2",
        "--junit",
        &junit,
        "--html",
        &html,
        "--json",
        &json,
        "--report-dir",
        &dir,
    ]);
    ran.expect_code(0);
    let r = results(&json, &ran);
    assert_eq!(ids(&r), ["1.1.1", "2.2"]);
    let xml = std::fs::read_to_string(&junit).expect("junit");
    let doc = roxmltree::Document::parse(&xml).expect("JUnit is XML");
    let names: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .filter_map(|n| n.attribute("name"))
        .collect();
    assert_eq!(names.len(), 2, "{xml}");
    assert!(
        names.iter().any(|n| n.contains("1.1.1")) && names.iter().any(|n| n.contains("2.2")),
        "{names:?}"
    );
    let page = std::fs::read_to_string(&html).expect("html");
    assert!(page.contains("<html") && page.contains("1.1.1") && page.contains("2.2"));
    assert!(
        !dir.exists(),
        "--report-dir got files although every report was named: {:?}",
        std::fs::read_dir(&dir).map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
    );

    // Only --json named: the other two still go to --report-dir.
    let json2 = tmp.join("d/only.json");
    let dir2 = tmp.join("reports2");
    let ran = wsspec_run(args![
        "run",
        "--cases",
        "1.1.1",
        "--json",
        &json2,
        "--report-dir",
        &dir2
    ]);
    ran.expect_code(0);
    assert_eq!(ids(&results(&json2, &ran)), ["1.1.1"]);
    assert!(dir2.join("junit.xml").is_file() && dir2.join("index.html").is_file());
    assert!(!dir2.join("results.json").exists());
}

#[test]
fn the_compression_ratio_each_way_is_in_every_report() {
    // pmd.3.16 sends 4 KiB of JSON compressed and gets it back compressed;
    // 1.1.1 compresses nothing and says nothing of compression.
    let tmp = Temp::new("ratio");
    let dir = tmp.join("reports");
    let ran = wsspec_run(args![
        "run",
        "--cases",
        "pmd.3.16",
        "--cases",
        "1.1.1",
        "--report-dir",
        &dir
    ]);
    ran.expect_code(0);
    let r = results(&dir.join("results.json"), &ran);
    let c = &case(&r, "pmd.3.16")["compression"];
    for way in ["sent", "received"] {
        assert_eq!(c[way]["messages"], 1, "{way}: {c}");
        assert_eq!(c[way]["inflated_bytes"], 4096, "{way}: {c}");
        let wire = c[way]["wire_bytes"].as_u64().expect("wire_bytes");
        assert!(
            wire > 100 && wire < 2048,
            "{way}: {wire} bytes for 4 KiB of JSON"
        );
    }
    assert!(case(&r, "1.1.1").get("compression").is_none());
    let line = ran
        .stdout()
        .lines()
        .find(|l| l.starts_with("compression: "))
        .unwrap_or_else(|| panic!("no compression line\n{}", ran.describe()))
        .to_string();
    assert!(
        line.contains("sent 1 message, 4.0 KiB → ")
            && line.contains("; received 1 message, 4.0 KiB → "),
        "{line}"
    );
    let page = std::fs::read_to_string(dir.join("index.html")).expect("html");
    assert!(
        page.matches("<dt>Compression</dt><dd>sent 1 message, 4.0 KiB → ")
            .count()
            == 2,
        "the run's header and pmd.3.16's details"
    );
    let xml = std::fs::read_to_string(dir.join("junit.xml")).expect("junit");
    assert_eq!(
        xml.matches("Compression: sent 1 message, 4.0 KiB → ")
            .count(),
        1
    );
}

#[test]
fn agent_and_autobahn_json_name_the_target_in_reports() {
    let tmp = Temp::new("agent");
    let (dir, ab) = (tmp.join("reports"), tmp.join("autobahn"));
    let ran = wsspec_run(args![
        "run",
        "--cases",
        "1.1.1",
        "--cases",
        "2.2",
        "--agent",
        "my-server",
        "--autobahn-json",
        &ab,
        "--report-dir",
        &dir,
    ]);
    ran.expect_code(0);
    let r = results(&dir.join("results.json"), &ran);
    assert_eq!(r["agent"], "my-server");
    assert!(
        ran.stdout().contains("agent my-server"),
        "{}",
        ran.describe()
    );
    let page = std::fs::read_to_string(dir.join("index.html")).expect("html");
    assert!(
        page.contains("my-server"),
        "the HTML report names the agent"
    );

    let index: Value = serde_json::from_str(
        &std::fs::read_to_string(ab.join("index.json")).expect("autobahn index.json"),
    )
    .expect("index.json parses");
    let entries = index["my-server"]
        .as_object()
        .unwrap_or_else(|| panic!("index.json is keyed by the agent: {index:#}"));
    assert_eq!(
        entries.keys().collect::<Vec<_>>(),
        ["1.1.1", "2.2"],
        "{index:#}"
    );
    for (id, e) in entries {
        assert_eq!(e["behavior"], "OK", "{id}");
        let file = e["reportfile"].as_str().expect("reportfile");
        assert!(ab.join(file).is_file(), "{id}: {file} missing");
    }

    // Without --agent the target's host:port names it.
    let dir2 = tmp.join("reports2");
    let ran = wsspec_run(args!["run", "--cases", "1.1.1", "--report-dir", &dir2]);
    ran.expect_code(0);
    let r = results(&dir2.join("results.json"), &ran);
    let target = r["target"].as_str().expect("target");
    assert_eq!(
        Some(r["agent"].as_str().expect("agent")),
        target
            .strip_prefix("ws://")
            .and_then(|t| t.strip_suffix('/'))
    );
}

#[test]
fn verbose_prints_a_line_for_every_case() {
    let line_for = |text: &str, id: &str| {
        text.lines()
            .any(|l| l.starts_with("OK") && l.split_whitespace().nth(1) == Some(id))
    };
    let dir = Temp::new("verbose");
    let quiet = wsspec_run(args![
        "run",
        "--cases",
        "1.1.1",
        "--cases",
        "2.2",
        "--report-dir",
        &dir.0
    ]);
    quiet.expect_code(0);
    let all = format!("{}{}", quiet.stdout(), quiet.stderr());
    assert!(
        !line_for(&all, "1.1.1") && !line_for(&all, "2.2"),
        "{}",
        quiet.describe()
    );
    let loud = wsspec_run(args![
        "run",
        "--cases",
        "1.1.1",
        "--cases",
        "2.2",
        "-v",
        "--report-dir",
        &dir.0
    ]);
    loud.expect_code(0);
    let all = format!("{}{}", loud.stdout(), loud.stderr());
    assert!(
        line_for(&all, "1.1.1") && line_for(&all, "2.2"),
        "{}",
        loud.describe()
    );
}

// ---------------------------------------------------------------------------
// Exit codes
// ---------------------------------------------------------------------------

#[test]
fn exit_0_when_every_case_passes_and_1_when_one_failed() {
    let dir = Temp::new("fail");
    let run = |selection: &[&str]| {
        let mut a = args![
            "run",
            "--cases-dir",
            fixture_cases(),
            "--report-dir",
            &dir.0
        ];
        for s in selection {
            a.extend(args!["--cases", *s]);
        }
        let ran = wsspec_run(a);
        let r = results(&dir.join("results.json"), &ran);
        (ran, r)
    };
    let (ran, r) = run(&["cliopt.echo"]);
    ran.expect_code(0);
    assert_eq!(count(&r, "OK"), 1);

    let (ran, r) = run(&["cliopt.echo", "cliopt.fail"]);
    ran.expect_code(1);
    assert_eq!((count(&r, "OK"), count(&r, "FAILED")), (1, 1));
    assert_eq!(case(&r, "cliopt.fail")["verdict"]["behavior"], "FAILED");
    assert!(
        ran.stdout().contains("1 FAILED") && ran.stderr().contains("cliopt.fail"),
        "{}",
        ran.describe()
    );
}

#[test]
fn non_strict_exits_0_without_strict_and_1_with_it() {
    let dir = Temp::new("strict");
    let run = |strict: bool| {
        let mut a = args![
            "run",
            "--cases-dir",
            fixture_cases(),
            "--cases",
            "cliopt.nonstrict",
            "--cases",
            "cliopt.echo",
            "--report-dir",
            &dir.0
        ];
        if strict {
            a.push("--strict".into());
        }
        let ran = wsspec_run(a);
        let r = results(&dir.join("results.json"), &ran);
        (ran, r)
    };
    let (ran, r) = run(false);
    ran.expect_code(0);
    assert_eq!(r["strict"], false);
    assert_eq!((count(&r, "OK"), count(&r, "NON-STRICT")), (1, 1));
    assert_eq!(
        case(&r, "cliopt.nonstrict")["verdict"]["outcome"],
        "NON-STRICT"
    );

    let (ran, r) = run(true);
    ran.expect_code(1);
    assert_eq!(r["strict"], true);
    assert_eq!((count(&r, "OK"), count(&r, "NON-STRICT")), (1, 1));
}

#[test]
fn an_unreachable_target_exits_3_and_writes_no_reports() {
    let dir = Temp::new("unreachable");
    // Bound and closed again: nothing listens there.
    let port = free_port();
    let url = format!("ws://127.0.0.1:{port}/");
    let ran = wsspec_run(args![
        "run",
        &url,
        "--cases",
        "1.1.*",
        "--report-dir",
        &dir.0
    ]);
    ran.expect_code(3);
    assert!(
        ran.stderr().contains(&format!("cannot reach {url}"))
            || ran
                .stderr()
                .contains(&format!("cannot reach 127.0.0.1:{port}")),
        "{}",
        ran.describe()
    );
    assert!(!dir.0.exists(), "reports written for a run that never ran");
}

#[test]
fn usage_errors_exit_2_and_write_no_reports() {
    let dir = Temp::new("usage");
    // Each is a complete selection plus one bad option (or a selection that
    // selects nothing).
    let bad: [&[&str]; 9] = [
        &["--cases", "1.1.1", "--no-such-option"],
        &["--cases", "1.1.1", "--jobs", "many"],
        &["--cases", "1.1.1", "--seed", "-1"],
        &["--cases", "1.1.1", "--header", "no colon here"],
        &["--cases", "1.1.1", "--case-timeout", "0"],
        &["--cases", "1.1.1", "--timeout-scale", "-2"],
        &["--cases", "1.1.1", "--snapshots-update"],
        &["--cases", "no.such.case"],
        &["--cases", "1.1.1", "--exclude", "1.*"],
    ];
    for extra in bad {
        let mut a = args!["run", "--report-dir", &dir.0];
        a.extend(extra.iter().map(OsString::from));
        let ran = wsspec_run(a);
        ran.expect_code(2);
        assert!(!ran.stderr().trim().is_empty(), "{}", ran.describe());
        assert!(!dir.0.exists(), "reports written:\n{}", ran.describe());
    }
    // A URL that is not ws://.
    let ran = wsspec_run(args![
        "run",
        "http://127.0.0.1:1/",
        "--cases",
        "1.1.1",
        "--report-dir",
        &dir.0
    ]);
    ran.expect_code(2);
}

// ---------------------------------------------------------------------------
// The reference server as a binary
// ---------------------------------------------------------------------------

#[test]
fn reference_server_binary_answers_a_run() {
    let server = ReferenceServer::start();
    let dir = Temp::new("refserver");
    let url = server.url();
    let ran = wsspec_run(args![
        "run",
        &url,
        "--cases",
        "1.1.1",
        "--report-dir",
        &dir.0
    ]);
    ran.expect_code(0);
    let r = results(&dir.join("results.json"), &ran);
    assert_eq!(r["target"], url.as_str());
    assert_eq!(r["agent"], format!("127.0.0.1:{}", server.port));
    assert_eq!(
        outcomes(&r),
        BTreeMap::from([("1.1.1".into(), "OK".into())])
    );
    assert!(
        !ran.stderr().contains("embedded reference server"),
        "a URL was given: {}",
        ran.describe()
    );
    let (req, _) = request(case(&r, "1.1.1"));
    assert!(
        req.contains(&format!("\r\nHost: 127.0.0.1:{}\r\n", server.port)),
        "{req}"
    );
}

// ---------------------------------------------------------------------------
// Limits: --handshake-timeout, --run-timeout, --max-header-size, --max-events
// ---------------------------------------------------------------------------

/// A server that accepts connections and never answers (nor reads).
fn silent_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}/", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    url
}

/// A server that answers the upgrade with `padding` bytes of extra headers
/// first, then echoes nothing and closes after a second.
fn padded_server(padding: usize) -> String {
    raw_server::serve(None, move |stream, head| {
        let status_line = "HTTP/1.1 101 Switching Protocols\r\n".len();
        let mut extra = String::new();
        while status_line + extra.len() < padding {
            extra.push_str("X-Padding: 0123456789abcdef0123456789abcdef\r\n");
        }
        let response = raw_server::switching_protocols(head, &extra);
        let _ = stream.write_all(response.as_bytes());
        std::thread::sleep(Duration::from_secs(1));
    })
}

#[test]
fn handshake_and_run_timeouts_bound_a_run_against_a_silent_server() {
    let tmp = Temp::new("silent");
    let url = silent_server();
    // Three cases one at a time, each waiting 1 s for a response head.
    let started = Instant::now();
    let ran = wsspec_run(args![
        "run",
        &url,
        "--cases",
        "2.1",
        "--cases",
        "2.2",
        "--cases",
        "2.3",
        "--jobs",
        "1",
        "--handshake-timeout",
        "1",
        "--report-dir",
        tmp.join("a")
    ]);
    let wall = started.elapsed();
    ran.expect_code(1);
    assert!(
        wall >= Duration::from_secs(3) && wall < Duration::from_secs(9),
        "three 1 s handshake timeouts took {wall:?}\n{}",
        ran.describe()
    );
    let r = results(&tmp.join("a/results.json"), &ran);
    for id in ["2.1", "2.2", "2.3"] {
        let reason = case(&r, id)["verdict"]["behavior_reason"]
            .as_str()
            .unwrap_or("")
            .to_string();
        assert!(reason.contains("within 1000 ms"), "{id}: {reason}");
    }

    // With --run-timeout, the first case runs out its 2 s and the others are
    // not started.
    let started = Instant::now();
    let ran = wsspec_run(args![
        "run",
        &url,
        "--cases",
        "2.*",
        "--jobs",
        "1",
        "--handshake-timeout",
        "2",
        "--run-timeout",
        "0.5",
        "--report-dir",
        tmp.join("b")
    ]);
    let wall = started.elapsed();
    ran.expect_code(1);
    assert!(
        wall < Duration::from_secs(6),
        "{wall:?}\n{}",
        ran.describe()
    );
    let r = results(&tmp.join("b/results.json"), &ran);
    let all = cases(&r);
    assert_eq!(all.len(), 11, "every selected case has a result");
    let not_started: Vec<&Value> = all
        .iter()
        .filter(|c| {
            c["verdict"]["behavior_reason"]
                .as_str()
                .is_some_and(|s| s.contains("--run-timeout (500 ms)"))
        })
        .collect();
    assert_eq!(not_started.len(), 10, "{}", ran.describe());
    assert!(not_started
        .iter()
        .all(|c| c["verdict"]["outcome"] == "ERROR"));
    for bad in ["0", "-1", "nan"] {
        let ran = wsspec_run(args![
            "run",
            format!("--run-timeout={bad}"),
            "--cases",
            "1.1.1"
        ]);
        assert_eq!(ran.code(), Some(2), "{}", ran.describe());
        assert!(ran.stderr().contains("--run-timeout"), "{}", ran.describe());
    }
}

#[test]
fn a_response_head_past_max_header_size_is_an_error_that_names_the_option() {
    let tmp = Temp::new("headers");
    // About 20 KiB of headers: past the default 16 KiB.
    let url = padded_server(20 * 1024);
    let ran = wsspec_run(args![
        "run",
        &url,
        "--cases",
        "1.1.1",
        "--report-dir",
        tmp.join("a")
    ]);
    ran.expect_code(1);
    let r = results(&tmp.join("a/results.json"), &ran);
    let v = &case(&r, "1.1.1")["verdict"];
    assert_eq!(v["outcome"], "ERROR", "{v}");
    assert!(
        v["behavior_reason"]
            .as_str()
            .is_some_and(|s| s.contains("16384 bytes") && s.contains("raise --max-header-size")),
        "{v}"
    );
    // Raised, the same server's head is read and the case goes on to be
    // judged on what the server does (it never echoes).
    let ran = wsspec_run(args![
        "run",
        &url,
        "--cases",
        "1.1.1",
        "--max-header-size",
        "64K",
        "--report-dir",
        tmp.join("b")
    ]);
    let r = results(&tmp.join("b/results.json"), &ran);
    let v = &case(&r, "1.1.1")["verdict"];
    assert_eq!(v["outcome"], "FAILED", "{v}");
    assert!(
        !v["behavior_reason"]
            .as_str()
            .unwrap_or("")
            .contains("max-header-size"),
        "{v}"
    );
    for bad in ["12", "1G"] {
        let ran = wsspec_run(args![
            "run",
            format!("--max-header-size={bad}"),
            "--cases",
            "1.1.1"
        ]);
        assert_eq!(ran.code(), Some(2), "{}", ran.describe());
    }
}

/// A server that answers the upgrade and then reads everything and sends
/// nothing, ever.
fn stalling_server() -> String {
    raw_server::serve(None, |stream, head| {
        let _ = raw_server::switch(stream, head);
        let mut sink = [0u8; 65536];
        while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    })
}

/// The cases whose reason says the run gave up on a quiet target.
fn given_up(r: &Value) -> usize {
    cases(r)
        .iter()
        .filter(|c| {
            c["verdict"]["outcome"] == "ERROR"
                && c["verdict"]["behavior_reason"]
                    .as_str()
                    .is_some_and(|s| s.contains("the target went quiet"))
        })
        .count()
}

#[test]
fn a_target_that_never_answers_is_given_up_on_unless_asked_not_to() {
    let tmp = Temp::new("quiet");
    let url = silent_server();
    // 1.1.* and 1.2.*: 16 cases, two at a time. Two waves get no response
    // head within 1 s; at the third quiet case the check finds the target
    // still silent, and the cases not yet started are not started.
    let started = Instant::now();
    let ran = wsspec_run(args![
        "run",
        &url,
        "--cases",
        "1.*",
        "--jobs",
        "2",
        "--handshake-timeout",
        "1",
        "--report-dir",
        tmp.join("a")
    ]);
    let wall = started.elapsed();
    ran.expect_code(1);
    let r = results(&tmp.join("a/results.json"), &ran);
    assert_eq!(cases(&r).len(), 16);
    assert!(given_up(&r) >= 10, "{}", ran.describe());
    assert!(wall < Duration::from_secs(8), "{wall:?}");

    let ran = wsspec_run(args![
        "run",
        &url,
        "--cases",
        "1.1.*",
        "--handshake-timeout",
        "1",
        "--jobs",
        "2",
        "--no-give-up",
        "--report-dir",
        tmp.join("b")
    ]);
    let r = results(&tmp.join("b/results.json"), &ran);
    assert_eq!(given_up(&r), 0, "{}", ran.describe());
    assert!(cases(&r).iter().all(|c| c["verdict"]["behavior_reason"]
        .as_str()
        .is_some_and(|s| s.contains("within 1000 ms"))));
}

#[test]
fn a_target_that_stalls_after_the_upgrade_costs_the_stall_timeout_not_the_deadline() {
    let tmp = Temp::new("stall");
    let url = stalling_server();
    // 9.1.1-9.1.6 wait up to 100 s for their echoes. Each wait ends after
    // 1 s of silence instead; after three quiet cases the check (a 101, then
    // a ping with no answer) finds the target stalled and gives up.
    let started = Instant::now();
    let ran = wsspec_run(args![
        "run",
        &url,
        "--cases",
        "9.1.*",
        "--stall-timeout",
        "1",
        "--handshake-timeout",
        "1",
        "--report-dir",
        tmp.join("a")
    ]);
    let wall = started.elapsed();
    ran.expect_code(1);
    let r = results(&tmp.join("a/results.json"), &ran);
    assert_eq!(cases(&r).len(), 6);
    assert_eq!(given_up(&r), 3, "{}", ran.describe());
    let stalled = cases(&r)
        .iter()
        .filter(|c| {
            c["transcript"]["events"].as_array().is_some_and(|events| {
                events
                    .iter()
                    .any(|e| e["event"] == "wait_timed_out" && e["stalled"] == true)
            })
        })
        .count();
    assert_eq!(stalled, 3, "{}", ran.describe());
    assert!(wall < Duration::from_secs(20), "{wall:?}");
}
