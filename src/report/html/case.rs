//! One case's `<details>` block: description, expectation, both verdict
//! reasons, snapshot state (a DRIFT's diff), a handshake case's request and
//! response side by side, and the wire log ([`wirelog`] lines, with a hex
//! view of each frame's header and recorded payload bytes).
//!
//! Size is what keeps a report of hundreds of cases usable, so the wire log
//! depends on whether the case fails the run. A case that fails it shows up
//! to [`MAX_WIRE_LINES`] lines, hex views of its first [`MAX_HEX_VIEWS`]
//! frames (at most [`MAX_HEX_BYTES`] payload bytes each), and all of its
//! details. A case that passes shows the first line of each of its first
//! [`PASSING_EVENTS`] events and the log's last line, without hex views, and
//! leaves out of its details what its table row already says (requirement,
//! close code, duration). Either way a cut log says so and points to results.json, which
//! holds every recorded event. A failing case that is not about the
//! handshake shows wsspec's own (standard) request by its first line. The log is one pre-formatted block; each run
//! of lines sent or received is one span (class `s` or `r`), so markup is a
//! small part of it.

use std::fmt::Write as _;

use crate::report::sanitize;
use crate::report::wirelog::{self, Direction};
use crate::results::CaseResult;
use crate::snapshot::SnapshotStatus;
use crate::transcript::EventKind;

use super::{anchor, ms, out, shown};

/// Most wire-log lines of a case that fails the run.
pub const MAX_WIRE_LINES: usize = 400;
/// Most events of a passing case whose (first) line is shown.
pub const PASSING_EVENTS: usize = 4;
/// Most frames per failing case that get a hex view.
const MAX_HEX_VIEWS: usize = 40;
/// Most payload bytes per hex view.
const MAX_HEX_BYTES: usize = 256;
/// Most bytes of a request or response head shown side by side.
const MAX_HEAD_SHOWN: usize = 4096;

