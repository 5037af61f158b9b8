//! The corpus against independent implementations installed by .ci/run:
//! Node's `ws` 8.23.0 and Python's `websockets` 17.4, each as an echo server.
//! wsspec's verdicts must agree case by case with Autobahn|Testsuite's for the
//! same peer (tests/data), except the cases Autobahn itself grades differently
//! from run to run (timing), where either of the two observed verdicts passes.

#[path = "common/harness.rs"]
mod harness;
#[path = "common/peers.rs"]
mod peers;

use std::collections::BTreeMap;

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

fn agree_with_autobahn(peer_name: &str, peer: peers::Peer) {
    let results = harness::run(
        &peer.url,
        &harness::corpus(&["1.*", "2.*", "3.*", "4.*", "5.*"]),
    );
    let ours = harness::verdicts(&results);
    let theirs = peers::autobahn_verdicts(peer_name);
    let tolerance = timing_tolerance(peer_name);
    let mut differences = Vec::new();
    for (id, (behavior, close)) in &theirs {
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
    assert_eq!(ours.len(), 64, "groups 1-5 hold 64 cases");
    assert!(
        differences.is_empty(),
        "{peer_name}: {} of {} verdicts differ from Autobahn's:\n{}",
        differences.len(),
        theirs.len(),
        differences.join("\n")
    );
}

#[test]
fn node_ws_verdicts_match_autobahn() {
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(peer) = peers::require(peers::node_ws()) {
        agree_with_autobahn("ws-node", peer);
    }
}

#[test]
fn python_websockets_verdicts_match_autobahn() {
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(peer) = peers::require(peers::python_websockets()) {
        agree_with_autobahn("py-websockets", peer);
    }
}
