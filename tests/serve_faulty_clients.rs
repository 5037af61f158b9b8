//! `wsspec serve` against deliberately faulty clients (tests/common/
//! faulty_client.rs, an in-process raw-socket echo client). With no fault
//! nothing fails; each fault fails exactly the cases it breaks, derived from
//! the fault's meaning and the cases' own expectations.

#[path = "common/faulty_client.rs"]
mod faulty_client;
#[path = "common/harness.rs"]
mod harness;
#[path = "common/serve_proc.rs"]
mod serve_proc;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use faulty_client::{drive, ClientFault};
use harness::ids;
use serve_proc::Serve;
use wsspec::case::filter::glob_match;
use wsspec::case::{Case, Closer, Role};

/// Autobahn's groups 1–7 and 10, the ones Autobahn itself runs against clients.
const AUTOBAHN: [&str; 8] = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"];
/// wsspec's own client cases (masking and the client's handshake).
const CLIENT_ONLY: [&str; 1] = ["cl.*"];

/// The client-role cases `serve --cases P...` selects.
fn selected(patterns: &[&str]) -> Vec<Case> {
    let cases = wsspec::case::load::load(&wsspec::case::embedded_sources()).expect("corpus");
    cases
        .into_iter()
        .filter(|c| {
            c.spec.roles.contains(&Role::Client)
                && patterns.iter().any(|p| glob_match(p, &c.spec.id))
        })
        .collect()
}

/// Starts `wsspec serve` on a free port, drives it with the faulty client,
/// returns the ids of the failed cases (behavior FAILED, or behaviorClose
/// FAILED / WRONG CODE / UNCLEAN) and how many cases were reported.
fn failed_with(fault: ClientFault, agent: &str, patterns: &[&str]) -> (BTreeSet<String>, usize) {
    failed_scaled(fault, agent, patterns, 1.0)
}

/// [`failed_with`] with `--timeout-scale`: a fault that leaves wsspec waiting
/// out a timeout in many cases (no 1007, no close echo) runs at half scale;
/// the verdicts do not depend on how long wsspec waits for what never comes.
fn failed_scaled(
    fault: ClientFault,
    agent: &str,
    patterns: &[&str],
    timeout_scale: f64,
) -> (BTreeSet<String>, usize) {
    let (reasons, reported, _) = run_faulty(fault, agent, patterns, timeout_scale);
    (reasons.into_keys().collect(), reported)
}

/// The failed cases with their reasons (behaviour reason, then close reason),
/// how many cases were reported, and serve's exit code.
fn run_faulty(
    fault: ClientFault,
    agent: &str,
    patterns: &[&str],
    timeout_scale: f64,
) -> (BTreeMap<String, String>, usize, Option<i32>) {
    let started = std::time::Instant::now();
    let scale = timeout_scale.to_string();
    let mut serve = Serve::start(agent, patterns, &["--timeout-scale", &scale]);
    let host = serve.host();
    let agent_name = agent.to_string();
    let drove = std::thread::spawn(move || drive(&host, &agent_name, fault)).join();
    let code = serve.finish(Duration::from_secs(10));
    assert!(drove.is_ok(), "the client driver panicked");
    let index = serve
        .json("index.json")
        .expect("serve wrote index.json after updateReports");
    let cases = index[agent].as_object().expect("agent in index.json");
    let bad_close = ["FAILED", "WRONG CODE", "UNCLEAN"];
    let mut failed: BTreeMap<String, String> = cases
        .iter()
        .filter(|(_, v)| {
            v["behavior"] == "FAILED"
                || bad_close.contains(&v["behaviorClose"].as_str().unwrap_or(""))
        })
        .map(|(id, _)| (id.clone(), String::new()))
        .collect();
    // Cases without an Autobahn id (wsspec's own) are not in index.json; the
    // agent's results.json has them all, with the reasons: it must exist.
    let results = serve
        .json(Path::new(agent).join("results.json"))
        .expect("serve wrote the agent's results.json");
    let all = results["cases"].as_array().expect("results.json has cases");
    let reported = all.len();
    for c in all {
        let v = &c["verdict"];
        if v["behavior"] == "FAILED" || bad_close.contains(&v["close"].as_str().unwrap_or("")) {
            let reason = format!(
                "{} | {}",
                v["behavior_reason"].as_str().unwrap_or(""),
                v["close_reason"].as_str().unwrap_or("")
            );
            failed.insert(c["id"].as_str().unwrap_or("?").to_string(), reason);
        }
    }
    serve.remove_reports();
    eprintln!(
        "{fault:?}: {} of {reported} failed in {:.1} s: {:?}",
        failed.len(),
        started.elapsed().as_secs_f64(),
        failed.keys().collect::<Vec<_>>()
    );
    (failed, reported, code)
}

