//! Why things ended, as types: a connection that never opened
//! ([`ConnectFailure`]), an opening handshake without a usable response
//! ([`HandshakeFailure`]), a socket that failed ([`SocketFailure`]), a step
//! that did not run ([`SkippedStep`]), wsspec's own reasons for ending a
//! connection ([`HarnessClose`]) and a client's follow-up request
//! ([`FollowUp`]). The judge and the snapshot normaliser match on the
//! variants; the sentences people read come from `Display` alone. In
//! results.json each is that sentence, as it always was; reading one back
//! ([`FromText`]) recognises every sentence `Display` writes and keeps any
//! other text (from another wsspec version) as an `Other` variant.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::wire::handshake::HeadError;
use crate::wire::Opcode;

/// A test switch that rewords every sentence of this module (on the current
/// thread), to show that no verdict and no snapshot depends on the words.
#[cfg(test)]
pub(crate) mod reword {
    use std::cell::Cell;

    /// What every reason says while the switch is on.
    pub const SENTENCE: &str = "(reworded for a test)";

    thread_local! {
        static ON: Cell<bool> = const { Cell::new(false) };
    }

    pub fn on() -> bool {
        ON.with(Cell::get)
    }

    pub fn set(on: bool) {
        ON.with(|c| c.set(on));
    }
}

/// Parsing a reason back from its sentence (results.json).
pub trait FromText: Sized {
    fn from_text(text: &str) -> Self;
}

/// `Serialize` as the `Display` sentence, `Deserialize` through [`FromText`].
macro_rules! sentence_serde {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Ok(<$t>::from_text(&text))
            }
        }
    )*};
}

sentence_serde!(
    ConnectFailure,
    HandshakeFailure,
    SocketFailure,
    SkippedStep,
    HarnessClose,
    FollowUp
);

/// `prefix{number}suffix` → the number.
fn number_between(text: &str, prefix: &str, suffix: &str) -> Option<u64> {
    text.strip_prefix(prefix)?
        .strip_suffix(suffix)?
        .parse()
        .ok()
}

/// The words after the count in [`ConnectFailure::TargetQuiet`].
const QUIET_TAIL: &str = " cases in a row got no byte from it, nor did a fresh connection; --no-give-up runs every case anyway)";

/// Why a connection could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectFailure {
    /// The operating system's words (refused, unreachable, ...).
    Io(String),
    /// No connection within the connect timeout.
    Timeout { ms: u64 },
    /// An earlier case found the target gone; no connection was attempted.
    TargetGone,
    /// The run had reached its `--run-timeout`; the case was not started.
    RunTimeout { ms: u64 },
    /// Cases in a row got nothing from the target, and neither did a fresh
    /// connection: the run gave up on it and did not start the case.
    TargetQuiet { cases: u64 },
    /// The run was interrupted (Ctrl-C) before the case finished; what it
    /// did so far is not kept.
    Interrupted,
    /// The case speaks HTTP/2 itself (`handshake.http2`, `http2:` steps) and
    /// the target is not reached over HTTP/2: it was not started.
    NeedsHttp2,
}

/// Why an HTTP/2-only case was not started against an HTTP/1.1 target.
const NEEDS_HTTP2: &str = "not started: the case runs only over HTTP/2 (an h2c:// or h2:// target)";

impl fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(test)]
        if reword::on() {
            return f.write_str(reword::SENTENCE);
        }
        match self {
            ConnectFailure::Io(e) => f.write_str(e),
            ConnectFailure::Timeout { ms } => write!(f, "no connection within {ms} ms"),
            ConnectFailure::TargetGone => {
                f.write_str("the target stopped accepting connections earlier in this run")
            }
            ConnectFailure::TargetQuiet { cases } => {
                write!(f, "not started: the target went quiet ({cases}{QUIET_TAIL}")
            }
            ConnectFailure::RunTimeout { ms } => write!(
                f,
                "not started: the run had reached its --run-timeout ({ms} ms)"
            ),
            ConnectFailure::Interrupted => {
                f.write_str("not finished: the run was interrupted (Ctrl-C)")
            }
            ConnectFailure::NeedsHttp2 => f.write_str(NEEDS_HTTP2),
        }
    }
}

