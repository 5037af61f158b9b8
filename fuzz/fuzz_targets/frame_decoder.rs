//! Fuzzes `wsspec::wire::decode::Decoder::feed` with `wire::message::Observer`
//! (plain and inflating): see `checks/frame_decoder.rs`, which `tests/fuzz_seeds.rs`
//! runs too on every seed of `corpus/frame_decoder/`.

#![no_main]

#[path = "../checks/frame_decoder.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|input: &[u8]| check::check(input));
