//! The DEFLATE (RFC 1951) decoder that judges permessage-deflate (RFC 7692)
//! messages: it owns the bit-level decoding of stored, fixed-Huffman and
//! dynamic-Huffman blocks, the 32 KiB of history kept across messages, the
//! RFC 7692 section 7.2.2 tail (`00 00 ff ff`) it appends itself, and the facts
//! a judge needs beyond the bytes: the largest back-reference distance, whether
//! a reference reached into an earlier message, how the message ended, which
//! kinds of blocks it used, and, for a corrupt message, what was wrong and at
//! which bit. Output is bounded by the caller, so a decompression bomb costs at
//! most `max_output` plus the window; every input, however hostile, yields an
//! [`Inflation`] and never a panic.

use std::fmt;

/// The largest distance DEFLATE can refer back: 2^15 bytes.
pub const WINDOW_SIZE: usize = 32 * 1024;

/// The four octets a sender removes and a receiver appends (RFC 7692 7.2.1,
/// 7.2.2): the LEN/NLEN of an empty stored block.
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Base match length of length symbols 257..=285 (RFC 1951 3.2.5).
pub(crate) const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
/// Extra bits of length symbols 257..=285.
pub(crate) const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distance of distance symbols 0..=29.
pub(crate) const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
/// Extra bits of distance symbols 0..=29.
pub(crate) const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// The order in which a dynamic block lists the code-length code's lengths.
const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// Room kept free after the write position on the fast path: the longest
/// match (258) plus the 16 bytes a chunked copy may write past its end.
const SLACK: usize = 258 + 16;

// ---------------------------------------------------------------------------
// What a message inflates to.

/// Everything the inflater found in one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inflation {
    /// The inflated message: all of it when `outcome` is `Complete`, at most
    /// `max_output` bytes when `TooLarge`, what was decoded before the fault
    /// when `Corrupt`.
    pub data: Vec<u8>,
    pub outcome: InflateOutcome,
    /// The largest back-reference distance used in this message (0 if none):
    /// a peer that agreed to `*_max_window_bits=w` must keep it `<= 1 << w`.
    pub max_distance: usize,
    /// A back-reference reached before this message's first byte, into the
    /// history of earlier messages (forbidden under `*_no_context_takeover`).
    pub refers_to_earlier_message: bool,
    /// A back-reference in a DEFLATE stream that followed a `BFINAL` block in
    /// this message reached before that stream's first byte, but not before the
    /// message: across the end of a DEFLATE stream.
    pub refers_across_final_block: bool,
    /// At least one block had `BFINAL=1` (RFC 7692 7.2.1 allows it; the blocks
    /// after it, if any, start a new DEFLATE stream in the same message).
    pub final_block: bool,
    /// How many octets of the appended `00 00 ff ff` tail were left unread
    /// because the message's last block had `BFINAL=1` and ended before them:
    /// 0 for a message that ends with the (empty) stored block RFC 7692 7.2.1
    /// asks for (including the 7.2.3.4 form `... 00` after a `BFINAL` block);
    /// 4 when the payload ends right after a `BFINAL` block without that
    /// `00` octet; 1 to 3 when the `BFINAL` block itself needed bits of the tail.
    pub tail_ignored: usize,
    /// The padding bits after a `BFINAL` block were not all zero (RFC 7692
    /// 7.2.1: "an endpoint MUST add minimal padding bits of 0").
    pub nonzero_padding: bool,
    /// How many blocks of each kind were decoded (a block that failed counts).
    pub blocks: BlockCounts,
}

impl Inflation {
    /// True when the whole message was decoded without fault or limit.
    pub fn is_complete(&self) -> bool {
        self.outcome == InflateOutcome::Complete
    }
}

/// How decoding a message ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InflateOutcome {
    /// The message decoded to its end.
    Complete,
    /// The message inflates to more than `max_output` bytes; decoding stopped
    /// there and `data` holds exactly `max_output` bytes.
    TooLarge,
    /// The compressed data is not valid DEFLATE (or ends inside a block).
    Corrupt(InflateError),
}

/// How many blocks of each type a message held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockCounts {
    /// Stored (uncompressed, `BTYPE=00`) blocks, the empty sync-flush block
    /// included.
    pub stored: usize,
    /// Fixed-Huffman (`BTYPE=01`) blocks.
    pub fixed: usize,
    /// Dynamic-Huffman (`BTYPE=10`) blocks.
    pub dynamic: usize,
    /// Blocks of any type with `BFINAL=1`.
    pub final_blocks: usize,
}

impl BlockCounts {
    pub fn total(&self) -> usize {
        self.stored + self.fixed + self.dynamic
    }
}

/// What was wrong with a corrupt message, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InflateError {
    /// How many bits of the payload (followed by the appended tail) had been
    /// read when the fault was found.
    pub bit_offset: u64,
    pub kind: InflateErrorKind,
}

impl fmt::Display for InflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (at bit {}, in byte {} of the payload)",
            self.kind,
            self.bit_offset,
            self.bit_offset / 8
        )
    }
}

impl std::error::Error for InflateError {}