impl FromText for ConnectFailure {
    fn from_text(text: &str) -> Self {
        if text == ConnectFailure::TargetGone.to_string() {
            ConnectFailure::TargetGone
        } else if text == ConnectFailure::Interrupted.to_string() {
            ConnectFailure::Interrupted
        } else if text == NEEDS_HTTP2 {
            ConnectFailure::NeedsHttp2
        } else if let Some(ms) = number_between(text, "no connection within ", " ms") {
            ConnectFailure::Timeout { ms }
        } else if let Some(cases) =
            number_between(text, "not started: the target went quiet (", QUIET_TAIL)
        {
            ConnectFailure::TargetQuiet { cases }
        } else if let Some(ms) = number_between(
            text,
            "not started: the run had reached its --run-timeout (",
            " ms)",
        ) {
            ConnectFailure::RunTimeout { ms }
        } else {
            ConnectFailure::Io(text.to_string())
        }
    }
}

/// Why the opening handshake produced no usable response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeFailure {
    /// The head could not be parsed (the parser's words).
    Malformed { detail: String },
    /// The parser wanted more than the head held.
    Incomplete,
    /// The head grew past the bound without ending.
    HeadTooLarge { limit: usize },
    /// The peer ended the connection before the head was complete.
    ClosedEarly,
    /// Reading failed (a reset, usually) before the head was complete.
    ReadFailed { detail: String },
    /// No complete head within the handshake timeout.
    Timeout { ms: u64 },
    /// (HTTP/2) The server's SETTINGS did not enable extended CONNECT, so no
    /// WebSocket may be opened on the connection (RFC 8441 3).
    NoExtendedConnect,
    /// (HTTP/2) The server answered the extended CONNECT with 101, which
    /// HTTP/2 does not have (RFC 9113 8.6; RFC 8441 5 accepts with a 2xx).
    Http2SwitchingProtocols,
    /// (HTTP/2) The server reset the stream (RST_STREAM with this error
    /// code) instead of answering: how HTTP/2 refuses a malformed request
    /// (RFC 9113 8.1.1).
    StreamReset { code: String },
    /// (HTTP/2) The server ended the whole connection (GOAWAY with this
    /// error code) instead of answering.
    GoAway { code: String },
    /// (HTTP/2) The server accepted an extended CONNECT with this status
    /// although its SETTINGS never enabled one (RFC 8441 3).
    AcceptedWithoutSetting { status: u16 },
    /// A sentence this version does not write (read from another version's results).
    Other(String),
}

impl fmt::Display for HandshakeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(test)]
        if reword::on() {
            return f.write_str(reword::SENTENCE);
        }
        match self {
            HandshakeFailure::Malformed { detail } => {
                write!(f, "malformed response head: {detail}")
            }
            HandshakeFailure::Incomplete => f.write_str("incomplete response head"),
            HandshakeFailure::HeadTooLarge { limit } => {
                write!(f, "response head exceeds {limit} bytes")
            }
            HandshakeFailure::ClosedEarly => {
                f.write_str("connection closed before a complete response head")
            }
            HandshakeFailure::ReadFailed { detail } => write!(f, "reading the response: {detail}"),
            HandshakeFailure::Timeout { ms } => {
                write!(f, "no complete response head within {ms} ms")
            }
            HandshakeFailure::NoExtendedConnect => f.write_str(
                "the server's HTTP/2 SETTINGS did not enable extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441 3), so no WebSocket may be opened",
            ),
            HandshakeFailure::Http2SwitchingProtocols => f.write_str(
                "the server answered the extended CONNECT with 101 Switching Protocols, which HTTP/2 does not have (RFC 9113 8.6: \"the 101 (Switching Protocols) status code ... is not applicable to HTTP/2\"; RFC 8441 5: a 2xx accepts)",
            ),
            HandshakeFailure::StreamReset { code } => {
                write!(f, "the server reset the stream (RST_STREAM {code}) instead of answering")
            }
            HandshakeFailure::GoAway { code } => write!(
                f,
                "the server ended the connection (GOAWAY {code}) instead of answering"
            ),
            HandshakeFailure::AcceptedWithoutSetting { status } => write!(
                f,
                "the server accepted an extended CONNECT with {status} although its SETTINGS never enabled extended CONNECT (RFC 8441 3: without SETTINGS_ENABLE_CONNECT_PROTOCOL, such a request is malformed and draws a stream error)"
            ),
            HandshakeFailure::Other(text) => f.write_str(text),
        }
    }
}

