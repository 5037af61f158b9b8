//! Normalization: one case's transcript and verdict become a short, stable,
//! human-readable text. It keeps what the peer's code decides (status line,
//! headers, every frame and message it sent and their order, its close frame,
//! how the connection ended, the verdicts) and drops what the run decides
//! (times, ports, random keys, mask keys, how many bytes we managed to write
//! before the peer closed). The rules are listed in `docs/snapshots.md`; each
//! rule below names the transcript events it reads.

use std::fmt::Write as _;

use crate::judge::{CloseVerdict, Outcome, Verdict};
use crate::transcript::{
    is_probe_frame, ConnectFailure, DeflateNegotiation, EventKind, FollowUp, HandshakeFailure,
    HarnessClose, SkippedStep, StepName, Transcript,
};
use crate::wire::bytelog::ByteLog;
use crate::wire::decode::FrameHead;
use crate::wire::handshake::{accept_for, ResponseHead};
use crate::wire::message::{FrameRecord, InflateResult, MessageRecord};
use crate::wire::Opcode;

/// Longest payload printed as text; longer payloads print as length + digest.
pub const MAX_TEXT: usize = 64;

/// Response headers whose values are printed (compared case-insensitively).
/// `Sec-WebSocket-Accept` is printed as `<accept ok>` / `<accept WRONG>`;
/// every other header is listed by name with its value masked.
pub const SHOWN_HEADERS: [&str; 5] = [
    "upgrade",
    "connection",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "sec-websocket-version",
];

/// The snapshot text of one case with no timing folds.
pub fn normalize(transcript: &Transcript, verdict: &Verdict) -> String {
    normalize_with(transcript, verdict, false)
}

/// The snapshot text of one case. `timing_dependent` (the case's
/// `timing_dependent: true`) folds the details that depend on timing rather
/// than on the peer's code. What flips a verdict between OK and NON-STRICT is
/// whether an echo, a pong or a marker came before the peer failed the
/// connection, so a timing-dependent case records neither those events nor the
/// exact word: data messages and frames, pongs and markers are left out (one
/// note line says so), and OK ⇄ NON-STRICT (behaviour) and OK ⇄ FAILED BY
/// CLIENT (close) each read as one phrase. The handshake, the peer's pings,
/// close frame and other control frames, who closed first, how TCP ended and a
/// FAILED verdict stay.
pub fn normalize_with(
    transcript: &Transcript,
    verdict: &Verdict,
    timing_dependent: bool,
) -> String {
    normalize_as(
        transcript,
        verdict,
        Normalization {
            timing_dependent,
            compressed_bytes: false,
        },
    )
}

/// What a case asks of its snapshot beyond the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Normalization {
    /// The case's `timing_dependent: true` (see [`normalize_with`]).
    pub timing_dependent: bool,
    /// The case's `deflate: {snapshot_compressed: true}`: a compressed
    /// message also lists the digest of each of its frames' payloads, so a
    /// change in the peer's compressor shows as drift.
    pub compressed_bytes: bool,
}

/// The snapshot text of one case, as the case asks.
pub fn normalize_as(transcript: &Transcript, verdict: &Verdict, how: Normalization) -> String {
    let Normalization {
        timing_dependent,
        compressed_bytes,
    } = how;
    let mut n = Normalizer {
        out: String::new(),
        timing_dependent,
        compressed_bytes,
        key: None,
        pending: Vec::new(),
        in_message: false,
        received_any: false,
    };
    n.run(transcript, verdict);
    n.out
}

struct Normalizer {
    out: String,
    timing_dependent: bool,
    compressed_bytes: bool,
    /// The Sec-WebSocket-Key we sent, to check the accept value.
    key: Option<String>,
    /// Data frames of the message in progress.
    pending: Vec<FrameRecord>,
    in_message: bool,
    /// Whether the `received:` heading has been written.
    received_any: bool,
}

/// Who sent the first close frame.
#[derive(Clone, Copy, PartialEq, Eq)]
enum First {
    Harness,
    Peer,
}

impl Normalizer {
    fn line(&mut self, s: impl AsRef<str>) {
        self.out.push_str(s.as_ref());
        self.out.push('\n');
    }

    /// A line of the `received:` section (the heading comes with the first).
    fn recv(&mut self, s: impl AsRef<str>) {
        if !self.received_any {
            self.received_any = true;
            self.line("received:");
        }
        self.out.push_str("  ");
        self.line(s);
    }