/// Which Huffman code a fault is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeKind {
    /// The code that codes the other two codes' lengths.
    CodeLengths,
    LiteralLength,
    Distance,
}

impl fmt::Display for CodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CodeKind::CodeLengths => "code-length",
            CodeKind::LiteralLength => "literal/length",
            CodeKind::Distance => "distance",
        })
    }
}

/// The faults a DEFLATE stream can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InflateErrorKind {
    /// `BTYPE=11`.
    ReservedBlockType,
    /// A stored block whose NLEN is not the one's complement of its LEN.
    StoredLengthMismatch { len: u16, nlen: u16 },
    /// A dynamic block declaring more than 286 literal/length or 30 distance
    /// codes.
    TooManySymbols {
        literal_lengths: usize,
        distances: usize,
    },
    /// More codes of some lengths than there are bit patterns.
    OversubscribedCode(CodeKind),
    /// Bit patterns left over, where the code must be complete (the
    /// code-length code always; the other two unless they have a single
    /// one-bit code).
    IncompleteCode(CodeKind),
    /// Every length of the code-length code is zero.
    NoCodeLengthCodes,
    /// Code-length symbol 16 ("repeat the previous length") as the first one.
    RepeatWithoutPrevious,
    /// A code-length repeat runs past the number of lengths declared.
    TooManyLengths { declared: usize, reached: usize },
    /// The literal/length code has no code for symbol 256.
    MissingEndOfBlock,
    /// Bits that are no code of an incomplete (or empty) code.
    InvalidCode(CodeKind),
    /// Literal/length symbol 286 or 287 (only codable in fixed blocks).
    InvalidLiteralLengthSymbol(u16),
    /// Distance symbol 30 or 31 (only codable in fixed blocks).
    InvalidDistanceSymbol(u16),
    /// A back-reference further back than all the history there is.
    DistanceTooFarBack { distance: usize, available: usize },
    /// The input ends inside a block.
    UnexpectedEnd,
}

impl fmt::Display for InflateErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            InflateErrorKind::ReservedBlockType => {
                f.write_str("block type 3, which is reserved (RFC 1951 3.2.3)")
            }
            InflateErrorKind::StoredLengthMismatch { len, nlen } => write!(
                f,
                "stored block LEN {len} ({len:#06x}) does not match NLEN {nlen:#06x}, \
                 which must be its one's complement {:#06x}",
                !len
            ),
            InflateErrorKind::TooManySymbols {
                literal_lengths,
                distances,
            } => write!(
                f,
                "dynamic block declares {literal_lengths} literal/length codes and \
                 {distances} distance codes, but at most 286 and 30 are allowed"
            ),
            InflateErrorKind::OversubscribedCode(code) => write!(
                f,
                "the {code} code lengths are over-subscribed (more codes than bit patterns)"
            ),
            InflateErrorKind::IncompleteCode(code) => write!(
                f,
                "the {code} code lengths are incomplete (bit patterns left over), which is \
                 only allowed for a literal/length or distance code with a single one-bit code"
            ),
            InflateErrorKind::NoCodeLengthCodes => {
                f.write_str("every length of the code-length code is zero")
            }
            InflateErrorKind::RepeatWithoutPrevious => f.write_str(
                "code-length repeat (symbol 16) comes first, with no previous length to repeat",
            ),
            InflateErrorKind::TooManyLengths { declared, reached } => write!(
                f,
                "a code-length repeat runs to {reached} lengths, past the {declared} declared"
            ),
            InflateErrorKind::MissingEndOfBlock => {
                f.write_str("the literal/length code has no code for end-of-block (symbol 256)")
            }
            InflateErrorKind::InvalidCode(code) => write!(
                f,
                "bits that are no {code} code (the code is incomplete or empty)"
            ),
            InflateErrorKind::InvalidLiteralLengthSymbol(sym) => write!(
                f,
                "literal/length symbol {sym}, which is reserved (only 0-285 are valid)"
            ),
            InflateErrorKind::InvalidDistanceSymbol(sym) => write!(
                f,
                "distance symbol {sym}, which is reserved (only 0-29 are valid)"
            ),
            InflateErrorKind::DistanceTooFarBack {
                distance,
                available,
            } => write!(
                f,
                "distance {distance} too far back, only {available} bytes of history"
            ),
            InflateErrorKind::UnexpectedEnd => f.write_str(
                "the compressed data ends inside a block (incomplete; is the 00 00 ff ff tail \
                 still in the payload?)",
            ),
        }
    }
}

// ---------------------------------------------------------------------------
// The inflater.

/// Inflates the messages of one direction of one connection, in order.
///
/// History (the last 32 KiB of output) is always kept across messages, even
/// when the negotiated parameters say "no context takeover": a reference into
/// it is then reported (`refers_to_earlier_message`) rather than refused, so
/// that the judge can name the breach. [`Inflater::reset`] forgets it.
pub struct Inflater {
    window: Vec<u8>,
    tables: Box<Tables>,
}

impl Default for Inflater {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Inflater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inflater")
            .field("history_len", &self.window.len())
            .finish_non_exhaustive()
    }
}

