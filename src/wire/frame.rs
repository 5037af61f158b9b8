//! The frame encoder: a frame header described field by field, written
//! exactly as described. Nothing here validates; an encoding that cannot be
//! represented at all (a 300-byte length in a 7-bit field) is an error.

use super::decode::LengthForm;
pub use super::opcode::Opcode;

/// Everything about a frame's header that a case may set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameEncoding {
    pub fin: bool,
    /// RSV1..3 as a 3-bit number (RSV1 = 4).
    pub rsv: u8,
    pub opcode: Opcode,
    /// Mask key; `Some` sets the MASK bit.
    pub mask: Option<[u8; 4]>,
    /// When false, the MASK bit and key are written but the payload is sent clear.
    pub mask_payload: bool,
    /// The length written into the header, if it should differ from the payload's.
    pub declared_len: Option<u64>,
    /// Force a length form (non-minimal encodings); default is the minimal one.
    pub length_form: Option<LengthForm>,
}

impl FrameEncoding {
    pub fn simple(opcode: Opcode, fin: bool, mask: Option<[u8; 4]>) -> Self {
        FrameEncoding {
            fin,
            rsv: 0,
            opcode,
            mask,
            mask_payload: true,
            declared_len: None,
            length_form: None,
        }
    }
}

/// Why a frame description cannot be put on the wire.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncodeError {
    #[error("opcode {0} does not fit in 4 bits")]
    Opcode(u8),
    #[error("rsv {0} does not fit in 3 bits")]
    Rsv(u8),
    #[error("length {len} cannot be written in the {form} length form")]
    Length { len: u64, form: LengthForm },
}

/// Encodes the header only (useful for huge payloads written separately).
pub fn encode_header(enc: &FrameEncoding, payload_len: u64) -> Result<Vec<u8>, EncodeError> {
    if enc.opcode.0 > 0xF {
        return Err(EncodeError::Opcode(enc.opcode.0));
    }
    if enc.rsv > 7 {
        return Err(EncodeError::Rsv(enc.rsv));
    }
    let len = enc.declared_len.unwrap_or(payload_len);
    let form = enc.length_form.unwrap_or_else(|| LengthForm::minimal(len));
    let mut out = Vec::with_capacity(14);
    out.push(((enc.fin as u8) << 7) | (enc.rsv << 4) | enc.opcode.0);
    let mask_bit = if enc.mask.is_some() { 0x80 } else { 0 };
    match form {
        LengthForm::Short => {
            if len > 125 {
                return Err(EncodeError::Length { len, form });
            }
            out.push(mask_bit | len as u8);
        }
        LengthForm::Medium => {
            if len > u16::MAX as u64 {
                return Err(EncodeError::Length { len, form });
            }
            out.push(mask_bit | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        LengthForm::Long => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if let Some(key) = enc.mask {
        out.extend_from_slice(&key);
    }
    Ok(out)
}

/// Encodes a whole frame: header, then the payload (masked when asked).
pub fn encode_frame(enc: &FrameEncoding, payload: &[u8]) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(14 + payload.len());
    encode_frame_into(enc, payload, &mut out)?;
    Ok(out)
}

/// Appends a whole frame to `out` (no intermediate copies of the payload).
pub fn encode_frame_into(
    enc: &FrameEncoding,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let header = encode_header(enc, payload.len() as u64)?;
    out.extend_from_slice(&header);
    let start = out.len();
    out.extend_from_slice(payload);
    if let (Some(key), true) = (enc.mask, enc.mask_payload) {
        apply_mask(&mut out[start..], key, 0);
    }
    Ok(())
}

/// XORs `data` with the mask key, starting `offset` bytes into the payload.
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    let mut rotated = [0u8; 4];
    for (i, b) in rotated.iter_mut().enumerate() {
        *b = key[(offset + i) % 4];
    }
    let word = u32::from_ne_bytes(rotated);
    let mut chunks = data.chunks_exact_mut(4);
    for chunk in &mut chunks {
        let mut w = [0u8; 4];
        w.copy_from_slice(chunk);
        let x = u32::from_ne_bytes(w) ^ word;
        chunk.copy_from_slice(&x.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= rotated[i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_lengths() {
        let e = FrameEncoding::simple(Opcode::TEXT, true, None);
        assert_eq!(encode_header(&e, 125).unwrap(), vec![0x81, 125]);
        assert_eq!(encode_header(&e, 126).unwrap(), vec![0x81, 126, 0, 126]);
        assert_eq!(
            encode_header(&e, 65536).unwrap(),
            vec![0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]
        );
    }

    #[test]
    fn forced_and_lying_lengths() {
        let mut e = FrameEncoding::simple(Opcode::BINARY, false, None);
        e.length_form = Some(LengthForm::Long);
        e.declared_len = Some(1 << 63);
        e.rsv = 5;
        let h = encode_header(&e, 3).unwrap();
        assert_eq!(h, vec![0x52, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]);
        e.length_form = Some(LengthForm::Short);
        e.declared_len = Some(300);
        assert!(encode_header(&e, 3).is_err());
    }

    #[test]
    fn each_forced_form_holds_exactly_its_range() {
        let mut e = FrameEncoding::simple(Opcode::BINARY, true, None);
        e.length_form = Some(LengthForm::Medium);
        assert_eq!(
            encode_header(&e, 65_535).expect("fits"),
            [0x82, 126, 0xff, 0xff]
        );
        assert!(encode_header(&e, 65_536).is_err());
        e.length_form = Some(LengthForm::Short);
        assert_eq!(encode_header(&e, 125).expect("fits"), [0x82, 125]);
        assert!(encode_header(&e, 126).is_err());
        // Every header bit in one frame: FIN, RSV 1-3, opcode 0xF, MASK.
        let mut e = FrameEncoding::simple(Opcode(0xF), true, Some([9, 9, 9, 9]));
        e.rsv = 7;
        assert_eq!(
            encode_header(&e, 1).expect("fits"),
            [0xff, 0x81, 9, 9, 9, 9]
        );
        e.rsv = 8;
        assert!(encode_header(&e, 1).is_err());
        e.rsv = 0;
        e.opcode = Opcode(0x10);
        assert!(encode_header(&e, 1).is_err());
    }

    #[test]
    fn mask_without_masking() {
        let mut e = FrameEncoding::simple(Opcode::TEXT, true, Some([1, 2, 3, 4]));
        e.mask_payload = false;
        assert_eq!(
            encode_frame(&e, b"hi").unwrap(),
            vec![0x81, 0x82, 1, 2, 3, 4, b'h', b'i']
        );
        e.mask_payload = true;
        assert_eq!(
            encode_frame(&e, b"hi").unwrap(),
            vec![0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]
        );
    }

    #[test]
    fn mask_offsets_compose() {
        let key = [0xde, 0xad, 0xbe, 0xef];
        let data: Vec<u8> = (0..37).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        let mut parts = data.clone();
        let (a, b) = parts.split_at_mut(7);
        apply_mask(a, key, 0);
        apply_mask(b, key, 7);
        assert_eq!(whole, parts);
    }
}
