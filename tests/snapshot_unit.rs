//! Behaviour snapshots through the library: normalization is stable across runs
//! of the whole corpus against the embedded reference server (one over TCP,
//! one over in-memory streams through the transport seam), files are
//! insta-compatible byte for byte, and the store's review operations (accept,
//! reject, prune) do what they say on a real directory.

#[path = "common/harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use wsspec::results::RunResults;
use wsspec::snapshot::{
    compare, normalize, normalize_with, parse_snap, render_snap, SnapshotStatus, Store,
};

/// Case id → snapshot text for every case of a run (`timing_dependent`
/// applied to every case, to check that the folded form is stable too).
fn snapshots(results: &RunResults, timing_dependent: bool) -> BTreeMap<String, String> {
    results
        .cases
        .iter()
        .map(|c| {
            (
                c.id.clone(),
                normalize_with(&c.transcript, &c.verdict, timing_dependent),
            )
        })
        .collect()
}

/// The cases whose text differs, with their diffs.
fn drift(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    a.iter()
        .filter_map(|(id, text)| match compare(Some(text), &b[id]) {
            SnapshotStatus::Drift { diff } => Some(format!("{id}:\n{diff}")),
            _ => None,
        })
        .collect()
}

/// Two runs of the whole server corpus against the reference server, one
/// over TCP and one over in-memory streams through the transport seam
/// (`RunOptions::connector`), read the same, case for case.
#[test]
fn normalization_is_stable_across_runs_and_transports_of_the_whole_corpus() {
    let (url, _rt) = harness::reference_server();
    let cases = harness::corpus(&[]);
    let (run1, run2) = (harness::run(&url, &cases), harness::run_in_memory(&cases));
    assert!(
        !run2.failed(),
        "the reference failed over an in-memory stream"
    );
    let first = snapshots(&run1, false);
    assert_eq!(first.len(), cases.len());
    let drifted = drift(&first, &snapshots(&run2, false));
    assert!(
        drifted.is_empty(),
        "{} cases drifted between a run over TCP and one over in-memory streams:\n{}",
        drifted.len(),
        drifted.join("\n")
    );
    let folded = drift(&snapshots(&run1, true), &snapshots(&run2, true));
    assert!(
        folded.is_empty(),
        "folded forms drifted:\n{}",
        folded.join("\n")
    );
    // Nothing volatile: the target's address, keys and accept values, times.
    let host = url.trim_start_matches("ws://").trim_end_matches('/');
    for (id, text) in &first {
        assert!(
            !text.contains(host),
            "{id} shows the target address:\n{text}"
        );
        for line in text.lines() {
            // Payload previews are quoted; what a peer echoes may well read
            // "12 ms" (12.4.x's generated HTML does).
            let l: String = line
                .to_ascii_lowercase()
                .split('"')
                .step_by(2)
                .collect::<Vec<_>>()
                .join("\"\"");
            if l.trim_start().starts_with("sec-websocket-accept:") {
                assert!(l.ends_with("<accept ok>"), "{id}: {line}");
            }
            let timed = ["ms", "µs", "s "].iter().any(|unit| {
                l.match_indices(&format!(" {unit}"))
                    .any(|(i, _)| l[..i].ends_with(|c: char| c.is_ascii_digit() || c == '#'))
            });
            assert!(!timed, "{id} shows a duration: {line}");
        }
        assert!(
            text.ends_with('\n') && text.contains("\nverdict: "),
            "{id}:\n{text}"
        );
    }
}

