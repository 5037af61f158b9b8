//! Snapshots are sensitive by construction: variants of a correct server that
//! each change one observable detail (still within the RFC, or not) produce
//! DRIFT on exactly the cases that detail touches, and on no other case.

#[path = "common/faulty.rs"]
mod faulty;
#[path = "common/harness.rs"]
mod harness;

use std::collections::{BTreeMap, BTreeSet};

use faulty::Fault;
use wsspec::case::Case;
use wsspec::results::RunResults;
use wsspec::transcript::EventKind;

fn cases() -> Vec<Case> {
    harness::corpus(&["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"])
}

fn run(fault: Fault, cases: &[Case]) -> RunResults {
    let server = faulty::start(fault);
    harness::run(&server.url(), cases)
}

/// Baseline against the correct server, plus the facts the expectations use.
struct Baseline {
    results: RunResults,
    snaps: BTreeMap<String, String>,
}

fn baseline(cases: &[Case]) -> Baseline {
    let results = run(Fault::None, cases);
    let snaps = harness::snapshot_bodies(&results, cases);
    Baseline { results, snaps }
}

fn ids_where(b: &Baseline, keep: impl Fn(&[EventKind]) -> bool) -> BTreeSet<String> {
    b.results
        .cases
        .iter()
        .filter(|c| {
            let kinds: Vec<EventKind> =
                c.transcript.events.iter().map(|e| e.kind.clone()).collect();
            keep(&kinds)
        })
        .map(|c| c.id.clone())
        .collect()
}

fn check(b: &Baseline, cases: &[Case], variant: Fault, expected: BTreeSet<String>) {
    let snaps = harness::snapshot_bodies(&run(variant, cases), cases);
    let drifted: BTreeSet<String> = snaps
        .iter()
        .filter(|(id, text)| b.snaps.get(*id) != Some(text))
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        !expected.is_empty(),
        "{variant:?}: the expectation selects no case"
    );
    let missed: BTreeSet<_> = expected.difference(&drifted).collect();
    let extra: BTreeSet<_> = drifted.difference(&expected).collect();
    let show = |ids: &BTreeSet<&String>| -> String {
        ids.iter()
            .map(|id| {
                let before = b.snaps.get(*id).map(String::as_str).unwrap_or("");
                format!(
                    "{id}:\n{}",
                    wsspec::snapshot::unified_diff(before, &snaps[*id])
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        missed.is_empty() && extra.is_empty(),
        "{variant:?}: no drift on {missed:?}; unexpected drift on {extra:?}\n{}",
        show(&extra)
    );
}

#[test]
fn each_observable_detail_drifts_exactly_where_it_shows() {
    let cases = cases();
    let b = baseline(&cases);
    let peer_closes = ids_where(&b, |k| {
        k.iter()
            .any(|e| matches!(e, EventKind::FrameReceived { frame } if frame.head.opcode == wsspec::wire::Opcode::CLOSE))
    });
    check(&b, &cases, Fault::CloseReason, peer_closes);

    let other_codes: BTreeSet<String> = (2..=13).map(|n| format!("7.7.{n}")).collect();
    check(&b, &cases, Fault::CloseReply1000, other_codes);

    let upgraded = ids_where(&b, |k| {
        k.iter()
            .any(|e| matches!(e, EventKind::ResponseReceived { head, .. } if head.status == 101))
    });
    check(&b, &cases, Fault::ExtraHeader, upgraded);

    let fragmented_echoes = ids_where(&b, |k| {
        k.iter().any(|e| match e {
            EventKind::MessageSent { message } if message.frames > 1 => k.iter().any(|r| {
                matches!(r, EventKind::MessageReceived { message: m } if m.payload.same_bytes(&message.payload))
            }),
            _ => false,
        })
    });
    check(&b, &cases, Fault::RefragmentEcho, fragmented_echoes);

    let pings_mid_message: BTreeSet<String> = ["5.6", "5.7", "5.8", "5.19", "5.20"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    check(&b, &cases, Fault::PongAfterEcho, pings_mid_message);
}
