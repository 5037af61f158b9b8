//! Facts read off a transcript, before any grading: the events the peer
//! produced (messages, pongs, markers, frames that fit nowhere), what we sent,
//! the close frames each way, who started closing and who ended the TCP
//! connection. Pure functions; the verdict modules grade these facts.

use crate::case::model::WaitFor;
use crate::deflate::negotiate::Agreement;
use crate::transcript::{
    is_probe_frame, ConnectFailure, DeflateNegotiation, EventKind, HandshakeFailure, Party,
    Transcript,
};
use crate::wire::bytelog::ByteLog;
use crate::wire::message::{
    CloseBody, CompressionRecord, FrameRecord, InflateResult, MessageRecord,
};
use crate::wire::Opcode;

/// One received event, as compared with a case's expectations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    Message {
        opcode: Opcode,
        payload: ByteLog,
    },
    Pong(ByteLog),
    Marker(String),
    /// A frame that belongs to no message and is no ping, pong or close.
    Unexpected(String),
}

impl Observed {
    pub fn describe(&self) -> String {
        match self {
            Observed::Message { opcode, payload } => {
                format!("{} message {}", opcode.name(), payload.preview(24))
            }
            Observed::Pong(p) => format!("pong {}", p.preview(24)),
            Observed::Marker(m) => format!("marker {m}"),
            Observed::Unexpected(d) => d.clone(),
        }
    }
}

/// Everything the graders need.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub connect_error: Option<ConnectFailure>,
    pub handshake_error: Option<HandshakeFailure>,
    /// The handshake's status; over HTTP/2 a 2xx that opened the stream
    /// reads as 101 (RFC 8441 5), so every rule for an accepted handshake
    /// applies to both transports.
    pub status: Option<u16>,
    pub received: Vec<Observed>,
    pub sent_messages: Vec<MessageRecord>,
    pub sent_pings: Vec<ByteLog>,
    pub peer_close: Option<CloseBody>,
    /// The peer's frames that break RFC 6455 framing rules, described.
    pub frame_violations: Vec<String>,
    pub harness_sent_close: bool,
    /// Who started closing: a close frame or the end of TCP, whichever came first.
    pub first_closer: Option<Party>,
    /// Who ended the TCP connection first.
    pub tcp_ended_by: Option<Party>,
    /// The wait that was still running when we gave up, for reasons.
    pub last_timeout: Option<(WaitFor, u64)>,
    pub deadline: bool,
    /// wsspec was the server (the peer under test is a client).
    pub harness_is_server: bool,
    /// The WebSocket ran on an HTTP/2 stream (RFC 8441), where closing TCP
    /// means ending the stream (section 6).
    pub http2: bool,
    /// A step ended or reset the HTTP/2 stream itself (`http2:`), which is
    /// wsspec ending the connection before any closing handshake.
    pub harness_ended_stream: Option<String>,
    /// What permessage-deflate agreed, if it did.
    pub deflate: Option<Agreement>,
}

impl Facts {
    /// The window (bits) and whether the peer must reset its context after
    /// each message, for the peer's own direction.
    fn peer_deflate(&self) -> Option<(u8, bool)> {
        self.deflate.map(|a| {
            if self.harness_is_server {
                (a.client_max_window_bits, a.client_no_context_takeover)
            } else {
                (a.server_max_window_bits, a.server_no_context_takeover)
            }
        })
    }
}

fn is_real_close(f: &FrameRecord) -> bool {
    f.head.opcode == Opcode::CLOSE && f.head.rsv == 0 && f.head.fin
}

