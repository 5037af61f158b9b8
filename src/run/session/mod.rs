//! One case over one TCP connection. The driver runs the case's steps in order;
//! a reader task decodes everything the peer sends (answering pings and the
//! peer's close as an ordinary endpoint would); a writer task owns the socket's
//! write half so that neither side ever blocks the other. Every wait ends the
//! moment its event arrives; all of it is recorded in a [`Transcript`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};

use super::build::{build_frames, frame, BuiltFrame};
use super::{RunOptions, Target};
use crate::case::model::{CloseStep, Millis, Probe, SendFrame, Step, Wait, WaitFor};
use crate::case::Case;
use crate::transcript::{Event, EventKind, Transcript};
use crate::wire::bytelog::{ByteLog, ByteLogBuilder, DEFAULT_HEAD};
use crate::wire::decode::{DecodeEvent, Decoder};
use crate::wire::frame::FrameEncoding;
use crate::wire::handshake::{
    build_request, find_head_end, key_from_bytes, parse_response, render_raw_request, HeaderEdits,
    RequestParts, MAX_HEAD_BYTES,
};
use crate::wire::message::{CloseBody, FrameRecord, Observation, Observer};
use crate::wire::{Opcode, Prng};

/// The payload of a `probe: ping` wait's ping starts with this, then a number.
const PROBE_PREFIX: &str = "wsspec-probe-";

/// How long a wait whose probe was answered still listens for a close.
const PROBE_SETTLE: Millis = Millis(50);

/// Most events one transcript keeps; beyond it frames are counted, not logged.
const MAX_EVENTS: usize = 50_000;

/// What the driver's waits watch.
#[derive(Debug, Clone)]
struct PeerState {
    messages: u64,
    pongs: u64,
    /// Pongs answering a `probe: ping` wait's ping.
    probe_pongs: u64,
    close_received: bool,
    /// We have sent a close frame (mirrors `Shared::close_sent` for waits).
    close_sent: bool,
    ended: bool,
    last_rx: Instant,
}

struct Shared {
    start: Instant,
    events: Mutex<Vec<Event>>,
    state: watch::Sender<PeerState>,
    close_sent: AtomicBool,
    detailed: bool,
    /// wsspec is the server (testing a client): its frames are unmasked, and
    /// it closes TCP first once the closing handshake is complete.
    server_role: bool,
}

impl Shared {
    fn record(&self, kind: EventKind) {
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

    fn peer(&self) -> PeerState {
        self.state.borrow().clone()
    }

    fn peer_gone(&self) -> bool {
        let s = self.state.borrow();
        s.close_received || s.ended
    }
}

enum WriteCmd {
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

/// Runs one case against a server target.
pub async fn run_case(case: &Case, target: &Target, opts: &RunOptions) -> Transcript {
    run_with(case, opts, false, |session| Box::pin(session.drive(target))).await
}

/// Runs one case with wsspec as the server, on a connection whose request
/// head (`request`, up to its blank line) has been read; `leftover` holds the
/// bytes that followed it.
pub async fn run_case_accepted(
    case: &Case,
    stream: TcpStream,
    request: Vec<u8>,
    leftover: Vec<u8>,
    opts: &RunOptions,
) -> Transcript {
    run_with(case, opts, true, move |session| {
        Box::pin(session.drive_accepted(stream, request, leftover))
    })
    .await
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
    let (state_tx, _) = watch::channel(PeerState {
        messages: 0,
        pongs: 0,
        probe_pongs: 0,
        close_received: false,
        close_sent: false,
        ended: false,
        last_rx: Instant::now(),
    });
    let shared = Arc::new(Shared {
        start: Instant::now(),
        events: Mutex::new(Vec::new()),
        state: state_tx,
        close_sent: AtomicBool::new(false),
        detailed,
        server_role,
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
        reader: None,
        out_observer: Observer::new(if detailed { DEFAULT_HEAD } else { 16 }),
        messages_sent: 0,
        pings_sent: 0,
        probes_sent: 0,
    };
    let finished = tokio::time::timeout(deadline, drive(&mut session)).await;
    if finished.is_err() {
        shared.record(EventKind::Deadline {
            after_ms: deadline.as_millis() as u64,
        });
    }
    session.close_down(finished.is_err()).await;
    let events = shared.events.lock().map(|e| e.clone()).unwrap_or_default();
    Transcript {
        case_id: case.spec.id.clone(),
        events,
        duration_us: shared.start.elapsed().as_micros() as u64,
        detailed,
    }
}

struct Session<'a> {
    shared: Arc<Shared>,
    case: &'a Case,
    opts: &'a RunOptions,
    prng: Prng,
    writer: Option<mpsc::UnboundedSender<WriteCmd>>,
    reader: Option<tokio::task::JoinHandle<()>>,
    out_observer: Observer,
    messages_sent: u64,
    pings_sent: u64,
    probes_sent: u64,
}

impl Session<'_> {
    async fn drive(&mut self, target: &Target) {
        let Some((stream, leftover)) = self.open(target).await else {
            return;
        };
        self.run_steps(stream, leftover).await;
    }

