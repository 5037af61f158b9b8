//! The judge: a pure function from a case and its transcript to a verdict.
//! [`facts`] reads what happened; [`behavior`] compares the received events with
//! the case's graded alternatives; [`close`] grades the closing handshake as
//! Autobahn does; [`handshake`] checks the server's 101 response itself.

pub mod behavior;
pub mod close;
pub mod facts;
pub mod handshake;
pub mod verdict;

pub use verdict::{Behavior, CloseVerdict, Outcome, Verdict};

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
    let (mut behavior, mut behavior_reason) = behavior::grade(case, transcript, &f);
    let (close, close_reason) = close::grade(case, &f);
    let expect = &case.spec.expect.close;
    if behavior != Behavior::Failed && behavior != Behavior::Informational {
        if close == CloseVerdict::Failed && expect.wrong_closer_fails {
            behavior = Behavior::Failed;
            behavior_reason = format!("the wrong endpoint closed: {close_reason}");
        } else if close == CloseVerdict::WrongCode && expect.wrong_code_fails {
            behavior = Behavior::Failed;
            behavior_reason = format!("wrong close code: {close_reason}");
        }
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
