//! One case over one TCP connection. The driver runs the case's steps in order;
//! a reader task decodes everything the peer sends (answering pings and the
//! peer's close as an ordinary endpoint would); a writer task owns the socket's
//! write half so that neither side ever blocks the other. Every wait ends the
//! moment its event arrives; all of it is recorded in a [`Transcript`]. This
//! file holds the entry points, the case deadline, the `Session` and its step
//! loop and shutdown; the handshake, sending, waiting, the socket tasks and the
//! state they share live in the submodules.

mod deflate;
mod handshake;
mod io;
mod raw_tunnel;
mod send;
mod shared;
#[cfg(test)]
mod tests;
mod tunnel;
mod wait;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};

use self::io::{reader_task, writer_task};
use self::send::writes_for;
pub use self::shared::DEFAULT_MAX_EVENTS;
use self::shared::{PeerState, Shared, WriteCmd};
use super::{RunOptions, Target, Transport};
use crate::case::model::Step;
use crate::case::payload_kinds::PayloadKind;
use crate::case::Case;
use crate::deflate::compress::MessageDeflater;
use crate::transcript::{EventKind, HarnessClose, SkippedStep, StepName, Transcript};
use crate::wire::bytelog::{ByteLog, DEFAULT_HEAD};
use crate::wire::message::{Inflating, Observer};
use crate::wire::{Opcode, Prng};

/// The payload of a `probe: ping` wait's ping starts with this, then a number.
const PROBE_PREFIX: &str = "wsspec-probe-";

/// Runs one case against a server target.
pub async fn run_case(case: &Case, target: &Target, opts: &RunOptions) -> Transcript {
    run_with(case, opts, false, |session| Box::pin(session.drive(target))).await
}

/// Runs one case with wsspec as the server, on a connection whose request
/// head (`request`, up to its blank line) has been read; `leftover` holds the
/// bytes that followed it.
pub async fn run_case_accepted(
    case: &Case,
    stream: Box<dyn Transport>,
    request: Vec<u8>,
    leftover: Vec<u8>,
    opts: &RunOptions,
) -> Transcript {
    run_with(case, opts, true, move |session| {
        Box::pin(session.drive_accepted(stream, request, leftover))
    })
    .await
}

/// Runs one case with wsspec as the server on a WebSocket stream a client
/// has asked to open (RFC 8441), answering its request with 200.
pub async fn run_case_tunneled(
    case: &Case,
    tunnel: Box<dyn super::AcceptedTunnel>,
    opts: &RunOptions,
) -> Transcript {
    run_with(case, opts, true, move |session| {
        Box::pin(session.drive_tunneled(tunnel))
    })
    .await
}

/// The transcript of a case whose request never became a WebSocket (wsspec
/// as the server over HTTP/2, the request dropped below the session as
/// malformed): the stream, the request as received (`request`, its lines),
/// and why wsspec ended it. Nothing of the case ran.
pub fn request_dropped(
    case: &Case,
    stream_id: u32,
    request: &[u8],
    ended: HarnessClose,
) -> Transcript {
    let events = [
        EventKind::Http2Stream { id: stream_id },
        EventKind::RequestReceived {
            raw: handshake::log_all(request),
        },
        EventKind::HarnessClosed { reason: ended },
    ];
    Transcript {
        case_id: case.spec.id.clone(),
        events: events
            .into_iter()
            .map(|kind| crate::transcript::Event { at_us: 0, kind })
            .collect(),
        duration_us: 0,
        detailed: !case.spec.performance,
        omitted: None,
    }
}

type Drive<'s> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 's>>;

