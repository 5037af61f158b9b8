//! The orchestrator of `wsspec run`: strings the stages together for a list
//! of cases. It checks that the target is reachable, runs cases concurrently
//! (`jobs` at a time; performance cases alone, afterwards), gives up on a
//! target that stopped accepting connections or went quiet (see
//! [`crate::run::liveness`]) or once `--run-timeout` has passed, concludes each
//! transcript ([`conclude`]), tells the reporters about each case as it starts
//! and finishes, and at the end hands them the run's results in case order.
//! No stage calls the next; this function does.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, Semaphore};

use crate::allow::AllowList;
use crate::case::{Case, Role};
use crate::conclude::conclude;
use crate::report::{Reporters, RunEvent, WriteError};
use crate::results::{CaseResult, RunClock, RunIdentity, RunResults};
use crate::run::liveness::{target_alive, went_quiet, QUIET_STREAK};
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
    /// Expected deviations: the cases they name are ALLOWED when they deviate.
    pub allow: AllowList,
    /// A case the allow-list names that passed fails the run.
    pub strict_allowlist: bool,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("cannot reach {target}: {error}")]
    Unreachable { target: String, error: String },
    #[error(transparent)]
    Reports(#[from] WriteError),
}

/// What the case tasks tell the collector.
enum Progress {
    Started(usize),
    Finished(usize, Box<CaseResult>),
}

/// Runs `cases`, feeding `reporters` as cases start and finish and the
/// results at the end.
pub async fn run(
    cases: &[Case],
    config: &SuiteConfig,
    reporters: &mut Reporters,
) -> Result<RunResults, SuiteError> {
    let clock = RunClock::start();
    probe(&config.target, &config.options).await?;
    reporters.emit(RunEvent::RunStarted { total: cases.len() })?;
    let cases: Arc<Vec<Case>> = Arc::new(cases.to_vec());
    let dead = Arc::new(Gone::default());
    let (tx, mut rx) = mpsc::unbounded_channel::<Progress>();
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
                    let _ = tx.send(Progress::Started(i));
                    let r = one(&cases[i], &config, &dead, clock.at).await;
                    let _ = tx.send(Progress::Finished(i, Box::new(r)));
                    drop(permit);
                });
            }
            while tasks.join_next().await.is_some() {}
            for i in serial {
                let _ = tx.send(Progress::Started(i));
                let r = one(&cases[i], &config, &dead, clock.at).await;
                let _ = tx.send(Progress::Finished(i, Box::new(r)));
            }
        })
    };
    let total = cases.len();
    let mut slots: Vec<Option<CaseResult>> = vec![None; total];
    let mut done = 0;
    while let Some(progress) = rx.recv().await {
        match progress {
            Progress::Started(i) => reporters.emit(RunEvent::CaseStarted {
                agent: &config.agent,
                case: &cases[i],
            })?,
            Progress::Finished(i, result) => {
                done += 1;
                reporters.emit(RunEvent::CaseFinished {
                    agent: &config.agent,
                    result: &result,
                    done,
                    total,
                })?;
                slots[i] = Some(*result);
            }
        }
    }
    let _ = scheduler.await;
    let results: Vec<CaseResult> = slots.into_iter().flatten().collect();
    let run = RunResults::new(
        RunIdentity {
            role: Role::Server,
            target: config.target.url(),
            agent: config.agent.clone(),
            strict: config.strict,
            strict_allowlist: config.strict_allowlist,
        },
        clock,
        results,
    );
    let runs = std::slice::from_ref(&run);
    reporters.emit(RunEvent::ReportsDue { runs })?;
    reporters.emit(RunEvent::RunFinished { runs })?;
    Ok(run)
}

/// What the run knows of a target that stopped answering.
#[derive(Default)]
struct Gone {
    /// Why the cases not yet started will not be (set once).
    failure: OnceLock<ConnectFailure>,
    /// Cases in a row that got nothing from the target.
    quiet_streak: AtomicUsize,
    /// A liveness check is under way.
    checking: AtomicBool,
}

