//! The human-readable wire log shared by the JUnit and HTML reports: one or more
//! lines per transcript event, each starting with the time since the case began
//! and an arrow (`→` wsspec wrote it, `←` the peer did, `·` local events such as
//! markers, waits and deadlines). Frames show their header fields exactly as
//! written (fin, rsv, opcode, mask key, length and length form); payloads are
//! shown through their [`ByteLog`]: short printable text quoted, anything else
//! as hex of the first bytes, with the total length and a SHA-256 prefix when
//! not every byte is shown. Handshakes are shown as their raw text lines. Every
//! line is plain text with control characters escaped and at most
//! [`MAX_LINE`] characters long; the renderers still escape it for their format.
//! [`hex_dump`] and [`frame_header_bytes`] give the HTML report a byte view.

use std::fmt::Write as _;

use crate::report::sanitize::visible_escape;
use crate::transcript::{DeflateNegotiation, Event, EventKind, Transcript};
use crate::wire::bytelog::{hex, ByteLog};
use crate::wire::decode::{FrameHead, LengthForm};
use crate::wire::message::{FrameRecord, InflateResult, MessageRecord};

/// Longest line, in characters, that [`lines`] produces.
pub const MAX_LINE: usize = 300;
/// How many payload bytes are shown as quoted text.
const TEXT_PREVIEW: usize = 64;
/// How many payload bytes are shown as hex.
const HEX_PREVIEW: usize = 32;
/// How many bytes of a handshake head are shown as text lines.
const HANDSHAKE_BYTES: usize = 4096;
/// How many text lines of a handshake head are shown.
const HANDSHAKE_LINES: usize = 40;
/// Width of the `+   0.412 ms` column plus separator, for continuation lines.
pub const INDENT: &str = "                 ";

/// Where an event came from, which decides its arrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// wsspec wrote or did it.
    Sent,
    /// The peer sent or did it.
    Received,
    /// A local event: markers, waits, deadlines, errors.
    Local,
}

impl Direction {
    pub fn of(kind: &EventKind) -> Direction {
        use EventKind as K;
        match kind {
            K::RequestSent { .. }
            | K::ResponseSent { .. }
            | K::FrameSent { .. }
            | K::BytesSent { .. }
            | K::MessageSent { .. }
            | K::Http2Sent { .. }
            | K::HarnessClosed { .. } => Direction::Sent,
            K::ResponseReceived { .. }
            | K::RequestReceived { .. }
            | K::HandshakeFailed { .. }
            | K::FrameReceived { .. }
            | K::MessageReceived { .. }
            | K::FollowUpRequest { .. }
            | K::ClientKeyReused { .. }
            | K::PeerEof
            | K::NoCloseNotify
            | K::TruncatedFrame => Direction::Received,
            K::Connected
            | K::TlsEstablished { .. }
            | K::Http2Stream { .. }
            | K::ProbeSent { .. }
            | K::ConnectFailed { .. }
            | K::Marker { .. }
            | K::StepSkipped { .. }
            | K::WaitMet { .. }
            | K::WaitTimedOut { .. }
            | K::SocketError { .. }
            | K::Deflate { .. }
            | K::Overflow { .. }
            | K::Deadline { .. } => Direction::Local,
        }
    }

    pub fn arrow(self) -> char {
        match self {
            Direction::Sent => '→',
            Direction::Received => '←',
            Direction::Local => '·',
        }
    }
}

/// Most wire-log lines the reports show for a performance case, whose
/// transcript holds summaries only.
pub const PERF_LINES: usize = 200;

/// The line cap for a transcript: `max`, or [`PERF_LINES`] when the transcript
/// is a performance case's summary.
pub fn line_cap(t: &Transcript, max: usize) -> usize {
    if t.detailed {
        max
    } else {
        max.min(PERF_LINES)
    }
}

/// The whole wire log of a transcript.
pub fn lines(t: &Transcript) -> Vec<String> {
    lines_capped(t, usize::MAX)
}