    fn run(&mut self, t: &Transcript, verdict: &Verdict) {
        let mut first_close: Option<First> = None;
        let (mut sent_close, mut got_close) = (false, false);
        let mut ending: Option<String> = None;
        let mut write_failed = false;
        let mut upgraded = false;
        // wsspec is the server: it closes TCP as soon as the closing
        // handshake is complete, and a client that closes at once races it.
        let mut as_server = false;
        let mut http2 = false;
        let probes = t.probe_payloads();
        // Over HTTP/1.1 the same snapshot holds in cleartext and over TLS;
        // over HTTP/2 the transport line names which (h2c or h2).
        let over_tls = t
            .kinds()
            .any(|k| matches!(k, EventKind::TlsEstablished { .. }));
        for kind in t.kinds() {
            match kind {
                EventKind::Connected
                | EventKind::ProbeSent { .. }
                | EventKind::WaitMet { .. }
                | EventKind::WaitTimedOut { .. }
                | EventKind::BytesSent { .. }
                | EventKind::MessageSent { .. } => {}
                EventKind::ConnectFailed { error } => {
                    self.line(format!("connect: failed: {}", connect_failure(error)));
                    ending.get_or_insert_with(|| "never opened".to_string());
                }
                EventKind::RequestSent { raw } => self.key = request_key(raw),
                // Stream ids depend on how cases interleave: only the
                // transport is part of the snapshot.
                EventKind::Http2Stream { .. } => {
                    http2 = true;
                    self.line(if over_tls {
                        "transport: HTTP/2 stream over TLS (h2)"
                    } else {
                        "transport: HTTP/2 stream in cleartext (h2c)"
                    });
                }
                EventKind::Http2Sent { frame } => self.line(format!("send: HTTP/2 {frame}")),
                EventKind::RequestReceived { .. } => {}
                EventKind::ResponseSent { status, .. } => {
                    as_server = true;
                    self.line(format!("handshake: wsspec answered {status}"));
                    upgraded = *status == 101 || (http2 && (200..300).contains(status));
                }
                EventKind::ResponseReceived { head, .. } => {
                    self.response(head);
                    upgraded = head.opened();
                    if upgraded && self.timing_dependent {
                        self.recv(
                            "(timing-dependent: data messages, pongs and markers not recorded)",
                        );
                    }
                    if !upgraded {
                        // The runner reads no further than a refusal's head.
                        ending.get_or_insert_with(|| {
                            "closed by wsspec after the response".to_string()
                        });
                    }
                }
                EventKind::HandshakeFailed { reason, raw } => {
                    let (what, end) = handshake_failure(reason);
                    self.line(format!(
                        "handshake: failed: {what} ({} bytes received)",
                        raw.len
                    ));
                    ending.get_or_insert_with(|| end.to_string());
                }
                EventKind::FrameSent { frame } => {
                    if frame.head.opcode == Opcode::CLOSE && !sent_close {
                        sent_close = true;
                        first_close.get_or_insert(First::Harness);
                    }
                }
                EventKind::FrameReceived { frame } => {
                    // After wsspec closed the connection, whether a late frame
                    // was still read is a race.
                    // Probe pongs are bookkeeping; whether one beats the
                    // peer's close is timing.
                    if ending.is_some() || is_probe_frame(&probes, frame) {
                        continue;
                    }
                    if frame.head.opcode == Opcode::CLOSE && !got_close {
                        got_close = true;
                        first_close.get_or_insert(First::Peer);
                    }
                    self.frame(frame);
                }
                EventKind::MessageReceived { message } => {
                    if ending.is_none() {
                        self.message(message);
                    }
                }
                EventKind::Marker { name } => {
                    if !self.timing_dependent {
                        self.recv(format!("-- marker {name}"));
                    }
                }
                EventKind::StepSkipped { step } => {
                    // Other skipped steps depend on when the peer's close
                    // arrived; a skipped marker is the case's own observation
                    // (and comes after the peer's close, wherever TCP is).
                    if let SkippedStep::Step(StepName::Marker { name }) = step {
                        if !self.timing_dependent {
                            self.recv(format!(
                                "-- marker {name} not reached (the peer had closed)"
                            ));
                        }
                    }
                }
                EventKind::ClientKeyReused { .. } => {
                    self.line("handshake: the client reused a Sec-WebSocket-Key");
                }
                EventKind::FollowUpRequest { what, .. } => {
                    self.line(format!(
                        "follow-up: on a new connection the client {}",
                        follow_up(what)
                    ));
                }
                EventKind::Deflate { negotiation } => {
                    let l = match negotiation {
                        DeflateNegotiation::Agreed { agreement, .. } => {
                            format!("deflate: agreed ({agreement})")
                        }
                        DeflateNegotiation::Declined { .. } => "deflate: not agreed".to_string(),
                        DeflateNegotiation::Refused { fault, .. } => {
                            format!("deflate: a response wsspec must refuse ({fault})")
                        }
                    };
                    self.line(l);
                }
                EventKind::TruncatedFrame => {
                    if ending.is_none() {
                        self.recv("(the peer's last frame was cut off)");
                    }
                }
                // How far past the limit a flood went depends on timing;
                // that it did shows in the verdict.
                EventKind::Overflow { .. } => {}
                // The transport's setup, not the peer's WebSocket: the same
                // snapshot holds in cleartext and over TLS. A missing
                // close_notify is followed by the EOF that ends the case.
                EventKind::TlsEstablished { .. } | EventKind::NoCloseNotify => {}
                // A failed write is not the end by itself: the reader still
                // collects what the peer sent before it went away.
                EventKind::SocketError { error } if error.is_write() => write_failed = true,
                // FIN or RST: which one a peer's close produces depends on
                // whether our bytes were still unread, so both fold into one.
                EventKind::PeerEof | EventKind::SocketError { .. } => {
                    ending.get_or_insert_with(|| {
                        if as_server && sent_close && got_close {
                            AFTER_CLOSING_HANDSHAKE.to_string()
                        } else {
                            "ended by the peer".to_string()
                        }
                    });
                }
                EventKind::HarnessClosed {
                    reason: HarnessClose::ServerClosesFirst,
                } => {
                    ending.get_or_insert_with(|| AFTER_CLOSING_HANDSHAKE.to_string());
                }
                EventKind::HarnessClosed { reason } => {
                    ending.get_or_insert_with(|| {
                        format!("closed by wsspec ({})", harness_close(reason))
                    });
                }
                EventKind::Deadline { .. } => {
                    ending.get_or_insert_with(|| {
                        "closed by wsspec (case deadline expired)".to_string()
                    });
                }
            }
        }
        self.flush_unfinished();
        if write_failed && ending.is_none() {
            ending = Some("ended by the peer".to_string());
        }
        if upgraded {
            if !self.received_any {
                self.line("received: nothing");
            }
            let closing = match (first_close, sent_close, got_close) {
                (None, _, _) => "no close frame either way",
                (Some(First::Harness), _, true) => "wsspec closed first; the peer answered",
                (Some(First::Harness), _, false) => "wsspec closed; the peer sent no close frame",
                (Some(First::Peer), true, _) => "the peer closed first; wsspec answered",
                (Some(First::Peer), false, _) => "the peer closed; wsspec sent no close frame",
            };
            self.line(format!("closing: {closing}"));
        }
        self.line(format!(
            "tcp: {}",
            ending.as_deref().unwrap_or("no end recorded")
        ));
        self.verdict(verdict);
    }

