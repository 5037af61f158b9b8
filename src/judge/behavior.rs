//! The behaviour verdict: the received events (messages, pongs, markers and
//! stray frames, in order) must equal one of the case's graded alternatives
//! exactly, as in Autobahn. `echo` and `pong` patterns resolve to what we
//! actually sent, read from the transcript. Handshake and framing breaches are
//! graded first, since they make the event comparison meaningless.

use super::facts::{Facts, Observed};
use super::handshake::check_101;
use super::request::{check_http2_request, check_request};
use super::Outcome;
use crate::case::model::{EventPattern, Requirement};
use crate::case::Case;
use crate::transcript::{EventKind, Transcript};
use crate::wire::bytelog::ByteLog;
use crate::wire::Opcode;

/// Breaches that fail a case whatever it expects: a client's broken opening
/// handshake (wsspec as the server), a broken 101 response (wsspec as the
/// client), and frames that break RFC 6455's framing rules.
pub fn hard_failure(t: &Transcript, f: &Facts) -> Option<String> {
    let check = if t.over_http2() {
        check_http2_request
    } else {
        check_request
    };
    if let Some(problem) = t.request_received().and_then(|raw| check(&raw.head)) {
        return Some(problem);
    }
    if let Some((key, earlier)) = t.kinds().find_map(|k| match k {
        EventKind::ClientKeyReused { key, earlier_case } => Some((key, earlier_case)),
        _ => None,
    }) {
        return Some(format!(
            "the client sent the Sec-WebSocket-Key `{key}` again (first sent for case {earlier}); RFC 6455 4.1 asks for a nonce randomly selected for each connection"
        ));
    }
    if f.status == Some(101) && !f.harness_is_server {
        if let Some(problem) = t.response().and_then(|h| check_101(t, h)) {
            return Some(problem);
        }
    }
    let first = f.frame_violations.first()?;
    let more = f.frame_violations.len() - 1;
    let tail = if more > 0 {
        format!(" (and {more} more framing violations)")
    } else {
        String::new()
    };
    Some(format!("{first}{tail}"))
}

/// The grade a deviation earns under the case's requirement level.
pub fn deviation_grade(case: &Case) -> Outcome {
    match case.spec.requirement {
        Requirement::Must => Outcome::Failed,
        Requirement::Should => Outcome::NonStrict,
        Requirement::May => Outcome::Informational,
    }
}

/// The received events, described.
pub fn describe_received(f: &Facts) -> String {
    describe_list(&f.received)
}

/// Grades the received events against `ok`, then `non_strict`; a mismatch is
/// graded by the case's requirement level.
pub fn grade_events(
    case: &Case,
    f: &Facts,
    ok_patterns: &[EventPattern],
    non_strict_patterns: Option<&[EventPattern]>,
) -> (Outcome, String) {
    let observed = describe_list(&f.received);
    let ok = expand(ok_patterns, f);
    if matches(&ok, &f.received) {
        return (Outcome::Ok, format!("observed {observed}, as expected"));
    }
    let non_strict = non_strict_patterns.map(|p| expand(p, f));
    if let Some(ns) = &non_strict {
        if matches(ns, &f.received) {
            return (
                Outcome::NonStrict,
                format!(
                    "expected {}; observed {observed}, which is accepted but not the preferred behaviour",
                    describe_expected(&ok)
                ),
            );
        }
    }
    let grade = deviation_grade(case);
    let alternatives = match &non_strict {
        Some(ns) => format!(
            "{} (or, less strictly, {})",
            describe_expected(&ok),
            describe_expected(ns)
        ),
        None => describe_expected(&ok),
    };
    let timing = match (&f.last_timeout, f.deadline) {
        (_, true) => " before the case deadline".to_string(),
        (Some((what, ms)), _) => format!(" (a wait for {what} gave up after {ms} ms)"),
        _ => String::new(),
    };
    (
        grade,
        format!("expected {alternatives}; observed {observed}{timing}"),
    )
}

/// An expected event with its payload resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expected {
    Is(Observed),
    /// A pattern that refers to something we never sent: never matches.
    Unresolvable(String),
}

fn expand(patterns: &[EventPattern], f: &Facts) -> Vec<Expected> {
    let mut next_message = 0usize;
    let mut next_ping = 0usize;
    let mut out = Vec::new();
    let mut echo = |out: &mut Vec<Expected>| {
        out.push(match f.sent_messages.get(next_message) {
            Some(m) => Expected::Is(Observed::Message {
                opcode: m.opcode,
                payload: m.payload.clone(),
            }),
            None => Expected::Unresolvable(format!(
                "an echo of message #{} (never sent)",
                next_message + 1
            )),
        });
        next_message += 1;
    };
    let mut pong = |out: &mut Vec<Expected>| {
        out.push(match f.sent_pings.get(next_ping) {
            Some(p) => Expected::Is(Observed::Pong(p.clone())),
            None => {
                Expected::Unresolvable(format!("a pong for ping #{} (never sent)", next_ping + 1))
            }
        });
        next_ping += 1;
    };
    for p in patterns {
        match p {
            EventPattern::Echo => echo(&mut out),
            EventPattern::Echoes(n) => (0..*n).for_each(|_| echo(&mut out)),
            EventPattern::Pong => pong(&mut out),
            EventPattern::Pongs(n) => (0..*n).for_each(|_| pong(&mut out)),
            EventPattern::Text(p) => out.push(Expected::Is(Observed::Message {
                opcode: Opcode::TEXT,
                payload: ByteLog::of(&p.bytes()),
            })),
            EventPattern::Binary(p) => out.push(Expected::Is(Observed::Message {
                opcode: Opcode::BINARY,
                payload: ByteLog::of(&p.bytes()),
            })),
            EventPattern::PongOf(p) => {
                out.push(Expected::Is(Observed::Pong(ByteLog::of(&p.bytes()))))
            }
            EventPattern::Marker(m) => out.push(Expected::Is(Observed::Marker(m.clone()))),
        }
    }
    out
}

fn same(e: &Expected, o: &Observed) -> bool {
    match (e, o) {
        (
            Expected::Is(Observed::Message {
                opcode: a,
                payload: p,
            }),
            Observed::Message {
                opcode: b,
                payload: q,
            },
        ) => a == b && p.same_bytes(q),
        (Expected::Is(Observed::Pong(p)), Observed::Pong(q)) => p.same_bytes(q),
        (Expected::Is(Observed::Marker(a)), Observed::Marker(b)) => a == b,
        _ => false,
    }
}

fn matches(expected: &[Expected], received: &[Observed]) -> bool {
    expected.len() == received.len() && expected.iter().zip(received).all(|(e, o)| same(e, o))
}

fn describe_expected(list: &[Expected]) -> String {
    let items: Vec<String> = list
        .iter()
        .map(|e| match e {
            Expected::Is(Observed::Message { opcode, payload }) => {
                format!("{} message {}", opcode.name(), payload.preview(24))
            }
            Expected::Is(o) => o.describe(),
            Expected::Unresolvable(s) => s.clone(),
        })
        .collect();
    join(items)
}

fn describe_list(list: &[Observed]) -> String {
    join(list.iter().map(Observed::describe).collect())
}

fn join(items: Vec<String>) -> String {
    if items.is_empty() {
        return "nothing".into();
    }
    let shown: Vec<String> = items.iter().take(6).cloned().collect();
    let mut s = format!("[{}]", shown.join(", "));
    if items.len() > 6 {
        s.insert_str(s.len() - 1, &format!(", … {} events in all", items.len()));
    }
    s
}