/// One case's `<details>` block; `fails` says whether it fails the run. An
/// allowed deviation is shown in full, as a failing case is.
pub(super) fn details(h: &mut String, c: &CaseResult, fails: bool) {
    let esc = sanitize::html;
    let class = if fails { "f" } else { "p" };
    let fails = fails || c.is_allowed();
    let v = &c.verdict;
    let s = shown(c);
    out!(
        h,
        "<details class=\"case row-{} {}\" id=\"{}\">\n<summary><span class=\"badge o-{}\">{}</span> {} {}{}</summary>\n<dl>\n",
        s.slug,
        class,
        esc(&anchor(&c.id)),
        s.slug,
        s.label,
        esc(&c.id),
        esc(&c.title),
        match &c.snapshot {
            Some(_) if c.is_drift_allowed() => " <span class=\"badge o-allowed\">snapshot DRIFT, allowed</span>".to_string(),
            Some(st) if st.is_change() => format!(" <span class=\"badge o-failed\">snapshot {}</span>", st.as_str()),
            _ => String::new(),
        }
    );
    if let Some(d) = &c.description {
        out!(h, "<dt>Description</dt><dd>{}</dd>\n", esc(d.trim_end()));
    }
    if let Some(a) = &c.allowed {
        let what = if a.deviated {
            format!("<b>{}</b>, allowed", v.outcome.as_str())
        } else {
            "named by the allow-list, but it did not deviate".to_string()
        };
        out!(
            h,
            "<dt>Allow-list</dt><dd>{what} by <code>{}</code>: {}</dd>\n",
            esc(&a.pattern),
            esc(&a.reason)
        );
    }
    if fails {
        out!(
            h,
            "<dt>Requirement</dt><dd>{} ({})</dd>\n",
            c.requirement.as_str(),
            esc(&c.rfc)
        );
        if let Some(a) = &c.autobahn {
            out!(h, "<dt>Autobahn case</dt><dd>{}</dd>\n", esc(a));
        }
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
    if fails {
        let code = v
            .remote_close_code
            .map_or_else(|| "none".to_string(), |c| c.to_string());
        out!(h, "<dt>Remote close code</dt><dd>{code}</dd>\n");
    }
    if let Some(t) = &c.compression {
        out!(h, "<dt>Compression</dt><dd>{}</dd>\n", esc(&t.to_string()));
    }
    if fails {
        out!(h, "<dt>Duration</dt><dd>{} ms</dd>\n", ms(c.duration_ms));
    }
    h.push_str("</dl>\n");
    match &c.snapshot {
        Some(SnapshotStatus::Drift { diff }) => {
            let allowed = c.drift_allowed.as_ref().map_or(String::new(), |a| {
                format!(
                    ", allowed by <code>{}</code>: {}",
                    esc(&a.pattern),
                    esc(&a.reason)
                )
            });
            out!(
                h,
                "<h4>Snapshot DRIFT{allowed}</h4><pre class=\"wire\">{}</pre>\n",
                esc(diff)
            );
        }
        Some(SnapshotStatus::New) => {
            h.push_str("<p><b>Snapshot NEW</b>: no stored snapshot for this case.</p>\n");
        }
        Some(SnapshotStatus::Stored { replaced }) => {
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
    wire_log(h, c, fails);
    h.push_str("</details>\n");
}

/// The raw request and response heads of a handshake case, side by side,
/// CR and LF made visible (they are often what the case is about).
fn handshake_side_by_side(h: &mut String, c: &CaseResult) {
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
/// a collapsed hex view under each frame of a failing case, capped at
/// [`MAX_WIRE_LINES`]. A passing case shows only the first line of each of
/// its first [`PASSING_EVENTS`] events, then its end.
fn wire_log(h: &mut String, c: &CaseResult, fails: bool) {
    let esc = sanitize::html;
    let t = &c.transcript;
    h.push_str("<div class=\"wire\">");
    let cap = wirelog::line_cap(t, MAX_WIRE_LINES);
    let mut lines = 0usize;
    let mut hex_views = 0usize;
    // wsspec's own request is shown by its first line alone, unless the
    // case is about the handshake or the handshake failed.
    let plain_request = c.group != "hs"
        && !t
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::HandshakeFailed { .. }));
    // The class of the open `<span>`: consecutive lines of one direction
    // share one span; local lines stand in none.
    let mut open: Option<&str> = None;
    let note = |h: &mut String, open: &mut Option<&str>, text: &str| {
        if open.take().is_some() {
            h.push_str("</span>");
        }
        out!(h, "<span class=\"n\">{}</span>\n", esc(text));
    };
    if !t.detailed && fails {
        note(
            h,
            &mut open,
            "(performance case: payloads are summarized, not recorded)",
        );
    }
    for (i, ev) in t.events.iter().enumerate() {
        let (full, why) = if fails {
            (lines < cap, format!("wire log capped at {cap} lines"))
        } else {
            (i < PASSING_EVENTS, "the case passed".to_string())
        };
        if !full {
            note(
                h,
                &mut open,
                &format!(
                    "… {} more events not shown ({why}; results.json holds every one)",
                    t.events.len() - i
                ),
            );
            break;
        }
        let class = match Direction::of(&ev.kind) {
            Direction::Sent => Some("s"),
            Direction::Received => Some("r"),
            Direction::Local => None,
        };
        if open != class {
            if open.is_some() {
                h.push_str("</span>");
            }
            if let Some(c) = class {
                out!(h, "<span class=\"{c}\">");
            }
            open = class;
        }
        let event_lines = wirelog::event_lines(ev);
        let keep = if !fails || (plain_request && matches!(ev.kind, EventKind::RequestSent { .. }))
        {
            1
        } else {
            event_lines.len()
        };
        for line in event_lines.iter().take(keep) {
            lines += 1;
            // A tab (shown 17 columns wide) for the continuation indent.
            let line = line
                .strip_prefix(wirelog::INDENT)
                .map_or_else(|| esc(line), |rest| format!("\t{}", esc(rest)));
            out!(h, "{line}\n");
        }
        let frame = match &ev.kind {
            EventKind::FrameSent { frame } | EventKind::FrameReceived { frame } => Some(frame),
            _ => None,
        };
        if let Some(f) = frame.filter(|_| fails && hex_views < MAX_HEX_VIEWS) {
            if open.take().is_some() {
                h.push_str("</span>");
            }
            hex_views += 1;
            let header = wirelog::frame_header_bytes(&f.head);
            out!(
                h,
                "<details><summary>hex</summary>header  {}\n",
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
            h.push_str("</details>");
        }
    }
    let end = wirelog::end_line(t);
    note(h, &mut open, &end);
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
