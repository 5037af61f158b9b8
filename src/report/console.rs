//! The terminal: a progress line while cases run (only on a terminal), one
//! line per case that did not pass with its reason, and the closing summary.
//! Everything a peer controls is shown through `escape_debug`-style quoting so a
//! hostile close reason cannot drive the terminal.

use std::io::Write;

use crate::judge::Outcome;
use crate::results::{CaseResult, RunResults};

/// Streams results to stderr as they complete.
pub struct Console {
    progress: bool,
    verbose: bool,
    strict: bool,
}

/// Makes text safe for a terminal: control characters become escapes.
pub fn terminal_safe(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() && c != '\t' {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

impl Console {
    /// `progress`: draw a progress line (terminals only); `verbose`: a line per case.
    pub fn new(progress: bool, verbose: bool, strict: bool) -> Console {
        Console {
            progress,
            verbose,
            strict,
        }
    }

    /// One case finished.
    pub fn case_done(&self, r: &CaseResult, done: usize, total: usize) {
        let mut err = std::io::stderr().lock();
        if self.progress {
            let _ = write!(err, "\r\x1b[2K");
        }
        let o = r.verdict.outcome;
        let show = self.verbose || o.fails(true) || (self.strict && o == Outcome::NonStrict);
        if show {
            let _ = writeln!(err, "{}", case_line(r));
        }
        match &r.snapshot {
            Some(crate::snapshot::SnapshotStatus::Drift { diff }) => {
                let _ = writeln!(
                    err,
                    "DRIFT         {:<8} {}\n{}",
                    terminal_safe(&r.id),
                    terminal_safe(&r.title),
                    terminal_safe_lines(diff)
                );
            }
            Some(crate::snapshot::SnapshotStatus::New) if self.verbose => {
                let _ = writeln!(
                    err,
                    "NEW           {:<8} {}",
                    terminal_safe(&r.id),
                    terminal_safe(&r.title)
                );
            }
            _ => {}
        }
        if self.progress {
            let _ = write!(err, "[{done}/{total}] {}", terminal_safe(&r.id));
            let _ = err.flush();
        }
    }

    /// Clears the progress line.
    pub fn finish(&self) {
        if self.progress {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

/// Like [`terminal_safe`], keeping line breaks (for diffs).
pub fn terminal_safe_lines(s: &str) -> String {
    s.lines().map(terminal_safe).collect::<Vec<_>>().join("\n")
}

/// `FAILED     2.5    title: reason`.
pub fn case_line(r: &CaseResult) -> String {
    let mut line = format!(
        "{:<13} {:<8} {}",
        r.verdict.outcome.as_str(),
        terminal_safe(&r.id),
        terminal_safe(&r.title)
    );
    if r.verdict.outcome != Outcome::Ok {
        line.push_str(": ");
        line.push_str(&terminal_safe(&r.verdict.headline()));
    }
    line
}

/// The closing summary line.
pub fn summary(r: &RunResults) -> String {
    let parts: Vec<String> = Outcome::ALL
        .iter()
        .map(|o| (o, r.count(*o)))
        .filter(|(o, n)| *n > 0 || matches!(o, Outcome::Ok | Outcome::Failed))
        .map(|(o, n)| format!("{n} {}", o.as_str()))
        .collect();
    format!(
        "{} cases: {} in {:.2} s (target {}, agent {}, corpus {})",
        r.cases.len(),
        parts.join(", "),
        r.wall_ms / 1000.0,
        terminal_safe(&r.target),
        terminal_safe(&r.agent),
        r.corpus_version
    )
}
