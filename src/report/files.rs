//! The report files as a reporter: when reports are due it writes
//! results.json, junit.xml and index.html for each run, Autobahn's index.json
//! and per-case files where wanted, and under `serve` the overview of all
//! agents. `run` writes one run where its options say ([`Layout::Single`]);
//! `serve` writes one folder per agent under its report folder
//! ([`Layout::PerAgent`]), named by [`agent_folder`], as `run` does with
//! several targets ([`write_per_agent`]). A file that cannot be
//! written does not stop the others; every failure is returned.

use std::path::{Path, PathBuf};

use super::events::{Reporter, RunEvent};
pub use super::folder_name::agent_folder;
use super::{agents, autobahn, html, json, junit, write_file, write_streamed, WriteError};
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

/// Where each report of one run goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPaths {
    pub html: PathBuf,
    pub junit: PathBuf,
    pub json: PathBuf,
    /// Autobahn's index.json, when asked for.
    pub autobahn_index: Option<PathBuf>,
}

impl ReportPaths {
    /// Every path, the HTML first (what a person opens).
    pub fn all(&self) -> Vec<&PathBuf> {
        let mut all = vec![&self.html, &self.junit, &self.json];
        all.extend(&self.autobahn_index);
        all
    }
}

impl Outputs {
    pub fn paths(&self) -> ReportPaths {
        let pick =
            |o: &Option<PathBuf>, name: &str| o.clone().unwrap_or_else(|| self.dir.join(name));
        ReportPaths {
            html: pick(&self.html, "index.html"),
            junit: pick(&self.junit, "junit.xml"),
            json: pick(&self.json, "results.json"),
            autobahn_index: self.autobahn_dir.as_ref().map(|d| d.join("index.json")),
        }
    }
}

/// The paths of one agent's own reports in the per-agent layout under `dir`.
pub fn agent_outputs(dir: &Path, agent: &str) -> Outputs {
    Outputs {
        dir: dir.join(agent_folder(agent)),
        junit: None,
        html: None,
        json: None,
        autobahn_dir: None,
    }
}

/// How the files of a run's agents are laid out.
#[derive(Debug, Clone)]
pub enum Layout {
    /// One run (`wsspec run`).
    Single(Outputs),
    /// `dir/<agent folder>/` per agent (with its Autobahn per-case files),
    /// `dir/index.json` (Autobahn's, every agent) and `dir/index.html` (the
    /// overview) (`wsspec serve`).
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
                Layout::PerAgent { dir } => write_per_agent(runs, dir, agents::Tested::Clients),
            },
            _ => Ok(()),
        }
    }
}

/// Writes every file report of one run; one that fails does not stop the
/// others, and every failure is returned.
pub fn write_reports(r: &RunResults, out: &Outputs) -> Result<(), WriteError> {
    let paths = out.paths();
    // One report in memory at a time; results.json is never whole in it.
    let mut outcomes = vec![write_streamed(&paths.json, |w| json::write_to(r, w))];
    outcomes.push(write_file(&paths.junit, &junit::render(r)));
    outcomes.push(write_file(&paths.html, &html::render(r)));
    if let Some(dir) = &out.autobahn_dir {
        outcomes.push(write_file(
            &dir.join("index.json"),
            &autobahn::render_index(r),
        ));
        outcomes.push(write_autobahn_case_files(r, dir));
    }
    WriteError::collect(outcomes.into_iter().filter_map(Result::err))
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

/// `serve`'s layout, also `run`'s with several targets: a folder per agent
/// (results.json, junit.xml, index.html and the Autobahn per-case files),
/// one index.json and one overview headed by who was `tested`. An agent
/// whose files cannot be written does not stop the others: every failure is
/// returned, each with its agent.
pub fn write_per_agent(
    runs: &[RunResults],
    dir: &Path,
    tested: agents::Tested,
) -> Result<(), WriteError> {
    let mut failures = Vec::new();
    for r in runs {
        let folder = agent_folder(&r.agent);
        let outputs = agent_outputs(dir, &r.agent);
        let mut outcomes = vec![write_reports(r, &outputs)];
        for (i, c) in r.cases.iter().enumerate() {
            if let Some(id) = &c.autobahn {
                outcomes.push(write_file(
                    &dir.join(serve_report_file(&folder, id)),
                    &autobahn::render_case(r, c, i + 1),
                ));
            }
        }
        if let Err(e) = WriteError::collect(outcomes.into_iter().filter_map(Result::err)) {
            failures.push(e.of_agent(&r.agent));
        }
    }
    let refs: Vec<&RunResults> = runs.iter().collect();
    let index = autobahn::render_index_with(&refs, |r, id| {
        serve_report_file(&agent_folder(&r.agent), id)
    });
    failures.extend(write_file(&dir.join("index.json"), &index).err());
    let columns: Vec<agents::Column> = runs
        .iter()
        .map(|r| agents::Column {
            results: r,
            folder: agent_folder(&r.agent),
        })
        .collect();
    failures.extend(
        write_file(
            &dir.join("index.html"),
            &agents::render_tested(&columns, tested),
        )
        .err(),
    );
    WriteError::collect(failures)
}

/// Under `serve`, an Autobahn per-case file (index.json's `reportfile`) is in
/// its agent's folder: `<folder>/case_<1_2_3>.json`.
fn serve_report_file(folder: &str, case_id: &str) -> String {
    format!("{folder}/{}", autobahn::case_file(case_id))
}