async fn run_with<'a, F>(
    case: &'a Case,
    opts: &'a RunOptions,
    server_role: bool,
    drive: F,
) -> Transcript
where
    F: for<'s> FnOnce(&'s mut Session<'a>) -> Drive<'s>,
{
    let detailed = !case.spec.performance;
    let (state_tx, _) = watch::channel(PeerState::new());
    let shared = Arc::new(Shared {
        start: Instant::now(),
        events: Mutex::new(Vec::new()),
        state: state_tx,
        close_sent: AtomicBool::new(false),
        detailed,
        server_role,
        max_events: opts.max_events,
        frames_omitted: AtomicU64::new(0),
        messages_omitted: AtomicU64::new(0),
        omitted_digest: Mutex::new(<sha2::Sha256 as sha2::Digest>::new()),
        replies_pending: AtomicUsize::new(0),
        replies_dropped: AtomicU64::new(0),
        pending: Default::default(),
    });
    let deadline = case
        .spec
        .timeout
        .unwrap_or(opts.default_deadline)
        .scaled(opts.timeout_scale);
    let mut session = Session {
        shared: shared.clone(),
        case,
        opts,
        prng: Prng::for_case(&case.spec.id, opts.seed),
        writer: None,
        writer_task: None,
        reader: None,
        out_observer: observer_for(detailed),
        agreed: None,
        unagreed_deflater: None,
        sample_sends: HashMap::new(),
        messages_sent: 0,
        pings_sent: 0,
        probes_sent: 0,
        http2_control: None,
    };
    let finished = tokio::time::timeout(deadline, drive(&mut session)).await;
    if finished.is_err() {
        shared.record(EventKind::Deadline {
            after_ms: deadline.as_millis() as u64,
        });
    }
    session.close_down(finished.is_err()).await;
    shared.settle().await;
    if let Some(overflow) = shared.overflow() {
        shared.record(overflow);
    }
    let events = shared.events.lock().map(|e| e.clone()).unwrap_or_default();
    Transcript {
        case_id: case.spec.id.clone(),
        events,
        duration_us: shared.start.elapsed().as_micros() as u64,
        detailed,
        omitted: None,
    }
}

struct Session<'a> {
    shared: Arc<Shared>,
    case: &'a Case,
    opts: &'a RunOptions,
    prng: Prng,
    writer: Option<mpsc::UnboundedSender<WriteCmd>>,
    /// The writer task, aborted if it is still blocked when the case ends.
    writer_task: Option<tokio::task::JoinHandle<()>>,
    reader: Option<tokio::task::JoinHandle<()>>,
    out_observer: Observer,
    /// permessage-deflate as agreed, for wsspec's own messages.
    agreed: Option<deflate::Agreed>,
    /// The compressor for `compress: true` when nothing was agreed.
    unagreed_deflater: Option<MessageDeflater>,
    /// How many times each sample payload (kind, length) has been sent, so
    /// that each send takes the next slice.
    sample_sends: HashMap<(PayloadKind, usize), usize>,
    messages_sent: u64,
    pings_sent: u64,
    probes_sent: u64,
    /// (HTTP/2, wsspec's own) The handle for `http2:` steps.
    http2_control: Option<Box<dyn super::StreamControl>>,
}