fn assert_same(fault: &str, got: &BTreeSet<String>, want: &BTreeSet<String>) {
    let extra: Vec<_> = got.difference(want).collect();
    let missing: Vec<_> = want.difference(got).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{fault}: failed but not expected {extra:?}; expected but not failed {missing:?}"
    );
}

#[test]
fn correct_client_fails_nothing() {
    let patterns: Vec<&str> = AUTOBAHN.iter().chain(&CLIENT_ONLY).copied().collect();
    let all = selected(&patterns);
    let (failed, reported) = failed_with(ClientFault::None, "fc-none", &patterns);
    assert_eq!(reported, all.len(), "every selected case ran");
    // A correct client fails nothing. (6.4.x: this client validates UTF-8 per
    // whole frame, which those cases grade NON-STRICT, not FAILED.)
    assert_same("None", &failed, &BTreeSet::new());
}

#[test]
fn unmasked_client_frames_fail_every_case() {
    let all = selected(&AUTOBAHN);
    let (failed, _) = failed_with(ClientFault::UnmaskedFrames, "fc-unmasked", &AUTOBAHN);
    // Every case ends with the client sending at least a close frame (an
    // answer to wsspec's close or its own), and wsspec fails any unmasked
    // client frame (RFC 6455 5.1).
    assert_same("UnmaskedFrames", &failed, &ids(&all, |_| true));
}

#[test]
fn no_utf8_check_fails_the_invalid_utf8_cases() {
    let all = selected(&AUTOBAHN);
    let (failed, _) = failed_scaled(ClientFault::NoUtf8Check, "fc-noutf8", &AUTOBAHN, 0.5);
    // The group-6 cases that expect the client to fail with 1007: it echoes
    // the invalid text instead (RFC 6455 8.1). Close reasons (7.5.1) are still
    // checked by this client, so group 7 is unaffected.
    let want = ids(&all, |c| {
        c.spec.id.starts_with("6.") && c.spec.expect.close.codes.contains(&1007)
    });
    assert_eq!(want.len(), 75, "the invalid-UTF-8 cases of group 6");
    assert_same("NoUtf8Check", &failed, &want);
}

#[test]
fn never_echoing_close_fails_the_clean_close_cases() {
    // Groups 1, 2, 5 and 7 hold every kind of ending (wsspec closes cleanly,
    // wsspec closes with a bad close frame, the client must fail first); the
    // other groups only repeat them and would add minutes of close timeouts.
    let patterns = ["1.*", "2.*", "5.*", "7.*"];
    let all = selected(&patterns);
    let (failed, _) = failed_scaled(ClientFault::NeverEchoClose, "fc-noclose", &patterns, 0.5);
    // Where wsspec starts the close and requires a clean closing handshake,
    // a client that never answers leaves it UNCLEAN (RFC 6455 5.5.1: the
    // endpoint MUST send a close frame in response). Where wsspec closes with
    // a bad close frame (7.3.2, 7.3.6, 7.5.1, 7.9.x, 7.13.x) no clean close is
    // required and "no close frame" is an accepted answer, so silence passes;
    // where the client must fail the connection itself, it closes first and
    // never needs to answer a close. Informational cases (7.1.6: a close
    // queued behind a 256 KiB message) record the missing close but do not
    // grade it.
    let want = ids(&all, |c| {
        c.spec.expect.close.by == Closer::Harness
            && c.spec.expect.close.clean
            && !c.spec.informational
    });
    assert!(want.len() > 50, "too few clean-close cases: {want:?}");
    assert_same("NeverEchoClose", &failed, &want);
}