/// Reads the facts off a transcript.
pub fn facts(t: &Transcript) -> Facts {
    let mut f = Facts::default();
    let mut fragments = Fragments::default();
    let mut keys: Vec<[u8; 4]> = Vec::new();
    let probes = t.probe_payloads();
    for kind in t.kinds() {
        match kind {
            EventKind::ConnectFailed { error } => f.connect_error = Some(error.clone()),
            EventKind::HandshakeFailed { reason, .. } => f.handshake_error = Some(reason.clone()),
            EventKind::ResponseReceived { head, .. } => {
                f.status = Some(head.upgrade_status());
                f.http2 = head.http2;
            }
            EventKind::Http2Stream { .. } => f.http2 = true,
            EventKind::Http2Sent { frame } => {
                f.harness_ended_stream.get_or_insert_with(|| frame.clone());
            }
            // Over HTTP/2 wsspec accepts with 200, which is 101's place.
            EventKind::ResponseSent { status, .. } => {
                f.status = Some(if f.http2 && (200..300).contains(status) {
                    101
                } else {
                    *status
                });
                f.harness_is_server = true;
            }
            EventKind::Deflate {
                negotiation: DeflateNegotiation::Agreed { agreement, .. },
            } => f.deflate = Some(*agreement),
            EventKind::MessageReceived { message } => {
                if let (Some(c), Some((bits, resets))) = (&message.compressed, f.peer_deflate()) {
                    compressed_message_problems(c, bits, resets, &mut f.frame_violations);
                }
                let inflated_whole = message
                    .compressed
                    .as_ref()
                    .is_none_or(|c| c.result == InflateResult::Complete);
                if message.utf8_valid == Some(false) && inflated_whole {
                    f.frame_violations.push(
                        "the peer sent a text message that is not valid UTF-8 (RFC 6455 8.1)"
                            .into(),
                    );
                }
                f.received.push(Observed::Message {
                    opcode: message.opcode,
                    payload: message.payload.clone(),
                })
            }
            EventKind::FrameReceived { frame } => {
                if f.peer_close.is_some() {
                    f.frame_violations.push(format!(
                        "the peer sent a {} frame after its close frame (RFC 6455 5.5.1)",
                        frame.head.opcode.name()
                    ));
                }
                check_frame(
                    frame,
                    f.harness_is_server,
                    f.deflate.is_some(),
                    &mut f.frame_violations,
                );
                if let Some(k) = frame.head.mask {
                    keys.push(k);
                }
                if t.detailed {
                    fragments.check(frame, &mut f.frame_violations);
                }
                match frame.head.opcode.0 {
                    8 => {
                        if f.peer_close.is_none() {
                            f.peer_close = frame.close.clone();
                        }
                        f.first_closer.get_or_insert(Party::Peer);
                    }
                    10 if is_probe_frame(&probes, frame) => {}
                    10 => f.received.push(Observed::Pong(frame.payload.clone())),
                    0..=2 | 9 => {}
                    op => f.received.push(Observed::Unexpected(format!(
                        "frame with reserved opcode {op:#x}"
                    ))),
                }
            }
            EventKind::MessageSent { message } => f.sent_messages.push(message.clone()),
            EventKind::FrameSent { frame } => {
                if frame.head.opcode == Opcode::PING && !is_probe_frame(&probes, frame) {
                    f.sent_pings.push(frame.payload.clone());
                }
                if is_real_close(frame) {
                    f.harness_sent_close = true;
                    f.first_closer.get_or_insert(Party::Harness);
                }
            }
            EventKind::Marker { name } => f.received.push(Observed::Marker(name.clone())),
            EventKind::PeerEof | EventKind::SocketError { .. } => {
                f.first_closer.get_or_insert(Party::Peer);
                f.tcp_ended_by.get_or_insert(Party::Peer);
            }
            EventKind::HarnessClosed { .. } => {
                f.first_closer.get_or_insert(Party::Harness);
                f.tcp_ended_by.get_or_insert(Party::Harness);
            }
            EventKind::Deadline { .. } => {
                f.deadline = true;
                f.first_closer.get_or_insert(Party::Harness);
                f.tcp_ended_by.get_or_insert(Party::Harness);
            }
            EventKind::WaitTimedOut { what, after_ms, .. } => {
                f.last_timeout = Some((*what, *after_ms))
            }
            _ => {}
        }
    }
    if f.harness_is_server {
        check_mask_keys(&keys, &mut f.frame_violations);
    }
    f
}

