//! Reports rendered from recorded runs must not change by accident. Each
//! folder under `tests/fixtures/reports/` holds a `results.json` recorded from
//! a real run (the reference server, deliberately faulty servers, targets that
//! hang up, stall or go away, and `wsspec serve` driven by several clients)
//! and, under `expected/`, every report rendered from it: JUnit, HTML,
//! results.json itself, Autobahn's index.json and per-case files, and each
//! case's snapshot text. Rendering the recorded results again must give the
//! same bytes. The recordings were made before the "one typed path" redesign
//! and prove that it changed no report and no snapshot.
//!
//! After a deliberate report change, render the expected files again from
//! the same recordings and review the diff:
//! `WSSPEC_RERENDER_FIXTURES=1 cargo test --test report_fixtures`.
//! To record new runs: `WSSPEC_RECORD_FIXTURES=1 cargo test --test report_fixtures -- --ignored`.

#[path = "common/faulty.rs"]
mod faulty;
#[path = "common/faulty_client.rs"]
mod faulty_client;
mod common {
    pub mod harness;
}
#[path = "common/peers.rs"]
mod peers;
#[path = "common/serve_proc.rs"]
mod serve_proc;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::harness;
use wsspec::case::{self, Case};
use wsspec::report::{json, FileReports, Layout, Outputs, Reporter, RunEvent};
use wsspec::results::RunResults;
use wsspec::run::{RunOptions, Target};
use wsspec::suite::{self, SuiteConfig};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports")
}

fn all_cases() -> Vec<Case> {
    case::load::load(&case::embedded_sources()).expect("embedded corpus loads")
}

/// Every file rendered from one run, by path relative to `expected/`.
fn rendered(r: &RunResults, cases: &[Case]) -> BTreeMap<String, String> {
    // Written by the report writer itself, into a folder of its own.
    let dir = scratch(&r.agent);
    wsspec::report::write_reports(
        r,
        &Outputs {
            dir: dir.clone(),
            junit: None,
            html: None,
            json: None,
            autobahn_dir: Some(dir.join("autobahn")),
        },
    )
    .expect("reports written");
    let mut out = read_tree(&dir);
    let mut snaps = String::new();
    for (id, body) in harness::snapshot_bodies(r, cases) {
        snaps.push_str(&format!("=== {id}\n{body}"));
    }
    out.insert("snapshots.txt".into(), snaps);
    out
}

/// The overview files `serve` writes over all agents (its per-agent
/// folders are compared run by run).
fn rendered_overview(runs: &[RunResults]) -> BTreeMap<String, String> {
    let dir = scratch("serve-overview");
    let mut files = FileReports {
        layout: Layout::PerAgent { dir: dir.clone() },
    };
    files
        .on_event(&RunEvent::ReportsDue { runs })
        .expect("reports written");
    read_tree(&dir)
        .into_iter()
        .filter(|(name, _)| name == "index.json" || name == "index.html")
        .collect()
}

/// A fresh, empty scratch folder.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wsspec-fixtures-{}-{}",
        std::process::id(),
        wsspec::report::agent_folder(name)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Every file under `dir`, by relative path, and the folder removed.
fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut names = Vec::new();
    list_files(dir, "", &mut names);
    let files = names
        .into_iter()
        .map(|n| {
            let text = std::fs::read_to_string(dir.join(&n)).expect("a written report");
            (n, text)
        })
        .collect();
    let _ = std::fs::remove_dir_all(dir);
    files
}

fn load(path: &Path) -> RunResults {
    let text = std::fs::read_to_string(path).expect("fixture results.json");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The run folders (those holding a results.json), recursively.
fn run_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    if dir.join("results.json").is_file() {
        out.push(dir.to_path_buf());
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !p.ends_with("expected"))
        .collect();
    subs.sort();
    for s in subs {
        run_dirs(&s, out);
    }
}

