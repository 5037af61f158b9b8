//! Proof that wsspec's permessage-deflate cases (group pmd, and rows 1-5 of
//! Autobahn's 12 and 13) catch faulty peers: deliberately faulty
//! permessage-deflate servers and clients (tests/common/faulty_deflate.rs,
//! raw sockets, their own negotiation and their own flate2 compression, no
//! wsspec code) are FAILED by exactly the cases aimed at their fault and are
//! OK everywhere else, and the same peers without a fault are OK on every
//! case (pmd.3.13, a 40 MiB message they refuse with 1009, is INFORMATIONAL
//! by design).
//!
//! Each expected set is written from what the fault breaks, with the reason:
//! which offers a fault answers wrongly, which echoes are long enough to
//! need several frames, which rows ask for a window or for no context
//! takeover. Only the rows of 12 and 13 a fault concerns run against it,
//! plus one row where it must pass, to keep the file fast.

#[path = "common/faulty_deflate.rs"]
mod faulty_deflate;
#[path = "common/harness.rs"]
mod harness;
#[path = "common/serve_proc.rs"]
mod serve_proc;

use std::collections::BTreeSet;
use std::time::Duration;

use faulty_deflate::{ClientFault, Fault};
use wsspec::judge::Outcome;
use wsspec::results::RunResults;
use wsspec::transcript::EventKind;

/// The one case a correct peer is not OK on: 40 MiB of zeros, which the
/// peers refuse with 1009; recorded, not graded.
const INFORMATIONAL: &str = "pmd.3.13";

/// Why the faulty cases must fail: a phrase of wsspec's verdict.
const RSV1_REASON: &str = "RSV1 on a continuation frame";
const CONTEXT_REASON: &str = "refers to an earlier message";
const WINDOW_REASON: &str = "-byte window";
const NEGOTIATION_REASON: &str = "the negotiation decided the case";

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn all_ids(r: &RunResults) -> BTreeSet<String> {
    r.cases.iter().map(|c| c.id.clone()).collect()
}

/// Runs the server-role cases `globs` select against a server with `fault`.
fn run_server(fault: Fault, globs: &[&str]) -> RunResults {
    let cases = harness::corpus(globs);
    let server = faulty_deflate::start(fault);
    let results = harness::run(&server.url(), &cases);
    assert_eq!(
        results.cases.len(),
        cases.len(),
        "{fault:?}: every case ran"
    );
    results
}

/// The FAILED set is exactly `expected`, each for `reason` (a phrase of its
/// behaviour or close reason); every other case is OK, but the
/// INFORMATIONAL one.
fn assert_failed_exactly(
    who: &str,
    results: &RunResults,
    expected: &BTreeSet<String>,
    reason: &str,
) {
    let failed = harness::ids_with(results, Outcome::Failed);
    let missed: BTreeSet<String> = expected.difference(&failed).cloned().collect();
    let extra: BTreeSet<String> = failed.difference(expected).cloned().collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "{who}: not caught: {missed:?}\n{}\nfalsely failed: {extra:?}\n{}",
        harness::explain(results, &missed),
        harness::explain(results, &extra)
    );
    for c in results.cases.iter().filter(|c| expected.contains(&c.id)) {
        let why = format!("{} | {}", c.verdict.behavior_reason, c.verdict.close_reason);
        assert!(
            why.contains(reason),
            "{who}: {} failed for another reason than `{reason}`: {why}",
            c.id
        );
    }
    let informational: BTreeSet<String> = all_ids(results)
        .into_iter()
        .filter(|id| id == INFORMATIONAL)
        .collect();
    assert_eq!(
        harness::ids_with(results, Outcome::Informational),
        informational,
        "{who}: INFORMATIONAL set\n{}",
        harness::explain(results, &harness::ids_with(results, Outcome::Informational))
    );
    let ok_wanted: BTreeSet<String> = all_ids(results)
        .difference(expected)
        .filter(|id| *id != INFORMATIONAL)
        .cloned()
        .collect();
    let ok = harness::ids_with(results, Outcome::Ok);
    let not_ok: BTreeSet<String> = ok_wanted.difference(&ok).cloned().collect();
    assert!(
        not_ok.is_empty(),
        "{who}: neither OK nor expected to fail: {not_ok:?}\n{}",
        harness::explain(results, &not_ok)
    );
}