impl Inflater {
    pub fn new() -> Self {
        Inflater {
            window: Vec::with_capacity(WINDOW_SIZE),
            tables: Box::new(Tables::new()),
        }
    }

    /// Bytes of history an upcoming message may refer back to (at most 32 KiB).
    pub fn history_len(&self) -> usize {
        self.window.len()
    }

    /// Forget all history (what a receiver does between messages under
    /// `*_no_context_takeover`).
    pub fn reset(&mut self) {
        self.window.clear();
    }

    /// Takes a message that was not inflated here (its sender knows what
    /// it compressed) into the history, as inflating it would have.
    pub fn remember(&mut self, message: &[u8]) {
        self.push_history(message);
    }

    /// The new history: the last 32 KiB of the old one followed by `data`.
    fn push_history(&mut self, data: &[u8]) {
        let from_new = data.len().min(WINDOW_SIZE);
        let from_old = (WINDOW_SIZE - from_new).min(self.window.len());
        self.window.drain(..self.window.len() - from_old);
        self.window
            .extend_from_slice(data.get(data.len() - from_new..).unwrap_or_default());
    }

    /// Inflate one message's payload: the payloads of all its frames
    /// concatenated (the message had RSV1 set). Appends the `00 00 ff ff` tail
    /// itself (RFC 7692 7.2.2). Output beyond `max_output` is not stored:
    /// decoding stops there and the outcome is `TooLarge`; memory never grows
    /// beyond `max_output` plus the 32 KiB window.
    ///
    /// A zero-length payload inflates to an empty message (`blocks.total()`
    /// is then 0), as does the RFC 7692 7.2.3.6 form `00`. After a `BFINAL`
    /// block, decoding goes on with the next byte (RFC 7692 7.2.1: "The next
    /// DEFLATE block follows the padded data if any"), unless nothing but the
    /// appended tail is left (see [`Inflation::tail_ignored`]). Whatever the
    /// outcome, the output decoded becomes history for the next message.
    pub fn inflate_message(&mut self, payload: &[u8], max_output: usize) -> Inflation {
        let mut run = Run::new(payload, &self.window, max_output);
        let outcome = if payload.is_empty() {
            InflateOutcome::Complete
        } else {
            match run.blocks(&mut self.tables) {
                Ok(()) => InflateOutcome::Complete,
                Err(Stop::TooLarge) => InflateOutcome::TooLarge,
                Err(Stop::Corrupt(kind)) => InflateOutcome::Corrupt(InflateError {
                    bit_offset: run.bits.consumed_bits(),
                    kind,
                }),
            }
        };
        let Run {
            mut out,
            pos,
            max_distance,
            refers_earlier,
            refers_across_final,
            blocks,
            nonzero_padding,
            tail_ignored,
            ..
        } = run;
        out.truncate(pos);
        self.push_history(&out);
        Inflation {
            data: out,
            outcome,
            max_distance,
            refers_to_earlier_message: refers_earlier,
            refers_across_final_block: refers_across_final,
            final_block: blocks.final_blocks > 0,
            tail_ignored,
            nonzero_padding,
            blocks,
        }
    }
}

// ---------------------------------------------------------------------------
// Bit input: the payload followed by the virtual tail.

