//! The judge: a pure function from a case and its transcript to a verdict.
//! [`facts`] reads what happened; [`handshake`] checks the server's 101 response
//! and compares the handshake with the case's expectation; [`behavior`]
//! compares the received events with the case's graded alternatives; [`close`]
//! grades the closing handshake as Autobahn does; [`request`] checks a
//! client's opening handshake when wsspec is the server. When the primary expectation
//! is not met, the case's `also` alternatives (complete outcomes with their own
//! grade) are tried.

pub mod behavior;
pub mod close;
pub mod deflate;
pub mod facts;
pub mod handshake;
pub mod request;
pub mod verdict;

pub use verdict::{CloseVerdict, Outcome, Verdict};

use crate::case::model::{CloseExpect, EventPattern, HandshakeExpect, Requirement};
use crate::case::Case;
use crate::transcript::{ConnectFailure, EventKind, HandshakeFailure, Transcript};
use facts::Facts;
use handshake::HandshakeGrade;

/// One expectation's view of a transcript.
struct Evaluation {
    behavior: Outcome,
    behavior_reason: String,
    close: CloseVerdict,
    close_reason: String,
}

/// Grades the transcript against one complete expectation.
fn evaluate(
    case: &Case,
    t: &Transcript,
    f: &Facts,
    hs: &HandshakeExpect,
    ok: &[EventPattern],
    non_strict: Option<&[EventPattern]>,
    close_expect: &CloseExpect,
) -> Evaluation {
    match handshake::grade(hs, t, f) {
        HandshakeGrade::Refused(reason) => Evaluation {
            behavior: Outcome::Ok,
            behavior_reason: reason,
            close: CloseVerdict::Ok,
            close_reason: "no WebSocket connection was expected".into(),
        },
        HandshakeGrade::Mismatch(reason) => {
            let (close, close_reason) = if f.status == Some(101) {
                close::grade(close_expect, case, f)
            } else if hs.allows_upgrade() && case.spec.requirement == Requirement::Must {
                // As Autobahn reports a connection that never opened.
                (
                    CloseVerdict::Failed,
                    "the WebSocket opening handshake never completed".into(),
                )
            } else if hs.allows_upgrade() {
                (
                    CloseVerdict::None,
                    "no WebSocket connection was opened".into(),
                )
            } else {
                (
                    CloseVerdict::Ok,
                    "no WebSocket connection was opened".into(),
                )
            };
            Evaluation {
                behavior: behavior::deviation_grade(case),
                behavior_reason: reason,
                close,
                close_reason,
            }
        }
        HandshakeGrade::Upgraded => {
            let (mut behavior, mut behavior_reason) =
                behavior::grade_events(case, f, ok, non_strict);
            let (close, close_reason) = close::grade(close_expect, case, f);
            if behavior != Outcome::Failed {
                if close == CloseVerdict::Failed && close_expect.wrong_closer_fails {
                    behavior = Outcome::Failed;
                    behavior_reason = format!("the wrong endpoint closed: {close_reason}");
                } else if close == CloseVerdict::WrongCode && close_expect.wrong_code_fails {
                    behavior = Outcome::Failed;
                    behavior_reason = format!("wrong close code: {close_reason}");
                }
            }
            Evaluation {
                behavior,
                behavior_reason,
                close,
                close_reason,
            }
        }
    }
}

