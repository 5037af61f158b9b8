//! Verdict types: Autobahn's two verdicts per case (behaviour, an
//! [`Outcome`], and closing behaviour, a [`CloseVerdict`]) with a sentence
//! each, and the single outcome derived from them that drives the exit code,
//! JUnit and the summary counts.

use serde::{Deserialize, Serialize};

use crate::case::model::Grade;

/// The closing-behaviour verdict, in Autobahn's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CloseVerdict {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "FAILED")]
    Failed,
    #[serde(rename = "WRONG CODE")]
    WrongCode,
    #[serde(rename = "UNCLEAN")]
    Unclean,
    #[serde(rename = "FAILED BY CLIENT")]
    FailedByClient,
    /// Recorded, not graded (informational cases).
    #[serde(rename = "INFORMATIONAL")]
    Informational,
    /// The case never ran (target unreachable).
    #[serde(rename = "NONE")]
    None,
}

impl CloseVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseVerdict::Ok => "OK",
            CloseVerdict::Failed => "FAILED",
            CloseVerdict::WrongCode => "WRONG CODE",
            CloseVerdict::Unclean => "UNCLEAN",
            CloseVerdict::FailedByClient => "FAILED BY CLIENT",
            CloseVerdict::Informational => "INFORMATIONAL",
            CloseVerdict::None => "NONE",
        }
    }
}

/// The one verdict enum: Autobahn's behaviour verdict, and the single grade
/// a case gets for counting, exit codes and JUnit (its outcome). The grades a
/// case file may give an alternative are a subset of it
/// ([`crate::case::model::Grade`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Outcome {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "NON-STRICT")]
    NonStrict,
    #[serde(rename = "INFORMATIONAL")]
    Informational,
    #[serde(rename = "UNIMPLEMENTED")]
    Unimplemented,
    #[serde(rename = "FAILED")]
    Failed,
    #[serde(rename = "ERROR")]
    Error,
}

impl From<Grade> for Outcome {
    fn from(g: Grade) -> Outcome {
        match g {
            Grade::Ok => Outcome::Ok,
            Grade::NonStrict => Outcome::NonStrict,
            Grade::Informational => Outcome::Informational,
        }
    }
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Ok,
        Outcome::NonStrict,
        Outcome::Informational,
        Outcome::Unimplemented,
        Outcome::Failed,
        Outcome::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "OK",
            Outcome::NonStrict => "NON-STRICT",
            Outcome::Informational => "INFORMATIONAL",
            Outcome::Unimplemented => "UNIMPLEMENTED",
            Outcome::Failed => "FAILED",
            Outcome::Error => "ERROR",
        }
    }

    /// Whether this outcome fails a run (NON-STRICT only under `--strict`).
    pub fn fails(self, strict: bool) -> bool {
        matches!(self, Outcome::Failed | Outcome::Error) || (strict && self == Outcome::NonStrict)
    }
}

/// A judged case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub behavior: Outcome,
    /// What was expected and what was observed, in one sentence.
    pub behavior_reason: String,
    pub close: CloseVerdict,
    pub close_reason: String,
    /// The peer's close code, if it sent one.
    pub remote_close_code: Option<u16>,
    pub outcome: Outcome,
}

impl Verdict {
    /// Combines the two verdicts into the outcome. A close verdict of FAILED,
    /// WRONG CODE or UNCLEAN counts as FAILED; FAILED BY CLIENT as NON-STRICT.
    pub fn outcome_of(behavior: Outcome, close: CloseVerdict) -> Outcome {
        match behavior {
            Outcome::Error => Outcome::Error,
            Outcome::Unimplemented => Outcome::Unimplemented,
            Outcome::Informational => Outcome::Informational,
            Outcome::Failed => Outcome::Failed,
            _ if matches!(
                close,
                CloseVerdict::Failed | CloseVerdict::WrongCode | CloseVerdict::Unclean
            ) =>
            {
                Outcome::Failed
            }
            Outcome::NonStrict => Outcome::NonStrict,
            _ if close == CloseVerdict::FailedByClient => Outcome::NonStrict,
            Outcome::Ok => Outcome::Ok,
        }
    }

    /// The sentence to show for a non-OK outcome: the failing verdict's reason.
    pub fn headline(&self) -> String {
        let close_bad = !matches!(
            self.close,
            CloseVerdict::Ok | CloseVerdict::None | CloseVerdict::Informational
        );
        if self.behavior == Outcome::Ok && close_bad {
            format!(
                "closing behaviour {}: {}",
                self.close.as_str(),
                self.close_reason
            )
        } else {
            self.behavior_reason.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_table() {
        use CloseVerdict as C;
        use Outcome as B;
        let table = [
            (B::Ok, C::Ok, Outcome::Ok),
            (B::Ok, C::FailedByClient, Outcome::NonStrict),
            (B::Ok, C::WrongCode, Outcome::Failed),
            (B::Ok, C::Unclean, Outcome::Failed),
            (B::Ok, C::Failed, Outcome::Failed),
            (B::NonStrict, C::Ok, Outcome::NonStrict),
            (B::NonStrict, C::Failed, Outcome::Failed),
            (B::Informational, C::Failed, Outcome::Informational),
            (B::Failed, C::Ok, Outcome::Failed),
            (B::Error, C::None, Outcome::Error),
        ];
        for (b, c, want) in table {
            assert_eq!(Verdict::outcome_of(b, c), want, "{b:?} + {c:?}");
        }
        assert!(Outcome::NonStrict.fails(true));
        assert!(Outcome::Failed.fails(false));
        assert!(!Outcome::Ok.fails(true));
        assert!(!Outcome::NonStrict.fails(false));
        assert!(!Outcome::Informational.fails(true));
    }

    #[test]
    fn headline_names_the_failing_verdict() {
        let v = |behavior, close| Verdict {
            behavior,
            behavior_reason: "B".into(),
            close,
            close_reason: "C".into(),
            remote_close_code: None,
            outcome: Verdict::outcome_of(behavior, close),
        };
        use CloseVerdict as C;
        use Outcome as B;
        let rows = [
            (B::Ok, C::Unclean, "closing behaviour UNCLEAN: C"),
            (B::Ok, C::WrongCode, "closing behaviour WRONG CODE: C"),
            (
                B::Ok,
                C::FailedByClient,
                "closing behaviour FAILED BY CLIENT: C",
            ),
            (B::Ok, C::Ok, "B"),
            (B::Ok, C::None, "B"),
            (B::Ok, C::Informational, "B"),
            (B::Failed, C::Failed, "B"),
            (B::NonStrict, C::Unclean, "B"),
        ];
        for (b, c, want) in rows {
            assert_eq!(v(b, c).headline(), want, "{b:?} + {c:?}");
        }
    }
}
