//! Table-driven tests of the judge: hand-written transcripts against small
//! cases, one row per situation Autobahn distinguishes.

use super::*;
use crate::case::load::{load, Source};
use crate::transcript::{Event, EventKind, Transcript};
use crate::wire::bytelog::ByteLog;
use crate::wire::decode::{FrameHead, LengthForm};
use crate::wire::handshake::{accept_for, ResponseHead};
use crate::wire::message::{CloseBody, FrameRecord, MessageRecord};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn case(steps_and_expect: &str) -> Case {
    let text = format!(
        "group: t\ntitle: t\ncases:\n  - id: t.1\n    title: t\n    requirement: MUST\n{steps_and_expect}"
    );
    let mut cases = load(&[Source {
        name: "t.yaml".into(),
        text,
    }])
    .unwrap_or_else(|e| panic!("{e:?}"));
    cases.remove(0)
}

fn echo_case() -> Case {
    case("    steps: []\n    expect:\n      ok: [echo]\n      close: {by: harness, codes: [1000], clean: true}\n")
}

fn fail_case() -> Case {
    case("    steps: []\n    expect:\n      ok: []\n      close: {by: peer, codes: [1002]}\n")
}

/// An echo expected, or a refusal that counts only with close code 1009.
fn refusal_needs_its_code() -> Case {
    case("    steps: []\n    expect:\n      ok: [echo]\n      close: {by: harness, codes: [1000], clean: true}\n      also:\n        - grade: INFORMATIONAL\n          events: []\n          close: {by: peer, codes: [1009], require_code: true}\n          because: too big\n")
}

/// Group 9's shape: an echo expected, or a refusal graded INFORMATIONAL with
/// 1009 and NON-STRICT with 1008, each only with its code.
fn refusals_by_code() -> Case {
    case("    steps: []\n    expect:\n      ok: [echo]\n      close: {by: harness, codes: [1000], clean: true}\n      also:\n        - grade: INFORMATIONAL\n          events: []\n          close: {by: peer, codes: [1009], require_code: true}\n          because: too big\n        - grade: NON-STRICT\n          events: []\n          close: {by: peer, codes: [1008], require_code: true}\n          because: policy\n")
}

/// The peer must close, with any code it likes.
fn any_close_case() -> Case {
    case("    steps: []\n    expect:\n      ok: []\n      close: {by: peer}\n")
}

/// An echo the case only SHOULD see.
fn should_echo_case() -> Case {
    let text = "group: t\ntitle: t\ncases:\n  - id: t.1\n    title: t\n    requirement: SHOULD\n    steps: []\n    expect:\n      ok: [echo]\n      close: {by: harness, codes: [1000], clean: true}\n";
    load(&[Source {
        name: "t.yaml".into(),
        text: text.into(),
    }])
    .unwrap_or_else(|e| panic!("{e:?}"))
    .remove(0)
}

/// The server must refuse the handshake with a 4xx.
fn refused_case() -> Case {
    case("    steps: []\n    expect:\n      ok: []\n      close: {by: harness, codes: [1000], clean: true}\n      handshake:\n        status: 4xx\n")
}

/// The peer must fail the connection, and a close started by wsspec fails
/// the behaviour too (as 6.4.x).
fn wrong_closer_case() -> Case {
    case("    steps: []\n    expect:\n      ok: []\n      close: {by: peer, codes: [1007], wrong_closer_fails: true}\n")
}

/// An echo of each of two messages, then a pong for each of two pings.
fn two_echoes_two_pongs() -> Case {
    case("    steps: []\n    expect:\n      ok: [echo, echo, pong, pong]\n      close: {by: harness, codes: [1000], clean: true}\n")
}

/// Marker A only (OK), or markers A then B (NON-STRICT), as 6.4.x.
fn markers_case() -> Case {
    case("    steps: []\n    expect:\n      ok: [{marker: A}]\n      non_strict: [{marker: A}, {marker: B}]\n      close: {by: peer, codes: [1007]}\n")
}

fn two_grades() -> Case {
    case("    steps: []\n    expect:\n      ok: [echo]\n      non_strict: []\n      close: {by: peer, codes: [1002]}\n")
}

fn head(opcode: u8, len: u64, mask: bool) -> FrameHead {
    FrameHead {
        fin: true,
        rsv: 0,
        opcode: crate::wire::Opcode(opcode),
        mask: mask.then_some([1, 2, 3, 4]),
        len,
        length_form: LengthForm::minimal(len),
    }
}

fn frame(opcode: u8, payload: &[u8], mask: bool) -> FrameRecord {
    FrameRecord {
        head: head(opcode, payload.len() as u64, mask),
        payload: ByteLog::of(payload),
        close: (opcode == 8).then(|| CloseBody::parse(payload)),
    }
}

fn message(payload: &[u8]) -> MessageRecord {
    MessageRecord {
        opcode: crate::wire::Opcode::TEXT,
        frames: 1,
        payload: ByteLog::of(payload),
        utf8_valid: Some(true),
        compressed: None,
    }
}

