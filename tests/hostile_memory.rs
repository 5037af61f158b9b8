//! Memory is bounded by options, not by the peer: the wsspec binary runs
//! against hostile servers (a flood of empty messages; pings sent forever to
//! a wsspec that cannot write back), and the child's own peak RSS, read with
//! `wait4`, stays under a stated bound while the case gets a verdict, a
//! bounded results.json and the run goes on.

#[path = "common/raw_server.rs"]
mod raw_server;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The bound this file holds wsspec to for one hostile case: far below
/// what the attacks took before events were capped (2.9 GB and 1.3 GB).
const PEAK_RSS_BOUND_MIB: u64 = 160;

/// How a hostile server treats each connection after answering the upgrade.
type Behaviour = fn(&mut TcpStream);

/// Serves every connection: reads the request head, answers 101, then
/// `behave`s until the connection breaks.
fn serve(behave: Behaviour) -> String {
    raw_server::serve(Some(Duration::from_secs(30)), move |stream, head| {
        if raw_server::switch(stream, head) {
            behave(stream);
        }
    })
}

/// Empty binary messages (`82 00`), as fast as wsspec takes them, while
/// reading and discarding whatever wsspec writes.
fn flood_empty_messages(stream: &mut TcpStream) {
    if let Ok(mut reader) = stream.try_clone() {
        std::thread::spawn(move || {
            let mut sink = [0u8; 4096];
            while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
        });
    }
    let chunk: Vec<u8> = [0x82u8, 0x00].repeat(32 * 1024);
    while stream.write_all(&chunk).is_ok() {}
}

/// Pings (`89 00`) forever, never reading: wsspec's pongs cannot be written.
fn ping_forever_never_read(stream: &mut TcpStream) {
    let chunk: Vec<u8> = [0x89u8, 0x00].repeat(32 * 1024);
    while stream.write_all(&chunk).is_ok() {}
}

struct Ran {
    code: Option<i32>,
    peak_rss_mib: u64,
    wall: Duration,
    stdout: String,
    stderr: String,
}

/// Runs the wsspec binary to its end and reads its peak RSS from `wait4`.
fn run_wsspec(args: &[&str], out_dir: &Path) -> Ran {
    let started = Instant::now();
    let stdout_path = out_dir.join("stdout");
    let stderr_path = out_dir.join("stderr");
    let child = Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(args)
        .env("CI", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("spawn wsspec");
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data that wait4 fills in; `pid` is our own
    // child, reaped here (the Child handle is never waited on).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4");
    std::mem::forget(child);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Ran {
        code,
        // ru_maxrss is in KiB on Linux.
        peak_rss_mib: u64::try_from(usage.ru_maxrss).unwrap_or(0) / 1024,
        wall: started.elapsed(),
        stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    }
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wsspec-mem-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn results(dir: &Path) -> (serde_json::Value, u64) {
    let path = dir.join("reports/results.json");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let text = std::fs::read_to_string(&path).expect("results.json written");
    (
        serde_json::from_str(&text).expect("results.json parses"),
        size,
    )
}

fn case<'a>(r: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    r["cases"]
        .as_array()
        .and_then(|cases| cases.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no case {id}"))
}

fn overflow(c: &serde_json::Value) -> serde_json::Value {
    c["transcript"]["events"]
        .as_array()
        .and_then(|events| events.iter().find(|e| e["event"] == "overflow"))
        .cloned()
        .unwrap_or_else(|| panic!("no overflow event in {}", c["id"]))
}

#[test]
fn a_flood_of_empty_messages_is_counted_not_kept() {
    let url = serve(flood_empty_messages);
    let dir = temp("flood");
    let reports = dir.join("reports");
    let ran = run_wsspec(
        &[
            "run",
            &url,
            "--cases",
            "1.1.1",
            "--cases",
            "1.1.2",
            "--timeout-scale",
            "3",
            "--report-dir",
            reports.to_str().expect("utf-8 path"),
        ],
        &dir,
    );
    eprintln!(
        "flood: peak RSS {} MiB in {:.1} s",
        ran.peak_rss_mib,
        ran.wall.as_secs_f64()
    );
    assert_eq!(ran.code, Some(1), "{}\n{}", ran.stdout, ran.stderr);
    assert!(
        ran.peak_rss_mib <= PEAK_RSS_BOUND_MIB,
        "peak RSS {} MiB",
        ran.peak_rss_mib
    );
    let (r, size) = results(&dir);
    // Both cases ran: the flood did not stop the run.
    for id in ["1.1.1", "1.1.2"] {
        let c = case(&r, id);
        assert_eq!(c["verdict"]["outcome"], "ERROR", "{id}: {}", c["verdict"]);
        let reason = c["verdict"]["behavior_reason"].as_str().unwrap_or("");
        assert!(reason.contains("raise --max-events"), "{id}: {reason}");
        let o = overflow(c);
        assert!(o["messages"].as_u64().unwrap_or(0) > 0, "{o}");
        assert_eq!(o["max_events"], 50_000);
        let digest = o["messages_sha256"].as_str().unwrap_or("");
        assert!(
            digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
            "the omitted messages are digested: {o}"
        );
    }
    // Each case keeps its first 400 and last 200 events.
    assert!(size < 2 << 20, "results.json is {size} bytes");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pings_to_a_peer_that_never_reads_get_a_bounded_number_of_pongs() {
    let url = serve(ping_forever_never_read);
    let dir = temp("pings");
    let reports = dir.join("reports");
    let ran = run_wsspec(
        &[
            "run",
            &url,
            "--cases",
            "2.1",
            "--max-events",
            "5000",
            "--report-dir",
            reports.to_str().expect("utf-8 path"),
        ],
        &dir,
    );
    eprintln!(
        "pings: peak RSS {} MiB in {:.1} s",
        ran.peak_rss_mib,
        ran.wall.as_secs_f64()
    );
    assert!(
        ran.peak_rss_mib <= PEAK_RSS_BOUND_MIB,
        "peak RSS {} MiB",
        ran.peak_rss_mib
    );
    // The case ends by its deadline (15 s) plus the writer's second to give
    // up; a task that outlived the deadline would keep the run going as long
    // as the peer pings, which is forever. The margin is for a loaded CI
    // machine (33.7 s was seen beside a build).
    assert!(ran.wall < Duration::from_secs(60), "{:?}", ran.wall);
    let (r, _) = results(&dir);
    let c = case(&r, "2.1");
    let o = overflow(c);
    assert!(
        o["replies_dropped"].as_u64().unwrap_or(0) > 0,
        "pongs were dropped: {o}"
    );
    assert_eq!(o["max_events"], 5000);
    assert!(o["frames"].as_u64().unwrap_or(0) > 0, "{o}");
    assert_eq!(c["verdict"]["outcome"], "ERROR", "{}", c["verdict"]);
    let _ = std::fs::remove_dir_all(&dir);
}