/// The wire log, stopping (with a note saying how many events were left out)
/// once `max` lines have been produced.
pub fn lines_capped(t: &Transcript, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    if !t.detailed {
        out.push("(performance case: payloads are summarized, not recorded)".to_string());
    }
    for (i, ev) in t.events.iter().enumerate() {
        if let Some(o) = t.omitted.filter(|o| o.at == i) {
            out.push(format!(
                "… {} event{} left out of the results here (each case keeps its first {} and last {})",
                o.count,
                plural(o.count),
                crate::transcript::KEEP_HEAD,
                crate::transcript::KEEP_TAIL
            ));
        }
        if out.len() >= max {
            let rest = t.events.len() - i;
            out.push(format!(
                "… {rest} more event{} not shown (wire log capped at {max} lines)",
                plural(rest as u64)
            ));
            return out;
        }
        out.extend(event_lines(ev));
    }
    out.push(end_line(t));
    out
}

/// The last line of a complete wire log: when the case ended.
pub fn end_line(t: &Transcript) -> String {
    format!("{}  · end of case", stamp(t.duration_us))
}

/// The lines of one event: the event line, then for handshakes the head's
/// text lines.
pub fn event_lines(ev: &Event) -> Vec<String> {
    use EventKind as K;
    let arrow = Direction::of(&ev.kind).arrow();
    let mut extra = Vec::new();
    let body = match &ev.kind {
        K::Connected => "TCP connected".to_string(),
        K::ConnectFailed { error } => format!("TCP connect failed: {}", plain(&error.to_string())),
        K::RequestSent { raw } => {
            text_block(raw, &mut extra);
            format!("HandshakeRequest {} bytes", raw.len)
        }
        K::RequestReceived { raw } => {
            text_block(raw, &mut extra);
            format!("HandshakeRequest from the client, {} bytes", raw.len)
        }
        K::ResponseSent { status, raw } => {
            text_block(raw, &mut extra);
            format!("HandshakeResponse {status} ({} bytes)", raw.len)
        }
        K::ResponseReceived { head, raw } => {
            if raw.head.is_empty() {
                for (n, v) in head.headers.iter().take(HANDSHAKE_LINES) {
                    extra.push(clip(&format!("{INDENT}| {}: {}", plain(n), plain(v))));
                }
            } else {
                text_block(raw, &mut extra);
            }
            format!(
                "HandshakeResponse {} {} ({} bytes)",
                head.status,
                plain(&head.reason),
                raw.len
            )
        }
        K::HandshakeFailed { reason, raw } => {
            text_block(raw, &mut extra);
            format!(
                "HandshakeFailed: {} ({} bytes received)",
                plain(&reason.to_string()),
                raw.len
            )
        }
        K::FrameSent { frame } => format!("FrameSent {}", frame_desc(frame)),
        K::FrameReceived { frame } => format!("FrameReceived {}", frame_desc(frame)),
        K::BytesSent { bytes, writes } => format!(
            "BytesSent {} bytes in {writes} write{} {}",
            bytes.len,
            plural(*writes),
            hex_preview(bytes)
        ),
        K::MessageSent { message } => format!("MessageSent {}", message_desc(message)),
        K::MessageReceived { message } => format!("MessageReceived {}", message_desc(message)),
        K::Marker { name } => format!("Marker {}", plain(name)),
        K::StepSkipped { step } => format!(
            "StepSkipped {} (the peer had closed)",
            plain(&step.to_string())
        ),
        K::ClientKeyReused { key, earlier_case } => format!(
            "ClientKeyReused {} (first sent for case {})",
            plain(key),
            plain(earlier_case)
        ),
        K::FollowUpRequest { what, raw } => format!(
            "FollowUpRequest on a new connection: the client {} ({} bytes)",
            plain(&what.to_string()),
            raw.len
        ),
        K::ProbeSent { payload } => format!("ProbeSent ping {} (not graded)", plain(payload)),
        K::WaitMet { what } => format!("WaitMet {what}"),
        K::WaitTimedOut {
            what,
            after_ms,
            stalled: true,
        } => {
            format!("WaitTimedOut {what}: no byte from the peer for {after_ms} ms (stall timeout)")
        }
        K::WaitTimedOut { what, after_ms, .. } => {
            format!("WaitTimedOut {what} after {after_ms} ms")
        }
        K::PeerEof => "TCP EOF: the peer closed its side".to_string(),
        K::NoCloseNotify => {
            "TLS ended without close_notify: the peer closed TCP under TLS".to_string()
        }
        K::TlsEstablished { session } => {
            format!("TLS established: {}", plain(&session.to_string()))
        }
        K::Http2Stream { id } => {
            format!("HTTP/2 stream {id}: the WebSocket runs on it (RFC 8441)")
        }
        K::Http2Sent { frame } => format!("HTTP/2 {}", plain(frame)),
        K::SocketError { error } => format!("SocketError {}", plain(&error.to_string())),
        K::HarnessClosed { reason } => {
            format!("TCP closed by wsspec: {}", plain(&reason.to_string()))
        }
        K::Deadline { after_ms } => format!("Deadline expired after {after_ms} ms"),
        K::TruncatedFrame => "TruncatedFrame: the connection ended mid-frame".to_string(),
        K::Overflow {
            frames,
            messages,
            max_events,
            replies_dropped,
            ..
        } => {
            let mut parts = Vec::new();
            if frames + messages > 0 {
                parts.push(format!(
                    "{frames} frames and {messages} messages past the first {max_events} events counted, not kept (--max-events)"
                ));
            }
            if *replies_dropped > 0 {
                parts.push(format!(
                    "{replies_dropped} pongs not sent: the peer did not read those already queued"
                ));
            }
            format!("Overflow: {}", parts.join("; "))
        }
        K::Deflate { negotiation } => match negotiation {
            DeflateNegotiation::Agreed {
                agreement,
                response,
                harness_resets,
            } => format!(
                "Deflate agreed: {agreement}{} (response `{}`)",
                if *harness_resets {
                    "; wsspec resets its context, as its offer promised"
                } else {
                    ""
                },
                plain(response)
            ),
            DeflateNegotiation::Declined { passed_over } if passed_over.is_empty() => {
                "Deflate not agreed".to_string()
            }
            DeflateNegotiation::Declined { passed_over } => format!(
                "Deflate not agreed; passed over: {}",
                plain(&passed_over.join("; "))
            ),
            DeflateNegotiation::Refused { response, fault } => format!(
                "Deflate response `{}` must be refused: {}",
                plain(response),
                plain(fault)
            ),
        },
    };
    let mut out = Vec::with_capacity(1 + extra.len());
    out.push(clip(&format!("{}  {arrow} {body}", stamp(ev.at_us))));
    out.extend(extra);
    out
}

