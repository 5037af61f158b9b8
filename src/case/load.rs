//! Turning case files into cases: parse, expand matrices, deserialize, check
//! what the schema alone cannot (ids, duplicate ids, step shapes), and report
//! every problem as `file:line:column: message`. Nothing here panics on input,
//! and nothing a file asks for grows without bound (see [`super::limits`]):
//! every limit is checked here, so `check` refuses what `run` would.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::de::from_node;
use super::matrix::{expand, Expanded};
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

/// The embedded corpus plus the case files under `extra` (files or
/// folders), loaded together so that id collisions between them are found.
/// A given file that is a copy of an embedded one (the same path under
/// `cases/`, as when checking the project's own corpus) replaces it. Every
/// error, those of unreadable files included: one bad file hides nothing.
pub fn load_with_embedded(extra: &[PathBuf]) -> Result<Vec<Case>, Vec<LoadError>> {
    let (mine, mut errors) = read_every_source(extra);
    let mut sources: Vec<Source> = super::embedded_sources()
        .into_iter()
        .filter(|b| {
            !mine
                .iter()
                .any(|m| m.name.replace('\\', "/").ends_with(&b.name))
        })
        .collect();
    sources.extend(mine);
    match load(&sources) {
        Ok(cases) if errors.is_empty() => Ok(cases),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more);
            Err(errors)
        }
    }
}

/// Reads every `*.yaml`/`*.yml` file under the given paths (files or
/// directories); the first error when one cannot be read.
pub fn read_sources(paths: &[PathBuf]) -> Result<Vec<Source>, LoadError> {
    let (sources, mut errors) = read_every_source(paths);
    if errors.is_empty() {
        Ok(sources)
    } else {
        Err(errors.swap_remove(0))
    }
}

