//! A small DEFLATE compressor for the windows zlib cannot make: zlib refuses
//! raw deflate with an 8-bit (256-byte) window, yet a peer may negotiate
//! `*_max_window_bits=8`. This module owns that sender side: greedy LZ77 with a
//! hash chain whose matches never reach further back than a given distance
//! (into earlier messages only under context takeover), fixed-Huffman blocks
//! (or stored blocks when those are smaller), and the RFC 7692 7.2.1 ending: a
//! sync flush whose `00 00 ff ff` tail is removed.

use super::inflate::{DIST_BASE, DIST_EXTRA, LENGTH_BASE, LENGTH_EXTRA, TAIL, WINDOW_SIZE};

const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 258;
const HASH_BITS: u32 = 15;
/// How many earlier positions with the same hash are tried per position.
const MAX_CHAIN: usize = 48;
/// "No position" in the hash chains.
const NONE: u32 = u32::MAX;
/// The most one stored block holds.
const STORED_MAX: usize = 65535;

/// Compresses the messages of one direction of one connection, in order, with
/// back-references no longer than `max_distance`.
#[derive(Clone, Debug)]
pub struct ShortWindowDeflater {
    max_distance: usize,
    keep_context: bool,
    /// The last `max_distance` bytes sent (empty without context takeover).
    history: Vec<u8>,
}

impl ShortWindowDeflater {
    /// `max_distance` is clamped to `1..=32768`; `keep_context` lets a
    /// message refer into the previous messages' tail (context takeover).
    pub fn new(max_distance: usize, keep_context: bool) -> Self {
        ShortWindowDeflater {
            max_distance: max_distance.clamp(1, WINDOW_SIZE),
            keep_context,
            history: Vec::new(),
        }
    }

    pub fn max_distance(&self) -> usize {
        self.max_distance
    }

    /// One message's payload: fixed-Huffman (or stored) blocks with
    /// `BFINAL=0`, then an empty stored block whose `00 00 ff ff` is removed
    /// (RFC 7692 7.2.1). An empty message is the single octet `00` (RFC 7692
    /// 7.2.3.6).
    pub fn compress_message(&mut self, data: &[u8]) -> Vec<u8> {
        let hist_len = if self.keep_context {
            self.history.len()
        } else {
            0
        };
        let mut buf = Vec::with_capacity(hist_len + data.len());
        buf.extend_from_slice(&self.history[self.history.len() - hist_len..]);
        buf.extend_from_slice(data);

        let mut w = BitWriter::default();
        if !data.is_empty() {
            let tokens = lz77(&buf, hist_len, self.max_distance);
            let fixed_bits = 3 + tokens.iter().map(|t| t.fixed_bits()).sum::<usize>() + 7;
            let stored_bits = data.len().div_ceil(STORED_MAX) * (5 * 8 + 7) + data.len() * 8;
            if fixed_bits <= stored_bits {
                // BFINAL=0, BTYPE=01.
                w.put(0b010, 3);
                for t in &tokens {
                    t.write(&mut w);
                }
                put_litlen(&mut w, 256);
            } else {
                for chunk in data.chunks(STORED_MAX) {
                    write_stored(&mut w, chunk);
                }
            }
        }
        // The sync flush: an empty stored block, then the tail removed.
        write_stored(&mut w, &[]);
        let mut out = w.finish();
        debug_assert!(out.ends_with(&TAIL));
        out.truncate(out.len() - TAIL.len());

        if self.keep_context {
            let keep = buf.len().min(self.max_distance);
            self.history.clear();
            self.history.extend_from_slice(&buf[buf.len() - keep..]);
        } else {
            self.history.clear();
        }
        out
    }
}

/// One LZ77 step.
#[derive(Clone, Copy, Debug)]
enum Token {
    Literal(u8),
    Match { length: usize, distance: usize },
}

