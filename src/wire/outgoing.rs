//! One frame on its way out, kept as its encoded header and its payload as
//! the case built it (unmasked, shared behind an `Arc`), its wire bytes made
//! piece by piece as they are written: a piece of a masked payload is masked
//! into a small scratch buffer while it is still in cache. A 16 MiB message
//! is then neither masked in place in one pass nor moved to put its header in
//! front before its first byte goes out, and its plaintext stays readable by
//! whoever else needs it meanwhile (the digest of what was sent). The bytes
//! are those of [`encode_frame`](super::frame::encode_frame), which the tests
//! check.

use std::ops::Range;
use std::sync::Arc;

use super::frame::{encode_header, EncodeError, FrameEncoding};

/// A frame's wire bytes, made on demand from its header and plaintext.
#[derive(Clone, Debug)]
pub struct OutgoingFrame {
    header: Vec<u8>,
    payload: Arc<Vec<u8>>,
    /// The key the payload is masked with on the wire (`None` also for a key
    /// written in the header but not applied, `mask_payload: false`).
    mask: Option<[u8; 4]>,
}

impl OutgoingFrame {
    /// The frame `enc` describes around `payload` (its length field as
    /// `enc` says, lying or forced forms included).
    pub fn new(enc: &FrameEncoding, payload: Arc<Vec<u8>>) -> Result<Self, EncodeError> {
        let header = encode_header(enc, payload.len() as u64)?;
        let mask = enc.mask.filter(|_| enc.mask_payload);
        Ok(OutgoingFrame {
            header,
            payload,
            mask,
        })
    }

    /// The frame's length on the wire.
    pub fn len(&self) -> usize {
        self.header.len() + self.payload.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts the wire bytes in `range` (clamped to the frame) into `out`,
    /// replacing what it held.
    pub fn bytes_into(&self, range: Range<usize>, out: &mut Vec<u8>) {
        out.clear();
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        let h = self.header.len();
        if start < h {
            out.extend_from_slice(&self.header[start..end.min(h)]);
        }
        let (from, to) = (start.max(h) - h, end.max(h) - h);
        if from < to {
            let plain = &self.payload[from..to];
            match self.mask {
                Some(key) => mask_into(plain, key, from, out),
                None => out.extend_from_slice(plain),
            }
        }
    }
}

/// Appends `src` masked with `key` to `out`, `offset` bytes into the payload.
pub fn mask_into(src: &[u8], key: [u8; 4], offset: usize, out: &mut Vec<u8>) {
    let mut rotated = [0u8; 8];
    for (i, b) in rotated.iter_mut().enumerate() {
        *b = key[(offset + i) % 4];
    }
    let word = u64::from_ne_bytes(rotated);
    out.reserve(src.len());
    let mut chunks = src.chunks_exact(8);
    for chunk in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        out.extend_from_slice(&(u64::from_ne_bytes(w) ^ word).to_ne_bytes());
    }
    for (i, b) in chunks.remainder().iter().enumerate() {
        out.push(b ^ rotated[i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::frame::encode_frame;
    use crate::wire::{LengthForm, Opcode};

    /// Every range of every kind of frame gives the bytes of `encode_frame`:
    /// masked or not, a key written but not applied, a lying length, a
    /// forced length form, empty.
    #[test]
    fn pieces_are_the_encoded_frame() {
        let payload: Vec<u8> = (0..70_001u32).map(|i| (i * 7 + 3) as u8).collect();
        let key = Some([0x12, 0x34, 0x56, 0x78]);
        let mut encodings = vec![
            FrameEncoding::simple(Opcode::BINARY, true, None),
            FrameEncoding::simple(Opcode::TEXT, false, key),
        ];
        let mut unapplied = FrameEncoding::simple(Opcode::BINARY, true, key);
        unapplied.mask_payload = false;
        encodings.push(unapplied);
        let mut lying = FrameEncoding::simple(Opcode::PING, true, key);
        lying.declared_len = Some(3);
        lying.length_form = Some(LengthForm::Long);
        encodings.push(lying);
        let mut out = vec![0xaa; 3];
        for enc in encodings {
            for len in [0, 1, 5, 125, 126, 65_536, payload.len()] {
                let want = encode_frame(&enc, &payload[..len]).expect("encodable");
                let f =
                    OutgoingFrame::new(&enc, Arc::new(payload[..len].to_vec())).expect("encodable");
                assert_eq!(f.len(), want.len());
                f.bytes_into(0..usize::MAX, &mut out);
                assert_eq!(out, want, "{enc:?} {len}");
                // In pieces of every awkward size, across the header's end.
                for size in [1, 3, 7, 8, 9, 4096, 65_536] {
                    let mut joined = Vec::new();
                    for at in (0..f.len()).step_by(size) {
                        f.bytes_into(at..at + size, &mut out);
                        joined.extend_from_slice(&out);
                    }
                    assert_eq!(joined, want, "{enc:?} {len} in pieces of {size}");
                }
            }
        }
        let f = OutgoingFrame::new(
            &FrameEncoding::simple(Opcode::TEXT, true, None),
            Arc::new(b"abc".to_vec()),
        )
        .expect("encodable");
        f.bytes_into(9..20, &mut out);
        assert!(out.is_empty(), "a range past the end is empty");
        let mut e = FrameEncoding::simple(Opcode::TEXT, true, None);
        e.length_form = Some(LengthForm::Short);
        assert!(OutgoingFrame::new(&e, Arc::new(vec![0; 126])).is_err());
    }
}