/// Runs a masking-key fault and checks that every failure it causes is about
/// the masking key, and that the cases aimed at it are among them.
fn mask_key_fault_is_caught(fault: ClientFault, agent: &str) {
    let patterns = ["2.*", "cl.1.*"];
    let (failed, _, _) = run_faulty(fault, agent, &patterns, 1.0);
    // RFC 6455 5.3: the masking key MUST be a fresh, unpredictable value for
    // every frame. cl.1.2 (fifty echoes) is the case aimed at it; 2.10 and
    // 2.11 (ten pongs) see enough frames too. Cases where the client sends
    // too few frames to tell a pattern from chance pass.
    for id in ["2.10", "2.11", "cl.1.2"] {
        assert!(
            failed.contains_key(id),
            "{fault:?}: {id} did not fail: {failed:?}"
        );
    }
    for (id, reason) in &failed {
        assert!(
            reason.contains("masking key") || reason.contains("all-zero key"),
            "{fault:?}: {id} failed for another reason: {reason}"
        );
    }
}

#[test]
fn fixed_mask_key_is_caught() {
    mask_key_fault_is_caught(ClientFault::FixedMaskKey, "fc-fixedkey");
}

#[test]
fn counter_mask_key_is_caught() {
    mask_key_fault_is_caught(ClientFault::CounterMaskKey, "fc-counterkey");
}

#[test]
fn zero_mask_key_is_caught() {
    mask_key_fault_is_caught(ClientFault::ZeroMaskKey, "fc-zerokey");
}

#[test]
fn ignoring_sec_websocket_accept_is_caught() {
    let (failed, _) = failed_with(ClientFault::IgnoresAccept, "fc-accept", &CLIENT_ONLY);
    // RFC 6455 4.1: a wrong or missing Sec-WebSocket-Accept MUST fail the
    // connection (cl.2.22's is wrong only in letter case); this client goes
    // on and echoes wsspec's message.
    let want: BTreeSet<String> = ["cl.2.1", "cl.2.2", "cl.2.22"].map(String::from).into();
    assert_same("IgnoresAccept", &failed, &want);
}

#[test]
fn a_case_insensitive_accept_check_is_caught() {
    let (failed, _) = failed_with(
        ClientFault::AcceptCaseInsensitive,
        "fc-acceptcase",
        &CLIENT_ONLY,
    );
    // Base64 is case-sensitive: the right letters in the other case are a
    // wrong Sec-WebSocket-Accept, which MUST fail the connection.
    let want: BTreeSet<String> = ["cl.2.22".to_string()].into();
    assert_same("AcceptCaseInsensitive", &failed, &want);
}

#[test]
fn unoffered_subprotocol_is_caught() {
    let (failed, _) = failed_with(
        ClientFault::AcceptsUnofferedSubprotocol,
        "fc-subprotocol",
        &CLIENT_ONLY,
    );
    // RFC 6455 4.1: a subprotocol the client did not offer MUST fail the
    // connection.
    let want: BTreeSet<String> = ["cl.2.7".to_string()].into();
    assert_same("AcceptsUnofferedSubprotocol", &failed, &want);
}

#[test]
fn masked_server_frames_are_caught() {
    let (failed, _) = failed_with(
        ClientFault::AcceptsMaskedServerFrames,
        "fc-masked",
        &CLIENT_ONLY,
    );
    // RFC 6455 5.1: a client MUST close the connection when it sees a masked
    // frame. Only cl.2.10 sends one; every Autobahn case's server frames are
    // unmasked in the client role.
    let want: BTreeSet<String> = ["cl.2.10".to_string()].into();
    assert_same("AcceptsMaskedServerFrames", &failed, &want);
}

