//! Throughput of wsspec's wire codec, next to two references measured in the
//! same run: a plain `memcpy` of the payload (the floor every figure is compared
//! to) and tungstenite's own frame codec on the same valid frames.
//!
//! Run with `cargo bench --bench codec`; see `docs/benchmarks.md` for what each
//! benchmark measures and the figures last measured. Every benchmark counts
//! *payload* bytes (`BytesCount`), so the MB/s columns are directly comparable.
//!
//! All frames are single, final binary frames (opcode 2: no UTF-8 validation on
//! either side) carrying the same pseudo-random payload; "masked" frames use a
//! fixed key, as a client would send them to a server.

use std::hint::black_box;
use std::io::Cursor;
use std::sync::OnceLock;

use divan::counter::BytesCount;
use divan::Bencher;
use tokio_tungstenite::tungstenite::protocol::frame::coding::OpCode;
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};
use tokio_tungstenite::tungstenite::Bytes;
use wsspec::wire::decode::{DecodeEvent, Decoder};
use wsspec::wire::frame::{encode_frame, FrameEncoding};
use wsspec::wire::message::{Observation, Observer};
use wsspec::wire::{Opcode, Prng};

fn main() {
    divan::main();
}

/// Payload sizes: a tiny control-sized frame, one socket read, a big message.
const SIZES: [usize; 3] = [16, 64 << 10, 16 << 20];

/// Samples per benchmark (divan's default is 100); the whole run stays well
/// under a minute on two cores.
const SAMPLES: u32 = 300;

/// How many bytes a socket read hands the decoder at a time.
const READ_PIECE: usize = 64 << 10;

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// One payload size's inputs, built (and cross-checked) once per process.
struct Fixture {
    payload: Vec<u8>,
    /// The frame as a client sends it (MASK bit set, payload masked).
    masked: Vec<u8>,
    /// The frame as a server sends it (no mask).
    unmasked: Vec<u8>,
}

fn fixture(n: usize) -> &'static Fixture {
    static CELLS: [OnceLock<Fixture>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let i = SIZES
        .iter()
        .position(|&s| s == n)
        .expect("benchmark size not in SIZES");
    CELLS[i].get_or_init(|| build_fixture(n))
}

fn build_fixture(n: usize) -> Fixture {
    let mut prng = Prng::for_case("benches/codec", n as u64);
    let payload: Vec<u8> = std::iter::repeat_with(|| prng.next_u64().to_le_bytes())
        .flatten()
        .take(n)
        .collect();
    let masked = encode_frame(&wsspec_encoding(Some(KEY)), &payload).unwrap();
    let unmasked = encode_frame(&wsspec_encoding(None), &payload).unwrap();

    // The two codecs must agree byte for byte, or the comparison is meaningless.
    assert_eq!(
        masked,
        tungstenite_encode(Bytes::from(payload.clone()), Some(KEY))
    );
    assert_eq!(
        unmasked,
        tungstenite_encode(Bytes::from(payload.clone()), None)
    );
    let mut buf = Vec::new();
    for wire in [&masked, &unmasked] {
        assert_eq!(tungstenite_decode(wire, &mut buf), n);
        assert!(buf == payload, "tungstenite decode of {n} bytes differs");
        let mut got = Vec::with_capacity(n);
        let mut ends = 0;
        let mut decoder = Decoder::new();
        for piece in wire.chunks(READ_PIECE) {
            decoder.feed(piece, &mut |ev| match ev {
                DecodeEvent::Payload(p) => got.extend_from_slice(p),
                DecodeEvent::End => ends += 1,
                DecodeEvent::Head(_) => {}
            });
        }
        assert_eq!(ends, 1);
        assert!(got == payload, "wsspec decode of {n} bytes differs");
    }
    Fixture {
        payload,
        masked,
        unmasked,
    }
}

fn wsspec_encoding(mask: Option<[u8; 4]>) -> FrameEncoding {
    FrameEncoding::simple(Opcode::BINARY, true, mask)
}

fn tungstenite_header(mask: Option<[u8; 4]>) -> FrameHeader {
    FrameHeader {
        is_final: true,
        rsv1: false,
        rsv2: false,
        rsv3: false,
        opcode: OpCode::from(Opcode::BINARY.0),
        mask,
    }
}

/// tungstenite's public encode path: `Frame::from_payload` + `Frame::format`,
/// appending to `out`.
fn tungstenite_encode_into(payload: Bytes, mask: Option<[u8; 4]>, out: &mut Vec<u8>) {
    let frame = Frame::from_payload(tungstenite_header(mask), payload);
    frame.format(out).unwrap();
}

