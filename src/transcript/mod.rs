//! The transcript: what happened during one case, as timestamped events. The
//! runner writes it; the judge, snapshots and reports read it. It is plain data
//! owned by no stage, which is what keeps the runner ignorant of verdicts.

mod compression;
pub mod reasons;
mod tls;

use serde::{Deserialize, Serialize};

pub use compression::{CompressedFlow, CompressionTotals};
pub use reasons::{
    ConnectFailure, FollowUp, HandshakeFailure, HarnessClose, SkippedStep, SocketFailure, SocketOp,
    StepName,
};
pub use tls::TlsSession;

use crate::case::model::WaitFor;
use crate::deflate::negotiate::Agreement;
use crate::wire::bytelog::ByteLog;
use crate::wire::handshake::ResponseHead;
use crate::wire::message::{FrameRecord, MessageRecord};

/// Who did something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Harness,
    Peer,
}

/// One thing that happened, `at_us` microseconds after the case started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at_us: u64,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// TCP connection established.
    Connected,
    /// The TCP connection could not be opened.
    ConnectFailed { error: ConnectFailure },
    /// The transport is TLS, and this is what its handshake agreed (kept
    /// out of snapshots: it describes the setup, not the peer's WebSocket).
    TlsEstablished { session: TlsSession },
    /// The opening handshake request we wrote.
    RequestSent { raw: ByteLog },
    /// (HTTP/2) The request went out on this stream of the connection.
    Http2Stream { id: u32 },
    /// (HTTP/2) wsspec sent a frame of the stream's own on a case's step
    /// (`RST_STREAM CANCEL`, `END_STREAM`), not WebSocket data.
    Http2Sent { frame: String },
    /// The peer's handshake response head.
    ResponseReceived { head: ResponseHead, raw: ByteLog },
    /// (wsspec as the server) The client's opening handshake request.
    RequestReceived { raw: ByteLog },
    /// (wsspec as the server) The response wsspec wrote.
    ResponseSent { status: u16, raw: ByteLog },
    /// No usable response: timeout, EOF, oversized or malformed head.
    HandshakeFailed {
        reason: HandshakeFailure,
        raw: ByteLog,
    },
    /// A frame we wrote (`writes`: how many socket writes carried the step).
    FrameSent { frame: FrameRecord },
    /// Raw bytes we wrote.
    BytesSent { bytes: ByteLog, writes: u64 },
    /// A complete message we sent.
    MessageSent { message: MessageRecord },
    /// A frame the peer sent.
    FrameReceived { frame: FrameRecord },
    /// A complete message the peer sent.
    MessageReceived { message: MessageRecord },
    /// A timing marker reached while the peer had not closed.
    Marker { name: String },
    /// A step not run because the peer had already closed.
    StepSkipped { step: SkippedStep },
    /// A probe ping a wait is about to send (`probe: ping`); it and its pong
    /// are bookkeeping, not graded events.
    ProbeSent { payload: String },
    /// A wait that ended because its event arrived.
    WaitMet { what: WaitFor },
    /// A wait that ran out of time.
    WaitTimedOut {
        what: WaitFor,
        after_ms: u64,
        /// Ended before its timeout because no byte had come from the peer
        /// for `after_ms` (the stall timeout, `--stall-timeout`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        stalled: bool,
    },
    /// The peer closed its side of the TCP connection (EOF).
    PeerEof,
    /// Over TLS: the connection ended without the peer's close_notify (the
    /// TCP connection closed under TLS; [`EventKind::PeerEof`] follows). A
    /// reset is a [`EventKind::SocketError`] instead.
    NoCloseNotify,
    /// The connection was reset or failed while reading or writing.
    SocketError { error: SocketFailure },
    /// We closed the TCP connection.
    HarnessClosed { reason: HarnessClose },
    /// The case deadline expired.
    Deadline { after_ms: u64 },
    /// (wsspec as the server, after refusing the upgrade) The client came back
    /// on a new connection for the same case: it followed a redirect,
    /// answered an authentication challenge, or simply asked again. `what`
    /// says which, as a verb phrase ("followed the redirect").
    FollowUpRequest { what: FollowUp, raw: ByteLog },
    /// (wsspec as the server) The client's Sec-WebSocket-Key is one it
    /// already sent on an earlier connection (for case `earlier_case`).
    ClientKeyReused { key: String, earlier_case: String },
    /// The peer's bytes stopped in the middle of a frame when the connection ended.
    TruncatedFrame,
    /// How permessage-deflate was negotiated (cases with a `deflate:` block).
    Deflate { negotiation: DeflateNegotiation },
    /// What wsspec counted instead of keeping, recorded once at the end of
    /// the case: frames and messages past `max_events` (`--max-events`), and
    /// automatic replies (pongs) not sent because the peer did not read
    /// what was already queued.
    Overflow {
        frames: u64,
        messages: u64,
        /// SHA-256 over the payload digests (lowercase hex, as in their
        /// byte logs) of the messages not kept, in order; empty for none.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        messages_sha256: String,
        max_events: u64,
        replies_dropped: u64,
    },
}

/// The outcome of a permessage-deflate negotiation, as wsspec concluded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum DeflateNegotiation {
    /// Agreed, with the response header value that said so.
    Agreed {
        agreement: Agreement,
        response: String,
        /// wsspec offered `client_no_context_takeover` as a hint (RFC 7692
        /// 7.1.1.2) and keeps it: it resets its own context after each message.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        harness_resets: bool,
    },
    /// Not agreed: the offers passed over and why (empty when the peer
    /// simply answered without the extension, or offered none).
    Declined { passed_over: Vec<String> },
    /// (wsspec as the client) A response RFC 7692 7.1 says the client must
    /// fail the connection on.
    Refused { response: String, fault: String },
}

