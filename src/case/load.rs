//! Turning case files into cases: parse, expand matrices, deserialize, check
//! what the schema alone cannot (ids, duplicate ids, step shapes), and report
//! every problem as `file:line:column: message`. Nothing here panics on input.

use std::path::{Path, PathBuf};

use super::de::from_node;
use super::matrix::expand;
use super::model::{CaseSpec, FileMeta, MaskSpec, SendFrame, Step};
use super::yaml::{parse, Loc, Node, NodeKind};
use super::Case;

/// A case file's name (as shown in errors) and text.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// One problem in one case file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub file: String,
    pub loc: Loc,
    pub message: String,
    /// Which expanded case the error came from, when a matrix produced it.
    pub context: Option<String>,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.loc, self.message)?;
        if let Some(c) = &self.context {
            write!(f, " ({c})")?;
        }
        Ok(())
    }
}

/// Reads every `*.yaml`/`*.yml` file under the given paths (files or directories).
pub fn read_sources(paths: &[PathBuf]) -> Result<Vec<Source>, LoadError> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files).map_err(|e| LoadError {
            file: p.display().to_string(),
            loc: Loc { line: 1, col: 1 },
            message: format!("cannot read: {e}"),
            context: None,
        })?;
    }
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read(&f).map_err(|e| LoadError {
                file: f.display().to_string(),
                loc: Loc { line: 1, col: 1 },
                message: format!("cannot read: {e}"),
                context: None,
            })?;
            let text = String::from_utf8(text).map_err(|e| LoadError {
                file: f.display().to_string(),
                loc: Loc { line: 1, col: 1 },
                message: format!("not UTF-8 text: {e}"),
                context: None,
            })?;
            Ok(Source {
                name: f.display().to_string(),
                text,
            })
        })
        .collect()
}

fn collect(p: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let is_yaml = matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
    if p.is_dir() {
        for entry in std::fs::read_dir(p)? {
            collect(&entry?.path(), out)?;
        }
    } else if !p.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file or directory",
        ));
    } else if p.is_file() && is_yaml {
        out.push(p.to_path_buf());
    }
    Ok(())
}

/// Loads all sources; returns every case, or every error found.
pub fn load(sources: &[Source]) -> Result<Vec<Case>, Vec<LoadError>> {
    let mut cases: Vec<Case> = Vec::new();
    let mut errors = Vec::new();
    for src in sources {
        match load_file(src) {
            Ok(mut c) => cases.append(&mut c),
            Err(mut e) => errors.append(&mut e),
        }
    }
    for i in 0..cases.len() {
        if let Some(first) = cases[..i].iter().find(|c| c.spec.id == cases[i].spec.id) {
            errors.push(LoadError {
                file: cases[i].file.clone(),
                loc: cases[i].loc,
                message: format!(
                    "duplicate case id `{}` (already defined at {}:{})",
                    cases[i].spec.id, first.file, first.loc
                ),
                context: None,
            });
        }
    }
    for i in 0..cases.len() {
        let Some(ab) = &cases[i].spec.autobahn else {
            continue;
        };
        if let Some(first) = cases[..i]
            .iter()
            .find(|c| c.spec.autobahn.as_ref() == Some(ab))
        {
            errors.push(LoadError {
                file: cases[i].file.clone(),
                loc: cases[i].loc,
                message: format!(
                    "Autobahn id `{ab}` is already claimed by case `{}` ({}:{})",
                    first.spec.id, first.file, first.loc
                ),
                context: None,
            });
        }
    }
    if errors.is_empty() {
        cases.sort_by(|a, b| super::filter::compare_ids(&a.spec.id, &b.spec.id));
        Ok(cases)
    } else {
        Err(errors)
    }
}

