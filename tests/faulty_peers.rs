//! Proof that each case family catches real faults: deliberately faulty
//! servers (raw sockets, their own framing, no wsspec code) are FAILED by
//! exactly the cases that target their fault and pass everything else. Each
//! expected set is written from what the fault breaks, not from a run.

#[path = "common/faulty.rs"]
mod faulty;
#[path = "common/harness.rs"]
mod harness;

use std::collections::BTreeSet;

use faulty::Fault;
use wsspec::judge::Outcome;

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn all_ids() -> BTreeSet<String> {
    harness::corpus(&[])
        .iter()
        .map(|c| c.spec.id.clone())
        .collect()
}

/// Cases where the peer must fail the connection (protocol errors in groups 2-5).
fn peer_must_fail() -> BTreeSet<String> {
    harness::corpus(&[])
        .iter()
        .filter(|c| c.spec.expect.close.by == wsspec::case::Closer::Peer)
        .map(|c| c.spec.id.clone())
        .collect()
}

fn check(fault: Fault, expected_failed: BTreeSet<String>) {
    let server = faulty::start(fault);
    let results = harness::run(&server.url(), &harness::corpus(&[]));
    let failed = harness::ids_with(&results, Outcome::Failed);
    let missed: BTreeSet<String> = expected_failed.difference(&failed).cloned().collect();
    let extra: BTreeSet<String> = failed.difference(&expected_failed).cloned().collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "{fault:?}: not caught: {missed:?}\n{}\nfalsely failed: {extra:?}\n{}",
        harness::explain(&results, &missed),
        harness::explain(&results, &extra)
    );
    let errors = harness::ids_with(&results, Outcome::Error);
    assert!(errors.is_empty(), "{fault:?}: harness errors {errors:?}");
}

#[test]
fn correct_raw_socket_server_passes_everything() {
    check(Fault::None, BTreeSet::new());
}

#[test]
fn echoing_reserved_opcodes_is_caught_by_group_4() {
    let want = harness::corpus(&["4.*"])
        .iter()
        .map(|c| c.spec.id.clone())
        .collect();
    check(Fault::EchoReservedOpcodes, want);
}

#[test]
fn ignoring_rsv_bits_is_caught_by_group_3() {
    let want = harness::corpus(&["3.*"])
        .iter()
        .map(|c| c.spec.id.clone())
        .collect();
    check(Fault::IgnoreRsv, want);
}

#[test]
fn missing_pongs_are_caught() {
    check(
        Fault::NoPong,
        set(&[
            "2.1", "2.2", "2.3", "2.4", "2.6", "2.9", "2.10", "2.11", "5.6", "5.7", "5.8", "5.19",
            "5.20",
        ]),
    );
}

#[test]
fn fragmented_control_frames_are_caught() {
    check(Fault::AcceptFragmentedControl, set(&["5.1", "5.2"]));
}

#[test]
fn oversized_ping_is_caught() {
    check(Fault::AcceptOversizedControl, set(&["2.5"]));
}

#[test]
fn truncated_large_messages_are_caught() {
    check(
        Fault::TruncateLarge,
        set(&["1.1.7", "1.1.8", "1.2.7", "1.2.8"]),
    );
}

#[test]
fn a_server_that_never_closes_fails_every_case() {
    check(Fault::NeverClose, all_ids());
}

#[test]
fn masked_server_frames_fail_every_case() {
    check(Fault::MaskedFrames, all_ids());
}

#[test]
fn stray_continuations_are_caught() {
    check(
        Fault::AcceptStrayContinuation,
        set(&[
            "5.9", "5.10", "5.11", "5.12", "5.13", "5.14", "5.15", "5.16", "5.17",
        ]),
    );
}

#[test]
fn wrong_close_codes_are_caught_wherever_the_peer_must_fail() {
    check(Fault::WrongCloseCode, peer_must_fail());
}

#[test]
fn refusing_control_frames_mid_message_is_caught() {
    check(
        Fault::ControlMidMessageFails,
        set(&["5.6", "5.7", "5.8", "5.19", "5.20"]),
    );
}

#[test]
fn a_wrong_accept_key_fails_every_case() {
    check(Fault::BadAcceptKey, all_ids());
}
