//! The streaming frame decoder. It accepts any byte stream and turns it into
//! frame heads, payload pieces (unmasked) and frame ends, recording exactly how
//! each header was written (length form, mask key). It rejects nothing and never
//! allocates by a peer's declared length: a frame claiming 2^63 bytes just
//! yields payload pieces as they arrive.

use serde::{Deserialize, Serialize};

use super::frame::apply_mask;
use super::opcode::Opcode;

/// Which of the three payload-length encodings a header used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LengthForm {
    /// 7-bit length in the second byte (0..=125).
    #[serde(rename = "7")]
    Short,
    /// 126 followed by a 16-bit length.
    #[serde(rename = "16")]
    Medium,
    /// 127 followed by a 64-bit length.
    #[serde(rename = "64")]
    Long,
}

impl LengthForm {
    pub fn minimal(len: u64) -> LengthForm {
        if len <= 125 {
            LengthForm::Short
        } else if len <= u16::MAX as u64 {
            LengthForm::Medium
        } else {
            LengthForm::Long
        }
    }
}

impl std::fmt::Display for LengthForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LengthForm::Short => "7-bit",
            LengthForm::Medium => "16-bit",
            LengthForm::Long => "64-bit",
        })
    }
}

/// A decoded frame header, as the peer wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameHead {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: Opcode,
    pub mask: Option<[u8; 4]>,
    pub len: u64,
    pub length_form: LengthForm,
}

impl FrameHead {
    /// True when the length used the shortest form (RFC 6455 5.2 requires it)
    /// and a 64-bit length has its most significant bit clear.
    pub fn length_is_canonical(&self) -> bool {
        self.length_form == LengthForm::minimal(self.len) && self.len >> 63 == 0
    }
}

/// What the decoder found in the bytes fed to it.
#[derive(Debug, PartialEq, Eq)]
pub enum DecodeEvent<'a> {
    Head(FrameHead),
    /// A piece of the current frame's payload, already unmasked.
    Payload(&'a [u8]),
    End,
}

#[derive(Debug, Default)]
enum State {
    #[default]
    Header,
    Payload {
        remaining: u64,
        mask: Option<[u8; 4]>,
        offset: usize,
    },
}

/// Incremental decoder; feed it whatever arrives.
#[derive(Debug, Default)]
pub struct Decoder {
    state: State,
    header: Vec<u8>,
    scratch: Vec<u8>,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// True when the stream stopped in the middle of a frame.
    pub fn mid_frame(&self) -> bool {
        !self.header.is_empty() || matches!(self.state, State::Payload { .. })
    }

    /// Hands the rest of the current frame's payload on as it arrives,
    /// without unmasking (or copying) it: for a reader that has no use for
    /// these bytes. No effect outside a payload.
    pub fn leave_masked(&mut self) {
        if let State::Payload { mask, .. } = &mut self.state {
            *mask = None;
        }
    }

