//! Observation of a frame stream: turns decoder events into bounded frame
//! records and, for data frames, assembled message records (length, digest,
//! UTF-8 validity). It observes and never judges: a stray continuation frame is
//! simply not part of any message, and a data frame that interrupts a message in
//! progress abandons it; both stay visible as frame records. An observer that
//! keeps no data frames' digests may be told what the next message should be
//! ([`Observer::expect`], the plaintext of a message wsspec sent): it compares
//! the message with it while hashing it, and says when the two were the same
//! all through, so that what was sent can take the digest of what came back.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::bytelog::{ByteLog, ByteLogBuilder, DEFAULT_HEAD};
use super::decode::{DecodeEvent, FrameHead};
use super::opcode::Opcode;
use super::utf8::Utf8Stream;
use crate::deflate::inflate::{InflateOutcome, Inflater};

/// A close frame's body, parsed without judging it.
/// How much of a close frame's body is kept for parsing (its code and the
/// start of its reason); the payload log still counts and hashes all of it.
pub const CLOSE_BODY_CAP: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseBody {
    /// The status code, when the payload had at least two bytes.
    pub code: Option<u16>,
    /// The reason bytes after the code.
    pub reason: ByteLog,
    /// Whether the reason is valid UTF-8.
    pub reason_utf8: bool,
}

impl CloseBody {
    pub fn parse(payload: &[u8]) -> CloseBody {
        if payload.len() < 2 {
            return CloseBody {
                code: None,
                reason: ByteLog::of(&[]),
                reason_utf8: true,
            };
        }
        let reason = &payload[2..];
        CloseBody {
            code: Some(u16::from_be_bytes([payload[0], payload[1]])),
            reason: ByteLog::of(reason),
            reason_utf8: std::str::from_utf8(reason).is_ok(),
        }
    }
}

/// One frame as it crossed the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameRecord {
    pub head: FrameHead,
    pub payload: ByteLog,
    /// Set for close frames (opcode 8).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub close: Option<CloseBody>,
}

/// One complete data message (text or binary), however it was fragmented.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// Text or binary.
    pub opcode: Opcode,
    pub frames: u32,
    pub payload: ByteLog,
    /// For text messages: whether the payload is valid UTF-8.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub utf8_valid: Option<bool>,
    /// Set for a permessage-deflate message (RSV1 on its first frame, the
    /// extension agreed): `payload` is then what it inflated to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub compressed: Option<CompressionRecord>,
}

/// What inflating one compressed message showed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompressionRecord {
    /// Compressed bytes on the wire (all frames' payloads).
    pub wire_len: u64,
    /// The largest back-reference distance the stream used.
    pub max_distance: u32,
    /// Whether the stream referred to data of an earlier message.
    pub refers_back: bool,
    pub result: InflateResult,
    /// wsspec compressed this message itself (`compress:` on a send step)
    /// and recorded what it compressed instead of inflating it again:
    /// `max_distance` and `refers_back` are then not measured (0 and
    /// false). Its compressor keeps to what was agreed by construction,
    /// which src/deflate/compress.rs tests.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_wsspec: bool,
}

/// How inflating a message ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum InflateResult {
    Complete,
    /// The message grew past the size limit; inflating stopped there.
    TooLarge {
        limit: u64,
    },
    /// Not a valid DEFLATE stream.
    Corrupt {
        detail: String,
    },
}

/// Inflation of the messages an observer sees, once permessage-deflate is
/// agreed for its direction. The inflater keeps 32 KiB of history across
/// messages whatever was agreed, so that a reference back is seen.
pub struct Inflating {
    inflater: Inflater,
    max_message: usize,
}

impl Inflating {
    pub fn new(max_message: usize) -> Inflating {
        Inflating {
            inflater: Inflater::new(),
            max_message,
        }
    }
}

/// What an [`Observer`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observation {
    Frame(FrameRecord),
    Message(MessageRecord),
}

/// A message an observer expects to read next: one wsspec sent, whose echo
/// should be the same bytes. `id` is the caller's, handed back with
/// [`Observer::take_matched`].
#[derive(Clone, Debug)]
pub struct Expected {
    pub id: u64,
    pub payload: Arc<Vec<u8>>,
}

/// A message read that was all of what [`Observer::expect`] said. Its
/// record's digest reads [`DIGEST_PENDING`]: the bytes were compared, not
/// hashed, and their digest is that of `expected`'s payload.
#[derive(Clone, Debug)]
pub struct Matched {
    pub expected: Expected,
}