fn check_server(fault: Fault, globs: &[&str], expected: &[&str], reason: &str) {
    let results = run_server(fault, globs);
    assert_failed_exactly(&format!("{fault:?}"), &results, &set(expected), reason);
}

// ---------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------

#[test]
fn a_correct_server_is_ok_on_pmd_and_rows_1_to_5_of_12_and_13() {
    // It declines every invalid offer (pmd.1), honours windows of 9 to 15
    // bits, 8 with zlib's 9-bit window (pmd.2.4), and no context takeover,
    // splits its echoes into frames of 128 bytes, and fails the connection
    // on every broken frame or stream of pmd.3. harness::corpus leaves out
    // rows 6-18 of 12 and 13: 35 pmd cases and 60 rows.
    let results = run_server(Fault::None, &["pmd.*", "12.*", "13.*"]);
    assert_eq!(results.cases.len(), 95);
    assert_failed_exactly("None", &results, &BTreeSet::new(), "");
}

#[test]
fn rsv1_on_continuation_frames_is_caught_by_every_echo_of_several_frames() {
    // RFC 7692 6.1: RSV1 only on the first frame of a message. The server
    // sends compressed echoes in frames of at most 128 bytes, so the fault
    // shows exactly where an echo compresses to more than 128 bytes: the
    // echoes of the sample payloads (json 8192: about 500 bytes, html 16384
    // with a 9- or 8-bit window: about 4300, json 4096: about 360, html 8192
    // with a 10-bit window: about 1200, json 1024: about 250). The echoes of
    // pmd.2.5 (about 80 bytes) and the hand-written "Hello"s and short texts
    // of pmd.3 fit one frame; pmd.1 is uncompressed.
    let expected = set(&[
        "pmd.2.1", "pmd.2.2", "pmd.2.3", "pmd.2.4", "pmd.2.6", "pmd.2.7", "pmd.2.8", "pmd.3.10",
    ]);
    // The same cases, seen from the correct server: the messages it sent in
    // more than one frame (and wsspec took them, as the test above shows).
    let correct = run_server(Fault::None, &["pmd.*"]);
    let several_frames: BTreeSet<String> = correct
        .cases
        .iter()
        .filter(|c| {
            c.transcript.events.iter().any(|e| {
                matches!(&e.kind, EventKind::MessageReceived { message }
                    if message.frames > 1 && message.compressed.is_some())
            })
        })
        .map(|c| c.id.clone())
        .collect();
    assert_eq!(
        several_frames, expected,
        "the correct server's echoes in several frames"
    );
    let results = run_server(Fault::Rsv1OnContinuation, &["pmd.*"]);
    assert_failed_exactly("Rsv1OnContinuation", &results, &expected, RSV1_REASON);
}

#[test]
fn ignoring_server_no_context_takeover_is_caught_by_pmd_2_5_and_13_2() {
    // RFC 7692 7.1.1.1. pmd.2.5 sends the same message twice; 13.2 offers
    // server_no_context_takeover over 1000 consecutive slices of JSON, where
    // a kept context refers back at once. 13.1.1 does not ask for it: the
    // kept context is allowed there.
    check_server(
        Fault::IgnoresServerNoContextTakeover,
        &["pmd.*", "13.1.1", "13.2.*"],
        &["pmd.2.5", "13.2.1", "13.2.2", "13.2.3", "13.2.4", "13.2.5"],
        CONTEXT_REASON,
    );
}

#[test]
fn a_window_larger_than_agreed_is_caught_wherever_it_reaches_beyond() {
    // RFC 7692 7.1.2.1: server_max_window_bits=9 (pmd.2.3, 13.3, 13.5),
    // 8 (pmd.2.4) and "10" (pmd.2.8), compressed with 15 bits. 13.3.1 keeps
    // its context, so even 16-byte messages refer to earlier ones more than
    // 512 bytes back. 13.5 adds server_no_context_takeover: messages of 16,
    // 64 and 256 bytes (13.5.1-13.5.3) cannot refer more than 512 bytes
    // back whatever the window, those of 1024 and 4096 bytes do. 13.4.1
    // asks for 15 bits, which is what the server uses.
    check_server(
        Fault::WindowTooLarge,
        &["pmd.*", "13.3.1", "13.4.1", "13.5.*"],
        &[
            "pmd.2.3", "pmd.2.4", "pmd.2.8", "13.3.1", "13.5.4", "13.5.5",
        ],
        WINDOW_REASON,
    );
}

