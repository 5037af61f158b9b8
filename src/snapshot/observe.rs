//! One case's observation against the store: the case's transcript and
//! verdict are normalised, compared with the stored snapshot, and the
//! observation is written back (`.snap.new` for a change, `.snap` when the
//! run re-baselines). This is the only code that reads or writes the store
//! during a run; a store that cannot be read or written shows as DRIFT with
//! the error, never a panic.

use std::path::PathBuf;

use super::{compare, normalize_as, render_snap, Normalization, SnapshotStatus, Store};
use crate::judge::Verdict;
use crate::transcript::Transcript;

/// Where a run's snapshots live and whether this run re-baselines them.
#[derive(Debug, Clone)]
pub struct SnapshotConfig {
    pub dir: PathBuf,
    /// The folder under `dir`: `server` when wsspec tests a server,
    /// `<agent>/client` under `serve`.
    pub role: String,
    /// Write observed snapshots as accepted (`.snap`) instead of pending (`.snap.new`).
    pub update: bool,
}

/// Compares one case's observation with its stored snapshot and records it.
pub fn observe(
    cfg: &SnapshotConfig,
    case_id: &str,
    how: Normalization,
    transcript: &Transcript,
    verdict: &Verdict,
) -> SnapshotStatus {
    let store = Store::new(&cfg.dir);
    let body = normalize_as(transcript, verdict, how);
    let stored = match store.load(&cfg.role, case_id) {
        Ok(s) => s.map(|s| s.body),
        Err(e) => {
            return SnapshotStatus::Drift {
                diff: format!("cannot read the stored snapshot: {e}"),
            }
        }
    };
    let status = compare(stored.as_deref(), &body);
    let file = render_snap(
        case_id,
        &body,
        env!("CARGO_PKG_VERSION"),
        crate::case::CORPUS_VERSION,
    );
    let written = match (&status, cfg.update) {
        (SnapshotStatus::Match, _) => store.discard_new(&cfg.role, case_id).map(|_| ()),
        (_, true) => store.write_accepted(&cfg.role, case_id, &file).map(|_| ()),
        (_, false) => store.write_new(&cfg.role, case_id, &file).map(|_| ()),
    };
    match written {
        Ok(()) if cfg.update && status.is_change() => SnapshotStatus::Stored {
            replaced: matches!(status, SnapshotStatus::Drift { .. }),
        },
        Ok(()) => status,
        Err(e) => SnapshotStatus::Drift {
            diff: format!("cannot write the snapshot: {e}"),
        },
    }
}
