//! Bounded records of byte strings: the first bytes, the total length and a
//! SHA-256 digest, built incrementally, so that a 16 MiB payload or a peer
//! that streams forever costs a few hundred bytes of memory in a transcript.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How many leading bytes a log keeps by default.
pub const DEFAULT_HEAD: usize = 256;

/// A bounded record of a byte string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteLog {
    /// Total length in bytes.
    pub len: u64,
    /// The first bytes (at most the cap the log was built with).
    #[serde(with = "hex_bytes")]
    pub head: Vec<u8>,
    /// Lowercase hex SHA-256 of all bytes.
    pub sha256: String,
}

impl ByteLog {
    pub fn of(data: &[u8]) -> ByteLog {
        let mut b = ByteLogBuilder::new(DEFAULT_HEAD);
        b.push(data);
        b.finish()
    }

    /// True when `head` holds every byte.
    pub fn is_complete(&self) -> bool {
        self.head.len() as u64 == self.len
    }

    /// Same content (length and digest), whatever the head caps were.
    pub fn same_bytes(&self, other: &ByteLog) -> bool {
        self.len == other.len && self.sha256 == other.sha256
    }

    /// A short human description: the text if printable, else hex, plus length.
    pub fn preview(&self, max: usize) -> String {
        let shown = &self.head[..self.head.len().min(max)];
        let more = self.len > shown.len() as u64;
        let body = match std::str::from_utf8(shown) {
            Ok(s) if s.chars().all(|c| !c.is_control()) => format!("{s:?}"),
            _ => format!("hex {}", hex(shown)),
        };
        if more {
            format!(
                "{body}… ({} bytes, sha256 {})",
                self.len,
                &self.sha256[..16]
            )
        } else {
            format!("{body} ({} bytes)", self.len)
        }
    }
}

/// Builds a [`ByteLog`] from pieces.
#[derive(Clone)]
pub struct ByteLogBuilder {
    cap: usize,
    len: u64,
    head: Vec<u8>,
    /// None for a log that only counts and keeps its head (see
    /// [`ByteLogBuilder::without_digest`]).
    hasher: Option<Sha256>,
}

impl ByteLogBuilder {
    pub fn new(cap: usize) -> Self {
        ByteLogBuilder {
            cap,
            len: 0,
            head: Vec::new(),
            hasher: Some(Sha256::new()),
        }
    }

    /// A log whose digest is never computed (`sha256` stays empty): for
    /// payloads nobody records, so that each byte is hashed at most once.
    pub fn without_digest(cap: usize) -> Self {
        ByteLogBuilder {
            hasher: None,
            ..ByteLogBuilder::new(cap)
        }
    }

    pub fn push(&mut self, data: &[u8]) {
        self.len += data.len() as u64;
        let room = self.cap.saturating_sub(self.head.len());
        self.head.extend_from_slice(&data[..room.min(data.len())]);
        if let Some(h) = &mut self.hasher {
            h.update(data);
        }
    }

    /// Counts `data` and keeps what the head has room for, without hashing
    /// it: for bytes known to equal ones hashed elsewhere, or caught up
    /// later with [`hash_only`](ByteLogBuilder::hash_only).
    pub fn count(&mut self, data: &[u8]) {
        self.len += data.len() as u64;
        let room = self.cap.saturating_sub(self.head.len());
        self.head.extend_from_slice(&data[..room.min(data.len())]);
    }

    /// Hashes `data` without counting it: the bytes [`count`](ByteLogBuilder::count)
    /// passed over, in order, before any later [`push`](ByteLogBuilder::push).
    pub fn hash_only(&mut self, data: &[u8]) {
        if let Some(h) = &mut self.hasher {
            h.update(data);
        }
    }

    pub fn head(&self) -> &[u8] {
        &self.head
    }

    pub fn finish(self) -> ByteLog {
        ByteLog {
            len: self.len,
            head: self.head,
            sha256: self.hasher.map(|h| hex(&h.finalize())).unwrap_or_default(),
        }
    }
}

impl std::fmt::Debug for ByteLogBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteLogBuilder")
            .field("len", &self.len)
            .finish()
    }
}

/// Lowercase hex of bytes.
pub fn hex(data: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(data.len() * 2);
    for b in data {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Parses hex, ignoring ASCII whitespace.
pub fn unhex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    digits
        .chunks(2)
        .map(|p| {
            let hi = (p[0] as char).to_digit(16);
            let lo = (p[1] as char).to_digit(16);
            match (hi, lo) {
                (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
                _ => Err(format!(
                    "`{}{}` is not a hex byte",
                    p[0] as char, p[1] as char
                )),
            }
        })
        .collect()
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::hex(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        super::unhex(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_head_full_digest() {
        let data = vec![7u8; 10_000];
        let mut b = ByteLogBuilder::new(16);
        for c in data.chunks(333) {
            b.push(c);
        }
        let log = b.finish();
        assert_eq!(log.len, 10_000);
        assert_eq!(log.head, vec![7u8; 16]);
        assert!(log.same_bytes(&ByteLog::of(&data)));
        assert!(!log.same_bytes(&ByteLog::of(&data[1..])));
    }

    #[test]
    fn previews_show_text_or_hex_and_say_when_cut() {
        assert_eq!(ByteLog::of(b"hello").preview(24), "\"hello\" (5 bytes)");
        assert_eq!(ByteLog::of(b"").preview(24), "\"\" (0 bytes)");
        assert_eq!(ByteLog::of(b"a\x1bb").preview(24), "hex 611b62 (3 bytes)");
        assert_eq!(ByteLog::of(&[0xff, 0x00]).preview(24), "hex ff00 (2 bytes)");
        let long = ByteLog::of(b"abcdefghij");
        assert_eq!(
            long.preview(4),
            format!("\"abcd\"… (10 bytes, sha256 {})", &long.sha256[..16])
        );
        assert_eq!(long.preview(10), "\"abcdefghij\" (10 bytes)");
        assert_eq!(long.preview(11), "\"abcdefghij\" (10 bytes)");
        // A log whose head was capped: the preview says the rest exists.
        let mut b = ByteLogBuilder::new(3);
        b.push(b"abcdef");
        assert_eq!(b.head(), b"abc");
        let capped = b.finish();
        assert!(!capped.is_complete());
        assert!(capped.preview(24).starts_with("\"abc\"… (6 bytes, sha256 "));
        assert!(ByteLog::of(b"abc").is_complete());
    }

    #[test]
    fn serde_keeps_the_head_as_hex() {
        let log = ByteLog::of(&[0xde, 0xad, 0x00]);
        let json = serde_json::to_string(&log).expect("serialize");
        assert!(json.contains("\"head\":\"dead00\""), "{json}");
        let back: ByteLog = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, log);
        let bad = json.replace("dead00", "dead0");
        assert!(serde_json::from_str::<ByteLog>(&bad).is_err());
    }

    #[test]
    fn builder_debug_shows_the_length_only() {
        let mut b = ByteLogBuilder::new(4);
        b.push(b"secret bytes");
        assert_eq!(format!("{b:?}"), "ByteLogBuilder { len: 12 }");
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(unhex("ce ba e1").unwrap(), vec![0xce, 0xba, 0xe1]);
        assert!(unhex("c").is_err());
        assert!(unhex("zz").is_err());
        assert_eq!(hex(&[0, 255]), "00ff");
    }
}
