//! Reports: renderers over one result model ([`crate::results::RunResults`]),
//! driven by one stream of [`RunEvent`]s that `run` and `serve` both emit.
//! The console streams as cases finish (`console.rs`); JUnit XML, the
//! single-file HTML report, results.json and Autobahn's index.json are
//! written when reports are due (`files.rs`). Each format is a renderer
//! here; a new one is a renderer plus a line in [`FileReports`].

pub mod agents;
pub mod autobahn;
pub mod console;
pub mod events;
pub mod files;
pub mod folder_name;
pub mod html;
pub mod json;
pub mod junit;
pub mod sanitize;
pub mod wirelog;

pub use events::{Reporter, Reporters, RunEvent};
pub use files::{
    agent_folder, write_autobahn_case_files, write_reports, FileReports, Layout, Outputs,
};

/// One report file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}{}: {source}", agent.as_deref().map(|a| format!(" (agent {a:?})")).unwrap_or_default())]
pub struct FileError {
    /// The agent whose report it is, under `serve`.
    pub agent: Option<String>,
    pub path: String,
    pub source: std::io::Error,
}

/// Reports that could not be written: at least one file, each with its path
/// and cause. Writers go on past a failure, so this lists all of them.
#[derive(Debug, thiserror::Error)]
#[error("{}", failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct WriteError {
    pub failures: Vec<FileError>,
}

impl WriteError {
    /// Every failure of `errors`, or `Ok` when there are none.
    pub fn collect(errors: impl IntoIterator<Item = WriteError>) -> Result<(), WriteError> {
        let failures: Vec<FileError> = errors.into_iter().flat_map(|e| e.failures).collect();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(WriteError { failures })
        }
    }

    /// The same failures, each marked as `agent`'s.
    pub fn of_agent(mut self, agent: &str) -> WriteError {
        for f in &mut self.failures {
            f.agent = Some(agent.to_string());
        }
        self
    }
}

/// Writes one report file, creating its folder.
pub fn write_file(path: &std::path::Path, text: &str) -> Result<(), WriteError> {
    write_streamed(path, |w| w.write_all(text.as_bytes()))
}

/// Writes one report file through a buffered writer handed to `fill`
/// (so a large report is never held whole in memory), creating its folder.
pub fn write_streamed(
    path: &std::path::Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    use std::io::Write as _;
    let err = |source| WriteError {
        failures: vec![FileError {
            agent: None,
            path: path.display().to_string(),
            source,
        }],
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    let file = std::fs::File::create(path).map_err(err)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
    fill(&mut w).and_then(|()| w.flush()).map_err(err)
}