#[test]
fn echo_case_reads_as_documented() {
    let (url, _rt) = harness::reference_server();
    let results = harness::run(&url, &harness::corpus(&["2.2"]));
    let case = results.cases.first().expect("case 2.2");
    assert_eq!(
        normalize(&case.transcript, &case.verdict),
        "handshake: 101 Switching Protocols
  connection: Upgrade
  upgrade: websocket
  sec-websocket-accept: <accept ok>
received:
  pong \"Hello, world!\"
  close code 1000 reason \"\"
closing: wsspec closed first; the peer answered
tcp: ended by the peer
verdict: behaviour OK; close OK
"
    );
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "wsspec-snapshot-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn snap_files_are_what_insta_reads_and_writes() {
    let tmp = TempDir::new("insta");
    let store = Store::new(tmp.path());
    let body = "handshake: 101 Switching Protocols\n  upgrade: websocket\nreceived:\n  text message \"a: b\" in 1 frame\nverdict: behaviour OK; close OK\n";
    let text = render_snap("6.4.1", body, "0.1.0", "2");
    let path = store
        .write_accepted("server", "6.4.1", &text)
        .expect("write");
    assert_eq!(path, tmp.path().join("server").join("6.4.1.snap"));

    // insta reads our file...
    let snap = insta::Snapshot::from_file(&path).expect("insta reads it");
    assert_eq!(snap.metadata().expression(), Some("6.4.1"));
    assert_eq!(snap.metadata().source(), Some("wsspec"));
    let contents = snap.as_text().expect("text snapshot").to_string();
    assert_eq!(contents, body.trim_end());
    // ...and writing it back changes no byte.
    let resaved = tmp.path().join("resaved.snap");
    snap.save(&resaved).expect("insta writes it");
    let insta_text = std::fs::read_to_string(&resaved).expect("read back");
    assert_eq!(insta_text, text);

    // Our reader round-trips it.
    let parsed = parse_snap(&insta_text).expect("parses");
    assert_eq!(parsed.case_id(), Some("6.4.1"));
    assert_eq!(parsed.tool_version(), Some("0.1.0"));
    assert_eq!(parsed.corpus_version(), Some("2"));
    assert_eq!(compare(Some(&parsed.body), body), SnapshotStatus::Match);
    let loaded = store
        .load("server", "6.4.1")
        .expect("load")
        .expect("stored");
    assert_eq!(loaded, parsed);
    assert!(store.load("server", "9.9.9").expect("load").is_none());
}

#[test]
fn compare_new_match_drift() {
    assert_eq!(compare(None, "x\n"), SnapshotStatus::New);
    assert_eq!(compare(Some("x\n"), "x\n"), SnapshotStatus::Match);
    match compare(
        Some("received:\n  close code 1000 reason \"\"\n"),
        "received:\n  close code 1001 reason \"\"\n",
    ) {
        SnapshotStatus::Drift { diff } => assert_eq!(
            diff,
            "--- stored\n+++ observed\n@@ -1,2 +1,2 @@\n received:\n-  close code 1000 reason \"\"\n+  close code 1001 reason \"\"\n"
        ),
        other => panic!("expected drift, got {other:?}"),
    }
}

fn snap(id: &str, body: &str) -> String {
    render_snap(id, body, "0.1.0", "2")
}

