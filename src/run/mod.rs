//! The runner: drives one case over one connection and records what happened.
//! It decides nothing about conformance; it only performs steps, waits for
//! events and writes a transcript. Scheduling many cases is the suite's job.

pub mod build;
pub mod interrupt;
pub mod liveness;
#[cfg(test)]
pub(crate) mod scripted;
pub mod session;
pub mod target;
pub mod transport;

pub use interrupt::Interrupt;
pub use session::run_case;
pub use target::{Target, TargetError};
pub use transport::{
    AcceptedTunnel, Acceptor, Connector, RawAnswer, RawTunnelOpened, RawTunnelRequest,
    StreamControl, TcpAcceptor, TcpConnector, Transport, TunnelConnection, TunnelOpened,
    TunnelRequest, Tunnels,
};

use std::sync::Arc;

use crate::case::model::Millis;

/// The default `max_message_size`: room for the corpus's 16 MiB messages.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;

/// Knobs for running cases.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Multiplies every wait, pause and deadline (slow or remote targets).
    pub timeout_scale: f64,
    /// Changes every key and mask (default 0: the same bytes every run).
    pub seed: u64,
    /// A wait's timeout when the case gives none.
    pub default_wait: Millis,
    /// A case's deadline when it gives none.
    pub default_deadline: Millis,
    pub connect_timeout: Millis,
    pub handshake_timeout: Millis,
    /// Headers added to every handshake (operator's auth, origin...).
    pub extra_headers: Vec<(String, String)>,
    /// The largest message wsspec inflates (and keeps), in bytes; a
    /// compressed message that inflates past it is recorded as such.
    pub max_message_size: usize,
    /// Give up on a target that went quiet (see [`liveness`]): the cases
    /// left are ERROR. `--no-give-up` clears it.
    pub give_up: bool,
    /// A wait also ends after this long without a byte from the peer
    /// (`--stall-timeout`), when its own timeout is longer.
    pub stall_timeout: Millis,
    /// After this long a run starts no more cases (`--run-timeout`); those
    /// left are ERROR.
    pub run_timeout: Option<Millis>,
    /// The largest handshake response head wsspec reads (`--max-header-size`).
    pub max_header_size: usize,
    /// Most events one case keeps (`--max-events`); past it frames and
    /// messages are counted, and the case is ERROR.
    pub max_events: usize,
    /// How connections to a target are opened (TCP unless a test or a
    /// later transport says otherwise).
    pub connector: Arc<dyn Connector>,
    /// Stops the run early when set (Ctrl-C).
    pub interrupt: Interrupt,
    /// Keep trying the first connection this long before the target counts
    /// as unreachable (`--wait-for-target`), for a server still starting.
    pub wait_for_target: Option<Millis>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            timeout_scale: 1.0,
            seed: 0,
            default_wait: Millis(2000),
            default_deadline: Millis(15_000),
            connect_timeout: Millis(5000),
            handshake_timeout: Millis(5000),
            extra_headers: Vec::new(),
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_events: session::DEFAULT_MAX_EVENTS,
            max_header_size: crate::wire::handshake::MAX_HEAD_BYTES,
            run_timeout: None,
            stall_timeout: Millis(20_000),
            give_up: true,
            connector: Arc::new(TcpConnector),
            interrupt: Interrupt::never(),
            wait_for_target: None,
        }
    }
}
