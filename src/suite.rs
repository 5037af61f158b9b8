//! The orchestrator: strings the stages together for a list of cases. It
//! checks that the target is reachable, runs cases concurrently (`jobs` at a
//! time; performance cases alone, afterwards), judges each transcript, streams
//! each result to the caller as it completes and returns the run's results in
//! case order. No stage calls the next; this function does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};

use crate::case::{Case, Role};
use crate::conclude::conclude;
use crate::results::{CaseResult, RunClock, RunIdentity, RunResults};
use crate::run::{run_case, RunOptions, Target};
use crate::snapshot::SnapshotConfig;
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
    let clock = RunClock::start();
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
    Ok(RunResults::new(
        RunIdentity {
            role: Role::Server,
            target: config.target.url(),
            agent: config.agent.clone(),
            strict: config.strict,
        },
        clock,
        results,
    ))
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
    conclude(case, transcript, config.snapshots.as_ref())
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