    fn response(&mut self, head: &ResponseHead) {
        let reason = head.reason.trim();
        if reason.is_empty() {
            self.line(format!("handshake: {}", head.status));
        } else {
            self.line(format!(
                "handshake: {} {}",
                head.status,
                quote_if_odd(reason)
            ));
        }
        for (name, value) in &head.headers {
            let lower = name.to_ascii_lowercase();
            let shown = if lower == "sec-websocket-accept" {
                match &self.key {
                    Some(key) if accept_for(key) == value.trim() => "<accept ok>".to_string(),
                    Some(_) => "<accept WRONG>".to_string(),
                    None => "<accept: no key was sent>".to_string(),
                }
            } else if SHOWN_HEADERS.contains(&lower.as_str()) {
                quote_if_odd(value.trim())
            } else {
                "<masked>".to_string()
            };
            self.line(format!("  {}: {shown}", quote_if_odd(name)));
        }
    }

    fn frame(&mut self, f: &FrameRecord) {
        if self.timing_dependent && matches!(f.head.opcode.0, 0 | 1 | 2 | 10) {
            return;
        }
        match f.head.opcode.0 {
            1 | 2 => {
                self.flush_unfinished();
                self.pending.push(f.clone());
                self.in_message = true;
            }
            0 if self.in_message => self.pending.push(f.clone()),
            0 => {
                let l = format!("{} (continues no message)", frame_line(f));
                self.recv(l);
            }
            8 => {
                let body = match &f.close {
                    _ if f.payload.len == 1 => {
                        format!("malformed body {}", payload_text(&f.payload))
                    }
                    Some(c) => match c.code {
                        Some(code) => {
                            let reason = if c.reason_utf8 {
                                payload_text(&c.reason)
                            } else {
                                format!("{} (not UTF-8)", digest_text(&c.reason))
                            };
                            format!("code {code} reason {reason}")
                        }
                        None => "no code".to_string(),
                    },
                    None => "no code".to_string(),
                };
                let fin = if f.head.fin { "" } else { " not fin" };
                let l = format!("close {body}{fin}{}", flags(&f.head, &f.payload));
                self.recv(l);
            }
            _ => {
                let l = frame_line(f);
                self.recv(l);
            }
        }
    }

    fn message(&mut self, m: &MessageRecord) {
        if self.timing_dependent {
            return;
        }
        let frames = std::mem::take(&mut self.pending);
        self.in_message = false;
        let kind = match m.opcode.0 {
            1 => "text",
            2 => "binary",
            _ => "data",
        };
        let utf8 = match m.utf8_valid {
            Some(false) => " (invalid UTF-8)",
            _ => "",
        };
        // Compressed sizes differ between zlib versions: a compressed
        // message is recorded by what it inflated to.
        let summary = match &m.compressed {
            Some(c) => format!(
                "compressed in {} frame{}{}{}",
                m.frames,
                if m.frames == 1 { "" } else { "s" },
                if self.compressed_bytes {
                    compressed_frames(m.frames, &frames)
                } else {
                    String::new()
                },
                match &c.result {
                    InflateResult::Complete => String::new(),
                    InflateResult::TooLarge { limit } => {
                        format!(", inflating stopped at the {limit}-byte limit")
                    }
                    InflateResult::Corrupt { detail } => format!(", does not inflate: {detail}"),
                }
            ),
            None => frame_summary(m.frames, &frames),
        };
        self.recv(format!(
            "{kind} message {}{utf8} {summary}",
            payload_text(&m.payload),
        ));
    }

    /// Frames of a message that never completed.
    fn flush_unfinished(&mut self) {
        let frames = std::mem::take(&mut self.pending);
        self.in_message = false;
        for f in &frames {
            let l = format!("{} (message never finished)", frame_line(f));
            self.recv(l);
        }
    }

    fn verdict(&mut self, v: &Verdict) {
        let fold = self.timing_dependent;
        let behavior = match v.behavior {
            Outcome::Ok | Outcome::NonStrict if fold => {
                "OK or NON-STRICT (timing-dependent)".to_string()
            }
            b => b.as_str().to_string(),
        };
        let close = match v.close {
            CloseVerdict::Ok | CloseVerdict::FailedByClient if fold => {
                "OK or FAILED BY CLIENT (timing-dependent)".to_string()
            }
            c => c.as_str().to_string(),
        };
        self.line(format!("verdict: behaviour {behavior}; close {close}"));
    }
}

