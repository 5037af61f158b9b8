//! The state the driver and the two socket tasks share for one case: the
//! transcript being written ([`Shared::record`], bounded at `--max-events`:
//! past it frames and messages are counted, not kept), the [`PeerState`] the
//! driver's waits watch, whether a close frame has gone out, how many
//! automatic replies wait for the writer, and the [`WriteCmd`]s the driver
//! and the reader send to the writer task, with the bytes they carry
//! ([`Outgoing`]). A large message's records may be kept before its digest
//! is known ([`Shared::record_unfinished`]): the digest is computed by the
//! reader as its echo arrives (the same bytes, compared with what was sent:
//! [`Shared::echoed`]) or else on a blocking thread, and filled in before
//! the transcript is read ([`Shared::settle`]), so the records keep their
//! order and content. Plain data and its bookkeeping; no socket I/O happens here.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::{oneshot, watch};

use crate::transcript::{Event, EventKind};
use crate::wire::bytelog::hex;
use crate::wire::message::{Expected, Matched, MessageDigest, MessageRecord};
use crate::wire::outgoing::OutgoingFrame;

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

impl PeerState {
    /// Nothing from the peer yet.
    pub(super) fn new() -> PeerState {
        PeerState {
            messages: 0,
            pongs: 0,
            probe_pongs: 0,
            close_received: false,
            close_sent: false,
            ended: false,
            last_rx: Instant::now(),
        }
    }
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
    /// Records kept before their digest was known, and its computation.
    pub(super) pending: Mutex<Pending>,
}

/// Digests computed off the sending path, and the message whose echo the
/// reader should compare rather than hash.
#[derive(Default)]
pub(super) struct Pending {
    digests: Vec<PendingDigest>,
    next_id: u64,
    expected: Option<Expected>,
}

/// Kept records waiting for a digest computed off the sending path.
struct PendingDigest {
    id: u64,
    /// Where the records are in `Shared::events` (the sent message's, and
    /// its echo's once read: [`Shared::echoed`]).
    at: Vec<usize>,
    /// The blocking thread computing it, which alone holds the payload.
    work: tokio::task::JoinHandle<MessageDigest>,
}

