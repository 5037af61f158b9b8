//! Guards the crate's module layering: the top-level modules of `src/` (every
//! `mod x;` / `pub mod x;` in `src/lib.rs`, so modules added later are covered
//! without touching this file) must not import each other in a cycle. Module
//! `a` depends on `b` when any file of `a` (`src/a.rs` or anything under
//! `src/a/`, `#[cfg(test)]` code included) names `crate::b` — in a `use`
//! (grouped and multi-line trees too) or inline in a type or expression. A
//! small lexer skips comments, doc comments, string, byte, raw and char
//! literals, so prose and text that merely mention `crate::b` do not count;
//! `src/main.rs` (the binary, which goes through `wsspec::`) is not a module.
//! On failure the test prints every cycle as `a -> b -> a`, each edge with
//! the file:line it comes from, plus every site of each edge inside a tangle.
//! The fake trees under `tests/data/module-cycles/` prove the detector: one
//! has a planted `alpha <-> beta` cycle and decoys, the other no cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// The most elementary cycles listed before the report says "and more".
const MAX_CYCLES: usize = 200;

// ---------------------------------------------------------------------------
// Lexer: just enough Rust to see identifiers and `::` outside comments and
// literals.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    PathSep,
    Punct(char),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Index just past a `"..."` literal whose opening quote is at `i`.
fn skip_quoted(s: &[char], mut i: usize, line: &mut usize) -> usize {
    i += 1;
    while i < s.len() {
        match s[i] {
            '\\' => {
                if s.get(i + 1) == Some(&'\n') {
                    *line += 1;
                }
                i += 2;
            }
            '"' => return i + 1,
            c => {
                if c == '\n' {
                    *line += 1;
                }
                i += 1;
            }
        }
    }
    i
}

/// Index just past a raw literal `#*"..."#*` whose first `#` or `"` is at `i`.
fn skip_raw(s: &[char], mut i: usize, line: &mut usize) -> usize {
    let mut hashes = 0;
    while s.get(i) == Some(&'#') {
        hashes += 1;
        i += 1;
    }
    i += 1; // the opening quote
    while i < s.len() {
        if s[i] == '"' && (1..=hashes).all(|k| s.get(i + k) == Some(&'#')) {
            return i + 1 + hashes;
        }
        if s[i] == '\n' {
            *line += 1;
        }
        i += 1;
    }
    i
}

/// Index just past a char literal (`'x'`, `'\n'`, `'\u{..}'`) whose opening
/// quote is at `i`, or `None` if the quote starts a lifetime or label.
fn skip_char_literal(s: &[char], i: usize) -> Option<usize> {
    if s.get(i + 1) == Some(&'\\') {
        let mut j = i + 3; // past the quote, the backslash and the escaped char
        while j < s.len() && s[j] != '\'' {
            j += 1;
        }
        return Some(j + 1);
    }
    if s.get(i + 2) == Some(&'\'') && s.get(i + 1).is_some_and(|&c| c != '\n') {
        return Some(i + 3);
    }
    None
}