fn tungstenite_encode(payload: Bytes, mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = Vec::new();
    tungstenite_encode_into(payload, mask, &mut out);
    out
}

/// Runs `f` a few times before measuring, so that one-off costs (first
/// allocation of reused buffers, first touch of their pages) do not land in
/// the first sample, which divan uses to choose how many calls a sample holds.
fn warm_up<O>(mut f: impl FnMut() -> O) {
    for _ in 0..3 {
        black_box(f());
    }
}

/// tungstenite's decode of one complete frame, as its `FrameCodec::read_frame`
/// does it: `FrameHeader::parse` on the buffered bytes, the payload held in an
/// owned buffer (the bytes a socket read copies into tungstenite's input
/// buffer), unmasked in place, wrapped in a `Frame` and handed on as `Bytes`.
/// `buf` is reused across calls, so no allocation is measured.
fn tungstenite_decode(wire: &[u8], buf: &mut Vec<u8>) -> usize {
    let mut cursor = Cursor::new(wire);
    let (mut header, len) = FrameHeader::parse(&mut cursor)
        .expect("valid header")
        .expect("complete header");
    let start = cursor.position() as usize;
    let mut payload = std::mem::take(buf);
    payload.clear();
    payload.extend_from_slice(&wire[start..start + len as usize]);
    if let Some(key) = header.mask.take() {
        tungstenite_apply_mask(&mut payload, key);
    }
    let frame = Frame::from_payload(header, Bytes::from(payload));
    let payload = frame.into_payload();
    let n = payload.len();
    // Unique and Vec-backed, so this hands the buffer back without copying.
    *buf = Vec::from(payload);
    n
}

/// tungstenite 0.30's `apply_mask_fast32` (its `mask` module is private), so
/// the reference unmasks exactly as tungstenite does.
fn tungstenite_apply_mask(buf: &mut [u8], mask: [u8; 4]) {
    fn fallback(buf: &mut [u8], mask: [u8; 4]) {
        for (i, byte) in buf.iter_mut().enumerate() {
            *byte ^= mask[i & 3];
        }
    }
    let mask_u32 = u32::from_ne_bytes(mask);
    // SAFETY: every bit pattern is a valid u32 and a valid u8.
    let (prefix, words, suffix) = unsafe { buf.align_to_mut::<u32>() };
    fallback(prefix, mask);
    let head = prefix.len() & 3;
    let mask_u32 = if head > 0 {
        if cfg!(target_endian = "big") {
            mask_u32.rotate_left(8 * head as u32)
        } else {
            mask_u32.rotate_right(8 * head as u32)
        }
    } else {
        mask_u32
    };
    for word in words.iter_mut() {
        *word ^= mask_u32;
    }
    fallback(suffix, mask_u32.to_ne_bytes());
}

/// wsspec's decoder fed `wire` in socket-read-sized pieces, events discarded.
fn wsspec_decode(decoder: &mut Decoder, wire: &[u8]) {
    for piece in wire.chunks(READ_PIECE) {
        decoder.feed(piece, &mut |ev| {
            black_box(ev);
        });
    }
}

/// wsspec's receive path: decoder events into the frame/message observer
/// (bounded logs with SHA-256 digests of frame and message payloads).
fn wsspec_observe(
    decoder: &mut Decoder,
    observer: &mut Observer,
    out: &mut Vec<Observation>,
    wire: &[u8],
) {
    for piece in wire.chunks(READ_PIECE) {
        decoder.feed(piece, &mut |ev| observer.on_event(ev, out));
    }
    debug_assert_eq!(out.len(), 2, "one frame record and one message record");
    black_box(&*out);
    out.clear();
}

/// The reference: copy the payload into a preallocated buffer.
#[divan::bench(args = SIZES, sample_count = SAMPLES)]
fn baseline_memcpy(bencher: Bencher, n: usize) {
    let src = &fixture(n).payload;
    let mut dst = vec![0u8; n];
    warm_up(|| dst.copy_from_slice(src));
    bencher.counter(BytesCount::new(n)).bench_local(|| {
        black_box(&mut dst[..]).copy_from_slice(black_box(&src[..]));
    });
}

/// Encoding a client (masked) frame from a payload; a fresh output Vec each time.
mod encode_masked {
    use super::*;