struct MessageInProgress {
    opcode: Opcode,
    frames: u32,
    /// The expected message and how many of its bytes have matched so far.
    matching: Option<(Expected, usize)>,
    payload: ByteLogBuilder,
    utf8: Utf8Stream,
    /// The compressed bytes of a compressed message, up to the size limit,
    /// and how many there were in all.
    compressed: Option<(Vec<u8>, u64)>,
    /// What wsspec compressed into this message, when it did (then the
    /// compressed bytes are only counted).
    plain: Option<Vec<u8>>,
    /// An uncompressed message of one frame: its payload log is the frame's,
    /// copied when the frame ends rather than hashed a second time.
    same_as_frame: bool,
}

/// Frame and message observer over decoder events.
pub struct Observer {
    head_cap: usize,
    /// The frame being read: its head, its payload log, and for a close
    /// frame the first [`CLOSE_BODY_CAP`] bytes of its body.
    frame: Option<(FrameHead, ByteLogBuilder, Option<Vec<u8>>)>,
    message: Option<MessageInProgress>,
    /// Whether the current frame's payload also belongs to the current message.
    frame_in_message: bool,
    inflating: Option<Inflating>,
    /// What wsspec compressed into the message the next frame starts.
    plain_next: Option<Vec<u8>>,
    /// Whether data frames' payload logs get a digest (their records are
    /// kept); messages always get one.
    data_frame_digests: bool,
    /// What the next data message should be (see [`Observer::expect`]).
    expected: Option<Expected>,
    /// The last message read that was all of what was expected, with its
    /// digest.
    matched: Option<Matched>,
}

impl Default for Observer {
    fn default() -> Self {
        Self::new(DEFAULT_HEAD)
    }
}

impl Observer {
    /// `head_cap`: how many leading payload bytes frame and message logs keep.
    pub fn new(head_cap: usize) -> Self {
        Observer {
            head_cap,
            frame: None,
            message: None,
            frame_in_message: false,
            inflating: None,
            plain_next: None,
            data_frame_digests: true,
            expected: None,
            matched: None,
        }
    }

    /// Data frames' payloads are counted and their heads kept, but not
    /// hashed: for a session that records no data frames (performance
    /// cases), so every byte is hashed once, for its message.
    pub fn without_data_frame_digests(mut self) -> Self {
        self.data_frame_digests = false;
        self
    }

    /// Inflates compressed messages from now on (permessage-deflate agreed).
    pub fn inflate(&mut self, inflating: Inflating) {
        self.inflating = Some(inflating);
    }

    /// The next frame starts a message that wsspec compressed from `plain`
    /// (dropped unless that frame starts a compressed data message). The
    /// message is recorded as `plain` without inflating it again; the
    /// inflater takes `plain` into its history all the same, so a later
    /// message that refers back to it is read as the peer reads it.
    pub fn compressed_from(&mut self, plain: Vec<u8>) {
        self.plain_next = Some(plain);
    }

    /// The next data message is expected to be `expected` (for an observer
    /// without data frames' digests; others ignore it): it is compared with
    /// it while it is read, and hashed only from where it differs (the bytes
    /// that matched are hashed from `expected` then). If it is the same
    /// message all through (not compressed), its record's digest reads
    /// [`DIGEST_PENDING`] (the digest is `expected`'s, computed elsewhere)
    /// and a [`Matched`] is kept for [`take_matched`](Observer::take_matched).
    pub fn expect(&mut self, expected: Expected) {
        if !self.data_frame_digests {
            self.expected = Some(expected);
        }
    }

    /// The expectation the last message read met in full, if it did.
    pub fn take_matched(&mut self) -> Option<Matched> {
        self.matched.take()
    }

