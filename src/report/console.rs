//! The terminal, as a reporter: a progress line while cases run (only on a
//! terminal), one line per case that did not pass with its reason, and the
//! closing summary with the snapshot counts. `run` reports on stderr as cases
//! finish and prints the summary on stdout; `serve` prints each failing case
//! with its agent and a summary per agent when it stops.
//! Everything a peer controls is shown through `escape_debug`-style quoting so a
//! hostile close reason cannot drive the terminal.

use std::io::Write;
use std::path::PathBuf;

use super::events::{Reporter, RunEvent};
use super::files::agent_folder;
use super::WriteError;
use crate::judge::Outcome;
use crate::results::{CaseResult, RunResults};
use crate::snapshot::SnapshotStatus;

/// Which front door the console speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// `wsspec run`: stderr while running, the summary on stdout.
    Run,
    /// `wsspec serve`: a line per failing case and a summary per agent.
    Serve,
}

/// Where the run's snapshots are, for the closing lines.
#[derive(Debug, Clone)]
pub struct SnapshotNote {
    pub dir: PathBuf,
    pub update: bool,
}

/// Streams results to the terminal as they complete.
pub struct Console {
    door: Door,
    progress: bool,
    verbose: bool,
    strict: bool,
    snapshots: Option<SnapshotNote>,
    /// Cases selected (for serve's "n of N cases run").
    total: usize,
    /// The report files a run writes, named at the end (`run`); the folder
    /// of each agent's reports (`serve`).
    reports: Vec<PathBuf>,
    reports_dir: Option<PathBuf>,
    /// Outcomes in colour (ANSI), for a terminal.
    colour: bool,
}