#[test]
fn store_review_accept_reject_prune() {
    let tmp = TempDir::new("store");
    let store = Store::new(tmp.path());
    assert!(store.pending().expect("empty store").is_empty());

    // Baseline: 1.1.1 and 1.1.2 accepted for the server role; one agent's client role.
    store
        .write_accepted("server", "1.1.1", &snap("1.1.1", "a\n"))
        .expect("write");
    store
        .write_accepted("server", "1.1.2", &snap("1.1.2", "b\n"))
        .expect("write");
    store
        .write_accepted("ws/client", "1.1.1", &snap("1.1.1", "c\n"))
        .expect("write");
    assert!(tmp.path().join("ws/client/1.1.1.snap").is_file());

    // A later run: 1.1.2 drifts, 1.1.10 and 2.1 are new, 1.1.1 matches.
    store
        .write_new("server", "1.1.2", &snap("1.1.2", "B\n"))
        .expect("write");
    store
        .write_new("server", "1.1.10", &snap("1.1.10", "x\n"))
        .expect("write");
    store
        .write_new("server", "2.1", &snap("2.1", "y\n"))
        .expect("write");
    store
        .write_new("ws/client", "1.1.1", &snap("1.1.1", "C\n"))
        .expect("write");
    let pending = store.pending().expect("pending");
    let listed: Vec<(String, String, &str)> = pending
        .iter()
        .map(|p| (p.role.clone(), p.case_id.clone(), p.status.as_str()))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("server".into(), "1.1.2".into(), "DRIFT"),
            ("server".into(), "1.1.10".into(), "NEW"),
            ("server".into(), "2.1".into(), "NEW"),
            ("ws/client".into(), "1.1.1".into(), "DRIFT"),
        ]
    );
    match &pending[0].status {
        SnapshotStatus::Drift { diff } => assert!(diff.contains("-b\n+B\n"), "{diff}"),
        other => panic!("{other:?}"),
    }

    // Accept only group 1 of the server... (the glob matches case ids, in every role)
    let accepted = store.accept(Some("1.1.*")).expect("accept");
    assert_eq!(accepted.len(), 3);
    assert_eq!(
        store
            .load("server", "1.1.2")
            .expect("load")
            .expect("stored")
            .body,
        "B"
    );
    assert_eq!(
        store
            .load("ws/client", "1.1.1")
            .expect("load")
            .expect("stored")
            .body,
        "C"
    );
    assert!(!store.new_path("server", "1.1.2").exists());
    // ...reject the rest.
    let rejected = store.reject(None).expect("reject");
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].case_id, "2.1");
    assert!(store.load("server", "2.1").expect("load").is_none());
    assert!(store.pending().expect("pending").is_empty());

    // A pending file for a case that no longer exists, and one for a kept case.
    store
        .write_new("server", "3.1", &snap("3.1", "gone\n"))
        .expect("write");
    store
        .write_new("server", "1.1.1", &snap("1.1.1", "a2\n"))
        .expect("write");
    std::fs::write(tmp.path().join("server/README.md"), "not a snapshot").expect("write");
    let removed = store.prune(&["1.1.1", "1.1.10"]).expect("prune");
    let names: Vec<String> = removed
        .iter()
        .map(|p| {
            p.strip_prefix(tmp.path())
                .expect("inside")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    assert_eq!(names, vec!["server/1.1.2.snap", "server/3.1.snap.new"]);
    assert!(store.path("server", "1.1.1").exists());
    assert!(store.new_path("server", "1.1.1").exists());
    assert!(store.path("ws/client", "1.1.1").exists());
    assert!(tmp.path().join("server/README.md").exists());

    // Writing an accepted snapshot clears a pending one; discard_new reports.
    store
        .write_accepted("server", "1.1.1", &snap("1.1.1", "a2\n"))
        .expect("write");
    assert!(!store.new_path("server", "1.1.1").exists());
    assert!(!store.discard_new("server", "1.1.1").expect("discard"));
}

#[test]
fn store_errors_name_the_file() {
    let tmp = TempDir::new("errors");
    let store = Store::new(tmp.path());
    let path = store.path("server", "1.1.1");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, "no header here\n").expect("write");
    let err = store.load("server", "1.1.1").expect_err("invalid file");
    let shown = err.to_string();
    assert!(shown.contains("1.1.1.snap:1:"), "{shown}");
    std::fs::write(store.new_path("server", "1.1.1"), "---\nexpression: x\n").expect("write");
    let err = store.pending().expect_err("invalid pending file");
    assert!(err.to_string().contains("1.1.1.snap.new:"), "{err}");
    assert!(store.load("../x", "1").is_err());
    assert!(store.load("server", "..").is_err());
    assert!(store.write_new("server", "a/b", "x").is_err());
}

#[test]
#[ignore = "prints the snapshot of every case against the reference server"]
fn print_reference_snapshots() {
    let (url, _rt) = harness::reference_server();
    let only: Vec<String> = std::env::var("CASES")
        .map(|v| v.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let only: Vec<&str> = only.iter().map(String::as_str).collect();
    for c in &harness::run(&url, &harness::corpus(&only)).cases {
        println!("=== {}\n{}", c.id, normalize(&c.transcript, &c.verdict));
    }
}