impl Transcript {
    /// The permessage-deflate negotiation, if the case had one.
    pub fn deflate(&self) -> Option<&DeflateNegotiation> {
        self.kinds().find_map(|k| match k {
            EventKind::Deflate { negotiation } => Some(negotiation),
            _ => None,
        })
    }
}

/// Everything recorded for one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub case_id: String,
    pub events: Vec<Event>,
    pub duration_us: u64,
    /// Whether frame payload bytes were kept (false for performance cases).
    pub detailed: bool,
    /// Events left out of this copy after the case was judged (see
    /// [`Transcript::bound`]); the judge and the snapshot saw them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omitted: Option<Omitted>,
}

/// Where a bounded transcript left events out, and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Omitted {
    /// The index in `events` before which the omitted events stood.
    pub at: usize,
    pub count: u64,
}

/// How many events of a case the results keep: the first [`KEEP_HEAD`] and
/// the last [`KEEP_TAIL`]. A case of 1000 compressed round trips records
/// about 3000 events; the reports of a whole compression run would
/// otherwise hold hundreds of megabytes.
pub const KEEP_HEAD: usize = 400;
pub const KEEP_TAIL: usize = 200;

impl Transcript {
    /// Keeps the first `head` and the last `tail` events, recording how many
    /// were left out between them. For results and reports, after judging.
    pub fn bound(&mut self, head: usize, tail: usize) {
        let len = self.events.len();
        if len <= head + tail {
            return;
        }
        let count = len - head - tail;
        self.events.drain(head..head + count);
        // The results hold this copy for the rest of the run: give back
        // the room the left-out events took.
        self.events.shrink_to_fit();
        let earlier = self.omitted.map_or(0, |o| o.count);
        self.omitted = Some(Omitted {
            at: head,
            count: count as u64 + earlier,
        });
    }

    /// Adds an event at the end of a finished transcript (what `serve`
    /// learns about a connection after it ended).
    pub fn append(&mut self, kind: EventKind) {
        self.events.push(Event {
            at_us: self.duration_us,
            kind,
        });
    }

    pub fn kinds(&self) -> impl Iterator<Item = &EventKind> {
        self.events.iter().map(|e| &e.kind)
    }

    /// Whether the case ran on an HTTP/2 stream (RFC 8441).
    pub fn over_http2(&self) -> bool {
        self.kinds()
            .any(|k| matches!(k, EventKind::Http2Stream { .. }))
    }

    /// The handshake response, if one was received.
    pub fn response(&self) -> Option<&ResponseHead> {
        self.kinds().find_map(|k| match k {
            EventKind::ResponseReceived { head, .. } => Some(head),
            _ => None,
        })
    }

    /// What the client did on a new connection after this one's refusal
    /// ([`EventKind::FollowUpRequest`]), in order.
    pub fn follow_ups(&self) -> Vec<&FollowUp> {
        self.kinds()
            .filter_map(|k| match k {
                EventKind::FollowUpRequest { what, .. } => Some(what),
                _ => None,
            })
            .collect()
    }

    /// The payloads of the probe pings this connection's waits sent.
    pub fn probe_payloads(&self) -> Vec<&[u8]> {
        self.kinds()
            .filter_map(|k| match k {
                EventKind::ProbeSent { payload } => Some(payload.as_bytes()),
                _ => None,
            })
            .collect()
    }

    /// (wsspec as the server) The client's opening handshake request.
    pub fn request_received(&self) -> Option<&ByteLog> {
        self.kinds().find_map(|k| match k {
            EventKind::RequestReceived { raw } => Some(raw),
            _ => None,
        })
    }

    /// Why the connection never opened, if it did not.
    pub fn connect_error(&self) -> Option<&ConnectFailure> {
        self.kinds().find_map(|k| match k {
            EventKind::ConnectFailed { error } => Some(error),
            _ => None,
        })
    }
}

/// Whether `frame` is one of the `probes` pings, or a pong answering one: the
/// bookkeeping of a `probe: ping` wait, left out of what is graded.
pub fn is_probe_frame(probes: &[&[u8]], frame: &FrameRecord) -> bool {
    matches!(frame.head.opcode.0, 9 | 10)
        && frame.payload.is_complete()
        && probes.contains(&frame.payload.head.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_markers(n: usize) -> Transcript {
        Transcript {
            case_id: "t".into(),
            events: (0..n)
                .map(|i| Event {
                    at_us: i as u64,
                    kind: EventKind::Marker {
                        name: i.to_string(),
                    },
                })
                .collect(),
            duration_us: n as u64,
            detailed: false,
            omitted: None,
        }
    }

    #[test]
    fn bound_keeps_the_first_and_last_events_and_counts_the_rest() {
        let mut t = with_markers(10);
        t.bound(3, 2);
        let names: Vec<String> = t
            .kinds()
            .map(|k| match k {
                EventKind::Marker { name } => name.clone(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(names, ["0", "1", "2", "8", "9"]);
        assert_eq!(t.omitted, Some(Omitted { at: 3, count: 5 }));
        // The room of the left-out events is given back (results keep
        // hundreds of bounded transcripts for the whole run).
        assert!(t.events.capacity() < 10, "{}", t.events.capacity());
        // Bounding again adds to the count; a short transcript is untouched.
        t.bound(1, 1);
        assert_eq!(t.omitted, Some(Omitted { at: 1, count: 8 }));
        let mut short = with_markers(5);
        short.bound(3, 2);
        assert_eq!((short.events.len(), short.omitted), (5, None));
        // And it survives results.json.
        let mut t = with_markers(10);
        t.bound(3, 2);
        let back: Transcript =
            serde_json::from_str(&serde_json::to_string(&t).expect("json")).expect("read back");
        assert_eq!(back.omitted, t.omitted);
    }
}
