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
pub mod html;
pub mod json;
pub mod junit;
pub mod sanitize;
pub mod wirelog;

pub use events::{Reporter, Reporters, RunEvent};
pub use files::{
    agent_folder, write_autobahn_case_files, write_reports, FileReports, Layout, Outputs,
};

/// A report that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct WriteError {
    pub path: String,
    pub source: std::io::Error,
}

/// Writes one report file, creating its folder.
pub fn write_file(path: &std::path::Path, text: &str) -> Result<(), WriteError> {
    let err = |source| WriteError {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    std::fs::write(path, text).map_err(err)
}