/// Every readable case file under `paths`, and an error for each path or
/// file that could not be read (missing, unreadable, not UTF-8): one bad
/// file does not hide the others.
pub fn read_every_source(paths: &[PathBuf]) -> (Vec<Source>, Vec<LoadError>) {
    let unreadable = |file: &Path, message: String| LoadError {
        file: file.display().to_string(),
        loc: Loc { line: 1, col: 1 },
        message,
        context: None,
    };
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if let Err(e) = collect(p, &mut files) {
            errors.push(unreadable(p, format!("cannot read: {e}")));
        }
    }
    files.sort();
    let mut sources = Vec::new();
    for f in files {
        match std::fs::read(&f) {
            Err(e) => errors.push(unreadable(&f, format!("cannot read: {e}"))),
            Ok(bytes) => match String::from_utf8(bytes) {
                Err(e) => errors.push(unreadable(&f, format!("not UTF-8 text: {e}"))),
                Ok(text) => sources.push(Source {
                    name: f.display().to_string(),
                    text,
                }),
            },
        }
    }
    (sources, errors)
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
    // The first definition of each id and Autobahn id, in one pass.
    let mut ids: HashMap<&str, usize> = HashMap::with_capacity(cases.len());
    let mut autobahn: HashMap<&str, usize> = HashMap::new();
    for (i, case) in cases.iter().enumerate() {
        if let Some(&first) = ids.get(case.spec.id.as_str()) {
            let first = &cases[first];
            errors.push(LoadError {
                file: case.file.clone(),
                loc: case.loc,
                message: format!(
                    "duplicate case id `{}` (already defined at {}:{})",
                    case.spec.id, first.file, first.loc
                ),
                context: None,
            });
        } else {
            ids.insert(&case.spec.id, i);
        }
        let Some(ab) = &case.spec.autobahn else {
            continue;
        };
        if let Some(&first) = autobahn.get(ab.as_str()) {
            let first = &cases[first];
            errors.push(LoadError {
                file: case.file.clone(),
                loc: case.loc,
                message: format!(
                    "Autobahn id `{ab}` is already claimed by case `{}` ({}:{})",
                    first.spec.id, first.file, first.loc
                ),
                context: None,
            });
        } else {
            autobahn.insert(ab, i);
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
    let mut spent = Expanded::default();
    for template in templates {
        let expansions = match expand(template, &mut spent) {
            Ok(x) => x,
            Err(e) => {
                errors.push(located(e.loc, e.message));
                if spent.exhausted() {
                    break;
                }
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
    check_http2_fields(&spec).map_err(|m| {
        located(
            node.get("handshake")
                .or(node.get("steps"))
                .map_or(node.loc, |n| n.loc),
            m,
        )
    })?;
    super::cost::check(&spec, node).map_err(|(loc, m)| located(loc, m))?;
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

/// The HTTP/2 parts of a case fit together: `http2:` steps act on the
/// stream `handshake.http2` opens (elsewhere they would do nothing), the
/// request edits are wsspec's as the client (server-role cases), and
/// `http2_answer` is wsspec's answer as the server (client-role cases).
fn check_http2_fields(spec: &CaseSpec) -> Result<(), String> {
    let hs = &spec.handshake;
    if spec.has_http2_steps() && hs.http2.is_none() {
        return Err("`http2:` steps need `handshake.http2` (they act on the stream wsspec's own HTTP/2 opens; `handshake: {http2: {}}` sends the standard request)".into());
    }
    if hs.http2.is_some() && spec.roles.contains(&super::Role::Client) {
        return Err("`handshake.http2` edits the request wsspec sends as the client: it is for `roles: [server]`".into());
    }
    if hs.http2_answer.is_some() && spec.roles.contains(&super::Role::Server) {
        return Err("`handshake.http2_answer` is wsspec's answer as the server: it is for `roles: [client]`".into());
    }
    Ok(())
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
            ("      - http2: reset\n", Some("t.yaml:8:7: `http2:` steps need `handshake.http2`")),
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
    fn http2_request_edits_and_answers_belong_to_their_role() {
        let request = "    roles: [client]\n    handshake:\n      http2: {}\n    steps: []\n";
        let e = one(request).map(|_| ()).unwrap_err();
        assert!(e.contains("it is for `roles: [server]`"), "{e}");
        let answer = "    roles: [server]\n    handshake:\n      http2_answer: {status: 200}\n    steps: []\n";
        let e = one(answer).map(|_| ()).unwrap_err();
        assert!(e.contains("it is for `roles: [client]`"), "{e}");
        assert!(
            one("    roles: [server]\n    handshake:\n      http2: {}\n    steps: []\n").is_ok()
        );
        assert!(
            one("    roles: [client]\n    handshake:\n      http2_answer: {status: 200}\n    steps: []\n")
                .is_ok()
        );
    }

    /// The embedded corpus, measured against every limit: the most any
    /// file or case uses stays far below each (printed with --nocapture).
    #[test]
    fn the_corpus_fits_the_limits_with_room_to_spare() {
        use crate::case::limits;
        let mut most = [0u64; 9];
        for src in crate::case::embedded_sources() {
            let root = parse(&src.text).expect("corpus parses");
            let parsed = root.size();
            let mut spent = Expanded::default();
            let Some(NodeKind::Seq(templates)) = root.get("cases").map(|n| &n.kind) else {
                panic!("{}: no cases", src.name)
            };
            for t in templates {
                let matrix = expand(t, &mut Expanded::default()).expect("expands").len() as u64;
                if t.get("matrix").is_some() {
                    most[3] = most[3].max(matrix);
                }
                for (node, _) in expand(t, &mut spent).expect("expands") {
                    let spec: CaseSpec = from_node(&node).expect("case");
                    let mut largest = 0u64;
                    let mut walk = |p: &crate::case::Payload| largest = largest.max(p.len() as u64);
                    fn payloads<'a>(
                        steps: &'a [Step],
                        out: &mut dyn FnMut(&'a crate::case::Payload),
                    ) {
                        for s in steps {
                            match s {
                                Step::Send(f) => out(&f.payload),
                                Step::SendFrames(b) => {
                                    b.frames.iter().for_each(|f| out(&f.payload))
                                }
                                Step::SendRaw(r) => out(&r.bytes),
                                Step::Close(c) => out(&c.reason),
                                Step::Repeat(r) => payloads(&r.steps, out),
                                _ => {}
                            }
                        }
                    }
                    payloads(&spec.steps, &mut walk);
                    most[5] = most[5].max(largest);
                    let tally = crate::case::cost::check(&spec, &node).expect("within limits");
                    most[6] = most[6].max(tally.step_frames);
                    most[7] = most[7].max(tally.bytes);
                    most[8] = most[8].max(tally.events);
                }
            }
            most[0] = most[0].max(parsed.nodes);
            most[1] = most[1].max(spent.size.nodes);
            most[2] = most[2].max(parsed.text.max(spent.size.text));
            most[4] = most[4].max(spent.cases);
        }
        // How many times over the corpus must fit each limit: 10, but 1.5 for
        // one payload (pmd.3.13 sends 40 MiB) and 5 for the per-case totals
        // (groups 12 and 13 loop 1000 times over fragmented messages).
        let room = [10.0, 10.0, 10.0, 10.0, 10.0, 1.5, 10.0, 5.0, 5.0];
        for ((limit, used), room) in limits::ALL.iter().zip(most).zip(room) {
            println!("{:<14} {used:>12} of {:>12}", limit.name, limit.value);
            assert!(used > 0, "`{}` measured nothing", limit.name);
            assert!(
                used as f64 * room <= limit.value as f64,
                "the corpus uses {used} of `{}` ({}), less than {room}x room",
                limit.name,
                limit.value
            );
        }
    }

    /// Ids are compared across files; each repeat names the first definition.
    #[test]
    fn duplicate_ids_name_the_first_definition() {
        let file = |name: &str, ids: &[&str], autobahn: bool| {
            Source {
            name: name.into(),
            text: format!(
                "group: t\ntitle: t\ncases:\n{}",
                ids.iter()
                    .map(|id| format!(
                        "  - {{id: {id}, title: t, requirement: MUST, steps: [], expect: {{ok: [], close: {{by: peer}}}}{}}}\n",
                        if autobahn { ", autobahn: '1.1.1'" } else { "" }
                    ))
                    .collect::<String>()
            ),
        }
        };
        let e = load(&[
            file("a.yaml", &["x.1", "x.2"], false),
            file("b.yaml", &["x.3", "x.2", "x.1", "x.2"], false),
        ])
        .expect_err("duplicates");
        let got: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "b.yaml:5:5: duplicate case id `x.2` (already defined at a.yaml:5:5)",
                "b.yaml:6:5: duplicate case id `x.1` (already defined at a.yaml:4:5)",
                "b.yaml:7:5: duplicate case id `x.2` (already defined at a.yaml:5:5)",
            ]
        );
        let e = load(&[file("a.yaml", &["y.1", "y.2"], true)]).expect_err("autobahn");
        assert_eq!(
            e[0].to_string(),
            "a.yaml:5:5: Autobahn id `1.1.1` is already claimed by case `y.1` (a.yaml:4:5)"
        );
        assert_eq!(e.len(), 1);
    }

    /// Once a file passes a limit while expanding, its later templates are
    /// not expanded (nor reported): one error, at the template that crossed.
    #[test]
    fn a_file_past_its_limits_reports_once() {
        let ns: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
        let template = |p: &str| {
            format!(
                "  - id: '{p}.{{n}}'\n    title: t\n    requirement: MUST\n    steps: []\n    expect: {{ok: [], close: {{by: peer}}}}\n    matrix: {{zip: {{n: [{}]}}}}\n",
                ns.join(", ")
            )
        };
        let text = format!(
            "group: t\ntitle: t\ncases:\n{}{}{}{}",
            template("a"),
            template("b"),
            template("c"),
            template("d")
        );
        let e = load(&[Source {
            name: "big.yaml".into(),
            text,
        }])
        .expect_err("30,000 cases");
        assert_eq!(e.len(), 1, "{:?}", &e[1..2]);
        assert_eq!(e[0].loc, Loc { line: 21, col: 13 });
        assert!(
            e[0].message.starts_with(
                "the file would hold 30000 cases, over the limit `file_cases` of 20000"
            ),
            "{}",
            e[0]
        );
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
