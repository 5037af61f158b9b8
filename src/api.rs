//! wsspec as a library: a [`Runner`] tests a WebSocket server from a Rust
//! test, async (`#[tokio::test]`, the current-thread runtime included) or
//! blocking (a plain `#[test]`), and hands back the same [`RunResults`] the
//! command line reports from. It strings together what `wsspec run` does —
//! the embedded corpus (plus case files of your own), the id selection, the
//! suite — without the console or report files, which you can still write
//! from the results ([`crate::report::write_reports`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), wsspec::RunError> {
//! // A server to test: here the embedded reference server, on a free port.
//! let (addr, _server) = wsspec::reference::bind("127.0.0.1:0")
//!     .await
//!     .expect("bind");
//! let results = wsspec::Runner::new(&format!("ws://{addr}/"))?
//!     .cases(["1.1.*", "2.*"])
//!     .exclude(["2.10"])
//!     .run()
//!     .await?;
//! assert!(!results.failed(), "{:?}", results.counts);
//! assert_eq!(results.cases.len(), 8 + 10);
//! # Ok(())
//! # }
//! ```

use std::path::PathBuf;

use crate::case::{self, Case, Role, Selection};
use crate::report::Reporters;
use crate::results::RunResults;
use crate::run::{RunOptions, Target, TargetError};
use crate::suite::{self, SuiteConfig, SuiteError};

/// Why a library run could not give results.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Target(#[from] TargetError),
    /// Case files of your own that do not load, with every error located.
    #[error("case files do not load:\n{}", .0.join("\n"))]
    Cases(Vec<String>),
    #[error("no case matches the selection")]
    NothingSelected,
    #[error(transparent)]
    Suite(#[from] SuiteError),
    #[error("cannot start a runtime for run_blocking: {0}")]
    Runtime(std::io::Error),
}

/// A run against one server, set up step by step.
#[derive(Debug, Clone)]
pub struct Runner {
    target: Target,
    agent: String,
    selection: Selection,
    cases_dirs: Vec<PathBuf>,
    options: RunOptions,
    jobs: usize,
    strict: bool,
}

impl Runner {
    /// A run of every server-role case against `url` (`ws://` or `wss://`),
    /// with the command line's defaults.
    pub fn new(url: &str) -> Result<Runner, RunError> {
        let target = Target::parse(url)?;
        Ok(Runner {
            agent: target.authority(),
            target,
            selection: Selection {
                include: Vec::new(),
                exclude: Vec::new(),
            },
            cases_dirs: Vec::new(),
            options: RunOptions::default(),
            jobs: 16,
            strict: false,
        })
    }

    /// Only the cases these id globs select (`5.*`, `1.1.*`; `--cases`).
    pub fn cases<S: Into<String>>(mut self, globs: impl IntoIterator<Item = S>) -> Runner {
        self.selection
            .include
            .extend(globs.into_iter().map(Into::into));
        self
    }

    /// Not the cases these id globs select (`--exclude`).
    pub fn exclude<S: Into<String>>(mut self, globs: impl IntoIterator<Item = S>) -> Runner {
        self.selection
            .exclude
            .extend(globs.into_iter().map(Into::into));
        self
    }

    /// Case files of your own (files or folders), besides the embedded
    /// corpus (`--cases-dir`).
    pub fn cases_dir(mut self, path: impl Into<PathBuf>) -> Runner {
        self.cases_dirs.push(path.into());
        self
    }

    /// The target's name in the results (default `host:port`).
    pub fn agent(mut self, agent: impl Into<String>) -> Runner {
        self.agent = agent.into();
        self
    }

    /// Every knob of [`RunOptions`] (timeouts, limits, TLS connector...).
    pub fn options(mut self, options: RunOptions) -> Runner {
        self.options = options;
        self
    }

    /// Cases run at once (default 16).
    pub fn jobs(mut self, jobs: usize) -> Runner {
        self.jobs = jobs.max(1);
        self
    }

    /// NON-STRICT counts as failing in [`RunResults::failed`].
    pub fn strict(mut self, strict: bool) -> Runner {
        self.strict = strict;
        self
    }

    /// The cases this run would run, in order.
    pub fn selected(&self) -> Result<Vec<Case>, RunError> {
        let all = case::load::load_with_embedded(&self.cases_dirs)
            .map_err(|errors| RunError::Cases(errors.iter().map(ToString::to_string).collect()))?;
        let selected: Vec<Case> = all
            .into_iter()
            .filter(|c| c.spec.roles.contains(&Role::Server) && self.selection.selects(&c.spec.id))
            .collect();
        if selected.is_empty() {
            return Err(RunError::NothingSelected);
        }
        Ok(selected)
    }

    /// Runs the selected cases; the results (also when cases failed: see
    /// [`RunResults::failed`]). Works on any tokio runtime.
    pub async fn run(&self) -> Result<RunResults, RunError> {
        let cases = self.selected()?;
        let config = SuiteConfig {
            target: self.target.clone(),
            agent: self.agent.clone(),
            options: self.options.clone(),
            jobs: self.jobs,
            strict: self.strict,
            snapshots: None,
            allow: Default::default(),
            strict_allowlist: false,
        };
        Ok(suite::run(&cases, &config, &mut Reporters::new()).await?)
    }

    /// [`Runner::run`] from synchronous code (a plain `#[test]`), on a
    /// runtime of its own; call it outside any async context.
    pub fn run_blocking(&self) -> Result<RunResults, RunError> {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(RunError::Runtime)?
            .block_on(self.run())
    }
}
