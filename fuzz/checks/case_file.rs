//! The `case_file` fuzz target's check, shared with `tests/fuzz_seeds.rs`
//! (both include this file with `#[path]`): the input, as UTF-8 text (lossily),
//! is a case file. `case::yaml::parse` and `case::load::load` (YAML, nodes,
//! matrix expansion, cases) must not panic; every error names the file and a
//! 1-based position; the cases loaded have distinct ids; and the same file
//! loaded twice is refused for its duplicate ids.

use std::collections::HashSet;

use wsspec::case::load::{load, Source};
use wsspec::case::yaml::parse;

pub fn check(input: &[u8]) {
    let text = String::from_utf8_lossy(input).into_owned();
    if let Err(e) = parse(&text) {
        assert!(e.loc.line >= 1 && e.loc.col >= 1);
        let _ = e.message.len();
    }
    let source = |name: &str| Source {
        name: name.to_string(),
        text: text.clone(),
    };
    match load(&[source("fuzz.yaml")]) {
        Ok(cases) => {
            let ids: HashSet<&str> = cases.iter().map(|c| c.spec.id.as_str()).collect();
            assert_eq!(ids.len(), cases.len(), "duplicate ids loaded");
            if !cases.is_empty() {
                let twice = load(&[source("a.yaml"), source("b.yaml")]);
                assert!(twice.is_err(), "the same cases loaded twice");
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in &errors {
                assert_eq!(e.file, "fuzz.yaml");
                assert!(e.loc.line >= 1 && e.loc.col >= 1, "{e}");
                let _ = e.to_string();
            }
        }
    }
}
