//! Sentences decide nothing: with every transcript reason reworded
//! (`transcript::reasons::reword`), the judge gives every recorded case of
//! `tests/fixtures/reports/` the same grades and the snapshot normaliser the
//! same text, while the verdicts' sentences do change.

use std::path::Path;

use crate::case::{self, Case};
use crate::judge::judge;
use crate::results::RunResults;
use crate::snapshot::normalize_with;
use crate::transcript::reasons::reword;
use crate::transcript::{Event, EventKind, HandshakeFailure, HarnessClose, Transcript};
use crate::wire::ByteLog;

fn recorded_runs(dir: &Path, out: &mut Vec<RunResults>) {
    let results = dir.join("results.json");
    if let Ok(text) = std::fs::read_to_string(&results) {
        out.push(serde_json::from_str(&text).expect("a recorded results.json"));
    }
    for entry in std::fs::read_dir(dir).expect("fixtures folder").flatten() {
        if entry.path().is_dir() {
            recorded_runs(&entry.path(), out);
        }
    }
}

#[test]
fn rewording_every_reason_changes_no_grade_and_no_snapshot() {
    let corpus: Vec<Case> =
        case::load::load(&case::embedded_sources()).expect("embedded corpus loads");
    let mut runs = Vec::new();
    recorded_runs(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports"),
        &mut runs,
    );
    let (mut checked, mut reworded_reasons) = (0, 0);
    for run in &runs {
        for result in &run.cases {
            let case = corpus
                .iter()
                .find(|c| c.spec.id == result.id)
                .expect("a recorded case is in the corpus");
            let t = &result.transcript;
            let timing = case.spec.timing_dependent;
            reword::set(false);
            let plain = judge(case, t);
            let plain_text = normalize_with(t, &plain, timing);
            reword::set(true);
            let reworded = judge(case, t);
            let reworded_text = normalize_with(t, &reworded, timing);
            reword::set(false);
            let grades = |v: &crate::judge::Verdict| (v.behavior, v.close, v.outcome);
            assert_eq!(grades(&plain), grades(&reworded), "{}: grades", result.id);
            assert_eq!(plain_text, reworded_text, "{}: snapshot text", result.id);
            checked += 1;
            if plain.behavior_reason != reworded.behavior_reason
                || plain.close_reason != reworded.close_reason
            {
                reworded_reasons += 1;
            }
        }
    }
    // Refusals a case accepts as a plain close, with every kind of failed handshake.
    for case in corpus.iter().filter(|c| c.spec.expect.handshake.or_close) {
        for failure in [
            HandshakeFailure::ClosedEarly,
            HandshakeFailure::ReadFailed {
                detail: "Connection reset by peer (os error 104)".into(),
            },
            HandshakeFailure::Timeout { ms: 5000 },
            HandshakeFailure::Malformed {
                detail: "invalid token".into(),
            },
        ] {
            let t = Transcript {
                case_id: case.spec.id.clone(),
                events: [
                    EventKind::Connected,
                    EventKind::HandshakeFailed {
                        reason: failure,
                        raw: ByteLog::of(b""),
                    },
                ]
                .into_iter()
                .map(|kind| Event { at_us: 5, kind })
                .collect(),
                duration_us: 10,
                detailed: true,
                omitted: None,
            };
            reword::set(false);
            let plain = judge(case, &t);
            reword::set(true);
            let reworded = judge(case, &t);
            reword::set(false);
            assert_eq!(
                (plain.behavior, plain.close),
                (reworded.behavior, reworded.close),
                "{}",
                case.spec.id
            );
            checked += 1;
        }
    }
    assert!(checked > 300, "only {checked} recorded cases");
    // The switch works: verdicts that quote a reason now quote the new words,
    // among them the refusals the judge once told apart by the word "closed".
    assert!(
        reworded_reasons > 20,
        "only {reworded_reasons} reasons changed"
    );
    reword::set(true);
    assert_eq!(HandshakeFailure::ClosedEarly.to_string(), reword::SENTENCE);
    assert_eq!(HarnessClose::StepsFinished.to_string(), reword::SENTENCE);
    reword::set(false);
    assert_ne!(HandshakeFailure::ClosedEarly.to_string(), reword::SENTENCE);
}
