//! The single-file HTML report: inline CSS, no external resources and only a
//! tiny static script (opening the case a link points at). A header names the
//! tool and corpus versions, target, agent, start time and wall time; a summary
//! counts cases per outcome; one table lists every case (id, title,
//! requirement, RFC section, behaviour, close verdict, remote close code,
//! duration) coloured by outcome and grouped by case group; then each case has
//! a `<details>` block with its description, expectation, both verdict reasons
//! and its wire log ([`wirelog`] lines, with a hex view of each frame's header
//! and recorded payload bytes). Everything taken from the model passes through
//! [`sanitize::html`]; anchors are derived from case ids, so the same run always
//! renders the same page.

use std::fmt::Write as _;

use crate::judge::{CloseVerdict, Outcome};
use crate::report::sanitize;
use crate::report::wirelog::{self, Direction};
use crate::results::{CaseResult, RunResults};
use crate::transcript::EventKind;

/// Most wire-log lines per case.
pub const MAX_WIRE_LINES: usize = 2000;
/// Most frames per case that get a hex view.
const MAX_HEX_VIEWS: usize = 200;
/// Most payload bytes per hex view.
const MAX_HEX_BYTES: usize = 512;

/// Appends formatted text to a `String` (writing to a `String` cannot fail).
macro_rules! out {
    ($dst:expr, $($arg:tt)*) => {
        let _ = write!($dst, $($arg)*);
    };
}

