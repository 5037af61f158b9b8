//! Compressing the messages wsspec sends under permessage-deflate (RFC 7692
//! 7.2.1): zlib (flate2's zlib-rs backend) for windows of 9 to 15 bits, our
//! own short-window compressor for 8 bits (zlib cannot make such streams),
//! a sync flush at the end of each message with its `00 00 ff ff` tail
//! removed, and the context dropped between messages when the agreement says
//! so for our direction.

use flate2::{Compress, Compression, FlushCompress};

use super::inflate::TAIL;
use super::short_window::ShortWindowDeflater;

/// The zlib level wsspec compresses at unless a case says otherwise: zlib's
/// default, which Autobahn's fuzzer uses too.
pub const DEFAULT_LEVEL: u32 = 6;

/// What a compressor needs to know of the agreement for its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Direction {
    /// The largest window the receiver accepts (8..=15).
    pub window_bits: u8,
    /// Reset the context after every message.
    pub no_context_takeover: bool,
}

/// The sending side's compressor, kept for the whole connection.
pub struct MessageDeflater {
    engine: Engine,
    no_context_takeover: bool,
}

enum Engine {
    Zlib(Box<Compress>),
    ShortWindow(ShortWindowDeflater),
}

impl MessageDeflater {
    pub fn new(direction: Direction, level: u32) -> MessageDeflater {
        let bits = direction.window_bits.clamp(8, 15);
        let engine = if bits >= 9 {
            Engine::Zlib(Box::new(Compress::new_with_window_bits(
                Compression::new(level.min(9)),
                false,
                bits,
            )))
        } else {
            Engine::ShortWindow(ShortWindowDeflater::new(
                1 << bits,
                !direction.no_context_takeover,
            ))
        };
        MessageDeflater {
            engine,
            no_context_takeover: direction.no_context_takeover,
        }
    }

    /// One message's compressed payload (RFC 7692 7.2.1: the trailing
    /// `00 00 ff ff` of the sync flush removed).
    pub fn compress_message(&mut self, data: &[u8]) -> Vec<u8> {
        self.compress_message_flushed(data, &[])
    }

