//! `wsspec serve`'s, `list`'s and `check`'s documented options, end to end.
//! serve runs as the real binary on a free loopback port and the embedded
//! reference client (`wsspec reference-client`) drives it through Autobahn's
//! fuzzing-server protocol; each test shows what one option changes in what
//! serve selects, prints, writes or exits with: `--cases`, `--exclude`,
//! `--cases-dir`, `--strict`, `-v`, `--timeout-scale`, `--listen`. `list` and
//! `check` are compared with the library's own loader, so a selection rule
//! broken in the CLI layer cannot hide behind a count written by hand. The
//! client-role case file they use lives in `tests/data/serve_options/`.

#[path = "common/serve_proc.rs"]
mod serve_proc;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use serve_proc::{exit_within, Serve};
use wsspec::case::filter::glob_match;
use wsspec::case::{Case, Role};

const AGENT: &str = "probe";

fn fixture_cases() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/serve_options/cases")
}

fn fixture_dir_arg() -> String {
    fixture_cases().display().to_string()
}

fn wsspec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .env("CI", "1")
        .args(args)
        .output()
        .expect("run wsspec")
}

/// Drives `serve` through every selected case with the reference client and
/// asks it to shut down; serve's exit code.
fn drive_to_the_end(serve: &mut Serve) -> Option<i32> {
    let mut client = Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args([
            "reference-client",
            &serve.url(),
            "--agent",
            AGENT,
            "--shutdown",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start wsspec reference-client");
    let client_code = exit_within(&mut client, Duration::from_secs(60));
    if client_code.is_none() {
        let _ = client.kill();
        let _ = client.wait();
    }
    assert_eq!(
        client_code,
        Some(0),
        "the reference client finished its run"
    );
    serve.finish(Duration::from_secs(20))
}

/// The agent's results.json: case id → verdict outcome.
fn verdicts(serve: &Serve) -> Vec<(String, String)> {
    let results = serve
        .json(format!("{AGENT}/results.json"))
        .unwrap_or_else(|| panic!("{AGENT}/results.json\n{}", serve.stderr()));
    cases_of(&results)
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_string(),
                c["verdict"]["outcome"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

fn cases_of(results: &Value) -> &Vec<Value> {
    results["cases"].as_array().expect("cases array")
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn serve_runs_exactly_the_selection_of_cases_exclude_and_cases_dir() {
    let dir = fixture_dir_arg();
    let mut serve = Serve::start(
        "opts-select",
        &["serveopt.*"],
        &["--cases-dir", &dir, "--exclude", "serveopt.fail"],
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let count = rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(serve.host()).await.ok()?;
        let url = format!("{}/getCaseCount", serve.url());
        let (mut ws, _) = tokio_tungstenite::client_async(url, tcp).await.ok()?;
        use futures_util::StreamExt;
        ws.next().await.and_then(|m| m.ok()).map(|m| m.to_string())
    });
    assert_eq!(
        count.as_deref(),
        Some("3"),
        "4 cases in the file, 1 excluded"
    );
    let code = drive_to_the_end(&mut serve);
    assert_eq!(
        verdicts(&serve),
        pairs(&[
            ("serveopt.echo", "OK"),
            ("serveopt.nonstrict", "NON-STRICT"),
            ("serveopt.pause", "OK"),
        ]),
        "only the selected cases ran, in id order"
    );
    assert_eq!(
        code,
        Some(0),
        "NON-STRICT does not fail a run without --strict"
    );
    serve.remove_reports();
}

#[test]
fn strict_makes_non_strict_fail_the_serve_run() {
    let dir = fixture_dir_arg();
    let mut serve = Serve::start(
        "opts-strict",
        &["serveopt.nonstrict", "serveopt.echo"],
        &["--cases-dir", &dir, "--strict"],
    );
    let code = drive_to_the_end(&mut serve);
    assert_eq!(
        verdicts(&serve),
        pairs(&[
            ("serveopt.echo", "OK"),
            ("serveopt.nonstrict", "NON-STRICT")
        ])
    );
    let results = serve
        .json(format!("{AGENT}/results.json"))
        .expect("results");
    assert_eq!(results["strict"], true, "results.json records --strict");
    assert_eq!(
        code,
        Some(1),
        "under --strict a NON-STRICT case fails the run"
    );
    serve.remove_reports();
}

#[test]
fn a_failed_case_makes_serve_exit_1_and_is_printed_without_verbose() {
    let dir = fixture_dir_arg();
    let mut serve = Serve::start(
        "opts-quiet",
        &["serveopt.echo", "serveopt.fail"],
        &["--cases-dir", &dir],
    );
    let code = drive_to_the_end(&mut serve);
    assert_eq!(code, Some(1));
    let printed = serve.stdout();
    assert!(
        printed.contains("FAILED") && printed.contains("serveopt.fail"),
        "the failure is printed:\n{printed}"
    );
    assert!(
        !printed.contains("serveopt.echo"),
        "an OK case is not printed without -v:\n{printed}"
    );
    assert!(
        printed.contains("agent probe: 2 of 2 cases run, 1 failed"),
        "the per-agent summary:\n{printed}"
    );
    serve.remove_reports();
}

#[test]
fn verbose_prints_a_line_for_every_case_served() {
    let dir = fixture_dir_arg();
    let mut serve = Serve::start(
        "opts-verbose",
        &["serveopt.*"],
        &["--cases-dir", &dir, "-v"],
    );
    drive_to_the_end(&mut serve);
    let printed = serve.stdout();
    for (id, outcome) in [
        ("serveopt.echo", "OK"),
        ("serveopt.fail", "FAILED"),
        ("serveopt.nonstrict", "NON-STRICT"),
        ("serveopt.pause", "OK"),
    ] {
        let line = printed
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == id))
            .unwrap_or_else(|| panic!("no line for {id}:\n{printed}"));
        assert!(
            line.starts_with(&format!("[{AGENT}] {outcome} ")),
            "{id}: {line}"
        );
    }
    serve.remove_reports();
}

/// serveopt.pause waits 300 ms × the scale before its close.
fn pause_duration_ms(scale: &str) -> f64 {
    let dir = fixture_dir_arg();
    let mut serve = Serve::start(
        &format!("opts-scale-{scale}"),
        &["serveopt.pause"],
        &["--cases-dir", &dir, "--timeout-scale", scale],
    );
    drive_to_the_end(&mut serve);
    let results = serve
        .json(format!("{AGENT}/results.json"))
        .expect("results");
    let ms = cases_of(&results)[0]["duration_ms"]
        .as_f64()
        .expect("duration_ms");
    assert_eq!(cases_of(&results)[0]["verdict"]["outcome"], "OK");
    serve.remove_reports();
    ms
}

#[test]
fn timeout_scale_multiplies_the_waits_of_served_cases() {
    let plain = pause_duration_ms("1");
    let scaled = pause_duration_ms("4");
    assert!(
        (300.0..1100.0).contains(&plain),
        "unscaled pause: {plain} ms"
    );
    assert!(scaled >= 1200.0, "a 300 ms pause × 4: {scaled} ms");
}

#[test]
fn serve_refuses_bad_options_with_exit_2_and_an_unusable_listen_address() {
    let dir = fixture_dir_arg();
    for (args, says) in [
        (
            vec!["serve", "--cases", "nomatch.*"],
            "no client-role case matches the selection",
        ),
        (vec!["serve", "--timeout-scale", "0"], "--timeout-scale"),
        (
            vec!["serve", "--cases-dir", "/nonexistent/wsspec-cases"],
            "/nonexistent/wsspec-cases",
        ),
        (
            vec![
                "serve",
                "--cases-dir",
                &dir,
                "--cases",
                "serveopt.*",
                "--role",
                "server",
            ],
            "--role",
        ),
    ] {
        let out = wsspec(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?} says {says:?}: {err}");
    }
    // A port that is taken: serve cannot listen, says where, and exits
    // non-zero without serving.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("its address").to_string();
    let out = wsspec(&["serve", "--listen", &addr, "--report-dir", "/nonexistent/x"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    let out = wsspec(&["serve", "--listen", "not-an-address"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not-an-address"));
}

// ---------------------------------------------------------------------------
// list and check
// ---------------------------------------------------------------------------

/// The library's view: every case of the corpus plus the fixture.
fn all_cases() -> Vec<Case> {
    let mut sources = wsspec::case::embedded_sources();
    sources.extend(wsspec::case::load::read_sources(&[fixture_cases()]).expect("fixture"));
    wsspec::case::load::load(&sources).expect("corpus + fixture")
}

fn listed_ids(args: &[&str]) -> Vec<String> {
    let out = wsspec(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn list_selects_as_the_loader_does_for_every_option() {
    let cases = all_cases();
    let dir = fixture_dir_arg();
    let expect = |keep: &dyn Fn(&Case) -> bool| -> Vec<String> {
        let ids: BTreeSet<&str> = cases
            .iter()
            .filter(|c| keep(c))
            .map(|c| c.spec.id.as_str())
            .collect();
        let mut listed: Vec<String> = ids.into_iter().map(str::to_string).collect();
        listed.sort_by(|a, b| wsspec::case::filter::compare_ids(a, b));
        listed
    };
    let embedded = |c: &Case| !c.spec.id.starts_with("serveopt.");
    let sorted = |mut v: Vec<String>| {
        v.sort_by(|a, b| wsspec::case::filter::compare_ids(a, b));
        v
    };

    // Plain list: the embedded corpus, every role.
    let all = listed_ids(&["list"]);
    assert_eq!(sorted(all.clone()), expect(&embedded));
    assert_eq!(all.len(), cases.iter().filter(|c| embedded(c)).count());

    // --role: what run and serve select.
    for (role, r) in [("server", Role::Server), ("client", Role::Client)] {
        let listed = listed_ids(&["list", "--role", role]);
        assert_eq!(
            sorted(listed),
            expect(&|c| embedded(c) && c.spec.roles.contains(&r)),
            "--role {role}"
        );
    }

    // --cases and --exclude, repeatable, combined.
    let listed = listed_ids(&[
        "list",
        "--cases",
        "5.*",
        "--cases",
        "7.1.*",
        "--exclude",
        "5.1*",
        "--exclude",
        "7.1.6",
    ]);
    let want = expect(&|c| {
        let id = c.spec.id.as_str();
        embedded(c)
            && (glob_match("5.*", id) || glob_match("7.1.*", id))
            && !glob_match("5.1*", id)
            && id != "7.1.6"
    });
    assert!(want.len() > 10, "the selection is not trivially empty");
    assert_eq!(sorted(listed), want);

    // --cases-dir adds the fixture's cases (all client-only).
    let listed = listed_ids(&["list", "--cases-dir", &dir, "--cases", "serveopt.*"]);
    assert_eq!(
        listed,
        vec![
            "serveopt.echo",
            "serveopt.fail",
            "serveopt.nonstrict",
            "serveopt.pause"
        ]
    );
    // Client-only cases under --role server: nothing matches, which is
    // an error (exit 2), as under `run`.
    let out = wsspec(&[
        "list",
        "--cases-dir",
        &dir,
        "--cases",
        "serveopt.*",
        "--role",
        "server",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "client-only cases under --role server"
    );

    // Each line: id, requirement, roles, title.
    let out = wsspec(&["list", "--cases-dir", &dir, "--cases", "serveopt.echo"]);
    let line = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&words[..3], ["serveopt.echo", "MUST", "client"], "{line}");
    assert!(line.ends_with("a text message is echoed (OK for the reference client)"));
}

#[test]
fn check_reads_every_path_given_and_names_each_broken_one() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let good_file = root.join("tests/data/cli_options/cases/cliopt.yaml");
    let broken_dir = root.join("tests/data/cli_options/broken");
    let dir = fixture_dir_arg();

    // Two good paths, a file and a folder: their cases are counted together.
    let out = wsspec(&["check", good_file.to_str().expect("utf-8 path"), &dir]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cliopt = all_cases_in(&good_file);
    assert!(
        said.starts_with(&format!("{} cases OK in the given files", cliopt + 4)),
        "{said}"
    );

    // A broken folder among good paths: exit 2, the broken file named with
    // line and column.
    let out = wsspec(&[
        "check",
        &dir,
        broken_dir.to_str().expect("utf-8 path"),
        good_file.to_str().expect("utf-8 path"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("broken.yaml:"), "{err}");
    let located = err
        .lines()
        .find(|l| l.contains("broken.yaml:"))
        .and_then(|l| l.split("broken.yaml:").nth(1))
        .map(|rest| {
            rest.split(':')
                .take(2)
                .all(|n| n.trim().parse::<u32>().is_ok())
        });
    assert_eq!(located, Some(true), "file:line:column in {err}");

    // A path that does not exist is an error too.
    let out = wsspec(&["check", "/nonexistent/wsspec.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/wsspec.yaml"));

    // No path: the embedded corpus, every case counted.
    let out = wsspec(&["check"]);
    assert_eq!(out.status.code(), Some(0));
    let corpus = wsspec::case::load::load(&wsspec::case::embedded_sources())
        .expect("corpus")
        .len();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(&corpus.to_string()), "{said}");
}

fn all_cases_in(file: &std::path::Path) -> usize {
    let text = std::fs::read_to_string(file).expect("fixture");
    let source = wsspec::case::Source {
        name: file.display().to_string(),
        text,
    };
    wsspec::case::load::load(&[source]).expect("valid").len()
}

/// Sends `GET /getCaseCount` with `padding` bytes of extra header and
/// returns what serve answered (empty when it answered nothing).
fn case_count_with_padding(host: &str, padding: usize) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "GET /getCaseCount HTTP/1.1\r\nHost: {host}\r\nX-Padding: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        "p".repeat(padding)
    );
    let _ = s.write_all(request.as_bytes());
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn max_header_size_bounds_the_request_heads_serve_reads() {
    let small = Serve::start("hdr-small", &["1.1.1"], &["--max-header-size", "1K"]);
    let default = Serve::start("hdr-default", &["1.1.1"], &[]);
    // 2 KiB of header: past 1K, within the default 16K.
    let refused = case_count_with_padding(&small.host(), 2048);
    assert!(
        refused.is_empty(),
        "answered past --max-header-size: {refused}"
    );
    let answered = case_count_with_padding(&default.host(), 2048);
    assert!(answered.starts_with("HTTP/1.1 101"), "{answered}");
    let fits = case_count_with_padding(&small.host(), 100);
    assert!(fits.starts_with("HTTP/1.1 101"), "{fits}");
    // Dropping a Serve stops it.
    drop((small, default));
    let out = wsspec(&["serve", "--max-header-size", "12"]);
    assert_eq!(out.status.code(), Some(2));
}

/// How long serve keeps a connection that never sends a request head open
/// (up to `limit`), or None when it is still open then.
fn idle_connection_closed_after(host: &str, limit: Duration) -> Option<Duration> {
    use std::io::Read;
    let started = std::time::Instant::now();
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    let _ = s.set_read_timeout(Some(limit));
    let mut buf = [0u8; 16];
    match s.read(&mut buf) {
        Ok(0) | Err(_) if started.elapsed() < limit => Some(started.elapsed()),
        _ => None,
    }
}

#[test]
fn handshake_timeout_bounds_how_long_serve_waits_for_a_request_head() {
    let quick = Serve::start("hs-quick", &["1.1.1"], &["--handshake-timeout", "0.5"]);
    let default = Serve::start("hs-default", &["1.1.1"], &[]);
    let closed = idle_connection_closed_after(&quick.host(), Duration::from_secs(4));
    assert!(
        closed.is_some_and(|d| d >= Duration::from_millis(400)),
        "closed after {closed:?}"
    );
    // The default (5 s) still holds the connection at 2 s.
    assert_eq!(
        idle_connection_closed_after(&default.host(), Duration::from_secs(2)),
        None
    );
    drop((quick, default));
    let out = wsspec(&["serve", "--handshake-timeout", "0"]);
    assert_eq!(out.status.code(), Some(2));
}