    /// The records [`on_event`](Observer::on_event) would give for one whole
    /// frame, without reading its payload past the head the records keep:
    /// for a single-frame message (FIN, text or binary, RSV 0, its length
    /// field true) while no message or compression hint is pending, else
    /// `None`. The records' digests read [`DIGEST_PENDING`] and a text
    /// message's `utf8_valid` is `None` until [`MessageDigest::fill_in`]
    /// (and [`MessageDigest::fill_in_frame`]) put in what
    /// [`MessageDigest::of`] computed, whenever and wherever that runs. The
    /// observer is left as `on_event` would leave it.
    pub fn whole_unread(
        &self,
        head: &FrameHead,
        payload: &[u8],
    ) -> Option<(FrameRecord, MessageRecord)> {
        let idle = self.frame.is_none() && self.message.is_none() && self.plain_next.is_none();
        let whole = head.fin && head.rsv == 0 && head.len == payload.len() as u64;
        if !idle || !whole || !matches!(head.opcode.0, 1 | 2) {
            return None;
        }
        let log = |sha256: &str| ByteLog {
            len: payload.len() as u64,
            head: payload[..self.head_cap.min(payload.len())].to_vec(),
            sha256: sha256.to_string(),
        };
        let frame_digest = if self.data_frame_digests {
            DIGEST_PENDING
        } else {
            ""
        };
        Some((
            FrameRecord {
                head: head.clone(),
                payload: log(frame_digest),
                close: None,
            },
            MessageRecord {
                opcode: head.opcode,
                frames: 1,
                payload: log(DIGEST_PENDING),
                utf8_valid: None,
                compressed: None,
            },
        ))
    }

    pub fn on_event(&mut self, ev: DecodeEvent<'_>, out: &mut Vec<Observation>) {
        match ev {
            DecodeEvent::Head(head) => self.start_frame(head),
            DecodeEvent::Payload(piece) => {
                if let Some((_, log, close_bytes)) = &mut self.frame {
                    log.push(piece);
                    if let Some(bytes) = close_bytes {
                        let room = CLOSE_BODY_CAP.saturating_sub(bytes.len());
                        bytes.extend_from_slice(&piece[..room.min(piece.len())]);
                    }
                }
                if self.frame_in_message {
                    if let Some(m) = &mut self.message {
                        if let Some((bytes, total)) = &mut m.compressed {
                            *total += piece.len() as u64;
                            let limit = self.inflating.as_ref().map_or(0, |i| i.max_message);
                            if m.plain.is_none() && bytes.len() + piece.len() <= limit {
                                bytes.extend_from_slice(piece);
                            }
                        } else {
                            if !m.same_as_frame {
                                m.push(piece);
                            }
                            if m.opcode == Opcode::TEXT {
                                m.utf8.feed(piece);
                            }
                        }
                    }
                }
            }
            DecodeEvent::End => self.end_frame(out),
        }
    }

    fn start_frame(&mut self, head: FrameHead) {
        self.frame_in_message = false;
        let plain = self.plain_next.take();
        match head.opcode.0 {
            1 | 2 => {
                let compressed =
                    (self.inflating.is_some() && head.rsv & 4 != 0).then(|| (Vec::new(), 0));
                let plain = plain.filter(|_| compressed.is_some());
                let same_as_frame = head.fin && compressed.is_none() && self.data_frame_digests;
                let matching = self
                    .expected
                    .take()
                    .filter(|_| compressed.is_none())
                    .map(|e| (e, 0));
                self.message = Some(MessageInProgress {
                    opcode: head.opcode,
                    frames: 0,
                    matching,
                    payload: ByteLogBuilder::new(self.head_cap),
                    utf8: Utf8Stream::default(),
                    compressed,
                    plain,
                    same_as_frame,
                });
                self.frame_in_message = true;
            }
            0 => self.frame_in_message = self.message.is_some(),
            _ => {}
        }
        if self.frame_in_message {
            if let Some(m) = &mut self.message {
                m.frames += 1;
            }
        }
        // Control payloads are at most 125 bytes when valid: always keep them
        // whole, so a ping can be answered and a close body read.
        let cap = if head.opcode.is_control() {
            self.head_cap.max(125)
        } else {
            self.head_cap
        };
        let close_bytes = (head.opcode == Opcode::CLOSE).then(Vec::new);
        let log = if head.opcode.is_control() || self.data_frame_digests {
            ByteLogBuilder::new(cap)
        } else {
            ByteLogBuilder::without_digest(cap)
        };
        self.frame = Some((head, log, close_bytes));
    }

