//! The corpus against independent implementations installed by .ci/run:
//! Node's `ws` 8.23.0 and Python's `websockets` 17.4, each as an echo server.
//! wsspec's verdicts must agree case by case with Autobahn|Testsuite's for the
//! same peer (tests/data), except the cases Autobahn itself grades differently
//! from run to run (timing), where either of the two observed verdicts passes,
//! and the few cases where wsspec deliberately differs (docs/autobahn-differences.md).

#[path = "common/harness.rs"]
mod harness;
#[path = "common/peers.rs"]
mod peers;

use std::collections::BTreeMap;

use wsspec::judge::Outcome;

/// Cases whose verdict flips between runs for a peer (Autobahn's own runs
/// flip these for `websockets`): the verdicts accepted for them.
fn timing_tolerance(peer: &str) -> BTreeMap<&'static str, [&'static str; 2]> {
    match peer {
        "py-websockets" => BTreeMap::from([
            ("3.4", ["OK", "NON-STRICT"]),
            ("4.1.5", ["OK", "NON-STRICT"]),
            ("4.2.5", ["OK", "NON-STRICT"]),
        ]),
        _ => BTreeMap::new(),
    }
}

/// Cases where wsspec deliberately grades differently from Autobahn
/// (docs/autobahn-differences.md), with the verdict wsspec gives instead.
fn deliberate(peer: &str) -> BTreeMap<&'static str, (&'static str, &'static str)> {
    // A server refusing a 4 MiB message in small fragments: Autobahn fails it,
    // RFC 6455 7.4.1 defines 1009 for it (INFORMATIONAL); 1008 is NON-STRICT.
    match peer {
        "ws-node" => BTreeMap::from([
            ("9.3.1", ("NON-STRICT", "OK")),
            ("9.3.2", ("NON-STRICT", "OK")),
            ("9.4.1", ("NON-STRICT", "OK")),
            ("9.4.2", ("NON-STRICT", "OK")),
        ]),
        "py-websockets" => BTreeMap::from([
            ("9.3.1", ("INFORMATIONAL", "OK")),
            ("9.3.2", ("INFORMATIONAL", "OK")),
            ("9.3.3", ("INFORMATIONAL", "OK")),
            ("9.4.1", ("INFORMATIONAL", "OK")),
            ("9.4.2", ("INFORMATIONAL", "OK")),
            ("9.4.3", ("INFORMATIONAL", "OK")),
        ]),
        _ => BTreeMap::new(),
    }
}

fn agree_with_autobahn(peer_name: &str, peer: peers::Peer) {
    let groups = [
        "1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*", "12.*", "13.*",
    ];
    let results = harness::run(&peer.url, &harness::corpus(&groups));
    let deliberate = deliberate(peer_name);
    let ours = harness::verdicts(&results);
    // Rows 6-18 of 12 and 13 are the benchmark's (harness::COMPRESSION_BEYOND_CI).
    let theirs: BTreeMap<String, (String, String)> = peers::autobahn_verdicts(peer_name)
        .into_iter()
        .filter(|(id, _)| {
            !harness::COMPRESSION_BEYOND_CI
                .iter()
                .any(|p| wsspec::case::filter::glob_match(p, id))
        })
        .collect();
    let tolerance = timing_tolerance(peer_name);
    let mut differences = Vec::new();
    for (id, (behavior, close)) in &theirs {
        let (behavior, close) = match deliberate.get(id.as_str()) {
            Some((b, c)) => (b.to_string(), c.to_string()),
            None => (behavior.clone(), close.clone()),
        };
        let (behavior, close) = (&behavior, &close);
        let Some((b, c)) = ours.get(id) else {
            differences.push(format!("{id}: missing from wsspec's run"));
            continue;
        };
        let behavior_ok = b == behavior
            || tolerance
                .get(id.as_str())
                .is_some_and(|allowed| allowed.contains(&b.as_str()));
        if !behavior_ok || c != close {
            let detail = results
                .cases
                .iter()
                .find(|r| &r.id == id)
                .map(|r| format!("{} | {}", r.verdict.behavior_reason, r.verdict.close_reason))
                .unwrap_or_default();
            differences.push(format!(
                "{id}: wsspec {b}/{c}, Autobahn {behavior}/{close} — {detail}"
            ));
        }
    }
    assert_eq!(
        ours.len(),
        301 + 60,
        "groups 1-7, 9 and 10 hold 301 cases; rows 1-5 of 12 and 13, 60"
    );
    assert_eq!(theirs.len(), ours.len(), "Autobahn graded every case run");
    assert!(
        differences.is_empty(),
        "{peer_name}: {} of {} verdicts differ from Autobahn's:\n{}",
        differences.len(),
        theirs.len(),
        differences.join("\n")
    );
}

