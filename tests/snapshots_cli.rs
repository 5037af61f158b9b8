//! Snapshots end to end: the project's own snapshots of the reference peer
//! (snapshots/reference) match a fresh run, so any change to a case, the codec
//! or the reference peer that alters the wire shows up as drift; NEW and DRIFT
//! fail a run; review, accept, reject and prune do what they say; and three runs
//! against every real peer produce identical snapshots (stable by construction).

#[path = "common/harness.rs"]
mod harness;
#[path = "common/peers.rs"]
mod peers;

use std::path::{Path, PathBuf};
use std::process::Command;

use wsspec::snapshot::SnapshotStatus;

fn wsspec() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsspec"))
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wsspec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

#[test]
fn the_reference_peer_matches_its_stored_snapshots() {
    let stored = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots/reference");
    let dir = temp("refsnap");
    copy_dir(&stored, &dir);
    let out = wsspec()
        .args(["run", "--snapshots"])
        .arg(&dir)
        .arg("--report-dir")
        .arg(dir.join("reports"))
        .args(harness::beyond_ci_args())
        .env("CI", "1")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains(" 0 new, 0 drift"),
        "snapshots/reference drifted; review with `wsspec snapshots review`, then re-baseline with \
         `cargo run -- run --snapshots snapshots/reference --snapshots-update`:\n{stdout}\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn new_and_drift_fail_the_run_and_review_accept_reject_prune_work() {
    let dir = temp("snapcli");
    let run = |extra: &[&str]| {
        let mut c = wsspec();
        c.args(["run", "--cases", "2.*", "--snapshots"])
            .arg(&dir)
            .arg("--report-dir")
            .arg(dir.join("reports"))
            .args(extra)
            .env("CI", "1");
        c.output().expect("run")
    };
    // First run: every case is NEW, written as .snap.new, exit 1.
    let first = run(&[]);
    assert_eq!(
        first.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&first.stdout)
    );
    assert!(dir.join("server/2.1.snap.new").exists());
    // Review lists them; reject drops one; accept applies the rest.
    let review = wsspec()
        .args(["snapshots", "review"])
        .arg(&dir)
        .output()
        .expect("review");
    assert!(String::from_utf8_lossy(&review.stdout).contains("11 pending"));
    wsspec()
        .args(["snapshots", "reject", "--cases", "2.1"])
        .arg(&dir)
        .output()
        .expect("reject");
    assert!(!dir.join("server/2.1.snap.new").exists());
    wsspec()
        .args(["snapshots", "accept"])
        .arg(&dir)
        .output()
        .expect("accept");
    assert!(dir.join("server/2.2.snap").exists() && !dir.join("server/2.2.snap.new").exists());
    // Second run: 2.1 is still NEW (rejected), everything else matches.
    let second = run(&[]);
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(out.contains("10 match, 1 new, 0 drift"), "{out}");
    // A doctored stored snapshot is DRIFT, shown as a diff, and fails the run.
    let path = dir.join("server/2.2.snap");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replace("pong \"Hello, world!\"", "pong \"Hello, drift!\""),
    )
    .expect("write");
    let third = run(&[]);
    assert_eq!(third.status.code(), Some(1));
    let err = String::from_utf8_lossy(&third.stderr);
    assert!(
        err.contains("DRIFT") && err.contains("-  pong \"Hello, drift!\""),
        "{err}"
    );
    // --snapshots-update re-baselines: exit 0, then a plain run matches.
    assert_eq!(run(&["--snapshots-update"]).status.code(), Some(0));
    assert_eq!(run(&[]).status.code(), Some(0));
    // Prune removes snapshots of cases that do not exist.
    std::fs::write(
        dir.join("server/99.9.snap"),
        "---\nsource: wsspec\nexpression: \"99.9\"\n---\nx\n",
    )
    .expect("write");
    let prune = wsspec()
        .args(["snapshots", "prune"])
        .arg(&dir)
        .output()
        .expect("prune");
    assert!(
        String::from_utf8_lossy(&prune.stdout).contains("pruned 1"),
        "{}",
        String::from_utf8_lossy(&prune.stdout)
    );
    assert!(!dir.join("server/99.9.snap").exists() && dir.join("server/2.2.snap").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

fn three_runs_agree(name: &str, url: &str) {
    // Compression cases are deterministic byte for byte once negotiated; one
    // row of each subgroup is enough to see that their snapshots hold.
    let cases: Vec<_> = harness::corpus(&[])
        .into_iter()
        .filter(|c| {
            let id = c.spec.id.as_str();
            !(id.starts_with("12.") || id.starts_with("13.")) || id.ends_with(".1")
        })
        .collect();
    let first = harness::snapshot_bodies(&harness::run(url, &cases), &cases);
    for round in 2..=3 {
        let again = harness::snapshot_bodies(&harness::run(url, &cases), &cases);
        let drift: Vec<String> = first
            .iter()
            .zip(&again)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| match wsspec::snapshot::compare(Some(a.1), b.1) {
                SnapshotStatus::Drift { diff } => format!("{}:\n{diff}", a.0),
                _ => a.0.clone(),
            })
            .collect();
        assert!(
            drift.is_empty(),
            "{name}: run {round} drifted from run 1:\n{}",
            drift.join("\n")
        );
    }
}

#[test]
fn snapshots_are_stable_across_three_runs_of_every_peer() {
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (url, _rt) = harness::reference_server();
    three_runs_agree("reference", &url);
    if let Some(peer) = peers::require(peers::PeerName::Ws, peers::node_ws()) {
        three_runs_agree("ws-node", &peer.url);
    }
    if let Some(peer) = peers::require(peers::PeerName::Websockets, peers::python_websockets()) {
        three_runs_agree("py-websockets", &peer.url);
    }
}