/// RFC 6455 5.3: a client MUST pick a fresh masking key for every frame,
/// from a strong source of entropy (10.3 says why: a predictable key lets a
/// page steer the bytes an intermediary sees). Caught here, each with odds
/// far below one in a billion of flagging random keys: the all-zero key
/// (which masks nothing), one key used for three or more frames, and keys
/// that step by a fixed amount (a counter) over four or more frames.
fn check_mask_keys(keys: &[[u8; 4]], out: &mut Vec<String>) {
    const RULE: &str = "RFC 6455 5.3: a fresh, unpredictable key for every frame";
    let zero = keys.iter().filter(|k| **k == [0; 4]).count();
    if zero > 0 {
        out.push(format!(
            "the client masked {zero} of its {} frames with the all-zero key ({RULE})",
            keys.len()
        ));
        return;
    }
    let mut counts = std::collections::HashMap::new();
    for k in keys {
        *counts.entry(*k).or_insert(0usize) += 1;
    }
    if let Some((key, n)) = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .filter(|(_, n)| **n >= 3)
    {
        out.push(format!(
            "the client used the masking key {} for {n} of its {} frames ({RULE})",
            hex4(key),
            keys.len()
        ));
        return;
    }
    let values: Vec<u32> = keys.iter().map(|k| u32::from_be_bytes(*k)).collect();
    let steps: Vec<u32> = values.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
    if steps.len() >= 3 && steps.iter().all(|s| *s == steps[0]) {
        out.push(format!(
            "the client's masking keys go up by a fixed step ({:#x}) over all {} frames, so they are predictable ({RULE})",
            steps[0],
            keys.len()
        ));
    }
}

fn hex4(k: &[u8; 4]) -> String {
    k.iter().map(|b| format!("{b:02x}")).collect()
}

/// Tracks the server's fragmented messages (RFC 6455 5.4).
#[derive(Default)]
struct Fragments {
    open: bool,
}

impl Fragments {
    fn check(&mut self, frame: &FrameRecord, out: &mut Vec<String>) {
        match frame.head.opcode.0 {
            0 if !self.open => out.push(
                "the peer sent a continuation frame with no message to continue (RFC 6455 5.4)"
                    .into(),
            ),
            0 => self.open = !frame.head.fin,
            1 | 2 if self.open => out.push(format!(
                "the peer started a new {} message inside a fragmented one (RFC 6455 5.4)",
                frame.head.opcode.name()
            )),
            1 | 2 => self.open = !frame.head.fin,
            _ => {}
        }
    }
}

/// RFC 7692 rules for one compressed message the peer sent: it inflates
/// (7.2.2), stays within the window agreed for the peer's direction
/// (7.1.2.1, 7.1.2.2) and, where the peer agreed to reset its context,
/// refers to nothing before the message (7.1.1.1, 7.1.1.2).
fn compressed_message_problems(
    c: &CompressionRecord,
    window_bits: u8,
    resets: bool,
    out: &mut Vec<String>,
) {
    if let InflateResult::Corrupt { detail } = &c.result {
        out.push(format!(
            "the peer sent a compressed message that does not inflate: {detail} (RFC 7692 7.2.2)"
        ));
        return;
    }
    let window = 1u32 << window_bits.min(15);
    if c.max_distance > window {
        out.push(format!(
            "the peer's compressed message refers {} bytes back, beyond the {window}-byte window ({window_bits} bits) agreed for its direction (RFC 7692 7.1.2)",
            c.max_distance
        ));
    }
    if c.refers_back && resets {
        out.push(
            "the peer's compressed message refers to an earlier message, though it agreed to no context takeover (RFC 7692 7.1.1)"
                .into(),
        );
    }
}

