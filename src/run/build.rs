//! Turning send steps into exact frames: fragmentation, repetition, masking
//! keys from the case's PRNG, lying or forced length fields. The result is the
//! bytes to write plus what to record about each frame.

use crate::case::model::{MaskSpec, SendFrame};
use crate::wire::decode::FrameHead;
use crate::wire::frame::{encode_frame_into, encode_header, EncodeError, FrameEncoding};
use crate::wire::{Opcode, Prng};

/// One frame ready for the wire: its header fields and unmasked payload. The
/// bytes are produced by [`BuiltFrame::write_to`], straight into the write
/// buffer, so a 16 MiB payload is copied once.
#[derive(Debug, Clone)]
pub struct BuiltFrame {
    pub head: FrameHead,
    pub enc: FrameEncoding,
    pub payload: Vec<u8>,
    /// On the first frame of a message wsspec compressed itself: what it
    /// compressed, so that the message need not be inflated again to be
    /// recorded.
    pub plain: Option<Vec<u8>>,
}

impl BuiltFrame {
    /// Appends the encoded frame to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode_frame_into(&self.enc, &self.payload, out)
    }

    /// The encoded frame's length in bytes.
    pub fn wire_len(&self) -> usize {
        let ext = match self.head.length_form {
            crate::wire::LengthForm::Short => 0,
            crate::wire::LengthForm::Medium => 2,
            crate::wire::LengthForm::Long => 8,
        };
        2 + ext + if self.enc.mask.is_some() { 4 } else { 0 } + self.payload.len()
    }
}

/// Builds the frames of one `send` step. `client_role`: masks by default.
pub fn build_frames(
    spec: &SendFrame,
    prng: &mut Prng,
    client_role: bool,
) -> Result<Vec<BuiltFrame>, EncodeError> {
    build_frames_with(spec, spec.payload.bytes(), 0, prng, client_role)
}

/// Builds the frames of one `send` step around `payload` (the step's own
/// bytes, or what the session made of them: the next slice of a sample, a
/// compressed message); `first_rsv` is added to the first frame's RSV bits
/// (RSV1 for a compressed message, RFC 7692 6).
pub fn build_frames_with(
    spec: &SendFrame,
    payload: Vec<u8>,
    first_rsv: u8,
    prng: &mut Prng,
    client_role: bool,
) -> Result<Vec<BuiltFrame>, EncodeError> {
    let sizes: Vec<usize> = match spec.fragment {
        Some(n) if n > 0 && payload.len() > n => payload.chunks(n).map(<[u8]>::len).collect(),
        _ => vec![payload.len()],
    };
    let repeat = spec.repeat.max(1) as usize;
    let mut out = Vec::with_capacity(sizes.len() * repeat);
    let mut whole = Some(payload);
    for round in 0..repeat {
        let mut offset = 0;
        for (i, size) in sizes.iter().enumerate() {
            let first = i == 0;
            let last = i + 1 == sizes.len();
            let mask = match spec.mask {
                MaskSpec::Auto if client_role => Some(prng.mask_key()),
                MaskSpec::Auto | MaskSpec::Off => None,
                MaskSpec::On => Some(prng.mask_key()),
                // A fixed key applies where wsspec masks (as the client); as
                // the server its frames stay unmasked unless `mask: true`.
                MaskSpec::Key(k) if client_role => Some(k),
                MaskSpec::Key(_) => None,
            };
            let enc = FrameEncoding {
                fin: if last { spec.fin } else { false },
                rsv: if first { spec.rsv.0 | first_rsv } else { 0 },
                opcode: if first {
                    Opcode(spec.opcode.0)
                } else {
                    Opcode::CONTINUATION
                },
                mask,
                mask_payload: spec.mask_payload,
                declared_len: spec.length,
                length_form: spec.length_form.map(|f| f.0),
            };
            // The single frame of the last round takes the payload without a copy.
            let piece = match (&mut whole, sizes.len() == 1 && round + 1 == repeat) {
                (w @ Some(_), true) => w.take().unwrap_or_default(),
                (Some(p), _) => p[offset..offset + size].to_vec(),
                (None, _) => Vec::new(),
            };
            offset += size;
            out.push(frame(enc, piece)?);
        }
    }
    Ok(out)
}

/// Describes one frame (checking that it can be encoded).
pub fn frame(enc: FrameEncoding, payload: Vec<u8>) -> Result<BuiltFrame, EncodeError> {
    let len = enc.declared_len.unwrap_or(payload.len() as u64);
    encode_header(&enc, payload.len() as u64)?;
    Ok(BuiltFrame {
        head: FrameHead {
            fin: enc.fin,
            rsv: enc.rsv,
            opcode: enc.opcode,
            mask: enc.mask,
            len,
            length_form: enc
                .length_form
                .unwrap_or_else(|| crate::wire::LengthForm::minimal(len)),
        },
        enc,
        payload,
        plain: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::de::from_node;
    use crate::case::yaml::parse;

    fn send(src: &str) -> SendFrame {
        from_node(&parse(src).unwrap()).unwrap()
    }

    #[test]
    fn fragments_carry_opcode_then_continuations() {
        let s = send("{opcode: text, payload: abcde, fragment: 2, rsv: 4}");
        let frames = build_frames(&s, &mut Prng::for_case("x", 0), true).unwrap();
        let shape: Vec<(u8, bool, u8, usize)> = frames
            .iter()
            .map(|f| (f.head.opcode.0, f.head.fin, f.head.rsv, f.payload.len()))
            .collect();
        assert_eq!(
            shape,
            vec![(1, false, 4, 2), (0, false, 0, 2), (0, true, 0, 1)]
        );
        assert!(frames.iter().all(|f| f.head.mask.is_some()));
    }

    #[test]
    fn repeat_unmasked_and_lying_length() {
        let s = send("{opcode: ping, repeat: 3, mask: false, payload: p, length: 9}");
        let frames = build_frames(&s, &mut Prng::for_case("x", 0), true).unwrap();
        assert_eq!(frames.len(), 3);
        let mut bytes = Vec::new();
        frames[0].write_to(&mut bytes).unwrap();
        assert_eq!(bytes, vec![0x89, 9, b'p']);
        assert_eq!(frames[0].head.len, 9);
    }

    #[test]
    fn deterministic_keys() {
        let s = send("{opcode: text, payload: abc}");
        let a = build_frames(&s, &mut Prng::for_case("1.1.1", 0), true).unwrap();
        let b = build_frames(&s, &mut Prng::for_case("1.1.1", 0), true).unwrap();
        let (mut x, mut y) = (Vec::new(), Vec::new());
        a[0].write_to(&mut x).unwrap();
        b[0].write_to(&mut y).unwrap();
        assert_eq!(x, y);
    }
}
