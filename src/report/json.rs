//! results.json: the result model ([`RunResults`]) serialized as pretty JSON.
//! It holds everything the other reports show (verdicts, reasons, transcripts
//! with bounded byte logs), deserializes back into the same model, and is the
//! input for tooling that wants more than Autobahn's index.json. Rendering never
//! panics: should serialization fail, the output is a small JSON object with an
//! `error` field instead.

use crate::results::RunResults;

/// Writes the run as pretty-printed JSON to `w`, as it serializes (a whole
/// run's results.json can be tens of megabytes).
pub fn write_to(r: &RunResults, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, r).map_err(std::io::Error::other)?;
    w.write_all(b"\n")
}

/// Renders the run as pretty-printed JSON.
pub fn render(r: &RunResults) -> String {
    match serde_json::to_string_pretty(r) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        Err(e) => {
            let v = serde_json::json!({
                "schema": r.schema,
                "error": format!("could not serialize the results: {e}"),
            });
            format!("{v}\n")
        }
    }
}