impl FromText for HandshakeFailure {
    fn from_text(text: &str) -> Self {
        if let Some(detail) = text.strip_prefix("malformed response head: ") {
            HandshakeFailure::Malformed {
                detail: detail.to_string(),
            }
        } else if let Some(limit) = number_between(text, "response head exceeds ", " bytes") {
            HandshakeFailure::HeadTooLarge {
                limit: limit as usize,
            }
        } else if text == HandshakeFailure::Incomplete.to_string() {
            HandshakeFailure::Incomplete
        } else if text == HandshakeFailure::ClosedEarly.to_string() {
            HandshakeFailure::ClosedEarly
        } else if text == HandshakeFailure::NoExtendedConnect.to_string() {
            HandshakeFailure::NoExtendedConnect
        } else if text == HandshakeFailure::Http2SwitchingProtocols.to_string() {
            HandshakeFailure::Http2SwitchingProtocols
        } else if let Some(code) = text
            .strip_prefix("the server reset the stream (RST_STREAM ")
            .and_then(|t| t.strip_suffix(") instead of answering"))
        {
            HandshakeFailure::StreamReset { code: code.into() }
        } else if let Some(code) = text
            .strip_prefix("the server ended the connection (GOAWAY ")
            .and_then(|t| t.strip_suffix(") instead of answering"))
        {
            HandshakeFailure::GoAway { code: code.into() }
        } else if let Some(status) = text
            .strip_prefix("the server accepted an extended CONNECT with ")
            .and_then(|t| t.split_once(" although its SETTINGS never enabled"))
            .and_then(|(n, _)| n.parse::<u16>().ok())
        {
            HandshakeFailure::AcceptedWithoutSetting { status }
        } else if let Some(detail) = text.strip_prefix("reading the response: ") {
            HandshakeFailure::ReadFailed {
                detail: detail.to_string(),
            }
        } else if let Some(ms) = number_between(text, "no complete response head within ", " ms") {
            HandshakeFailure::Timeout { ms }
        } else {
            HandshakeFailure::Other(text.to_string())
        }
    }
}

impl From<HeadError> for HandshakeFailure {
    fn from(e: HeadError) -> Self {
        match e {
            HeadError::Incomplete => HandshakeFailure::Incomplete,
            HeadError::Malformed(detail) => HandshakeFailure::Malformed { detail },
        }
    }
}

/// What the socket was doing when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketOp {
    Read,
    Write,
    /// Writing the opening handshake request (wsspec as the client).
    WriteRequest,
    /// Writing the opening handshake response (wsspec as the server).
    WriteResponse,
    /// Not recorded (read from another version's results).
    Unknown,
}

/// A socket that failed: the operation and the operating system's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketFailure {
    pub op: SocketOp,
    pub detail: String,
}

impl SocketFailure {
    pub fn new(op: SocketOp, error: impl fmt::Display) -> Self {
        SocketFailure {
            op,
            detail: error.to_string(),
        }
    }

    /// Whether writing failed (the reader may still collect what the peer sent).
    pub fn is_write(&self) -> bool {
        matches!(
            self.op,
            SocketOp::Write | SocketOp::WriteRequest | SocketOp::WriteResponse
        )
    }
}

const SOCKET_PREFIXES: [(SocketOp, &str); 4] = [
    (SocketOp::Read, "read: "),
    (SocketOp::Write, "write: "),
    (SocketOp::WriteRequest, "writing the handshake request: "),
    (SocketOp::WriteResponse, "writing the handshake response: "),
];

impl fmt::Display for SocketFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(test)]
        if reword::on() {
            return f.write_str(reword::SENTENCE);
        }
        let prefix = SOCKET_PREFIXES
            .iter()
            .find(|(op, _)| *op == self.op)
            .map_or("", |(_, p)| p);
        write!(f, "{prefix}{}", self.detail)
    }
}

impl FromText for SocketFailure {
    fn from_text(text: &str) -> Self {
        for (op, prefix) in SOCKET_PREFIXES {
            if let Some(detail) = text.strip_prefix(prefix) {
                return SocketFailure::new(op, detail);
            }
        }
        SocketFailure::new(SocketOp::Unknown, text)
    }
}

