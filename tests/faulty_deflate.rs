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
//!
//! The faults in what an endpoint takes from its peer ([`Receive`]) are the
//! same code in both roles: each such test runs the server against the
//! server-role cases and, at the same time, the client against `wsspec
//! serve`, so that every MUST case of pmd is FAILED, in each role it has,
//! by at least one faulty peer.

#[path = "common/faulty.rs"]
mod faulty;
#[path = "common/faulty_deflate.rs"]
mod faulty_deflate;
#[path = "common/harness.rs"]
mod harness;
#[path = "common/serve_proc.rs"]
mod serve_proc;

use std::collections::BTreeSet;
use std::time::Duration;

use faulty_deflate::{ClientFault, Fault, Receive};
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
const NO_FAIL_REASON: &str = "expected the peer to fail the connection; it did not";
const CLOSED_1007_REASON: &str = "the peer closed first (close frame 1007)";
const UTF8_REASON: &str = "not valid UTF-8 (RFC 6455 8.1)";
const ECHO_REASON: &str = "expected [";
const DROPPED_REASON: &str = "the peer closed first (no close frame)";

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

/// Runs `server` and `client` at the same time (a server run is in-process,
/// a client run drives a `wsspec serve` child): the two roles of one fault
/// cost the time of the slower.
fn both_roles(server: impl FnOnce() + Send, client: impl FnOnce() + Send) {
    std::thread::scope(|scope| {
        let client = scope.spawn(client);
        server();
        if let Err(panic) = client.join() {
            std::panic::resume_unwind(panic);
        }
    });
}

/// A fault in what an endpoint receives, in both roles: the server is
/// FAILED by exactly `server_expected` of the server-role pmd cases, the
/// client (named `agent`) by exactly `client_expected` of the client-role
/// ones, each for `reason`.
fn check_receive(
    receive: Receive,
    agent: &str,
    server_expected: &[&str],
    client_expected: &[&str],
    reason: &str,
) {
    both_roles(
        || {
            check_server(
                Fault::Receives(receive),
                &["pmd.*"],
                server_expected,
                reason,
            )
        },
        || {
            check_client(
                ClientFault::Receives(receive),
                agent,
                client_expected,
                reason,
            )
        },
    );
}

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
    // pmd.3 (18 cases) and pmd.4 (11) are the client-role cases.
    assert_eq!(results.cases.len(), 29, "{fault:?}: every client case ran");
    (results, code)
}

/// The FAILED set of the client with `fault` is exactly `expected`, each
/// for `reason`, and serve exits with 1 (some case FAILED).
fn check_client(fault: ClientFault, agent: &str, expected: &[&str], reason: &str) {
    let (results, code) = run_client(fault, agent);
    assert_failed_exactly(
        &format!("client {fault:?}"),
        &results,
        &set(expected),
        reason,
    );
    assert_eq!(code, Some(1), "{fault:?}: serve's exit code");
}

/// The cases in which wsspec received a compressed message in more than one
/// frame.
fn compressed_in_several_frames(results: &RunResults) -> BTreeSet<String> {
    results
        .cases
        .iter()
        .filter(|c| {
            c.transcript.events.iter().any(|e| {
                matches!(&e.kind, EventKind::MessageReceived { message }
                    if message.frames > 1 && message.compressed.is_some())
            })
        })
        .map(|c| c.id.clone())
        .collect()
}

// ---------------------------------------------------------------------------
// Servers: negotiation and what they send (with the client of the same
// fault, where there is one)
// ---------------------------------------------------------------------------

#[test]
fn a_correct_server_is_ok_on_pmd_and_rows_1_to_5_of_12_and_13() {
    // It declines every invalid offer (pmd.1), honours windows of 9 to 15
    // bits, 8 with zlib's 9-bit window (pmd.2.4), and no context takeover,
    // splits its echoes into frames of 128 bytes, and fails the connection
    // on every broken frame or stream of pmd.3. harness::corpus leaves out
    // rows 6-18 of 12 and 13: 38 pmd cases and 60 rows.
    let results = run_server(Fault::None, &["pmd.*", "12.*", "13.*"]);
    assert_eq!(results.cases.len(), 98);
    assert_failed_exactly("None", &results, &BTreeSet::new(), "");
}

