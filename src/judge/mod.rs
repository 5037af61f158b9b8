//! The judge: a pure function from a case and its transcript to a verdict.
//! [`facts`] reads what happened; [`handshake`] checks the server's 101 response
//! itself; [`behavior`] compares the received events with the case's graded
//! alternatives; [`close`] grades the closing handshake as Autobahn does. When
//! the primary expectation is not met, the case's `also` alternatives (complete
//! outcomes with their own grade) are tried.

pub mod behavior;
pub mod close;
pub mod facts;
pub mod handshake;
pub mod verdict;

pub use verdict::{Behavior, CloseVerdict, Outcome, Verdict};

use crate::case::model::Grade;
use crate::case::Case;
use crate::transcript::Transcript;

/// Judges one case.
pub fn judge(case: &Case, transcript: &Transcript) -> Verdict {
    let f = facts::facts(transcript);
    let remote_close_code = f.peer_close.as_ref().and_then(|c| c.code);
    if let Some(err) = &f.connect_error {
        return Verdict {
            behavior: Behavior::Error,
            behavior_reason: format!("could not connect to the target: {err}"),
            close: CloseVerdict::None,
            close_reason: "the case did not run".into(),
            remote_close_code,
            outcome: Outcome::Error,
        };
    }
    let hard_failure = behavior::hard_failure(case, transcript, &f);
    let expect = &case.spec.expect;
    let (mut behavior, mut behavior_reason) = match &hard_failure {
        Some(reason) => (Behavior::Failed, reason.clone()),
        None => behavior::grade_events(case, &f, &expect.ok, expect.non_strict.as_deref()),
    };
    let (mut close, mut close_reason) = close::grade(&expect.close, case, &f);
    if behavior != Behavior::Failed {
        if close == CloseVerdict::Failed && expect.close.wrong_closer_fails {
            behavior = Behavior::Failed;
            behavior_reason = format!("the wrong endpoint closed: {close_reason}");
        } else if close == CloseVerdict::WrongCode && expect.close.wrong_code_fails {
            behavior = Behavior::Failed;
            behavior_reason = format!("wrong close code: {close_reason}");
        }
    }
    let primary = Verdict::outcome_of(behavior, close);
    if hard_failure.is_none() && primary != Outcome::Ok {
        for alt in &expect.also {
            let (b, _) = behavior::grade_events(case, &f, &alt.events, None);
            let (c, c_reason) = close::grade(&alt.close, case, &f);
            if b != Behavior::Ok || c != CloseVerdict::Ok {
                continue;
            }
            let graded = match alt.grade {
                Grade::Ok => Behavior::Ok,
                Grade::NonStrict => Behavior::NonStrict,
                Grade::Informational => Behavior::Informational,
            };
            if Verdict::outcome_of(graded, CloseVerdict::Ok) < primary {
                behavior = graded;
                behavior_reason = format!(
                    "{}; observed {} ({})",
                    alt.because,
                    behavior::describe_received(&f),
                    c_reason
                );
                close = CloseVerdict::Ok;
                close_reason = c_reason;
                break;
            }
        }
    }
    if case.spec.informational && hard_failure.is_none() {
        behavior = Behavior::Informational;
        behavior_reason = format!("observed {}", behavior::describe_received(&f));
        close_reason = format!("{} (recorded, not graded)", close_reason);
        close = CloseVerdict::Informational;
    }
    Verdict {
        outcome: Verdict::outcome_of(behavior, close),
        behavior,
        behavior_reason,
        close,
        close_reason,
        remote_close_code,
    }
}

#[cfg(test)]
mod tests;
