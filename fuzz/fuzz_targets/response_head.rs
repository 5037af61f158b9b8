//! Fuzzes `wsspec::wire::handshake::parse_response` and the head reader
//! `wire::head::read_head`: see `checks/response_head.rs`, which
//! `tests/fuzz_seeds.rs` runs too on every seed of `corpus/response_head/`.

#![no_main]

#[path = "../checks/response_head.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|input: &[u8]| check::check(input));