    fn end_frame(&mut self, out: &mut Vec<Observation>) {
        let Some((head, log, close_bytes)) = self.frame.take() else {
            return;
        };
        let fin = head.fin;
        let close = close_bytes.map(|bytes| CloseBody::parse(&bytes));
        let payload = log.finish();
        let whole_message = (self.frame_in_message && fin)
            .then(|| self.message.take())
            .flatten();
        let message_payload = whole_message
            .as_ref()
            .filter(|m| m.same_as_frame)
            .map(|_| payload.clone());
        out.push(Observation::Frame(FrameRecord {
            head,
            payload,
            close,
        }));
        if let Some(mut m) = whole_message {
            let compressed = match (m.compressed.take(), &mut self.inflating) {
                (Some((bytes, total)), Some(inflating)) => {
                    Some(inflate_into(&mut m, bytes, total, inflating))
                }
                _ => None,
            };
            let utf8_valid = (m.opcode == Opcode::TEXT).then(|| m.utf8.is_complete_and_valid());
            let matched = match m.matching.take() {
                Some((expected, at)) if at == expected.payload.len() => Some(expected),
                Some((expected, at)) => {
                    // A shorter message: its bytes were those expected.
                    m.payload.hash_only(&expected.payload[..at]);
                    None
                }
                None => None,
            };
            let mut payload = message_payload.unwrap_or_else(|| m.payload.finish());
            if let Some(expected) = matched {
                payload.sha256 = DIGEST_PENDING.to_string();
                self.matched = Some(Matched { expected });
            }
            out.push(Observation::Message(MessageRecord {
                opcode: m.opcode,
                frames: m.frames,
                payload,
                utf8_valid,
                compressed,
            }));
        }
        self.frame_in_message = false;
    }
}

/// The digest of a record from [`Observer::whole_unread`] before it is known.
pub const DIGEST_PENDING: &str = "pending";

/// What [`Observer::whole_unread`] leaves out of its records: the
/// payload's SHA-256 and, for text, whether it is valid UTF-8.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageDigest {
    pub sha256: String,
    pub utf8_valid: bool,
}

impl MessageDigest {
    /// Reads the whole payload (the slow part, to run off the sending path).
    pub fn of(payload: &[u8]) -> MessageDigest {
        let mut log = ByteLogBuilder::new(0);
        log.push(payload);
        MessageDigest {
            sha256: log.finish().sha256,
            utf8_valid: std::str::from_utf8(payload).is_ok(),
        }
    }

    /// Completes a message record of [`Observer::whole_unread`].
    pub fn fill_in(&self, m: &mut MessageRecord) {
        if m.payload.sha256 == DIGEST_PENDING {
            m.payload.sha256.clone_from(&self.sha256);
            if m.opcode == Opcode::TEXT {
                m.utf8_valid = Some(self.utf8_valid);
            }
        }
    }

    /// Completes a frame record of [`Observer::whole_unread`].
    pub fn fill_in_frame(&self, f: &mut FrameRecord) {
        if f.payload.sha256 == DIGEST_PENDING {
            f.payload.sha256.clone_from(&self.sha256);
        }
    }
}

impl MessageInProgress {
    /// Adds a piece of an uncompressed message to its payload log, and
    /// compares it with the expected message while the two match. Matching
    /// bytes are counted, not hashed; at the first difference the hash
    /// catches up from the expected bytes that matched, and goes on as usual.
    fn push(&mut self, piece: &[u8]) {
        if let Some((e, at)) = &mut self.matching {
            if e.payload.get(*at..*at + piece.len()) == Some(piece) {
                *at += piece.len();
                self.payload.count(piece);
                return;
            }
            self.payload.hash_only(&e.payload[..*at]);
            self.matching = None;
        }
        self.payload.push(piece);
    }
}