/// Reads bits LSB-first from `data` followed by [`TAIL`], 64 bits at a time.
///
/// `pos` is the index (into payload + tail) of the next byte not yet loaded;
/// `cnt` bits of `buf` are loaded and unread. Bits of `buf` above `cnt` may
/// hold the real bits of the byte at `pos` (a refill loads eight bytes and
/// keeps the whole ones), which a later refill ORs in again unchanged.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    cnt: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits {
            data,
            pos: 0,
            buf: 0,
            cnt: 0,
        }
    }

    /// Total input length: payload plus tail.
    fn total_len(&self) -> usize {
        self.data.len() + TAIL.len()
    }

    fn consumed_bits(&self) -> u64 {
        self.pos as u64 * 8 - u64::from(self.cnt)
    }

    fn remaining_bits(&self) -> u64 {
        (self.total_len() as u64 * 8).saturating_sub(self.consumed_bits())
    }

    /// Loads whole bytes until at least 56 bits are unread or the input ends.
    #[inline(always)]
    fn refill(&mut self) {
        if let Some(word) = self
            .data
            .get(self.pos..)
            .and_then(|rest| rest.first_chunk::<8>())
        {
            self.buf |= u64::from_le_bytes(*word) << self.cnt;
            self.pos += ((63 - self.cnt) >> 3) as usize;
            self.cnt |= 56;
        } else {
            self.refill_slow();
        }
    }

    #[inline(never)]
    fn refill_slow(&mut self) {
        while self.cnt <= 55 {
            let Some(byte) = self.byte_at(self.pos) else {
                break;
            };
            self.buf |= u64::from(byte) << self.cnt;
            self.cnt += 8;
            self.pos += 1;
        }
    }

    fn byte_at(&self, i: usize) -> Option<u8> {
        match self.data.get(i) {
            Some(&b) => Some(b),
            None => TAIL.get(i.checked_sub(self.data.len())?).copied(),
        }
    }

    /// Drops `n <= cnt` bits.
    #[inline(always)]
    fn consume(&mut self, n: u32) {
        debug_assert!(n <= self.cnt);
        self.buf >>= n;
        self.cnt -= n;
    }

    /// Reads `n <= 32` bits.
    #[inline(always)]
    fn take(&mut self, n: u32) -> Result<u32, InflateErrorKind> {
        if n > self.cnt {
            self.refill();
            if n > self.cnt {
                return Err(InflateErrorKind::UnexpectedEnd);
            }
        }
        let v = (self.buf & ((1u64 << n) - 1)) as u32;
        self.consume(n);
        Ok(v)
    }

    /// Skips to the next byte boundary; returns the skipped bits.
    fn align(&mut self) -> u32 {
        let k = self.cnt % 8;
        let pad = (self.buf & ((1u64 << k) - 1)) as u32;
        self.consume(k);
        pad
    }

    /// At a byte boundary: gives the loaded whole bytes back to the input, so
    /// that bytes can be read directly.
    fn rewind(&mut self) {
        self.pos -= (self.cnt / 8) as usize;
        self.cnt = 0;
        self.buf = 0;
    }

    /// After `rewind`: bytes left in payload + tail.
    fn bytes_left(&self) -> usize {
        self.total_len().saturating_sub(self.pos)
    }

    /// After `rewind`: the next four bytes, if there are four.
    fn read4(&mut self) -> Option<[u8; 4]> {
        let mut out = [0u8; 4];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = self.byte_at(self.pos + i)?;
        }
        self.pos += 4;
        Some(out)
    }

    /// After `rewind`: fills `dst` from the input; `dst.len() <= bytes_left()`.
    fn copy_to(&mut self, dst: &mut [u8]) {
        let data = self.data.get(self.pos..).unwrap_or_default();
        let n = data.len().min(dst.len());
        let (head, rest) = dst.split_at_mut(n);
        head.copy_from_slice(&data[..n]);
        self.pos += n;
        for slot in rest {
            *slot = self.byte_at(self.pos).unwrap_or(0);
            self.pos += 1;
        }
    }
}

// ---------------------------------------------------------------------------
// Huffman codes: a lookup table for codes of up to log2(N) bits, canonical
// decoding (by counts, as in zlib's puff) for longer ones.

/// Table entries: bits 0..=4 the code length (0: not in the table), bits
/// 8..=11 the extra-bit count, bits 12..=13 the kind, bits 16..=31 the value
/// (literal byte, base length or distance, or the reserved symbol).
const KIND_LITERAL: u32 = 0;
const KIND_BASE: u32 = 1;
const KIND_END: u32 = 2;
const KIND_RESERVED: u32 = 3;

#[inline(always)]
fn entry_kind(e: u32) -> u32 {
    (e >> 12) & 0x3
}
#[inline(always)]
fn entry_extra(e: u32) -> u32 {
    (e >> 8) & 0xf
}
#[inline(always)]
fn entry_value(e: u32) -> u32 {
    e >> 16
}

struct Huffman<const N: usize> {
    which: CodeKind,
    fast: [u32; N],
    counts: [u16; 16],
    symbols: [u16; 288],
    max_len: u32,
}

impl<const N: usize> Huffman<N> {
    const FAST_BITS: u32 = N.trailing_zeros();

    fn new(which: CodeKind) -> Self {
        debug_assert!(N.is_power_of_two() && Self::FAST_BITS <= 15);
        Huffman {
            which,
            fast: [0; N],
            counts: [0; 16],
            symbols: [0; 288],
            max_len: 0,
        }
    }

    fn entry(&self, sym: u16, len: u32) -> u32 {
        let (kind, extra, value) = match self.which {
            CodeKind::CodeLengths => (KIND_LITERAL, 0, u32::from(sym)),
            CodeKind::LiteralLength => match sym {
                0..=255 => (KIND_LITERAL, 0, u32::from(sym)),
                256 => (KIND_END, 0, 0),
                257..=285 => {
                    let i = usize::from(sym - 257);
                    (
                        KIND_BASE,
                        u32::from(LENGTH_EXTRA[i]),
                        u32::from(LENGTH_BASE[i]),
                    )
                }
                _ => (KIND_RESERVED, 0, u32::from(sym)),
            },
            CodeKind::Distance => match sym {
                0..=29 => {
                    let i = usize::from(sym);
                    (KIND_BASE, u32::from(DIST_EXTRA[i]), u32::from(DIST_BASE[i]))
                }
                _ => (KIND_RESERVED, 0, u32::from(sym)),
            },
        };
        (value << 16) | (kind << 12) | (extra << 8) | len
    }

