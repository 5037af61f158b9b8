//! The `frame_decoder` fuzz target's check, shared with `tests/fuzz_seeds.rs`
//! (both include this file with `#[path]`): the input's first byte picks the
//! logs' head cap, whether compressed (RSV1) messages are inflated and under
//! which limit, and how many of the following bytes are piece sizes (none:
//! one byte at a time); the rest is a frame stream. It is fed to `Decoder::feed` whole and in those pieces,
//! observed by an `Observer`. Nothing may panic, both feedings must give the
//! same observations, and every record must keep to its caps.

use wsspec::wire::bytelog::DEFAULT_HEAD;
use wsspec::wire::message::{
    InflateResult, Inflating, MessageRecord, Observation, Observer, CLOSE_BODY_CAP,
};
use wsspec::wire::{Decoder, Opcode};

const HEAD_CAPS: [usize; 4] = [0, 1, 16, DEFAULT_HEAD];
const INFLATE_LIMITS: [usize; 4] = [0, 64, 4096, 1 << 20];

/// What one feeding saw: the observations and whether it stopped mid-frame.
type Seen = (Vec<Observation>, bool);

pub fn check(input: &[u8]) {
    let Some((&control, rest)) = input.split_first() else {
        return;
    };
    let head_cap = HEAD_CAPS[usize::from(control & 3)];
    let limit = (control & 0x10 != 0).then(|| INFLATE_LIMITS[usize::from(control >> 2) & 3]);
    let (sizes, stream) = rest.split_at(usize::from(control >> 5).min(rest.len()));
    // No size bytes: one byte at a time.
    let sizes = if sizes.is_empty() { &[0u8][..] } else { sizes };
    let whole = observe(stream, &[], head_cap, limit);
    let pieces = observe(stream, sizes, head_cap, limit);
    assert!(
        whole == pieces,
        "fed whole and in pieces {sizes:?}, the observations differ"
    );
    let (seen, _) = whole;
    // Every frame takes at least two bytes; a message at least one frame.
    assert!(seen.len() <= stream.len());
    for o in &seen {
        match o {
            Observation::Frame(f) => {
                let cap = if f.head.opcode.is_control() {
                    head_cap.max(125)
                } else {
                    head_cap
                };
                assert_eq!(f.payload.len, f.head.len, "a frame record is a whole frame");
                assert_eq!(f.payload.head.len() as u64, f.payload.len.min(cap as u64));
                match &f.close {
                    Some(c) => {
                        assert_eq!(f.head.opcode, Opcode::CLOSE);
                        assert_eq!(c.code.is_some(), f.payload.len >= 2);
                        assert!(c.reason.len <= (CLOSE_BODY_CAP - 2) as u64);
                        assert!(c.reason.head.len() <= DEFAULT_HEAD);
                    }
                    None => assert_ne!(f.head.opcode, Opcode::CLOSE),
                }
            }
            Observation::Message(m) => check_message(m, head_cap, limit),
        }
    }
}

fn check_message(m: &MessageRecord, head_cap: usize, limit: Option<usize>) {
    assert!(m.opcode == Opcode::TEXT || m.opcode == Opcode::BINARY);
    assert!(m.frames >= 1);
    assert_eq!(
        m.payload.head.len() as u64,
        m.payload.len.min(head_cap as u64)
    );
    assert_eq!(m.utf8_valid.is_some(), m.opcode == Opcode::TEXT);
    match (&m.compressed, limit) {
        (None, _) => {}
        (Some(c), Some(limit)) => {
            assert!(!c.by_wsspec);
            assert!(m.payload.len <= limit as u64, "inflated past the limit");
            if let InflateResult::TooLarge { limit: said } = c.result {
                assert_eq!(said, limit as u64);
            }
        }
        (Some(_), None) => panic!("a message inflated without inflating"),
    }
}

/// Feeds `stream` in pieces of `1 + sizes[i]` bytes (cycling), or whole when
/// `sizes` is empty.
fn observe(stream: &[u8], sizes: &[u8], head_cap: usize, limit: Option<usize>) -> Seen {
    let mut decoder = Decoder::new();
    let mut observer = Observer::new(head_cap);
    if let Some(limit) = limit {
        observer.inflate(Inflating::new(limit));
    }
    let mut out = Vec::new();
    let mut sink = |data: &[u8]| decoder.feed(data, &mut |ev| observer.on_event(ev, &mut out));
    if sizes.is_empty() {
        sink(stream);
    } else {
        let mut at = 0;
        for &size in sizes.iter().cycle() {
            if at >= stream.len() {
                break;
            }
            let end = (at + 1 + usize::from(size)).min(stream.len());
            sink(&stream[at..end]);
            at = end;
        }
    }
    let mid_frame = decoder.mid_frame();
    (out, mid_frame)
}