/// The handshake and framing groups (no Autobahn counterpart): every MUST
/// case passes except the library bugs named in the case files, with their
/// RFC sentence. Both libraries pass every `fr.*` case (unmasked client
/// frames refused, non-minimal lengths read right, a top-bit length refused).
fn handshake_failures(peer_name: &str, peer: &peers::Peer, expected: &[&str]) {
    let results = harness::run(&peer.url, &harness::corpus(&["hs.*", "fr.*"]));
    let failed = harness::ids_with(&results, wsspec::judge::Outcome::Failed);
    let want: std::collections::BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        failed,
        want,
        "{peer_name}: handshake cases FAILED\n{}",
        harness::explain(&results, &failed)
    );
}

#[test]
fn node_ws_handshake_failures_are_its_known_bugs() {
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(peer) = peers::require(peers::PeerName::Ws, peers::node_ws()) {
        // HTTP/1.0 accepted (RFC 6455 4.2.1); no or two Host headers accepted (RFC 7230 5.4).
        handshake_failures("ws-node", &peer, &["hs.1.2", "hs.1.5", "hs.1.6"]);
    }
}

#[test]
fn python_websockets_handshake_failures_are_its_known_bugs() {
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(peer) = peers::require(peers::PeerName::Websockets, peers::python_websockets()) {
        // Host (RFC 7230 5.4); 426 without Sec-WebSocket-Version (RFC 6455 4.2.2);
        // obs-fold answered by a bare close (RFC 7230 3.2.4).
        handshake_failures(
            "py-websockets",
            &peer,
            &["hs.1.5", "hs.1.6", "hs.4.2", "hs.4.3", "hs.4.4", "hs.7.4"],
        );
    }
}

/// wsspec's permessage-deflate group (`pmd.*`, server role): every case is
/// OK except the listed ones, which must have the given outcome.
fn deflate_cases(peer_name: &str, peer: &peers::Peer, exceptions: &[(&str, Outcome)]) {
    let cases = harness::corpus(&["pmd.*"]);
    let results = harness::run(&peer.url, &cases);
    assert_eq!(results.cases.len(), cases.len());
    let wrong: Vec<String> = results
        .cases
        .iter()
        .filter(|c| {
            let want = exceptions
                .iter()
                .find(|(id, _)| *id == c.id)
                .map_or(Outcome::Ok, |(_, o)| *o);
            c.verdict.outcome != want
        })
        .map(|c| {
            format!(
                "{}: {} ({})",
                c.id,
                c.verdict.outcome.as_str(),
                c.verdict.behavior_reason
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{peer_name}: pmd cases:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn node_ws_deflate_cases() {
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(peer) = peers::require(peers::PeerName::Ws, peers::node_ws()) {
        // ws refuses the whole handshake when one offer of several is
        // invalid, instead of passing over it (pmd.2.6, a SHOULD).
        deflate_cases(
            "ws-node",
            &peer,
            &[
                ("pmd.2.6", Outcome::NonStrict),
                ("pmd.3.13", Outcome::Informational),
            ],
        );
    }
}

#[test]
fn python_websockets_deflate_cases() {
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(peer) = peers::require(peers::PeerName::Websockets, peers::python_websockets()) {
        // websockets declines server_max_window_bits=8 (zlib cannot do it).
        deflate_cases(
            "py-websockets",
            &peer,
            &[
                ("pmd.2.4", Outcome::Unimplemented),
                ("pmd.3.13", Outcome::Informational),
            ],
        );
    }
}

#[test]
fn node_ws_verdicts_match_autobahn() {
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(peer) = peers::require(peers::PeerName::Ws, peers::node_ws()) {
        agree_with_autobahn("ws-node", peer);
    }
}

#[test]
fn python_websockets_verdicts_match_autobahn() {
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(peer) = peers::require(peers::PeerName::Websockets, peers::python_websockets()) {
        agree_with_autobahn("py-websockets", peer);
    }
}