    /// Builds the code from code lengths (each 0..=15, at most 288 of them),
    /// with zlib's rules for which incomplete codes are allowed.
    fn build(&mut self, lengths: &[u8]) -> Result<(), InflateErrorKind> {
        let mut counts = [0u16; 16];
        for &l in lengths {
            if let Some(c) = counts.get_mut(usize::from(l)) {
                *c += 1;
            }
        }
        counts[0] = 0;
        let mut left: i32 = 1;
        let mut max_len = 0u32;
        for (len, &count) in counts.iter().enumerate().skip(1) {
            left <<= 1;
            left -= i32::from(count);
            if left < 0 {
                return Err(InflateErrorKind::OversubscribedCode(self.which));
            }
            if count != 0 {
                max_len = len as u32;
            }
        }
        if left > 0 {
            if self.which == CodeKind::CodeLengths {
                return Err(if max_len == 0 {
                    InflateErrorKind::NoCodeLengthCodes
                } else {
                    InflateErrorKind::IncompleteCode(self.which)
                });
            }
            if max_len > 1 {
                return Err(InflateErrorKind::IncompleteCode(self.which));
            }
        }
        self.counts = counts;
        self.max_len = max_len;

        let mut offs = [0u16; 16];
        for len in 1..15 {
            offs[len + 1] = offs[len] + counts[len];
        }
        for (sym, &l) in lengths.iter().enumerate() {
            if l == 0 {
                continue;
            }
            if let Some(slot) = offs.get_mut(usize::from(l)) {
                if let Some(s) = self.symbols.get_mut(usize::from(*slot)) {
                    *s = sym as u16;
                }
                *slot += 1;
            }
        }

        self.fast.fill(0);
        let mut code: u32 = 0;
        let mut idx = 0usize;
        for len in 1..=Self::FAST_BITS {
            for _ in 0..counts[len as usize] {
                let sym = self.symbols.get(idx).copied().unwrap_or(0);
                idx += 1;
                let entry = self.entry(sym, len);
                let mut i = (code.reverse_bits() >> (32 - len)) as usize;
                while i < N {
                    self.fast[i] = entry;
                    i += 1 << len;
                }
                code += 1;
            }
            code <<= 1;
        }
        Ok(())
    }

    /// The table entry for the next bits (length 0: not in the table).
    #[inline(always)]
    fn lookup(&self, bits: &Bits) -> u32 {
        self.fast[(bits.buf as usize) & (N - 1)]
    }

    /// Decodes one symbol and returns its table entry.
    #[inline(always)]
    fn decode(&self, bits: &mut Bits) -> Result<u32, InflateErrorKind> {
        let e = self.fast[(bits.buf as usize) & (N - 1)];
        let len = e & 0x1f;
        // `len` is 0 (not in the table) or the code length; wrapping makes 0
        // fail the test.
        if len.wrapping_sub(1) < bits.cnt {
            bits.consume(len);
            Ok(e)
        } else {
            self.decode_slow(bits)
        }
    }

    /// Canonical decoding, one bit at a time: codes longer than the table,
    /// bits that are no code, and input that runs out.
    #[cold]
    #[inline(never)]
    fn decode_slow(&self, bits: &mut Bits) -> Result<u32, InflateErrorKind> {
        let mut code: i32 = 0;
        let mut first: i32 = 0;
        let mut index: i32 = 0;
        // An empty code still reads one bit before it fails, as zlib does.
        for len in 1..=self.max_len.max(1) {
            if len > bits.cnt {
                bits.refill();
                if len > bits.cnt {
                    return Err(InflateErrorKind::UnexpectedEnd);
                }
            }
            code |= ((bits.buf >> (len - 1)) & 1) as i32;
            let count = i32::from(self.counts[len as usize]);
            if code - first < count {
                let Some(&sym) = self.symbols.get((index + code - first) as usize) else {
                    break;
                };
                bits.consume(len);
                return Ok(self.entry(sym, len));
            }
            index += count;
            first += count;
            first <<= 1;
            code <<= 1;
        }
        Err(InflateErrorKind::InvalidCode(self.which))
    }
}

/// The Huffman codes of the current block, and the fixed ones.
struct Tables {
    lit: Huffman<1024>,
    dist: Huffman<256>,
    code_lengths: Huffman<128>,
    fixed_lit: Huffman<1024>,
    fixed_dist: Huffman<256>,
}

impl Tables {
    fn new() -> Self {
        let mut fixed_lit = Huffman::new(CodeKind::LiteralLength);
        let mut lengths = [0u8; 288];
        for (sym, l) in lengths.iter_mut().enumerate() {
            *l = match sym {
                0..=143 => 8,
                144..=255 => 9,
                256..=279 => 7,
                _ => 8,
            };
        }
        let built = fixed_lit.build(&lengths);
        debug_assert!(built.is_ok());
        let mut fixed_dist = Huffman::new(CodeKind::Distance);
        let built = fixed_dist.build(&[5u8; 32]);
        debug_assert!(built.is_ok());
        Tables {
            lit: Huffman::new(CodeKind::LiteralLength),
            dist: Huffman::new(CodeKind::Distance),
            code_lengths: Huffman::new(CodeKind::CodeLengths),
            fixed_lit,
            fixed_dist,
        }
    }
}

// ---------------------------------------------------------------------------
// One message being decoded.

/// Why decoding stopped early.
enum Stop {
    TooLarge,
    Corrupt(InflateErrorKind),
}

impl From<InflateErrorKind> for Stop {
    fn from(kind: InflateErrorKind) -> Self {
        Stop::Corrupt(kind)
    }
}

