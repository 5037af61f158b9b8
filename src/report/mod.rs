//! Reports: renderers over one result model ([`crate::results::RunResults`]).
//! The console streams as cases finish; JUnit XML, the single-file HTML report,
//! results.json and Autobahn's index.json are written once the run ends.

pub mod agents;
pub mod autobahn;
pub mod console;
pub mod html;
pub mod json;
pub mod junit;
pub mod sanitize;
pub mod wirelog;

use std::path::PathBuf;

use crate::results::RunResults;

/// Where each report goes.
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

/// Writes every file report.
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
pub fn write_autobahn_case_files(r: &RunResults, dir: &std::path::Path) -> Result<(), WriteError> {
    for (i, c) in r.cases.iter().enumerate() {
        if let Some(id) = &c.autobahn {
            let name = autobahn::report_file(&r.agent, id);
            write_file(&dir.join(name), &autobahn::render_case(r, c, i + 1))?;
        }
    }
    Ok(())
}