/// A step of a case, named for a skipped-step record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepName {
    Send {
        opcode: Opcode,
    },
    SendFrames {
        frames: usize,
    },
    SendRaw {
        bytes: usize,
    },
    Close {
        code: Option<u16>,
    },
    Pause {
        ms: u64,
    },
    Marker {
        name: String,
    },
    Wait,
    Drop,
    Repeat {
        times: u32,
    },
    /// `http2: reset` or `http2: end_stream`.
    Http2 {
        end_stream: bool,
    },
}

impl fmt::Display for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepName::Send { opcode } => write!(f, "send {} frame", opcode.name()),
            StepName::SendFrames { frames } => write!(f, "send_frames ({frames} frames)"),
            StepName::SendRaw { bytes } => write!(f, "send_raw ({bytes} bytes)"),
            StepName::Close { code: Some(code) } => write!(f, "close {code}"),
            StepName::Close { code: None } => f.write_str("close (no body)"),
            StepName::Pause { ms } => write!(f, "pause {ms} ms"),
            StepName::Marker { name } => write!(f, "marker {name}"),
            StepName::Wait => f.write_str("wait"),
            StepName::Drop => f.write_str("drop"),
            StepName::Repeat { times } => write!(f, "repeat {times} times"),
            StepName::Http2 { end_stream: false } => f.write_str("http2 reset"),
            StepName::Http2 { end_stream: true } => f.write_str("http2 end_stream"),
        }
    }
}

impl StepName {
    fn from_text(text: &str) -> Option<StepName> {
        Some(match text {
            "wait" => StepName::Wait,
            "drop" => StepName::Drop,
            "http2 reset" => StepName::Http2 { end_stream: false },
            "http2 end_stream" => StepName::Http2 { end_stream: true },
            "close (no body)" => StepName::Close { code: None },
            _ => {
                if let Some(name) = text
                    .strip_prefix("send ")
                    .and_then(|t| t.strip_suffix(" frame"))
                {
                    StepName::Send {
                        opcode: Opcode::from_any_name(name)?,
                    }
                } else if let Some(n) = number_between(text, "send_frames (", " frames)") {
                    StepName::SendFrames { frames: n as usize }
                } else if let Some(n) = number_between(text, "send_raw (", " bytes)") {
                    StepName::SendRaw { bytes: n as usize }
                } else if let Some(code) = number_between(text, "close ", "") {
                    StepName::Close {
                        code: Some(u16::try_from(code).ok()?),
                    }
                } else if let Some(ms) = number_between(text, "pause ", " ms") {
                    StepName::Pause { ms }
                } else if let Some(times) = number_between(text, "repeat ", " times") {
                    StepName::Repeat {
                        times: u32::try_from(times).ok()?,
                    }
                } else {
                    StepName::Marker {
                        name: text.strip_prefix("marker ")?.to_string(),
                    }
                }
            }
        })
    }
}

/// Something wsspec did not send because the peer had closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkippedStep {
    /// A whole step.
    Step(StepName),
    /// The rest of a `repeat`.
    RepeatStopped,
    /// The frames after the one in progress when the peer's close arrived.
    BytesDropped { unsent: usize, total: usize },
    /// A write that stayed blocked after the peer's close.
    WriteAbandoned { unsent: usize, total: usize },
    /// A frame the case describes that cannot be encoded (the encoder's words).
    EncodeFailed { detail: String },
    /// A sentence this version does not write.
    Other(String),
}

impl fmt::Display for SkippedStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(test)]
        if reword::on() {
            return f.write_str(reword::SENTENCE);
        }
        match self {
            SkippedStep::Step(step) => step.fmt(f),
            SkippedStep::RepeatStopped => f.write_str("repeat: the peer has closed"),
            SkippedStep::BytesDropped { unsent, total } => write!(
                f,
                "{unsent} of {total} bytes not sent: the peer sent its close"
            ),
            SkippedStep::WriteAbandoned { unsent, total } => write!(
                f,
                "write abandoned with {unsent} of {total} bytes unsent: the peer closed and stopped reading"
            ),
            SkippedStep::EncodeFailed { detail } => {
                write!(f, "send: cannot encode frame: {detail}")
            }
            SkippedStep::Other(text) => f.write_str(text),
        }
    }
}