#[test]
fn rsv1_on_continuation_frames_is_caught_by_every_echo_of_several_frames() {
    // RFC 7692 6.1: RSV1 only on the first frame of a message. The peers
    // send compressed echoes in frames of at most 128 bytes, so the fault
    // shows exactly where an echo compresses to more than 128 bytes: as the
    // server, the echoes of the sample payloads (json 8192: about 500
    // bytes, html 16384 with a 9- or 8-bit window: about 4300, json 4096:
    // about 360, html 8192 with a 10-bit window: about 1200, json 1024:
    // about 250). The echoes of pmd.2.5 (about 80 bytes) and the
    // hand-written "Hello"s and short texts of pmd.3 fit one frame; pmd.1 is
    // uncompressed. The flushed json 4096 (pmd.3.16) and bitmap slices
    // (pmd.3.18) too, in both roles (pmd.3.17's 20 bytes fit one frame).
    // As the client, the echoes of json 1024 (pmd.3.10) and json 4096
    // (pmd.4.9-4.11).
    let server_expected = set(&[
        "pmd.2.1", "pmd.2.2", "pmd.2.3", "pmd.2.4", "pmd.2.6", "pmd.2.7", "pmd.2.8", "pmd.3.10",
        "pmd.3.16", "pmd.3.18",
    ]);
    let client_expected = set(&[
        "pmd.3.10", "pmd.3.16", "pmd.3.18", "pmd.4.9", "pmd.4.10", "pmd.4.11",
    ]);
    both_roles(
        || {
            // The same cases, seen from the correct server: the messages it
            // sent in more than one frame (and wsspec took them, as the test
            // of the correct server shows).
            let correct = run_server(Fault::None, &["pmd.*"]);
            assert_eq!(
                compressed_in_several_frames(&correct),
                server_expected,
                "the correct server's echoes in several frames"
            );
            let results = run_server(Fault::Rsv1OnContinuation, &["pmd.*"]);
            assert_failed_exactly(
                "Rsv1OnContinuation",
                &results,
                &server_expected,
                RSV1_REASON,
            );
        },
        || {
            let (correct, _) = run_client(ClientFault::None, "fd-frames");
            assert_eq!(
                compressed_in_several_frames(&correct),
                client_expected,
                "the correct client's echoes in several frames"
            );
            let (results, code) = run_client(ClientFault::Rsv1OnContinuation, "fd-rsv1");
            assert_failed_exactly(
                "client Rsv1OnContinuation",
                &results,
                &client_expected,
                RSV1_REASON,
            );
            assert_eq!(code, Some(1), "serve's exit code");
        },
    );
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
fn accepting_unknown_or_repeated_parameters_is_caught_by_pmd_1_7_to_1_11_and_4_3_4_8() {
    // RFC 7692 7.1: a parameter given twice (pmd.1.7, pmd.1.8), an unknown
    // one (pmd.1.9), a value on a flag (pmd.1.10, pmd.1.11). Bad window
    // values (pmd.1.1-1.6, 1.12) are still declined. The client takes an
    // unknown parameter (pmd.4.3) and server_no_context_takeover=1 (pmd.4.8)
    // in the answer; bad window values and the rest of pmd.4.1-4.8 it still
    // refuses.
    both_roles(
        || {
            check_server(
                Fault::AcceptsUnknownParams,
                &["pmd.*"],
                &["pmd.1.7", "pmd.1.8", "pmd.1.9", "pmd.1.10", "pmd.1.11"],
                NEGOTIATION_REASON,
            )
        },
        || {
            check_client(
                ClientFault::AcceptsUnknownParams,
                "fd-params",
                &["pmd.4.3", "pmd.4.8"],
                NEGOTIATION_REASON,
            )
        },
    );
}

#[test]
fn ignoring_bad_window_sizes_is_caught_by_pmd_1_1_to_1_6_1_12_and_4_2_4_5_4_7() {
    // RFC 7692 7.1, 7.1.2: a window size is 8 to 15 in decimal. The server
    // ignores server_max_window_bits 7, 16, "ten", -9 or without a value
    // (pmd.1.1-1.4, 1.12) and client_max_window_bits 7 or 16 (pmd.1.5,
    // 1.6), and accepts the offer as if it did not have them. pmd.2.6 (a 7
    // first, then plain permessage-deflate) stays OK: its plain answer fits
    // the second offer. The client ignores server_max_window_bits=7
    // (pmd.4.2), client_max_window_bits without a value (pmd.4.5) and =16
    // (pmd.4.7); client_max_window_bits=10 (pmd.4.6) it refuses still, as
    // its offer did not have the parameter.
    both_roles(
        || {
            check_server(
                Fault::IgnoresBadWindowValues,
                &["pmd.*"],
                &[
                    "pmd.1.1", "pmd.1.2", "pmd.1.3", "pmd.1.4", "pmd.1.5", "pmd.1.6", "pmd.1.12",
                ],
                NEGOTIATION_REASON,
            )
        },
        || {
            check_client(
                ClientFault::IgnoresBadWindowValues,
                "fd-windows",
                &["pmd.4.2", "pmd.4.5", "pmd.4.7"],
                NEGOTIATION_REASON,
            )
        },
    );
}

#[test]
fn the_rsv_blind_server_of_faulty_rs_is_caught_by_pmd_3_3() {
    // tests/common/faulty.rs's IgnoreRsv server negotiates no extension and
    // never checks the RSV bits. pmd.3.3 sends RSV1 without permessage-
    // deflate: the server takes the compressed "Hello" as text, which is
    // not UTF-8, and fails the connection with 1007 where RFC 6455 5.2 asks
    // for a protocol error (1002). It declines every offer of pmd.1 (OK);
    // the cases that need permessage-deflate are UNIMPLEMENTED, pmd.3.15
    // (RSV2) among them, which Receive::IgnoresRsvOnceAgreed covers.
    let cases = harness::corpus(&["pmd.*"]);
    let server = faulty::start(faulty::Fault::IgnoreRsv);
    let results = harness::run(&server.url(), &cases);
    assert_eq!(results.cases.len(), cases.len(), "every case ran");
    let all = all_ids(&results);
    let failed = set(&["pmd.3.3"]);
    let ok: BTreeSet<String> = all
        .iter()
        .filter(|id| id.starts_with("pmd.1."))
        .cloned()
        .collect();
    let unimplemented: BTreeSet<String> = all
        .difference(&failed)
        .filter(|id| !ok.contains(*id))
        .cloned()
        .collect();
    for (outcome, want) in [
        (Outcome::Failed, &failed),
        (Outcome::Ok, &ok),
        (Outcome::Unimplemented, &unimplemented),
    ] {
        let got = harness::ids_with(&results, outcome);
        assert_eq!(
            &got,
            want,
            "IgnoreRsv: {outcome:?}\n{}",
            harness::explain(&results, &all)
        );
    }
    let why = &results
        .cases
        .iter()
        .find(|c| c.id == "pmd.3.3")
        .unwrap()
        .verdict;
    assert!(
        why.close_reason.contains("closed with 1007; expected 1002"),
        "pmd.3.3 failed for another reason: {}",
        why.close_reason
    );
}

// ---------------------------------------------------------------------------
// Faults in what is received, both roles
// ---------------------------------------------------------------------------

#[test]
fn ignoring_rsv_bits_once_agreed_is_caught_by_pmd_3_1_3_2_and_3_15() {
    // RFC 7692 6.1: RSV1 on a ping (pmd.3.1) or on a continuation frame
    // (pmd.3.2); RFC 6455 5.2: RSV2, which permessage-deflate does not
    // define (pmd.3.15). The endpoint answers the ping and echoes "Hello"
    // instead of failing the connection. pmd.3.3 (RSV1 without agreement)
    // is still refused: the fault needs permessage-deflate agreed.
    check_receive(
        Receive::IgnoresRsvOnceAgreed,
        "fd-rsv",
        &["pmd.3.1", "pmd.3.2", "pmd.3.15"],
        &["pmd.3.1", "pmd.3.2", "pmd.3.15"],
        NO_FAIL_REASON,
    );
}

#[test]
fn inflating_without_agreement_is_caught_by_pmd_3_3() {
    // RFC 6455 5.2, RFC 7692 6: pmd.3.3 is the only case that sends RSV1
    // with no extension agreed (the client offered one, wsspec answered
    // none); the endpoint inflates and echoes it.
    check_receive(
        Receive::InflatesWithoutAgreement,
        "fd-unagreed",
        &["pmd.3.3"],
        &["pmd.3.3"],
        NO_FAIL_REASON,
    );
}

#[test]
fn inflating_every_message_is_caught_by_pmd_3_4() {
    // RFC 7692 6: pmd.3.4 is the only message sent uncompressed after
    // permessage-deflate was agreed; inflating "sent as it is" fails (1007).
    check_receive(
        Receive::InflatesEveryMessage,
        "fd-every",
        &["pmd.3.4"],
        &["pmd.3.4"],
        CLOSED_1007_REASON,
    );
}

#[test]
fn ignoring_inflate_errors_is_caught_by_pmd_3_5_to_3_7() {
    // RFC 7692 7.2.2: a reserved block type (pmd.3.5), a stored block whose
    // NLEN is wrong (pmd.3.6), a distance before the stream (pmd.3.7). The
    // raw payloads are echoed (all three happen to be ASCII, so UTF-8 does
    // not stop them); every other compressed message of pmd inflates.
    check_receive(
        Receive::IgnoresInflateErrors,
        "fd-errors",
        &["pmd.3.5", "pmd.3.6", "pmd.3.7"],
        &["pmd.3.5", "pmd.3.6", "pmd.3.7"],
        NO_FAIL_REASON,
    );
}

#[test]
fn refusing_the_empty_message_is_caught_by_pmd_3_8() {
    // RFC 7692 7.2.3.6: pmd.3.8's single 00 is the only compressed message
    // of pmd that inflates to nothing.
    check_receive(
        Receive::RefusesEmptyMessage,
        "fd-empty",
        &["pmd.3.8"],
        &["pmd.3.8"],
        CLOSED_1007_REASON,
    );
}

#[test]
fn refusing_a_final_block_is_caught_by_pmd_3_9() {
    // RFC 7692 7.2.3.3: pmd.3.9's "Hello" is the only stream with BFINAL
    // set; wsspec's compressor ends every other message with a sync flush.
    check_receive(
        Receive::RefusesFinalBlock,
        "fd-final",
        &["pmd.3.9"],
        &["pmd.3.9"],
        CLOSED_1007_REASON,
    );
}

#[test]
fn refusing_stored_blocks_is_caught_by_pmd_3_11() {
    // RFC 7692 7.2.3.4: pmd.3.11 begins with a stored block holding "Hello".
    // pmd.3.6 begins with one too, but must fail anyway (its NLEN is
    // wrong), and pmd.3.8's lone 00 is an empty block. wsspec compresses
    // its other messages into Huffman blocks, pmd.3.14's 20 bytes included.
    check_receive(
        Receive::RefusesStoredBlocks,
        "fd-stored",
        &["pmd.3.11"],
        &["pmd.3.11"],
        CLOSED_1007_REASON,
    );
}

#[test]
fn resetting_the_inflater_is_caught_wherever_a_message_refers_back() {
    // RFC 7692 7.2.3.2: with context takeover, a message may refer into
    // the previous ones. pmd.3.12 does so by hand ("Hello" twice). As the
    // client, wsspec keeps its context, so the server also fails where
    // wsspec sends similar messages in a row: the four 16 KiB HTML slices
    // of pmd.2.3 and pmd.2.4 and the repeated text of pmd.2.5 (which asks
    // for server_no_context_takeover, not the client's). As the server,
    // wsspec keeps its context in pmd.4.10 and pmd.4.11 (two JSON slices),
    // but not in pmd.4.9, where it answered server_no_context_takeover.
    // In both roles, pmd.3.18's second bitmap slice refers into the first.
    check_receive(
        Receive::ResetsInflater,
        "fd-reset",
        &["pmd.2.3", "pmd.2.4", "pmd.2.5", "pmd.3.12", "pmd.3.18"],
        &["pmd.3.12", "pmd.3.18", "pmd.4.10", "pmd.4.11"],
        CLOSED_1007_REASON,
    );
}

#[test]
fn no_utf8_check_after_inflation_is_caught_by_pmd_3_14() {
    // RFC 6455 8.1: pmd.3.14 is the only compressed text that is not UTF-8;
    // the endpoint echoes it, and wsspec sees invalid text come back.
    check_receive(
        Receive::NoUtf8CheckAfterInflation,
        "fd-utf8",
        &["pmd.3.14"],
        &["pmd.3.14"],
        UTF8_REASON,
    );
}

#[test]
fn stopping_at_the_first_flush_is_caught_by_pmd_3_16_to_3_18() {
    // RFC 7692 7.2.2: only pmd.3.16-3.18 flush inside a message; wsspec
    // ends every other compressed message with the flush whose tail it
    // removes, so no other payload holds an empty stored block. The cut
    // message comes back short, which is not the echo expected.
    check_receive(
        Receive::StopsAtFirstFlush,
        "fd-flush",
        &["pmd.3.16", "pmd.3.17", "pmd.3.18"],
        &["pmd.3.16", "pmd.3.17", "pmd.3.18"],
        ECHO_REASON,
    );
}

// ---------------------------------------------------------------------------
// Clients only, driving `wsspec serve --cases 'pmd.*'`
// ---------------------------------------------------------------------------

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
    check_client(
        ClientFault::AcceptsUnofferedExtension,
        "fd-ext",
        &["pmd.4.1"],
        NEGOTIATION_REASON,
    );
}

