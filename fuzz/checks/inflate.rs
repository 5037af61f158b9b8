//! The `inflate` fuzz target's check, shared with `tests/fuzz_seeds.rs`
//! (both include this file with `#[path]`). It fuzzes
//! `wsspec::deflate::inflate::Inflater`: the input's first byte picks
//! how many messages the rest is split into, the output limit and whether
//! history is forgotten between messages. Nothing may panic, output never
//! exceeds the limit, and wherever zlib (flate2, zlib-rs backend) can follow
//! the same stream it must agree: where ours completes a message, zlib inflates
//! the same bytes; where zlib fails, ours does not complete.

use flate2::{Decompress, FlushDecompress, Status};
use wsspec::deflate::inflate::{InflateErrorKind, InflateOutcome, Inflater, TAIL};

const LIMITS: [usize; 8] = [0, 1, 7, 300, 4096, 65_536, 1 << 20, 1 << 22];

/// What zlib makes of one message: its output, whether it reached the end of
/// a `BFINAL` block, whether it failed.
struct Zlib {
    out: Vec<u8>,
    end: bool,
    error: bool,
}

fn zlib_message(d: &mut Decompress, payload: &[u8], cap: usize) -> Zlib {
    let mut input = payload.to_vec();
    input.extend_from_slice(&TAIL);
    let start = d.total_in();
    let mut out = Vec::with_capacity(1024);
    loop {
        let (before_in, before_out) = (d.total_in(), d.total_out());
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(1024));
        }
        let consumed = (d.total_in() - start) as usize;
        match d.decompress_vec(&input[consumed..], &mut out, FlushDecompress::Sync) {
            Err(_) => {
                return Zlib {
                    out,
                    end: false,
                    error: true,
                }
            }
            Ok(Status::StreamEnd) => {
                return Zlib {
                    out,
                    end: true,
                    error: false,
                }
            }
            Ok(_) => {
                if (d.total_in() == before_in && d.total_out() == before_out) || out.len() > cap {
                    return Zlib {
                        out,
                        end: false,
                        error: false,
                    };
                }
            }
        }
    }
}

pub fn check(input: &[u8]) {
    let Some((&control, rest)) = input.split_first() else {
        return;
    };
    let messages = 1 + usize::from(control & 0x3);
    let max_output = LIMITS[usize::from(control >> 2) & 0x7];
    let forget = control & 0x80 != 0;

    let mut ours = Inflater::new();
    let mut zlib = Decompress::new(false);
    // zlib can follow only while every earlier message ended at a sync point
    // within the limit (ours and zlib then hold the same history).
    let mut comparable = true;
    for k in 0..messages {
        let payload = &rest[rest.len() * k / messages..rest.len() * (k + 1) / messages];
        let got = ours.inflate_message(payload, max_output);
        assert!(got.data.len() <= max_output);
        assert!(ours.history_len() <= 32 * 1024);
        match &got.outcome {
            InflateOutcome::TooLarge => assert_eq!(got.data.len(), max_output),
            InflateOutcome::Corrupt(e) => {
                let _ = e.to_string();
            }
            InflateOutcome::Complete => {}
        }
        if comparable && !payload.is_empty() {
            let z = zlib_message(&mut zlib, payload, max_output);
            match &got.outcome {
                InflateOutcome::Complete if got.blocks.final_blocks == 0 => {
                    assert!(!z.error && !z.end, "zlib disagrees with a complete message");
                    assert!(z.out == got.data, "zlib inflated other bytes");
                }
                InflateOutcome::Complete => {
                    assert!(z.end, "zlib missed the BFINAL block");
                    assert!(got.data.starts_with(&z.out));
                }
                InflateOutcome::Corrupt(_) if got.blocks.final_blocks > 0 => {
                    assert!(z.end);
                    assert!(got.data.starts_with(&z.out));
                }
                InflateOutcome::Corrupt(e) => {
                    assert!(!z.end, "zlib completed a stream ours calls corrupt: {e}");
                    match e.kind {
                        InflateErrorKind::UnexpectedEnd => {
                            assert!(!z.error, "zlib failed where ours ran out of input");
                            assert!(z.out == got.data);
                        }
                        InflateErrorKind::NoCodeLengthCodes => {}
                        _ => {
                            assert!(z.error, "zlib accepted what ours calls: {e}");
                            assert!(z.out == got.data);
                        }
                    }
                }
                // After a BFINAL block zlib stops while ours goes on.
                InflateOutcome::TooLarge if got.blocks.final_blocks > 0 => {}
                InflateOutcome::TooLarge => {
                    assert!(z.out.len() >= max_output, "zlib stopped short of the limit");
                    assert!(z.out.starts_with(&got.data));
                }
            }
        }
        let clean = got.outcome == InflateOutcome::Complete && got.blocks.final_blocks == 0;
        comparable &= clean || payload.is_empty();
        if forget {
            ours.reset();
            zlib = Decompress::new(false);
            comparable = true;
        }
    }
}