/// `{a} of {b}{rest}` → (a, b).
fn two_counts(text: &str, prefix: &str, rest: &str) -> Option<(usize, usize)> {
    let body = text.strip_prefix(prefix)?.strip_suffix(rest)?;
    let (a, b) = body.split_once(" of ")?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

impl FromText for SkippedStep {
    fn from_text(text: &str) -> Self {
        if text == SkippedStep::RepeatStopped.to_string() {
            SkippedStep::RepeatStopped
        } else if let Some((unsent, total)) =
            two_counts(text, "", " bytes not sent: the peer sent its close")
        {
            SkippedStep::BytesDropped { unsent, total }
        } else if let Some((unsent, total)) = two_counts(
            text,
            "write abandoned with ",
            " bytes unsent: the peer closed and stopped reading",
        ) {
            SkippedStep::WriteAbandoned { unsent, total }
        } else if let Some(detail) = text.strip_prefix("send: cannot encode frame: ") {
            SkippedStep::EncodeFailed {
                detail: detail.to_string(),
            }
        } else if let Some(step) = StepName::from_text(text) {
            SkippedStep::Step(step)
        } else {
            SkippedStep::Other(text.to_string())
        }
    }
}

/// Why wsspec ended a connection itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HarnessClose {
    /// The case's `drop` step.
    CaseDrops,
    /// The case deadline expired.
    Deadline,
    /// wsspec is the server and the closing handshake is complete
    /// (RFC 6455 7.1.1: the server closes TCP first).
    ServerClosesFirst,
    /// The steps are done and the peer has not ended the connection.
    StepsFinished,
    /// (`serve --h2`) wsspec's HTTP/2 layer found the client's request
    /// malformed and reset its stream (RST_STREAM PROTOCOL_ERROR) before
    /// the case could start.
    MalformedRequestReset,
    /// (`serve --h2`) as [`HarnessClose::MalformedRequestReset`], but the
    /// HTTP/2 layer ended the whole connection (GOAWAY PROTOCOL_ERROR).
    MalformedRequestGoaway,
    /// A sentence this version does not write.
    Other(String),
}

impl fmt::Display for HarnessClose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(test)]
        if reword::on() {
            return f.write_str(reword::SENTENCE);
        }
        f.write_str(match self {
            HarnessClose::CaseDrops => "the case drops the connection",
            HarnessClose::Deadline => "case deadline expired",
            HarnessClose::ServerClosesFirst => {
                "closing handshake complete: the server closes TCP first (RFC 6455 7.1.1)"
            }
            HarnessClose::StepsFinished => "steps finished with the connection still open",
            HarnessClose::MalformedRequestReset => {
                "the request is malformed: wsspec's HTTP/2 layer reset its stream (RST_STREAM PROTOCOL_ERROR, RFC 9113 8.1.1) and the case did not start"
            }
            HarnessClose::MalformedRequestGoaway => {
                "the request is malformed: wsspec's HTTP/2 layer ended the connection (GOAWAY PROTOCOL_ERROR, RFC 9113 8.1.1) and the case did not start"
            }
            HarnessClose::Other(text) => text,
        })
    }
}

impl FromText for HarnessClose {
    fn from_text(text: &str) -> Self {
        [
            HarnessClose::CaseDrops,
            HarnessClose::Deadline,
            HarnessClose::ServerClosesFirst,
            HarnessClose::StepsFinished,
            HarnessClose::MalformedRequestReset,
            HarnessClose::MalformedRequestGoaway,
        ]
        .into_iter()
        .find(|c| c.to_string() == text)
        .unwrap_or_else(|| HarnessClose::Other(text.to_string()))
    }
}

/// What a client did on a new connection after its upgrade was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUp {
    /// It followed the case's redirect back to the case.
    Redirect,
    /// It retried with an `Authorization` header.
    Credentials,
    /// A sentence this version does not write.
    Other(String),
}

impl fmt::Display for FollowUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(test)]
        if reword::on() {
            return f.write_str(reword::SENTENCE);
        }
        f.write_str(match self {
            FollowUp::Redirect => "followed the redirect",
            FollowUp::Credentials => "answered the authentication challenge with credentials",
            FollowUp::Other(text) => text,
        })
    }
}