/// Building blocks of a transcript.
#[derive(Clone)]
enum E {
    Handshake,
    BadAccept,
    /// The right accept value with its letters' case swapped.
    SwappedAccept,
    /// A bare non-101 answer (no upgrade headers, no accept value).
    Status(u16),
    SentPing(&'static str),
    Marker(&'static str),
    /// A wait that ran out of time (`wait: echo`, after 2000 ms).
    EchoWaitTimedOut,
    /// The case deadline expired.
    Deadline,
    /// A `wait: end` that ran out of time after 2000 ms.
    EndWaitTimedOut,
    /// wsspec as the server: a correct client request and wsspec's 101.
    ClientUpgraded,
    /// wsspec as the server: a masked text message from the client.
    ClientText(&'static str),
    /// wsspec as the server: a masked close frame from the client.
    ClientClose(u16),
    /// wsspec as the server: a correct client request refused with this status.
    ClientRefused(u16),
    /// Our request with these extra header lines (each ending in CRLF).
    Request(&'static str),
    /// A right 101 for [`E::Request`]'s key with these extra headers.
    Response101(&'static [(&'static str, &'static str)]),
    /// A non-101 response with these headers.
    Response(u16, &'static [(&'static str, &'static str)]),
    /// The head never came: the peer closed (`true`) or the wait timed out.
    NoResponse(bool),
    /// A server frame (unmasked): opcode, FIN, payload.
    GotFrame(u8, bool, &'static [u8]),
    SentText(&'static str),
    GotText(&'static str),
    SentClose(u16),
    GotClose(Option<u16>),
    GotMaskedText,
    PeerEof,
    HarnessClosed,
    ConnectFailed,
    /// A `probe: ping` wait's ping.
    Probe(&'static str),
    GotPong(&'static str),
}

fn transcript(events: &[E]) -> Transcript {
    let mut out = Vec::new();
    let mut push = |kind| {
        out.push(Event {
            at_us: out.len() as u64,
            kind,
        })
    };
    for e in events {
        match e.clone() {
            E::Handshake | E::BadAccept | E::SwappedAccept => {
                push(EventKind::RequestSent {
                    raw: ByteLog::of(
                        format!("GET / HTTP/1.1\r\nSec-WebSocket-Key: {KEY}\r\n\r\n").as_bytes(),
                    ),
                });
                let accept = match e {
                    E::BadAccept => "wrong".to_string(),
                    E::SwappedAccept => crate::wire::handshake::swap_case(&accept_for(KEY)),
                    _ => accept_for(KEY),
                };
                push(EventKind::ResponseReceived {
                    head: ResponseHead {
                        status: 101,
                        reason: "Switching Protocols".into(),
                        headers: vec![
                            ("Upgrade".into(), "websocket".into()),
                            ("Connection".into(), "Upgrade".into()),
                            ("Sec-WebSocket-Accept".into(), accept),
                        ],
                        http2: false,
                    },
                    raw: ByteLog::of(b"HTTP/1.1 101"),
                });
            }
            E::Status(status) => {
                push(EventKind::RequestSent {
                    raw: ByteLog::of(
                        format!("GET / HTTP/1.1\r\nSec-WebSocket-Key: {KEY}\r\n\r\n").as_bytes(),
                    ),
                });
                push(EventKind::ResponseReceived {
                    head: ResponseHead {
                        status,
                        reason: "Nope".into(),
                        headers: vec![("Content-Length".into(), "0".into())],
                        http2: false,
                    },
                    raw: ByteLog::of(format!("HTTP/1.1 {status} Nope").as_bytes()),
                });
            }
            E::SentText(t) => {
                push(EventKind::FrameSent {
                    frame: frame(1, t.as_bytes(), true),
                });
                push(EventKind::MessageSent {
                    message: message(t.as_bytes()),
                });
            }
            E::GotText(t) => {
                push(EventKind::FrameReceived {
                    frame: frame(1, t.as_bytes(), false),
                });
                push(EventKind::MessageReceived {
                    message: message(t.as_bytes()),
                });
            }
            E::GotMaskedText => push(EventKind::FrameReceived {
                frame: frame(1, b"x", true),
            }),
            E::SentClose(code) => push(EventKind::FrameSent {
                frame: frame(8, &code.to_be_bytes(), true),
            }),
            E::GotClose(code) => {
                let body = code.map(|c| c.to_be_bytes().to_vec()).unwrap_or_default();
                push(EventKind::FrameReceived {
                    frame: frame(8, &body, false),
                })
            }
            E::SentPing(p) => push(EventKind::FrameSent {
                frame: frame(9, p.as_bytes(), true),
            }),
            E::Marker(m) => push(EventKind::Marker { name: m.into() }),
            E::EchoWaitTimedOut => push(EventKind::WaitTimedOut {
                what: crate::case::model::WaitFor::Echo,
                after_ms: 2000,
                stalled: false,
            }),
            E::Deadline => push(EventKind::Deadline { after_ms: 5000 }),
            E::EndWaitTimedOut => push(EventKind::WaitTimedOut {
                what: crate::case::model::WaitFor::End,
                after_ms: 2000,
                stalled: false,
            }),
            E::ClientUpgraded => {
                push(EventKind::RequestReceived {
                    raw: ByteLog::of(
                        format!(
                            "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                        )
                        .as_bytes(),
                    ),
                });
                push(EventKind::ResponseSent {
                    status: 101,
                    raw: ByteLog::of(b"HTTP/1.1 101 Switching Protocols\r\n\r\n"),
                });
            }
            E::ClientRefused(status) => {
                push(EventKind::RequestReceived {
                    raw: ByteLog::of(
                        format!(
                            "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                        )
                        .as_bytes(),
                    ),
                });
                push(EventKind::ResponseSent {
                    status,
                    raw: ByteLog::of(format!("HTTP/1.1 {status} No\r\n\r\n").as_bytes()),
                });
            }
            E::Request(extra) => push(EventKind::RequestSent {
                raw: ByteLog::of(
                    format!("GET / HTTP/1.1\r\nSec-WebSocket-Key: {KEY}\r\n{extra}\r\n").as_bytes(),
                ),
            }),
            E::Response101(extra) => {
                let mut headers: Vec<(String, String)> = vec![
                    ("Upgrade".into(), "websocket".into()),
                    ("Connection".into(), "Upgrade".into()),
                    ("Sec-WebSocket-Accept".into(), accept_for(KEY)),
                ];
                headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
                push(EventKind::ResponseReceived {
                    head: ResponseHead {
                        status: 101,
                        reason: "Switching Protocols".into(),
                        headers,
                        http2: false,
                    },
                    raw: ByteLog::of(b"HTTP/1.1 101"),
                });
            }
            E::Response(status, headers) => push(EventKind::ResponseReceived {
                head: ResponseHead {
                    status,
                    reason: "Status".into(),
                    headers: headers
                        .iter()
                        .map(|(n, v)| (n.to_string(), v.to_string()))
                        .collect(),
                    http2: false,
                },
                raw: ByteLog::of(format!("HTTP/1.1 {status} Status").as_bytes()),
            }),
            E::NoResponse(closed) => push(EventKind::HandshakeFailed {
                reason: if closed {
                    crate::transcript::HandshakeFailure::ClosedEarly
                } else {
                    crate::transcript::HandshakeFailure::Timeout { ms: 5000 }
                },
                raw: ByteLog::of(b""),
            }),
            E::GotFrame(opcode, fin, payload) => {
                let mut f = frame(opcode, payload, false);
                f.head.fin = fin;
                push(EventKind::FrameReceived { frame: f })
            }
            E::ClientClose(code) => push(EventKind::FrameReceived {
                frame: frame(8, &code.to_be_bytes(), true),
            }),
            E::ClientText(t) => {
                push(EventKind::FrameReceived {
                    frame: frame(1, t.as_bytes(), true),
                });
                push(EventKind::MessageReceived {
                    message: message(t.as_bytes()),
                });
            }
            E::PeerEof => push(EventKind::PeerEof),
            E::HarnessClosed => push(EventKind::HarnessClosed {
                reason: crate::transcript::HarnessClose::StepsFinished,
            }),
            E::ConnectFailed => push(EventKind::ConnectFailed {
                error: crate::transcript::ConnectFailure::Io("refused".into()),
            }),
            E::Probe(p) => {
                push(EventKind::ProbeSent { payload: p.into() });
                push(EventKind::FrameSent {
                    frame: frame(9, p.as_bytes(), true),
                });
            }
            E::GotPong(p) => push(EventKind::FrameReceived {
                frame: frame(10, p.as_bytes(), false),
            }),
        }
    }
    Transcript {
        case_id: "t.1".into(),
        events: out,
        duration_us: 10,
        detailed: true,
        omitted: None,
    }
}

/// One row of the verdict table: name, case, transcript, the behaviour and
/// close verdicts, and words the two reasons (joined by ` | `) must hold.
type Row = (
    &'static str,
    Case,
    Vec<E>,
    Outcome,
    CloseVerdict,
    &'static str,
);

/// Judges every row: both verdicts exact, both reasons non-empty and holding
/// the row's words; a row with no words must name no framing breach in its
/// behaviour reason.
fn check_rows(rows: Vec<Row>) {
    for (name, case, events, behavior, close, words) in rows {
        let v = judge(&case, &transcript(&events));
        assert_eq!(
            (v.behavior, v.close),
            (behavior, close),
            "{name}: {} | {}",
            v.behavior_reason,
            v.close_reason
        );
        assert!(
            !v.behavior_reason.is_empty() && !v.close_reason.is_empty(),
            "{name}: empty reason"
        );
        let reasons = format!("{} | {}", v.behavior_reason, v.close_reason);
        assert!(
            reasons.contains(words),
            "{name}: `{words}` not in: {reasons}"
        );
        if words.is_empty() {
            assert!(
                !v.behavior_reason.contains("(RFC 6455 5."),
                "{name}: {reasons}"
            );
        }
    }
}

#[test]
fn verdict_table() {
    use E::*;
    let rows: Vec<Row> = vec![
        (
            "clean echo",
            echo_case(),
            vec![
                Handshake,
                SentText("hi"),
                GotText("hi"),
                SentClose(1000),
                GotClose(Some(1000)),
                PeerEof,
            ],
            Outcome::Ok,
            CloseVerdict::Ok,
            "",
        ),
        (
            "wrong echo",
            echo_case(),
            vec![
                Handshake,
                SentText("hi"),
                GotText("ho"),
                SentClose(1000),
                GotClose(Some(1000)),
                PeerEof,
            ],
            Outcome::Failed,
            CloseVerdict::Ok,
            "",
        ),
        (
            "no echo",
            echo_case(),
            vec![
                Handshake,
                SentText("hi"),
                SentClose(1000),
                GotClose(Some(1000)),
                PeerEof,
            ],
            Outcome::Failed,
            CloseVerdict::Ok,
            "",
        ),
        (
            // RFC 6455 5.5.1: after the closing handshake the server MUST
            // close TCP; where a clean close is required, that is UNCLEAN.
            "server never closes tcp after a clean close",
            echo_case(),
            vec![
                Handshake,
                SentText("hi"),
                GotText("hi"),
                SentClose(1000),
                GotClose(Some(1000)),
                HarnessClosed,
            ],
            Outcome::Ok,
            CloseVerdict::Unclean,
            "",
        ),
        (
            "a refusal with its code",
            refusal_needs_its_code(),
            vec![
                Handshake,
                SentText("hi"),
                GotClose(Some(1009)),
                SentClose(1009),
                PeerEof,
            ],
            Outcome::Informational,
            CloseVerdict::Ok,
            "too big; observed nothing (",
        ),
        (
            "a connection that dies is no refusal",
            refusal_needs_its_code(),
            vec![Handshake, SentText("hi"), PeerEof],
            Outcome::Failed,
            CloseVerdict::Failed,
            "",
        ),
        (
            "a close without the code is no refusal either",
            refusal_needs_its_code(),
            vec![
                Handshake,
                SentText("hi"),
                GotClose(None),
                SentClose(1000),
                PeerEof,
            ],
            Outcome::Failed,
            CloseVerdict::Failed,
            "",
        ),
        (
            // Where the peer fails the connection (no clean close required),
            // wsspec ending TCP stays FAILED BY CLIENT, as in Autobahn.
            "server fails the connection but leaves tcp open",
            fail_case(),
            vec![
                Handshake,
                GotClose(Some(1002)),
                SentClose(1002),
                HarnessClosed,
            ],
            Outcome::Ok,
            CloseVerdict::FailedByClient,
            "",
        ),
        (
            "no close reply",
            echo_case(),
            vec![
                Handshake,
                SentText("hi"),
                GotText("hi"),
                SentClose(1000),
                PeerEof,
            ],
            Outcome::Ok,
            CloseVerdict::Unclean,
            "",
        ),
        (
            "peer closed first",
            echo_case(),
            vec![
                Handshake,
                SentText("hi"),
                GotText("hi"),
                GotClose(Some(1000)),
                SentClose(1000),
                PeerEof,
            ],
            Outcome::Ok,
            CloseVerdict::Failed,
            "",
        ),
        (
            "wrong code",
            echo_case(),
            vec![
                Handshake,
                SentText("hi"),
                GotText("hi"),
                SentClose(1000),
                GotClose(Some(1001)),
                PeerEof,
            ],
            Outcome::Ok,
            CloseVerdict::WrongCode,
            "",
        ),
        (
            "peer fails with 1002",
            fail_case(),
            vec![Handshake, GotClose(Some(1002)), SentClose(1002), PeerEof],
            Outcome::Ok,
            CloseVerdict::Ok,
            "",
        ),
        (
            "peer drops tcp",
            fail_case(),
            vec![Handshake, PeerEof],
            Outcome::Ok,
            CloseVerdict::Ok,
            "",
        ),
        (
            "peer close without code",
            fail_case(),
            vec![Handshake, GotClose(None), SentClose(1000), PeerEof],
            Outcome::Ok,
            CloseVerdict::Ok,
            "",
        ),
        (
            "peer never fails",
            fail_case(),
            vec![Handshake, HarnessClosed],
            Outcome::Ok,
            CloseVerdict::Failed,
            "",
        ),
        (
            "peer fails with 1000",
            fail_case(),
            vec![Handshake, GotClose(Some(1000)), SentClose(1000), PeerEof],
            Outcome::Ok,
            CloseVerdict::WrongCode,
            "",
        ),
        (
            "echo then fail: OK",
            two_grades(),
            vec![
                Handshake,
                SentText("a"),
                SentText("b"),
                GotText("a"),
                GotClose(Some(1002)),
                PeerEof,
            ],
            Outcome::Ok,
            CloseVerdict::Ok,
            "",
        ),
        (
            "fail first: NON-STRICT",
            two_grades(),
            vec![
                Handshake,
                SentText("a"),
                SentText("b"),
                GotClose(Some(1002)),
                PeerEof,
            ],
            Outcome::NonStrict,
            CloseVerdict::Ok,
            "",
        ),
        (
            "masked server frame",
            fail_case(),
            vec![Handshake, GotMaskedText, PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "the server sent a masked text frame",
        ),
        (
            "bad accept",
            fail_case(),
            vec![BadAccept, PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "Sec-WebSocket-Accept is `wrong`",
        ),
        (
            "1009 refusal: INFORMATIONAL",
            refusals_by_code(),
            vec![
                Handshake,
                SentText("hi"),
                GotClose(Some(1009)),
                SentClose(1009),
                PeerEof,
            ],
            Outcome::Informational,
            CloseVerdict::Ok,
            "",
        ),
        (
            "1008 refusal: NON-STRICT",
            refusals_by_code(),
            vec![
                Handshake,
                SentText("hi"),
                GotClose(Some(1008)),
                SentClose(1008),
                PeerEof,
            ],
            Outcome::NonStrict,
            CloseVerdict::Ok,
            "",
        ),
        (
            "1002 is neither refusal",
            refusals_by_code(),
            vec![
                Handshake,
                SentText("hi"),
                GotClose(Some(1002)),
                SentClose(1002),
                PeerEof,
            ],
            Outcome::Failed,
            CloseVerdict::Failed,
            "",
        ),
        (
            // RFC 6455 7.4.1: 1005 MUST NOT be set in a close frame, whatever
            // codes the case would accept.
            "close code 1005 on the wire",
            any_close_case(),
            vec![Handshake, GotClose(Some(1005)), SentClose(1000), PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "",
        ),
        (
            "close code 1006 on the wire",
            any_close_case(),
            vec![Handshake, GotClose(Some(1006)), SentClose(1000), PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "",
        ),
        (
            "close code 1015 on the wire",
            any_close_case(),
            vec![Handshake, GotClose(Some(1015)), SentClose(1000), PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "",
        ),
        (
            "close code 999 on the wire",
            any_close_case(),
            vec![Handshake, GotClose(Some(999)), SentClose(1000), PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "",
        ),
        (
            "close code 2999 on the wire",
            any_close_case(),
            vec![Handshake, GotClose(Some(2999)), SentClose(1000), PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "",
        ),
        (
            "close code 3000 is the peer's to use",
            any_close_case(),
            vec![Handshake, GotClose(Some(3000)), SentClose(3000), PeerEof],
            Outcome::Ok,
            CloseVerdict::Ok,
            "",
        ),
        (
            "close code 1003 is the peer's to use",
            any_close_case(),
            vec![Handshake, GotClose(Some(1003)), SentClose(1003), PeerEof],
            Outcome::Ok,
            CloseVerdict::Ok,
            "",
        ),
        (
            // RFC 6455 4.1: the accept value is compared as a string, so
            // swapped letter case is a wrong value (server role; cl.2.22 is
            // the client role's).
            "accept value with swapped case",
            fail_case(),
            vec![SwappedAccept, PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "",
        ),
        (
            // A MUST case whose upgrade never happened: its closing handshake
            // failed too, as Autobahn reports it.
            "MUST case answered 404",
            echo_case(),
            vec![Status(404), PeerEof],
            Outcome::Failed,
            CloseVerdict::Failed,
            "the WebSocket opening handshake never completed",
        ),
        (
            "SHOULD case answered 404: no close verdict",
            should_echo_case(),
            vec![Status(404), PeerEof],
            Outcome::NonStrict,
            CloseVerdict::None,
            "no WebSocket connection was opened",
        ),
        (
            "refusal expected, refused with 400",
            refused_case(),
            vec![Status(400), PeerEof],
            Outcome::Ok,
            CloseVerdict::Ok,
            "no WebSocket connection was expected",
        ),
        (
            // A non-101 answer is not checked as an upgrade (no accept value needed).
            "refusal expected, answered 200",
            refused_case(),
            vec![Status(200), PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "no WebSocket connection was opened",
        ),
        (
            "refusal expected, upgraded instead",
            refused_case(),
            vec![Handshake, SentClose(1000), GotClose(Some(1000)), PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "",
        ),
        (
            "wrong closer escalated to the behaviour",
            wrong_closer_case(),
            vec![Handshake, SentClose(1000), GotClose(Some(1000)), PeerEof],
            Outcome::Failed,
            CloseVerdict::Failed,
            "the wrong endpoint closed: expected the peer to fail the connection first; wsspec's close frame came first",
        ),
        (
            "wrong closer case, peer fails first: no escalation",
            wrong_closer_case(),
            vec![Handshake, GotClose(Some(1007)), SentClose(1007), PeerEof],
            Outcome::Ok,
            CloseVerdict::Ok,
            "as expected",
        ),
        (
            "peer never fails, wsspec closed after the steps",
            wrong_closer_case(),
            vec![Handshake, HarnessClosed],
            Outcome::Failed,
            CloseVerdict::Failed,
            "it did not (the steps ended), so wsspec closed it",
        ),
        (
            // A framing breach is graded before the alternatives: a refusal
            // code does not excuse it.
            "masked frame, then the refusal code",
            refusal_needs_its_code(),
            vec![
                Handshake,
                SentText("hi"),
                GotMaskedText,
                GotClose(Some(1009)),
                SentClose(1009),
                PeerEof,
            ],
            Outcome::Failed,
            CloseVerdict::Failed,
            "the server sent a masked text frame",
        ),
        (
            "one framing violation: no count",
            fail_case(),
            vec![Handshake, GotMaskedText, PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "MUST NOT mask) |",
        ),
        (
            "two framing violations: the first, and the count of the rest",
            fail_case(),
            vec![Handshake, GotMaskedText, GotMaskedText, PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "MUST NOT mask) (and 1 more framing violations)",
        ),
        (
            "echoes and pongs, each for its own message and ping",
            two_echoes_two_pongs(),
            vec![
                Handshake,
                SentText("a"),
                SentText("b"),
                SentPing("p"),
                SentPing("q"),
                GotText("a"),
                GotText("b"),
                GotPong("p"),
                GotPong("q"),
                SentClose(1000),
                GotClose(Some(1000)),
                PeerEof,
            ],
            Outcome::Ok,
            CloseVerdict::Ok,
            "as expected",
        ),
        (
            "pongs in the wrong order",
            two_echoes_two_pongs(),
            vec![
                Handshake,
                SentText("a"),
                SentText("b"),
                SentPing("p"),
                SentPing("q"),
                GotText("a"),
                GotText("b"),
                GotPong("q"),
                GotPong("p"),
                SentClose(1000),
                GotClose(Some(1000)),
                PeerEof,
            ],
            Outcome::Failed,
            CloseVerdict::Ok,
            "observed [text message \"a\"",
        ),
        (
            "marker A, then the peer fails",
            markers_case(),
            vec![Handshake, Marker("A"), GotClose(Some(1007)), PeerEof],
            Outcome::Ok,
            CloseVerdict::Ok,
            "observed [marker A], as expected",
        ),
        (
            "markers A and B: NON-STRICT",
            markers_case(),
            vec![
                Handshake,
                Marker("A"),
                Marker("B"),
                GotClose(Some(1007)),
                PeerEof,
            ],
            Outcome::NonStrict,
            CloseVerdict::Ok,
            "expected [marker A]; observed [marker A, marker B], which is accepted",
        ),
        (
            "marker B alone",
            markers_case(),
            vec![Handshake, Marker("B"), GotClose(Some(1007)), PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "(or, less strictly, [marker A, marker B]); observed [marker B]",
        ),
        (
            "a wait that gave up is named in the reason",
            echo_case(),
            vec![
                Handshake,
                SentText("hi"),
                EchoWaitTimedOut,
                SentClose(1000),
                GotClose(Some(1000)),
                PeerEof,
            ],
            Outcome::Failed,
            CloseVerdict::Ok,
            "observed nothing (a wait for echo gave up after 2000 ms) |",
        ),
        (
            "the deadline is named in the reason",
            echo_case(),
            vec![Handshake, SentText("hi"), EchoWaitTimedOut, Deadline],
            Outcome::Failed,
            CloseVerdict::Unclean,
            "observed nothing before the case deadline |",
        ),
        (
            "refusal expected, upgraded, and the peer closed first",
            refused_case(),
            vec![Handshake, GotClose(Some(1000)), SentClose(1000), PeerEof],
            Outcome::Failed,
            CloseVerdict::Failed,
            "expected wsspec to start the close; the peer closed first",
        ),
        (
            "six unexpected messages are listed whole",
            echo_case(),
            vec![
                Handshake,
                SentText("hi"),
                GotText("1"),
                GotText("2"),
                GotText("3"),
                GotText("4"),
                GotText("5"),
                GotText("6"),
                SentClose(1000),
                GotClose(Some(1000)),
                PeerEof,
            ],
            Outcome::Failed,
            CloseVerdict::Ok,
            "observed [text message \"1\" (1 bytes), text message \"2\" (1 bytes), text message \"3\" (1 bytes), text message \"4\" (1 bytes), text message \"5\" (1 bytes), text message \"6\" (1 bytes)] |",
        ),
        (
            "seven are cut at six with the count",
            echo_case(),
            vec![
                Handshake,
                SentText("hi"),
                GotText("1"),
                GotText("2"),
                GotText("3"),
                GotText("4"),
                GotText("5"),
                GotText("6"),
                GotText("7"),
                SentClose(1000),
                GotClose(Some(1000)),
                PeerEof,
            ],
            Outcome::Failed,
            CloseVerdict::Ok,
            "text message \"6\" (1 bytes), … 7 events in all] |",
        ),
        (
            "server leaves tcp open after a clean close, named with the wait",
            echo_case(),
            vec![
                Handshake,
                SentText("hi"),
                GotText("hi"),
                SentClose(1000),
                GotClose(Some(1000)),
                EndWaitTimedOut,
                HarnessClosed,
            ],
            Outcome::Ok,
            CloseVerdict::Unclean,
            "so wsspec did after waiting 2000 ms (RFC 6455 5.5.1",
        ),
        (
            "no close frame from the peer: unclean, said so",
            echo_case(),
            vec![Handshake, SentText("hi"), GotText("hi"), SentClose(1000), PeerEof],
            Outcome::Ok,
            CloseVerdict::Unclean,
            "the peer sent no close frame before the connection ended",
        ),
        (
            "wsspec's close never went out: unclean, said so",
            echo_case(),
            vec![Handshake, SentText("hi"), GotText("hi"), GotClose(Some(1000)), PeerEof],
            Outcome::Ok,
            CloseVerdict::Failed,
            "the peer closed first",
        ),
        (
            // wsspec as the server ends TCP itself, as RFC 6455 7.1.1 asks.
            "client role: wsspec ends tcp after a clean close",
            echo_case(),
            vec![
                ClientUpgraded,
                SentText("hi"),
                ClientText("hi"),
                SentClose(1000),
                ClientClose(1000),
                HarnessClosed,
            ],
            Outcome::Ok,
            CloseVerdict::Ok,
            "close frame 1000, wsspec closed the connection, as the server does first",
        ),
        (
            "a code required and missing",
            case("    steps: []\n    expect:\n      ok: []\n      close: {by: peer, codes: [1002, 1007], require_code: true}\n"),
            vec![Handshake, GotClose(None), SentClose(1000), PeerEof],
            Outcome::Ok,
            CloseVerdict::WrongCode,
            "expected close code 1002 or 1007; the peer sent a close frame without a code",
        ),
        (
            "a code required, tcp dropped",
            case("    steps: []\n    expect:\n      ok: []\n      close: {by: peer, codes: [1002], require_code: true}\n"),
            vec![Handshake, PeerEof],
            Outcome::Ok,
            CloseVerdict::WrongCode,
            "expected close code 1002; the peer sent no close frame",
        ),
        (
            "a code required, another given",
            case("    steps: []\n    expect:\n      ok: []\n      close: {by: peer, codes: [1002], require_code: true}\n"),
            vec![Handshake, GotClose(Some(1003)), SentClose(1003), PeerEof],
            Outcome::Ok,
            CloseVerdict::WrongCode,
            "expected close code 1002; the peer closed with 1003",
        ),
        (
            "failing with a listed code, tcp left open: failed by client, said when",
            fail_case(),
            vec![Handshake, GotClose(Some(1002)), SentClose(1002), HarnessClosed],
            Outcome::Ok,
            CloseVerdict::FailedByClient,
            "after the closing handshake the server had not closed the TCP connection",
        ),
        (
            "peer failed without a close frame, tcp left open",
            any_close_case(),
            vec![Handshake, GotText("x"), Deadline],
            Outcome::Failed,
            CloseVerdict::Failed,
            "the case deadline expired",
        ),
        (
            "no handshake",
            fail_case(),
            vec![PeerEof],
            Outcome::Failed,
            CloseVerdict::Failed,
            "",
        ),
        (
            "unreachable",
            fail_case(),
            vec![ConnectFailed],
            Outcome::Error,
            CloseVerdict::None,
            "",
        ),
    ];
    check_rows(rows);
}

#[test]
fn a_case_past_wsspecs_own_event_limit_is_error_unless_the_kept_part_fails() {
    let overflow = |frames, messages, replies_dropped| EventKind::Overflow {
        frames,
        messages,
        messages_sha256: String::new(),
        max_events: 500,
        replies_dropped,
    };
    let with = |events: &[E], extra: EventKind| {
        let mut t = transcript(events);
        t.events.push(Event {
            at_us: 99,
            kind: extra,
        });
        t
    };
    let echoed = [
        E::Handshake,
        E::SentText("Hello"),
        E::GotText("Hello"),
        E::SentClose(1000),
        E::GotClose(Some(1000)),
        E::PeerEof,
    ];
    assert_eq!(
        judge(&echo_case(), &transcript(&echoed)).outcome,
        Outcome::Ok
    );
    for (frames, messages) in [(0, 7), (3, 0)] {
        let v = judge(&echo_case(), &with(&echoed, overflow(frames, messages, 0)));
        assert_eq!((v.behavior, v.outcome), (Outcome::Error, Outcome::Error));
        assert!(
            v.behavior_reason.contains("limit of 500 events")
                && v.behavior_reason.contains("raise --max-events"),
            "{}",
            v.behavior_reason
        );
        assert_eq!(v.close, CloseVerdict::None);
    }
    // Pongs dropped alone keep every event: the case is judged as usual.
    let v = judge(&echo_case(), &with(&echoed, overflow(0, 0, 12)));
    assert_eq!(v.outcome, Outcome::Ok, "{}", v.behavior_reason);
    // A breach in what was kept is FAILED all the same.
    let masked = [
        E::Handshake,
        E::SentText("Hello"),
        E::GotMaskedText,
        E::PeerEof,
    ];
    let v = judge(&echo_case(), &with(&masked, overflow(0, 7, 0)));
    assert_eq!(v.behavior, Outcome::Failed, "{}", v.behavior_reason);
}

#[test]
fn escalations_and_requirement_levels() {
    let strict_code = case("    steps: []\n    expect:\n      ok: []\n      close: {by: peer, codes: [1002], wrong_code_fails: true}\n");
    let v = judge(
        &strict_code,
        &transcript(&[E::Handshake, E::GotClose(Some(1000)), E::PeerEof]),
    );
    assert_eq!((v.behavior, v.outcome), (Outcome::Failed, Outcome::Failed));
    let text = "group: t\ntitle: t\ncases:\n  - id: t.2\n    title: t\n    requirement: SHOULD\n    steps: []\n    expect:\n      ok: [echo]\n      close: {by: peer}\n";
    let c = load(&[Source {
        name: "t.yaml".into(),
        text: text.into(),
    }])
    .unwrap_or_else(|e| panic!("{e:?}"))
    .remove(0);
    let v = judge(
        &c,
        &transcript(&[E::Handshake, E::SentText("a"), E::PeerEof]),
    );
    assert_eq!(v.behavior, Outcome::NonStrict, "{}", v.behavior_reason);
    assert!(
        v.behavior_reason.contains("expected [text message \"a\""),
        "{}",
        v.behavior_reason
    );
    assert!(
        v.behavior_reason.contains("observed nothing"),
        "{}",
        v.behavior_reason
    );
}

#[test]
fn probe_pings_and_their_pongs_are_not_graded() {
    use E::*;
    let clean = |extra: Vec<E>| {
        let mut v = vec![Handshake, SentText("hi")];
        v.extend(extra);
        v.extend([
            GotText("hi"),
            SentClose(1000),
            GotClose(Some(1000)),
            PeerEof,
        ]);
        transcript(&v)
    };
    // The probe's pong is bookkeeping: the echo alone is what was observed.
    let v = judge(
        &echo_case(),
        &clean(vec![Probe("wsspec-probe-1"), GotPong("wsspec-probe-1")]),
    );
    assert_eq!(v.behavior, Outcome::Ok, "{}", v.behavior_reason);
    // Any other pong is still an observed event, and unexpected here.
    let v = judge(
        &echo_case(),
        &clean(vec![Probe("wsspec-probe-1"), GotPong("other")]),
    );
    assert_eq!(v.behavior, Outcome::Failed, "{}", v.behavior_reason);
    // A case that expects a pong for its own ping is not satisfied by the probe's.
    let pong_case = case(
        "    steps: []\n    expect:\n      ok: [pong]\n      close: {by: harness, codes: [1000], clean: true}\n",
    );
    let t = transcript(&[
        Handshake,
        Probe("wsspec-probe-1"),
        GotPong("wsspec-probe-1"),
        SentClose(1000),
        GotClose(Some(1000)),
        PeerEof,
    ]);
    let v = judge(&pong_case, &t);
    assert_ne!(v.behavior, Outcome::Ok, "{}", v.behavior_reason);
}

/// A case expecting the handshake described by `handshake` (YAML lines at
/// the `handshake:` level), then a close by wsspec.
fn handshake_case(handshake: &str) -> Case {
    case(&format!(
        "    steps: []\n    expect:\n      ok: []\n      close: {{by: harness, codes: [1000], clean: true}}\n      handshake:\n{handshake}"
    ))
}

/// The handshake's rules, one row each: the checks every 101 gets, a case's
/// status and header expectations, a plain close, and the client role.
#[test]
fn handshake_rules() {
    use E::*;
    let closed = || vec![SentClose(1000), GotClose(Some(1000)), PeerEof];
    let upgraded = |extra: &'static [(&'static str, &'static str)], offer: &'static str| {
        let mut v = vec![Request(offer), Response101(extra)];
        v.extend(closed());
        v
    };
    let any_101 = || handshake_case("        status: 101\n");
    let rows: Vec<Row> = vec![
        (
            "a right 101",
            any_101(),
            upgraded(&[], ""),
            Outcome::Ok,
            CloseVerdict::Ok,
            "as expected",
        ),
        (
            "two accept values",
            any_101(),
            upgraded(&[("Sec-WebSocket-Accept", "x")], ""),
            Outcome::Failed,
            CloseVerdict::Ok,
            "Sec-WebSocket-Accept is `",
        ),
        (
            "upgrade token list with websocket",
            any_101(),
            vec![
                Request(""),
                Response(
                    101,
                    &[
                        ("Upgrade", "foo, WebSocket"),
                        ("Connection", "keep-alive, Upgrade"),
                        ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
                    ],
                ),
                SentClose(1000),
                GotClose(Some(1000)),
                PeerEof,
            ],
            Outcome::Ok,
            CloseVerdict::Ok,
            "as expected",
        ),
        (
            "no websocket in Upgrade",
            any_101(),
            vec![
                Request(""),
                Response(
                    101,
                    &[
                        ("Upgrade", "h2c"),
                        ("Connection", "Upgrade"),
                        ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
                    ],
                ),
                SentClose(1000),
                GotClose(Some(1000)),
                PeerEof,
            ],
            Outcome::Failed,
            CloseVerdict::Ok,
            "Upgrade header is `h2c`; expected the token `websocket`",
        ),
        (
            "no upgrade in Connection",
            any_101(),
            vec![
                Request(""),
                Response(
                    101,
                    &[
                        ("Upgrade", "websocket"),
                        ("Connection", "close"),
                        ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
                    ],
                ),
                SentClose(1000),
                GotClose(Some(1000)),
                PeerEof,
            ],
            Outcome::Failed,
            CloseVerdict::Ok,
            "Connection header is `close`; expected the token `upgrade`",
        ),
        (
            "no accept value",
            any_101(),
            vec![
                Request(""),
                Response(101, &[("Upgrade", "websocket"), ("Connection", "Upgrade")]),
                SentClose(1000),
                GotClose(Some(1000)),
                PeerEof,
            ],
            Outcome::Failed,
            CloseVerdict::Ok,
            "no Sec-WebSocket-Accept header (expected `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`)",
        ),
        (
            "an offered subprotocol selected",
            any_101(),
            upgraded(
                &[("Sec-WebSocket-Protocol", "chat")],
                "Sec-WebSocket-Protocol: chat, superchat\r\n",
            ),
            Outcome::Ok,
            CloseVerdict::Ok,
            "as expected",
        ),
        (
            "a subprotocol not offered",
            any_101(),
            upgraded(
                &[("Sec-WebSocket-Protocol", "mqtt")],
                "Sec-WebSocket-Protocol: chat, superchat\r\n",
            ),
            Outcome::Failed,
            CloseVerdict::Ok,
            "selected subprotocol `mqtt`, which was not offered",
        ),
        (
            "two subprotocols selected",
            any_101(),
            upgraded(
                &[("Sec-WebSocket-Protocol", "chat, superchat")],
                "Sec-WebSocket-Protocol: chat, superchat\r\n",
            ),
            Outcome::Failed,
            CloseVerdict::Ok,
            "selected 2 subprotocols (`chat, superchat`)",
        ),
        (
            "an offered extension accepted",
            any_101(),
            upgraded(
                &[("Sec-WebSocket-Extensions", "x-test; a=1")],
                "Sec-WebSocket-Extensions: foo, X-Test; a=1\r\n",
            ),
            Outcome::Ok,
            CloseVerdict::Ok,
            "as expected",
        ),
        (
            "an extension not offered",
            any_101(),
            upgraded(
                &[("Sec-WebSocket-Extensions", "foo, permessage-deflate")],
                "Sec-WebSocket-Extensions: foo\r\n",
            ),
            Outcome::Failed,
            CloseVerdict::Ok,
            "accepted extension `permessage-deflate`, which was not offered",
        ),
        (
            "refusal expected, 101 given",
            refused_case(),
            upgraded(&[], ""),
            Outcome::Failed,
            CloseVerdict::Ok,
            "expected the server to refuse the handshake (4xx); it accepted it with 101",
        ),
        (
            "refusal expected, 200 given",
            refused_case(),
            vec![Request(""), Response(200, &[]), PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "expected HTTP status 4xx; the server answered 200 Status",
        ),
        (
            "refusal expected and given",
            refused_case(),
            vec![Request(""), Response(426, &[]), PeerEof],
            Outcome::Ok,
            CloseVerdict::Ok,
            "the server refused the handshake with 426 Status",
        ),
        (
            "a refusal with the header it must carry",
            handshake_case("        status: 426\n        headers:\n          - {name: Sec-WebSocket-Version, has_token: \"13\"}\n"),
            vec![
                Request(""),
                Response(426, &[("Sec-WebSocket-Version", "8, 13")]),
                PeerEof,
            ],
            Outcome::Ok,
            CloseVerdict::Ok,
            "refused the handshake with 426",
        ),
        (
            "a refusal without the token it must list",
            handshake_case("        status: 426\n        headers:\n          - {name: Sec-WebSocket-Version, has_token: \"13\"}\n"),
            vec![Request(""), Response(426, &[("Sec-WebSocket-Version", "8")]), PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "expected the response's Sec-WebSocket-Version header to list `13`; it is `8`",
        ),
        (
            "a header that must be absent",
            handshake_case("        status: 101\n        headers:\n          - {name: Sec-WebSocket-Protocol, absent: true}\n"),
            upgraded(&[("Sec-WebSocket-Protocol", "chat")], "Sec-WebSocket-Protocol: chat\r\n"),
            Outcome::Failed,
            CloseVerdict::Ok,
            "expected no Sec-WebSocket-Protocol header in the response; it is `chat`",
        ),
        (
            "a token that must not be listed",
            handshake_case("        status: 101\n        headers:\n          - {name: Sec-WebSocket-Extensions, lacks_token: x-test}\n"),
            upgraded(
                &[("Sec-WebSocket-Extensions", "X-Test; a=1")],
                "Sec-WebSocket-Extensions: x-test\r\n",
            ),
            Outcome::Failed,
            CloseVerdict::Ok,
            "not to list `x-test`; it is `X-Test; a=1`",
        ),
        (
            "a token that must not be listed, absent",
            handshake_case("        status: 101\n        headers:\n          - {name: Sec-WebSocket-Extensions, lacks_token: x-test}\n"),
            upgraded(&[], ""),
            Outcome::Ok,
            CloseVerdict::Ok,
            "as expected",
        ),
        (
            "closed without a response, where that is a refusal",
            handshake_case("        status: 4xx\n        or_close: true\n"),
            vec![Request(""), NoResponse(true)],
            Outcome::Ok,
            CloseVerdict::Ok,
            "the server closed the connection without a response (connection closed before a complete response head)",
        ),
        (
            "a timeout is no refusal",
            handshake_case("        status: 4xx\n        or_close: true\n"),
            vec![Request(""), NoResponse(false), HarnessClosed],
            Outcome::Failed,
            CloseVerdict::Ok,
            "expected HTTP status 4xx; the opening handshake never completed: no complete response head within 5000 ms",
        ),
        (
            "closed without a response, where a response is required",
            refused_case(),
            vec![Request(""), NoResponse(true)],
            Outcome::Failed,
            CloseVerdict::Ok,
            "the opening handshake never completed: connection closed before a complete response head",
        ),
        (
            "client role: refused, and the client sent nothing",
            refused_case(),
            vec![ClientRefused(404), PeerEof],
            Outcome::Ok,
            CloseVerdict::Ok,
            "wsspec answered 404; the client sent no WebSocket frames",
        ),
        (
            "client role: refused, yet the client sent a frame",
            refused_case(),
            vec![ClientRefused(200), ClientText("x"), PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "wsspec answered 200, yet the client sent 1 WebSocket frame(s)",
        ),
    ];
    check_rows(rows);
}

/// Framing rules every frame of the peer is held to (RFC 6455 5.2-5.5), and
/// how an informational case describes what it saw.
#[test]
fn framing_rules_and_informational_descriptions() {
    use E::*;
    let fails = |frames: Vec<E>| {
        let mut v = vec![Handshake];
        v.extend(frames);
        v.extend([GotClose(Some(1002)), SentClose(1002), PeerEof]);
        v
    };
    let informational = || {
        case("    informational: true\n    steps: []\n    expect:\n      ok: []\n      close: {by: harness, codes: [1000], clean: true}\n")
    };
    let rows: Vec<Row> = vec![
        (
            "a fragmented message, then another",
            fail_case(),
            fails(vec![
                GotFrame(1, false, b"a"),
                GotFrame(9, true, b""),
                GotFrame(0, false, b"b"),
                GotFrame(0, true, b"c"),
                GotFrame(2, true, b"d"),
            ]),
            Outcome::Ok,
            CloseVerdict::Ok,
            "",
        ),
        (
            "a continuation with nothing to continue",
            fail_case(),
            fails(vec![GotFrame(0, true, b"x")]),
            Outcome::Failed,
            CloseVerdict::Ok,
            "the peer sent a continuation frame with no message to continue (RFC 6455 5.4)",
        ),
        (
            "a continuation after the message ended",
            fail_case(),
            fails(vec![
                GotFrame(1, false, b"a"),
                GotFrame(0, true, b"b"),
                GotFrame(0, true, b"c"),
            ]),
            Outcome::Failed,
            CloseVerdict::Ok,
            "continuation frame with no message to continue",
        ),
        (
            "a new message inside a fragmented one",
            fail_case(),
            fails(vec![GotFrame(1, false, b"a"), GotFrame(2, true, b"b")]),
            Outcome::Failed,
            CloseVerdict::Ok,
            "the peer started a new binary message inside a fragmented one (RFC 6455 5.4)",
        ),
        (
            "a fragmented ping",
            fail_case(),
            fails(vec![GotFrame(9, false, b"p")]),
            Outcome::Failed,
            CloseVerdict::Ok,
            "the peer sent a fragmented ping frame (RFC 6455 5.5)",
        ),
        (
            "a ping of 125 bytes",
            fail_case(),
            fails(vec![GotFrame(9, true, &[b'p'; 125])]),
            Outcome::Ok,
            CloseVerdict::Ok,
            "",
        ),
        (
            "a ping of 126 bytes",
            fail_case(),
            fails(vec![GotFrame(9, true, &[b'p'; 126])]),
            Outcome::Failed,
            CloseVerdict::Ok,
            "the peer sent a ping frame with a 126-byte payload (control frames carry at most 125)",
        ),
        (
            "a reserved control opcode, not final: reserved, not fragmented",
            fail_case(),
            fails(vec![GotFrame(0xB, false, b"")]),
            Outcome::Failed,
            CloseVerdict::Ok,
            "expected nothing; observed [frame with reserved opcode 0xb]",
        ),
        (
            "informational: a refusal described",
            informational(),
            vec![Status(404), PeerEof],
            Outcome::Informational,
            CloseVerdict::Informational,
            "observed HTTP 404 Nope; nothing",
        ),
        (
            "informational: no response described, with its time",
            informational(),
            vec![Request(""), NoResponse(true)],
            Outcome::Informational,
            CloseVerdict::Informational,
            "observed no response: connection closed before a complete response head (after 0 ms)",
        ),
    ];
    check_rows(rows);
    // The time of a missing response is the failure's own, in ms.
    let mut t = transcript(&[Request(""), NoResponse(true)]);
    t.events[1].at_us = 2_345_678;
    let v = judge(&informational(), &t);
    assert!(
        v.behavior_reason.contains("(after 2345 ms)"),
        "{}",
        v.behavior_reason
    );
}

// ---------------------------------------------------------------------------
// permessage-deflate: the negotiation rules (judge/deflate.rs) and the facts
// about compressed frames and messages (judge/facts.rs).
// ---------------------------------------------------------------------------

fn deflate_case(block: &str, expect: &str) -> Case {
    case(&format!(
        "    deflate: {block}\n    steps: []\n    expect:\n{expect}"
    ))
}

const ECHO_EXPECT: &str =
    "      ok: [echo]\n      close: {by: harness, codes: [1000], clean: true}\n";
const FAIL_EXPECT: &str = "      ok: []\n      close: {by: peer}\n";

fn agreement(bits: u8, no_context: bool) -> crate::deflate::negotiate::Agreement {
    crate::deflate::negotiate::Agreement {
        server_no_context_takeover: no_context,
        client_no_context_takeover: no_context,
        server_max_window_bits: bits,
        client_max_window_bits: bits,
    }
}

fn agreed(bits: u8, no_context: bool) -> EventKind {
    EventKind::Deflate {
        negotiation: crate::transcript::DeflateNegotiation::Agreed {
            agreement: agreement(bits, no_context),
            response: "permessage-deflate".into(),
            harness_resets: false,
        },
    }
}

/// `events`, with `negotiation` put right after the handshake's events.
fn with_negotiation(events: &[E], at: usize, negotiation: EventKind) -> Transcript {
    let mut t = transcript(events);
    t.events.insert(
        at,
        Event {
            at_us: 0,
            kind: negotiation,
        },
    );
    t
}

fn compressed_text(
    payload: &str,
    max_distance: u32,
    refers_back: bool,
    result: crate::wire::message::InflateResult,
) -> EventKind {
    let mut m = message(payload.as_bytes());
    m.compressed = Some(crate::wire::message::CompressionRecord {
        wire_len: 7,
        max_distance,
        refers_back,
        result,
        by_wsspec: false,
    });
    EventKind::MessageReceived { message: m }
}

#[test]
fn deflate_negotiation_rows() {
    use crate::transcript::DeflateNegotiation as N;
    let echo = [
        E::Handshake,
        E::SentText("x"),
        E::GotText("x"),
        E::SentClose(1000),
        E::GotClose(Some(1000)),
        E::PeerEof,
    ];
    let declined = EventKind::Deflate {
        negotiation: N::Declined {
            passed_over: vec!["offer 1: unknown parameter x".into()],
        },
    };
    let refused = EventKind::Deflate {
        negotiation: N::Refused {
            response: "permessage-deflate; client_max_window_bits=10".into(),
            fault: "client_max_window_bits in the response, but no offer had it".into(),
        },
    };
    // (case, transcript, outcome, words the reason must hold)
    let rows: Vec<(Case, Transcript, Outcome, &str)> = vec![
        // Required and agreed: graded as usual.
        (
            deflate_case("{}", ECHO_EXPECT),
            with_negotiation(&echo, 2, agreed(15, false)),
            Outcome::Ok,
            "as expected",
        ),
        // Required and declined: UNIMPLEMENTED, with what was passed over.
        (
            deflate_case("{}", ECHO_EXPECT),
            with_negotiation(&echo, 2, declined.clone()),
            Outcome::Unimplemented,
            "unknown parameter x",
        ),
        // Must be declined, and was: graded as usual.
        (
            deflate_case("{require: declined}", ECHO_EXPECT),
            with_negotiation(&echo, 2, declined.clone()),
            Outcome::Ok,
            "as expected",
        ),
        // Must be declined, and was agreed to: FAILED.
        (
            deflate_case(
                "{offer: 'permessage-deflate; server_max_window_bits=7', require: declined}",
                ECHO_EXPECT,
            ),
            with_negotiation(&echo, 2, agreed(15, false)),
            Outcome::Failed,
            "must be declined",
        ),
        // Must be declined, and the server answered the invalid offer as if
        // it were valid: FAILED, naming what makes the offer invalid.
        (
            deflate_case(
                "{offer: 'permessage-deflate; server_max_window_bits=7', require: declined}",
                ECHO_EXPECT,
            ),
            with_negotiation(
                &echo,
                2,
                EventKind::Deflate {
                    negotiation: N::Refused {
                        response: "permessage-deflate; server_max_window_bits=7".into(),
                        fault: "extension permessage-deflate was not offered".into(),
                    },
                },
            ),
            Outcome::Failed,
            "must be declined: server_max_window_bits=\"7\" is not a window size",
        ),
        // Must be declined, and the whole handshake was refused: OK.
        (
            deflate_case("{require: declined}", ECHO_EXPECT),
            transcript(&[E::Status(400)]),
            Outcome::Ok,
            "refusing is allowed",
        ),
        // A required negotiation with the handshake refused is graded as a
        // refused handshake, not as declined.
        (
            deflate_case("{}", ECHO_EXPECT),
            transcript(&[E::Status(400)]),
            Outcome::Failed,
            "400",
        ),
        // As the client: a server answer a client must refuse is FAILED,
        // whatever follows.
        (
            deflate_case("{require: any}", ECHO_EXPECT),
            with_negotiation(&echo, 2, refused.clone()),
            Outcome::Failed,
            "must refuse",
        ),
        // `any`: declined is fine.
        (
            deflate_case("{require: any}", ECHO_EXPECT),
            with_negotiation(&echo, 2, declined),
            Outcome::Ok,
            "as expected",
        ),
    ];
    for (i, (case, t, want, words)) in rows.into_iter().enumerate() {
        let v = judge(&case, &t);
        assert_eq!(v.outcome, want, "row {i}: {v:?}");
        assert!(
            v.behavior_reason.contains(words),
            "row {i}: `{words}` not in {}",
            v.behavior_reason
        );
    }
}

#[test]
fn a_case_whose_own_message_breaks_the_agreement_tests_nothing() {
    use crate::wire::message::{CompressionRecord, InflateResult};
    let case = deflate_case("{offer: permessage-deflate}", ECHO_EXPECT);
    let sent_back_reference = |refers_back: bool, max_distance: u32| {
        let mut m = message(b"Hello");
        m.compressed = Some(CompressionRecord {
            wire_len: 5,
            max_distance,
            refers_back,
            result: InflateResult::Complete,
            by_wsspec: false,
        });
        EventKind::MessageSent { message: m }
    };
    let echo = [
        E::Handshake,
        E::GotText("Hello"),
        E::SentClose(1000),
        E::GotClose(Some(1000)),
        E::PeerEof,
    ];
    let with = |negotiation: EventKind, sent: EventKind| {
        let mut t = with_negotiation(&echo, 2, negotiation);
        t.events.insert(
            3,
            Event {
                at_us: 0,
                kind: sent,
            },
        );
        t
    };
    // Context takeover forbidden for wsspec (the server asked for it): the
    // case's back-reference breaks the agreement, nothing to test.
    let v = judge(&case, &with(agreed(15, true), sent_back_reference(true, 5)));
    assert_eq!(v.outcome, Outcome::Unimplemented, "{v:?}");
    assert!(v.behavior_reason.contains("reset its context"), "{v:?}");
    // Beyond the window agreed for wsspec.
    let v = judge(
        &case,
        &with(agreed(9, false), sent_back_reference(false, 600)),
    );
    assert_eq!(v.outcome, Outcome::Unimplemented, "{v:?}");
    assert!(v.behavior_reason.contains("9-bit window"), "{v:?}");
    // Within what was agreed: graded as usual.
    let v = judge(
        &case,
        &with(agreed(15, false), sent_back_reference(true, 5)),
    );
    assert_eq!(v.outcome, Outcome::Ok, "{v:?}");
}

#[test]
fn deflate_client_role_rows() {
    use crate::transcript::DeflateNegotiation as N;
    let refused = EventKind::Deflate {
        negotiation: N::Refused {
            response: "x-unoffered".into(),
            fault: "extension x-unoffered was not offered (RFC 6455 9.1)".into(),
        },
    };
    let case = deflate_case("{respond: x-unoffered, require: refused}", FAIL_EXPECT);
    // The client failed the connection at once: graded by the expectation.
    let t = with_negotiation(&[E::ClientUpgraded, E::PeerEof], 1, refused.clone());
    let v = judge(&case, &t);
    assert_eq!(v.outcome, Outcome::Ok, "{v:?}");
    // The client went on and sent a message: FAILED, saying so.
    let t = with_negotiation(
        &[
            E::ClientUpgraded,
            E::ClientText("hi"),
            E::ClientClose(1000),
            E::PeerEof,
        ],
        1,
        refused,
    );
    let v = judge(&case, &t);
    assert_eq!(v.outcome, Outcome::Failed, "{v:?}");
    assert!(v.behavior_reason.contains("the client went on"), "{v:?}");
    // The client's offer made the answer valid: nothing to refuse.
    let t = with_negotiation(&[E::ClientUpgraded, E::PeerEof], 1, agreed(15, false));
    let v = judge(&case, &t);
    assert_eq!(v.outcome, Outcome::Unimplemented, "{v:?}");
    assert!(
        v.behavior_reason.contains("nothing for it to refuse"),
        "{v:?}"
    );
}

#[test]
fn deflate_frame_and_message_rows() {
    use crate::wire::message::InflateResult;
    let case = deflate_case("{}", ECHO_EXPECT);
    let echo_then = |extra: Vec<EventKind>, negotiation: Option<EventKind>| {
        let mut t = transcript(&[
            E::Handshake,
            E::SentText("x"),
            E::GotText("x"),
            E::SentClose(1000),
            E::GotClose(Some(1000)),
            E::PeerEof,
        ]);
        for (i, k) in extra.into_iter().enumerate() {
            t.events.insert(3 + i, Event { at_us: 0, kind: k });
        }
        if let Some(n) = negotiation {
            t.events.insert(2, Event { at_us: 0, kind: n });
        }
        t
    };
    let rsv_frame = |opcode: u8, rsv: u8| {
        let mut f = frame(opcode, b"x", false);
        f.head.rsv = rsv;
        EventKind::FrameReceived { frame: f }
    };
    // (extra events, negotiation, FAILED?, words)
    let rows: Vec<(Vec<EventKind>, Option<EventKind>, bool, &str)> = vec![
        // RSV1 on a data frame is what compression looks like.
        (vec![rsv_frame(1, 4)], Some(agreed(15, false)), false, ""),
        // ...but not without the extension.
        (vec![rsv_frame(1, 4)], None, true, "no extension negotiated"),
        // RSV1 on a ping or a continuation frame: RFC 7692 6.1.
        (
            vec![rsv_frame(9, 4)],
            Some(agreed(15, false)),
            true,
            "RFC 7692 6.1",
        ),
        (
            vec![rsv_frame(0, 4)],
            Some(agreed(15, false)),
            true,
            "RFC 7692 6.1",
        ),
        // RSV2 is not permessage-deflate's.
        (
            vec![rsv_frame(1, 2)],
            Some(agreed(15, false)),
            true,
            "does not define",
        ),
        // A stream that does not inflate.
        (
            vec![compressed_text(
                "",
                0,
                false,
                InflateResult::Corrupt {
                    detail: "reserved block type 3".into(),
                },
            )],
            Some(agreed(15, false)),
            true,
            "reserved block type 3",
        ),
        // A reference beyond the agreed window, and one just within it.
        (
            vec![compressed_text("y", 513, false, InflateResult::Complete)],
            Some(agreed(9, false)),
            true,
            "beyond the 512-byte window",
        ),
        (
            vec![compressed_text("y", 512, false, InflateResult::Complete)],
            Some(agreed(9, false)),
            false,
            "",
        ),
        // A reference into an earlier message: only under no context takeover.
        (
            vec![compressed_text("y", 5, true, InflateResult::Complete)],
            Some(agreed(15, true)),
            true,
            "no context takeover",
        ),
        (
            vec![compressed_text("y", 5, true, InflateResult::Complete)],
            Some(agreed(15, false)),
            false,
            "",
        ),
    ];
    for (i, (extra, negotiation, fails, words)) in rows.into_iter().enumerate() {
        let t = echo_then(extra, negotiation);
        let f = facts::facts(&t);
        let v = judge(&case, &t);
        if fails {
            assert!(
                f.frame_violations.iter().any(|r| r.contains(words)),
                "row {i}: `{words}` not in {:?}",
                f.frame_violations
            );
            assert_eq!(v.outcome, Outcome::Failed, "row {i}: {v:?}");
        } else {
            assert!(
                f.frame_violations.is_empty(),
                "row {i}: {:?}",
                f.frame_violations
            );
        }
    }
}
