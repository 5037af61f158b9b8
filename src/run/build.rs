//! Turning send steps into exact frames: fragmentation, repetition, masking
//! keys from the case's PRNG, lying or forced length fields. The result is the
//! bytes to write plus what to record about each frame.

use crate::case::model::{MaskSpec, SendFrame};
use crate::wire::decode::FrameHead;
use crate::wire::frame::{encode_frame, EncodeError, FrameEncoding};
use crate::wire::Prng;

/// One frame ready for the wire, with its unmasked payload for the record.
#[derive(Debug, Clone)]
pub struct BuiltFrame {
    pub head: FrameHead,
    pub payload: Vec<u8>,
    pub bytes: Vec<u8>,
}

/// Builds the frames of one `send` step. `client_role`: masks by default.
pub fn build_frames(
    spec: &SendFrame,
    prng: &mut Prng,
    client_role: bool,
) -> Result<Vec<BuiltFrame>, EncodeError> {
    let payload = spec.payload.bytes();
    let pieces: Vec<&[u8]> = match spec.fragment {
        Some(n) if n > 0 && !payload.is_empty() => payload.chunks(n).collect(),
        _ => vec![&payload[..]],
    };
    let mut out = Vec::new();
    for _ in 0..spec.repeat.max(1) {
        let count = pieces.len();
        for (i, piece) in pieces.iter().enumerate() {
            let first = i == 0;
            let last = i + 1 == count;
            let mask = match spec.mask {
                MaskSpec::Auto if client_role => Some(prng.mask_key()),
                MaskSpec::Auto | MaskSpec::Off => None,
                MaskSpec::On => Some(prng.mask_key()),
                MaskSpec::Key(k) => Some(k),
            };
            let enc = FrameEncoding {
                fin: if last { spec.fin } else { false },
                rsv: if first { spec.rsv.0 } else { 0 },
                opcode: if first { spec.opcode.0 } else { 0 },
                mask,
                mask_payload: spec.mask_payload,
                declared_len: spec.length,
                length_form: spec.length_form.map(|f| f.0),
            };
            out.push(frame(&enc, piece)?);
        }
    }
    Ok(out)
}

/// Encodes one frame and describes it.
pub fn frame(enc: &FrameEncoding, payload: &[u8]) -> Result<BuiltFrame, EncodeError> {
    let bytes = encode_frame(enc, payload)?;
    let len = enc.declared_len.unwrap_or(payload.len() as u64);
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
        payload: payload.to_vec(),
        bytes,
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
            .map(|f| (f.head.opcode, f.head.fin, f.head.rsv, f.payload.len()))
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
        assert_eq!(frames[0].bytes, vec![0x89, 9, b'p']);
        assert_eq!(frames[0].head.len, 9);
    }

    #[test]
    fn deterministic_keys() {
        let s = send("{opcode: text, payload: abc}");
        let a = build_frames(&s, &mut Prng::for_case("1.1.1", 0), true).unwrap();
        let b = build_frames(&s, &mut Prng::for_case("1.1.1", 0), true).unwrap();
        assert_eq!(a[0].bytes, b[0].bytes);
    }
}