/// Judges one case.
pub fn judge(case: &Case, transcript: &Transcript) -> Verdict {
    let f = facts::facts(transcript);
    let remote_close_code = f.peer_close.as_ref().and_then(|c| c.code);
    if let Some(err) = &f.connect_error {
        return Verdict {
            behavior: Outcome::Error,
            behavior_reason: match err {
                ConnectFailure::RunTimeout { .. }
                | ConnectFailure::TargetQuiet { .. }
                | ConnectFailure::Interrupted
                | ConnectFailure::NeedsHttp2 => err.to_string(),
                _ => format!("could not connect to the target: {err}"),
            },
            close: CloseVerdict::None,
            close_reason: "the case did not run".into(),
            remote_close_code,
            outcome: Outcome::Error,
        };
    }
    if let Some(HandshakeFailure::HeadTooLarge { limit }) = &f.handshake_error {
        return Verdict {
            behavior: Outcome::Error,
            behavior_reason: format!(
                "the response head passed wsspec's limit of {limit} bytes, so the case cannot be judged (raise --max-header-size)"
            ),
            close: CloseVerdict::None,
            close_reason: "the case did not run".into(),
            remote_close_code,
            outcome: Outcome::Error,
        };
    }
    if f.handshake_error == Some(HandshakeFailure::NoExtendedConnect) {
        // As Autobahn grades an extension the server does not offer: RFC 8441
        // is optional, and a server without it is right not to enable it.
        return Verdict {
            behavior: Outcome::Unimplemented,
            behavior_reason: format!(
                "{}; the server does not offer WebSocket over HTTP/2",
                HandshakeFailure::NoExtendedConnect
            ),
            close: CloseVerdict::None,
            close_reason: "no WebSocket connection was opened".into(),
            remote_close_code,
            outcome: Outcome::Unimplemented,
        };
    }
    if let Some(v) = deflate::negotiation_verdict(case, transcript, &f, remote_close_code) {
        return v;
    }
    let expect = &case.spec.expect;
    let hard = behavior::hard_failure(transcript, &f);
    if let (None, Some(reason)) = (&hard, own_limit(transcript)) {
        return Verdict {
            behavior: Outcome::Error,
            behavior_reason: reason,
            close: CloseVerdict::None,
            close_reason: "not judged: part of the case was not kept".into(),
            remote_close_code,
            outcome: Outcome::Error,
        };
    }
    let mut e = evaluate(
        case,
        transcript,
        &f,
        &expect.handshake,
        &expect.ok,
        expect.non_strict.as_deref(),
        &expect.close,
    );
    if let Some(reason) = &hard {
        e.behavior = Outcome::Failed;
        e.behavior_reason = reason.clone();
    }
    let primary = Verdict::outcome_of(e.behavior, e.close);
    if hard.is_none() && primary != Outcome::Ok {
        for alt in &expect.also {
            let a = evaluate(
                case,
                transcript,
                &f,
                &alt.handshake,
                &alt.events,
                None,
                &alt.close,
            );
            if a.behavior != Outcome::Ok || a.close != CloseVerdict::Ok {
                continue;
            }
            let graded = Outcome::from(alt.grade);
            // A case's explicit alternative outranks the generic grading of a
            // mismatch by requirement level.
            {
                e = Evaluation {
                    behavior: graded,
                    behavior_reason: format!(
                        "{}; observed {} ({}; {})",
                        alt.because,
                        behavior::describe_received(&f),
                        a.behavior_reason,
                        a.close_reason
                    ),
                    close: CloseVerdict::Ok,
                    close_reason: a.close_reason,
                };
                break;
            }
        }
    }
    if case.spec.informational && hard.is_none() {
        e.behavior = Outcome::Informational;
        e.behavior_reason = format!(
            "observed {}; {}",
            handshake::describe(transcript, &f),
            behavior::describe_received(&f)
        );
        e.close_reason = format!("{} (recorded, not graded)", e.close_reason);
        e.close = CloseVerdict::Informational;
    }
    let follow_ups = transcript.follow_ups();
    if let (Some(what), Outcome::Ok) = (follow_ups.first(), e.behavior) {
        // RFC 6455 4.1: a client MAY follow a 3xx redirect and MAY answer a
        // 401 challenge, each with a new opening handshake: allowed, recorded.
        e.behavior = Outcome::Informational;
        e.behavior_reason = format!(
            "{}; then, on a new connection, the client {what} (allowed; recorded)",
            e.behavior_reason
        );
    }
    Verdict {
        outcome: Verdict::outcome_of(e.behavior, e.close),
        behavior: e.behavior,
        behavior_reason: e.behavior_reason,
        close: e.close,
        close_reason: e.close_reason,
        remote_close_code,
    }
}

#[cfg(test)]
mod tests;

/// A case that reached one of wsspec's own limits cannot be judged on what
/// was kept: the reason names the option to raise. (A peer that broke a rule
/// in what was kept is FAILED all the same.)
fn own_limit(t: &Transcript) -> Option<String> {
    t.kinds().find_map(|k| match k {
        EventKind::Overflow {
            frames,
            messages,
            max_events,
            ..
        } if frames + messages > 0 => Some(format!(
            "the case reached wsspec's limit of {max_events} events; {frames} more frames and {messages} more messages were counted, not kept, so the case cannot be judged (raise --max-events)"
        )),
        _ => None,
    })
}