#[test]
fn accepting_7_bit_windows_is_caught_by_pmd_1_1_1_5_and_2_6() {
    // RFC 7692 7.1.2.1, 7.1.2.2: window sizes are 8 to 15. pmd.1.1 offers
    // server_max_window_bits=7, pmd.1.5 client_max_window_bits=7; pmd.2.6
    // offers server_max_window_bits=7 first and plain permessage-deflate as
    // the fallback, and the server takes the first.
    check_server(
        Fault::AcceptsWindowBits7,
        &["pmd.*"],
        &["pmd.1.1", "pmd.1.5", "pmd.2.6"],
        NEGOTIATION_REASON,
    );
}

#[test]
fn accepting_unknown_or_repeated_parameters_is_caught_by_pmd_1_7_to_1_11() {
    // RFC 7692 7.1: a parameter given twice (pmd.1.7, pmd.1.8), an unknown
    // one (pmd.1.9), a value on a flag (pmd.1.10, pmd.1.11). Bad window
    // values (pmd.1.1-1.6, 1.12) are still declined.
    check_server(
        Fault::AcceptsUnknownParams,
        &["pmd.*"],
        &["pmd.1.7", "pmd.1.8", "pmd.1.9", "pmd.1.10", "pmd.1.11"],
        NEGOTIATION_REASON,
    );
}

// ---------------------------------------------------------------------------
// Clients, driving `wsspec serve --cases 'pmd.*'`
// ---------------------------------------------------------------------------

/// Runs `wsspec serve --cases 'pmd.*'` against the client with `fault`,
/// named `agent`; serve's results and exit code.
fn run_client(fault: ClientFault, agent: &str) -> (RunResults, Option<i32>) {
    let started = std::time::Instant::now();
    let mut serve = serve_proc::Serve::start(agent, &["pmd.*"], &[]);
    let host = serve.host();
    let name = agent.to_string();
    let drove = std::thread::spawn(move || faulty_deflate::drive(&host, &name, fault)).join();
    let code = serve.finish(Duration::from_secs(10));
    assert!(drove.is_ok(), "{fault:?}: the client driver panicked");
    let path = serve.report_dir.join(agent).join("results.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{fault:?}: {path:?}: {e}\n{}", serve.stderr()));
    let results: RunResults = serde_json::from_str(&text).expect("results.json parses");
    serve.remove_reports();
    eprintln!(
        "{fault:?}: {} cases in {:.1} s",
        results.cases.len(),
        started.elapsed().as_secs_f64()
    );
    // pmd.3 (15 cases) and pmd.4 (11) are the client-role cases.
    assert_eq!(results.cases.len(), 26, "{fault:?}: every client case ran");
    (results, code)
}

#[test]
fn a_correct_client_is_ok_on_every_client_case() {
    // It offers plain permessage-deflate, so it must refuse every answer of
    // pmd.4.1-4.8 (pmd.4.6 included: client_max_window_bits it did not
    // offer) and accept pmd.4.9-4.11, resetting its context for pmd.4.11.
    let (results, code) = run_client(ClientFault::None, "fd-none");
    assert_failed_exactly("client None", &results, &BTreeSet::new(), "");
    assert_eq!(code, Some(0), "serve's exit code");
}

#[test]
fn accepting_an_unoffered_extension_is_caught_by_pmd_4_1() {
    // RFC 6455 9.1: the client goes on after an answer with an extension it
    // did not offer.
    let (results, code) = run_client(ClientFault::AcceptsUnofferedExtension, "fd-ext");
    assert_failed_exactly(
        "AcceptsUnofferedExtension",
        &results,
        &set(&["pmd.4.1"]),
        NEGOTIATION_REASON,
    );
    assert_eq!(code, Some(1), "serve's exit code");
}

#[test]
fn accepting_unoffered_client_window_bits_is_caught_by_pmd_4_6() {
    // RFC 7692 7.1.2.2: client_max_window_bits=10 in the answer to an offer
    // without the parameter. The value is still checked, so pmd.4.5 (no
    // value) and pmd.4.7 (16) are refused as they must be.
    let (results, code) = run_client(ClientFault::AcceptsUnofferedClientBits, "fd-bits");
    assert_failed_exactly(
        "AcceptsUnofferedClientBits",
        &results,
        &set(&["pmd.4.6"]),
        NEGOTIATION_REASON,
    );
    assert_eq!(code, Some(1), "serve's exit code");
}
