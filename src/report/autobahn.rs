//! Autobahn-compatible `index.json`, the file existing CI scripts parse:
//! `{agent: {caseId: {behavior, behaviorClose, duration, remoteCloseCode,
//! reportfile}}}` with keys sorted and a three-space indent, as Autobahn's
//! fuzzing tools write it. Only cases with an `autobahn` id appear, under that
//! id; durations are whole milliseconds; `reportfile` follows Autobahn's naming
//! (`<agent>_case_<1_2_3>.json`, the agent lowercased with everything but
//! `[a-z0-9]` turned into `_` and the ends trimmed).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::results::RunResults;

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
    format!("{}_case_{id}.json", clean_for_filename(agent))
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
                reportfile: report_file(&r.agent, id),
            },
        );
    }
    let mut index = BTreeMap::new();
    index.insert(r.agent.clone(), cases);
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"   ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    match index.serialize(&mut ser) {
        Ok(()) => {
            let mut s = String::from_utf8_lossy(&buf).into_owned();
            s.push('\n');
            s
        }
        Err(e) => format!(
            "{}\n",
            serde_json::json!({ "error": format!("could not render index.json: {e}") })
        ),
    }
}