fn lex(text: &str) -> Vec<Token> {
    let s: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let at = |k: usize| s.get(k).copied();
    while i < s.len() {
        let c = s[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == Some('/') {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == Some('*') {
            let mut depth = 1;
            i += 2;
            while i < s.len() && depth > 0 {
                if s[i] == '/' && at(i + 1) == Some('*') {
                    depth += 1;
                    i += 2;
                } else if s[i] == '*' && at(i + 1) == Some('/') {
                    depth -= 1;
                    i += 2;
                } else {
                    if s[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if c == '"' {
            i = skip_quoted(&s, i, &mut line);
        } else if c == '\'' {
            i = match skip_char_literal(&s, i) {
                Some(end) => end,
                None => {
                    // A lifetime or label: drop it with its name.
                    i += 1;
                    while at(i).is_some_and(is_ident_char) {
                        i += 1;
                    }
                    i
                }
            };
        } else if is_ident_start(c) {
            let start = i;
            while at(i).is_some_and(is_ident_char) {
                i += 1;
            }
            let word: String = s[start..i].iter().collect();
            let next = at(i);
            let raw_next =
                next == Some('"') || (next == Some('#') && matches!(at(i + 1), Some('"' | '#')));
            match word.as_str() {
                "b" | "c" if next == Some('"') => i = skip_quoted(&s, i, &mut line),
                "b" if next == Some('\'') => i = skip_char_literal(&s, i).unwrap_or(i + 1),
                "r" | "br" | "cr" if raw_next => i = skip_raw(&s, i, &mut line),
                "r" if next == Some('#') && at(i + 1).is_some_and(is_ident_start) => {
                    // Raw identifier `r#name`.
                    let name_start = i + 1;
                    i = name_start;
                    while at(i).is_some_and(is_ident_char) {
                        i += 1;
                    }
                    let name = s[name_start..i].iter().collect();
                    out.push(Token {
                        tok: Tok::Ident(name),
                        line,
                    });
                }
                _ => out.push(Token {
                    tok: Tok::Ident(word),
                    line,
                }),
            }
        } else if c.is_ascii_digit() {
            while at(i).is_some_and(is_ident_char) {
                i += 1;
            }
        } else if c == ':' && at(i + 1) == Some(':') {
            out.push(Token {
                tok: Tok::PathSep,
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                tok: Tok::Punct(c),
                line,
            });
            i += 1;
        }
    }
    out
}

fn is_ident(t: Option<&Token>, name: &str) -> bool {
    matches!(t, Some(Token { tok: Tok::Ident(x), .. }) if x == name)
}

/// Every `crate::x` in the tokens, as (x, line): `crate::x::...` paths and the
/// first segment of each item of a `crate::{x::..., y, ...}` group.
fn crate_references(tokens: &[Token]) -> Vec<(String, usize)> {
    let mut refs = Vec::new();
    for k in 0..tokens.len() {
        if !is_ident(tokens.get(k), "crate")
            || tokens.get(k + 1).map(|t| &t.tok) != Some(&Tok::PathSep)
        {
            continue;
        }
        match tokens.get(k + 2) {
            Some(Token {
                tok: Tok::Ident(x),
                line,
            }) => refs.push((x.clone(), *line)),
            Some(Token {
                tok: Tok::Punct('{'),
                ..
            }) => {
                let mut depth = 0;
                let mut item_start = true;
                for t in &tokens[k + 3..] {
                    match &t.tok {
                        Tok::Punct('{') => depth += 1,
                        Tok::Punct('}') if depth == 0 => break,
                        Tok::Punct('}') => depth -= 1,
                        Tok::Punct(',') if depth == 0 => {
                            item_start = true;
                            continue;
                        }
                        Tok::Ident(x) if depth == 0 && item_start && x != "self" => {
                            refs.push((x.clone(), t.line));
                        }
                        _ => {}
                    }
                    item_start = false;
                }
            }
            _ => {}
        }
    }
    refs
}

// ---------------------------------------------------------------------------
// Module graph.

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Site {
    file: String,
    line: usize,
}

impl std::fmt::Display for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Debug)]
struct Analysis {
    modules: Vec<String>,
    /// (from, to) → every place `from` names `crate::to`, in file order.
    edges: BTreeMap<(String, String), Vec<Site>>,
    /// Strongly connected components with more than one module.
    tangles: Vec<Vec<String>>,
    /// Elementary cycles, each starting at its smallest module (not repeated
    /// at the end), at most `MAX_CYCLES`.
    cycles: Vec<Vec<String>>,
    cycles_truncated: bool,
}

/// The crate's top-level file modules: `mod x;` at the top level of lib.rs.
fn declared_modules(lib_rs: &Path) -> Vec<String> {
    let text = fs::read_to_string(lib_rs)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", lib_rs.display()));
    let tokens = lex(&text);
    let mut depth = 0usize;
    let mut modules = Vec::new();
    for (k, t) in tokens.iter().enumerate() {
        match &t.tok {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => depth = depth.saturating_sub(1),
            Tok::Ident(m) if m == "mod" && depth == 0 => {
                if let (Some(Tok::Ident(name)), Some(Tok::Punct(';'))) = (
                    tokens.get(k + 1).map(|t| &t.tok),
                    tokens.get(k + 2).map(|t| &t.tok),
                ) {
                    modules.push(name.clone());
                }
            }
            _ => {}
        }
    }
    modules.sort();
    modules.dedup();
    modules
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// `src/x.rs` and every `.rs` file under `src/x/`, sorted.
fn module_files(src: &Path, module: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let single = src.join(format!("{module}.rs"));
    if single.is_file() {
        files.push(single);
    }
    let dir = src.join(module);
    if dir.is_dir() {
        collect_rs(&dir, &mut files);
    }
    assert!(
        !files.is_empty(),
        "module `{module}` is declared in {}/lib.rs but neither {module}.rs nor {module}/ exists \
         there (a #[path] attribute? teach tests/module_cycles.rs about it)",
        src.display()
    );
    files.sort();
    files
}

/// A path as the developer should see it: relative to the package root when
/// it is inside it.
fn display_path(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Which modules `from` reaches (itself only through a real path).
fn reachable(from: &str, adjacency: &BTreeMap<&str, BTreeSet<&str>>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from];
    while let Some(m) = stack.pop() {
        for &next in adjacency.get(m).into_iter().flatten() {
            if seen.insert(next.to_string()) {
                stack.push(next);
            }
        }
    }
    seen
}

/// Elementary cycles of one tangle, each found once from its smallest module.
fn elementary_cycles(
    tangle: &[String],
    adjacency: &BTreeMap<&str, BTreeSet<&str>>,
    out: &mut Vec<Vec<String>>,
) -> bool {
    fn walk(
        start: &str,
        path: &mut Vec<String>,
        allowed: &BTreeSet<&str>,
        adjacency: &BTreeMap<&str, BTreeSet<&str>>,
        out: &mut Vec<Vec<String>>,
    ) -> bool {
        let last = path.last().expect("path starts non-empty").clone();
        for &next in adjacency.get(last.as_str()).into_iter().flatten() {
            if next == start {
                if out.len() == MAX_CYCLES {
                    return false;
                }
                out.push(path.clone());
            } else if allowed.contains(next) && !path.iter().any(|p| p == next) {
                path.push(next.to_string());
                let complete = walk(start, path, allowed, adjacency, out);
                path.pop();
                if !complete {
                    return false;
                }
            }
        }
        true
    }
    for (i, start) in tangle.iter().enumerate() {
        // Only modules after `start` may appear, so each cycle shows up once.
        let allowed: BTreeSet<&str> = tangle[i + 1..].iter().map(String::as_str).collect();
        if !walk(start, &mut vec![start.clone()], &allowed, adjacency, out) {
            return false;
        }
    }
    true
}

/// Reads the tree whose crate root is `src/lib.rs` and finds its module
/// cycles.
fn analyse(src: &Path) -> Analysis {
    let modules = declared_modules(&src.join("lib.rs"));
    let known: BTreeSet<&str> = modules.iter().map(String::as_str).collect();
    let mut edges: BTreeMap<(String, String), Vec<Site>> = BTreeMap::new();
    for from in &modules {
        for file in module_files(src, from) {
            let text = fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            for (to, line) in crate_references(&lex(&text)) {
                if to != *from && known.contains(to.as_str()) {
                    edges.entry((from.clone(), to)).or_default().push(Site {
                        file: display_path(&file),
                        line,
                    });
                }
            }
        }
    }

    let mut adjacency: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        adjacency.entry(from).or_default().insert(to);
    }
    let reach: BTreeMap<&str, BTreeSet<String>> = modules
        .iter()
        .map(|m| (m.as_str(), reachable(m, &adjacency)))
        .collect();
    let mut tangles: Vec<Vec<String>> = Vec::new();
    for m in &modules {
        if tangles.iter().any(|t| t.contains(m)) {
            continue;
        }
        let tangle: Vec<String> = modules
            .iter()
            .filter(|o| *o != m && reach[m.as_str()].contains(*o) && reach[o.as_str()].contains(m))
            .cloned()
            .collect();
        if !tangle.is_empty() {
            let mut tangle = tangle;
            tangle.push(m.clone());
            tangle.sort();
            tangles.push(tangle);
        }
    }

    let mut cycles = Vec::new();
    let mut cycles_truncated = false;
    for tangle in &tangles {
        if !elementary_cycles(tangle, &adjacency, &mut cycles) {
            cycles_truncated = true;
            break;
        }
    }
    Analysis {
        modules,
        edges,
        tangles,
        cycles,
        cycles_truncated,
    }
}

impl Analysis {
    fn sites(&self, from: &str, to: &str) -> &[Site] {
        self.edges
            .get(&(from.to_string(), to.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    /// The failure message: every cycle with one site per edge, then every
    /// site of every edge that keeps a tangle together.
    fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} import cycle(s) among the top-level modules ({}):",
            self.cycles.len(),
            self.modules.join(", ")
        );
        for (n, cycle) in self.cycles.iter().enumerate() {
            let mut closed = cycle.clone();
            closed.push(cycle[0].clone());
            let _ = writeln!(out, "\ncycle {}: {}", n + 1, closed.join(" -> "));
            for pair in closed.windows(2) {
                let sites = self.sites(&pair[0], &pair[1]);
                let more = match sites.len() {
                    0 | 1 => String::new(),
                    k => format!(" (+{} more)", k - 1),
                };
                let _ = writeln!(out, "    {} -> {}: {}{more}", pair[0], pair[1], sites[0]);
            }
        }
        if self.cycles_truncated {
            let _ = writeln!(out, "\n... and more cycles (listing stops at {MAX_CYCLES})");
        }
        for tangle in &self.tangles {
            let _ = writeln!(
                out,
                "\nedges inside the tangle {{{}}} (remove enough of them to break every cycle):",
                tangle.join(", ")
            );
            for ((from, to), sites) in &self.edges {
                if tangle.contains(from) && tangle.contains(to) {
                    let list: Vec<String> = sites.iter().map(Site::to_string).collect();
                    let _ = writeln!(out, "    {from} -> {to}: {}", list.join(", "));
                }
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------
// Tests.

fn data_tree(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/module-cycles")
        .join(name)
}

fn site(file: &str, line: usize) -> Site {
    Site {
        file: file.to_string(),
        line,
    }
}

#[test]
fn planted_cycle_is_reported_with_its_sites() {
    let analysis = analyse(&data_tree("planted"));
    assert_eq!(analysis.modules, ["alpha", "beta", "gamma"]);
    assert_eq!(
        analysis.edges.keys().cloned().collect::<Vec<_>>(),
        [
            ("alpha".to_string(), "beta".to_string()),
            ("beta".to_string(), "alpha".to_string()),
        ],
        "only the planted edges; the gamma decoys in comments and literals must not count"
    );
    assert_eq!(
        analysis.sites("alpha", "beta"),
        [site("tests/data/module-cycles/planted/alpha.rs", 3)]
    );
    assert_eq!(
        analysis.sites("beta", "alpha"),
        [site("tests/data/module-cycles/planted/beta/mod.rs", 34)]
    );
    assert_eq!(analysis.tangles, [["alpha", "beta"]]);
    assert_eq!(analysis.cycles, [["alpha", "beta"]]);
    assert!(!analysis.cycles_truncated);

    let message = analysis.render();
    assert!(
        message.contains("cycle 1: alpha -> beta -> alpha\n"),
        "{message}"
    );
    assert!(
        message.contains("alpha -> beta: tests/data/module-cycles/planted/alpha.rs:3\n"),
        "{message}"
    );
    assert!(
        message.contains("beta -> alpha: tests/data/module-cycles/planted/beta/mod.rs:34\n"),
        "{message}"
    );
    assert!(
        !message.contains("gamma ->") && !message.contains("-> gamma"),
        "{message}"
    );
}

#[test]
fn acyclic_tree_has_its_edges_and_no_cycle() {
    let analysis = analyse(&data_tree("acyclic"));
    assert_eq!(analysis.modules, ["one", "three", "two"]);
    let edge = |from: &str, to: &str| (from.to_string(), to.to_string());
    let expected: BTreeMap<_, _> = [
        (
            edge("one", "three"),
            vec![site("tests/data/module-cycles/acyclic/one.rs", 5)],
        ),
        (
            edge("one", "two"),
            vec![site("tests/data/module-cycles/acyclic/one.rs", 6)],
        ),
        (
            edge("two", "three"),
            vec![
                site("tests/data/module-cycles/acyclic/two/sub.rs", 3),
                site("tests/data/module-cycles/acyclic/two/sub.rs", 3),
            ],
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(analysis.edges, expected);
    assert!(analysis.tangles.is_empty(), "{}", analysis.render());
    assert!(analysis.cycles.is_empty(), "{}", analysis.render());
}

#[test]
fn crate_modules_import_each_other_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let analysis = analyse(&src);
    assert!(
        analysis.modules.len() > 1,
        "found no modules in {}/lib.rs",
        src.display()
    );
    assert!(
        analysis.tangles.is_empty(),
        "\n{}\nSee tests/module_cycles.rs for what counts as an edge.",
        analysis.render()
    );
}