/// `+   0.412 ms`.
fn stamp(at_us: u64) -> String {
    format!("+{:>8.3} ms", at_us as f64 / 1000.0)
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `text fin=1 rsv=0 mask=1a2b3c4d len=13 (7-bit) "Hello, world!"`.
fn frame_desc(f: &FrameRecord) -> String {
    let h = &f.head;
    let mask = match h.mask {
        Some(k) => hex(&k),
        None => "none".into(),
    };
    let mut s = format!(
        "{} fin={} rsv={} mask={mask} len={} ({}{})",
        h.opcode.name(),
        u8::from(h.fin),
        h.rsv,
        h.len,
        h.length_form,
        if h.length_is_canonical() {
            ""
        } else {
            ", non-canonical"
        }
    );
    if let Some(c) = &f.close {
        match c.code {
            Some(code) => s.push_str(&format!(" code={code}")),
            None => s.push_str(" code=none"),
        }
        if c.reason.len > 0 {
            s.push_str(&format!(" reason={}", payload_preview(&c.reason)));
            if !c.reason_utf8 {
                s.push_str(" (invalid UTF-8)");
            }
        }
    } else if f.payload.len > 0 || h.len > 0 {
        s.push(' ');
        s.push_str(&payload_preview(&f.payload));
    }
    s
}

/// `text frames=2 len=18 "Hello…"`.
fn message_desc(m: &MessageRecord) -> String {
    let mut s = format!(
        "{} frames={} len={} {}",
        m.opcode.name(),
        m.frames,
        m.payload.len,
        payload_preview(&m.payload)
    );
    if m.utf8_valid == Some(false) {
        s.push_str(" (invalid UTF-8)");
    }
    if let Some(c) = &m.compressed {
        let ratio = if m.payload.len > 0 {
            c.wire_len as f64 / m.payload.len as f64
        } else {
            1.0
        };
        if c.by_wsspec {
            let _ = write!(s, " compressed={} ratio={ratio:.3} by wsspec", c.wire_len);
        } else {
            let _ = write!(
                s,
                " compressed={} ratio={ratio:.3} max_distance={}{}",
                c.wire_len,
                c.max_distance,
                if c.refers_back { " refers-back" } else { "" }
            );
        }
        match &c.result {
            InflateResult::Complete => {}
            InflateResult::TooLarge { limit } => {
                let _ = write!(s, " (inflating stopped at the {limit}-byte limit)");
            }
            InflateResult::Corrupt { detail } => {
                let _ = write!(s, " (does not inflate: {})", plain(detail));
            }
        }
    }
    s
}

/// The first characters of a digest, safely.
fn short_sha(log: &ByteLog) -> String {
    plain(log.sha256.get(..16).unwrap_or(&log.sha256))
}

/// The suffix for a log of which only `shown` bytes were shown.
fn rest_note(log: &ByteLog, shown: usize) -> String {
    if (shown as u64) < log.len {
        format!("… ({} bytes, sha256 {})", log.len, short_sha(log))
    } else {
        String::new()
    }
}

/// A payload: quoted text when its first bytes are printable UTF-8, else hex.
pub fn payload_preview(log: &ByteLog) -> String {
    if log.len == 0 {
        return "\"\"".into();
    }
    if log.head.is_empty() {
        return format!(
            "({} bytes not recorded, sha256 {})",
            log.len,
            short_sha(log)
        );
    }
    let part = &log.head[..log.head.len().min(TEXT_PREVIEW)];
    let text = match std::str::from_utf8(part) {
        Ok(s) => Some(s),
        // Cut in the middle of a character by the preview or the head cap.
        Err(e) if e.error_len().is_none() && (part.len() as u64) < log.len => {
            std::str::from_utf8(&part[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    }
    .filter(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
    });
    match text {
        Some(s) => format!("{s:?}{}", rest_note(log, s.len())),
        None => hex_preview(log),
    }
}

/// A payload as hex of its first bytes.
fn hex_preview(log: &ByteLog) -> String {
    if log.len == 0 {
        return "(empty)".into();
    }
    if log.head.is_empty() {
        return format!(
            "({} bytes not recorded, sha256 {})",
            log.len,
            short_sha(log)
        );
    }
    let n = log.head.len().min(HEX_PREVIEW);
    format!("hex {}{}", hex(&log.head[..n]), rest_note(log, n))
}

/// A handshake head as indented text lines (`| GET / HTTP/1.1`).
fn text_block(raw: &ByteLog, out: &mut Vec<String>) {
    let shown = &raw.head[..raw.head.len().min(HANDSHAKE_BYTES)];
    let mut rows: Vec<&[u8]> = shown.split(|&b| b == b'\n').collect();
    while rows.last().is_some_and(|r| r.is_empty() || *r == b"\r") {
        rows.pop();
    }
    for (i, row) in rows.iter().enumerate() {
        if i == HANDSHAKE_LINES {
            out.push(format!("{INDENT}| … {} more lines", rows.len() - i));
            break;
        }
        let row = row.strip_suffix(b"\r").unwrap_or(row);
        out.push(clip(&format!("{INDENT}| {}", escape_bytes(row))));
    }
    if (shown.len() as u64) < raw.len {
        out.push(format!(
            "{INDENT}| … ({} bytes, sha256 {})",
            raw.len,
            short_sha(raw)
        ));
    }
}

/// Bytes as text: valid UTF-8 kept (controls escaped), invalid bytes as `\xNN`.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        s.push_str(&plain(chunk.valid()));
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

/// A string on one line: tab, CR, LF and every other control character escaped.
pub fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ => match visible_escape(c) {
                Some(e) => out.push_str(&e),
                None => out.push(c),
            },
        }
    }
    out
}

