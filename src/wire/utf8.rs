//! Incremental UTF-8 validation: bytes arrive in pieces, and the validator
//! says whether the stream so far is valid, and whether it ended cleanly.

/// Validates a byte stream fed in arbitrary pieces.
#[derive(Clone, Debug, Default)]
pub struct Utf8Stream {
    /// Up to 3 bytes of an incomplete code point carried between pieces.
    pending: Vec<u8>,
    /// Byte offset (from the stream start) of the first invalid byte, once seen.
    invalid_at: Option<u64>,
    consumed: u64,
}

impl Utf8Stream {
    pub fn feed(&mut self, data: &[u8]) {
        if self.invalid_at.is_some() || data.is_empty() {
            return;
        }
        let mut buf;
        let bytes: &[u8] = if self.pending.is_empty() {
            data
        } else {
            buf = std::mem::take(&mut self.pending);
            buf.extend_from_slice(data);
            &buf
        };
        // `consumed` counts validated bytes; pending bytes start right after them.
        let start_offset = self.consumed;
        match std::str::from_utf8(bytes) {
            Ok(_) => {
                self.consumed = start_offset + bytes.len() as u64;
            }
            Err(e) => match e.error_len() {
                Some(_) => {
                    self.invalid_at = Some(start_offset + e.valid_up_to() as u64);
                }
                None => {
                    let keep = &bytes[e.valid_up_to()..];
                    self.consumed = start_offset + e.valid_up_to() as u64;
                    self.pending = keep.to_vec();
                }
            },
        }
    }

    /// True while no invalid byte has been seen (an incomplete tail is allowed).
    pub fn ok_so_far(&self) -> bool {
        self.invalid_at.is_none()
    }

    /// True when the whole stream is valid and ends on a code point boundary.
    pub fn is_complete_and_valid(&self) -> bool {
        self.invalid_at.is_none() && self.pending.is_empty()
    }

    /// Offset of the first invalid byte, if any.
    pub fn invalid_at(&self) -> Option<u64> {
        self.invalid_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pieces: &[&[u8]]) -> (bool, bool) {
        let mut s = Utf8Stream::default();
        for p in pieces {
            s.feed(p);
        }
        (s.ok_so_far(), s.is_complete_and_valid())
    }

    #[test]
    fn split_code_points() {
        let text = "κόσμε".as_bytes();
        for cut in 0..text.len() {
            assert_eq!(
                check(&[&text[..cut], &text[cut..]]),
                (true, true),
                "cut {cut}"
            );
        }
        let one: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(check(&one), (true, true));
    }

    #[test]
    fn invalid_and_incomplete() {
        assert_eq!(check(&[b"ab\xff"]), (false, false));
        assert_eq!(check(&[b"\xce"]), (true, false));
        assert_eq!(check(&[b"\xce", b"\x41"]), (false, false));
        assert_eq!(check(&[b"\xed\xa0", b"\x80"]), (false, false));
        let mut s = Utf8Stream::default();
        s.feed(b"abc");
        s.feed(b"d\xc0\xaf");
        assert_eq!(s.invalid_at(), Some(4));
        // The first invalid byte stays the one reported.
        s.feed(b"\xff\xff");
        assert_eq!(s.invalid_at(), Some(4));
        // An offset counts the bytes before an incomplete tail.
        let mut s = Utf8Stream::default();
        s.feed(b"abc");
        s.feed(b"d\xce");
        s.feed(b"\x41");
        assert_eq!(s.invalid_at(), Some(4));
    }
}