/// The most cases the closing recap lists; each failing case was also shown
/// as it finished, so a run failing hundreds does not print them all twice.
pub const RECAP_LINES: usize = 40;

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
    pub fn new(
        door: Door,
        progress: bool,
        verbose: bool,
        strict: bool,
        snapshots: Option<SnapshotNote>,
    ) -> Console {
        Console {
            door,
            progress,
            verbose,
            strict,
            snapshots,
            total: 0,
            reports: Vec::new(),
            reports_dir: None,
            colour: false,
        }
    }

    /// Colours the outcome words (for a terminal; see [`colour_wanted`]).
    pub fn coloured(mut self, colour: bool) -> Console {
        self.colour = colour;
        self
    }

    /// Names these report files after the summary (`run`).
    pub fn naming_reports(mut self, paths: Vec<PathBuf>) -> Console {
        self.reports = paths;
        self
    }

    /// Names each agent's report folder under `dir` in its summary (`serve`).
    pub fn naming_reports_under(mut self, dir: PathBuf) -> Console {
        self.reports_dir = Some(dir);
        self
    }

    /// One case finished under `run`.
    fn case_done(&self, r: &CaseResult, done: usize, total: usize) {
        let mut err = std::io::stderr().lock();
        if self.progress {
            let _ = write!(err, "\r\x1b[2K");
        }
        let o = r.verdict.outcome;
        let show = self.verbose || o.fails(true) || (self.strict && o == Outcome::NonStrict);
        if show {
            let _ = writeln!(err, "{}", case_line_in(r, self.colour));
        }
        match &r.snapshot {
            Some(SnapshotStatus::Drift { .. }) => {
                if let Some(line) = drift_lines(r) {
                    let _ = writeln!(err, "{line}");
                }
            }
            Some(SnapshotStatus::New) if self.verbose => {
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

    /// One case finished under `serve`: its line when it did not pass, and
    /// its snapshot drift with the diff.
    fn agent_case_done(&self, agent: &str, r: &CaseResult) {
        if self.verbose || r.verdict_fails(self.strict) {
            println!(
                "[{}] {}",
                terminal_safe(agent),
                case_line_in(r, self.colour)
            );
        }
        if let Some(lines) = drift_lines(r) {
            println!("[{}] {lines}", terminal_safe(agent));
        }
    }

    /// `run`'s closing lines: the cases that did not pass, in case order
    /// (they were shown as they finished, in completion order), the summary,
    /// what `--strict` did, the snapshot counts and where the reports are.
    fn run_summary(&self, r: &RunResults) {
        let not_passing: Vec<&CaseResult> = r
            .cases
            .iter()
            .filter(|c| c.verdict_fails(self.strict))
            .collect();
        if !not_passing.is_empty() {
            println!("{} not passing, in case order:", cases(not_passing.len()));
            for c in not_passing.iter().take(RECAP_LINES) {
                println!("  {}", case_line_in(c, self.colour));
            }
            if not_passing.len() > RECAP_LINES {
                println!(
                    "  … and {} more (each was shown as it finished; all are in the reports)",
                    not_passing.len() - RECAP_LINES
                );
            }
        }
        let stale = r.stale_patterns();
        if !stale.is_empty() {
            let effect = if r.strict_allowlist {
                "failing the run (--strict-allowlist)"
            } else {
                "pass --strict-allowlist to fail on them"
            };
            println!("stale allow-list entries: none of the cases they name deviated; remove them ({effect}):");
            for glob in &stale {
                let named: Vec<&CaseResult> = r
                    .cases
                    .iter()
                    .filter(|c| c.allowed.as_ref().is_some_and(|a| a.pattern == *glob))
                    .collect();
                let reason = named
                    .first()
                    .and_then(|c| c.allowed.as_ref())
                    .map_or("", |a| a.reason.as_str());
                println!(
                    "  `{}` ({}): {} passed",
                    terminal_safe(glob),
                    terminal_safe(reason),
                    cases(named.len())
                );
            }
        }
        println!("{}", summary(r));
        let non_strict = r.count(Outcome::NonStrict);
        if self.strict && non_strict > 0 {
            println!(
                "--strict: {} NON-STRICT counted as failing",
                cases(non_strict)
            );
        }
        if let Some(t) = r.compression_totals() {
            println!("compression: {t}");
        }
        if let Some((same, new, drift)) = r.snapshot_counts() {
            let update = self.snapshots.as_ref().is_some_and(|s| s.update);
            if update {
                println!("snapshots stored: {new} new, {drift} replaced, {same} unchanged");
            } else {
                println!(
                    "snapshots compared: {same} match, {new} new, {drift} drift{}",
                    drift_allowed(r)
                );
            }
            if !update && new + drift > 0 {
                if let Some(note) = &self.snapshots {
                    println!(
                        "review with `wsspec snapshots review {}`",
                        note.dir.display()
                    );
                }
            }
        }
        if !self.reports.is_empty() {
            let names: Vec<String> = self
                .reports
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            println!("reports: {}", names.join(", "));
        }
    }

    /// `serve`'s closing lines: per agent, cases run and failed, and snapshots.
    fn agent_summary(&self, r: &RunResults) {
        let bad = r
            .cases
            .iter()
            .filter(|c| c.verdict_fails(self.strict))
            .count();
        let allowed = match r.allowed_count() {
            0 => String::new(),
            n => format!(", {n} allowed"),
        };
        println!(
            "agent {}: {} of {} run, {bad} failed{allowed}",
            terminal_safe(&r.agent),
            r.cases.len(),
            cases(self.total)
        );
        let stale = r.stale_patterns();
        if !stale.is_empty() {
            let globs: Vec<String> = stale
                .iter()
                .map(|g| format!("`{}`", terminal_safe(g)))
                .collect();
            let effect = if r.strict_allowlist {
                "failing the run (--strict-allowlist)"
            } else {
                "remove them, or pass --strict-allowlist to fail on them"
            };
            println!(
                "  stale allow-list entries (none of their cases deviated): {}; {effect}",
                globs.join(", ")
            );
        }
        if let Some(dir) = &self.reports_dir {
            let folder = dir.join(agent_folder(&r.agent));
            println!("  reports: {}", folder.join("index.html").display());
        }
        let (Some(note), Some((same, new, drift))) = (&self.snapshots, r.snapshot_counts()) else {
            return;
        };
        if note.update {
            let store = note.dir.join(agent_folder(&r.agent)).join("client");
            println!(
                "  snapshots stored in {}: {new} new, {drift} replaced, {same} unchanged",
                store.display()
            );
        } else {
            let changed = new + drift;
            println!(
                "  snapshots: {same} match, {changed} new or drifted{}",
                drift_allowed(r)
            );
            if changed > 0 {
                println!(
                    "  review with `wsspec snapshots review {}`",
                    note.dir.display()
                );
            }
        }
    }
}

impl Reporter for Console {
    fn on_event(&mut self, event: &RunEvent<'_>) -> Result<(), WriteError> {
        match (self.door, event) {
            (_, RunEvent::RunStarted { total }) => self.total = *total,
            (
                Door::Run,
                RunEvent::CaseFinished {
                    result,
                    done,
                    total,
                    ..
                },
            ) => self.case_done(result, *done, *total),
            (Door::Serve, RunEvent::CaseFinished { agent, result, .. }) => {
                self.agent_case_done(agent, result)
            }
            (Door::Run, RunEvent::ReportsDue { .. }) => self.finish(),
            (Door::Run, RunEvent::RunFinished { runs }) => {
                runs.iter().for_each(|r| self.run_summary(r))
            }
            (Door::Serve, RunEvent::RunFinished { runs }) => {
                runs.iter().for_each(|r| self.agent_summary(r))
            }
            _ => {}
        }
        Ok(())
    }
}

/// Like [`terminal_safe`], keeping line breaks (for diffs).
pub fn terminal_safe_lines(s: &str) -> String {
    s.lines().map(terminal_safe).collect::<Vec<_>>().join("\n")
}

/// `FAILED     2.5    title: reason`.
pub fn case_line(r: &CaseResult) -> String {
    case_line_in(r, false)
}

/// [`case_line`], with the outcome word in its colour when `colour` is set.
pub fn case_line_in(r: &CaseResult, colour: bool) -> String {
    let o = r.verdict.outcome;
    let word = format!("{:<13}", r.label());
    let word = if colour {
        let style = if r.is_allowed() {
            ALLOWED_STYLE
        } else {
            ansi(o)
        };
        format!("\x1b[{style}m{word}\x1b[0m")
    } else {
        word
    };
    let mut line = format!(
        "{word} {:<8} {}",
        terminal_safe(&r.id),
        terminal_safe(&r.title)
    );
    if r.verdict.outcome != Outcome::Ok {
        line.push_str(": ");
        if r.is_allowed() {
            line.push_str(o.as_str());
            line.push_str(", ");
        }
        line.push_str(&terminal_safe(&r.verdict.headline()));
    }
    if let Some(a) = r.allowed.as_ref().filter(|a| a.deviated) {
        line.push_str(&format!(" [allowed: {}]", terminal_safe(&a.reason)));
    }
    line
}

/// A drifted snapshot's line and diff: `DRIFT` when it fails the run,
/// `DRIFT ALLOWED` with the allow-list's reason when an entry excuses it;
/// nothing when the case did not drift.
pub fn drift_lines(r: &CaseResult) -> Option<String> {
    let Some(SnapshotStatus::Drift { diff }) = &r.snapshot else {
        return None;
    };
    let (word, why) = match &r.drift_allowed {
        Some(a) => (
            "DRIFT ALLOWED",
            format!(" [allowed drift: {}]", terminal_safe(&a.reason)),
        ),
        None => ("DRIFT", String::new()),
    };
    Some(format!(
        "{word:<13} {:<8} {}{why}\n{}",
        terminal_safe(&r.id),
        terminal_safe(&r.title),
        terminal_safe_lines(diff)
    ))
}

/// `, N allowed` after the drift count when the allow-list excused some.
fn drift_allowed(r: &RunResults) -> String {
    match r.allowed_drift_count() {
        0 => String::new(),
        n => format!(" ({n} allowed)"),
    }
}

/// The ANSI style of ALLOWED: cyan.
const ALLOWED_STYLE: &str = "36";

/// The ANSI style of an outcome: green, yellow, blue, grey, red, magenta.
fn ansi(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "32",
        Outcome::NonStrict => "33",
        Outcome::Informational => "34",
        Outcome::Unimplemented => "90",
        Outcome::Failed => "1;31",
        Outcome::Error => "1;35",
    }
}

/// Whether to colour: `always`, `never`, or (`auto`) when the stream is a
/// terminal and `NO_COLOR` is not set (<https://no-color.org>).
pub fn colour_wanted(when: &str, terminal: bool) -> bool {
    match when {
        "always" => true,
        "never" => false,
        _ => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// "1 case", "2 cases".
pub fn cases(n: usize) -> String {
    if n == 1 {
        "1 case".to_string()
    } else {
        format!("{n} cases")
    }
}

/// The closing summary line.
pub fn summary(r: &RunResults) -> String {
    let counted = |o: Outcome| {
        r.cases
            .iter()
            .filter(|c| c.verdict.outcome == o && !c.is_allowed())
            .count()
    };
    let mut parts: Vec<String> = Outcome::ALL
        .iter()
        .map(|o| (o, counted(*o)))
        .filter(|(o, n)| *n > 0 || matches!(o, Outcome::Ok | Outcome::Failed))
        .map(|(o, n)| format!("{n} {}", o.as_str()))
        .collect();
    let allowed = r.allowed_count();
    if allowed > 0 {
        parts.push(format!("{allowed} {}", crate::results::ALLOWED));
    }
    format!(
        "{}: {} in {:.2} s (target {}, agent {}, corpus {})",
        cases(r.cases.len()),
        parts.join(", "),
        r.wall_ms / 1000.0,
        terminal_safe(&r.target),
        terminal_safe(&r.agent),
        r.corpus_version
    )
}