    /// `Frame::from_payload` + `Frame::format` into a reused output Vec (as
    /// tungstenite reuses its own output buffer). The payload is handed over
    /// as owned `Bytes` built outside the timing, as a tungstenite user would;
    /// `format` masks it in place, copies it out, and frees it.
    #[divan::bench(args = SIZES, sample_count = SAMPLES)]
    fn tungstenite(bencher: Bencher, n: usize) {
        let payload = &fixture(n).payload;
        let mut out = Vec::new();
        warm_up(|| {
            out.clear();
            tungstenite_encode_into(Bytes::from(payload.clone()), Some(KEY), &mut out)
        });
        bencher
            .counter(BytesCount::new(n))
            .with_inputs(|| Bytes::from(payload.clone()))
            .bench_local_values(|p| {
                out.clear();
                tungstenite_encode_into(p, Some(KEY), &mut out);
                black_box(&out);
            });
    }

    /// `encode_frame`: header, payload copied into a new Vec (its API returns
    /// one per frame), masked there.
    #[divan::bench(args = SIZES, sample_count = SAMPLES)]
    fn wsspec(bencher: Bencher, n: usize) {
        let payload = &fixture(n).payload;
        let enc = wsspec_encoding(Some(KEY));
        warm_up(|| encode_frame(&enc, payload).unwrap());
        bencher
            .counter(BytesCount::new(n))
            .bench_local(|| encode_frame(black_box(&enc), black_box(payload)).unwrap());
    }
}

/// Decoding a client (masked) frame: header parse plus unmasking.
mod decode_masked {
    use super::*;

    #[divan::bench(args = SIZES, sample_count = SAMPLES)]
    fn tungstenite(bencher: Bencher, n: usize) {
        let wire = &fixture(n).masked;
        let mut buf = Vec::new();
        warm_up(|| tungstenite_decode(wire, &mut buf));
        bencher
            .counter(BytesCount::new(n))
            .bench_local(|| tungstenite_decode(black_box(wire), &mut buf));
    }

    #[divan::bench(args = SIZES, sample_count = SAMPLES)]
    fn wsspec(bencher: Bencher, n: usize) {
        let wire = &fixture(n).masked;
        let mut decoder = Decoder::new();
        warm_up(|| wsspec_decode(&mut decoder, wire));
        bencher
            .counter(BytesCount::new(n))
            .bench_local(|| wsspec_decode(&mut decoder, black_box(wire)));
    }

    #[divan::bench(args = SIZES, sample_count = SAMPLES)]
    fn wsspec_observe(bencher: Bencher, n: usize) {
        let wire = &fixture(n).masked;
        let (mut decoder, mut observer, mut out) =
            (Decoder::new(), Observer::default(), Vec::new());
        warm_up(|| super::wsspec_observe(&mut decoder, &mut observer, &mut out, wire));
        bencher.counter(BytesCount::new(n)).bench_local(|| {
            super::wsspec_observe(&mut decoder, &mut observer, &mut out, black_box(wire))
        });
    }
}

/// Decoding a server (unmasked) frame.
mod decode_unmasked {
    use super::*;

    #[divan::bench(args = SIZES, sample_count = SAMPLES)]
    fn tungstenite(bencher: Bencher, n: usize) {
        let wire = &fixture(n).unmasked;
        let mut buf = Vec::new();
        warm_up(|| tungstenite_decode(wire, &mut buf));
        bencher
            .counter(BytesCount::new(n))
            .bench_local(|| tungstenite_decode(black_box(wire), &mut buf));
    }

    #[divan::bench(args = SIZES, sample_count = SAMPLES)]
    fn wsspec(bencher: Bencher, n: usize) {
        let wire = &fixture(n).unmasked;
        let mut decoder = Decoder::new();
        warm_up(|| wsspec_decode(&mut decoder, wire));
        bencher
            .counter(BytesCount::new(n))
            .bench_local(|| wsspec_decode(&mut decoder, black_box(wire)));
    }

    #[divan::bench(args = SIZES, sample_count = SAMPLES)]
    fn wsspec_observe(bencher: Bencher, n: usize) {
        let wire = &fixture(n).unmasked;
        let (mut decoder, mut observer, mut out) =
            (Decoder::new(), Observer::default(), Vec::new());
        warm_up(|| super::wsspec_observe(&mut decoder, &mut observer, &mut out, wire));
        bencher.counter(BytesCount::new(n)).bench_local(|| {
            super::wsspec_observe(&mut decoder, &mut observer, &mut out, black_box(wire))
        });
    }
}