    /// wsspec as the server: answer the client's request with 101, then run
    /// the steps.
    async fn drive_accepted(&mut self, mut stream: TcpStream, request: Vec<u8>, leftover: Vec<u8>) {
        self.record(EventKind::RequestReceived {
            raw: log_all(&request),
        });
        let key = crate::wire::handshake::request_key(&request);
        let accept = key
            .as_deref()
            .map(crate::wire::handshake::accept_for)
            .unwrap_or_default();
        let hs = &self.case.spec.handshake;
        let mut response: Vec<u8> = match (&hs.response, &key) {
            (Some(template), _) => {
                let bytes = template.bytes();
                let target = String::from_utf8_lossy(&request)
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .to_string();
                let text = String::from_utf8_lossy(&bytes)
                    .replace("{accept}", &accept)
                    .replace("{key}", key.as_deref().unwrap_or(""))
                    .replace("{request_target}", &target);
                text.into_bytes()
            }
            (None, Some(_)) => format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            )
            .into_bytes(),
            (None, None) => b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
        };
        let status = String::from_utf8_lossy(&response)
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0);
        self.record(EventKind::ResponseSent {
            status,
            raw: log_all(&response),
        });
        let mut early = Vec::new();
        for spec in &self.case.spec.handshake.frames {
            early.extend(self.build(spec));
        }
        if !early.is_empty() {
            self.observe_sent(&early);
            response.extend(encode_all(&early));
        }
        let piece = hs.chop.filter(|c| *c > 0).unwrap_or(response.len().max(1));
        let pause = hs.delay.map(|d| d.scaled(self.opts.timeout_scale));
        for (i, chunk) in response.chunks(piece).enumerate() {
            if i > 0 {
                if let Some(d) = pause {
                    tokio::time::sleep(d).await;
                }
            }
            if let Err(e) = stream.write_all(chunk).await {
                self.record(EventKind::SocketError {
                    error: format!("writing the handshake response: {e}"),
                });
                return;
            }
        }
        if key.is_none() && hs.response.is_none() {
            return;
        }
        // After any response, the steps run: with a 101 they talk WebSocket,
        // after a refusal they watch whether the client (wrongly) does.
        self.run_steps(stream, leftover).await;
    }

    async fn run_steps(&mut self, stream: TcpStream, leftover: Vec<u8>) {
        let _ = stream.set_nodelay(true);
        let (rd, wr) = stream.into_split();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer_task(wr, rx, self.shared.clone()));
        self.reader = Some(tokio::spawn(reader_task(
            rd,
            leftover,
            self.shared.clone(),
            tx.clone(),
            Prng::for_case(&format!("{}/replies", self.case.spec.id), self.opts.seed),
        )));
        self.writer = Some(tx);
        for step in &self.case.spec.steps {
            self.step(step).await;
        }
    }

    /// Connects and performs the opening handshake; returns the stream and any
    /// bytes that arrived after the response head.
    async fn open(&mut self, target: &Target) -> Option<(TcpStream, Vec<u8>)> {
        let addr = (target.host.as_str(), target.port);
        let connect = self.opts.connect_timeout.scaled(self.opts.timeout_scale);
        let mut stream = match tokio::time::timeout(connect, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                self.record(EventKind::ConnectFailed {
                    error: e.to_string(),
                });
                return None;
            }
            Err(_) => {
                self.record(EventKind::ConnectFailed {
                    error: format!("no connection within {} ms", connect.as_millis()),
                });
                return None;
            }
        };
        let _ = stream.set_nodelay(true);
        self.record(EventKind::Connected);
        let key = key_from_bytes(&self.prng.bytes16());
        let parts = RequestParts {
            host: &target.host_header,
            path: &target.path,
            key: &key,
            extra: &self.opts.extra_headers,
        };
        let hs = &self.case.spec.handshake;
        let mut request = match &hs.raw {
            Some(raw) => render_raw_request(&raw.bytes(), &parts),
            None => build_request(
                &parts,
                &HeaderEdits {
                    remove: hs.remove.clone(),
                    replace: hs
                        .replace
                        .iter()
                        .map(|h| (h.name.clone(), h.value.clone()))
                        .collect(),
                    add: hs
                        .add
                        .iter()
                        .map(|h| (h.name.clone(), h.value.clone()))
                        .collect(),
                },
            ),
        };
        self.record(EventKind::RequestSent {
            raw: log_all(&request),
        });
        // Frames that ride in the same write as the request.
        let mut early = Vec::new();
        for spec in &self.case.spec.handshake.frames {
            early.extend(self.build(spec));
        }
        if !early.is_empty() {
            self.observe_sent(&early);
            request.extend(encode_all(&early));
        }
        let piece = hs.chop.filter(|c| *c > 0).unwrap_or(request.len().max(1));
        let pause = hs.delay.map(|d| d.scaled(self.opts.timeout_scale));
        for (i, chunk) in request.chunks(piece).enumerate() {
            if i > 0 {
                if let Some(d) = pause {
                    tokio::time::sleep(d).await;
                }
            }
            if let Err(e) = stream.write_all(chunk).await {
                self.record(EventKind::SocketError {
                    error: format!("writing the handshake request: {e}"),
                });
                return None;
            }
        }
        let limit = self.opts.handshake_timeout.scaled(self.opts.timeout_scale);
        let mut buf: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; 4096];
        let started = Instant::now();
        loop {
            if let Some(end) = find_head_end(&buf) {
                let head = &buf[..end];
                match parse_response(head) {
                    Ok(parsed) => {
                        let switching = parsed.status == 101;
                        self.record(EventKind::ResponseReceived {
                            head: parsed,
                            raw: log_all(head),
                        });
                        if !switching {
                            return None;
                        }
                        let leftover = buf[end..].to_vec();
                        return Some((stream, leftover));
                    }
                    Err(reason) => {
                        self.record(EventKind::HandshakeFailed {
                            reason,
                            raw: log_all(head),
                        });
                        return None;
                    }
                }
            }
            if buf.len() > MAX_HEAD_BYTES {
                self.record(EventKind::HandshakeFailed {
                    reason: format!("response head exceeds {MAX_HEAD_BYTES} bytes"),
                    raw: ByteLog::of(&buf),
                });
                return None;
            }
            let remaining = limit.saturating_sub(started.elapsed());
            match tokio::time::timeout(remaining, stream.read(&mut chunk)).await {
                Ok(Ok(0)) => {
                    self.record(EventKind::HandshakeFailed {
                        reason: "connection closed before a complete response head".into(),
                        raw: ByteLog::of(&buf),
                    });
                    return None;
                }
                Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) => {
                    self.record(EventKind::HandshakeFailed {
                        reason: format!("reading the response: {e}"),
                        raw: ByteLog::of(&buf),
                    });
                    return None;
                }
                Err(_) => {
                    self.record(EventKind::HandshakeFailed {
                        reason: format!(
                            "no complete response head within {} ms",
                            limit.as_millis()
                        ),
                        raw: ByteLog::of(&buf),
                    });
                    return None;
                }
            }
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
                step: describe(step),
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
                    reason: "the case drops the connection".into(),
                });
                self.shutdown().await;
                self.shared.state.send_modify(|s| s.ended = true);
            }
            Step::Repeat(r) => {
                for _ in 0..r.times {
                    if self.shared.peer_gone() {
                        self.record(EventKind::StepSkipped {
                            step: "repeat: the peer has closed".into(),
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

    fn build(&mut self, spec: &SendFrame) -> Vec<BuiltFrame> {
        match build_frames(spec, &mut self.prng, !self.shared.server_role) {
            Ok(f) => f,
            Err(e) => {
                self.record(EventKind::StepSkipped {
                    step: format!("send: cannot encode frame: {e}"),
                });
                Vec::new()
            }
        }
    }

    fn close_frame(&mut self, close: &CloseStep) -> Vec<BuiltFrame> {
        let mut body = Vec::new();
        if let Some(code) = close.code {
            body.extend_from_slice(&code.to_be_bytes());
        }
        body.extend(close.reason.bytes());
        let mask = (!self.shared.server_role).then(|| self.prng.mask_key());
        let enc = FrameEncoding::simple(Opcode::CLOSE, true, mask);
        frame(enc, body).map(|f| vec![f]).unwrap_or_default()
    }

    async fn send_frames(
        &mut self,
        frames: Vec<BuiltFrame>,
        chop: Option<usize>,
        delay: Option<Millis>,
    ) {
        if frames.is_empty() {
            return;
        }
        self.observe_sent(&frames);
        let data = encode_all(&frames);
        let frame_ends = frames
            .iter()
            .scan(0, |end, f| {
                *end += f.wire_len();
                Some(*end)
            })
            .collect();
        drop(frames);
        self.write_frames(data, frame_ends, chop, delay).await;
    }

    /// Records frames we are about to send, and the messages they complete.
    fn observe_sent(&mut self, frames: &[BuiltFrame]) {
        for f in frames {
            let mut observed = Vec::new();
            self.out_observer
                .on_event(DecodeEvent::Head(f.head.clone()), &mut observed);
            if !f.payload.is_empty() {
                self.out_observer
                    .on_event(DecodeEvent::Payload(&f.payload), &mut observed);
            }
            self.out_observer.on_event(DecodeEvent::End, &mut observed);
            self.note_sent(observed);
        }
    }

    /// Records raw bytes we are about to send, decoding whatever frames they hold.
    fn observe_raw(&mut self, data: &[u8]) {
        let mut decoder = Decoder::new();
        let mut observed = Vec::new();
        let observer = &mut self.out_observer;
        decoder.feed(data, &mut |ev| observer.on_event(ev, &mut observed));
        self.note_sent(observed);
    }

    /// Bookkeeping for frames and messages we send: pings awaiting pongs,
    /// messages awaiting echoes, whether we have started the close.
    fn note_sent(&mut self, observed: Vec<Observation>) {
        for o in observed {
            match o {
                Observation::Frame(frame) => {
                    let h = &frame.head;
                    if h.opcode == Opcode::PING.0 {
                        self.pings_sent += 1;
                    }
                    if h.opcode == Opcode::CLOSE.0 && h.rsv == 0 && h.fin {
                        self.shared.close_sent.store(true, Ordering::SeqCst);
                        self.shared.state.send_modify(|s| s.close_sent = true);
                    }
                    if self.shared.detailed || Opcode(h.opcode).is_control() {
                        self.record(EventKind::FrameSent { frame });
                    }
                }
                Observation::Message(message) => {
                    self.messages_sent += 1;
                    self.record(EventKind::MessageSent { message });
                }
            }
        }
    }

    /// Sends part of the encoded frames; the frames are recorded with their first byte.
    async fn send_slice(
        &mut self,
        frames: Vec<BuiltFrame>,
        range: &[usize],
        chop: Option<usize>,
        delay: Option<Millis>,
    ) {
        let all = encode_all(&frames);
        // Offsets count payload bytes, so a case reads the same whatever the
        // header's size (masked as the client, unmasked as the server); the
        // header goes out with the part that starts at 0.
        let payload_len: usize = frames.iter().map(|f| f.payload.len()).sum();
        let header = all.len() - payload_len;
        let at = |p: usize| {
            if p == 0 {
                0
            } else {
                (header + p).min(all.len())
            }
        };
        let from = at(range.first().copied().unwrap_or(0));
        let to = range
            .get(1)
            .map_or(all.len(), |t| at(*t))
            .clamp(from, all.len());
        if from == 0 {
            self.observe_sent(&frames);
        }
        let part = all[from..to].to_vec();
        self.record(EventKind::BytesSent {
            bytes: ByteLog::of(&part),
            writes: writes_for(part.len(), chop),
        });
        self.write(part, chop, delay).await;
    }

    async fn write(&mut self, data: Vec<u8>, chop: Option<usize>, delay: Option<Millis>) {
        let end = vec![data.len()];
        self.write_frames(data, end, chop, delay).await;
    }

    async fn write_frames(
        &mut self,
        data: Vec<u8>,
        frame_ends: Vec<usize>,
        chop: Option<usize>,
        delay: Option<Millis>,
    ) {
        let Some(tx) = &self.writer else {
            return;
        };
        let (done_tx, done_rx) = oneshot::channel();
        let cmd = WriteCmd::Bytes {
            data,
            chop,
            delay: delay.map(|d| d.scaled(self.opts.timeout_scale)),
            done: Some(done_tx),
            frame_ends,
        };
        if tx.send(cmd).is_ok() {
            let _ = done_rx.await;
        }
    }

    async fn wait(&mut self, w: &Wait) {
        // A silence wait needs at least the silence itself before giving up.
        let default = match (w.what, w.silence) {
            (WaitFor::Silence, Some(quiet)) => Millis(quiet.0 + self.opts.default_wait.0),
            _ => self.opts.default_wait,
        };
        let timeout = w.timeout.unwrap_or(default).scaled(self.opts.timeout_scale);
        let probes = match w.probe {
            Some(Probe::Ping) if !self.shared.peer_gone() => self.send_probe().await,
            _ => u64::MAX,
        };
        let mut rx = self.shared.state.subscribe();
        let (msgs, pings) = (self.messages_sent, self.pings_sent);
        let server = self.shared.server_role;
        let what = match w.what {
            WaitFor::Echo => "echo",
            WaitFor::Close => "close",
            WaitFor::End => "end",
            WaitFor::Silence => "silence",
        };
        let met = match w.what {
            WaitFor::Silence => {
                let quiet = w
                    .silence
                    .unwrap_or(Millis(500))
                    .scaled(self.opts.timeout_scale);
                tokio::time::timeout(timeout, silence(&mut rx, quiet))
                    .await
                    .is_ok()
            }
            kind => tokio::time::timeout(
                timeout,
                rx.wait_for(|s| match kind {
                    WaitFor::Echo => {
                        (s.messages >= msgs && s.pongs >= pings) || s.close_received || s.ended
                    }
                    WaitFor::Close => s.close_received || s.ended || s.probe_pongs >= probes,
                    _ => s.ended || (server && s.close_received && s.close_sent),
                }),
            )
            .await
            .map(|r| r.is_ok())
            .unwrap_or(false),
        };
        if met && probes != u64::MAX {
            // The probe came back first. A peer that answers pings ahead of
            // checking the data before them gets a moment to close anyway.
            let settle = PROBE_SETTLE.scaled(self.opts.timeout_scale);
            let _ =
                tokio::time::timeout(settle, rx.wait_for(|s| s.close_received || s.ended)).await;
        }
        if met {
            self.record(EventKind::WaitMet { what: what.into() });
        } else {
            self.record(EventKind::WaitTimedOut {
                what: what.into(),
                after_ms: timeout.as_millis() as u64,
            });
        }
    }

    /// Sends a probe ping; returns how many probe pongs mean it was answered.
    async fn send_probe(&mut self) -> u64 {
        self.probes_sent += 1;
        let payload = format!("{PROBE_PREFIX}{}", self.probes_sent);
        self.record(EventKind::ProbeSent {
            payload: payload.clone(),
        });
        let mask = (!self.shared.server_role).then(|| self.prng.mask_key());
        let enc = FrameEncoding::simple(Opcode::PING, true, mask);
        if let Ok(f) = frame(enc, payload.into_bytes()) {
            self.send_frames(vec![f], None, None).await;
        }
        self.probes_sent
    }

    async fn shutdown(&mut self) {
        if let Some(tx) = self.writer.take() {
            let (done_tx, done_rx) = oneshot::channel();
            if tx.send(WriteCmd::Shutdown(done_tx)).is_ok() {
                let _ = tokio::time::timeout(Duration::from_secs(1), done_rx).await;
            }
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
                    "case deadline expired".into()
                } else if self.shared.server_role && closed_cleanly {
                    "closing handshake complete: the server closes TCP first (RFC 6455 7.1.1)"
                        .into()
                } else {
                    "steps finished with the connection still open".into()
                },
            });
        }
        self.shutdown().await;
    }
}

/// Returns once no byte has arrived for `quiet`, counted from the call.
async fn silence(rx: &mut watch::Receiver<PeerState>, quiet: Duration) {
    let began = Instant::now();
    loop {
        let last = rx.borrow().last_rx;
        if rx.borrow().ended {
            return;
        }
        let until = last.max(began) + quiet;
        tokio::select! {
            _ = tokio::time::sleep_until(until.into()) => {
                if rx.borrow().last_rx == last {
                    return;
                }
            }
            changed = rx.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// The frames' bytes, back to back, in one buffer.
fn encode_all(frames: &[BuiltFrame]) -> Vec<u8> {
    let mut data = Vec::with_capacity(frames.iter().map(BuiltFrame::wire_len).sum());
    for f in frames {
        // `frame()` already checked that every header can be encoded.
        let _ = f.write_to(&mut data);
    }
    data
}

fn writes_for(len: usize, chop: Option<usize>) -> u64 {
    match chop {
        Some(c) if c > 0 => len.div_ceil(c) as u64,
        _ => 1,
    }
}

fn log_all(bytes: &[u8]) -> ByteLog {
    let mut b = ByteLogBuilder::new(MAX_HEAD_BYTES);
    b.push(bytes);
    b.finish()
}

fn describe(step: &Step) -> String {
    match step {
        Step::Send(f) => format!("send {} frame", Opcode(f.opcode.0).name()),
        Step::SendFrames(b) => format!("send_frames ({} frames)", b.frames.len()),
        Step::SendRaw(r) => format!("send_raw ({} bytes)", r.bytes.len()),
        Step::Close(c) => match c.code {
            Some(code) => format!("close {code}"),
            None => "close (no body)".into(),
        },
        Step::Pause(m) => format!("pause {} ms", m.0),
        Step::Marker(m) => format!("marker {m}"),
        Step::Wait(_) => "wait".into(),
        Step::Drop => "drop".into(),
        Step::Repeat(r) => format!("repeat {} times", r.times),
    }
}

async fn writer_task(
    mut w: OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<WriteCmd>,
    shared: Arc<Shared>,
) {
    let mut failed = false;
    while let Some(cmd) = rx.recv().await {
        match cmd {
            WriteCmd::Bytes {
                data,
                chop,
                delay,
                done,
                frame_ends,
            } => {
                if !failed {
                    failed = !write_pieces(&mut w, &data, chop, delay, &frame_ends, &shared).await;
                }
                if let Some(done) = done {
                    let _ = done.send(!failed);
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

/// Writes `data` in the requested pieces; false once the socket failed (or
/// the write was abandoned), after which nothing more is written.
async fn write_pieces(
    w: &mut OwnedWriteHalf,
    data: &[u8],
    chop: Option<usize>,
    delay: Option<Duration>,
    frame_ends: &[usize],
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
                    step: format!(
                        "{} of {} bytes not sent: the peer sent its close",
                        data.len() - stop,
                        data.len()
                    ),
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
        let piece = &data[pos..end];
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
                                step: format!(
                                    "write abandoned with {} of {} bytes unsent: the peer closed and stopped reading",
                                    data.len() - pos,
                                    data.len()
                                ),
                            });
                            return false;
                        }
                    }
                }
            }
        };
        if let Err(e) = r {
            shared.record(EventKind::SocketError {
                error: format!("write: {e}"),
            });
            return false;
        }
        pos = end;
    }
    true
}

async fn reader_task(
    mut r: OwnedReadHalf,
    leftover: Vec<u8>,
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<WriteCmd>,
    mut prng: Prng,
) {
    let mut decoder = Decoder::new();
    let mut observer = Observer::new(if shared.detailed { DEFAULT_HEAD } else { 16 });
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending = leftover;
    loop {
        if !pending.is_empty() {
            let mut observed = Vec::new();
            decoder.feed(&pending, &mut |ev| observer.on_event(ev, &mut observed));
            pending.clear();
            for o in observed {
                handle_observation(o, &shared, &tx, &mut prng);
            }
            shared.state.send_modify(|s| s.last_rx = Instant::now());
        }
        match r.read(&mut buf).await {
            Ok(0) => {
                if decoder.mid_frame() {
                    shared.record(EventKind::TruncatedFrame);
                }
                shared.record(EventKind::PeerEof);
                break;
            }
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e) => {
                shared.record(EventKind::SocketError {
                    error: format!("read: {e}"),
                });
                break;
            }
        }
    }
    shared.state.send_modify(|s| s.ended = true);
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
            let op = frame.head.opcode;
            let is_probe = op == 10 && frame.payload.head.starts_with(PROBE_PREFIX.as_bytes());
            let reply = match op {
                9 if !shared.close_sent.load(Ordering::SeqCst) && frame.payload.is_complete() => {
                    Some((Opcode::PONG, frame.payload.head.clone()))
                }
                8 if !shared.close_sent.swap(true, Ordering::SeqCst) => {
                    shared.state.send_modify(|s| s.close_sent = true);
                    Some((Opcode::CLOSE, close_reply(&frame)))
                }
                _ => None,
            };
            if shared.detailed || Opcode(op).is_control() {
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
                    let _ = tx.send(WriteCmd::Bytes {
                        data: f.1,
                        chop: None,
                        delay: None,
                        done: None,
                        frame_ends: Vec::new(),
                    });
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
    let close = (enc.opcode == 8).then(|| crate::wire::message::CloseBody::parse(body));
    Ok((
        FrameRecord {
            head: built.head,
            payload: ByteLog::of(body),
            close,
        },
        bytes,
    ))
}