/// Inflates a compressed message into its payload log and UTF-8 check
/// (or, for one wsspec compressed, records what it compressed).
fn inflate_into(
    m: &mut MessageInProgress,
    bytes: Vec<u8>,
    total: u64,
    inflating: &mut Inflating,
) -> CompressionRecord {
    if let Some(plain) = m.plain.take() {
        m.payload.push(&plain);
        if m.opcode == Opcode::TEXT {
            m.utf8.feed(&plain);
        }
        inflating.inflater.remember(&plain);
        return CompressionRecord {
            wire_len: total,
            max_distance: 0,
            refers_back: false,
            result: InflateResult::Complete,
            by_wsspec: true,
        };
    }
    let limit = inflating.max_message;
    if total > bytes.len() as u64 {
        // The compressed bytes alone passed the limit: nothing is inflated.
        return CompressionRecord {
            wire_len: total,
            max_distance: 0,
            refers_back: false,
            result: InflateResult::TooLarge {
                limit: limit as u64,
            },
            by_wsspec: false,
        };
    }
    let got = inflating.inflater.inflate_message(&bytes, limit);
    m.payload.push(&got.data);
    if m.opcode == Opcode::TEXT {
        m.utf8.feed(&got.data);
    }
    CompressionRecord {
        wire_len: total,
        max_distance: u32::try_from(got.max_distance).unwrap_or(u32::MAX),
        refers_back: got.refers_to_earlier_message,
        result: match got.outcome {
            InflateOutcome::Complete => InflateResult::Complete,
            InflateOutcome::TooLarge => InflateResult::TooLarge {
                limit: limit as u64,
            },
            InflateOutcome::Corrupt(e) => InflateResult::Corrupt {
                detail: e.to_string(),
            },
        },
        by_wsspec: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{encode_frame, Decoder, FrameEncoding, LengthForm, Opcode};

    /// Messages an inflating observer records from `frames` (opcode, RSV1,
    /// payload; each one frame), with `hints` given before the frame of the
    /// same index.
    fn observe_compressed(
        frames: &[(Opcode, bool, &[u8])],
        hints: &[Option<&[u8]>],
    ) -> Vec<MessageRecord> {
        observe_compressed_within(1 << 20, frames, hints)
    }

    /// [`observe_compressed`] with messages inflated to at most `limit` bytes.
    fn observe_compressed_within(
        limit: usize,
        frames: &[(Opcode, bool, &[u8])],
        hints: &[Option<&[u8]>],
    ) -> Vec<MessageRecord> {
        let mut o = Observer::default();
        o.inflate(Inflating::new(limit));
        let mut out = Vec::new();
        for (i, (op, rsv1, p)) in frames.iter().enumerate() {
            let mut enc = FrameEncoding::simple(*op, true, None);
            enc.rsv = if *rsv1 { 4 } else { 0 };
            let bytes = encode_frame(&enc, p).unwrap();
            if let Some(Some(plain)) = hints.get(i) {
                o.compressed_from(plain.to_vec());
            }
            let mut d = Decoder::new();
            d.feed(&bytes, &mut |ev| o.on_event(ev, &mut out));
        }
        out.into_iter()
            .filter_map(|x| match x {
                Observation::Message(m) => Some(m),
                Observation::Frame(_) => None,
            })
            .collect()
    }

    const HELLO: &[u8] = &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    /// "Hello" again, as one reference into the previous message.
    const HELLO_AGAIN: &[u8] = &[0xf2, 0x00, 0x11, 0x00, 0x00];

    #[test]
    fn compressed_bytes_past_the_limit_are_not_inflated() {
        // A final stored block of 100 bytes: 105 compressed bytes, past a limit
        // of 64 before anything is inflated.
        let mut stored = vec![0x01, 100, 0, !100u8, 0xff];
        stored.extend_from_slice(&[b'a'; 100]);
        let got = observe_compressed_within(64, &[(Opcode::BINARY, true, &stored)], &[]);
        assert_eq!(got.len(), 1);
        let c = got[0].compressed.as_ref().expect("a compression record");
        assert_eq!(c.result, InflateResult::TooLarge { limit: 64 });
        assert_eq!(c.wire_len, 105);
        assert_eq!(got[0].payload.len, 0, "nothing inflated");
        // Within the limit, the same block is inflated.
        let got = observe_compressed_within(128, &[(Opcode::BINARY, true, &stored)], &[]);
        let c = got[0].compressed.as_ref().expect("a compression record");
        assert_eq!(c.result, InflateResult::Complete);
        assert_eq!(got[0].payload.len, 100);
    }

    #[test]
    fn an_inflated_text_message_is_checked_as_utf8() {
        // Final stored blocks holding "é" and then two bytes that are not UTF-8.
        let valid: &[u8] = &[0x01, 2, 0, !2u8, 0xff, 0xc3, 0xa9];
        let invalid: &[u8] = &[0x01, 2, 0, !2u8, 0xff, 0xc3, 0x28];
        let got = observe_compressed(
            &[
                (Opcode::TEXT, true, valid),
                (Opcode::TEXT, true, invalid),
                (Opcode::BINARY, true, invalid),
            ],
            &[],
        );
        let utf8: Vec<Option<bool>> = got.iter().map(|m| m.utf8_valid).collect();
        assert_eq!(utf8, [Some(true), Some(false), None]);
        assert!(got.iter().all(|m| m.payload.len == 2));
    }

    #[test]
    fn a_message_wsspec_compressed_is_recorded_from_its_plaintext() {
        let got = observe_compressed(
            &[
                (Opcode::TEXT, true, HELLO),
                (Opcode::TEXT, true, HELLO_AGAIN),
            ],
            &[Some(b"Hello"), None],
        );
        let first = got[0].compressed.as_ref().expect("compressed");
        assert!(first.by_wsspec);
        assert_eq!((first.wire_len, first.max_distance), (7, 0));
        assert_eq!(got[0].payload, ByteLog::of(b"Hello"));
        assert_eq!(got[0].utf8_valid, Some(true));
        // The plaintext went into the history: the next message, inflated,
        // refers back into it.
        let second = got[1].compressed.as_ref().expect("compressed");
        assert!(!second.by_wsspec && second.refers_back);
        assert_eq!(second.result, InflateResult::Complete);
        assert_eq!(got[1].payload, ByteLog::of(b"Hello"));
    }

    #[test]
    fn a_hint_is_for_the_next_frame_only_and_only_if_it_starts_a_compressed_message() {
        // Given before an uncompressed message, the hint is dropped: the
        // compressed message after it is inflated for real.
        let got = observe_compressed(
            &[(Opcode::TEXT, false, b"plain"), (Opcode::TEXT, true, HELLO)],
            &[Some(b"not what was sent"), None],
        );
        assert_eq!(got[0].payload, ByteLog::of(b"plain"));
        let c = got[1].compressed.as_ref().expect("compressed");
        assert!(!c.by_wsspec);
        assert_eq!(got[1].payload, ByteLog::of(b"Hello"));
        // Invalid UTF-8 in a hinted text message is still seen.
        let got = observe_compressed(&[(Opcode::TEXT, true, HELLO)], &[Some(&[0xff, 0xfe])]);
        assert_eq!(got[0].utf8_valid, Some(false));
    }

    #[test]
    fn each_payload_byte_is_hashed_once_and_every_record_still_has_its_digest() {
        let frames: &[(Opcode, bool, &[u8])] = &[
            (Opcode::TEXT, true, b"one frame"),
            (Opcode::BINARY, false, b"two "),
            (Opcode::PING, true, b"p"),
            (Opcode::CONTINUATION, true, b"frames"),
        ];
        let mut bytes = Vec::new();
        for (op, fin, p) in frames {
            bytes.extend(encode_frame(&FrameEncoding::simple(*op, *fin, None), p).unwrap());
        }
        for detailed in [true, false] {
            let mut o = if detailed {
                Observer::default()
            } else {
                Observer::new(16).without_data_frame_digests()
            };
            let mut out = Vec::new();
            Decoder::new().feed(&bytes, &mut |ev| o.on_event(ev, &mut out));
            let messages: Vec<&MessageRecord> = out
                .iter()
                .filter_map(|x| match x {
                    Observation::Message(m) => Some(m),
                    Observation::Frame(_) => None,
                })
                .collect();
            assert_eq!(messages[0].payload, ByteLog::of(b"one frame"));
            assert_eq!(
                messages[1].payload.sha256,
                ByteLog::of(b"two frames").sha256
            );
            for f in out.iter().filter_map(|x| match x {
                Observation::Frame(f) => Some(f),
                Observation::Message(_) => None,
            }) {
                let kept = detailed || f.head.opcode.is_control();
                assert_eq!(!f.payload.sha256.is_empty(), kept, "{:?}", f.head.opcode);
                assert!(f.payload.len > 0);
            }
        }
    }

    /// A whole frame's records made without reading its payload, once
    /// filled in, are those the observer makes by reading it: text valid,
    /// invalid and cut in a code point, binary, empty, at both head caps;
    /// and what is not a whole single-frame message is refused.
    #[test]
    fn records_filled_in_later_are_the_records_read_now() {
        let mut long = "ß".repeat(200).into_bytes();
        long.push(b'!');
        let payloads: [&[u8]; 6] = [
            b"",
            b"plain",
            &long,
            b"\xff\xfe",
            "€".as_bytes(),
            &[0xe2, 0x82],
        ];
        for detailed in [true, false] {
            let fresh = || {
                if detailed {
                    Observer::default()
                } else {
                    Observer::new(16).without_data_frame_digests()
                }
            };
            for p in payloads {
                for op in [Opcode::TEXT, Opcode::BINARY] {
                    let bytes = encode_frame(&FrameEncoding::simple(op, true, None), p).unwrap();
                    let (mut o, mut read) = (fresh(), Vec::new());
                    let mut heads = Vec::new();
                    Decoder::new().feed(&bytes, &mut |ev| {
                        if let DecodeEvent::Head(h) = &ev {
                            heads.push(h.clone());
                        }
                        o.on_event(ev, &mut read)
                    });
                    let o = fresh();
                    let (mut f, mut m) = o.whole_unread(&heads[0], p).expect("a whole message");
                    let digest = MessageDigest::of(p);
                    digest.fill_in_frame(&mut f);
                    digest.fill_in(&mut m);
                    let later = vec![Observation::Frame(f), Observation::Message(m)];
                    assert_eq!(later, read, "{op:?} {p:?} detailed {detailed}");
                }
            }
            let o = fresh();
            let head = |op: Opcode, fin: bool, rsv: u8, len: u64| FrameHead {
                fin,
                rsv,
                opcode: op,
                mask: None,
                len,
                length_form: LengthForm::minimal(len),
            };
            assert!(o
                .whole_unread(&head(Opcode::TEXT, false, 0, 1), b"a")
                .is_none());
            assert!(o
                .whole_unread(&head(Opcode::TEXT, true, 4, 1), b"a")
                .is_none());
            assert!(o
                .whole_unread(&head(Opcode::PING, true, 0, 1), b"a")
                .is_none());
            assert!(o
                .whole_unread(&head(Opcode::TEXT, true, 0, 9), b"a")
                .is_none());
            let mut busy = fresh();
            let mut out = Vec::new();
            busy.on_event(DecodeEvent::Head(head(Opcode::TEXT, false, 0, 1)), &mut out);
            busy.on_event(DecodeEvent::End, &mut out);
            assert!(busy
                .whole_unread(&head(Opcode::TEXT, true, 0, 1), b"a")
                .is_none());
        }
    }

    /// A message read against an expectation is recorded as it would be
    /// without one, and is reported as matched, with its digest, only when
    /// it is the expected message all through: the same, one byte changed at
    /// the start, in the middle or at the end, shorter, longer, each whole
    /// and in two fragments.
    #[test]
    fn an_expected_message_is_compared_and_hashed_only_where_it_differs() {
        let sent: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut changed = Vec::new();
        for at in [0, 100_000, sent.len() - 1] {
            let mut c = sent.clone();
            c[at] ^= 1;
            changed.push(c);
        }
        let mut longer = sent.clone();
        longer.push(7);
        let mut cases: Vec<(&[u8], bool)> = vec![(&sent, true), (&sent[..150_000], false)];
        cases.extend(changed.iter().map(|c| (c.as_slice(), false)));
        cases.push((&longer, false));
        for (received, same) in cases {
            for fragments in [1, 2] {
                let mut bytes = Vec::new();
                let cut = if fragments == 1 {
                    received.len()
                } else {
                    70_001
                };
                let mut first = FrameEncoding::simple(Opcode::BINARY, fragments == 1, None);
                bytes.extend(encode_frame(&first, &received[..cut]).unwrap());
                if fragments == 2 {
                    first = FrameEncoding::simple(Opcode::CONTINUATION, true, None);
                    bytes.extend(encode_frame(&first, &received[cut..]).unwrap());
                }
                let mut o = Observer::new(16).without_data_frame_digests();
                o.expect(Expected {
                    id: 9,
                    payload: Arc::new(sent.clone()),
                });
                let mut out = Vec::new();
                let mut d = Decoder::new();
                for piece in bytes.chunks(65_536) {
                    d.feed(piece, &mut |ev| o.on_event(ev, &mut out));
                }
                let m = messages(&out)[0].clone();
                let want = ByteLog::of(received);
                let matched = o.take_matched();
                assert_eq!(matched.is_some(), same, "{} bytes", received.len());
                // The same message is compared, not hashed: its digest is
                // the expected one's, filled in later; any other is hashed.
                let digest = if same { DIGEST_PENDING } else { &want.sha256 };
                assert_eq!(
                    (m.payload.len, m.payload.sha256.as_str()),
                    (want.len, digest)
                );
                assert_eq!(m.payload.head, want.head[..16]);
                if let Some(matched) = matched {
                    assert_eq!(matched.expected.id, 9);
                }
            }
        }
        // Only the next message is compared; a text one says whether it is
        // UTF-8; an observer that keeps frames' digests compares nothing.
        let mut o = Observer::new(16).without_data_frame_digests();
        let e = Expected {
            id: 1,
            payload: Arc::new(b"ab".to_vec()),
        };
        o.expect(e.clone());
        let mut out = Vec::new();
        let text = encode_frame(&FrameEncoding::simple(Opcode::TEXT, true, None), b"ab").unwrap();
        Decoder::new().feed(&text, &mut |ev| o.on_event(ev, &mut out));
        let matched = o.take_matched().expect("the same message");
        assert_eq!(matched.expected.id, 1);
        let first = messages(&out)[0].clone();
        assert_eq!(first.payload.sha256, DIGEST_PENDING);
        assert_eq!(first.utf8_valid, Some(true));
        Decoder::new().feed(&text, &mut |ev| o.on_event(ev, &mut out));
        assert!(o.take_matched().is_none());
        let mut o = Observer::default();
        o.expect(e);
        Decoder::new().feed(&text, &mut |ev| o.on_event(ev, &mut out));
        assert!(o.take_matched().is_none());
        assert!(messages(&out)[1..]
            .iter()
            .all(|m| m.payload == ByteLog::of(b"ab")));
    }

    fn observe(frames: &[(Opcode, bool, &[u8])]) -> Vec<Observation> {
        let mut bytes = Vec::new();
        for (op, fin, p) in frames {
            bytes.extend(encode_frame(&FrameEncoding::simple(*op, *fin, None), p).unwrap());
        }
        let mut d = Decoder::new();
        let mut o = Observer::default();
        let mut out = Vec::new();
        for b in bytes.chunks(3) {
            d.feed(b, &mut |ev| o.on_event(ev, &mut out));
        }
        out
    }

    fn messages(obs: &[Observation]) -> Vec<&MessageRecord> {
        obs.iter()
            .filter_map(|o| match o {
                Observation::Message(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_close_body_is_parsed_from_its_first_4096_bytes() {
        let mut body = 1000u16.to_be_bytes().to_vec();
        body.extend(std::iter::repeat_n(b'r', 9998));
        let obs = observe(&[(Opcode::CLOSE, true, &body), (Opcode::TEXT, true, b"after")]);
        let frames: Vec<&FrameRecord> = obs
            .iter()
            .filter_map(|o| match o {
                Observation::Frame(f) => Some(f),
                _ => None,
            })
            .collect();
        let close = frames[0].close.as_ref().expect("a close body");
        assert_eq!(close.code, Some(1000));
        assert_eq!(close.reason.len, (CLOSE_BODY_CAP - 2) as u64);
        assert_eq!(frames[0].payload.len, 10_000);
        assert!(frames[1].close.is_none(), "only close frames have a body");
        let short = observe(&[(Opcode::CLOSE, true, &body[..7])]);
        let Observation::Frame(f) = &short[0] else {
            panic!("{short:?}")
        };
        let close = f.close.as_ref().expect("a close body");
        assert!(close.reason.same_bytes(&ByteLog::of(b"rrrrr")));
    }

    #[test]
    fn fragmented_text_with_ping_between() {
        let obs = observe(&[
            (Opcode::TEXT, false, b"frag"),
            (Opcode::PING, true, b"p"),
            (Opcode::CONTINUATION, true, "κ".as_bytes()),
        ]);
        let m = messages(&obs);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].frames, 2);
        assert!(m[0].payload.same_bytes(&ByteLog::of("fragκ".as_bytes())));
        assert_eq!(m[0].utf8_valid, Some(true));
        assert_eq!(obs.len(), 4);
    }

    #[test]
    fn stray_continuation_is_no_message() {
        let obs = observe(&[(Opcode::CONTINUATION, true, b"x")]);
        assert!(messages(&obs).is_empty());
        assert_eq!(obs.len(), 1);
    }

    #[test]
    fn close_body_parsed() {
        let obs = observe(&[(Opcode::CLOSE, true, b"\x03\xe8bye")]);
        let Observation::Frame(f) = &obs[0] else {
            panic!("expected a frame")
        };
        let c = f.close.as_ref().unwrap();
        assert_eq!(c.code, Some(1000));
        assert_eq!(c.reason.head, b"bye");
        assert!(c.reason_utf8);
    }

    #[test]
    fn invalid_text_flagged() {
        let obs = observe(&[(Opcode::TEXT, true, b"\xff")]);
        assert_eq!(messages(&obs)[0].utf8_valid, Some(false));
    }
}