#[test]
fn accepting_unoffered_client_window_bits_is_caught_by_pmd_4_6() {
    // RFC 7692 7.1.2.2: client_max_window_bits=10 in the answer to an offer
    // without the parameter. The value is still checked, so pmd.4.5 (no
    // value) and pmd.4.7 (16) are refused as they must be.
    check_client(
        ClientFault::AcceptsUnofferedClientBits,
        "fd-bits",
        &["pmd.4.6"],
        NEGOTIATION_REASON,
    );
}

#[test]
fn accepting_permessage_deflate_twice_is_caught_by_pmd_4_4() {
    // RFC 7692 5.1: two permessage-deflate extensions would both use RSV1.
    // The client uses the first, as `ws` does.
    check_client(
        ClientFault::AcceptsDeflateTwice,
        "fd-twice",
        &["pmd.4.4"],
        NEGOTIATION_REASON,
    );
}

#[test]
fn refusing_parameters_a_server_may_add_is_caught_by_pmd_4_9_to_4_11() {
    // RFC 7692 7.1.1.1, 7.1.1.2, 7.1.2.1: a server may answer
    // server_no_context_takeover, client_no_context_takeover and
    // server_max_window_bits of its own accord. The client drops the
    // connection at once (pmd.4.9-4.11); the answers of pmd.4.1-4.8 it must
    // refuse anyway, and the plain answers of pmd.3 it takes.
    check_client(
        ClientFault::RefusesServerAdditions,
        "fd-additions",
        &["pmd.4.9", "pmd.4.10", "pmd.4.11"],
        DROPPED_REASON,
    );
}

#[test]
fn ignoring_client_no_context_takeover_is_caught_by_pmd_4_11() {
    // RFC 7692 7.1.1.2: pmd.4.11 answers client_no_context_takeover and
    // has the client echo two JSON slices; the second refers into the first.
    check_client(
        ClientFault::IgnoresClientNoContextTakeover,
        "fd-client-context",
        &["pmd.4.11"],
        CONTEXT_REASON,
    );
}