impl Token {
    fn fixed_bits(self) -> usize {
        match self {
            Token::Literal(b) => {
                if b < 144 {
                    8
                } else {
                    9
                }
            }
            Token::Match { length, distance } => {
                let (lsym, lextra, _) = length_code(length);
                let (_, dextra, _) = distance_code(distance);
                (if lsym < 280 { 7 } else { 8 }) + lextra as usize + 5 + dextra as usize
            }
        }
    }

    fn write(self, w: &mut BitWriter) {
        match self {
            Token::Literal(b) => put_litlen(w, u16::from(b)),
            Token::Match { length, distance } => {
                let (lsym, lextra, lvalue) = length_code(length);
                put_litlen(w, lsym);
                w.put(lvalue, lextra);
                let (dsym, dextra, dvalue) = distance_code(distance);
                w.put_code(u32::from(dsym), 5);
                w.put(dvalue, dextra);
            }
        }
    }
}

/// Length 3..=258 → (symbol, extra-bit count, extra-bit value).
fn length_code(length: usize) -> (u16, u32, u32) {
    let i = LENGTH_BASE
        .partition_point(|&b| usize::from(b) <= length)
        .saturating_sub(1);
    (
        257 + i as u16,
        u32::from(LENGTH_EXTRA[i]),
        (length - usize::from(LENGTH_BASE[i])) as u32,
    )
}

/// Distance 1..=32768 → (symbol, extra-bit count, extra-bit value).
fn distance_code(distance: usize) -> (u16, u32, u32) {
    let i = DIST_BASE
        .partition_point(|&b| usize::from(b) <= distance)
        .saturating_sub(1);
    (
        i as u16,
        u32::from(DIST_EXTRA[i]),
        (distance - usize::from(DIST_BASE[i])) as u32,
    )
}

/// A literal/length symbol in the fixed code (RFC 1951 3.2.6).
fn put_litlen(w: &mut BitWriter, sym: u16) {
    let sym = u32::from(sym);
    let (code, len) = match sym {
        0..=143 => (0x30 + sym, 8),
        144..=255 => (0x190 + sym - 144, 9),
        256..=279 => (sym - 256, 7),
        _ => (0xc0 + sym - 280, 8),
    };
    w.put_code(code, len);
}

/// A stored block with `BFINAL=0`.
fn write_stored(w: &mut BitWriter, chunk: &[u8]) {
    w.put(0, 3);
    w.align();
    let len = chunk.len() as u16;
    w.bytes(&len.to_le_bytes());
    w.bytes(&(!len).to_le_bytes());
    w.bytes(chunk);
}

/// Greedy LZ77 over `buf`, from `start` on (bytes before it are history that
/// matches may reach into), with distances at most `max_distance`.
fn lz77(buf: &[u8], start: usize, max_distance: usize) -> Vec<Token> {
    let mut chains = Chains {
        head: vec![NONE; 1 << HASH_BITS],
        prev: vec![NONE; buf.len()],
    };
    for i in 0..start {
        chains.insert(buf, i);
    }
    let mut tokens = Vec::with_capacity((buf.len() - start) / 2 + 1);
    let mut i = start;
    while i < buf.len() {
        let max_len = (buf.len() - i).min(MAX_MATCH);
        let (mut best_len, mut best_dist) = (0, 0);
        let mut cand = hash(buf, i).map_or(NONE, |h| chains.head[h]);
        let mut chain = 0;
        while cand != NONE && chain < MAX_CHAIN {
            let c = cand as usize;
            let distance = i - c;
            if distance > max_distance {
                break;
            }
            // A candidate can only do better if it matches one byte further.
            let len = if best_len < max_len && buf[c + best_len] == buf[i + best_len] {
                match_len(&buf[c..], &buf[i..i + max_len])
            } else {
                0
            };
            if len > best_len {
                best_len = len;
                best_dist = distance;
                if len == max_len {
                    break;
                }
            }
            cand = chains.prev[c];
            chain += 1;
        }
        let step = if best_len >= MIN_MATCH {
            tokens.push(Token::Match {
                length: best_len,
                distance: best_dist,
            });
            best_len
        } else {
            tokens.push(Token::Literal(buf[i]));
            1
        };
        for k in i..i + step {
            chains.insert(buf, k);
        }
        i += step;
    }
    tokens
}

