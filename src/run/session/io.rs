//! The two tasks that own the socket once the handshake is done. The writer
//! task owns the write half: it performs the driver's writes in pieces (64 KiB,
//! or the step's `chop`), and once the peer's close has arrived finishes the
//! frame in progress, drops the rest and abandons a write that stays blocked.
//! The reader task owns the read half: it decodes everything the peer sends,
//! records it, updates the [`PeerState`](super::shared::PeerState) the waits
//! watch, and answers pings and the peer's close as an ordinary endpoint would
//! (at most [`MAX_PENDING_REPLIES`] pongs queued: past that a peer that does
//! not read gets none, and the transcript counts them). A large message
//! wsspec sent is compared with what the reader reads next, which hashes it
//! only from where it differs: when it is the same message, the echo takes
//! the sent one's digest (`Shared::echoed`), computed on a blocking thread
//! since it was sent, so the reader does not hash it at all.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::io::{ReadHalf, WriteHalf};
use tokio::sync::mpsc;

use super::observer_for;
use super::shared::{Outgoing, Shared, WriteCmd, MAX_PENDING_REPLIES};
use super::PROBE_PREFIX;
use crate::run::build::frame;
use crate::run::Transport;
use crate::transcript::{EventKind, SkippedStep, SocketFailure, SocketOp};
use crate::wire::bytelog::ByteLog;
use crate::wire::decode::Decoder;
use crate::wire::frame::FrameEncoding;
use crate::wire::message::{
    CloseBody, FrameRecord, Inflating, Observation, Observer, DIGEST_PENDING,
};
use crate::wire::{Opcode, Prng};

/// The sending side of the case's transport.
type Sending = WriteHalf<Box<dyn Transport>>;

pub(super) async fn writer_task(
    mut w: Sending,
    mut rx: mpsc::UnboundedReceiver<WriteCmd>,
    shared: Arc<Shared>,
) {
    let mut failed = false;
    // Where the pieces of a frame kept unmasked are masked as they go out.
    let mut scratch = Vec::new();
    while let Some(cmd) = rx.recv().await {
        match cmd {
            WriteCmd::Bytes {
                data,
                chop,
                delay,
                done,
                frame_ends,
                auto,
            } => {
                if !failed {
                    let to = Pieces {
                        data: &data,
                        chop,
                        delay,
                        frame_ends: &frame_ends,
                    };
                    failed = !write_pieces(&mut w, to, &mut scratch, &shared).await;
                }
                if auto {
                    shared.replies_pending.fetch_sub(1, Ordering::SeqCst);
                }
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
            WriteCmd::Shutdown(done) => {
                let _ = w.shutdown().await;
                let _ = done.send(());
                return;
            }
        }
    }
}

/// Largest single write when a step asks for no chopping (at the TCP level the
/// same stream; it lets the writer stop between frames when the peer closes).
const BULK_PIECE: usize = 64 * 1024;

/// How long a blocked write may go on once the peer has closed.
const ABANDON_AFTER: Duration = Duration::from_millis(250);

/// Resolves once the peer has sent its close or ended the connection.
async fn peer_closing(shared: &Shared) {
    let mut rx = shared.state.subscribe();
    let _ = rx.wait_for(|s| s.close_received || s.ended).await;
}

/// One write of the driver's: the bytes, and how to cut them.
struct Pieces<'a> {
    data: &'a Outgoing,
    chop: Option<usize>,
    delay: Option<Duration>,
    frame_ends: &'a [usize],
}

