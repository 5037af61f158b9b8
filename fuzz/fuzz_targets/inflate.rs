//! Fuzzes `wsspec::deflate::inflate::Inflater` against zlib: see
//! `checks/inflate.rs`, which `tests/fuzz_seeds.rs` runs too on every seed of
//! `corpus/inflate/`.

#![no_main]

#[path = "../checks/inflate.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|input: &[u8]| check::check(input));