fn load_file(src: &Source) -> Result<Vec<Case>, Vec<LoadError>> {
    let located = |loc: Loc, message: String| LoadError {
        file: src.name.clone(),
        loc,
        message,
        context: None,
    };
    let root = parse(&src.text).map_err(|e| vec![located(e.loc, e.message)])?;
    let NodeKind::Map(entries) = &root.kind else {
        return Err(vec![located(
            root.loc,
            format!(
                "expected a mapping with `group`, `title` and `cases`, found {}",
                root.kind_name()
            ),
        )]);
    };
    let Some(cases_node) = root.get("cases") else {
        return Err(vec![located(root.loc, "missing field `cases`".into())]);
    };
    let meta_node = Node {
        kind: NodeKind::Map(
            entries
                .iter()
                .filter(|(k, _)| k.as_str() != Some("cases"))
                .cloned()
                .collect(),
        ),
        loc: root.loc,
    };
    let meta: FileMeta =
        from_node(&meta_node).map_err(|e| vec![located(e.loc.unwrap_or(root.loc), e.message)])?;
    let NodeKind::Seq(templates) = &cases_node.kind else {
        return Err(vec![located(
            cases_node.loc,
            format!("`cases` expects a list, found {}", cases_node.kind_name()),
        )]);
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for template in templates {
        let expansions = match expand(template) {
            Ok(x) => x,
            Err(e) => {
                errors.push(located(e.loc, e.message));
                continue;
            }
        };
        for (node, bindings) in expansions {
            let context = (!bindings.is_empty()).then(|| {
                let vals: Vec<String> = bindings.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!(
                    "in the case expanded from matrix values {}",
                    vals.join(", ")
                )
            });
            match case_from_node(&node, &meta, src) {
                Ok(mut case) => {
                    case.spec.bindings = bindings;
                    out.push(case)
                }
                Err(mut e) => {
                    e.context = context;
                    errors.push(e)
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn case_from_node(node: &Node, meta: &FileMeta, src: &Source) -> Result<Case, LoadError> {
    let located = |loc: Loc, message: String| LoadError {
        file: src.name.clone(),
        loc,
        message,
        context: None,
    };
    let spec: CaseSpec =
        from_node(node).map_err(|e| located(e.loc.unwrap_or(node.loc), e.message))?;
    let id_loc = node.get("id").map_or(node.loc, |n| n.loc);
    if spec.id.is_empty()
        || !spec
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(located(
            id_loc,
            format!(
                "case id `{}` may only hold letters, digits, `.`, `-` and `_`",
                spec.id
            ),
        ));
    }
    if let Some(NodeKind::Seq(step_nodes)) = node.get("steps").map(|n| &n.kind) {
        for (step, step_node) in spec.steps.iter().zip(step_nodes) {
            check_step(step).map_err(|m| located(step_node.loc, m))?;
        }
    }
    let spec_ref = spec
        .spec
        .clone()
        .or_else(|| meta.spec.clone())
        .unwrap_or_default();
    Ok(Case {
        group: meta.group.clone(),
        group_title: meta.title.clone(),
        rfc: spec_ref,
        file: src.name.clone(),
        loc: node.loc,
        spec,
    })
}

fn check_step(step: &Step) -> Result<(), String> {
    match step {
        Step::SendFrames(batch) => {
            for f in &batch.frames {
                if f.chop.is_some() || f.delay.is_some() || f.slice.is_some() {
                    return Err("frames inside `send_frames` cannot set `chop`, `delay` or `slice`; set chop and delay on `send_frames`".into());
                }
                check_frame(f)?;
            }
            Ok(())
        }
        Step::Repeat(r) if r.times == 0 => Err("`repeat` needs `times` of at least 1".into()),
        Step::Repeat(r) => r.steps.iter().try_for_each(check_step),
        Step::Send(f) => {
            check_frame(f)?;
            if let Some(slice) = &f.slice {
                match slice.as_slice() {
                    [_] => {}
                    [a, b] if a < b => {}
                    _ => return Err("`slice` takes [from] or [from, to] with from < to".into()),
                }
                if matches!(f.mask, MaskSpec::Auto | MaskSpec::On) {
                    return Err("`slice` needs a fixed mask key (`mask: '0a0b0c0d'`) or `mask: false`, so that every part comes from the same bytes".into());
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Checks one frame description: what serde cannot see.
fn check_frame(f: &SendFrame) -> Result<(), String> {
    if f.fragment == Some(0) {
        return Err("`fragment` must be at least 1 byte".into());
    }
    if f.repeat == 0 {
        return Err("`repeat` must be at least 1".into());
    }
    let len = f.length.unwrap_or(f.payload.len() as u64);
    let fits = match f.length_form.map(|l| l.0) {
        Some(crate::wire::LengthForm::Short) => len <= 125,
        Some(crate::wire::LengthForm::Medium) => len <= u16::MAX as u64,
        _ => true,
    };
    if !fits && f.fragment.is_none() {
        return Err(format!(
            "a length of {len} does not fit the {}-bit length form",
            match f.length_form.map(|l| l.0) {
                Some(crate::wire::LengthForm::Short) => 7,
                _ => 16,
            }
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(case_body: &str) -> Result<Case, String> {
        let text = format!(
            "group: t\ntitle: t\ncases:\n  - id: t.1\n    title: t\n    requirement: MUST\n{case_body}    expect:\n      ok: []\n      close: {{by: peer}}\n"
        );
        load(&[Source {
            name: "t.yaml".into(),
            text,
        }])
        .map(|mut v| v.remove(0))
        .map_err(|e| {
            e.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    /// What the loader checks beyond the schema, one row per rule: the
    /// steps (as YAML lines under `steps:`), and the start of the message
    /// (`None`: the case loads).
    #[test]
    fn step_and_frame_rules() {
        let rows: &[(&str, Option<&str>)] = &[
            ("      - send: {opcode: text, payload: hi}\n", None),
            ("      - send: {opcode: text, payload: hi, fragment: 0}\n", Some("t.yaml:8:9: `fragment` must be at least 1 byte")),
            ("      - send: {opcode: text, payload: hi, repeat: 0}\n", Some("t.yaml:8:9: `repeat` must be at least 1")),
            ("      - send: {opcode: text, payload: {repeat_hex: \"61\", len: 125}, length_form: 7}\n", None),
            ("      - send: {opcode: text, payload: {repeat_hex: \"61\", len: 126}, length_form: 7}\n", Some("t.yaml:8:9: a length of 126 does not fit the 7-bit length form")),
            ("      - send: {opcode: text, length: 65535, length_form: 16}\n", None),
            ("      - send: {opcode: text, length: 65536, length_form: 16}\n", Some("t.yaml:8:9: a length of 65536 does not fit the 16-bit length form")),
            ("      - send: {opcode: text, length: 65536, length_form: 16, fragment: 10}\n", None),
            ("      - send: {opcode: text, length: 200000, length_form: 64}\n", None),
            ("      - send: {opcode: text, payload: hi, mask: false, slice: [1]}\n", None),
            ("      - send: {opcode: text, payload: hi, mask: false, slice: [0, 1]}\n", None),
            ("      - send: {opcode: text, payload: hi, mask: false, slice: [1, 1]}\n", Some("t.yaml:8:9: `slice` takes [from] or [from, to] with from < to")),
            ("      - send: {opcode: text, payload: hi, mask: false, slice: [0, 1, 2]}\n", Some("t.yaml:8:9: `slice` takes")),
            ("      - send: {opcode: text, payload: hi, slice: [1]}\n", Some("t.yaml:8:9: `slice` needs a fixed mask key")),
            ("      - send: {opcode: text, payload: hi, mask: true, slice: [1]}\n", Some("t.yaml:8:9: `slice` needs a fixed mask key")),
            ("      - send: {opcode: text, payload: hi, mask: \"0a0b0c0d\", slice: [1]}\n", None),
            ("      - send_frames:\n          frames:\n            - {opcode: text, payload: a}\n", None),
            ("      - send_frames:\n          frames:\n            - {opcode: text, payload: a, chop: 1}\n", Some("t.yaml:8:9: frames inside `send_frames` cannot set")),
            ("      - send_frames:\n          frames:\n            - {opcode: text, payload: a, delay: 1ms}\n", Some("t.yaml:8:9: frames inside `send_frames` cannot set")),
            ("      - send_frames:\n          frames:\n            - {opcode: text, payload: a, mask: false, slice: [1]}\n", Some("t.yaml:8:9: frames inside `send_frames` cannot set")),
            ("      - send_frames:\n          frames:\n            - {opcode: text, payload: a, repeat: 0}\n", Some("t.yaml:8:9: `repeat` must be at least 1")),
            ("      - repeat: {times: 2, steps: [{send: {opcode: ping}}]}\n", None),
            ("      - repeat: {times: 0, steps: [{send: {opcode: ping}}]}\n", Some("t.yaml:8:9: `repeat` needs `times` of at least 1")),
            ("      - repeat: {times: 2, steps: [{send: {opcode: ping, fragment: 0}}]}\n", Some("t.yaml:8:9: `fragment` must be at least 1 byte")),
            ("      - wait: end\n      - send: {opcode: text, payload: hi, repeat: 0}\n", Some("t.yaml:9:9: `repeat` must be at least 1")),
        ];
        for (steps, want) in rows {
            let got = one(&format!("    steps:\n{steps}"));
            match (want, &got) {
                (None, Ok(_)) => {}
                (Some(w), Err(e)) if e.starts_with(w) => {}
                _ => panic!("steps:\n{steps}\nwanted {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn case_ids_are_checked() {
        let with_id = |id: &str| {
            let text = format!(
                "group: t\ntitle: t\ncases:\n  - id: \"{id}\"\n    title: t\n    requirement: MUST\n    steps: []\n    expect:\n      ok: []\n      close: {{by: peer}}\n"
            );
            load(&[Source {
                name: "t.yaml".into(),
                text,
            }])
        };
        for good in ["a.1", "fr.2-x_y", "Z9"] {
            assert!(with_id(good).is_ok(), "{good}");
        }
        for bad in ["", "a b", "a/b", "ü"] {
            let e = with_id(bad).expect_err(bad);
            assert_eq!(e.len(), 1, "{bad}");
            assert_eq!(e[0].loc, Loc { line: 4, col: 9 }, "{bad}");
            assert!(e[0].message.starts_with("case id `"), "{bad}: {}", e[0]);
        }
    }

    #[test]
    fn errors_read_as_file_line_column_then_the_context() {
        let e = LoadError {
            file: "a.yaml".into(),
            loc: Loc { line: 3, col: 7 },
            message: "bad".into(),
            context: None,
        };
        assert_eq!(e.to_string(), "a.yaml:3:7: bad");
        let e = LoadError {
            context: Some("in the case expanded from matrix values n=1".into()),
            ..e
        };
        assert_eq!(
            e.to_string(),
            "a.yaml:3:7: bad (in the case expanded from matrix values n=1)"
        );
    }

    #[test]
    fn sources_are_the_yaml_files_under_a_folder_in_order() {
        let dir = std::env::temp_dir().join(format!("wsspec-load-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
        for (name, text) in [
            ("z.yaml", "z"),
            ("a.yaml", "a"),
            ("sub/b.yml", "b"),
            ("c.txt", "c"),
            ("d.yaml.bak", "d"),
        ] {
            std::fs::write(dir.join(name), text).expect("write");
        }
        let got = read_sources(std::slice::from_ref(&dir)).expect("read");
        let names: Vec<String> = got
            .iter()
            .map(|s| {
                s.name
                    .trim_start_matches(&*dir.display().to_string())
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["/a.yaml", "/sub/b.yml", "/z.yaml"]);
        assert_eq!(got[1].text, "b");
        // A named file counts whatever folder it is in.
        let one = read_sources(&[dir.join("sub/b.yml")]).expect("read");
        assert_eq!(one.len(), 1);
        let e = read_sources(&[dir.join("missing")]).expect_err("missing");
        assert!(e.message.starts_with("cannot read: "), "{e}");
        std::fs::write(dir.join("bad.yaml"), [0xff, 0xfe]).expect("write");
        let e = read_sources(std::slice::from_ref(&dir)).expect_err("not UTF-8");
        assert!(e.message.starts_with("not UTF-8 text"), "{e}");
        assert!(e.file.ends_with("bad.yaml"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