struct Run<'a> {
    bits: Bits<'a>,
    /// The earlier messages' last output (at most 32 KiB).
    history: &'a [u8],
    /// This message's output: `out.len()` is the working area, `pos` the end
    /// of what was written. Never longer than `limit`.
    out: Vec<u8>,
    pos: usize,
    /// `max_output`.
    limit: usize,
    /// Where the current DEFLATE stream's output starts (after a `BFINAL`).
    stream_start: usize,
    max_distance: usize,
    refers_earlier: bool,
    refers_across_final: bool,
    blocks: BlockCounts,
    nonzero_padding: bool,
    tail_ignored: usize,
}

impl<'a> Run<'a> {
    fn new(payload: &'a [u8], history: &'a [u8], max_output: usize) -> Self {
        let guess = payload
            .len()
            .saturating_mul(4)
            .max(4096)
            .saturating_add(SLACK);
        let limit = max_output;
        let initial = guess.min(limit);
        let out = vec![0; initial];
        Run {
            bits: Bits::new(payload),
            history,
            out,
            pos: 0,
            limit,
            stream_start: 0,
            max_distance: 0,
            refers_earlier: false,
            refers_across_final: false,
            blocks: BlockCounts::default(),
            nonzero_padding: false,
            tail_ignored: 0,
        }
    }

    /// Decodes blocks until the input is used up at a block boundary.
    fn blocks(&mut self, tables: &mut Tables) -> Result<(), Stop> {
        loop {
            // Fewer than three bits cannot hold a block header: they are the
            // last byte's padding.
            if self.bits.remaining_bits() < 3 {
                return Ok(());
            }
            let header = self.bits.take(3)?;
            match header >> 1 {
                0 => {
                    self.blocks.stored += 1;
                    self.stored_block()?;
                }
                1 => {
                    self.blocks.fixed += 1;
                    self.huffman_block(&tables.fixed_lit, &tables.fixed_dist)?;
                }
                2 => {
                    self.blocks.dynamic += 1;
                    self.dynamic_header(tables)?;
                    self.huffman_block(&tables.lit, &tables.dist)?;
                }
                _ => return Err(InflateErrorKind::ReservedBlockType.into()),
            }
            if header & 1 == 1 {
                self.blocks.final_blocks += 1;
                if self.bits.align() != 0 {
                    self.nonzero_padding = true;
                }
                self.stream_start = self.pos;
                let at = self.bits.consumed_bits() / 8;
                let payload_len = self.bits.data.len() as u64;
                if at >= payload_len {
                    self.tail_ignored = (payload_len + TAIL.len() as u64 - at) as usize;
                    return Ok(());
                }
            }
        }
    }

    /// Makes the working area at least `want` bytes (capped at `limit`).
    fn ensure_len(&mut self, want: usize) {
        let want = want.min(self.limit);
        if want > self.out.len() {
            self.out.reserve_exact(want - self.out.len());
            self.out.resize(want, 0);
        }
    }