impl Session<'_> {
    async fn run_steps(&mut self, stream: Box<dyn Transport>, leftover: Vec<u8>) {
        let (rd, wr) = tokio::io::split(stream);
        let (tx, rx) = mpsc::unbounded_channel();
        self.writer_task = Some(tokio::spawn(writer_task(wr, rx, self.shared.clone())));
        let inflate = self.agreed.is_some().then_some(self.opts.max_message_size);
        if let Some(max) = inflate {
            self.out_observer.inflate(Inflating::new(max));
        }
        self.reader = Some(tokio::spawn(reader_task(
            rd,
            leftover,
            self.shared.clone(),
            tx.clone(),
            Prng::for_case(&format!("{}/replies", self.case.spec.id), self.opts.seed),
            inflate,
        )));
        self.writer = Some(tx);
        if self.deflate_unavailable() {
            let close = self.close_frame(&crate::case::model::CloseStep {
                code: Some(1000),
                reason: crate::case::model::Payload::Empty,
            });
            self.send_frames(close, None, None).await;
            self.wait(&crate::case::model::Wait {
                what: crate::case::model::WaitFor::End,
                silence: None,
                timeout: None,
                probe: None,
            })
            .await;
            return;
        }
        for step in &self.case.spec.steps {
            self.step(step).await;
        }
    }

    fn record(&self, kind: EventKind) {
        self.shared.record(kind);
    }

    async fn step(&mut self, step: &Step) {
        let sends = matches!(
            step,
            Step::Send(_)
                | Step::SendFrames(_)
                | Step::SendRaw(_)
                | Step::Close(_)
                | Step::Marker(_)
        );
        if sends && self.shared.peer_gone() {
            self.record(EventKind::StepSkipped {
                step: SkippedStep::Step(describe(step)),
            });
            return;
        }
        match step {
            Step::Send(spec) => {
                let frames = self.build(spec);
                match spec.slice.as_deref() {
                    None => self.send_frames(frames, spec.chop, spec.delay).await,
                    Some(range) => self.send_slice(frames, range, spec.chop, spec.delay).await,
                }
            }
            Step::SendFrames(batch) => {
                let mut frames = Vec::new();
                for spec in &batch.frames {
                    frames.extend(self.build(spec));
                }
                self.send_frames(frames, batch.chop, batch.delay).await;
            }
            Step::SendRaw(raw) => {
                let data = raw.bytes.bytes();
                let writes = writes_for(data.len(), raw.chop);
                self.record(EventKind::BytesSent {
                    bytes: ByteLog::of(&data),
                    writes,
                });
                self.observe_raw(&data);
                self.write(data, raw.chop, raw.delay).await;
            }
            Step::Close(close) => {
                let frames = self.close_frame(close);
                self.send_frames(frames, None, None).await;
            }
            Step::Pause(ms) => tokio::time::sleep(ms.scaled(self.opts.timeout_scale)).await,
            Step::Marker(name) => self.record(EventKind::Marker { name: name.clone() }),
            Step::Wait(w) => self.wait(w).await,
            Step::Drop => {
                self.record(EventKind::HarnessClosed {
                    reason: HarnessClose::CaseDrops,
                });
                self.shutdown().await;
                self.shared.state.send_modify(|s| s.ended = true);
            }
            Step::Http2(action) => self.http2_step(*action).await,
            Step::Repeat(r) => {
                for _ in 0..r.times {
                    if self.shared.peer_gone() {
                        self.record(EventKind::StepSkipped {
                            step: SkippedStep::RepeatStopped,
                        });
                        break;
                    }
                    for inner in &r.steps {
                        Box::pin(self.step(inner)).await;
                    }
                }
            }
        }
    }

    /// Asks the writer to shut the connection down, giving it a second to
    /// finish what it is writing; every task of the case ends here (a writer
    /// still blocked on a peer that does not read is aborted, and its queue
    /// freed with it).
    async fn shutdown(&mut self) {
        if let Some(tx) = self.writer.take() {
            let (done_tx, done_rx) = oneshot::channel();
            if tx.send(WriteCmd::Shutdown(done_tx)).is_ok() {
                let _ = tokio::time::timeout(Duration::from_secs(1), done_rx).await;
            }
        }
        if let Some(w) = self.writer_task.take() {
            w.abort();
        }
        if let Some(r) = self.reader.take() {
            r.abort();
        }
    }

    /// Ends the connection if the peer has not, recording why.
    async fn close_down(&mut self, deadline: bool) {
        let peer = self.shared.peer();
        let open = self.writer.is_some() && !peer.ended;
        if open {
            let closed_cleanly = peer.close_received && peer.close_sent;
            self.record(EventKind::HarnessClosed {
                reason: if deadline {
                    HarnessClose::Deadline
                } else if self.shared.server_role && closed_cleanly {
                    HarnessClose::ServerClosesFirst
                } else {
                    HarnessClose::StepsFinished
                },
            });
        }
        self.shutdown().await;
    }
}

/// An observer for one direction of a case: 256-byte payload heads when
/// frames are recorded; 16-byte heads and no digests of data frames (which
/// are not recorded) for a performance case.
fn observer_for(detailed: bool) -> Observer {
    if detailed {
        Observer::new(DEFAULT_HEAD)
    } else {
        Observer::new(16).without_data_frame_digests()
    }
}

fn describe(step: &Step) -> StepName {
    match step {
        Step::Send(f) => StepName::Send {
            opcode: Opcode(f.opcode.0),
        },
        Step::SendFrames(b) => StepName::SendFrames {
            frames: b.frames.len(),
        },
        Step::SendRaw(r) => StepName::SendRaw {
            bytes: r.bytes.len(),
        },
        Step::Close(c) => StepName::Close { code: c.code },
        Step::Pause(m) => StepName::Pause { ms: m.0 },
        Step::Marker(m) => StepName::Marker { name: m.clone() },
        Step::Wait(_) => StepName::Wait,
        Step::Drop => StepName::Drop,
        Step::Repeat(r) => StepName::Repeat { times: r.times },
        Step::Http2(s) => StepName::Http2 {
            end_stream: *s == crate::case::model::Http2Step::EndStream,
        },
    }
}