/// Runs one case, unless the target is gone or the run's time is up (then
/// the case gets a transcript that says why it was not started).
async fn one(
    case: &Case,
    config: &SuiteConfig,
    gone: &Gone,
    started: std::time::Instant,
) -> CaseResult {
    let options = &config.options;
    let out_of_time = options
        .run_timeout
        .filter(|limit| started.elapsed() >= limit.scaled(1.0));
    let not_started = match out_of_time {
        _ if options.interrupt.is_set() => Some(ConnectFailure::Interrupted),
        Some(limit) => Some(ConnectFailure::RunTimeout { ms: limit.0 }),
        None if case.spec.http2_only() && options.connector.tunnels().is_none() => {
            Some(ConnectFailure::NeedsHttp2)
        }
        None => gone.failure.get().cloned(),
    };
    let transcript = if let Some(error) = not_started {
        did_not_run(case, error)
    } else {
        // Interrupted while running: the case ends at once (its connection
        // is dropped) and is ERROR, like the cases not started.
        let t = tokio::select! {
            t = run_case(case, &config.target, options) => t,
            () = options.interrupt.wait() => did_not_run(case, ConnectFailure::Interrupted),
        };
        if t.connect_error().is_some() {
            let _ = gone.failure.set(ConnectFailure::TargetGone);
        } else if options.give_up && went_quiet(&t) {
            note_quiet(gone, &config.target, options).await;
        } else {
            gone.quiet_streak.store(0, Ordering::SeqCst);
        }
        t
    };
    // An interrupted case says nothing about the peer: its snapshot is
    // neither compared nor written.
    let interrupted = matches!(
        transcript.connect_error(),
        Some(ConnectFailure::Interrupted)
    );
    let snapshots = config.snapshots.as_ref().filter(|_| !interrupted);
    conclude(case, transcript, snapshots, &config.allow)
}

/// The transcript of a case that did not run (or was cut short) and why.
fn did_not_run(case: &Case, error: ConnectFailure) -> Transcript {
    Transcript {
        case_id: case.spec.id.clone(),
        events: vec![Event {
            at_us: 0,
            kind: EventKind::ConnectFailed { error },
        }],
        duration_us: 0,
        detailed: true,
        omitted: None,
    }
}

/// Counts a quiet case; at [`QUIET_STREAK`] in a row, checks once whether
/// the target is still there, and gives up on it if not.
async fn note_quiet(gone: &Gone, target: &Target, options: &RunOptions) {
    let streak = gone.quiet_streak.fetch_add(1, Ordering::SeqCst) + 1;
    if streak < QUIET_STREAK || gone.checking.swap(true, Ordering::SeqCst) {
        return;
    }
    if target_alive(target, options).await {
        gone.quiet_streak.store(0, Ordering::SeqCst);
    } else {
        let _ = gone.failure.set(ConnectFailure::TargetQuiet {
            cases: streak as u64,
        });
    }
    gone.checking.store(false, Ordering::SeqCst);
}

/// How often `--wait-for-target` tries again.
const PROBE_RETRY: std::time::Duration = std::time::Duration::from_millis(200);

async fn probe(target: &Target, options: &RunOptions) -> Result<(), SuiteError> {
    let limit = options.connect_timeout.scaled(options.timeout_scale);
    let unreachable = |error: String| SuiteError::Unreachable {
        target: target.url(),
        error,
    };
    // With --wait-for-target, a refused or failed attempt is retried until
    // the time is up (a server that is still starting).
    let give_up_at = options
        .wait_for_target
        .map(|w| std::time::Instant::now() + w.scaled(1.0));
    loop {
        // Over HTTP/2 the target must also answer the HTTP/2 preface.
        let reached = async {
            match options.connector.tunnels() {
                Some(tunnels) => tunnels.connection(target).await.map(drop),
                None => options.connector.connect(target).await.map(drop),
            }
        };
        let error = match tokio::time::timeout(limit, reached).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no connection within {} ms", limit.as_millis()),
        };
        match give_up_at {
            Some(at) if std::time::Instant::now() < at && !options.interrupt.is_set() => {
                tokio::time::sleep(PROBE_RETRY).await;
            }
            Some(_) => {
                return Err(unreachable(format!(
                    "{error} (still, after --wait-for-target)"
                )))
            }
            None => return Err(unreachable(error)),
        }
    }
}
