//! Whole runs against the embedded reference server: what running cases costs,
//! not only the codec, next to a baseline measured in the same run — a minimal
//! tokio-tungstenite client doing the same number of connections at the same
//! concurrency.
//!
//! Run with `cargo bench --bench suite`; see `docs/benchmarks.md` ("Whole runs
//! against the reference peer") for what each benchmark measures and the
//! figures last measured. `WSSPEC_BENCH_SLOWEST=N cargo bench --bench suite`
//! also prints the N slowest cases of the (unmeasured) warm-up run.
//!
//! Each benchmark builds its own tokio multi-thread runtime, starts the
//! reference server on it (`wsspec::reference::bind("127.0.0.1:0")`), does one
//! unmeasured warm-up run that checks the setup, then times whole iterations:
//! `sample_size = 1`, so every sample is exactly one run.

use std::sync::Arc;

use divan::Bencher;
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use wsspec::case::{self, Case, Role, Selection};
use wsspec::judge::Outcome;
use wsspec::results::RunResults;
use wsspec::run::{RunOptions, Target};
use wsspec::suite::SuiteConfig;

fn main() {
    divan::main();
}

/// The groups of a whole run: Autobahn's groups 1–7 and 10 (group 9, the
/// performance cases, is left out: its 16 MiB messages would dominate).
const GROUPS: [&str; 8] = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"];

/// The cases of `GROUPS` that wait on the clock by design: 6.4.3/6.4.4 wait
/// 300 ms after the first part of their frame (a probe ping cannot go inside a
/// frame), 6.4.1/6.4.2 listen 50 ms more after an answered probe ping. 6.4.3
/// and 6.4.4 alone set the wall time of a whole run.
const TIMED_WAITS: [&str; 4] = ["6.4.1", "6.4.2", "6.4.3", "6.4.4"];

/// Cases at once, as in the suite run (`--jobs` default).
const JOBS: usize = 16;

/// The text message of the baseline's echo.
const ECHO: &str = "Hello, wsspec";

/// The embedded corpus's server-role cases that `include` and `exclude` select.
fn corpus(include: &[&str], exclude: &[&str]) -> Vec<Case> {
    let all = case::load::load(&case::embedded_sources())
        .unwrap_or_else(|e| panic!("the embedded corpus does not load: {e:?}"));
    let sel = Selection {
        include: include.iter().map(|s| s.to_string()).collect(),
        exclude: exclude.iter().map(|s| s.to_string()).collect(),
    };
    let cases: Vec<Case> = all
        .into_iter()
        .filter(|c| c.spec.roles.contains(&Role::Server) && sel.selects(&c.spec.id))
        .collect();
    assert!(!cases.is_empty(), "no server-role case matches {include:?}");
    cases
}

/// A multi-thread runtime (one worker per core) with the reference server
/// running on it; returns the runtime and the server's address.
fn runtime_with_server() -> (Runtime, std::net::SocketAddr) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot build a tokio runtime: {e}"));
    let (addr, _server) = rt
        .block_on(wsspec::reference::bind("127.0.0.1:0"))
        .unwrap_or_else(|e| panic!("the reference server cannot bind 127.0.0.1:0: {e}"));
    (rt, addr)
}

fn suite_config(addr: std::net::SocketAddr) -> SuiteConfig {
    let url = format!("ws://{addr}/");
    SuiteConfig {
        target: Target::parse(&url).unwrap_or_else(|e| panic!("bad target {url}: {e}")),
        agent: "bench".into(),
        options: RunOptions::default(),
        jobs: JOBS,
        strict: false,
        snapshots: None,
        allow: Default::default(),
        strict_allowlist: false,
    }
}

async fn run_suite(cases: &[Case], config: &SuiteConfig) -> RunResults {
    wsspec::suite::run(cases, config, &mut wsspec::report::Reporters::new())
        .await
        .unwrap_or_else(|e| panic!("the suite did not start: {e}"))
}

/// The unmeasured warm-up: every case ran and none FAILED or hit an ERROR
/// (the reference server passes the whole corpus), so a broken setup cannot
/// pass for a fast one. Prints the slowest cases when asked to.
fn check_run(results: &RunResults, cases: &[Case]) {
    assert_eq!(results.cases.len(), cases.len(), "not every case ran");
    let bad: Vec<String> = results
        .cases
        .iter()
        .filter(|c| matches!(c.verdict.outcome, Outcome::Failed | Outcome::Error))
        .map(|c| {
            format!(
                "{} {:?}: {}",
                c.id, c.verdict.outcome, c.verdict.behavior_reason
            )
        })
        .collect();
    assert!(
        bad.is_empty(),
        "the reference server should pass every case; it did not pass:\n{}",
        bad.join("\n")
    );
    let Some(n) = std::env::var("WSSPEC_BENCH_SLOWEST")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    else {
        return;
    };
    let mut by_time: Vec<(&str, f64)> = results
        .cases
        .iter()
        .map(|c| (c.id.as_str(), c.duration_ms))
        .collect();
    by_time.sort_by(|a, b| b.1.total_cmp(&a.1));
    let sum: f64 = by_time.iter().map(|c| c.1).sum();
    eprintln!(
        "\n{} cases, wall {:.1} ms, sum of case durations {:.1} ms; slowest {n}:",
        results.cases.len(),
        results.wall_ms,
        sum
    );
    for (id, ms) in by_time.iter().take(n) {
        eprintln!("  {id:<10} {ms:>8.1} ms");
    }
}

