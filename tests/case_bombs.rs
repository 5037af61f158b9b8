//! Small hostile case files (an alias bomb, a matrix of 10^9 cases, a payload
//! of 2^40 bytes, a frame repeated 2^32 - 1 times, nested repeats whose
//! product is huge) are refused by the real `wsspec check` within a second,
//! exit 2, with `file:line:column` and the name of the limit they pass; `run`
//! refuses the payload bomb the same way instead of aborting. 40,000 cases
//! (and a duplicate id among them) load in linear time.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The tests here time the binary: one at a time, so that they do not slow
/// each other down.
static TIMED: Mutex<()> = Mutex::new(());

/// A fresh folder for one test's case files.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wsspec-bombs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// Runs the binary with `args` in `dir`, timing it.
fn wsspec(dir: &Path, args: &[&str]) -> (Output, Duration) {
    let _one = TIMED.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run wsspec");
    (out, started.elapsed())
}

/// A case file of group `b` with one case whose `steps:` (YAML lines at
/// four spaces, or a flow list) and extra case keys are given.
fn one_case(id: &str, steps: &str, extra: &str) -> String {
    format!(
        "group: b\ntitle: bombs\ncases:\n  - id: '{id}'\n    title: a bomb\n    requirement: MUST\n{extra}    steps:\n{steps}    expect:\n      ok: []\n      close: {{by: peer}}\n"
    )
}

