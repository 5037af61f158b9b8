//! One conclusion of a case: its transcript is judged, the verdict and the
//! transcript become a [`CaseResult`], and, when the run keeps snapshots, the
//! observation is compared with the store (NEW and DRIFT change the result,
//! so they are decided here; reporters only render); the run's allow-list
//! ([`crate::allow`]) marks an expected deviation ALLOWED, and excuses snapshot drift an entry names (`drift`), here too. Both front doors, `run`
//! through [`crate::suite`] and [`crate::serve`], conclude every case through
//! [`conclude`], and nothing else judges or snapshots a case. The result keeps
//! at most the first and last events of the transcript
//! ([`Transcript::bound`]); the judge and the snapshot saw all of them.

use crate::allow::AllowList;
use crate::case::Case;
use crate::judge::judge;
use crate::results::CaseResult;
use crate::snapshot::{observe, Normalization, SnapshotConfig, SnapshotStatus};
use crate::transcript::{Transcript, KEEP_HEAD, KEEP_TAIL};

/// Judges `transcript` for `case`, compares it with the snapshot store when
/// there is one, notes what the allow-list says of it, and returns the
/// case's result.
pub fn conclude(
    case: &Case,
    transcript: Transcript,
    snapshots: Option<&SnapshotConfig>,
    allow: &AllowList,
) -> CaseResult {
    let verdict = judge(case, &transcript);
    let snapshot = snapshots.map(|cfg| {
        observe(
            cfg,
            &case.spec.id,
            Normalization {
                timing_dependent: case.spec.timing_dependent,
                compressed_bytes: case
                    .spec
                    .deflate
                    .as_ref()
                    .is_some_and(|d| d.snapshot_compressed),
            },
            &transcript,
            &verdict,
        )
    });
    // Judged, snapshotted and summed up in full; the result keeps a bounded
    // copy.
    let mut result = CaseResult::new(case, verdict, transcript, snapshot);
    result.allowed = allow.allowance(&result.id, result.verdict.outcome);
    if matches!(result.snapshot, Some(SnapshotStatus::Drift { .. })) {
        result.drift_allowed = allow.drift_allowance(&result.id);
    }
    result.transcript.bound(KEEP_HEAD, KEEP_TAIL);
    result
}
