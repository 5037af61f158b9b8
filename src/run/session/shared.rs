//! The state the driver and the two socket tasks share for one case: the
//! transcript being written ([`Shared::record`], bounded at `MAX_EVENTS`), the
//! [`PeerState`] the driver's waits watch, whether a close frame has gone out,
//! and the [`WriteCmd`]s the driver and the reader send to the writer task.
//! Plain data and its bookkeeping; no socket I/O happens here.

use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use crate::transcript::{Event, EventKind};

/// Most events one transcript keeps; beyond it frames are counted, not logged.
const MAX_EVENTS: usize = 50_000;

/// What the driver's waits watch.
#[derive(Debug, Clone)]
pub(super) struct PeerState {
    pub(super) messages: u64,
    pub(super) pongs: u64,
    /// Pongs answering a `probe: ping` wait's ping.
    pub(super) probe_pongs: u64,
    pub(super) close_received: bool,
    /// We have sent a close frame (mirrors `Shared::close_sent` for waits).
    pub(super) close_sent: bool,
    pub(super) ended: bool,
    pub(super) last_rx: Instant,
}

pub(super) struct Shared {
    pub(super) start: Instant,
    pub(super) events: Mutex<Vec<Event>>,
    pub(super) state: watch::Sender<PeerState>,
    pub(super) close_sent: AtomicBool,
    pub(super) detailed: bool,
    /// wsspec is the server (testing a client): its frames are unmasked, and
    /// it closes TCP first once the closing handshake is complete.
    pub(super) server_role: bool,
}

impl Shared {
    pub(super) fn record(&self, kind: EventKind) {
        let at_us = self.start.elapsed().as_micros() as u64;
        if let Ok(mut ev) = self.events.lock() {
            if ev.len() < MAX_EVENTS
                || !matches!(
                    kind,
                    EventKind::FrameReceived { .. } | EventKind::FrameSent { .. }
                )
            {
                ev.push(Event { at_us, kind });
            }
        }
    }

    pub(super) fn peer(&self) -> PeerState {
        self.state.borrow().clone()
    }

    pub(super) fn peer_gone(&self) -> bool {
        let s = self.state.borrow();
        s.close_received || s.ended
    }
}

pub(super) enum WriteCmd {
    Bytes {
        data: Vec<u8>,
        chop: Option<usize>,
        delay: Option<Duration>,
        done: Option<oneshot::Sender<bool>>,
        /// Offsets where frames end. Once the peer's close has arrived, the
        /// writer finishes the frame in progress and drops the rest, so that
        /// wsspec's close reply is not stuck behind megabytes the peer no
        /// longer reads. Empty: write everything (the close reply itself).
        frame_ends: Vec<usize>,
    },
    Shutdown(oneshot::Sender<()>),
}