/// Writes `text` as `bomb.yaml` in a fresh folder, runs `wsspec check` on
/// it, and asserts exit 2 within a second with `bomb.yaml:LINE:COL: ` and
/// the limit's name in the error. Returns the folder and the error.
fn refused(name: &str, text: &str, at: &str, limit: &str) -> (PathBuf, String) {
    let dir = folder(name);
    std::fs::write(dir.join("bomb.yaml"), text).expect("write");
    let (out, took) = wsspec(&dir, &["check", "bomb.yaml"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{name}: {:?}\n{err}",
        out.status
    );
    assert!(
        took < Duration::from_secs(1),
        "{name}: refused after {took:?}"
    );
    let wanted = format!("error: bomb.yaml:{at}: ");
    assert!(
        err.starts_with(&wanted),
        "{name}: wanted `{wanted}`, got\n{err}"
    );
    assert!(
        err.contains(&format!("over the limit `{limit}` of ")),
        "{name}: the limit is not named\n{err}"
    );
    assert!(err.ends_with("1 error(s) in case files\n"), "{name}: {err}");
    println!(
        "{name}: exit 2 after {took:?}: {}",
        err.lines().next().unwrap_or("")
    );
    (dir, err)
}

#[test]
fn alias_bomb() {
    // "Billion laughs": nine levels of nine aliases, about 4 * 10^8 nodes.
    let mut text = String::from("group: b\ntitle: bombs\na: &a [x,x,x,x,x,x,x,x,x]\n");
    for (prev, name) in ('a'..='h').zip('b'..='i') {
        let refs = vec![format!("*{prev}"); 9].join(",");
        text.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    text.push_str("cases: []\n");
    assert!(text.len() < 400, "{}", text.len());
    // Level e holds 66,430 nodes; the third copy of it (line 8, column 8 + 3 * 2) crosses.
    let (_, err) = refused("alias", &text, "8:14", "yaml_nodes");
    assert!(
        err.contains("this alias would make the file 274034 YAML nodes"),
        "{err}"
    );
}

#[test]
fn matrix_of_a_billion_cases() {
    let ten = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]";
    let vars: Vec<String> = (1..=9).map(|i| format!("v{i}: {ten}")).collect();
    let ids: String = (1..=9).map(|i| format!("{{v{i}}}")).collect();
    let text = one_case(
        &format!("b.{ids}"),
        "      - wait: end\n",
        &format!("    matrix:\n      cross: {{{}}}\n", vars.join(", ")),
    );
    let (_, err) = refused("matrix", &text, "8:7", "matrix_cases");
    assert!(
        err.contains("this matrix would produce 1000000000 cases"),
        "{err}"
    );
}

const PAYLOAD_BOMB: &str =
    "      - send: {opcode: text, payload: {repeat: \"x\", len: 1099511627776}}\n";

#[test]
fn payload_of_two_to_the_forty_bytes() {
    let text = one_case("b.1", PAYLOAD_BOMB, "");
    let (dir, err) = refused("payload", &text, "8:39", "payload_bytes");
    assert!(err.contains("this payload is 1099511627776 bytes"), "{err}");

    // `run` loads the same way: the same error, exit 2, no abort (before,
    // it died with "memory allocation failed"). No URL: were the case
    // loaded, the built-in reference server would run it.
    let (out, took) = wsspec(
        &dir,
        &[
            "run",
            "--cases-dir",
            ".",
            "--cases",
            "b.*",
            "--report-dir",
            "reports",
        ],
    );
    let run_err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{:?}\n{run_err}", out.status);
    assert!(took < Duration::from_secs(1), "run refused after {took:?}");
    let line = err.lines().next().expect("an error line");
    let line = line.replace("error: bomb.yaml:", "error: ./bomb.yaml:");
    assert!(run_err.contains(&line), "wanted `{line}` in\n{run_err}");
    assert!(!dir.join("reports").exists(), "run wrote reports");
}

#[test]
fn frame_repeated_four_billion_times() {
    let text = one_case(
        "b.1",
        "      - send: {opcode: text, payload: hello, repeat: 4294967295}\n",
        "",
    );
    let (_, err) = refused("repeat", &text, "8:9", "step_frames");
    assert!(
        err.contains("this step would build 4294967295 frames at once"),
        "{err}"
    );
}

#[test]
fn nested_repeats_multiply() {
    // 1000 x 1000 x 1000 sends of 1 KiB: 10^12 bytes; no single number is large.
    let steps = "      - repeat:\n          times: 1000\n          steps:\n            - repeat:\n                times: 1000\n                steps:\n                  - repeat:\n                      times: 1000\n                      steps:\n                        - send: {opcode: binary, payload: {repeat: \"x\", len: 1024}}\n";
    let text = one_case("b.1", steps, "");
    let (_, err) = refused("nested", &text, "17:27", "case_bytes");
    assert!(
        err.contains("the case's payload bytes reach 1024000000000 here"),
        "{err}"
    );
}

/// 40,000 distinct cases in four files: `check` accepts them in time
/// linear in their number, and a duplicate id among them is named with its
/// first definition. Measured in the debug build on the project's 2-core
/// machine: 40,000 cases took 29.7 s before the duplicate check was linear
/// (13.5 times as long as 10,000) and take 3.0 s now (3.6 times as long;
/// most of it is YAML parsing at debug speed). The bound is three times
/// that; the ratio (4 for linear work, 16 for quadratic) catches a
/// quadratic pass on any machine.
#[test]
fn forty_thousand_cases_load_in_linear_time() {
    let dir = folder("forty-thousand");
    for file in 0..4 {
        let mut text = format!("group: big{file}\ntitle: big\ncases:\n");
        for i in 0..10_000 {
            text.push_str(&format!(
                "  - {{id: big.{file}.{i}, title: t, requirement: MUST, steps: [], expect: {{ok: [], close: {{by: peer}}}}}}\n"
            ));
        }
        std::fs::write(dir.join(format!("big{file}.yaml")), text).expect("write");
    }
    let (out, ten) = wsspec(&dir, &["check", "big0.yaml"]);
    assert!(out.status.success(), "{out:?}");
    let (out, took) = wsspec(&dir, &["check", "."]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("40000 cases OK in the given files"),
        "{stdout}"
    );
    let ratio = took.as_secs_f64() / ten.as_secs_f64();
    println!("10,000 cases: OK after {ten:?}; 40,000: after {took:?} ({ratio:.1} times)");
    assert!(took < Duration::from_secs(9), "40,000 cases took {took:?}");
    assert!(
        ratio < 7.0,
        "40,000 cases took {ratio:.1} times as long as 10,000 ({took:?}, {ten:?}): not linear"
    );

    // The last case of the last file repeats the first file's 7th id.
    let last = dir.join("big3.yaml");
    let text = std::fs::read_to_string(&last).expect("read");
    std::fs::write(&last, text.replace("id: big.3.9999,", "id: big.0.6,")).expect("write");
    let (out, took) = wsspec(&dir, &["check", "."]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        "error: ./big3.yaml:10003:5: duplicate case id `big.0.6` (already defined at ./big0.yaml:10:5)\n1 error(s) in case files\n"
    );
    println!("40,000 cases with a duplicate: exit 2 after {took:?}");
    assert!(took < Duration::from_secs(9), "{took:?}");
}
