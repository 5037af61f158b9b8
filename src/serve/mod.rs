//! `wsspec serve`: the client-testing front door. It speaks Autobahn's
//! fuzzing-server URL protocol, so the client drivers projects already keep
//! work unchanged. [`front_door`] reads each connection's request and answers
//! the protocol's endpoints; each `runCase` connection becomes one case run
//! with wsspec as the server, concluded and kept per agent by the [`ledger`],
//! which feeds the same reporters `run` uses. [`follow_up`] recognises a
//! client coming back after a refused upgrade.

pub mod follow_up;
pub mod front_door;
pub mod ledger;

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
    /// with `update`, stored as) `DIR/<agent>/client/<case>.snap`.
    pub snapshots: Option<SnapshotsPerAgent>,
}

/// Serves until an `updateReports` with `shutdownOnComplete=true` arrives;
/// returns every agent's results (also handed to `reporters`). `on_ready`
/// gets the bound address.
pub async fn serve(
    listen: &str,
    config: ServeConfig,
    reporters: Reporters,
    on_ready: impl FnOnce(SocketAddr),
) -> std::io::Result<Vec<RunResults>> {
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
                    let in_flight = ledger.in_flight();
                    tokio::spawn(door.clone().connection(stream, in_flight));
                }
            }
            _ = stop.changed() => break,
        }
    }
    Ok(ledger.finish())
}