/// Writes `data` in the requested pieces; false once the socket failed (or
/// the write was abandoned), after which nothing more is written.
async fn write_pieces(
    w: &mut Sending,
    Pieces {
        data,
        chop,
        delay,
        frame_ends,
    }: Pieces<'_>,
    scratch: &mut Vec<u8>,
    shared: &Shared,
) -> bool {
    let chopped = chop.filter(|c| *c > 0);
    let size = chopped.unwrap_or(BULK_PIECE);
    let mut pos = 0;
    let mut stop = data.len();
    let mut first = true;
    let mut cut = false;
    while pos < stop {
        if !frame_ends.is_empty() && !cut && shared.peer().close_received {
            cut = true;
            // Finish the frame in progress, drop the frames after it.
            stop = frame_ends
                .iter()
                .copied()
                .find(|&e| e >= pos)
                .unwrap_or(data.len());
            if stop < data.len() {
                shared.record(EventKind::StepSkipped {
                    step: SkippedStep::BytesDropped {
                        unsent: data.len() - stop,
                        total: data.len(),
                    },
                });
            }
            continue;
        }
        if !first && chopped.is_some() {
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
        }
        first = false;
        let end = (pos + size).min(stop);
        let piece = data.piece(pos..end, scratch);
        let write = async {
            w.write_all(piece).await?;
            w.flush().await
        };
        tokio::pin!(write);
        let r = if frame_ends.is_empty() {
            write.await
        } else {
            tokio::select! {
                biased;
                r = &mut write => r,
                _ = peer_closing(shared) => {
                    // The peer has closed; if it no longer reads, give up
                    // rather than block until it drops the connection.
                    match tokio::time::timeout(ABANDON_AFTER, &mut write).await {
                        Ok(r) => r,
                        Err(_) => {
                            shared.record(EventKind::StepSkipped {
                                step: SkippedStep::WriteAbandoned {
                                    unsent: data.len() - pos,
                                    total: data.len(),
                                },
                            });
                            return false;
                        }
                    }
                }
            }
        };
        if let Err(e) = r {
            shared.record(EventKind::SocketError {
                error: SocketFailure::new(SocketOp::Write, e),
            });
            return false;
        }
        pos = end;
    }
    true
}

pub(super) async fn reader_task(
    mut r: ReadHalf<Box<dyn Transport>>,
    leftover: Vec<u8>,
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<WriteCmd>,
    mut prng: Prng,
    inflate: Option<usize>,
) {
    let mut decoder = Decoder::new();
    let mut observer = observer_for(shared.detailed);
    if let Some(max) = inflate {
        observer.inflate(Inflating::new(max));
    }
    // Each read is decoded straight from the read buffer (a 16 MiB echo is
    // not copied a second time on its way to the decoder).
    if !leftover.is_empty() {
        let rx = (&mut decoder, &mut observer, &mut prng);
        feed(&leftover, rx, &shared, &tx);
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let without_close_notify = match r.read(&mut buf).await {
            Ok(0) => false,
            Ok(n) => {
                feed(
                    &buf[..n],
                    (&mut decoder, &mut observer, &mut prng),
                    &shared,
                    &tx,
                );
                continue;
            }
            // TLS whose TCP connection closed without the peer's
            // close_notify: an end, told apart from a reset.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => true,
            Err(e) => {
                shared.record(EventKind::SocketError {
                    error: SocketFailure::new(SocketOp::Read, e),
                });
                break;
            }
        };
        if decoder.mid_frame() {
            shared.record(EventKind::TruncatedFrame);
        }
        if without_close_notify {
            shared.record(EventKind::NoCloseNotify);
        }
        shared.record(EventKind::PeerEof);
        break;
    }
    shared.state.send_modify(|s| s.ended = true);
}

/// Decodes and observes bytes from the peer, acts on what they hold, and
/// notes when they arrived.
fn feed(
    data: &[u8],
    (decoder, observer, prng): (&mut Decoder, &mut Observer, &mut Prng),
    shared: &Shared,
    tx: &mpsc::UnboundedSender<WriteCmd>,
) {
    if let Some(sent) = shared.take_expected() {
        observer.expect(sent);
    }
    let mut observed = Vec::new();
    decoder.feed(data, &mut |ev| observer.on_event(ev, &mut observed));
    // The message that matched what was sent (at most one) has its digest
    // pending: it takes the sent message's.
    let mut matched = observer.take_matched();
    for o in observed {
        match (o, matched.take()) {
            (Observation::Message(message), Some(m))
                if message.payload.sha256 == DIGEST_PENDING =>
            {
                shared.echoed(message, m);
                shared.state.send_modify(|s| s.messages += 1);
            }
            (o, m) => {
                matched = m;
                handle_observation(o, shared, tx, prng);
            }
        }
    }
    shared.state.send_modify(|s| s.last_rx = Instant::now());
}

