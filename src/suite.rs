//! The orchestrator: strings the stages together for a list of cases. It
//! checks that the target is reachable, runs cases concurrently (`jobs` at a
//! time; performance cases alone, afterwards), judges each transcript, streams
//! each result to the caller as it completes and returns the run's results in
//! case order. No stage calls the next; this function does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, Semaphore};

use crate::case::Case;
use crate::judge::judge;
use crate::results::{CaseResult, RunResults};
use crate::run::{run_case, RunOptions, Target};
use crate::snapshot::SnapshotStatus;
use crate::transcript::{ConnectFailure, Event, EventKind, Transcript};

/// How to run a suite.
#[derive(Debug, Clone)]
pub struct SuiteConfig {
    pub target: Target,
    pub agent: String,
    pub options: RunOptions,
    /// Concurrent cases (the work is waiting on I/O, so many more than cores).
    pub jobs: usize,
    pub strict: bool,
    /// Compare each case with its stored snapshot.
    pub snapshots: Option<SnapshotConfig>,
}

/// Where snapshots live and whether this run re-baselines them.
#[derive(Debug, Clone)]
pub struct SnapshotConfig {
    pub dir: std::path::PathBuf,
    /// `server` when wsspec tests a server, `client` under `serve` (the
    /// directory under `dir`).
    pub role: String,
    /// Write observed snapshots as accepted (`.snap`) instead of pending (`.snap.new`).
    pub update: bool,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("cannot reach {target}: {error}")]
    Unreachable { target: String, error: String },
}

/// Runs `cases`; `on_result(result, done, total)` sees each result as it completes.
pub async fn run(
    cases: &[Case],
    config: &SuiteConfig,
    mut on_result: impl FnMut(&CaseResult, usize, usize),
) -> Result<RunResults, SuiteError> {
    let started = Instant::now();
    let started_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    probe(&config.target, &config.options).await?;
    let cases: Arc<Vec<Case>> = Arc::new(cases.to_vec());
    let dead = Arc::new(AtomicBool::new(false));
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, CaseResult)>();
    let (parallel, serial): (Vec<usize>, Vec<usize>) =
        (0..cases.len()).partition(|&i| !cases[i].spec.performance);
    let scheduler = {
        let cases = cases.clone();
        let config = config.clone();
        let dead = dead.clone();
        tokio::spawn(async move {
            let limit = Arc::new(Semaphore::new(config.jobs.max(1)));
            let mut tasks = tokio::task::JoinSet::new();
            for i in parallel {
                let Ok(permit) = limit.clone().acquire_owned().await else {
                    break;
                };
                let (cases, config, dead, tx) =
                    (cases.clone(), config.clone(), dead.clone(), tx.clone());
                tasks.spawn(async move {
                    let r = one(&cases[i], &config, &dead).await;
                    let _ = tx.send((i, r));
                    drop(permit);
                });
            }
            while tasks.join_next().await.is_some() {}
            for i in serial {
                let r = one(&cases[i], &config, &dead).await;
                let _ = tx.send((i, r));
            }
        })
    };
    let total = cases.len();
    let mut slots: Vec<Option<CaseResult>> = vec![None; total];
    let mut done = 0;
    while let Some((i, result)) = rx.recv().await {
        done += 1;
        on_result(&result, done, total);
        slots[i] = Some(result);
    }
    let _ = scheduler.await;
    let results: Vec<CaseResult> = slots.into_iter().flatten().collect();
    Ok(RunResults {
        schema: 1,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        corpus_version: crate::case::CORPUS_VERSION.to_string(),
        role: "server".into(),
        target: config.target.url(),
        agent: config.agent.clone(),
        started_unix,
        wall_ms: started.elapsed().as_secs_f64() * 1000.0,
        strict: config.strict,
        counts: RunResults::tally(&results),
        cases: results,
    })
}

async fn one(case: &Case, config: &SuiteConfig, dead: &AtomicBool) -> CaseResult {
    let transcript = if dead.load(Ordering::SeqCst) {
        Transcript {
            case_id: case.spec.id.clone(),
            events: vec![Event {
                at_us: 0,
                kind: EventKind::ConnectFailed {
                    error: ConnectFailure::TargetGone,
                },
            }],
            duration_us: 0,
            detailed: true,
        }
    } else {
        let t = run_case(case, &config.target, &config.options).await;
        if t.connect_error().is_some() {
            dead.store(true, Ordering::SeqCst);
        }
        t
    };
    let verdict = judge(case, &transcript);
    let mut result = CaseResult::new(case, verdict, transcript);
    if let Some(snap) = &config.snapshots {
        result.snapshot = Some(snapshot_status(case, &result, snap));
    }
    result
}

/// Normalizes a result, compares it with the stored snapshot and writes the
/// observation: `.snap.new` for a change, `.snap` under `update`. A store that
/// cannot be read or written shows as drift with the error, never a panic.
pub fn snapshot_status(case: &Case, result: &CaseResult, cfg: &SnapshotConfig) -> SnapshotStatus {
    use crate::snapshot::{compare, normalize_with, render_snap, Store};
    let store = Store::new(&cfg.dir);
    let id = &case.spec.id;
    let body = normalize_with(result, case.spec.timing_dependent);
    let stored = match store.load(&cfg.role, id) {
        Ok(s) => s.map(|s| s.body),
        Err(e) => {
            return SnapshotStatus::Drift {
                diff: format!("cannot read the stored snapshot: {e}"),
            }
        }
    };
    let status = compare(stored.as_deref(), &body);
    let file = render_snap(
        id,
        &body,
        env!("CARGO_PKG_VERSION"),
        crate::case::CORPUS_VERSION,
    );
    let written = match (&status, cfg.update) {
        (SnapshotStatus::Match, _) => store.discard_new(&cfg.role, id).map(|_| ()),
        (_, true) => store.write_accepted(&cfg.role, id, &file).map(|_| ()),
        (_, false) => store.write_new(&cfg.role, id, &file).map(|_| ()),
    };
    match written {
        Ok(()) if cfg.update => SnapshotStatus::Match,
        Ok(()) => status,
        Err(e) => SnapshotStatus::Drift {
            diff: format!("cannot write the snapshot: {e}"),
        },
    }
}

async fn probe(target: &Target, options: &RunOptions) -> Result<(), SuiteError> {
    let limit = options.connect_timeout.scaled(options.timeout_scale);
    let unreachable = |error: String| SuiteError::Unreachable {
        target: target.url(),
        error,
    };
    match tokio::time::timeout(
        limit,
        tokio::net::TcpStream::connect((target.host.as_str(), target.port)),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable(format!(
            "no connection within {} ms",
            limit.as_millis()
        ))),
    }
}