/// One frame: opcode, payload and any unusual header bits. Control frames
/// are final when valid, so only `not fin` is shown for them; a data frame
/// printed on its own line (stray or unfinished) always says which it is.
fn frame_line(f: &FrameRecord) -> String {
    let name = f.head.opcode.name();
    let payload = payload_text(&f.payload);
    let bits = flags(&f.head, &f.payload);
    match f.head.opcode.0 {
        0..=2 => {
            let fin = if f.head.fin { "fin" } else { "not fin" };
            format!("{name} frame {fin} {payload}{bits}")
        }
        op if Opcode(op).is_control() => {
            let fin = if f.head.fin { "" } else { " not fin" };
            format!("{name} {payload}{fin}{bits}")
        }
        _ => {
            let fin = if f.head.fin { "fin" } else { "not fin" };
            format!("{name} frame {fin} {payload}{bits}")
        }
    }
}

/// Unusual header bits: RSV, a mask, a non-minimal length encoding, a
/// declared length the payload did not reach.
fn flags(head: &FrameHead, payload: &ByteLog) -> String {
    let mut s = String::new();
    if head.rsv != 0 {
        let _ = write!(s, " rsv={}", head.rsv);
    }
    if head.mask.is_some() {
        s.push_str(" masked");
    }
    if !head.length_is_canonical() {
        let _ = write!(s, " ({} length)", head.length_form);
    }
    if head.len != payload.len {
        let _ = write!(s, " (declared length {})", head.len);
    }
    s
}

/// How a message was split: `in 1 frame`, or `in 3 frames [5, 5, 2]` with runs
/// compressed (`[16384 ×4]`). The lengths are shown when every frame was
/// recorded (performance cases record none).
fn frame_summary(count: u32, frames: &[FrameRecord]) -> String {
    let plain =
        |f: &FrameRecord| f.head.rsv == 0 && f.head.mask.is_none() && f.head.length_is_canonical();
    if frames.len() != count as usize {
        return format!("in {count} frame{}", if count == 1 { "" } else { "s" });
    }
    if count == 1 && frames.iter().all(plain) {
        return "in 1 frame".to_string();
    }
    let items: Vec<String> = frames
        .iter()
        .map(|f| {
            let mut s = f.payload.len.to_string();
            if f.head.rsv != 0 {
                let _ = write!(s, " rsv={}", f.head.rsv);
            }
            if f.head.mask.is_some() {
                s.push_str(" masked");
            }
            if !f.head.length_is_canonical() {
                let _ = write!(s, " {} length", f.head.length_form);
            }
            s
        })
        .collect();
    let mut runs: Vec<(String, usize)> = Vec::new();
    for item in items {
        match runs.last_mut() {
            Some((last, n)) if *last == item => *n += 1,
            _ => runs.push((item, 1)),
        }
    }
    let list: Vec<String> = runs
        .into_iter()
        .map(|(item, n)| {
            if n == 1 {
                item
            } else {
                format!("{item} ×{n}")
            }
        })
        .collect();
    format!(
        "in {count} frame{} [{}]",
        if count == 1 { "" } else { "s" },
        list.join(", ")
    )
}

/// The compressed bytes of a message's frames, for a case that asks for
/// them: ` [len 12 sha256 …, len 3 sha256 …]`, or nothing when its frames
/// were not recorded (a performance case).
fn compressed_frames(count: u32, frames: &[FrameRecord]) -> String {
    if frames.len() != count as usize {
        return String::new();
    }
    let items: Vec<String> = frames.iter().map(|f| digest_text(&f.payload)).collect();
    format!(" [{}]", items.join(", "))
}

/// A payload as quoted text when it is short printable UTF-8, else as length
/// and digest prefix.
pub fn payload_text(p: &ByteLog) -> String {
    if p.is_complete() && p.head.len() <= MAX_TEXT {
        if let Ok(s) = std::str::from_utf8(&p.head) {
            if !s.chars().any(char::is_control) {
                return format!("{s:?}");
            }
        }
    }
    digest_text(p)
}

/// `len N sha256 <first 16 hex digits>`.
fn digest_text(p: &ByteLog) -> String {
    let prefix = p.sha256.get(..16).unwrap_or(&p.sha256);
    format!("len {} sha256 {prefix}", p.len)
}

/// A value as it was, or quoted when it holds control characters or
/// surrounding spaces (so that every snapshot line is one line).
fn quote_if_odd(s: &str) -> String {
    if s.chars().any(char::is_control) || s.starts_with(' ') || s.ends_with(' ') {
        format!("{s:?}")
    } else {
        s.to_string()
    }
}

/// Replaces every run of digits with `#` (timeouts, OS error numbers and
/// byte counts inside error messages).
pub fn mask_digits(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_digits = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.push(c);
        }
    }
    quote_if_odd(&out)
}

/// The Sec-WebSocket-Key value of the request we sent, if it had one.
fn request_key(raw: &ByteLog) -> Option<String> {
    let text = String::from_utf8_lossy(&raw.head);
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("sec-websocket-key")
            .then(|| value.trim().to_string())
    })
}

