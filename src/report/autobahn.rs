//! Autobahn-compatible `index.json`, the file existing CI scripts parse:
//! `{agent: {caseId: {behavior, behaviorClose, duration, remoteCloseCode,
//! reportfile}}}` with keys sorted and a three-space indent, as Autobahn's
//! fuzzing tools write it. Only cases with an `autobahn` id appear, under that
//! id; durations are whole milliseconds; `reportfile` follows Autobahn's naming
//! (`<agent>_case_<1_2_3>.json`, the agent lowercased with everything but
//! `[a-z0-9]` turned into `_` and the ends trimmed; under `serve`,
//! `<agent folder>/case_<1_2_3>.json`, since that naming is not unique per
//! agent). Each `reportfile` is written too ([`render_case`]): the per-case
//! JSON with the fields of Autobahn's that wsspec observes (verdicts and
//! their reasons, description, expectation, the raw opening handshake, close
//! codes and reasons, who dropped TCP); the wire log stays in wsspec's own
//! reports.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::case::Role;
use crate::results::{CaseResult, RunResults};
use crate::transcript::EventKind;
use crate::wire::bytelog::ByteLog;
use crate::wire::message::CloseBody;
use crate::wire::Opcode;

/// One case's entry, fields in Autobahn's (sorted) order.
#[derive(Debug, Serialize)]
struct Entry {
    behavior: &'static str,
    #[serde(rename = "behaviorClose")]
    behavior_close: &'static str,
    duration: u64,
    #[serde(rename = "remoteCloseCode")]
    remote_close_code: Option<u16>,
    reportfile: String,
}

/// Autobahn's `cleanForFilename`: lowercase, every character but `[a-z0-9]`
/// becomes a space, the ends are trimmed, and spaces become `_`.
pub fn clean_for_filename(s: &str) -> String {
    let spaced: String = s
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                ' '
            }
        })
        .collect();
    spaced.trim().replace(' ', "_")
}

/// The per-case report file name Autobahn would use.
pub fn report_file(agent: &str, case_id: &str) -> String {
    format!("{}_{}", clean_for_filename(agent), case_file(case_id))
}

/// `case_<1_2_3>.json`: the agent-independent tail of a per-case file name.
pub fn case_file(case_id: &str) -> String {
    let id: String = case_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("case_{id}.json")
}

/// Whole milliseconds, as Autobahn reports durations.
fn whole_ms(ms: f64) -> u64 {
    if ms.is_finite() && ms > 0.0 {
        ms.round().min(u64::MAX as f64) as u64
    } else {
        0
    }
}

/// Renders Autobahn's index.json for the run.
pub fn render_index(r: &RunResults) -> String {
    render_index_of(&[r])
}

/// Renders Autobahn's index.json for several agents' runs (one key each), as
/// its fuzzing server does for every client it has seen.
pub fn render_index_of(runs: &[&RunResults]) -> String {
    render_index_with(runs, |r, id| report_file(&r.agent, id))
}

/// [`render_index_of`] with each `reportfile` named by `file(run, case id)`.
pub fn render_index_with(
    runs: &[&RunResults],
    file: impl Fn(&RunResults, &str) -> String,
) -> String {
    let mut index = BTreeMap::new();
    for r in runs {
        let mut cases = BTreeMap::new();
        for c in &r.cases {
            let Some(id) = &c.autobahn else { continue };
            cases.insert(
                id.clone(),
                Entry {
                    behavior: c.verdict.behavior.as_str(),
                    behavior_close: c.verdict.close.as_str(),
                    duration: whole_ms(c.duration_ms),
                    remote_close_code: c.verdict.remote_close_code,
                    reportfile: file(r, id),
                },
            );
        }
        index.insert(r.agent.clone(), cases);
    }
    autobahn_json(&index)
}

/// The per-case report file (`reportfile` in index.json) of case `c`, the
/// `number`-th of the run (1-based, as Autobahn numbers them).
pub fn render_case(r: &RunResults, c: &CaseResult, number: usize) -> String {
    let t = &c.transcript;
    // Only one role's handshake events are in a transcript.
    let text = |raw: &ByteLog| String::from_utf8_lossy(&raw.head).into_owned();
    let request = t.kinds().find_map(|k| match k {
        EventKind::RequestSent { raw } | EventKind::RequestReceived { raw } => Some(text(raw)),
        _ => None,
    });
    let response = t.kinds().find_map(|k| match k {
        EventKind::ResponseReceived { raw, .. } | EventKind::ResponseSent { raw, .. } => {
            Some(text(raw))
        }
        _ => None,
    });
    let close_of = |sent: bool| {
        t.kinds().find_map(|k| match k {
            EventKind::FrameSent { frame } if sent && frame.head.opcode == Opcode::CLOSE => {
                frame.close.clone()
            }
            EventKind::FrameReceived { frame } if !sent && frame.head.opcode == Opcode::CLOSE => {
                frame.close.clone()
            }
            _ => None,
        })
    };
    let reason = |b: &Option<CloseBody>| {
        b.as_ref()
            .filter(|b| b.reason.len > 0)
            .map(|b| String::from_utf8_lossy(&b.reason.head).into_owned())
    };
    let (local, remote) = (close_of(true), close_of(false));
    let dropped_by_me = t
        .kinds()
        .find_map(|k| match k {
            EventKind::HarnessClosed { .. } | EventKind::Deadline { .. } => Some(true),
            EventKind::PeerEof | EventKind::SocketError { .. } => Some(false),
            _ => None,
        })
        .unwrap_or(false);
    let doc = serde_json::json!({
        "agent": r.agent,
        "behavior": c.verdict.behavior.as_str(),
        "behaviorClose": c.verdict.close.as_str(),
        "case": number,
        "description": c.description.clone().unwrap_or_else(|| c.title.clone()),
        "droppedByMe": dropped_by_me,
        "duration": whole_ms(c.duration_ms),
        "expectation": c.expectation,
        "httpRequest": request,
        "httpResponse": response,
        "id": c.autobahn.clone().unwrap_or_else(|| c.id.clone()),
        "isServer": r.role == Role::Client,
        "localCloseCode": local.as_ref().and_then(|b| b.code),
        "localCloseReason": reason(&local),
        "remoteCloseCode": c.verdict.remote_close_code,
        "remoteCloseReason": reason(&remote),
        "result": c.verdict.behavior_reason,
        "resultClose": c.verdict.close_reason,
        "started": r.started_unix,
        "wasClean": local.is_some() && remote.is_some(),
        "wsspecCase": c.id,
    });
    autobahn_json(&doc)
}

/// JSON as Autobahn writes it: keys in order, a three-space indent, a final
/// newline.
fn autobahn_json(value: &impl Serialize) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"   ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    match value.serialize(&mut ser) {
        Ok(()) => {
            let mut s = String::from_utf8_lossy(&buf).into_owned();
            s.push('\n');
            s
        }
        Err(e) => format!(
            "{}\n",
            serde_json::json!({ "error": format!("could not render the report: {e}") })
        ),
    }
}
