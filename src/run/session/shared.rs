//! The state the driver and the two socket tasks share for one case: the
//! transcript being written ([`Shared::record`], bounded at `--max-events`:
//! past it frames and messages are counted, not kept), the [`PeerState`] the
//! driver's waits watch, whether a close frame has gone out, how many
//! automatic replies wait for the writer, and the [`WriteCmd`]s the driver
//! and the reader send to the writer task. Plain data and its bookkeeping;
//! no socket I/O happens here.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::{oneshot, watch};

use crate::transcript::{Event, EventKind};
use crate::wire::bytelog::hex;

/// The default of `--max-events`: how many events one case keeps. A case of
/// the corpus records at most a few thousand (1000 round trips of 12.x);
/// each event holds at most a 256-byte head of its payload.
pub const DEFAULT_MAX_EVENTS: usize = 50_000;

/// Most automatic replies (pongs) that may wait for the writer: a peer that
/// sends pings and never reads would otherwise queue pongs without bound.
pub(super) const MAX_PENDING_REPLIES: usize = 64;

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
    /// `--max-events`.
    pub(super) max_events: usize,
    /// Frames and messages past `max_events`: counted, not kept.
    pub(super) frames_omitted: AtomicU64,
    pub(super) messages_omitted: AtomicU64,
    /// SHA-256 over the payload digests of the messages not kept, in order.
    pub(super) omitted_digest: Mutex<Sha256>,
    /// Automatic replies queued for the writer and not yet written.
    pub(super) replies_pending: AtomicUsize,
    /// Automatic replies not sent because [`MAX_PENDING_REPLIES`] were
    /// already waiting (the peer does not read).
    pub(super) replies_dropped: AtomicU64,
}

impl Shared {
    /// Records an event. Past `max_events`, frames and messages are only
    /// counted; every other kind (a handful per case) is still kept.
    pub(super) fn record(&self, kind: EventKind) {
        let at_us = self.start.elapsed().as_micros() as u64;
        if let Ok(mut ev) = self.events.lock() {
            if ev.len() >= self.max_events {
                match kind {
                    EventKind::FrameReceived { .. } | EventKind::FrameSent { .. } => {
                        self.frames_omitted.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    EventKind::MessageReceived { message } | EventKind::MessageSent { message } => {
                        self.messages_omitted.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut digest) = self.omitted_digest.lock() {
                            digest.update(message.payload.sha256.as_bytes());
                        }
                        return;
                    }
                    _ => {}
                }
            }
            ev.push(Event { at_us, kind });
        }
    }

    /// The event that says what was counted rather than kept, if anything was.
    pub(super) fn overflow(&self) -> Option<EventKind> {
        let frames = self.frames_omitted.load(Ordering::Relaxed);
        let messages = self.messages_omitted.load(Ordering::Relaxed);
        let replies_dropped = self.replies_dropped.load(Ordering::Relaxed);
        let messages_sha256 = match self.omitted_digest.lock() {
            Ok(d) if messages > 0 => hex(&d.clone().finalize()),
            _ => String::new(),
        };
        (frames + messages + replies_dropped > 0).then_some(EventKind::Overflow {
            frames,
            messages,
            messages_sha256,
            max_events: self.max_events as u64,
            replies_dropped,
        })
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
        /// Told when the writer is done with these bytes (written, or not
        /// after a failed write); the driver only waits for it.
        done: Option<oneshot::Sender<()>>,
        /// Offsets where frames end. Once the peer's close has arrived, the
        /// writer finishes the frame in progress and drops the rest, so that
        /// wsspec's close reply is not stuck behind megabytes the peer no
        /// longer reads. Empty: write everything (the close reply itself).
        frame_ends: Vec<usize>,
        /// An automatic reply, counted in `Shared::replies_pending` until written.
        auto: bool,
    },
    Shutdown(oneshot::Sender<()>),
}