    /// One message's compressed payload with a sync flush after each input
    /// offset in `flush_points` (ascending, inside the message): each
    /// leaves an empty stored block, `00 00 ff ff`, inside the payload, and
    /// the stream goes on with the same history. Only the final flush's
    /// tail is removed (RFC 7692 7.2.1).
    pub fn compress_message_flushed(&mut self, data: &[u8], flush_points: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut start = 0;
        let ends = flush_points
            .iter()
            .copied()
            .filter(|&p| p > 0 && p < data.len())
            .chain(std::iter::once(data.len()));
        for end in ends {
            let Some(part) = data.get(start..end) else {
                continue;
            };
            start = end;
            match &mut self.engine {
                Engine::Zlib(z) => out.extend(zlib_sync(z, part)),
                Engine::ShortWindow(s) => {
                    // Each part is sent as if it were a message of its own;
                    // putting back the tail its flush removed joins them.
                    out.extend(s.compress_message(part));
                    out.extend_from_slice(&TAIL);
                }
            }
        }
        if let Engine::Zlib(z) = &mut self.engine {
            if self.no_context_takeover {
                z.reset();
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if out.is_empty() {
            // zlib writes nothing for a sync flush with no input since the
            // last one (a second empty message in a row); an empty payload
            // would leave the receiver half a stored block. RFC 7692
            // 7.2.3.6: an empty message is the single octet 00.
            out.push(0);
        }
        out
    }
}

/// Compresses `data` and sync-flushes, growing the output as zlib asks. By
/// zlib's contract for a sync flush (zlib.h, `deflate`: "until the flush is
/// complete (deflate returns with non-zero avail_out)"), a call that
/// returns with output space left has consumed all its input and finished
/// the flush; a call that filled the output is made again with more room.
fn zlib_sync(z: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    let start_in = z.total_in();
    loop {
        let consumed = usize::try_from(z.total_in() - start_in).unwrap_or(usize::MAX);
        let input = data.get(consumed..).unwrap_or_default();
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(1024));
        }
        // zlib reports no errors for in-memory deflate with valid
        // parameters; stop rather than loop if it ever does.
        if z.compress_vec(input, &mut out, FlushCompress::Sync)
            .is_err()
        {
            break;
        }
        if out.len() < out.capacity() {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::inflate::{InflateOutcome, Inflater};

    /// A compressor at the default level for a `bits` window.
    fn deflater(bits: u8, no_context_takeover: bool) -> MessageDeflater {
        MessageDeflater::new(
            Direction {
                window_bits: bits,
                no_context_takeover,
            },
            DEFAULT_LEVEL,
        )
    }

    /// Inflates `payload` with `inf` and checks that it is `msg`, whole,
    /// within a `bits` window and, with `no_context_takeover`, without a
    /// reference into an earlier message.
    fn assert_inflates_to(
        inf: &mut Inflater,
        payload: &[u8],
        msg: &[u8],
        bits: u8,
        no_context_takeover: bool,
    ) {
        let got = inf.inflate_message(payload, 1 << 20);
        assert_eq!(got.outcome, InflateOutcome::Complete, "bits {bits}");
        assert_eq!(got.data, msg, "bits {bits}, {} bytes", msg.len());
        assert!(
            got.max_distance <= 1 << bits,
            "bits {bits}: {}",
            got.max_distance
        );
        if no_context_takeover {
            assert!(!got.refers_to_earlier_message, "bits {bits}");
        }
    }

    fn text(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| {
                b"the quick brown fox jumps over the lazy dog "[i % 44] ^ ((i / 997) as u8 & 1)
            })
            .collect()
    }

    #[test]
    fn every_window_round_trips_through_our_inflater_within_its_window() {
        for bits in 8..=15u8 {
            for no_context_takeover in [false, true] {
                let mut d = deflater(bits, no_context_takeover);
                let mut inf = Inflater::new();
                for (i, len) in [0usize, 1, 100, 5000, 70_000].into_iter().enumerate() {
                    let msg = text(len + i);
                    let payload = d.compress_message(&msg);
                    assert!(!payload.ends_with(&[0, 0, 0xff, 0xff]) || payload.len() < 4);
                    assert_inflates_to(&mut inf, &payload, &msg, bits, no_context_takeover);
                    if msg.len() > 1000 {
                        assert!(payload.len() < msg.len() / 4, "real compression at {bits}");
                    }
                }
            }
        }
    }

    /// Pseudo-random bytes: deflate cannot make them smaller.
    fn noise(n: usize, seed: u64) -> Vec<u8> {
        // SplitMix64: well mixed from the first output, whatever the seed.
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                (z ^ (z >> 31)) as u8
            })
            .collect()
    }

    #[test]
    fn incompressible_messages_grow_the_output_and_round_trip() {
        // The compressed payload is about as large as the input here, so
        // zlib's output buffer (first sized for half the input) must grow.
        for bits in [8u8, 9, 15] {
            for no_context_takeover in [false, true] {
                let mut d = deflater(bits, no_context_takeover);
                let mut inf = Inflater::new();
                for (i, len) in [1usize, 63, 64, 65, 1000, 100_000, 300_000]
                    .into_iter()
                    .enumerate()
                {
                    let msg = noise(len, i as u64 + 1);
                    let payload = d.compress_message(&msg);
                    assert!(
                        payload.len() > msg.len() * 9 / 10,
                        "bits {bits}: {len} bytes in {}",
                        payload.len()
                    );
                    assert_inflates_to(&mut inf, &payload, &msg, bits, no_context_takeover);
                }
            }
        }
    }

    /// Text of pseudo-random words: compressible, but not by repetition alone.
    fn words(n: usize) -> Vec<u8> {
        let mut state = 0x2545_f491_u32;
        let mut out = Vec::with_capacity(n + 16);
        while out.len() < n {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let len = 2 + (state % 7) as usize;
            out.extend((0..len).map(|i| b"etaoinshrdlu"[((state >> (i * 3)) % 12) as usize]));
            out.push(b' ');
        }
        out.truncate(n);
        out
    }

    #[test]
    fn context_takeover_refers_back_to_the_previous_message() {
        let mut d = deflater(15, false);
        let mut inf = Inflater::new();
        let msg = words(3000);
        let first = d.compress_message(&msg);
        inf.inflate_message(&first, 1 << 20);
        let second = d.compress_message(&msg);
        assert!(
            second.len() * 4 < first.len(),
            "the same message again is mostly back-references: {} then {}",
            first.len(),
            second.len()
        );
        let got = inf.inflate_message(&second, 1 << 20);
        assert!(got.refers_to_earlier_message);
        assert_eq!(got.data, msg);
    }

    #[test]
    fn flush_points_leave_empty_blocks_inside_and_the_message_intact() {
        let count_tails = |p: &[u8]| p.windows(4).filter(|w| *w == TAIL).count();
        for bits in [8u8, 9, 15] {
            for no_context_takeover in [false, true] {
                let mut d = deflater(bits, no_context_takeover);
                let mut inf = Inflater::new();
                let msg = words(2000);
                let plain = d.compress_message(&msg);
                assert_eq!(inf.inflate_message(&plain, 1 << 20).data, msg);
                let points = [1, 500, 501, 1999];
                let flushed = d.compress_message_flushed(&msg, &points);
                assert!(
                    count_tails(&flushed) >= points.len(),
                    "bits {bits}: {} empty blocks in {flushed:02x?}",
                    count_tails(&flushed)
                );
                assert!(!flushed.ends_with(&TAIL), "bits {bits}: the last tail goes");
                assert_inflates_to(&mut inf, &flushed, &msg, bits, no_context_takeover);
                // Points outside the message change nothing.
                let mut a = deflater(bits, true);
                let mut b = deflater(bits, true);
                assert_eq!(
                    a.compress_message_flushed(&msg, &[0, 2000, 5000]),
                    b.compress_message(&msg)
                );
            }
        }
        let mut d = deflater(15, false);
        // An empty message is 00 every time, although zlib writes nothing
        // for a second flush in a row.
        for _ in 0..3 {
            assert_eq!(d.compress_message_flushed(b"", &[0, 1]), vec![0]);
            assert_eq!(d.compress_message(b""), vec![0]);
        }
        let mut inf = Inflater::new();
        assert_eq!(
            inf.inflate_message(&[0], 16).outcome,
            InflateOutcome::Complete
        );
    }
}