/// Runs `wsspec serve` with extra arguments against the faulty client and
/// returns its exit code.
fn serve_exit_code(fault: ClientFault, agent: &str, patterns: &[&str], extra: &[&str]) -> i32 {
    let mut serve = Serve::start(agent, patterns, extra);
    drive(&serve.host(), agent, fault);
    let code = serve.finish(Duration::from_secs(10));
    serve.remove_reports();
    code.unwrap_or(-1)
}

#[test]
fn serve_keeps_snapshots_per_agent() {
    let dir = std::env::temp_dir().join(format!("wsspec-serve-snaps-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let snaps = dir.to_string_lossy().to_string();
    let patterns = ["6.3.*", "6.6.*", "7.1.*"];
    // Baseline a correct client.
    let code = serve_exit_code(
        ClientFault::None,
        "snap-agent",
        &patterns,
        &["--snapshots", &snaps, "--snapshots-update"],
    );
    assert_eq!(code, 0, "storing the baseline");
    let store = dir.join("snap-agent").join("client");
    let stored = std::fs::read_dir(&store)
        .map(|d| d.filter_map(Result::ok).count())
        .unwrap_or(0);
    assert_eq!(
        stored,
        selected(&patterns).len(),
        "one .snap per case in {store:?}"
    );
    // The same client again: everything matches.
    let code = serve_exit_code(
        ClientFault::None,
        "snap-agent",
        &patterns,
        &["--snapshots", &snaps],
    );
    assert_eq!(code, 0, "an unchanged client matches its snapshots");
    // A release that stops checking UTF-8: drift on the invalid-text cases
    // (pending .snap.new files beside them), nothing else.
    let code = serve_exit_code(
        ClientFault::NoUtf8Check,
        "snap-agent",
        &patterns,
        &["--snapshots", &snaps, "--timeout-scale", "0.5"],
    );
    assert_eq!(code, 1, "a changed client fails the run");
    let mut pending: Vec<String> = std::fs::read_dir(&store)
        .expect("store")
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.strip_suffix(".snap.new").map(str::to_string)
        })
        .collect();
    pending.sort();
    let want: Vec<String> = {
        let mut w: Vec<String> = selected(&patterns)
            .iter()
            .filter(|c| c.spec.expect.close.codes.contains(&1007))
            .map(|c| c.spec.id.clone())
            .collect();
        w.sort();
        w
    };
    assert!(!want.is_empty());
    assert_eq!(pending, want, "drift exactly on the invalid-UTF-8 cases");
    // Another agent has a store of its own: with no baseline, every case is
    // NEW for it (exit 1), and the first agent's store is left as it was.
    let code = serve_exit_code(
        ClientFault::None,
        "snap-other",
        &patterns,
        &["--snapshots", &snaps],
    );
    assert_eq!(code, 1, "a new agent's cases are NEW");
    let other = std::fs::read_dir(dir.join("snap-other").join("client"))
        .map(|d| d.filter_map(Result::ok).count())
        .unwrap_or(0);
    assert_eq!(
        other,
        selected(&patterns).len(),
        "one pending file per case"
    );
    let still: usize = std::fs::read_dir(&store)
        .map(|d| d.filter_map(Result::ok).count())
        .unwrap_or(0);
    assert_eq!(
        still,
        stored + want.len(),
        "the first agent's store: .snap files plus its pending ones"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_reused_handshake_key_is_caught() {
    let all = selected(&CLIENT_ONLY);
    let (failed, _, _) = run_faulty(
        ClientFault::FixedHandshakeKey,
        "fc-samekey",
        &CLIENT_ONLY,
        1.0,
    );
    // RFC 6455 4.1: the key is a nonce randomly selected for each connection.
    // The first connection cannot tell; every later one repeats it.
    let want = ids(&all[1..], |_| true);
    assert_same(
        "FixedHandshakeKey",
        &failed.keys().cloned().collect(),
        &want,
    );
    assert!(
        failed.values().all(|r| r.contains("Sec-WebSocket-Key")),
        "{failed:?}"
    );
}

/// A client whose every request breaks RFC 6455 4.1 (the driver's own
/// included) still runs every case and gets a report: each case FAILED with
/// the defect as its reason, and serve exits 1.
fn request_defect_is_reported(fault: ClientFault, agent: &str, defect: &str) {
    let patterns = ["1.1.1", "2.1", "7.1.1", "cl.2.11", "cl.2.23", "cl.2.22"];
    let all = selected(&patterns);
    let (failed, reported, code) = run_faulty(fault, agent, &patterns, 1.0);
    assert_eq!(reported, all.len(), "{fault:?}: every case has a row");
    assert_same(
        &format!("{fault:?}"),
        &failed.keys().cloned().collect(),
        &ids(&all, |_| true),
    );
    assert!(
        failed.values().all(|r| r.contains(defect)),
        "{fault:?}: want `{defect}` in every reason: {failed:?}"
    );
    assert_eq!(code, Some(1), "{fault:?}: serve's exit code");
}

#[test]
fn a_draft_version_request_is_caught() {
    request_defect_is_reported(
        ClientFault::OldVersion,
        "fc-version",
        "Sec-WebSocket-Version",
    );
}

#[test]
fn a_short_handshake_key_is_caught() {
    request_defect_is_reported(
        ClientFault::ShortHandshakeKey,
        "fc-short-key",
        "not 16 bytes",
    );
}

#[test]
fn a_request_without_host_is_caught() {
    request_defect_is_reported(ClientFault::NoHostHeader, "fc-no-host", "no Host header");
}

#[test]
fn a_request_without_a_key_is_caught() {
    request_defect_is_reported(
        ClientFault::NoHandshakeKey,
        "fc-no-key",
        "no Sec-WebSocket-Key",
    );
}

#[test]
fn close_code_1005_on_the_wire_is_caught() {
    let (failed, _) = failed_with(ClientFault::Close1005OnTheWire, "fc-1005", &["7.*"]);
    // RFC 6455 7.4.1: 1005 MUST NOT be set as a status code in a close frame;
    // 7.3.1 is the case where wsspec closes without a body.
    let want: BTreeSet<String> = ["7.3.1".to_string()].into();
    assert_same("Close1005OnTheWire", &failed, &want);
}

#[test]
fn an_over_long_close_echoed_back_is_caught() {
    let (failed, _) = failed_with(ClientFault::EchoOverlongClose, "fc-overlong", &["7.*"]);
    // RFC 6455 5.5: a control frame carries at most 125 bytes, so a client
    // that sends 7.3.6's 126-byte close back breaks the rule itself.
    let want: BTreeSet<String> = ["7.3.6".to_string()].into();
    assert_same("EchoOverlongClose", &failed, &want);
}

#[test]
fn a_client_dropping_large_messages_has_not_refused_them() {
    // Only a close with 1009 (or 1008) makes a refusal; a client whose
    // connection dies on a message of 1 MiB or more FAILS those cases.
    let patterns = ["9.1.*", "9.2.*"];
    let (failed, reported) =
        failed_with(ClientFault::DropsLargeMessages, "fc-drop-large", &patterns);
    assert_eq!(reported, selected(&patterns).len());
    let want: BTreeSet<String> = [
        "9.1.3", "9.1.4", "9.1.5", "9.1.6", "9.2.3", "9.2.4", "9.2.5", "9.2.6",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_same("DropsLargeMessages", &failed, &want);
}

#[test]
fn a_client_ignoring_the_status_code_is_caught_by_the_non_101_upgrades() {
    // RFC 6455 4.2.2: only 101 completes the handshake. The bare refusals
    // (cl.2.11–cl.2.14) lack the upgrade headers, so this client refuses
    // them anyway; the answers that carry every upgrade header catch it.
    let (failed, _) = failed_with(ClientFault::IgnoresStatus, "fc-status", &["cl.2.*"]);
    let want: BTreeSet<String> = [
        "cl.2.23", "cl.2.24", "cl.2.25", "cl.2.26", "cl.2.27", "cl.2.28",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_same("IgnoresStatus", &failed, &want);
}