fn hash_on_a_thread(payload: Arc<Vec<u8>>) -> tokio::task::JoinHandle<MessageDigest> {
    tokio::task::spawn_blocking(move || MessageDigest::of(&payload))
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

    /// Records `kinds` (the records of one message whose digest is not yet
    /// known) one after the other, in one step, when all of them fit under
    /// `max_events`; returns where they are, for [`Shared::digest_later`].
    /// When they do not all fit, nothing is recorded and they come back:
    /// the caller completes them and records them one by one, as counted.
    pub(super) fn record_unfinished(
        &self,
        kinds: Vec<EventKind>,
    ) -> Result<Vec<usize>, Vec<EventKind>> {
        let at_us = self.start.elapsed().as_micros() as u64;
        let Ok(mut ev) = self.events.lock() else {
            return Err(kinds);
        };
        if ev.len() + kinds.len() > self.max_events {
            return Err(kinds);
        }
        let first = ev.len();
        ev.extend(kinds.into_iter().map(|kind| Event { at_us, kind }));
        Ok((first..ev.len()).collect())
    }

    /// Arranges for the digest of `payload`, for the records at `at`, to be
    /// filled in by [`Shared::settle`] at the latest: it is computed on a
    /// blocking thread from now on, while the message is written and its
    /// echo read. With `echo`, the reader is told to compare the next
    /// message it reads with `payload` (the last such message only), and if
    /// that is the same message its record takes the same digest
    /// ([`Shared::echoed`]): each byte is hashed once, off the reader.
    pub(super) fn digest_later(&self, at: Vec<usize>, payload: Arc<Vec<u8>>, echo: bool) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        let id = pending.next_id;
        pending.next_id += 1;
        if echo {
            pending.expected = Some(Expected {
                id,
                payload: payload.clone(),
            });
        }
        let work = hash_on_a_thread(payload);
        pending.digests.push(PendingDigest { id, at, work });
    }

    /// The message the reader should compare the next one it reads with.
    pub(super) fn take_expected(&self) -> Option<Expected> {
        self.pending.lock().ok()?.expected.take()
    }

    /// Records `message`, read and found to be all of `matched` (its digest
    /// pending), so that it takes the digest of the message it echoes. When
    /// that digest is no longer pending (the case settled) or the record
    /// does not fit under `max_events`, it is computed here, and the record
    /// kept or counted as any other.
    pub(super) fn echoed(&self, message: MessageRecord, matched: Matched) {
        let kinds = vec![EventKind::MessageReceived { message }];
        match self.record_unfinished(kinds) {
            Ok(at) => {
                let Ok(mut p) = self.pending.lock() else {
                    return;
                };
                if let Some(entry) = p.digests.iter_mut().find(|d| d.id == matched.expected.id) {
                    entry.at.extend(at);
                } else {
                    drop(p);
                    self.fill_in(&at, &MessageDigest::of(&matched.expected.payload));
                }
            }
            Err(kinds) => {
                let digest = MessageDigest::of(&matched.expected.payload);
                for mut kind in kinds {
                    if let EventKind::MessageReceived { message } = &mut kind {
                        digest.fill_in(message);
                    }
                    self.record(kind);
                }
            }
        }
    }

    fn fill_in(&self, at: &[usize], digest: &MessageDigest) {
        let Ok(mut ev) = self.events.lock() else {
            return;
        };
        for &i in at {
            match ev.get_mut(i).map(|e| &mut e.kind) {
                Some(
                    EventKind::MessageSent { message } | EventKind::MessageReceived { message },
                ) => digest.fill_in(message),
                Some(EventKind::FrameSent { frame }) => digest.fill_in_frame(frame),
                _ => {}
            }
        }
    }

    /// Fills in every digest still missing, waiting for those being
    /// computed and computing those no echo gave. Called before the
    /// transcript is read.
    pub(super) async fn settle(&self) {
        let pending = match self.pending.lock() {
            Ok(mut p) => {
                p.expected = None;
                std::mem::take(&mut p.digests)
            }
            Err(_) => return,
        };
        for p in pending {
            let work = p.work;
            // Fails only if hashing panicked or the runtime is going away;
            // the record then says so rather than show a wrong digest.
            let digest = work.await.unwrap_or_else(|e| MessageDigest {
                sha256: format!("unknown (the digest was not computed: {e})"),
                utf8_valid: false,
            });
            self.fill_in(&p.at, &digest);
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

/// Bytes for the writer: encoded already, or one frame made piece by piece
/// as it is written (its payload masked into the writer's scratch buffer).
pub(super) enum Outgoing {
    Bytes(Vec<u8>),
    Frame(OutgoingFrame),
}

impl Outgoing {
    pub(super) fn len(&self) -> usize {
        match self {
            Outgoing::Bytes(b) => b.len(),
            Outgoing::Frame(f) => f.len(),
        }
    }

    /// The bytes in `range`, made in `scratch` when they are not kept as they
    /// go on the wire.
    pub(super) fn piece<'a>(&'a self, range: Range<usize>, scratch: &'a mut Vec<u8>) -> &'a [u8] {
        match self {
            Outgoing::Bytes(b) => &b[range],
            Outgoing::Frame(f) => {
                f.bytes_into(range, scratch);
                scratch
            }
        }
    }
}

pub(super) enum WriteCmd {
    Bytes {
        data: Outgoing,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::message::{MessageRecord, DIGEST_PENDING};
    use crate::wire::{ByteLog, Opcode};

    fn shared(max_events: usize) -> Shared {
        let (state, _) = watch::channel(PeerState::new());
        Shared {
            start: Instant::now(),
            events: Mutex::new(Vec::new()),
            state,
            close_sent: AtomicBool::new(false),
            detailed: false,
            server_role: false,
            max_events,
            frames_omitted: AtomicU64::new(0),
            messages_omitted: AtomicU64::new(0),
            omitted_digest: Mutex::new(Sha256::new()),
            replies_pending: AtomicUsize::new(0),
            replies_dropped: AtomicU64::new(0),
            pending: Default::default(),
        }
    }

    fn pending_text(payload: &[u8]) -> MessageRecord {
        MessageRecord {
            opcode: Opcode::TEXT,
            frames: 1,
            payload: ByteLog {
                len: payload.len() as u64,
                head: payload[..payload.len().min(16)].to_vec(),
                sha256: DIGEST_PENDING.to_string(),
            },
            utf8_valid: None,
            compressed: None,
        }
    }

    fn messages(s: &Shared) -> Vec<MessageRecord> {
        let events = s.events.lock().expect("not poisoned");
        events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::MessageSent { message } | EventKind::MessageReceived { message } => {
                    Some(message.clone())
                }
                _ => None,
            })
            .collect()
    }

    /// A message recorded before its digest is known ends up with the
    /// record hashing it first would have given, where it was recorded, and
    /// so does its echo (text or binary) when the reader found it the same:
    /// from the thread started when it was sent, or computed on the spot
    /// when the echo comes after the case settled or past `max_events`.
    #[tokio::test]
    async fn digests_filled_in_later_are_the_digests() {
        let payload = Arc::new(b"caf\xc3\xa9 and more".to_vec());
        let mut done = pending_text(&payload);
        MessageDigest::of(&payload).fill_in(&mut done);
        assert_eq!(done.payload, ByteLog::of(&payload));
        assert_eq!(done.utf8_valid, Some(true));
        let binary_done = MessageRecord {
            opcode: Opcode::BINARY,
            utf8_valid: None,
            ..done.clone()
        };
        for how in [
            "echo",
            "binary echo",
            "echo after the end",
            "echo past max events",
            "no echo",
            "no echo expected",
            "a later message",
        ] {
            let s = shared(if how == "echo past max events" {
                2
            } else {
                100
            });
            s.record(EventKind::Marker { name: "a".into() });
            let kinds = vec![EventKind::MessageSent {
                message: pending_text(&payload),
            }];
            let at = s.record_unfinished(kinds).expect("room for it");
            assert_eq!(at, vec![1]);
            s.digest_later(at, payload.clone(), how != "no echo expected");
            let sent = s.take_expected();
            assert!(s.take_expected().is_none(), "held once");
            if how == "a later message" {
                let at = s.record_unfinished(vec![EventKind::MessageSent {
                    message: pending_text(&payload),
                }]);
                s.digest_later(at.expect("room for it"), payload.clone(), true);
            }
            if how == "echo after the end" {
                s.settle().await;
            }
            let mut want = vec![done.clone()];
            if let (Some(expected), true) = (sent, how.contains("echo") && !how.contains("no")) {
                let mut echo = pending_text(&payload);
                if how == "binary echo" {
                    echo.opcode = Opcode::BINARY;
                    want.push(binary_done.clone());
                } else if how != "echo past max events" {
                    want.push(done.clone());
                }
                s.echoed(echo, Matched { expected });
            }
            if how == "a later message" {
                want.push(done.clone());
            }
            s.settle().await;
            assert_eq!(messages(&s), want, "{how}");
            if how == "echo past max events" {
                // counted, with its digest in the digest of what was left out
                let mut omitted = Sha256::new();
                omitted.update(done.payload.sha256.as_bytes());
                let omitted = hex(&omitted.finalize());
                let kept = s.omitted_digest.lock().expect("not poisoned").clone();
                assert_eq!(hex(&kept.finalize()), omitted);
            }
        }
    }

    /// Past `--max-events` nothing is recorded unfinished: the records come
    /// back for the caller to finish and record as counted.
    #[tokio::test]
    async fn past_max_events_nothing_is_recorded_unfinished() {
        let payload = Arc::new(b"x".repeat(1000));
        let s = shared(1);
        s.record(EventKind::Marker { name: "a".into() });
        let kinds = vec![EventKind::MessageSent {
            message: pending_text(&payload),
        }];
        let back = s.record_unfinished(kinds).expect_err("no room");
        assert_eq!(back.len(), 1);
        assert_eq!(s.events.lock().expect("not poisoned").len(), 1);
    }
}
