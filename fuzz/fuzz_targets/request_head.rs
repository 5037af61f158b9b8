//! Fuzzes what `wsspec serve` parses of a client's request (front door,
//! follow-ups, the judge's request check, deflate offers): see
//! `checks/request_head.rs`, which `tests/fuzz_seeds.rs` runs too on every
//! seed of `corpus/request_head/`.

#![no_main]

#[path = "../checks/request_head.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|input: &[u8]| check::check(input));
