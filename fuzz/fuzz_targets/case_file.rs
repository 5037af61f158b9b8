//! Fuzzes the case loader (`wsspec::case::yaml::parse`, `case::load::load`):
//! see `checks/case_file.rs`, which `tests/fuzz_seeds.rs` runs too on every
//! seed of `corpus/case_file/`. Run with `-rss_limit_mb=2048 -max_len=4096`
//! (docs/testing.md).

#![no_main]

#[path = "../checks/case_file.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|input: &[u8]| check::check(input));
