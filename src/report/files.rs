//! The report files as a reporter: when reports are due it writes
//! results.json, junit.xml and index.html for each run, Autobahn's index.json
//! and per-case files where wanted, and under `serve` the overview of all
//! agents. `run` writes one run where its options say ([`Layout::Single`]);
//! `serve` writes one folder per agent under its report folder
//! ([`Layout::PerAgent`]).

use std::path::{Path, PathBuf};

use super::events::{Reporter, RunEvent};
use super::{agents, autobahn, html, json, junit, write_file, WriteError};
use crate::results::RunResults;

/// Where each report of a single run goes.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// Default folder for all three.
    pub dir: PathBuf,
    pub junit: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub json: Option<PathBuf>,
    /// Folder for Autobahn's index.json, if wanted.
    pub autobahn_dir: Option<PathBuf>,
}

/// How the files of a run's agents are laid out.
#[derive(Debug, Clone)]
pub enum Layout {
    /// One run (`wsspec run`).
    Single(Outputs),
    /// `dir/<agent>/` per agent, with `dir/index.json` (Autobahn's, every
    /// agent) and `dir/index.html` (the overview) (`wsspec serve`).
    PerAgent { dir: PathBuf },
}

/// Writes the report files whenever reports are due.
pub struct FileReports {
    pub layout: Layout,
}

impl Reporter for FileReports {
    fn on_event(&mut self, event: &RunEvent<'_>) -> Result<(), WriteError> {
        match event {
            RunEvent::ReportsDue { runs } => match &self.layout {
                Layout::Single(out) => runs.iter().try_for_each(|r| write_reports(r, out)),
                Layout::PerAgent { dir } => write_per_agent(runs, dir),
            },
            _ => Ok(()),
        }
    }
}

/// Writes every file report of one run.
pub fn write_reports(r: &RunResults, out: &Outputs) -> Result<(), WriteError> {
    let pick = |o: &Option<PathBuf>, name: &str| o.clone().unwrap_or_else(|| out.dir.join(name));
    write_file(&pick(&out.json, "results.json"), &json::render(r))?;
    write_file(&pick(&out.junit, "junit.xml"), &junit::render(r))?;
    write_file(&pick(&out.html, "index.html"), &html::render(r))?;
    if let Some(dir) = &out.autobahn_dir {
        write_file(&dir.join("index.json"), &autobahn::render_index(r))?;
        write_autobahn_case_files(r, dir)?;
    }
    Ok(())
}

/// Writes the per-case file each index.json entry names (`reportfile`).
pub fn write_autobahn_case_files(r: &RunResults, dir: &Path) -> Result<(), WriteError> {
    for (i, c) in r.cases.iter().enumerate() {
        if let Some(id) = &c.autobahn {
            let name = autobahn::report_file(&r.agent, id);
            write_file(&dir.join(name), &autobahn::render_case(r, c, i + 1))?;
        }
    }
    Ok(())
}

/// `serve`'s layout: a folder per agent, one index.json and one overview.
fn write_per_agent(runs: &[RunResults], dir: &Path) -> Result<(), WriteError> {
    for r in runs {
        write_reports(
            r,
            &Outputs {
                dir: dir.join(agent_folder(&r.agent)),
                junit: None,
                html: None,
                json: None,
                autobahn_dir: None,
            },
        )?;
        write_autobahn_case_files(r, dir)?;
    }
    let refs: Vec<&RunResults> = runs.iter().collect();
    write_file(&dir.join("index.json"), &autobahn::render_index_of(&refs))?;
    let columns: Vec<agents::Column> = runs
        .iter()
        .map(|r| agents::Column {
            results: r,
            folder: agent_folder(&r.agent),
        })
        .collect();
    write_file(&dir.join("index.html"), &agents::render(&columns))
}

/// An agent name as a folder name.
pub fn agent_folder(agent: &str) -> String {
    let s: String = agent
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("agent{s}")
    } else {
        s
    }
}
