//! The worked examples in cases/README.md are real cases: every ```yaml block
//! that starts with `- id:` must load without error, so the documentation
//! cannot drift from the schema.

use wsspec::case::load::{load, Source};

#[test]
fn readme_examples_load() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/cases/README.md");
    let text = std::fs::read_to_string(path).expect("cases/README.md");
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```yaml") => current = Some(Vec::new()),
            (Some(lines), "```") => {
                blocks.push(lines.join("\n"));
                current = None;
            }
            (Some(lines), _) => lines.push(line),
            (None, _) => {}
        }
    }
    let cases: Vec<&String> = blocks.iter().filter(|b| b.starts_with("- id:")).collect();
    // Every ```yaml block of cases/README.md that starts a case (16 today).
    assert_eq!(cases.len(), 16, "example cases found in cases/README.md");
    let mut failures = Vec::new();
    for (i, block) in cases.iter().enumerate() {
        let indented: String = block.lines().map(|l| format!("  {l}\n")).collect();
        let source = Source {
            name: format!("README example {}", i + 1),
            text: format!("group: doc\ntitle: doc\ncases:\n{indented}"),
        };
        if let Err(e) = load(&[source]) {
            failures.push(format!("{e:?}\n{block}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn wsspec_check_accepts_the_projects_own_case_files() {
    // Checking copies of embedded files (a corpus contributor's workflow)
    // counts them as the given files, not as "no case files found".
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "cases/framing/framing.yaml"])
        .output()
        .expect("wsspec check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("9 cases OK in the given files"),
        "{stdout}"
    );
}
