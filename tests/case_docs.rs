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
    // Every ```yaml block of cases/README.md that starts a case (17 today).
    assert_eq!(cases.len(), 17, "example cases found in cases/README.md");
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

/// What cases/README.md says about the binary holds: opcodes as quoted or
/// hex numbers load, `check` reports a collision with the embedded corpus,
/// and `--version` names the corpus in `cases/VERSION` in the form the
/// README shows. Each statement was once the opposite of the binary.
#[test]
fn readme_statements_about_the_binary_hold() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/cases/README.md"))
        .expect("cases/README.md");
    // Opcodes: decimal, quoted decimal, hex.
    assert!(readme.contains("quoted, `\"11\"`") && readme.contains("hex (`0xB`, `0xb`)"));
    let case = |opcode: &str| {
        format!(
            "group: \"op\"\ntitle: \"t\"\nspec: \"RFC 6455 5.2\"\ncases:\n  - id: \"op.1\"\n    title: \"t\"\n    requirement: MUST\n    steps:\n      - send: {{opcode: {opcode}, payload: \"x\"}}\n      - close: 1000\n    expect:\n      ok: []\n      close: {{by: harness, codes: [1000], clean: true}}\n"
        )
    };
    for opcode in ["11", "\"11\"", "0xB", "0xb", "\"3\""] {
        let loaded = load(&[Source {
            name: "op.yaml".into(),
            text: case(opcode),
        }]);
        assert!(loaded.is_ok(), "opcode {opcode}: {:?}", loaded.err());
    }
    let too_big = load(&[Source {
        name: "op.yaml".into(),
        text: case("16"),
    }]);
    assert!(format!("{:?}", too_big.err()).contains("does not fit in 4 bits"));

    // `check` sees collisions with the embedded corpus.
    assert!(readme.contains("so a collision is reported there"));
    let dir = std::env::temp_dir().join(format!("wsspec-docs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("mine.yaml");
    std::fs::write(&file, case("text").replace("op.1", "2.1")).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .arg("check")
        .arg(&file)
        .output()
        .expect("check");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("duplicate case id `2.1`"));
    let _ = std::fs::remove_dir_all(&dir);

    // --version, in the README's form, with the corpus's number.
    let version = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/cases/VERSION"))
        .expect("cases/VERSION");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .arg("--version")
        .output()
        .expect("--version");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        printed.trim(),
        format!(
            "wsspec {} (case corpus {})",
            env!("CARGO_PKG_VERSION"),
            version.trim()
        )
    );
    assert!(readme.contains("`wsspec 0.1.0 (case corpus N)`"));
}
