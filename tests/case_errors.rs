//! Malformed case files: each error message (with file:line:column) is
//! snapshotted, `wsspec check` exits 2 on them, and no mutation of a real case
//! file makes the loader panic.

use std::path::PathBuf;

use proptest::prelude::*;
use wsspec::case::{self, Source};

fn broken_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/broken-cases")
}

fn errors_for(name: &str) -> String {
    let path = broken_dir().join(name);
    let text = std::fs::read_to_string(&path).expect("read");
    let source = Source {
        name: format!("tests/broken-cases/{name}"),
        text,
    };
    match case::load::load(&[source]) {
        Ok(cases) => panic!("{name} loaded {} cases; it should be rejected", cases.len()),
        Err(errors) => errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[test]
fn every_broken_file_has_a_located_message() {
    let mut names: Vec<String> = std::fs::read_dir(broken_dir())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    // One stored message per broken file, and no stored message without its file.
    let mut stored: Vec<String> =
        std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots"))
            .expect("tests/snapshots")
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.strip_prefix("case_errors__")
                    .and_then(|n| n.strip_suffix(".snap"))
                    .map(|n| format!("{n}.yaml"))
            })
            .collect();
    stored.sort();
    assert_eq!(names, stored, "tests/broken-cases and its stored messages");
    assert_eq!(names.len(), 17, "the broken-case files");
    for name in names {
        let message = errors_for(&name);
        let prefix = format!("tests/broken-cases/{name}:");
        assert!(
            message.starts_with(&prefix),
            "{name}: no file:line:col in `{message}`"
        );
        insta::assert_snapshot!(name.trim_end_matches(".yaml"), message);
    }
}

#[test]
fn check_exits_2_with_locations() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .arg("check")
        .arg(broken_dir().join("bad-matrix-value.yaml"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad-matrix-value.yaml:12:"), "{err}");
    assert!(err.contains("n=2"), "{err}");
}

/// The case files embedded in the binary (cases/**/*.yaml).
const EMBEDDED_FILES: usize = 18;

#[test]
fn embedded_corpus_loads() {
    assert_eq!(case::embedded_sources().len(), EMBEDDED_FILES);
    let cases = case::load::load(&case::embedded_sources()).expect("corpus");
    // 517 Autobahn cases, 49 hs, 30 cl, 9 fr, 49 pmd, 33 h2.
    assert_eq!(cases.len(), 687);
    let count = |prefix: &str| {
        cases
            .iter()
            .filter(|c| c.spec.id.starts_with(prefix))
            .count()
    };
    assert_eq!(
        (
            count("hs."),
            count("cl."),
            count("fr."),
            count("pmd."),
            count("h2.")
        ),
        (49, 30, 9, 49, 33),
        "wsspec's own groups"
    );
    assert_eq!(
        (count("12."), count("13.")),
        (90, 126),
        "Autobahn's compression groups"
    );
    let autobahn = cases.iter().filter(|c| c.spec.autobahn.is_some()).count();
    assert_eq!(
        autobahn, 517,
        "groups 1-7, 9, 10, 12, 13 map one to one onto Autobahn ids"
    );
    assert!(cases.iter().all(|c| !c.rfc.is_empty()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Every embedded file, cut and spliced at the same relative place.
    #[test]
    fn mutated_case_files_never_panic(
        at in any::<prop::sample::Index>(),
        cut in 0usize..40,
        insert in "[ -~\\n\\t]{0,12}",
    ) {
        let sources = case::embedded_sources();
        prop_assert_eq!(sources.len(), EMBEDDED_FILES);
        for src in &sources {
            let mut text = src.text.clone();
            let mut i = at.index(text.len().max(1));
            while !text.is_char_boundary(i) { i -= 1; }
            let mut j = (i + cut).min(text.len());
            while !text.is_char_boundary(j) { j -= 1; }
            text.replace_range(i..j, &insert);
            let _ = case::load::load(&[Source { name: "mutated.yaml".into(), text }]);
        }
    }
}