/// RFC 6455 5.1-5.5 rules for a frame the peer sent (a server's frames are
/// unmasked, a client's masked); with permessage-deflate agreed, RSV1 is
/// allowed on the first frame of a data message only (RFC 7692 6.1).
fn check_frame(frame: &FrameRecord, peer_is_client: bool, deflate: bool, out: &mut Vec<String>) {
    let h = &frame.head;
    let name = h.opcode.name();
    if peer_is_client && h.mask.is_none() {
        out.push(format!(
            "the client sent an unmasked {name} frame (RFC 6455 5.1: a client MUST mask every frame)"
        ));
    }
    if !peer_is_client && h.mask.is_some() {
        out.push(format!(
            "the server sent a masked {name} frame (RFC 6455 5.1: a server MUST NOT mask)"
        ));
    }
    let rsv1_allowed = deflate && matches!(h.opcode.0, 1 | 2);
    if deflate && h.rsv & 4 != 0 && !rsv1_allowed {
        out.push(format!(
            "the peer set RSV1 on a {name} frame; RFC 7692 6.1 allows it only on the first frame of a data message"
        ));
    } else if h.rsv & !(if rsv1_allowed { 4 } else { 0 }) != 0 {
        out.push(format!(
            "the peer sent a {name} frame with RSV bits {:#05b} {}",
            h.rsv,
            if deflate {
                "that permessage-deflate does not define"
            } else {
                "and no extension negotiated"
            }
        ));
    }
    if h.opcode.is_control() && !h.opcode.is_reserved() {
        if !h.fin {
            out.push(format!(
                "the peer sent a fragmented {name} frame (RFC 6455 5.5)"
            ));
        }
        if h.len > 125 {
            out.push(format!("the peer sent a {name} frame with a {}-byte payload (control frames carry at most 125)", h.len));
        }
    }
    if h.opcode == Opcode::CLOSE && frame.payload.is_complete() {
        if let Some(problem) = close_body_problem(frame) {
            out.push(problem);
        }
    }
    if !h.length_is_canonical() {
        out.push(format!(
            "the peer wrote a {}-byte length in the {} form (RFC 6455 5.2: the minimal form MUST be used)",
            h.len, h.length_form
        ));
    }
}

/// What is wrong with the body of a close frame the peer sent, if anything:
/// RFC 6455 5.5.1 (a body is a 2-byte code, then a UTF-8 reason) and 7.4
/// (1005, 1006 and 1015 MUST NOT be sent; codes below 1000, 1004 and 1016–2999
/// are not for endpoints to use). Codes from 5000 up are outside every range
/// the RFC defines; whether a peer sends them is left to the cases (7.13.x).
fn close_body_problem(frame: &FrameRecord) -> Option<String> {
    if frame.payload.len == 1 {
        return Some(
            "the peer sent a close frame with a 1-byte body (RFC 6455 5.5.1: a body starts with a 2-byte status code)"
                .into(),
        );
    }
    let body = frame.close.as_ref()?;
    let code = body.code?;
    if matches!(code, 0..=999 | 1004..=1006 | 1015..=2999) {
        return Some(format!(
            "the peer sent close code {code}, which may not appear in a close frame (RFC 6455 7.4.1, 7.4.2)"
        ));
    }
    if !body.reason_utf8 {
        return Some(
            "the peer sent a close reason that is not valid UTF-8 (RFC 6455 5.5.1)".into(),
        );
    }
    None
}

#[cfg(test)]
mod mask_key_tests {
    use super::check_mask_keys;

    fn flagged(keys: &[[u8; 4]]) -> Option<String> {
        let mut out = Vec::new();
        check_mask_keys(keys, &mut out);
        out.pop()
    }

    #[test]
    fn predictable_keys_are_flagged_and_random_ones_not() {
        let random: Vec<[u8; 4]> = (0u32..2000)
            .map(|i| {
                (i.wrapping_mul(2_654_435_761) ^ 0x9e37_79b9)
                    .rotate_left(i % 31)
                    .to_be_bytes()
            })
            .collect();
        assert_eq!(flagged(&random), None);
        assert_eq!(flagged(&random[..2]), None);
        assert!(flagged(&[[1, 2, 3, 4], [0; 4]]).is_some_and(|r| r.contains("all-zero")));
        let fixed = [[1, 2, 3, 4]; 3];
        assert!(flagged(&fixed).is_some_and(|r| r.contains("01020304 for 3 of its 3")));
        // Two keys taking turns: each used three times in six frames.
        let alternating = [[1, 1, 1, 1], [2, 2, 2, 2]].repeat(3);
        assert!(flagged(&alternating).is_some());
        let counter: Vec<[u8; 4]> = (7u32..11).map(u32::to_be_bytes).collect();
        assert!(flagged(&counter).is_some_and(|r| r.contains("fixed step (0x1)")));
        assert_eq!(
            flagged(&counter[..3]),
            None,
            "three keys are too few to call a step"
        );
        // A key used twice among many is chance enough not to be flagged.
        let mut twice = random[..100].to_vec();
        twice.push(twice[5]);
        assert_eq!(flagged(&twice), None);
    }
}
