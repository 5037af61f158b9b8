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
                    E::SwappedAccept => accept_for(KEY)
                        .chars()
                        .map(|c| {
                            if c.is_ascii_lowercase() {
                                c.to_ascii_uppercase()
                            } else {
                                c.to_ascii_lowercase()
                            }
                        })
                        .collect(),
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
            }),
            E::Deadline => push(EventKind::Deadline { after_ms: 5000 }),
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
            "",
        ),
        (
            "bad accept",
            fail_case(),
            vec![BadAccept, PeerEof],
            Outcome::Failed,
            CloseVerdict::Ok,
            "",
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
    for (name, case, events, behavior, close, words) in rows {
        let v = judge(&case, &transcript(&events));
        assert_eq!(
            (v.behavior, v.close),
            (behavior, close),
            "{name}: {} | {}",
            v.behavior_reason,
            v.close_reason
        );
        let reasons = format!("{} | {}", v.behavior_reason, v.close_reason);
        assert!(
            reasons.contains(words),
            "{name}: `{words}` not in: {reasons}"
        );
        assert!(
            !v.behavior_reason.is_empty() && !v.close_reason.is_empty(),
            "{name}: empty reason"
        );
    }
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
