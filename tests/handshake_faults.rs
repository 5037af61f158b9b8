//! The handshake group against deliberately faulty servers (raw sockets, their
//! own handshake code): each fault is FAILED by exactly the cases aimed at it.
//! A correct raw-socket server passes every case.

#[path = "common/faulty.rs"]
mod faulty;
#[path = "common/harness.rs"]
mod harness;

use std::collections::BTreeSet;

use faulty::Fault;
use wsspec::judge::Outcome;
use wsspec::results::RunResults;

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn run(fault: Fault) -> RunResults {
    let server = faulty::start(fault);
    harness::run(&server.url(), &harness::corpus(&["hs.*"]))
}

fn assert_failed(fault: Fault, results: &RunResults, want: &BTreeSet<String>) {
    let failed = harness::ids_with(results, Outcome::Failed);
    let missed: BTreeSet<_> = want.difference(&failed).cloned().collect();
    let extra: BTreeSet<_> = failed.difference(want).cloned().collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "{fault:?}: not caught {missed:?}\n{}\nfalsely failed {extra:?}\n{}",
        harness::explain(results, &missed),
        harness::explain(results, &extra)
    );
}

/// How many handshake cases a correct server answers with 101.
const UPGRADED: usize = 27;

/// The cases a correct server accepts with 101: a fault in the 101 response
/// itself must fail every one of them.
fn upgraded_by_a_correct_server() -> BTreeSet<String> {
    let results = run(Fault::None);
    results
        .cases
        .iter()
        .filter(|c| c.transcript.response().is_some_and(|h| h.status == 101))
        .map(|c| c.id.clone())
        .collect()
}

#[test]
fn a_correct_server_passes_every_handshake_case() {
    let results = run(Fault::None);
    assert_failed(Fault::None, &results, &BTreeSet::new());
    // The correct server upgrades exactly where a case's handshake allows a
    // 101 and the request is one RFC 6455 4.2.1 lets a server accept.
    let upgraded = upgraded_by_a_correct_server();
    let allowed = harness::ids(&harness::corpus(&["hs.*"]), |c| {
        c.spec.expect.handshake.allows_upgrade()
    });
    let outside: Vec<_> = upgraded.difference(&allowed).collect();
    assert!(
        outside.is_empty(),
        "upgraded where no 101 is allowed: {outside:?}"
    );
    assert_eq!(upgraded.len(), UPGRADED, "{upgraded:?}");
}

#[test]
fn accepting_post_is_caught() {
    assert_failed(
        Fault::AcceptPost,
        &run(Fault::AcceptPost),
        &set(&["hs.1.1"]),
    );
}

#[test]
fn accepting_keys_of_the_wrong_length_is_caught() {
    assert_failed(
        Fault::AcceptShortKey,
        &run(Fault::AcceptShortKey),
        &set(&["hs.3.3", "hs.3.4"]),
    );
}

#[test]
fn refusing_a_version_without_listing_13_is_caught() {
    let want = set(&["hs.4.2", "hs.4.3", "hs.4.4"]);
    let fault = Fault::VersionRefusalWithoutHeader;
    assert_failed(fault, &run(fault), &want);
}

#[test]
fn faults_in_the_101_response_fail_every_upgraded_case() {
    let upgraded = upgraded_by_a_correct_server();
    for fault in [
        Fault::UnofferedSubprotocol,
        Fault::NoUpgradeHeader,
        Fault::BadAcceptKey,
    ] {
        assert_failed(fault, &run(fault), &upgraded);
    }
}
