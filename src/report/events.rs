//! The reporter's input: one stream of events that both front doors emit
//! (`run` through [`crate::suite`], `serve` for each agent), in the manner of
//! cargo-nextest's reporter. A [`Reporter`] turns events into output: the
//! console (`console.rs`), the report files (`files.rs`). Adding a report
//! format means one more reporter in this folder; the front doors do not
//! change.

use crate::case::Case;
use crate::results::{CaseResult, RunResults};

use super::WriteError;

/// Something that happened in a run.
#[derive(Debug, Clone, Copy)]
pub enum RunEvent<'a> {
    /// The run begins: `total` cases are selected.
    RunStarted { total: usize },
    /// A case has started for `agent` (the target's name under `run`).
    CaseStarted { agent: &'a str, case: &'a Case },
    /// A case has been concluded; `done` of `total` for this agent so far.
    CaseFinished {
        agent: &'a str,
        result: &'a CaseResult,
        done: usize,
        total: usize,
    },
    /// The results so far, one run per agent, are to be written out (at the
    /// end of `run`; at every `updateReports` under `serve`).
    ReportsDue { runs: &'a [RunResults] },
    /// Nothing more will come: the final results, one run per agent.
    RunFinished { runs: &'a [RunResults] },
}

/// Turns events into output.
pub trait Reporter: Send {
    /// Handles one event; a report that cannot be written is an error.
    fn on_event(&mut self, event: &RunEvent<'_>) -> Result<(), WriteError>;
}

/// Every reporter of a run, fed the same events in order.
#[derive(Default)]
pub struct Reporters {
    list: Vec<Box<dyn Reporter>>,
}

impl Reporters {
    pub fn new() -> Reporters {
        Reporters::default()
    }

    pub fn with(mut self, reporter: impl Reporter + 'static) -> Reporters {
        self.list.push(Box::new(reporter));
        self
    }

    /// Hands `event` to every reporter; every one sees it, and every
    /// failure of every reporter is returned.
    pub fn emit(&mut self, event: RunEvent<'_>) -> Result<(), WriteError> {
        let outcomes: Vec<Result<(), WriteError>> =
            self.list.iter_mut().map(|r| r.on_event(&event)).collect();
        WriteError::collect(outcomes.into_iter().filter_map(Result::err))
    }
}
