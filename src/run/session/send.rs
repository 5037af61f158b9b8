//! Sending, as methods of the session: send steps built into frames, close
//! frames, raw bytes and slices of encoded frames, each handed to the writer
//! task as one write (with the frame boundaries it may stop at) and awaited.
//! Everything sent is recorded, and counted for the waits: messages awaiting
//! echoes, pings awaiting pongs, and whether our close has gone out. A single
//! frame goes to the writer as its header and unmasked payload, masked piece
//! by piece as it is written; when it is a whole message of at least
//! [`DIGEST_LATER_AT`] bytes, its records are kept at once and their digest
//! comes later (`Shared::digest_later`: a blocking thread started at once,
//! whose digest its echo takes too when the reader finds it the same).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::oneshot;

use super::shared::{Outgoing, WriteCmd};
use super::Session;
use crate::case::model::{CloseStep, Millis, Payload, SendFrame};
use crate::run::build::{build_frames_with, frame, BuiltFrame};
use crate::transcript::{EventKind, SkippedStep};
use crate::wire::bytelog::ByteLog;
use crate::wire::decode::{DecodeEvent, Decoder};
use crate::wire::frame::FrameEncoding;
use crate::wire::message::{FrameRecord, MessageDigest, MessageRecord, Observation};
use crate::wire::outgoing::OutgoingFrame;
use crate::wire::Opcode;

/// From this size on, a whole message sent in one frame is recorded before
/// its digest is known: a 16 MiB message's SHA-256 (about 8 ms) no longer
/// holds up its first byte. Below it, hashing first costs less than the
/// bookkeeping.
pub(super) const DIGEST_LATER_AT: usize = 1 << 20;

