//! `wsspec serve`: the client-testing front door. It speaks Autobahn's
//! fuzzing-server URL protocol, so the client drivers projects already keep
//! work unchanged. [`front_door`] reads each connection's request and answers
//! the protocol's endpoints; each `runCase` connection becomes one case run
//! with wsspec as the server, concluded and kept per agent by the [`ledger`],
//! which feeds the same reporters `run` uses (each agent's files in the folder
//! [`crate::report::agent_folder`] names). [`follow_up`] recognises a client
//! coming back after a refused upgrade; [`report_reply`] tells the driver of
//! `updateReports` which reports could not be written.

pub mod browser_page;
pub mod follow_up;
pub mod front_door;
mod http2_door;
pub mod ledger;
pub mod report_reply;

use crate::allow::AllowList;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::case::wstest_pattern::AgentExclusions;
use crate::case::Case;
use crate::report::Reporters;
use crate::results::RunResults;
use crate::run::{Acceptor, RunOptions};

pub use ledger::{AgentResults, SnapshotsPerAgent};

/// What `serve` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The selected client-role cases, in order (case N is `cases[N-1]`).
    pub cases: Vec<Case>,
    pub options: RunOptions,
    pub strict: bool,
    /// With `--snapshots DIR`: each agent's results are compared with (or,
    /// with `update`, stored as) `DIR/<agent folder>/client/<case>.snap`
    /// (the folder [`crate::report::agent_folder`] names).
    pub snapshots: Option<SnapshotsPerAgent>,
    /// What each accepted connection becomes: TCP as it is, or TLS
    /// ([`crate::tls::TlsAcceptor`]) for `wss://`.
    pub acceptor: Arc<dyn Acceptor>,
    /// Whether the acceptor is TLS (the URL's scheme in reports and output).
    pub secure: bool,
    /// A spec file's `exclude-agent-cases` (`serve --spec`): a `runCase` of
    /// an excluded case for its agent is answered as wstest answers it, an
    /// upgrade and a close, and leaves no result. Empty by default.
    pub agent_exclusions: Arc<AgentExclusions>,
    /// Expected deviations, the same for every agent: the cases they name
    /// are ALLOWED when they deviate.
    pub allow: AllowList,
    /// A stale allow-list entry fails an agent's run.
    pub strict_allowlist: bool,
    /// `--h2`: also serve HTTP/2 with extended CONNECT (RFC 8441), on h2c
    /// with prior knowledge and, under TLS, when ALPN agreed `h2`.
    pub http2: bool,
    /// Stops serving, as a signal does (reports written), once it holds
    /// true: `wsspec browse` when the browser has gone. None: signals only.
    pub stop: Option<watch::Receiver<bool>>,
}

/// What serving came to.
#[derive(Debug)]
pub struct Served {
    /// Every agent's results (also handed to the reporters).
    pub runs: Vec<RunResults>,
    /// Whether some report could not be written at some `updateReports`
    /// (the driver was told which); the CLI exits 4 then.
    pub reports_failed: bool,
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM, or when `caller` turns
/// true; never, where a signal cannot be listened for and there is no caller.
/// What stopped it, for the console: `on a signal` or `as asked`.
async fn stop_signal(caller: Option<watch::Receiver<bool>>) -> &'static str {
    let called = async {
        match caller {
            Some(mut rx) => {
                if rx.wait_for(|stop| *stop).await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    };
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => "on a signal",
        () = terminate => "on a signal",
        () = called => "as asked",
    }
}

/// Serves until an `updateReports` with `shutdownOnComplete=true` arrives,
/// or a signal (SIGINT, SIGTERM) stops it.
/// `on_ready` gets the bound address.
pub async fn serve(
    listen: &str,
    mut config: ServeConfig,
    reporters: Reporters,
    on_ready: impl FnOnce(SocketAddr),
) -> std::io::Result<Served> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (shutdown, mut stop) = watch::channel(false);
    let scheme = if config.secure { "wss" } else { "ws" };
    let ledger = Arc::new(ledger::Ledger::new(
        format!("{scheme}://{addr}/ (wsspec serve)"),
        config.strict,
        (config.allow.clone(), config.strict_allowlist),
        config.cases.len(),
        config.snapshots.clone(),
        reporters,
    ));
    let acceptor = config.acceptor;
    // A client that never finishes its TLS handshake is dropped when its
    // request head would have been (`--handshake-timeout`).
    let handshake_limit = config
        .options
        .handshake_timeout
        .scaled(config.options.timeout_scale.max(1.0));
    let door = Arc::new(front_door::FrontDoor {
        cases: config.cases,
        options: config.options,
        ledger: ledger.clone(),
        shutdown,
        agent_exclusions: config.agent_exclusions,
        http2: config.http2,
    });
    on_ready(addr);
    let signalled = stop_signal(config.stop.take());
    tokio::pin!(signalled);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((tcp, from)) = accepted {
                    let (door, acceptor) = (door.clone(), acceptor.clone());
                    tokio::spawn(async move {
                        match tokio::time::timeout(handshake_limit, acceptor.accept(tcp)).await {
                            Ok(Ok(stream)) => door.connection(stream).await,
                            // Closed before a byte of TLS: a port probe.
                            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
                            Ok(Err(e)) => eprintln!(
                                "wsspec serve: TLS handshake with {from} failed: {}",
                                crate::report::console::terminal_safe(&e.to_string())
                            ),
                            Err(_) => eprintln!(
                                "wsspec serve: {from} did not finish its TLS handshake in time"
                            ),
                        }
                    });
                }
            }
            _ = stop.changed() => break,
            why = &mut signalled => {
                // Stopped from outside (Ctrl-C, or a CI job's SIGTERM): what
                // was run is written and summed up as on `shutdownOnComplete`.
                eprintln!("wsspec serve: stopping {why}; writing the reports");
                if let Err(e) = ledger.reports_due() {
                    for f in &e.failures {
                        eprintln!(
                            "error: {}",
                            crate::report::console::terminal_safe(&f.to_string())
                        );
                    }
                }
                break;
            }
        }
    }
    Ok(Served {
        runs: ledger.finish(),
        reports_failed: ledger.reports_failed(),
    })
}