pub(crate) const STYLE: &str = r#"
:root { --ok:#1a7f37; --ns:#9a6700; --info:#0969da; --unimpl:#6e7781; --fail:#cf222e; --err:#8250df; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 2em 3em; color: #1f2328; }
h1 { font-size: 1.6em; margin: .8em 0 .3em; } h2 { font-size: 1.25em; margin-top: 1.6em; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: .15em 1.2em; margin: 0; }
dl.meta dt { font-weight: 600; color: #57606a; } dl.meta dd { margin: 0; }
.badge { display: inline-block; padding: .05em .55em; border-radius: 1em; color: #fff; font-weight: 600; font-size: .85em; white-space: nowrap; }
.summary .badge { font-size: 1em; margin-right: .4em; }
.o-ok { background: var(--ok); } .o-non-strict { background: var(--ns); } .o-informational { background: var(--info); }
.o-unimplemented { background: var(--unimpl); } .o-failed { background: var(--fail); } .o-error { background: var(--err); }
table.cases { border-collapse: collapse; width: 100%; margin-top: .8em; }
table.cases th, table.cases td { border-bottom: 1px solid #d0d7de; padding: .2em .5em; text-align: left; vertical-align: top; }
table.cases thead th { position: sticky; top: 0; background: #f6f8fa; }
table.cases tr.group th { background: #eaeef2; font-weight: 600; }
table.cases td.num, table.cases th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.row-ok td.v { color: var(--ok); } tr.row-non-strict { background: #fff8c5; } tr.row-informational { background: #ddf4ff; }
tr.row-unimplemented { background: #f6f8fa; } tr.row-failed { background: #ffebe9; } tr.row-error { background: #fbefff; }
td.v { font-weight: 600; white-space: nowrap; } td.cbad { color: var(--fail); font-weight: 600; } td.cns { color: var(--ns); font-weight: 600; }
#hide-ok:checked ~ table tr.row-ok, #hide-ok:checked ~ section details.row-ok { display: none; }
details.case { border: 1px solid #d0d7de; border-left: 6px solid var(--unimpl); border-radius: 4px; margin: .5em 0; padding: .3em .8em; }
details.case.row-ok { border-left-color: var(--ok); } details.case.row-non-strict { border-left-color: var(--ns); }
details.case.row-informational { border-left-color: var(--info); } details.case.row-failed { border-left-color: var(--fail); }
details.case.row-error { border-left-color: var(--err); }
details.case > summary { cursor: pointer; font-weight: 600; }
details.case dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
details.case dt { font-weight: 600; color: #57606a; } details.case dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.wire { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f6f8fa; padding: .5em; border-radius: 4px; overflow-x: auto; }
.wire .l { white-space: pre-wrap; overflow-wrap: anywhere; } .wire .s { color: #0550ae; } .wire .r { color: #953800; } .wire .n { color: #57606a; }
.wire details.hex { margin: 0 0 .2em 17ch; } .wire details.hex summary { cursor: pointer; color: #57606a; }
.wire pre { margin: 0; }
footer { margin-top: 2em; color: #57606a; font-size: .85em; }
.hs { display: grid; grid-template-columns: 1fr 1fr; gap: .8em; margin: .5em 0; }
.hs h4 { margin: 0 0 .2em; font-size: .9em; color: #57606a; }
.hs pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f6f8fa; padding: .5em; border-radius: 4px; margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
"#;

/// Most bytes of a request or response head shown side by side.
const MAX_HEAD_SHOWN: usize = 4096;

/// Opens the `<details>` a link points at. Static: no data from the model.
const SCRIPT: &str = "function openTarget(){var h=decodeURIComponent(location.hash.slice(1));var e=h&&document.getElementById(h);if(e&&e.tagName==='DETAILS'){e.open=true;}}window.addEventListener('hashchange',openTarget);openTarget();";

/// The anchor id for a case: `case-` then the id with `[A-Za-z0-9.-]` kept and
/// every other byte written `_hh`, so distinct ids give distinct anchors.
pub fn anchor(id: &str) -> String {
    let mut s = String::from("case-");
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
            s.push(b as char);
        } else {
            out!(s, "_{b:02x}");
        }
    }
    s
}

/// The CSS class suffix of an outcome.
pub(crate) fn slug(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::NonStrict => "non-strict",
        Outcome::Informational => "informational",
        Outcome::Unimplemented => "unimplemented",
        Outcome::Failed => "failed",
        Outcome::Error => "error",
    }
}

/// `2026-07-01 12:34:56 UTC` from Unix seconds.
pub(crate) fn utc(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// A duration in milliseconds for display.
fn ms(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else {
        "?".into()
    }
}

/// Renders the whole report.
pub fn render(r: &RunResults) -> String {
    let esc = sanitize::html;
    let mut h = String::with_capacity(64 * 1024 + r.cases.len() * 8 * 1024);
    let failed = r.failed();
    out!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>wsspec report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&r.agent)
    );

    // Header.
    out!(
        h,
        "<header>\n<h1>wsspec report <span class=\"badge {}\">{}</span></h1>\n<dl class=\"meta\">\n",
        if failed { "o-failed" } else { "o-ok" },
        if failed { "FAILED" } else { "PASSED" }
    );
    let meta = [
        ("Target", esc(&r.target)),
        ("Agent", esc(&r.agent)),
        ("Role under test", esc(r.role.as_str())),
        ("Started", esc(&utc(r.started_unix))),
        ("Wall time", format!("{} ms", ms(r.wall_ms))),
        (
            "Strict",
            (if r.strict {
                "yes (NON-STRICT fails the run)"
            } else {
                "no"
            })
            .to_string(),
        ),
        ("wsspec", esc(&r.tool_version)),
        ("Case corpus", esc(&r.corpus_version)),
        ("Results schema", r.schema.to_string()),
    ];
    for (k, v) in meta {
        out!(h, "<dt>{k}</dt><dd>{v}</dd>\n");
    }
    if let Some(t) = r.compression_totals() {
        out!(h, "<dt>Compression</dt><dd>{}</dd>\n", esc(&t.to_string()));
    }
    h.push_str("</dl>\n</header>\n");

    // Summary.
    out!(
        h,
        "<section class=\"summary\">\n<h2>Summary: {} cases</h2>\n<p>",
        r.cases.len()
    );
    for o in Outcome::ALL {
        out!(
            h,
            "<span class=\"badge o-{}\">{} {}</span>",
            slug(o),
            r.count(o),
            o.as_str()
        );
    }
    h.push_str("</p>\n</section>\n");

    // Case table.
    h.push_str("<main>\n<h2>Cases</h2>\n<input type=\"checkbox\" id=\"hide-ok\"> <label for=\"hide-ok\">hide OK cases</label>\n");
    h.push_str(
        "<table class=\"cases\">\n<thead><tr><th>Id</th><th>Title</th><th>Req.</th><th>RFC</th>\
         <th>Behaviour</th><th>Close</th><th class=\"num\">Remote code</th><th class=\"num\">ms</th></tr></thead>\n<tbody>\n",
    );
    let mut group: Option<&str> = None;
    for c in &r.cases {
        if group != Some(c.group.as_str()) {
            group = Some(&c.group);
            out!(
                h,
                "<tr class=\"group\"><th colspan=\"8\">group {}: {}</th></tr>\n",
                esc(&c.group),
                esc(&c.group_title)
            );
        }
        let v = &c.verdict;
        let close_class = match v.close {
            CloseVerdict::Ok | CloseVerdict::None => "c",
            CloseVerdict::FailedByClient => "c cns",
            CloseVerdict::Informational => "c",
            _ => "c cbad",
        };
        let code = v
            .remote_close_code
            .map_or_else(|| "–".to_string(), |c| c.to_string());
        out!(
            h,
            "<tr class=\"row-{}\"><td><a href=\"#{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"v\">{}</td><td class=\"{close_class}\">{}</td><td class=\"num\">{code}</td>\
             <td class=\"num\">{}</td></tr>\n",
            slug(v.outcome),
            esc(&anchor(&c.id)),
            esc(&c.id),
            esc(&c.title),
            c.requirement.as_str(),
            esc(&c.rfc),
            v.behavior.as_str(),
            v.close.as_str(),
            ms(c.duration_ms)
        );
    }
    h.push_str("</tbody>\n</table>\n");

    // Case details.
    h.push_str("<section class=\"details\">\n<h2>Case details</h2>\n");
    for c in &r.cases {
        case_details(&mut h, c);
    }
    h.push_str("</section>\n</main>\n");
    out!(
        h,
        "<footer>Generated by wsspec {}. Self-contained: no external resources.</footer>\n\
         <script>{SCRIPT}</script>\n</body>\n</html>\n",
        esc(&r.tool_version)
    );
    h
}

/// One case's `<details>` block.
fn case_details(h: &mut String, c: &CaseResult) {
    let esc = sanitize::html;
    let v = &c.verdict;
    out!(
        h,
        "<details class=\"case row-{}\" id=\"{}\">\n<summary><span class=\"badge o-{}\">{}</span> {} {}</summary>\n<dl>\n",
        slug(v.outcome),
        esc(&anchor(&c.id)),
        slug(v.outcome),
        v.outcome.as_str(),
        esc(&c.id),
        esc(&c.title)
    );
    if let Some(d) = &c.description {
        out!(h, "<dt>Description</dt><dd>{}</dd>\n", esc(d.trim_end()));
    }
    out!(
        h,
        "<dt>Requirement</dt><dd>{} ({})</dd>\n",
        c.requirement.as_str(),
        esc(&c.rfc)
    );
    if let Some(a) = &c.autobahn {
        out!(h, "<dt>Autobahn case</dt><dd>{}</dd>\n", esc(a));
    }
    out!(h, "<dt>Expected</dt><dd>{}</dd>\n", esc(&c.expectation));
    out!(
        h,
        "<dt>Behaviour</dt><dd><b>{}</b>: {}</dd>\n",
        v.behavior.as_str(),
        esc(&v.behavior_reason)
    );
    out!(
        h,
        "<dt>Closing behaviour</dt><dd><b>{}</b>: {}</dd>\n",
        v.close.as_str(),
        esc(&v.close_reason)
    );
    let code = v
        .remote_close_code
        .map_or_else(|| "none".to_string(), |c| c.to_string());
    out!(h, "<dt>Remote close code</dt><dd>{code}</dd>\n");
    if let Some(t) = &c.compression {
        out!(h, "<dt>Compression</dt><dd>{}</dd>\n", esc(&t.to_string()));
    }
    out!(
        h,
        "<dt>Duration</dt><dd>{} ms</dd>\n</dl>\n",
        ms(c.duration_ms)
    );
    match &c.snapshot {
        Some(crate::snapshot::SnapshotStatus::Drift { diff }) => {
            out!(
                h,
                "<h4>Snapshot DRIFT</h4><pre class=\"wire\">{}</pre>\n",
                sanitize::html(diff)
            );
        }
        Some(crate::snapshot::SnapshotStatus::New) => {
            h.push_str("<p><b>Snapshot NEW</b>: no stored snapshot for this case.</p>\n");
        }
        Some(crate::snapshot::SnapshotStatus::Stored { replaced }) => {
            h.push_str(if *replaced {
                "<p><b>Snapshot stored</b>, replacing a different one (<code>--snapshots-update</code>).</p>\n"
            } else {
                "<p><b>Snapshot stored</b>: none was stored before (<code>--snapshots-update</code>).</p>\n"
            });
        }
        _ => {}
    }
    if c.group == "hs" {
        handshake_side_by_side(h, c);
    }
    wire_log(h, c);
    h.push_str("</details>\n");
}

/// The raw request and response heads of a handshake case, side by side,
/// CR and LF made visible (they are often what the case is about).
fn handshake_side_by_side(h: &mut String, c: &CaseResult) {
    use crate::transcript::EventKind;
    let mut request = None;
    let mut response = None;
    for e in &c.transcript.events {
        match &e.kind {
            EventKind::RequestSent { raw } => request = Some(raw),
            EventKind::ResponseReceived { raw, .. } | EventKind::HandshakeFailed { raw, .. } => {
                response = Some(raw)
            }
            _ => {}
        }
    }
    let show = |log: Option<&crate::wire::ByteLog>| -> String {
        let Some(log) = log else {
            return "(nothing)".into();
        };
        let shown = &log.head[..log.head.len().min(MAX_HEAD_SHOWN)];
        let mut text = String::from_utf8_lossy(shown)
            .replace('\r', "\\r")
            .replace('\n', "\\n\n");
        if log.len > shown.len() as u64 {
            text.push_str(&format!("\n… ({} bytes in all)", log.len));
        }
        if text.is_empty() {
            text = "(no bytes)".into();
        }
        sanitize::html(&text)
    };
    out!(
        h,
        "<div class=\"hs\"><div><h4>Request</h4><pre>{}</pre></div><div><h4>Response</h4><pre>{}</pre></div></div>\n",
        show(request),
        show(response)
    );
}

/// The wire log: one line per event (handshakes add their text lines), with
/// a collapsed hex view under each frame.
fn wire_log(h: &mut String, c: &CaseResult) {
    let esc = sanitize::html;
    let t = &c.transcript;
    h.push_str("<div class=\"wire\">\n");
    let cap = wirelog::line_cap(t, MAX_WIRE_LINES);
    let mut lines = 0usize;
    let mut hex_views = 0usize;
    let mut truncated = false;
    if !t.detailed {
        h.push_str(
            "<div class=\"l n\">(performance case: payloads are summarized, not recorded)</div>\n",
        );
    }
    for (i, ev) in t.events.iter().enumerate() {
        if lines >= cap {
            out!(
                h,
                "<div class=\"l n\">… {} more events not shown (wire log capped at {cap} lines)</div>\n",
                t.events.len() - i
            );
            truncated = true;
            break;
        }
        let class = match Direction::of(&ev.kind) {
            Direction::Sent => "s",
            Direction::Received => "r",
            Direction::Local => "n",
        };
        for line in wirelog::event_lines(ev) {
            lines += 1;
            out!(h, "<div class=\"l {class}\">{}</div>\n", esc(&line));
        }
        let frame = match &ev.kind {
            EventKind::FrameSent { frame } | EventKind::FrameReceived { frame } => Some(frame),
            _ => None,
        };
        if let Some(f) = frame {
            if hex_views < MAX_HEX_VIEWS {
                hex_views += 1;
                let header = wirelog::frame_header_bytes(&f.head);
                out!(
                    h,
                    "<details class=\"hex\"><summary>hex</summary><pre>header  {}\n",
                    esc(&spaced_hex(&header))
                );
                if f.payload.head.is_empty() {
                    if f.payload.len > 0 {
                        h.push_str("payload not recorded\n");
                    }
                } else {
                    out!(
                        h,
                        "payload (unmasked, {} of {} bytes recorded)\n",
                        f.payload.head.len(),
                        f.payload.len
                    );
                    for row in wirelog::hex_dump(&f.payload.head, MAX_HEX_BYTES) {
                        out!(h, "{}\n", esc(&row));
                    }
                }
                h.push_str("</pre></details>\n");
            }
        }
    }
    if !truncated {
        out!(
            h,
            "<div class=\"l n\">{}</div>\n",
            esc(&wirelog::end_line(t))
        );
    }
    h.push_str("</div>\n");
}

/// `81 8d 1a 2b`.
fn spaced_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        out!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_injective_and_safe() {
        assert_eq!(anchor("1.1.1"), "case-1.1.1");
        assert_ne!(anchor("a_b"), anchor("a b"));
        assert_eq!(anchor("<x>"), "case-_3cx_3e");
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }
}