    /// Consumes `data`, reporting every event to `sink` in order.
    pub fn feed(&mut self, mut data: &[u8], sink: &mut dyn FnMut(DecodeEvent<'_>)) {
        while !data.is_empty() {
            match &mut self.state {
                State::Header => {
                    let need = header_len(&self.header);
                    let take = need.saturating_sub(self.header.len()).min(data.len());
                    self.header.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    if self.header.len() < header_len(&self.header) {
                        continue;
                    }
                    let head = parse_header(&self.header);
                    self.header.clear();
                    let (remaining, mask) = (head.len, head.mask);
                    sink(DecodeEvent::Head(head));
                    if remaining == 0 {
                        sink(DecodeEvent::End);
                    } else {
                        self.state = State::Payload {
                            remaining,
                            mask,
                            offset: 0,
                        };
                    }
                }
                State::Payload {
                    remaining,
                    mask,
                    offset,
                } => {
                    let take = (*remaining).min(data.len() as u64) as usize;
                    let piece = &data[..take];
                    data = &data[take..];
                    match mask {
                        Some(key) => {
                            self.scratch.clear();
                            self.scratch.extend_from_slice(piece);
                            apply_mask(&mut self.scratch, *key, *offset);
                            sink(DecodeEvent::Payload(&self.scratch));
                        }
                        None => sink(DecodeEvent::Payload(piece)),
                    }
                    *remaining -= take as u64;
                    *offset = (*offset + take) % 4;
                    if *remaining == 0 {
                        self.state = State::Header;
                        sink(DecodeEvent::End);
                    }
                }
            }
        }
    }
}

/// How many header bytes are needed, given what has been read so far.
pub(crate) fn header_len(partial: &[u8]) -> usize {
    if partial.len() < 2 {
        return 2;
    }
    let masked = partial[1] & 0x80 != 0;
    let ext = match partial[1] & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + ext + if masked { 4 } else { 0 }
}

/// A whole frame header (`header_len` bytes of it) read.
pub(crate) fn parse_header(h: &[u8]) -> FrameHead {
    let b0 = h[0];
    let b1 = h[1];
    let (len, length_form, rest) = match b1 & 0x7f {
        126 => (
            u16::from_be_bytes([h[2], h[3]]) as u64,
            LengthForm::Medium,
            &h[4..],
        ),
        127 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[2..10]);
            (u64::from_be_bytes(b), LengthForm::Long, &h[10..])
        }
        n => (n as u64, LengthForm::Short, &h[2..]),
    };
    let mask = if b1 & 0x80 != 0 {
        Some([rest[0], rest[1], rest[2], rest[3]])
    } else {
        None
    };
    FrameHead {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 7,
        opcode: Opcode(b0 & 0x0f),
        mask,
        len,
        length_form,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::frame::{encode_frame, FrameEncoding};
    use proptest::prelude::*;

    /// Decodes a byte stream fed in pieces of `step` bytes into (head, payload) pairs.
    fn decode_all(bytes: &[u8], step: usize) -> Vec<(FrameHead, Vec<u8>)> {
        let mut d = Decoder::new();
        let mut out: Vec<(FrameHead, Vec<u8>)> = Vec::new();
        for piece in bytes.chunks(step.max(1)) {
            d.feed(piece, &mut |ev| match ev {
                DecodeEvent::Head(h) => out.push((h, Vec::new())),
                DecodeEvent::Payload(p) => {
                    if let Some(last) = out.last_mut() {
                        last.1.extend_from_slice(p)
                    }
                }
                DecodeEvent::End => {}
            });
        }
        assert!(!d.mid_frame());
        out
    }

    fn arb_form() -> impl Strategy<Value = Option<LengthForm>> {
        prop_oneof![
            Just(None),
            Just(Some(LengthForm::Medium)),
            Just(Some(LengthForm::Long))
        ]
    }

    proptest! {
        #[test]
        fn round_trip_every_shape(
            fin in any::<bool>(),
            rsv in 0u8..8,
            opcode in 0u8..16,
            mask in proptest::option::of(any::<[u8; 4]>()),
            form in arb_form(),
            payload in proptest::collection::vec(any::<u8>(), 0..600),
            step in 1usize..64,
        ) {
            let enc = FrameEncoding { fin, rsv, opcode: Opcode(opcode), mask, mask_payload: true, declared_len: None, length_form: form };
            let bytes = encode_frame(&enc, &payload).unwrap();
            let frames = decode_all(&bytes, step);
            prop_assert_eq!(frames.len(), 1);
            let (h, p) = &frames[0];
            prop_assert_eq!(h.fin, fin);
            prop_assert_eq!(h.rsv, rsv);
            prop_assert_eq!(h.opcode, Opcode(opcode));
            prop_assert_eq!(h.mask, mask);
            prop_assert_eq!(h.len, payload.len() as u64);
            prop_assert_eq!(h.length_form, form.unwrap_or(LengthForm::minimal(payload.len() as u64)));
            prop_assert_eq!(p, &payload);
        }

        #[test]
        fn agrees_with_tungstenite_on_valid_frames(
            opcode in prop_oneof![Just(1u8), Just(2u8), Just(9u8), Just(10u8)],
            payload in proptest::collection::vec(any::<u8>(), 0..125),
            key in any::<[u8; 4]>(),
        ) {
            use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader, coding::OpCode};
            let enc = FrameEncoding::simple(crate::wire::Opcode(opcode), true, Some(key));
            let ours = encode_frame(&enc, &payload).unwrap();
            let header = FrameHeader { is_final: true, rsv1: false, rsv2: false, rsv3: false, opcode: OpCode::from(opcode), mask: Some(key) };
            let frame = Frame::from_payload(header, payload.clone().into());
            let mut theirs = Vec::new();
            frame.format(&mut theirs).unwrap();
            prop_assert_eq!(ours, theirs);
        }

        #[test]
        fn never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..300), step in 1usize..17) {
            let mut d = Decoder::new();
            for piece in bytes.chunks(step) {
                d.feed(piece, &mut |_| {});
            }
        }
    }

    #[test]
    fn the_rest_of_a_frame_can_be_left_masked() {
        let enc = FrameEncoding::simple(Opcode(2), true, Some([1, 2, 3, 4]));
        let bytes = encode_frame(&enc, b"abcdefgh").unwrap();
        let mut d = Decoder::new();
        let mut got = Vec::new();
        let mut sink = |ev: DecodeEvent<'_>| {
            if let DecodeEvent::Payload(p) = ev {
                got.extend_from_slice(p)
            }
        };
        d.feed(&bytes[..6 + 3], &mut sink);
        d.leave_masked();
        d.feed(&bytes[6 + 3..], &mut sink);
        // the first three unmasked, the rest as they were on the wire
        assert_eq!(&got[..3], b"abc");
        assert_eq!(&got[3..], &bytes[6 + 3..]);
        assert!(!d.mid_frame());
        d.leave_masked();
        assert!(!d.mid_frame());
    }

    #[test]
    fn huge_declared_length_does_not_allocate() {
        let mut bytes = vec![0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        bytes.extend_from_slice(b"abc");
        let mut heads = Vec::new();
        let mut got = 0;
        let mut d = Decoder::new();
        d.feed(&bytes, &mut |ev| match ev {
            DecodeEvent::Head(h) => heads.push(h),
            DecodeEvent::Payload(p) => got += p.len(),
            DecodeEvent::End => panic!("frame cannot have ended"),
        });
        assert_eq!(heads[0].len, 0x7fff_ffff_ffff_ffff);
        assert_eq!(got, 3);
        assert!(d.mid_frame());
    }

    #[test]
    fn length_forms_by_name_and_bound() {
        let names: Vec<String> = [LengthForm::Short, LengthForm::Medium, LengthForm::Long]
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(names, ["7-bit", "16-bit", "64-bit"]);
        let forms: Vec<LengthForm> = [0, 125, 126, 65535, 65536]
            .into_iter()
            .map(LengthForm::minimal)
            .collect();
        use LengthForm::*;
        assert_eq!(forms, [Short, Short, Medium, Medium, Long]);
    }

    #[test]
    fn non_minimal_length_is_recorded() {
        let frames = decode_all(&[0x81, 126, 0, 2, b'h', b'i'], 1);
        assert_eq!(frames[0].0.length_form, LengthForm::Medium);
        assert!(!frames[0].0.length_is_canonical());
    }
}