/// How many leading bytes of `b` (at most `b.len()`) equal those of `a`,
/// which is at least as long; eight at a time.
fn match_len(a: &[u8], b: &[u8]) -> usize {
    let mut n = 0;
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        let (Ok(x), Ok(y)) = (<[u8; 8]>::try_from(x), <[u8; 8]>::try_from(y)) else {
            break;
        };
        let diff = u64::from_le_bytes(x) ^ u64::from_le_bytes(y);
        if diff != 0 {
            return n + (diff.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + a[n..]
        .iter()
        .zip(&b[n..])
        .take_while(|(x, y)| x == y)
        .count()
}

/// Hash chains: `head[h]` is the latest position whose next three bytes hash
/// to `h`, `prev[i]` the one before position `i` with the same hash.
struct Chains {
    head: Vec<u32>,
    prev: Vec<u32>,
}

impl Chains {
    fn insert(&mut self, buf: &[u8], i: usize) {
        if let Some(h) = hash(buf, i) {
            self.prev[i] = self.head[h];
            self.head[h] = i as u32;
        }
    }
}

/// The hash of the three bytes at `i`, if there are three.
fn hash(buf: &[u8], i: usize) -> Option<usize> {
    let b = buf.get(i..i + MIN_MATCH)?;
    let v = u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16;
    Some((v.wrapping_mul(0x9e37_79b1) >> (32 - HASH_BITS)) as usize)
}

/// Writes bits LSB-first.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    /// Appends the low `count <= 32` bits of `bits`, LSB first.
    fn put(&mut self, bits: u32, count: u32) {
        self.acc |= u64::from(bits) << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// Appends a Huffman code, which DEFLATE packs MSB first.
    fn put_code(&mut self, code: u32, len: u32) {
        self.put(code.reverse_bits() >> (32 - len), len);
    }

    /// Pads with zero bits to a byte boundary.
    fn align(&mut self) {
        if self.n > 0 {
            self.out.push(self.acc as u8);
            self.acc = 0;
            self.n = 0;
        }
    }

    /// Appends bytes at a byte boundary.
    fn bytes(&mut self, bytes: &[u8]) {
        debug_assert_eq!(self.n, 0);
        self.out.extend_from_slice(bytes);
    }

    fn finish(mut self) -> Vec<u8> {
        self.align();
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_message_is_a_single_zero_octet() {
        let mut d = ShortWindowDeflater::new(256, true);
        assert_eq!(d.compress_message(b""), [0x00]);
        assert_eq!(d.compress_message(b""), [0x00]);
    }

    #[test]
    fn codes_for_lengths_and_distances() {
        assert_eq!(length_code(3), (257, 0, 0));
        assert_eq!(length_code(10), (264, 0, 0));
        assert_eq!(length_code(12), (265, 1, 1));
        assert_eq!(length_code(257), (284, 5, 30));
        assert_eq!(length_code(258), (285, 0, 0));
        assert_eq!(distance_code(1), (0, 0, 0));
        assert_eq!(distance_code(256), (15, 6, 63));
        assert_eq!(distance_code(257), (16, 7, 0));
        assert_eq!(distance_code(32768), (29, 13, 8191));
    }

    #[test]
    fn hello_compresses_like_the_rfc_example() {
        // RFC 7692 7.2.3.1: "Hello" as one fixed block, tail removed.
        let mut d = ShortWindowDeflater::new(256, true);
        assert_eq!(
            d.compress_message(b"Hello"),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
        // 7.2.3.2: the second "Hello" refers back into the first. zlib sends
        // `f2 00 11 00 00` ('H' and a 4-byte match); one 5-byte match at
        // distance 5 is a byte shorter.
        assert_eq!(d.compress_message(b"Hello"), [0x02, 0x13, 0x00, 0x00]);
    }
}