/// Why wsspec ended the connection, as snapshots word it.
/// How a snapshot ends when wsspec, as the server, and the client had both
/// sent their close: which side's TCP close came first is a race there.
const AFTER_CLOSING_HANDSHAKE: &str =
    "closed after the closing handshake (wsspec, the server, closes at once; the client may race it)";

fn harness_close(reason: &HarnessClose) -> String {
    match reason {
        HarnessClose::CaseDrops => "the case drops the connection".into(),
        HarnessClose::Deadline => "case deadline expired".into(),
        HarnessClose::ServerClosesFirst => {
            "closing handshake complete: the server closes TCP first (RFC 6455 7.1.1)".into()
        }
        HarnessClose::StepsFinished => "steps finished with the connection still open".into(),
        HarnessClose::MalformedRequestReset => {
            "the request is malformed: the HTTP/2 layer reset its stream".into()
        }
        HarnessClose::MalformedRequestGoaway => {
            "the request is malformed: the HTTP/2 layer ended the connection".into()
        }
        HarnessClose::Other(text) => quote_if_odd(text),
    }
}

/// A client's follow-up request, as snapshots word it.
fn follow_up(what: &FollowUp) -> String {
    match what {
        FollowUp::Redirect => "followed the redirect".into(),
        FollowUp::Credentials => "answered the authentication challenge with credentials".into(),
        FollowUp::Other(text) => quote_if_odd(text),
    }
}

/// A failed connection attempt in words without numbers.
fn connect_failure(error: &ConnectFailure) -> String {
    match error {
        ConnectFailure::Io(detail) => mask_digits(detail),
        ConnectFailure::Timeout { .. } => "no connection within # ms".to_string(),
        ConnectFailure::TargetGone => {
            "the target stopped accepting connections earlier in this run".to_string()
        }
        ConnectFailure::TargetQuiet { .. } => "not started: the target went quiet".to_string(),
        ConnectFailure::RunTimeout { .. } => {
            "not started: the run had reached its --run-timeout".to_string()
        }
        ConnectFailure::Interrupted => "not finished: the run was interrupted".to_string(),
        ConnectFailure::NeedsHttp2 => error.to_string(),
    }
}