    /// Grows the working area; true when `SLACK` bytes are free after `pos`.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) -> bool {
        let want = self
            .out
            .len()
            .saturating_mul(2)
            .max(self.pos.saturating_add(SLACK));
        self.ensure_len(want);
        self.out.len() - self.pos >= SLACK
    }

    fn stored_block(&mut self) -> Result<(), Stop> {
        self.bits.align();
        self.bits.rewind();
        let Some(header) = self.bits.read4() else {
            return Err(InflateErrorKind::UnexpectedEnd.into());
        };
        let len = u16::from_le_bytes([header[0], header[1]]);
        let nlen = u16::from_le_bytes([header[2], header[3]]);
        if len != !nlen {
            return Err(InflateErrorKind::StoredLengthMismatch { len, nlen }.into());
        }
        let len = usize::from(len);
        let avail = self.bits.bytes_left();
        let room = self.limit - self.pos;
        let n = len.min(avail).min(room);
        self.ensure_len(self.pos + n);
        if let Some(dst) = self.out.get_mut(self.pos..self.pos + n) {
            self.bits.copy_to(dst);
            self.pos += n;
        }
        if n == len {
            Ok(())
        } else if avail <= room {
            Err(InflateErrorKind::UnexpectedEnd.into())
        } else {
            Err(Stop::TooLarge)
        }
    }

    /// Reads a dynamic block's code definitions into `tables.lit`/`dist`.
    fn dynamic_header(&mut self, tables: &mut Tables) -> Result<(), Stop> {
        let hlit = self.bits.take(5)? as usize + 257;
        let hdist = self.bits.take(5)? as usize + 1;
        let hclen = self.bits.take(4)? as usize + 4;
        if hlit > 286 || hdist > 30 {
            return Err(InflateErrorKind::TooManySymbols {
                literal_lengths: hlit,
                distances: hdist,
            }
            .into());
        }
        let mut cl_lengths = [0u8; 19];
        for &i in CODE_LENGTH_ORDER.iter().take(hclen) {
            cl_lengths[i] = self.bits.take(3)? as u8;
        }
        tables.code_lengths.build(&cl_lengths)?;

        let n = hlit + hdist;
        let mut lengths = [0u8; 286 + 30];
        let mut i = 0usize;
        while i < n {
            self.bits.refill();
            let e = tables.code_lengths.decode(&mut self.bits)?;
            let sym = entry_value(e);
            let (value, repeat) = match sym {
                0..=15 => {
                    lengths[i] = sym as u8;
                    i += 1;
                    continue;
                }
                16 => {
                    let repeat = 3 + self.bits.take(2)? as usize;
                    let Some(&prev) = i.checked_sub(1).and_then(|p| lengths.get(p)) else {
                        return Err(InflateErrorKind::RepeatWithoutPrevious.into());
                    };
                    (prev, repeat)
                }
                17 => (0, 3 + self.bits.take(3)? as usize),
                _ => (0, 11 + self.bits.take(7)? as usize),
            };
            let Some(run) = lengths.get_mut(i..i + repeat).filter(|_| i + repeat <= n) else {
                return Err(InflateErrorKind::TooManyLengths {
                    declared: n,
                    reached: i + repeat,
                }
                .into());
            };
            run.fill(value);
            i += repeat;
        }
        if lengths[256] == 0 {
            return Err(InflateErrorKind::MissingEndOfBlock.into());
        }
        tables.lit.build(&lengths[..hlit])?;
        tables.dist.build(&lengths[hlit..n])?;
        Ok(())
    }

    /// Decodes one fixed- or dynamic-Huffman block's symbols up to end-of-block.
    fn huffman_block(&mut self, lit: &Huffman<1024>, dist: &Huffman<256>) -> Result<(), Stop> {
        loop {
            self.bits.refill();
            let roomy = self.out.len() - self.pos >= SLACK || self.grow();
            if roomy {
                // Up to three literals from one refill (3 x 15 <= 56 bits).
                let mut n = 0;
                while n < 3 {
                    let e = lit.lookup(&self.bits);
                    let len = e & 0x1f;
                    if entry_kind(e) != KIND_LITERAL || len.wrapping_sub(1) >= self.bits.cnt {
                        break;
                    }
                    self.bits.consume(len);
                    self.out[self.pos] = entry_value(e) as u8;
                    self.pos += 1;
                    n += 1;
                }
                if n > 0 {
                    continue;
                }
            }
            let e = lit.decode(&mut self.bits)?;
            match entry_kind(e) {
                KIND_LITERAL => {
                    let byte = entry_value(e) as u8;
                    if roomy {
                        self.out[self.pos] = byte;
                        self.pos += 1;
                    } else {
                        self.put_limited(byte)?;
                    }
                }
                KIND_BASE => {
                    let length = entry_value(e) as usize + self.bits.take(entry_extra(e))? as usize;
                    let d = dist.decode(&mut self.bits)?;
                    if entry_kind(d) != KIND_BASE {
                        return Err(
                            InflateErrorKind::InvalidDistanceSymbol(entry_value(d) as u16).into(),
                        );
                    }
                    let distance =
                        entry_value(d) as usize + self.bits.take(entry_extra(d))? as usize;
                    if distance > self.pos - self.stream_start {
                        self.reach_back(distance, length)?;
                    } else {
                        self.note_distance(distance);
                        if roomy {
                            self.copy_match(distance, length);
                        } else {
                            self.copy_limited(distance, length)?;
                        }
                    }
                }
                KIND_END => return Ok(()),
                _ => {
                    return Err(
                        InflateErrorKind::InvalidLiteralLengthSymbol(entry_value(e) as u16).into(),
                    )
                }
            }
        }
    }

    #[inline(always)]
    fn note_distance(&mut self, distance: usize) {
        if distance > self.max_distance {
            self.max_distance = distance;
        }
    }

    /// A match reaching before the current stream: into an earlier stream of
    /// this message, into earlier messages, or further than all history.
    #[cold]
    #[inline(never)]
    fn reach_back(&mut self, distance: usize, length: usize) -> Result<(), Stop> {
        if distance <= self.pos {
            self.refers_across_final = true;
            self.note_distance(distance);
            return self.copy_limited(distance, length);
        }
        let back = distance - self.pos;
        let Some(start) = self.history.len().checked_sub(back) else {
            return Err(InflateErrorKind::DistanceTooFarBack {
                distance,
                available: (self.pos + self.history.len()).min(WINDOW_SIZE),
            }
            .into());
        };
        self.refers_earlier = true;
        self.note_distance(distance);
        // The part in history, then the rest from this message's start.
        let from_history = length.min(back);
        let n = from_history.min(self.limit - self.pos);
        self.ensure_len(self.pos + n);
        let src = self.history.get(start..start + n).unwrap_or_default();
        if let Some(dst) = self.out.get_mut(self.pos..self.pos + src.len()) {
            dst.copy_from_slice(src);
            self.pos += src.len();
        }
        if n < from_history {
            return Err(Stop::TooLarge);
        }
        self.copy_limited(distance, length - from_history)
    }

    /// Copies a match with `SLACK` free bytes after `pos` (so chunks may
    /// overshoot) and `1 <= distance <= pos`.
    #[inline(always)]
    fn copy_match(&mut self, distance: usize, length: usize) {
        let src = self.pos - distance;
        let end = self.pos + length;
        if distance >= 16 {
            let (mut s, mut d) = (src, self.pos);
            while d < end {
                self.out.copy_within(s..s + 16, d);
                s += 16;
                d += 16;
            }
        } else if distance >= 8 {
            let (mut s, mut d) = (src, self.pos);
            while d < end {
                self.out.copy_within(s..s + 8, d);
                s += 8;
                d += 8;
            }
        } else if distance == 1 {
            let byte = self.out[src];
            self.out[self.pos..end].fill(byte);
        } else {
            for i in 0..length {
                self.out[self.pos + i] = self.out[src + i];
            }
        }
        self.pos = end;
    }

    /// Writes one byte near the output limit.
    fn put_limited(&mut self, byte: u8) -> Result<(), Stop> {
        if self.pos >= self.limit {
            return Err(Stop::TooLarge);
        }
        self.ensure_len(self.pos + 1);
        match self.out.get_mut(self.pos) {
            Some(slot) => {
                *slot = byte;
                self.pos += 1;
                Ok(())
            }
            None => Err(Stop::TooLarge),
        }
    }

    /// Copies a match near the output limit, byte by byte, as far as it fits.
    fn copy_limited(&mut self, distance: usize, length: usize) -> Result<(), Stop> {
        let n = length.min(self.limit - self.pos);
        self.ensure_len(self.pos + n);
        for _ in 0..n {
            let byte = self.out.get(self.pos - distance).copied().unwrap_or(0);
            let Some(slot) = self.out.get_mut(self.pos) else {
                return Err(Stop::TooLarge);
            };
            *slot = byte;
            self.pos += 1;
        }
        if n < length {
            Err(Stop::TooLarge)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate(payload: &[u8]) -> Inflation {
        Inflater::new().inflate_message(payload, 1 << 20)
    }

    #[test]
    fn rfc_7692_hello() {
        let got = inflate(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
        assert_eq!(got.outcome, InflateOutcome::Complete);
        assert_eq!(got.data, b"Hello");
        assert_eq!(
            got.blocks,
            BlockCounts {
                stored: 1,
                fixed: 1,
                dynamic: 0,
                final_blocks: 0
            }
        );
    }

    #[test]
    fn bit_reader_reads_lsb_first_across_the_tail() {
        let data = [0b1010_1101u8, 0x01];
        let mut bits = Bits::new(&data);
        assert_eq!(bits.take(3), Ok(0b101));
        assert_eq!(bits.take(5), Ok(0b10101));
        assert_eq!(bits.take(8), Ok(0x01));
        assert_eq!(bits.take(16), Ok(0x0000));
        assert_eq!(bits.take(16), Ok(0xffff));
        assert_eq!(bits.take(1), Err(InflateErrorKind::UnexpectedEnd));
        assert_eq!(bits.consumed_bits(), 48);
    }

    #[test]
    fn fast_refill_keeps_the_bit_count_exact() {
        let data: Vec<u8> = (0..40u8).collect();
        let mut bits = Bits::new(&data);
        for i in 0..40u32 {
            bits.refill();
            assert_eq!(bits.take(8), Ok(i));
            assert_eq!(bits.consumed_bits(), u64::from(i + 1) * 8);
        }
    }

    #[test]
    fn code_rules_follow_zlib() {
        let mut lit = Huffman::<1024>::new(CodeKind::LiteralLength);
        assert_eq!(
            lit.build(&[1, 1, 1]),
            Err(InflateErrorKind::OversubscribedCode(
                CodeKind::LiteralLength
            ))
        );
        assert_eq!(
            lit.build(&[1, 2]),
            Err(InflateErrorKind::IncompleteCode(CodeKind::LiteralLength))
        );
        assert_eq!(lit.build(&[0, 1]), Ok(()));
        let mut dist = Huffman::<256>::new(CodeKind::Distance);
        assert_eq!(dist.build(&[0; 30]), Ok(()));
        let mut cl = Huffman::<128>::new(CodeKind::CodeLengths);
        assert_eq!(cl.build(&[0; 19]), Err(InflateErrorKind::NoCodeLengthCodes));
        assert_eq!(
            cl.build(&[1]),
            Err(InflateErrorKind::IncompleteCode(CodeKind::CodeLengths))
        );
    }

    #[test]
    fn long_codes_decode_through_the_slow_path() {
        // Lengths 1, 2, ..., 14, 15, 15: a complete code whose longest codes
        // are past the 10-bit table.
        let mut lengths = [0u8; 16];
        for (i, l) in lengths.iter_mut().enumerate() {
            *l = (i as u8 + 1).min(15);
        }
        let mut code = Huffman::<1024>::new(CodeKind::LiteralLength);
        assert_eq!(code.build(&lengths), Ok(()));
        // Symbol 15's code is fifteen 1 bits: MSB-first, so fifteen 1 bits.
        let data = [0xff, 0x7f];
        let mut bits = Bits::new(&data);
        bits.refill();
        let e = code.decode(&mut bits).map(entry_value);
        assert_eq!(e, Ok(15));
        assert_eq!(bits.consumed_bits(), 15);
    }
}