/// Cuts a line to [`MAX_LINE`] characters, marking the cut with `…`.
pub fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_LINE - 1) {
        Some((i, _)) if s[i..].chars().nth(1).is_some() => format!("{}…", &s[..i]),
        _ => s.to_string(),
    }
}

/// The header bytes a frame head stands for, as they were on the wire.
pub fn frame_header_bytes(h: &FrameHead) -> Vec<u8> {
    let mut v = Vec::with_capacity(14);
    v.push((u8::from(h.fin) << 7) | ((h.rsv & 7) << 4) | (h.opcode.0 & 0x0f));
    let m = if h.mask.is_some() { 0x80 } else { 0 };
    match h.length_form {
        LengthForm::Short => v.push(m | (h.len & 0x7f) as u8),
        LengthForm::Medium => {
            v.push(m | 126);
            v.extend_from_slice(&(h.len as u16).to_be_bytes());
        }
        LengthForm::Long => {
            v.push(m | 127);
            v.extend_from_slice(&h.len.to_be_bytes());
        }
    }
    if let Some(k) = h.mask {
        v.extend_from_slice(&k);
    }
    v
}

/// A classic hex dump (`0000  48 65 …  |He…|`) of at most `max` bytes.
pub fn hex_dump(bytes: &[u8], max: usize) -> Vec<String> {
    let shown = &bytes[..bytes.len().min(max)];
    let mut out = Vec::with_capacity(shown.len() / 16 + 2);
    for (i, row) in shown.chunks(16).enumerate() {
        let mut hexes = String::with_capacity(50);
        for j in 0..16 {
            if j == 8 {
                hexes.push(' ');
            }
            match row.get(j) {
                Some(b) => hexes.push_str(&format!("{b:02x} ")),
                None => hexes.push_str("   "),
            }
        }
        let ascii: String = row
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        out.push(format!("{:04x}  {hexes} |{ascii}|", i * 16));
    }
    if shown.len() < bytes.len() {
        out.push(format!(
            "… {} more bytes recorded",
            bytes.len() - shown.len()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_bounds_lines() {
        let long = "é".repeat(1000);
        let c = clip(&long);
        assert_eq!(c.chars().count(), MAX_LINE);
        assert!(c.ends_with('…'));
        let exact = "x".repeat(MAX_LINE);
        assert_eq!(clip(&exact), exact);
    }

    #[test]
    fn previews() {
        assert_eq!(payload_preview(&ByteLog::of(b"Hello")), "\"Hello\"");
        assert_eq!(payload_preview(&ByteLog::of(b"\x00\xff")), "hex 00ff");
        let big = ByteLog::of(&[b'a'; 1000]);
        let p = payload_preview(&big);
        assert!(p.contains("(1000 bytes, sha256 "), "{p}");
        // A multi-byte character cut by the preview still shows as text.
        let kappa = ByteLog::of("κ".repeat(100).as_bytes());
        assert!(payload_preview(&kappa).starts_with("\"κκ"));
    }

    #[test]
    fn header_bytes() {
        let h = FrameHead {
            fin: true,
            rsv: 0,
            opcode: crate::wire::Opcode::TEXT,
            mask: Some([1, 2, 3, 4]),
            len: 13,
            length_form: LengthForm::Short,
        };
        assert_eq!(frame_header_bytes(&h), vec![0x81, 0x8d, 1, 2, 3, 4]);
    }
}

#[cfg(test)]
mod bound_tests {
    use crate::transcript::{Event, EventKind, Transcript};

    #[test]
    fn the_wire_log_says_where_events_were_left_out() {
        let mut t = Transcript {
            case_id: "t".into(),
            events: (0..10)
                .map(|i| Event {
                    at_us: i,
                    kind: EventKind::Marker {
                        name: i.to_string(),
                    },
                })
                .collect(),
            duration_us: 10,
            detailed: false,
            omitted: None,
        };
        t.bound(3, 2);
        let log = super::lines(&t);
        let note = log
            .iter()
            .position(|l| l.contains("5 events left out of the results here"))
            .expect("a note");
        assert!(log[note - 1].contains("Marker 2") && log[note + 1].contains("Marker 8"));
    }
}