/// A handshake failure in words without numbers, and how the connection
/// ended. The peer closing before a complete head reads as EOF or as a reset
/// depending on timing, so both read the same.
fn handshake_failure(reason: &HandshakeFailure) -> (String, &'static str) {
    const BY_WSSPEC: &str = "closed by wsspec after the failed handshake";
    match reason {
        HandshakeFailure::ClosedEarly | HandshakeFailure::ReadFailed { .. } => (
            "the peer closed the connection before a complete response head".to_string(),
            "ended by the peer",
        ),
        HandshakeFailure::Timeout { .. } => (
            "no complete response head before the handshake timeout".to_string(),
            BY_WSSPEC,
        ),
        HandshakeFailure::Malformed { detail } => (
            mask_digits(&format!("malformed response head: {detail}")),
            BY_WSSPEC,
        ),
        HandshakeFailure::Incomplete => ("incomplete response head".to_string(), BY_WSSPEC),
        HandshakeFailure::NoExtendedConnect => (
            "HTTP/2 SETTINGS without extended CONNECT".to_string(),
            BY_WSSPEC,
        ),
        HandshakeFailure::Http2SwitchingProtocols => ("101 over HTTP/2".to_string(), BY_WSSPEC),
        HandshakeFailure::StreamReset { code } => {
            (format!("stream reset ({code})"), "ended by the peer")
        }
        HandshakeFailure::GoAway { code } => (format!("GOAWAY ({code})"), "ended by the peer"),
        HandshakeFailure::AcceptedWithoutSetting { .. } => (
            "extended CONNECT accepted without the setting".to_string(),
            BY_WSSPEC,
        ),
        HandshakeFailure::HeadTooLarge { .. } => {
            ("response head exceeds # bytes".to_string(), BY_WSSPEC)
        }
        HandshakeFailure::Other(text) => (mask_digits(text), BY_WSSPEC),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::Verdict;
    use crate::transcript::Event;
    use crate::wire::decode::LengthForm;
    use crate::wire::message::CloseBody;
    use crate::wire::message::CompressionRecord;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    /// An edit to a transcript's events.
    type Change = dyn Fn(&mut Vec<EventKind>);

    fn frame(opcode: u8, fin: bool, payload: &[u8]) -> FrameRecord {
        FrameRecord {
            head: FrameHead {
                fin,
                rsv: 0,
                opcode: Opcode(opcode),
                mask: None,
                len: payload.len() as u64,
                length_form: LengthForm::minimal(payload.len() as u64),
            },
            payload: ByteLog::of(payload),
            close: (opcode == 8).then(|| CloseBody::parse(payload)),
        }
    }

    fn message(opcode: u8, frames: u32, payload: &[u8]) -> EventKind {
        EventKind::MessageReceived {
            message: MessageRecord {
                opcode: Opcode(opcode),
                frames,
                payload: ByteLog::of(payload),
                utf8_valid: (opcode == 1).then(|| std::str::from_utf8(payload).is_ok()),
                compressed: None,
            },
        }
    }

    fn received(f: FrameRecord) -> EventKind {
        EventKind::FrameReceived { frame: f }
    }

    fn close_body(code: u16, reason: &str) -> Vec<u8> {
        let mut b = code.to_be_bytes().to_vec();
        b.extend_from_slice(reason.as_bytes());
        b
    }

    fn response(headers: &[(&str, &str)]) -> EventKind {
        EventKind::ResponseReceived {
            head: ResponseHead {
                status: 101,
                reason: "Switching Protocols".into(),
                headers: headers
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
                http2: false,
            },
            raw: ByteLog::of(b""),
        }
    }

    fn request() -> EventKind {
        EventKind::RequestSent {
            raw: ByteLog::of(
                format!("GET / HTTP/1.1\r\nHost: x:49152\r\nSec-WebSocket-Key: {KEY}\r\n\r\n")
                    .as_bytes(),
            ),
        }
    }

    /// A transcript with its verdict, as a run would conclude them.
    struct Observed {
        transcript: Transcript,
        verdict: Verdict,
    }

    fn normalize(o: &Observed) -> String {
        super::normalize(&o.transcript, &o.verdict)
    }

    fn normalize_with(o: &Observed, timing_dependent: bool) -> String {
        super::normalize_with(&o.transcript, &o.verdict, timing_dependent)
    }

    fn result(kinds: Vec<EventKind>, behavior: Outcome, close: CloseVerdict) -> Observed {
        Observed {
            verdict: Verdict {
                behavior,
                behavior_reason: "took 12 ms".into(),
                close,
                close_reason: "after 3 ms".into(),
                remote_close_code: Some(1000),
                outcome: Verdict::outcome_of(behavior, close),
            },
            transcript: Transcript {
                case_id: "t.1".into(),
                events: kinds
                    .into_iter()
                    .enumerate()
                    .map(|(i, kind)| Event {
                        at_us: 1000 * i as u64 + 17,
                        kind,
                    })
                    .collect(),
                duration_us: 12_500,
                detailed: true,
                omitted: None,
            },
        }
    }

    /// An echo case: ping answered, text echoed, wsspec closes, the peer answers.
    fn echo_events() -> Vec<EventKind> {
        let accept = accept_for(KEY);
        vec![
            EventKind::Connected,
            request(),
            response(&[
                ("Date", "Tue, 01 Jul 2025 10:00:00 GMT"),
                ("Server", "Python/3.12 websockets/15.0"),
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Accept", accept.as_str()),
                ("Sec-WebSocket-Protocol", "chat"),
            ]),
            received(frame(10, true, b"ping!")),
            received(frame(1, true, b"Hello")),
            message(1, 1, b"Hello"),
            EventKind::FrameSent {
                frame: frame(8, true, &close_body(1000, "")),
            },
            received(frame(8, true, &close_body(1000, "bye"))),
            EventKind::PeerEof,
        ]
    }

    #[test]
    fn echo_case_text() {
        let r = result(echo_events(), Outcome::Ok, CloseVerdict::Ok);
        assert_eq!(
            normalize(&r),
            "handshake: 101 Switching Protocols
  Date: <masked>
  Server: <masked>
  Upgrade: websocket
  Connection: Upgrade
  Sec-WebSocket-Accept: <accept ok>
  Sec-WebSocket-Protocol: chat
received:
  pong \"ping!\"
  text message \"Hello\" in 1 frame
  close code 1000 reason \"bye\"
closing: wsspec closed first; the peer answered
tcp: ended by the peer
verdict: behaviour OK; close OK
"
        );
    }

    #[test]
    fn compressed_bytes_are_recorded_only_when_the_case_asks() {
        // "Hello" compressed, in two frames: the snapshot says what it
        // inflated to; with compressed_bytes, also each frame's bytes.
        let mut events = echo_events();
        let at = events
            .iter()
            .position(|e| matches!(e, EventKind::MessageReceived { .. }))
            .expect("a message");
        let mut first = frame(1, false, &[0xf2, 0x48, 0xcd]);
        first.head.rsv = 4;
        events.splice(
            at - 1..=at,
            [
                received(first),
                received(frame(0, true, &[0xc9, 0xc9, 0x07, 0x00])),
                EventKind::MessageReceived {
                    message: MessageRecord {
                        opcode: Opcode(1),
                        frames: 2,
                        payload: ByteLog::of(b"Hello"),
                        utf8_valid: Some(true),
                        compressed: Some(CompressionRecord {
                            wire_len: 7,
                            max_distance: 0,
                            refers_back: false,
                            result: InflateResult::Complete,
                            by_wsspec: false,
                        }),
                    },
                },
            ],
        );
        let r = result(events, Outcome::Ok, CloseVerdict::Ok);
        let plain = normalize_as(&r.transcript, &r.verdict, Normalization::default());
        assert!(
            plain.contains("  text message \"Hello\" compressed in 2 frames\n"),
            "{plain}"
        );
        let bytes = normalize_as(
            &r.transcript,
            &r.verdict,
            Normalization {
                compressed_bytes: true,
                ..Normalization::default()
            },
        );
        let f2 = ByteLog::of(&[0xc9, 0xc9, 0x07, 0x00]).sha256;
        let expected = format!(
            "  text message \"Hello\" compressed in 2 frames [len 3 sha256 {}, len 4 sha256 {}]\n",
            &ByteLog::of(&[0xf2, 0x48, 0xcd]).sha256[..16],
            &f2[..16]
        );
        assert!(bytes.contains(&expected), "{bytes}");
    }

    #[test]
    fn nothing_volatile_is_printed() {
        let text = normalize(&result(echo_events(), Outcome::Ok, CloseVerdict::Ok));
        for volatile in [KEY, &accept_for(KEY), "GMT", "15.0", "49152", "12", "17"] {
            assert!(!text.contains(volatile), "`{volatile}` in:\n{text}");
        }
    }

    #[test]
    fn wrong_accept_and_missing_key() {
        let mut events = echo_events();
        events[2] = response(&[("sec-websocket-accept", "AAAA")]);
        let text = normalize(&result(events.clone(), Outcome::Ok, CloseVerdict::Ok));
        assert!(
            text.contains("  sec-websocket-accept: <accept WRONG>\n"),
            "{text}"
        );
        events.remove(1);
        let text = normalize(&result(events, Outcome::Ok, CloseVerdict::Ok));
        assert!(text.contains("<accept: no key was sent>"), "{text}");
    }

    #[test]
    fn fin_and_rst_after_close_read_the_same() {
        let fin = result(echo_events(), Outcome::Ok, CloseVerdict::Ok);
        let mut events = echo_events();
        *events.last_mut().expect("events") = EventKind::SocketError {
            error: crate::transcript::SocketFailure::new(
                crate::transcript::SocketOp::Read,
                "Connection reset by peer (os error 104)",
            ),
        };
        let rst = result(events, Outcome::Ok, CloseVerdict::Ok);
        assert_eq!(normalize(&fin), normalize(&rst));
    }

    /// wsspec as the server: the client closes first, wsspec answers.
    fn server_role_events(ending: EventKind) -> Vec<EventKind> {
        vec![
            EventKind::RequestReceived {
                raw: ByteLog::of(b"GET / HTTP/1.1\r\n\r\n"),
            },
            EventKind::ResponseSent {
                status: 101,
                raw: ByteLog::of(b""),
            },
            received(frame(8, true, &close_body(1000, ""))),
            EventKind::FrameSent {
                frame: frame(8, true, &close_body(1000, "")),
            },
            ending,
        ]
    }

    #[test]
    fn over_http2_the_transport_line_names_cleartext_or_tls_and_http1_stays_the_same() {
        let tls = EventKind::TlsEstablished {
            session: crate::transcript::TlsSession {
                protocol: "TLS 1.3".into(),
                cipher: "TLS13_AES_128_GCM_SHA256".into(),
                alpn: Some("h2".into()),
            },
        };
        let snapshot = |with_tls: bool, http2: bool| {
            let mut events = echo_events();
            if http2 {
                events.insert(0, EventKind::Http2Stream { id: 1 });
            }
            if with_tls {
                events.insert(0, tls.clone());
            }
            normalize(&result(events, Outcome::Ok, CloseVerdict::Ok))
        };
        let h2c = snapshot(false, true);
        let h2 = snapshot(true, true);
        assert!(
            h2c.contains("transport: HTTP/2 stream in cleartext (h2c)\n"),
            "{h2c}"
        );
        assert!(
            h2.contains("transport: HTTP/2 stream over TLS (h2)\n"),
            "{h2}"
        );
        // Nothing else differs, and no TLS detail is in the body.
        assert_eq!(
            h2c.replace("in cleartext (h2c)", "over TLS (h2)"),
            h2,
            "{h2c}\n{h2}"
        );
        assert!(!h2.contains("TLS13"), "{h2}");
        // Over HTTP/1.1, ws:// and wss:// share one snapshot.
        assert_eq!(snapshot(false, false), snapshot(true, false));
    }

    #[test]
    fn as_the_server_who_drops_tcp_after_the_closing_handshake_is_a_race() {
        let ours = normalize(&result(
            server_role_events(EventKind::HarnessClosed {
                reason: HarnessClose::ServerClosesFirst,
            }),
            Outcome::Ok,
            CloseVerdict::Ok,
        ));
        let theirs = normalize(&result(
            server_role_events(EventKind::PeerEof),
            Outcome::Ok,
            CloseVerdict::Ok,
        ));
        assert_eq!(ours, theirs);
        assert!(
            ours.contains(&format!("tcp: {AFTER_CLOSING_HANDSHAKE}\n")),
            "{ours}"
        );
        // Before the handshake is complete, a client's TCP close still shows.
        let mut early = server_role_events(EventKind::PeerEof);
        early.remove(3);
        let text = normalize(&result(early, Outcome::Ok, CloseVerdict::Ok));
        assert!(text.contains("tcp: ended by the peer\n"), "{text}");
        // And as the client nothing changes: the echo case still reads so.
        let client = normalize(&result(echo_events(), Outcome::Ok, CloseVerdict::Ok));
        assert!(client.contains("tcp: ended by the peer\n"), "{client}");
    }

    #[test]
    fn tls_is_kept_out_of_snapshots() {
        let plain = normalize(&result(echo_events(), Outcome::Ok, CloseVerdict::Ok));
        let mut events = echo_events();
        events.insert(
            1,
            EventKind::TlsEstablished {
                session: crate::transcript::TlsSession {
                    protocol: "TLS 1.3".into(),
                    cipher: "TLS13_AES_256_GCM_SHA384".into(),
                    alpn: None,
                },
            },
        );
        let last = events.len() - 1;
        events.insert(last, EventKind::NoCloseNotify);
        let tls = normalize(&result(events, Outcome::Ok, CloseVerdict::Ok));
        assert_eq!(plain, tls);
    }

    #[test]
    fn each_observable_change_shows() {
        let base = normalize(&result(echo_events(), Outcome::Ok, CloseVerdict::Ok));
        let variants: Vec<(&str, Box<Change>)> = vec![
            (
                "close code",
                Box::new(|e| e[7] = received(frame(8, true, &close_body(1001, "bye")))),
            ),
            (
                "close reason",
                Box::new(|e| e[7] = received(frame(8, true, &close_body(1000, "ciao")))),
            ),
            ("pong after the echo", Box::new(|e| e[3..6].rotate_left(1))),
            (
                "extra header",
                Box::new(|e| {
                    if let EventKind::ResponseReceived { head, .. } = &mut e[2] {
                        head.headers.push(("X-Extra".into(), "1".into()));
                    }
                }),
            ),
            (
                "re-fragmented echo",
                Box::new(|e| {
                    e.splice(
                        4..6,
                        [
                            received(frame(1, false, b"Hel")),
                            received(frame(0, true, b"lo")),
                            message(1, 2, b"Hello"),
                        ],
                    );
                }),
            ),
            (
                "rsv bit",
                Box::new(|e| {
                    let mut f = frame(10, true, b"ping!");
                    f.head.rsv = 4;
                    e[3] = received(f);
                }),
            ),
            (
                "peer closes first",
                Box::new(|e| {
                    e.swap(6, 7);
                }),
            ),
        ];
        for (what, change) in variants {
            let mut events = echo_events();
            change(&mut events);
            let text = normalize(&result(events, Outcome::Ok, CloseVerdict::Ok));
            assert_ne!(text, base, "{what} is not visible");
        }
    }

    #[test]
    fn fragments_and_runs() {
        let mut events = echo_events();
        let mut frames = vec![received(frame(2, false, &[0u8; 300]))];
        frames.extend((0..3).map(|_| received(frame(0, false, &[1u8; 300]))));
        frames.push(received(frame(0, true, b"end")));
        frames.push(message(2, 5, b"irrelevant here"));
        events.splice(4..6, frames);
        let text = normalize(&result(events, Outcome::Ok, CloseVerdict::Ok));
        assert!(text.contains("in 5 frames [300 ×4, 3]\n"), "{text}");
    }

    #[test]
    fn timing_dependent_folds() {
        // The same peer, two runs: once the echo and pong came before its
        // close (OK), once not and marker B was passed (NON-STRICT).
        let ok = result(echo_events(), Outcome::Ok, CloseVerdict::Ok);
        let mut events = echo_events();
        events.splice(3..6, [EventKind::Marker { name: "B".into() }]);
        let non_strict = result(events, Outcome::NonStrict, CloseVerdict::FailedByClient);
        assert_ne!(normalize(&ok), normalize(&non_strict));
        let folded = normalize_with(&ok, true);
        assert_eq!(folded, normalize_with(&non_strict, true));
        assert!(
            folded.contains("received:\n  (timing-dependent: data messages, pongs and markers not recorded)\n  close code 1000 reason \"bye\"\n"),
            "{folded}"
        );
        assert!(folded.contains(
            "verdict: behaviour OK or NON-STRICT (timing-dependent); close OK or FAILED BY CLIENT (timing-dependent)"
        ), "{folded}");
        // A different close code or a failure still shows.
        let failed = result(echo_events(), Outcome::Failed, CloseVerdict::Ok);
        assert_ne!(folded, normalize_with(&failed, true));
        let mut events = echo_events();
        events[7] = received(frame(8, true, &close_body(1001, "bye")));
        let other_code = result(events, Outcome::Ok, CloseVerdict::Ok);
        assert_ne!(folded, normalize_with(&other_code, true));
    }

    #[test]
    fn unfinished_and_stray_frames() {
        let mut events = echo_events();
        events.splice(
            4..6,
            [
                received(frame(0, true, b"stray")),
                received(frame(1, false, b"never")),
            ],
        );
        let text = normalize(&result(events, Outcome::Failed, CloseVerdict::Ok));
        assert!(
            text.contains("  continuation frame fin \"stray\" (continues no message)\n"),
            "{text}"
        );
        assert!(
            text.contains("  text frame not fin \"never\" (message never finished)\n"),
            "{text}"
        );
    }

    #[test]
    fn payload_forms() {
        assert_eq!(payload_text(&ByteLog::of(b"hi")), "\"hi\"");
        let long = ByteLog::of(&[b'a'; 65]);
        assert_eq!(
            payload_text(&long),
            format!("len 65 sha256 {}", &long.sha256[..16])
        );
        assert!(payload_text(&ByteLog::of(b"a\nb")).starts_with("len 3 sha256 "));
        assert!(payload_text(&ByteLog::of(&[0xff])).starts_with("len 1 sha256 "));
        assert_eq!(
            mask_digits("no response within 2000 ms (os error 111)"),
            "no response within # ms (os error #)"
        );
    }

    #[test]
    fn refused_handshake() {
        let events = vec![
            EventKind::Connected,
            request(),
            EventKind::ResponseReceived {
                head: ResponseHead {
                    status: 400,
                    reason: "Bad Request".into(),
                    headers: vec![("Content-Length".into(), "17".into())],
                    http2: false,
                },
                raw: ByteLog::of(b""),
            },
        ];
        let text = normalize(&result(events, Outcome::Ok, CloseVerdict::Ok));
        assert_eq!(
            text,
            "handshake: 400 Bad Request\n  Content-Length: <masked>\ntcp: closed by wsspec after the response\nverdict: behaviour OK; close OK\n"
        );
    }
}
