//! `wsspec serve`: the client-testing front door. It speaks Autobahn's
//! fuzzing-server URL protocol, so the client drivers projects already keep
//! work unchanged. [`front_door`] reads each connection's request and answers
//! the protocol's endpoints; each `runCase` connection becomes one case run
//! with wsspec as the server, concluded and kept per agent by the [`ledger`],
//! which feeds the same reporters `run` uses (each agent's files in the folder
//! [`crate::report::agent_folder`] names). [`follow_up`] recognises a client
//! coming back after a refused upgrade; [`report_reply`] tells the driver of
//! `updateReports` which reports could not be written.

pub mod follow_up;
pub mod front_door;
pub mod ledger;
pub mod report_reply;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::case::Case;
use crate::report::Reporters;
use crate::results::RunResults;
use crate::run::RunOptions;

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

/// Serves until an `updateReports` with `shutdownOnComplete=true` arrives.
/// `on_ready` gets the bound address.
pub async fn serve(
    listen: &str,
    config: ServeConfig,
    reporters: Reporters,
    on_ready: impl FnOnce(SocketAddr),
) -> std::io::Result<Served> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (shutdown, mut stop) = watch::channel(false);
    let ledger = Arc::new(ledger::Ledger::new(
        format!("ws://{addr}/ (wsspec serve)"),
        config.strict,
        config.cases.len(),
        config.snapshots.clone(),
        reporters,
    ));
    let door = Arc::new(front_door::FrontDoor {
        cases: config.cases,
        options: config.options,
        ledger: ledger.clone(),
        shutdown,
    });
    on_ready(addr);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    tokio::spawn(door.clone().connection(stream));
                }
            }
            _ = stop.changed() => break,
        }
    }
    Ok(Served {
        runs: ledger.finish(),
        reports_failed: ledger.reports_failed(),
    })
}