fn compare(dir: &Path, files: &BTreeMap<String, String>, problems: &mut Vec<String>) {
    for (name, text) in files {
        let path = dir.join("expected").join(name);
        match std::fs::read_to_string(&path) {
            Ok(want) if &want == text => {}
            Ok(want) => {
                let line = want
                    .lines()
                    .zip(text.lines())
                    .position(|(a, b)| a != b)
                    .map(|i| i + 1)
                    .unwrap_or(want.lines().count().min(text.lines().count()) + 1);
                problems.push(format!("{} differs from line {line}", path.display()));
            }
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    let mut on_disk = Vec::new();
    list_files(&dir.join("expected"), "", &mut on_disk);
    for name in on_disk {
        if !files.contains_key(&name) {
            problems.push(format!(
                "{}/expected/{name} is no longer rendered",
                dir.display()
            ));
        }
    }
}

fn list_files(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if e.path().is_dir() {
            list_files(&e.path(), &format!("{name}/"), out);
        } else {
            out.push(name);
        }
    }
}

#[test]
fn reports_render_byte_identical_from_recorded_runs() {
    // A deliberate report change re-renders the expected files from the
    // same recorded runs (review the diff before committing it).
    let rerender = std::env::var_os("WSSPEC_RERENDER_FIXTURES").is_some();
    let cases = all_cases();
    let mut dirs = Vec::new();
    run_dirs(&fixtures(), &mut dirs);
    assert!(
        dirs.len() == 15,
        "expected the 15 recorded runs under {}, found {}",
        fixtures().display(),
        dirs.len()
    );
    let mut problems = Vec::new();
    for dir in &dirs {
        let r = load(&dir.join("results.json"));
        let input = std::fs::read_to_string(dir.join("results.json")).expect("read");
        if json::render(&r) != input {
            problems.push(format!(
                "{}: results.json does not survive a read and a write",
                dir.display()
            ));
        }
        if rerender {
            write_expected(dir, &rendered(&r, &cases));
        } else {
            compare(dir, &rendered(&r, &cases), &mut problems);
        }
    }
    let serve_dir = fixtures().join("serve");
    let runs: Vec<RunResults> = dirs
        .iter()
        .filter(|d| d.parent() == Some(serve_dir.as_path()))
        .map(|d| load(&d.join("results.json")))
        .collect();
    assert_eq!(runs.len(), 3, "three serve agents");
    if rerender {
        write_expected(&serve_dir, &rendered_overview(&runs));
    } else {
        compare(&serve_dir, &rendered_overview(&runs), &mut problems);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------
// Recording.

fn record_run(name: &str, r: &RunResults) {
    let dir = fixtures().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("results.json"), json::render(r)).expect("write");
}

fn write_expected(dir: &Path, files: &BTreeMap<String, String>) {
    let _ = std::fs::remove_dir_all(dir.join("expected"));
    for (name, text) in files {
        let path = dir.join("expected").join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
}

fn run_with(url: &str, cases: &[Case], options: RunOptions, agent: &str) -> RunResults {
    harness::run_as(url, cases, options, agent)
}

/// A raw TCP target that treats each connection with `each` (on its own
/// thread) and stops accepting after `accepts` connections.
fn raw_target(accepts: usize, each: fn(std::net::TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(accepts).flatten() {
            std::thread::spawn(move || each(stream));
        }
    });
    format!("ws://{addr}/")
}

/// Reads a request head and answers it with a correct 101.
fn answer_101(s: &mut std::net::TcpStream) {
    let head = read_head(s);
    let text = String::from_utf8_lossy(&head);
    let key = text
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("sec-websocket-key")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    let accept = wsspec::wire::handshake::accept_for(&key);
    let _ = s.write_all(
        format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").as_bytes(),
    );
}

fn read_head(s: &mut std::net::TcpStream) -> Vec<u8> {
    let mut buf = [0u8; 4096];
    let mut seen = Vec::new();
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    seen
}

#[test]
#[ignore = "records the fixtures; run with WSSPEC_RECORD_FIXTURES=1"]
fn record() {
    assert!(
        std::env::var_os("WSSPEC_RECORD_FIXTURES").is_some(),
        "set WSSPEC_RECORD_FIXTURES=1 to record the fixtures"
    );
    let cases = all_cases();
    let server_cases = |globs: &[&str]| harness::corpus(globs);

    // The reference server over a broad selection, with a performance case.
    let (url, _rt) = harness::reference_server();
    let sel = server_cases(&[
        "1.1.1", "1.1.6", "1.1.8", "1.2.8", "2.*", "3.1", "3.7", "4.1.1", "5.1", "5.6", "5.19",
        "6.4.*", "7.1.*", "7.3.1", "7.7.1", "9.1.1", "hs.1*", "hs.4*", "fr.*",
    ]);
    record_run(
        "reference",
        &run_with(&url, &sel, RunOptions::default(), "reference"),
    );

    // Deliberately faulty servers.
    let mid = server_cases(&[
        "1.1.1", "1.1.8", "2.1", "2.3", "2.5", "2.10", "3.1", "3.4", "4.1.1", "4.2.3", "5.1",
        "5.6", "5.15", "5.19", "7.1.1", "7.1.6", "7.3.1", "7.3.5", "7.5.1", "hs.1*",
    ]);
    for (name, fault) in [
        ("faulty-never-close", faulty::Fault::NeverClose),
        (
            "faulty-reserved-opcodes",
            faulty::Fault::EchoReservedOpcodes,
        ),
        ("faulty-bad-accept", faulty::Fault::BadAcceptKey),
        ("faulty-wrong-close-code", faulty::Fault::WrongCloseCode),
        ("faulty-masked-frames", faulty::Fault::MaskedFrames),
    ] {
        let server = faulty::start(fault);
        let options = RunOptions {
            timeout_scale: 0.3,
            ..RunOptions::default()
        };
        record_run(name, &run_with(&server.url(), &mid, options, name));
    }

    // Targets that hang up before answering, answer garbage, never answer,
    // or stop accepting after a few connections.
    let few = server_cases(&["1.1.1", "1.1.2", "2.1", "2.2", "7.1.1", "hs.1*"]);
    let quick = RunOptions {
        timeout_scale: 0.2,
        ..RunOptions::default()
    };
    let hang_up = raw_target(1000, |mut s| {
        let _ = read_head(&mut s);
    });
    record_run(
        "hang-up",
        &run_with(&hang_up, &few, quick.clone(), "hang-up"),
    );
    let garbage = raw_target(1000, |mut s| {
        let _ = read_head(&mut s);
        let _ = s.write_all(b"HELLO THERE\r\nnot: http\r\n\r\n");
        std::thread::sleep(Duration::from_millis(50));
    });
    record_run(
        "garbage",
        &run_with(&garbage, &few, quick.clone(), "garbage"),
    );
    let silent = raw_target(1000, |mut s| {
        let _ = read_head(&mut s);
        std::thread::sleep(Duration::from_secs(3));
    });
    record_run("silent", &run_with(&silent, &few, quick.clone(), "silent"));
    let stall = raw_target(1000, |mut s| {
        answer_101(&mut s);
        std::thread::sleep(Duration::from_secs(3));
    });
    let short_deadline = RunOptions {
        timeout_scale: 0.2,
        default_deadline: wsspec::case::Millis(1500),
        ..RunOptions::default()
    };
    record_run(
        "stall-after-101",
        &run_with(&stall, &few, short_deadline, "stall"),
    );
    let cut = raw_target(1000, |mut s| {
        answer_101(&mut s);
        let _ = s.write_all(b"\x81\x05He");
        std::thread::sleep(Duration::from_millis(20));
    });
    record_run("cut-mid-frame", &run_with(&cut, &few, quick.clone(), "cut"));
    let going = raw_target(4, |mut s| {
        let _ = read_head(&mut s);
    });
    let serial = RunOptions {
        timeout_scale: 0.2,
        ..RunOptions::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let gone = rt.block_on(async {
        let config = SuiteConfig {
            target: Target::parse(&going).expect("url"),
            agent: "going-away".into(),
            options: serial,
            jobs: 1,
            strict: false,
            snapshots: None,
            allow: Default::default(),
            strict_allowlist: false,
        };
        suite::run(&few, &config, &mut wsspec::report::Reporters::new())
            .await
            .expect("reachable at first")
    });
    record_run("going-away", &gone);

    // serve, driven by the reference client, a client reusing its handshake
    // key, and Python's websockets (which follows redirects).
    let mut serve = serve_proc::Serve::start(
        "fixtures",
        &[
            "1.1.1", "1.1.2", "2.1", "2.3", "5.1", "6.4.1", "7.1.1", "7.1.3", "7.3.1", "cl.*",
            "fr.1*",
        ],
        &["--timeout-scale", "0.5"],
    );
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(["reference-client", &serve.url(), "--agent", "reference"])
        .status()
        .expect("reference client");
    assert!(status.success());
    // The driver as shipped asks serve to shut down; here it must not, so
    // that the faulty client can run after it.
    let script = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/websockets_fuzz_client.py"),
    )
    .expect("driver script")
    .replace("&shutdownOnComplete=true", "");
    // Recording needs the peer: a missing one fails even without WSSPEC_REQUIRE_PEERS.
    peers::python_websockets_installed().expect("Python's websockets (run scripts/test.sh)");
    let py = std::process::Command::new(peers::python())
        .args(["-c", &script, &serve.url(), "websockets"])
        .status()
        .expect("python websockets client");
    assert!(py.success(), "python websockets driver failed");
    faulty_client::drive(
        &serve.host(),
        "fixed-key",
        faulty_client::ClientFault::FixedHandshakeKey,
    );
    assert!(
        serve.finish(Duration::from_secs(30)).is_some(),
        "serve did not stop"
    );
    let _ = std::fs::remove_dir_all(fixtures().join("serve"));
    for agent in ["reference", "fixed-key", "websockets"] {
        let text = std::fs::read_to_string(serve.report_dir.join(agent).join("results.json"))
            .expect("agent results");
        let dir = fixtures().join("serve").join(agent);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("results.json"), text).expect("write");
    }

    // Render every recorded run.
    let mut dirs = Vec::new();
    run_dirs(&fixtures(), &mut dirs);
    for dir in &dirs {
        let r = load(&dir.join("results.json"));
        write_expected(dir, &rendered(&r, &cases));
    }
    let serve_dir = fixtures().join("serve");
    let runs: Vec<RunResults> = ["fixed-key", "reference", "websockets"]
        .iter()
        .map(|a| load(&serve_dir.join(a).join("results.json")))
        .collect();
    write_expected(&serve_dir, &rendered_overview(&runs));
}