/// The least a case can cost: connect TCP, a tokio-tungstenite client
/// handshake, one text message and its echo, the closing handshake, and the
/// server's end of TCP read.
async fn handshake_echo_close(addr: std::net::SocketAddr) {
    let tcp = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the reference server: {e}"));
    let _ = tcp.set_nodelay(true);
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp)
        .await
        .unwrap_or_else(|e| panic!("client handshake failed: {e}"));
    ws.send(Message::text(ECHO))
        .await
        .unwrap_or_else(|e| panic!("cannot send: {e}"));
    match ws.next().await {
        Some(Ok(Message::Text(t))) if t.as_str() == ECHO => {}
        other => panic!("expected the echo of {ECHO:?}, got {other:?}"),
    }
    ws.close(None)
        .await
        .unwrap_or_else(|e| panic!("cannot send the close frame: {e}"));
    // The server's close frame, then the end of the stream.
    while let Some(Ok(_)) = ws.next().await {}
    // As a case does, wait for the server to end TCP.
    let mut tcp = ws.into_inner();
    let mut rest = [0u8; 256];
    while matches!(tcp.read(&mut rest).await, Ok(1..)) {}
}

/// `n` of `handshake_echo_close`, `jobs` at a time, each on its own task,
/// scheduled the way `suite::run` schedules cases.
async fn handshakes(addr: std::net::SocketAddr, n: usize, jobs: usize) {
    let limit = Arc::new(Semaphore::new(jobs));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let permit = limit
            .clone()
            .acquire_owned()
            .await
            .unwrap_or_else(|e| panic!("semaphore closed: {e}"));
        tasks.spawn(async move {
            handshake_echo_close(addr).await;
            drop(permit);
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap_or_else(|e| panic!("a baseline connection failed: {e}"));
    }
}

/// Whole runs of `wsspec::suite::run`.
mod suite {
    use super::*;

    /// `wsspec::suite::run` over the server-role cases of groups 1–7 and 10,
    /// default options, 16 jobs, no snapshots: one whole run per sample.
    #[divan::bench(sample_count = 20, sample_size = 1)]
    fn groups_1_7_10(bencher: Bencher) {
        let cases = corpus(&GROUPS, &[]);
        let (rt, addr) = runtime_with_server();
        let config = suite_config(addr);
        check_run(&rt.block_on(run_suite(&cases, &config)), &cases);
        bencher.bench(|| rt.block_on(run_suite(&cases, &config)));
    }

    /// The same without the four cases of `TIMED_WAITS` (243 cases): a run
    /// whose wall time is the harness's own work and the server's, so that a
    /// slower harness shows here even when it stays hidden under the 300 ms
    /// of 6.4.3/6.4.4 in `groups_1_7_10`.
    #[divan::bench(sample_count = 50, sample_size = 1)]
    fn groups_1_7_10_except_6_4(bencher: Bencher) {
        let cases = corpus(&GROUPS, &TIMED_WAITS);
        let (rt, addr) = runtime_with_server();
        let config = suite_config(addr);
        check_run(&rt.block_on(run_suite(&cases, &config)), &cases);
        bencher.bench(|| rt.block_on(run_suite(&cases, &config)));
    }

    /// The same over case 1.1.1 alone (an empty text message echoed): the fixed
    /// cost of a run and of one case.
    #[divan::bench(sample_count = 200, sample_size = 1)]
    fn one_case_1_1_1(bencher: Bencher) {
        let cases = corpus(&["1.1.1"], &[]);
        let (rt, addr) = runtime_with_server();
        let config = suite_config(addr);
        check_run(&rt.block_on(run_suite(&cases, &config)), &cases);
        bencher.bench(|| rt.block_on(run_suite(&cases, &config)));
    }
}

/// The minimal client.
mod baseline {
    use divan::Bencher;

    /// One minimal connection per sample.
    #[divan::bench(sample_count = 200, sample_size = 1)]
    fn handshake_echo_close(bencher: Bencher) {
        let (rt, addr) = super::runtime_with_server();
        rt.block_on(super::handshake_echo_close(addr));
        bencher.bench(|| rt.block_on(super::handshake_echo_close(addr)));
    }

    /// As many minimal connections as `suite::groups_1_7_10` runs cases, 16 at a
    /// time: the suite's wall time divided by this is the harness's factor over a
    /// minimal client making the same connections.
    #[divan::bench(sample_count = 20, sample_size = 1)]
    fn handshakes_like_the_suite(bencher: Bencher) {
        let n = super::corpus(&super::GROUPS, &[]).len();
        let (rt, addr) = super::runtime_with_server();
        rt.block_on(super::handshakes(addr, n, super::JOBS));
        bencher.bench(|| rt.block_on(super::handshakes(addr, n, super::JOBS)));
    }

    /// As many minimal connections as `suite::groups_1_7_10_except_6_4` runs
    /// cases, 16 at a time.
    #[divan::bench(sample_count = 50, sample_size = 1)]
    fn handshakes_like_the_suite_except_6_4(bencher: Bencher) {
        let n = super::corpus(&super::GROUPS, &super::TIMED_WAITS).len();
        let (rt, addr) = super::runtime_with_server();
        rt.block_on(super::handshakes(addr, n, super::JOBS));
        bencher.bench(|| rt.block_on(super::handshakes(addr, n, super::JOBS)));
    }
}
