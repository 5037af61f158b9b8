//! Behaviour snapshots: a verdict says whether a peer conforms, a snapshot says
//! exactly what it did. This module is pure library code in four parts:
//!
//! - [`normalize`]: a case's transcript and verdict → a short, stable,
//!   human-readable text (no times, ports, keys or durations);
//! - [`snap`]: that text in insta's `.snap` file format (YAML header, `---`, body);
//! - [`store`]: the files on disk, `DIR/<role>/<case-id>.snap`, with pending
//!   changes as `.snap.new`, and review operations (accept, reject, prune);
//! - [`diff`]: stored versus observed → MATCH, NEW or DRIFT with a unified diff;
//! - [`observe`]: one case's observation against the store during a run, the
//!   only place a run reads or writes snapshot files.
//!
//! The rules and the workflow are documented in `docs/snapshots.md`.

pub mod diff;
pub mod normalize;
pub mod observe;
pub mod snap;
pub mod store;

use std::path::{Path, PathBuf};

pub use diff::{compare, unified_diff, SnapshotStatus};
pub use normalize::{normalize, normalize_as, normalize_with, Normalization};
pub use observe::{observe, SnapshotConfig};
pub use snap::{parse_snap, render_snap, Snap};
pub use store::{PendingChange, Store};

/// What can go wrong reading or writing snapshots.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `.snap` text that does not parse (from [`parse_snap`]).
    #[error("line {line}: {message}")]
    Format { line: usize, message: String },
    /// A `.snap` file that does not parse.
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// A file or directory that could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A role or case id that cannot name a file inside the store.
    #[error("{what} `{name}` cannot name a snapshot file")]
    BadName { what: &'static str, name: String },
}

impl Error {
    fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A [`Error::Format`] located in a file.
    fn at(self, path: &Path) -> Error {
        match self {
            Error::Format { line, message } => Error::Invalid {
                path: path.to_path_buf(),
                line,
                message,
            },
            other => other,
        }
    }
}