impl Session<'_> {
    pub(super) fn build(&mut self, spec: &SendFrame) -> Vec<BuiltFrame> {
        let mut payload = match &spec.payload {
            Payload::Sample { kind, len } => {
                let sent = self.sample_sends.entry((*kind, *len)).or_insert(0);
                let bytes = spec.payload.bytes_at(*sent);
                *sent += 1;
                bytes
            }
            other => other.bytes(),
        };
        let mut first_rsv = 0;
        let mut plain = None;
        if spec.compress.enabled {
            let flush_points = spec.compress.flush_points(payload.len());
            let compressed = self.compress(&payload, &flush_points);
            plain = Some(std::mem::replace(&mut payload, compressed));
            first_rsv = 4;
        }
        match build_frames_with(
            spec,
            payload,
            first_rsv,
            &mut self.prng,
            !self.shared.server_role,
        ) {
            Ok(mut f) => {
                // Only the first copy of a repeated frame: the same bytes
                // again mean something else under context takeover, and
                // are inflated like any other message.
                if let Some(first) = f.first_mut() {
                    first.plain = plain;
                }
                f
            }
            Err(e) => {
                self.record(EventKind::StepSkipped {
                    step: SkippedStep::EncodeFailed {
                        detail: e.to_string(),
                    },
                });
                Vec::new()
            }
        }
    }

    pub(super) fn close_frame(&mut self, close: &CloseStep) -> Vec<BuiltFrame> {
        let mut body = Vec::new();
        if let Some(code) = close.code {
            body.extend_from_slice(&code.to_be_bytes());
        }
        body.extend(close.reason.bytes());
        let mask = (!self.shared.server_role).then(|| self.prng.mask_key());
        let enc = FrameEncoding::simple(Opcode::CLOSE, true, mask);
        frame(enc, body).map(|f| vec![f]).unwrap_or_default()
    }

    pub(super) async fn send_frames(
        &mut self,
        mut frames: Vec<BuiltFrame>,
        chop: Option<usize>,
        delay: Option<Millis>,
    ) {
        if frames.is_empty() {
            return;
        }
        let frame_ends = frames
            .iter()
            .scan(0, |end, f| {
                *end += f.wire_len();
                Some(*end)
            })
            .collect();
        let data = match frames.pop() {
            Some(f) if frames.is_empty() => self.observe_one(f),
            last => {
                frames.extend(last);
                self.observe_sent(&mut frames);
                Outgoing::Bytes(encode_all(&frames))
            }
        };
        self.write_frames(data, frame_ends, chop, delay).await;
    }

    /// Records a single frame about to be sent, and makes it the writer's
    /// bytes without copying or masking its payload here.
    fn observe_one(&mut self, mut f: BuiltFrame) -> Outgoing {
        let later = (f.payload.len() >= DIGEST_LATER_AT && f.plain.is_none())
            .then(|| self.out_observer.whole_unread(&f.head, &f.payload))
            .flatten();
        if later.is_none() {
            self.observe_sent(std::slice::from_mut(&mut f));
        }
        let payload = Arc::new(f.payload);
        if let Some(records) = later {
            self.note_sent_later(records, &payload);
        }
        match OutgoingFrame::new(&f.enc, payload) {
            Ok(frame) => Outgoing::Frame(frame),
            // `frame()` checked that the header can be encoded.
            Err(e) => {
                self.record(EventKind::StepSkipped {
                    step: SkippedStep::EncodeFailed {
                        detail: e.to_string(),
                    },
                });
                Outgoing::Bytes(Vec::new())
            }
        }
    }

    /// [`note_sent`](Self::note_sent) for the records of a whole data
    /// message whose digest comes later, or is computed here when the
    /// records are past `--max-events` and only counted.
    fn note_sent_later(
        &mut self,
        (frame, message): (FrameRecord, MessageRecord),
        payload: &Arc<Vec<u8>>,
    ) {
        self.messages_sent += 1;
        let mut kinds = Vec::with_capacity(2);
        if self.shared.detailed {
            kinds.push(EventKind::FrameSent { frame });
        }
        kinds.push(EventKind::MessageSent { message });
        match self.shared.record_unfinished(kinds) {
            Ok(at) => {
                let echo = !self.shared.detailed;
                self.shared.digest_later(at, payload.clone(), echo)
            }
            Err(kinds) => {
                let digest = MessageDigest::of(payload);
                for mut kind in kinds {
                    match &mut kind {
                        EventKind::FrameSent { frame: f } => digest.fill_in_frame(f),
                        EventKind::MessageSent { message: m } => digest.fill_in(m),
                        _ => {}
                    }
                    self.record(kind);
                }
            }
        }
    }

    /// Records frames we are about to send, and the messages they complete.
    pub(super) fn observe_sent(&mut self, frames: &mut [BuiltFrame]) {
        for f in frames {
            let mut observed = Vec::new();
            if let Some(plain) = f.plain.take() {
                self.out_observer.compressed_from(plain);
            }
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
    pub(super) fn observe_raw(&mut self, data: &[u8]) {
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
                    if h.opcode == Opcode::PING {
                        self.pings_sent += 1;
                    }
                    if h.opcode == Opcode::CLOSE && h.rsv == 0 && h.fin {
                        self.shared.close_sent.store(true, Ordering::SeqCst);
                        self.shared.state.send_modify(|s| s.close_sent = true);
                    }
                    if self.shared.detailed || h.opcode.is_control() {
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
    pub(super) async fn send_slice(
        &mut self,
        mut frames: Vec<BuiltFrame>,
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
            self.observe_sent(&mut frames);
        }
        let part = all[from..to].to_vec();
        self.record(EventKind::BytesSent {
            bytes: ByteLog::of(&part),
            writes: writes_for(part.len(), chop),
        });
        self.write(part, chop, delay).await;
    }

    pub(super) async fn write(
        &mut self,
        data: Vec<u8>,
        chop: Option<usize>,
        delay: Option<Millis>,
    ) {
        let end = vec![data.len()];
        self.write_frames(Outgoing::Bytes(data), end, chop, delay)
            .await;
    }

    async fn write_frames(
        &mut self,
        data: Outgoing,
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
            auto: false,
        };
        if tx.send(cmd).is_ok() {
            let _ = done_rx.await;
        }
    }
}

/// The frames' bytes, back to back, in one buffer.
pub(super) fn encode_all(frames: &[BuiltFrame]) -> Vec<u8> {
    let mut data = Vec::with_capacity(frames.iter().map(BuiltFrame::wire_len).sum());
    for f in frames {
        // `frame()` already checked that every header can be encoded.
        let _ = f.write_to(&mut data);
    }
    data
}

pub(super) fn writes_for(len: usize, chop: Option<usize>) -> u64 {
    match chop {
        Some(c) if c > 0 => len.div_ceil(c) as u64,
        _ => 1,
    }
}
