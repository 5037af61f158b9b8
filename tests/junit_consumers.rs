//! wsspec's JUnit XML as its consumers read it: valid against the three
//! versions of the Jenkins xunit-plugin's `junit-10.xsd` (`tests/data/junit`,
//! checked with `xmllint`), for a hand-built hostile run and for a real run
//! with every outcome; and read back by Python's `junitparser` (PyPI) with the
//! counts the console printed. FAILED is `<failure>`, ERROR `<error>`,
//! UNIMPLEMENTED `<skipped>`, NON-STRICT a failure only under `--strict`;
//! every testcase has `name`, `classname` and a `time` of at most three
//! decimals. `xmllint` (Debian's libxml2-utils, installed by `.ci/run`) and
//! `junitparser` (scripts/test.sh) go through `tests/common/peers.rs`: missing,
//! they fail under `WSSPEC_REQUIRE_PEERS`, else the test says it was skipped.

#[path = "common/peers.rs"]
mod peers;

use std::path::{Path, PathBuf};
use std::process::Command;

fn schemas() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/junit");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/data/junit")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "xsd"))
        .collect();
    found.sort();
    assert_eq!(found.len(), 3, "three schema versions in {}", dir.display());
    found
}

/// `xmllint --schema` on a file: Ok, or what xmllint said.
fn validate(xml: &Path, xsd: &Path) -> Result<(), String> {
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(xsd)
        .arg(xml)
        .output()
        .expect("xmllint runs (checked with peers::xmllint_installed)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wsspec-junit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Cases of our own against the reference server, one per outcome: OK,
/// NON-STRICT (a SHOULD it misses), FAILED (a MUST it misses), UNIMPLEMENTED
/// (permessage-deflate needed, offered in a form the server must decline)
/// and ERROR (more events than `--max-events 100` keeps).
const CASES: &str = r#"group: "j"
title: "junit <consumers> ]]> & \"quotes\""
spec: "RFC 6455 5.6"
cases:
  - id: "j.1"
    title: "echoed"
    requirement: MUST
    steps:
      - send: {opcode: text, payload: "a"}
      - wait: echo
      - close: 1000
      - wait: end
    expect:
      ok: [echo]
      close: {by: harness, codes: [1000], clean: true}
  - id: "j.2"
    title: "a SHOULD the reference server misses ]]>"
    requirement: SHOULD
    steps:
      - send: {opcode: text, payload: "b ]]> <x>"}
      - wait: echo
      - close: 1000
      - wait: end
    expect:
      ok: []
      close: {by: harness, codes: [1000], clean: true}
  - id: "j.3"
    title: "a MUST the reference server misses"
    requirement: MUST
    steps:
      - send: {opcode: text, payload: "c"}
      - wait: echo
      - close: 1000
      - wait: end
    expect:
      ok: []
      close: {by: harness, codes: [1000], clean: true}
  - id: "j.4"
    title: "needs permessage-deflate, which the server must decline here"
    requirement: MUST
    deflate:
      offer: "permessage-deflate; wsspec_unknown_parameter"
      require: accepted
    steps:
      - send: {opcode: text, payload: "d"}
      - wait: echo
      - close: 1000
      - wait: end
    expect:
      ok: [echo]
      close: {by: harness, codes: [1000], clean: true}
  - id: "j.5"
    title: "more events than --max-events 100 keeps"
    requirement: MUST
    steps:
      - repeat:
          times: 80
          steps:
            - send: {opcode: text, payload: "e"}
            - wait: echo
      - close: 1000
      - wait: end
    expect:
      ok: [{echoes: 80}]
      close: {by: harness, codes: [1000], clean: true}
"#;

/// Runs groups 1.1 and 2 and the cases above against the reference server
/// (`--max-events 100`); the JUnit file and what the console printed.
fn real_run(dir: &Path, strict: bool) -> (PathBuf, String) {
    std::fs::write(dir.join("j.yaml"), CASES).expect("write cases");
    let reports = dir.join(if strict { "strict" } else { "plain" });
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsspec"));
    cmd.args([
        "run", "--cases", "1.1.*", "--cases", "2.*", "--cases", "j.*",
    ])
    .args(["--max-events", "100"])
    .arg("--cases-dir")
    .arg(dir)
    .arg("--report-dir")
    .arg(&reports)
    .env("CI", "1");
    if strict {
        cmd.arg("--strict");
    }
    let out = cmd.output().expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        reports.join("junit.xml"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn junit_of_real_runs_validates_against_every_jenkins_schema() {
    if peers::available(peers::PeerName::Xmllint, peers::xmllint_installed()).is_err() {
        return;
    }
    let dir = temp("xsd");
    for strict in [false, true] {
        let (xml, _) = real_run(&dir, strict);
        for xsd in schemas() {
            if let Err(why) = validate(&xml, &xsd) {
                panic!(
                    "{} (strict {strict}) against {}:\n{why}",
                    xml.display(),
                    xsd.display()
                );
            }
        }
        let text = std::fs::read_to_string(&xml).expect("junit.xml");
        let doc = roxmltree::Document::parse(&text).expect("parses");
        for tc in doc.descendants().filter(|n| n.has_tag_name("testcase")) {
            assert!(tc.attribute("name").is_some_and(|n| !n.is_empty()));
            assert!(tc
                .attribute("classname")
                .is_some_and(|n| n.starts_with("wsspec.")));
            let time = tc.attribute("time").expect("time");
            let decimals = time.split_once('.').map_or(0, |(_, d)| d.len());
            assert!(decimals <= 3 && !time.contains('e'), "time={time}");
        }
        // The payload's `]]>` reads back as it was sent.
        let j2 = doc
            .descendants()
            .find(|n| {
                n.has_tag_name("testcase")
                    && n.attribute("name").is_some_and(|a| a.starts_with("j.2 "))
            })
            .expect("j.2");
        let out = j2
            .children()
            .find(|n| n.has_tag_name("system-out"))
            .and_then(|n| n.text())
            .unwrap_or_default();
        assert!(
            out.contains("a SHOULD the reference server misses ]]>"),
            "{out}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The console's summary counts: (total, OK, NON-STRICT, FAILED, ERROR,
/// UNIMPLEMENTED).
fn console_counts(stdout: &str) -> (usize, usize, usize, usize, usize, usize) {
    let line = stdout
        .lines()
        .find(|l| l.contains(" cases: "))
        .unwrap_or_else(|| panic!("no summary in:\n{stdout}"));
    let total = line
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("total");
    // "23 cases: 19 OK, 1 NON-STRICT, 1 FAILED in 0.41 s (target …)".
    let counts = line
        .split_once(": ")
        .and_then(|(_, rest)| rest.split(" in ").next())
        .unwrap_or_default();
    let count = |what: &str| -> usize {
        counts
            .split(", ")
            .find_map(|part| part.strip_suffix(what).and_then(|n| n.trim().parse().ok()))
            .unwrap_or(0)
    };
    (
        total,
        count(" OK"),
        count(" NON-STRICT"),
        count(" FAILED"),
        count(" ERROR"),
        count(" UNIMPLEMENTED"),
    )
}

const READ_BACK: &str = r#"
import sys
from junitparser import JUnitXml, Failure, Error, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
tests = failures = errors = skipped = 0
for suite in xml:
    for case in suite:
        tests += 1
        for r in case.result:
            if isinstance(r, Failure): failures += 1
            elif isinstance(r, Error): errors += 1
            elif isinstance(r, Skipped): skipped += 1
        assert case.name and case.classname is not None and case.time is not None
print(tests, failures, errors, skipped, xml.tests, xml.failures, xml.errors)
"#;

#[test]
fn junitparser_reads_back_the_consoles_counts() {
    let junitparser = peers::python_junitparser_installed();
    if peers::available(peers::PeerName::Junitparser, junitparser).is_err() {
        return;
    }
    let python = peers::python();
    let dir = temp("parser");
    for strict in [false, true] {
        let (xml, stdout) = real_run(&dir, strict);
        let (total, _ok, non_strict, failed, error, unimplemented) = console_counts(&stdout);
        let out = Command::new(&python)
            .args(["-c", READ_BACK])
            .arg(&xml)
            .output()
            .expect("python");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let numbers: Vec<usize> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        let failing = failed + if strict { non_strict } else { 0 };
        assert_eq!(
            numbers,
            vec![total, failing, error, unimplemented, total, failing, error],
            "strict {strict}: junitparser's (tests, failures, errors, skipped, root totals) \
             against the console's:\n{stdout}"
        );
        assert_eq!(
            (non_strict, failed, error, unimplemented),
            (1, 1, 1, 1),
            "one case of each outcome that is not OK:\n{stdout}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