fn handle_observation(
    o: Observation,
    shared: &Shared,
    tx: &mpsc::UnboundedSender<WriteCmd>,
    prng: &mut Prng,
) {
    match o {
        Observation::Message(message) => {
            shared.record(EventKind::MessageReceived { message });
            shared.state.send_modify(|s| s.messages += 1);
        }
        Observation::Frame(frame) => {
            let op = frame.head.opcode.0;
            let is_probe = op == 10 && frame.payload.head.starts_with(PROBE_PREFIX.as_bytes());
            let reply = match op {
                9 if !shared.close_sent.load(Ordering::SeqCst) && frame.payload.is_complete() => {
                    if shared.replies_pending.load(Ordering::SeqCst) >= MAX_PENDING_REPLIES {
                        // The peer is not reading what is already queued.
                        shared.replies_dropped.fetch_add(1, Ordering::Relaxed);
                        None
                    } else {
                        Some((Opcode::PONG, frame.payload.head.clone()))
                    }
                }
                8 if !shared.close_sent.swap(true, Ordering::SeqCst) => {
                    shared.state.send_modify(|s| s.close_sent = true);
                    Some((Opcode::CLOSE, close_reply(&frame)))
                }
                _ => None,
            };
            if shared.detailed || frame.head.opcode.is_control() {
                shared.record(EventKind::FrameReceived { frame });
            }
            match op {
                8 => shared.state.send_modify(|s| s.close_received = true),
                10 => shared.state.send_modify(|s| {
                    s.pongs += 1;
                    s.probe_pongs += u64::from(is_probe);
                }),
                _ => {}
            }
            if let Some((opcode, body)) = reply {
                let mask = (!shared.server_role).then(|| prng.mask_key());
                let enc = FrameEncoding::simple(opcode, true, mask);
                if let Ok(f) = frame_record(&enc, &body) {
                    shared.record(EventKind::FrameSent { frame: f.0 });
                    shared.replies_pending.fetch_add(1, Ordering::SeqCst);
                    let cmd = WriteCmd::Bytes {
                        data: Outgoing::Bytes(f.1),
                        chop: None,
                        delay: None,
                        done: None,
                        frame_ends: Vec::new(),
                        auto: true,
                    };
                    if tx.send(cmd).is_err() {
                        shared.replies_pending.fetch_sub(1, Ordering::SeqCst);
                    }
                }
            }
        }
    }
}

/// The close frame a well-behaved endpoint answers with (RFC 6455 5.5.1, 7.4):
/// the peer's code echoed when it is one that may appear on the wire, 1002 for a
/// malformed close, 1007 for a reason that is not UTF-8, no body for no code.
fn close_reply(frame: &FrameRecord) -> Vec<u8> {
    let reply = match &frame.close {
        _ if frame.payload.len == 1 => Some(1002),
        Some(c) if !c.reason_utf8 => Some(1007),
        Some(CloseBody {
            code: Some(code), ..
        }) => {
            if matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999) {
                Some(*code)
            } else {
                Some(1002)
            }
        }
        _ => None,
    };
    reply.map(|c| c.to_be_bytes().to_vec()).unwrap_or_default()
}

fn frame_record(
    enc: &FrameEncoding,
    body: &[u8],
) -> Result<(FrameRecord, Vec<u8>), crate::wire::frame::EncodeError> {
    let built = frame(enc.clone(), body.to_vec())?;
    let mut bytes = Vec::with_capacity(built.wire_len());
    built.write_to(&mut bytes)?;
    let close = (enc.opcode == Opcode::CLOSE).then(|| crate::wire::message::CloseBody::parse(body));
    Ok((
        FrameRecord {
            head: built.head,
            payload: ByteLog::of(body),
            close,
        },
        bytes,
    ))
}
