//! Replays every seed of every fuzz target (`fuzz/corpus/<target>/*`) through
//! the target's own check, on stable Rust: the checks live in
//! `fuzz/checks/<target>.rs`, included here and by `fuzz/fuzz_targets/` with
//! `#[path]`, so a seed, a crash kept as a regression seed, and the fuzzer all
//! assert the same things. A missing or empty corpus fails the test. Every
//! crash the fuzzers found is a seed here (the case loader's three:
//! `matrix-substitute-char-boundary-*` and `fuzzer-crash-*`).

use std::path::{Path, PathBuf};

#[path = "../fuzz/checks/case_file.rs"]
mod case_file;
#[path = "../fuzz/checks/frame_decoder.rs"]
mod frame_decoder;
#[path = "../fuzz/checks/inflate.rs"]
mod inflate;
#[path = "../fuzz/checks/request_head.rs"]
mod request_head;
#[path = "../fuzz/checks/response_head.rs"]
mod response_head;

/// Every file of `fuzz/corpus/<target>/`, sorted; panics when there is none.
fn seeds(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("no seed corpus {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "the seed corpus {} is empty",
        dir.display()
    );
    files
}

/// Runs `check` on every seed of `target`, naming the seed that fails.
fn replay(target: &str, check: fn(&[u8])) {
    for path in seeds(target) {
        let bytes = std::fs::read(&path).expect("a readable seed");
        let outcome = std::panic::catch_unwind(|| check(&bytes));
        assert!(outcome.is_ok(), "{target}: seed {} fails", path.display());
    }
}

#[test]
fn frame_decoder_seeds() {
    replay("frame_decoder", frame_decoder::check);
}

#[test]
fn response_head_seeds() {
    replay("response_head", response_head::check);
}

#[test]
fn request_head_seeds() {
    replay("request_head", request_head::check);
}

#[test]
fn case_file_seeds() {
    replay("case_file", case_file::check);
}

#[test]
fn inflate_seeds() {
    replay("inflate", inflate::check);
}

/// Every target in fuzz/Cargo.toml has a test here (and so a corpus).
#[test]
fn every_target_is_replayed() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/Cargo.toml"))
            .expect("fuzz/Cargo.toml");
    let mut targets: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|n| *n != "wsspec-fuzz")
        .collect();
    targets.sort();
    assert_eq!(
        targets,
        [
            "case_file",
            "frame_decoder",
            "inflate",
            "request_head",
            "response_head"
        ]
    );
}