impl FromText for FollowUp {
    fn from_text(text: &str) -> Self {
        [FollowUp::Redirect, FollowUp::Credentials]
            .into_iter()
            .find(|c| c.to_string() == text)
            .unwrap_or_else(|| FollowUp::Other(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: FromText + fmt::Display + PartialEq + fmt::Debug>(values: Vec<T>) {
        for v in values {
            assert_eq!(T::from_text(&v.to_string()), v, "{v}");
        }
    }

    #[test]
    fn every_sentence_reads_back_as_its_variant() {
        round_trip(vec![
            ConnectFailure::Io("Connection refused (os error 111)".into()),
            ConnectFailure::Timeout { ms: 5000 },
            ConnectFailure::TargetGone,
            ConnectFailure::RunTimeout { ms: 600_000 },
            ConnectFailure::TargetQuiet { cases: 3 },
            ConnectFailure::Interrupted,
            ConnectFailure::NeedsHttp2,
        ]);
        round_trip(vec![
            HandshakeFailure::Malformed {
                detail: "invalid HTTP version".into(),
            },
            HandshakeFailure::HeadTooLarge { limit: 16384 },
            HandshakeFailure::Incomplete,
            HandshakeFailure::ClosedEarly,
            HandshakeFailure::ReadFailed {
                detail: "Connection reset by peer (os error 104)".into(),
            },
            HandshakeFailure::Timeout { ms: 1000 },
            HandshakeFailure::NoExtendedConnect,
            HandshakeFailure::Http2SwitchingProtocols,
            HandshakeFailure::StreamReset {
                code: "PROTOCOL_ERROR".into(),
            },
            HandshakeFailure::GoAway {
                code: "0x1234".into(),
            },
            HandshakeFailure::AcceptedWithoutSetting { status: 200 },
            HandshakeFailure::Other("something else".into()),
        ]);
        round_trip(vec![
            SocketFailure::new(SocketOp::Read, "reset"),
            SocketFailure::new(SocketOp::Write, "Broken pipe"),
            SocketFailure::new(SocketOp::WriteRequest, "x"),
            SocketFailure::new(SocketOp::WriteResponse, "y"),
            SocketFailure::new(SocketOp::Unknown, "who knows"),
        ]);
        round_trip(vec![
            SkippedStep::Step(StepName::Send {
                opcode: Opcode::CONTINUATION,
            }),
            SkippedStep::Step(StepName::Send {
                opcode: Opcode(0xB),
            }),
            SkippedStep::Step(StepName::SendFrames { frames: 3 }),
            SkippedStep::Step(StepName::SendRaw { bytes: 12 }),
            SkippedStep::Step(StepName::Close { code: Some(1000) }),
            SkippedStep::Step(StepName::Close { code: None }),
            SkippedStep::Step(StepName::Pause { ms: 100 }),
            SkippedStep::Step(StepName::Marker {
                name: "B of 3".into(),
            }),
            SkippedStep::Step(StepName::Wait),
            SkippedStep::Step(StepName::Drop),
            SkippedStep::Step(StepName::Repeat { times: 1000 }),
            SkippedStep::Step(StepName::Http2 { end_stream: false }),
            SkippedStep::Step(StepName::Http2 { end_stream: true }),
            SkippedStep::RepeatStopped,
            SkippedStep::BytesDropped {
                unsent: 10,
                total: 20,
            },
            SkippedStep::WriteAbandoned {
                unsent: 1,
                total: 2,
            },
            SkippedStep::EncodeFailed {
                detail: "length 300 does not fit".into(),
            },
            SkippedStep::Other("mystery".into()),
        ]);
        round_trip(vec![
            HarnessClose::CaseDrops,
            HarnessClose::Deadline,
            HarnessClose::ServerClosesFirst,
            HarnessClose::StepsFinished,
            HarnessClose::MalformedRequestReset,
            HarnessClose::MalformedRequestGoaway,
            HarnessClose::Other("x".into()),
        ]);
        round_trip(vec![
            FollowUp::Redirect,
            FollowUp::Credentials,
            FollowUp::Other("z".into()),
        ]);
    }

    #[test]
    fn results_json_keeps_the_sentence() {
        let json = serde_json::to_string(&HarnessClose::ServerClosesFirst).expect("json");
        assert_eq!(
            json,
            "\"closing handshake complete: the server closes TCP first (RFC 6455 7.1.1)\""
        );
        let back: HarnessClose = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, HarnessClose::ServerClosesFirst);
    }
}
