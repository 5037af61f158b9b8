//! `matrix` expansion: one case template becomes many. A matrix is given as
//! `rows` (a list of variable bindings), `zip` (lists of equal length, taken
//! side by side) or `cross` (every combination). `{name}` in any string of the
//! template is replaced by the bound value; a string that is exactly `{name}`
//! takes the value's own type (so `len: "{len}"` stays a number). Expanded nodes
//! keep the template's positions, so errors point at the template line.
//! A matrix may produce at most `matrix_cases` cases, counted before anything
//! is expanded, and a file's expanded cases are held to `file_cases` and to the
//! `expanded_nodes` and `yaml_text` (errors at the `matrix` key's value).

use super::limits::{EXPANDED_NODES, FILE_CASES, MATRIX_CASES};
use super::yaml::{Loc, Node, NodeKind, Size};

/// One expansion: the case node and the bindings that produced it.
pub type Expansion = (Node, Vec<(String, String)>);

/// A located expansion error.
#[derive(Debug, Clone)]
pub struct MatrixError {
    pub loc: Loc,
    pub message: String,
}

fn err<T>(loc: Loc, message: impl Into<String>) -> Result<T, MatrixError> {
    Err(MatrixError {
        loc,
        message: message.into(),
    })
}

/// What a file's templates have expanded to so far: cases, and the nodes
/// and text they hold.
#[derive(Debug, Default, Clone, Copy)]
pub struct Expanded {
    pub cases: u64,
    pub size: Size,
}

impl Expanded {
    /// Counts `cases` more cases at `loc`, refusing past `file_cases`.
    fn add_cases(&mut self, cases: u64, loc: Loc) -> Result<(), MatrixError> {
        self.cases = self.cases.saturating_add(cases);
        if FILE_CASES.exceeded_by(self.cases) {
            return err(
                loc,
                FILE_CASES.refuse(format!("the file would hold {} cases", self.cases)),
            );
        }
        Ok(())
    }

    /// True once a limit has been passed: later templates are not expanded.
    pub fn exhausted(&self) -> bool {
        FILE_CASES.exceeded_by(self.cases) || self.size.over_limits(&EXPANDED_NODES, "").is_some()
    }

    /// Counts `size` more, refusing past the YAML limits.
    fn add_size(&mut self, size: Size, loc: Loc) -> Result<(), MatrixError> {
        self.size = self.size.plus(size);
        match self.size.over_limits(
            &EXPANDED_NODES,
            "the file's expanded cases would hold at least",
        ) {
            Some(message) => err(loc, message),
            None => Ok(()),
        }
    }
}

/// Expands a case template (a mapping that may hold `matrix`), counting what
/// it produces into `spent` (one per file).
pub fn expand(template: &Node, spent: &mut Expanded) -> Result<Vec<Expansion>, MatrixError> {
    let NodeKind::Map(entries) = &template.kind else {
        return err(
            template.loc,
            format!(
                "expected a case (a mapping), found {}",
                template.kind_name()
            ),
        );
    };
    let Some(matrix) = template.get("matrix") else {
        spent.add_cases(1, template.loc)?;
        spent.add_size(template.size(), template.loc)?;
        return Ok(vec![(template.clone(), Vec::new())]);
    };
    let rows = bindings(matrix)?;
    if rows.is_empty() {
        return err(
            matrix.loc,
            "this matrix produces no cases (its lists are empty)",
        );
    }
    too_many(rows.len() as u64, matrix.loc)?;
    spent.add_cases(rows.len() as u64, matrix.loc)?;
    let body = Node {
        kind: NodeKind::Map(
            entries
                .iter()
                .filter(|(k, _)| k.as_str() != Some("matrix"))
                .cloned()
                .collect(),
        ),
        loc: template.loc,
    };
    rows.into_iter()
        .map(|row| {
            let shown = row
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
            Ok((substitute(&body, &row, spent, matrix.loc)?, shown))
        })
        .collect()
}

/// Refuses a matrix of more than `matrix_cases` cases.
fn too_many(product: u64, loc: Loc) -> Result<(), MatrixError> {
    if MATRIX_CASES.exceeded_by(product) {
        return err(
            loc,
            MATRIX_CASES.refuse(format!("this matrix would produce {product} cases")),
        );
    }
    Ok(())
}

type Row = Vec<(String, Node)>;

fn scalar_values(list: &Node, name: &str) -> Result<Vec<Node>, MatrixError> {
    let NodeKind::Seq(items) = &list.kind else {
        return err(
            list.loc,
            format!("matrix variable `{name}` needs a list of values"),
        );
    };
    for item in items {
        if item.as_str().is_none() {
            return err(
                item.loc,
                format!(
                    "matrix values must be single values, found {}",
                    item.kind_name()
                ),
            );
        }
    }
    Ok(items.clone())
}

fn variables(node: &Node) -> Result<Vec<(String, Vec<Node>)>, MatrixError> {
    let NodeKind::Map(entries) = &node.kind else {
        return err(node.loc, "expected a mapping of variable names to lists");
    };
    let mut vars = Vec::new();
    for (k, v) in entries {
        let name = k.as_str().unwrap_or_default().to_string();
        if !is_ident(&name) {
            return err(
                k.loc,
                format!("matrix variable `{name}` must be a plain name (letters, digits, _)"),
            );
        }
        vars.push((name.clone(), scalar_values(v, &name)?));
    }
    if vars.is_empty() {
        return err(node.loc, "a matrix needs at least one variable");
    }
    Ok(vars)
}

fn bindings(matrix: &Node) -> Result<Vec<Row>, MatrixError> {
    let NodeKind::Map(entries) = &matrix.kind else {
        return err(
            matrix.loc,
            "`matrix` expects a mapping with one of `rows`, `zip`, `cross`",
        );
    };
    if entries.len() != 1 {
        return err(
            matrix.loc,
            "`matrix` expects exactly one of `rows`, `zip`, `cross`",
        );
    }
    let (kind, body) = &entries[0];
    match kind.as_str() {
        Some("rows") => {
            let NodeKind::Seq(rows) = &body.kind else {
                return err(body.loc, "`rows` expects a list of mappings");
            };
            let mut out = Vec::new();
            let mut names: Option<Vec<String>> = None;
            for row in rows {
                let NodeKind::Map(cells) = &row.kind else {
                    return err(row.loc, "each row is a mapping of variable names to values");
                };
                let mut r: Row = Vec::new();
                for (k, v) in cells {
                    let name = k.as_str().unwrap_or_default().to_string();
                    if !is_ident(&name) {
                        return err(
                            k.loc,
                            format!("matrix variable `{name}` must be a plain name"),
                        );
                    }
                    if v.as_str().is_none() {
                        return err(
                            v.loc,
                            format!(
                                "matrix values must be single values, found {}",
                                v.kind_name()
                            ),
                        );
                    }
                    r.push((name, v.clone()));
                }
                let these: Vec<String> = r.iter().map(|(n, _)| n.clone()).collect();
                match &names {
                    None => names = Some(these),
                    Some(first) if *first != these => {
                        return err(
                            row.loc,
                            format!(
                                "every row must bind the same variables ({})",
                                first.join(", ")
                            ),
                        )
                    }
                    _ => {}
                }
                out.push(r);
            }
            Ok(out)
        }
        Some("zip") => {
            let vars = variables(body)?;
            let n = vars[0].1.len();
            for (name, values) in &vars {
                if values.len() != n {
                    let loc = values.first().map_or(body.loc, |v| v.loc);
                    return err(
                        loc,
                        format!(
                            "`zip` lists must have equal lengths: `{}` has {n}, `{name}` has {}",
                            vars[0].0,
                            values.len()
                        ),
                    );
                }
            }
            Ok((0..n)
                .map(|i| {
                    vars.iter()
                        .map(|(k, vs)| (k.clone(), vs[i].clone()))
                        .collect()
                })
                .collect())
        }
        Some("cross") => {
            let vars = variables(body)?;
            let product = vars
                .iter()
                .fold(1u64, |p, (_, values)| p.saturating_mul(values.len() as u64));
            too_many(product, matrix.loc)?;
            let mut rows: Vec<Row> = vec![Vec::new()];
            for (name, values) in &vars {
                rows = rows
                    .into_iter()
                    .flat_map(|r| {
                        values.iter().map(move |v| {
                            let mut r = r.clone();
                            r.push((name.clone(), v.clone()));
                            r
                        })
                    })
                    .collect();
            }
            Ok(rows)
        }
        _ => err(
            kind.loc,
            format!(
                "unknown matrix kind `{}`; expected `rows`, `zip` or `cross`",
                kind.as_str().unwrap_or_default()
            ),
        ),
    }
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The template with `row`'s values filled in, counting every node and byte
/// produced into `spent` (refused at `loc`, the matrix, past a limit).
fn substitute(node: &Node, row: &Row, spent: &mut Expanded, loc: Loc) -> Result<Node, MatrixError> {
    match &node.kind {
        NodeKind::Scalar { value, plain } => {
            for (name, v) in row {
                // `{name}` alone: the placeholder takes the value's type.
                // (Compared by strip, not by slicing, so a scalar with a
                // multi-byte character at either end cannot split it.)
                let whole = value
                    .strip_prefix('{')
                    .and_then(|v| v.strip_suffix('}'))
                    .is_some_and(|inner| inner == name.as_str());
                if whole {
                    if let NodeKind::Scalar {
                        value: bound,
                        plain: bound_plain,
                    } = &v.kind
                    {
                        spent.add_size(
                            Size {
                                nodes: 1,
                                text: bound.len() as u64,
                            },
                            loc,
                        )?;
                        return Ok(Node::scalar(bound.clone(), *bound_plain, node.loc));
                    }
                }
            }
            let mut out = value.clone();
            for (name, v) in row {
                let pattern = format!("{{{name}}}");
                let bound = v.as_str().unwrap_or_default();
                let times = out.matches(&pattern).count() as u64;
                if times == 0 {
                    continue;
                }
                // Sized before it is built: one scalar may repeat a
                // placeholder many times.
                let grows = (bound.len() as u64).saturating_sub(pattern.len() as u64);
                spent.add_size(
                    Size {
                        nodes: 0,
                        text: grows.saturating_mul(times),
                    },
                    loc,
                )?;
                out = out.replace(&pattern, bound);
            }
            spent.add_size(
                Size {
                    nodes: 1,
                    text: value.len() as u64,
                },
                loc,
            )?;
            Ok(Node::scalar(out, *plain, node.loc))
        }
        NodeKind::Seq(items) => {
            spent.add_size(Size { nodes: 1, text: 0 }, loc)?;
            Ok(Node {
                kind: NodeKind::Seq(
                    items
                        .iter()
                        .map(|i| substitute(i, row, spent, loc))
                        .collect::<Result<_, _>>()?,
                ),
                loc: node.loc,
            })
        }
        NodeKind::Map(entries) => {
            spent.add_size(Size { nodes: 1, text: 0 }, loc)?;
            Ok(Node {
                kind: NodeKind::Map(
                    entries
                        .iter()
                        .map(|(k, v)| {
                            spent.add_size(k.size(), loc)?;
                            Ok((k.clone(), substitute(v, row, spent, loc)?))
                        })
                        .collect::<Result<_, MatrixError>>()?,
                ),
                loc: node.loc,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::yaml::parse;
    use super::*;

    fn ids(src: &str) -> Vec<String> {
        expand(&parse(src).unwrap(), &mut Expanded::default())
            .unwrap()
            .iter()
            .map(|(n, _)| n.get("id").unwrap().as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn zip_rows_cross() {
        assert_eq!(
            ids("id: 'a.{n}'\nmatrix: {zip: {n: [1, 2]}}\n"),
            ["a.1", "a.2"]
        );
        assert_eq!(
            ids("id: 'a.{n}'\nmatrix: {rows: [{n: 7}, {n: 9}]}\n"),
            ["a.7", "a.9"]
        );
        assert_eq!(
            ids("id: '{x}{y}'\nmatrix: {cross: {x: [a, b], y: [1, 2]}}\n"),
            ["a1", "a2", "b1", "b2"]
        );
    }

    #[test]
    fn whole_placeholder_keeps_type_and_template_position() {
        let src = "id: x\nlen: '{len}'\nmatrix:\n  zip: {len: [5]}\n";
        let out = expand(&parse(src).unwrap(), &mut Expanded::default()).unwrap();
        let len = out[0].0.get("len").unwrap();
        assert_eq!(
            len.kind,
            NodeKind::Scalar {
                value: "5".into(),
                plain: true
            }
        );
        assert_eq!(len.loc.line, 2);
        assert!(out[0].0.get("matrix").is_none());
    }

    /// Matrix errors, each with its line and message start.
    #[test]
    fn matrix_errors_are_located() {
        let rows: &[(&str, u32, &str)] = &[
            (
                "id: x\nmatrix:\n  rows:\n    - {n: 1}\n    - {m: 2}\n",
                5,
                "every row must bind the same variables (n)",
            ),
            (
                "id: x\nmatrix:\n  rows:\n    - {n: 1, m: 1}\n    - {n: 2}\n",
                5,
                "every row must bind the same variables (n, m)",
            ),
            (
                "id: x\nmatrix:\n  zip:\n    n-1: [1]\n",
                4,
                "matrix variable `n-1` must be a plain name",
            ),
            (
                "id: x\nmatrix:\n  rows:\n    - {'a b': 1}\n",
                4,
                "matrix variable `a b` must be a plain name",
            ),
            (
                "id: x\nmatrix:\n  zip:\n    '': [1]\n",
                4,
                "matrix variable `` must be a plain name",
            ),
            (
                "id: x\nmatrix:\n  rows:\n    - {n: [1, 2]}\n",
                4,
                "matrix values must be single values, found a list",
            ),
            (
                "id: x\nmatrix:\n  rows:\n    - {n: {a: 1}}\n",
                4,
                "matrix values must be single values, found a mapping",
            ),
        ];
        for (src, line, words) in rows {
            let e = expand(&parse(src).unwrap(), &mut Expanded::default()).expect_err(src);
            assert_eq!(e.loc.line, *line, "{src}: {}", e.message);
            assert!(e.message.starts_with(words), "{src}: {}", e.message);
        }
        // Letters, digits and _ are a plain name.
        assert_eq!(ids("id: '{a_1}'\nmatrix: {zip: {a_1: [x]}}\n"), ["x"]);
    }

    #[test]
    fn matrix_size_is_checked_before_expanding() {
        // Nine variables of ten values: 10^9 combinations, refused at once.
        let ten = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]";
        let vars: Vec<String> = (1..=9).map(|i| format!("v{i}: {ten}")).collect();
        let src = format!("id: x\nmatrix:\n  cross: {{{}}}\n", vars.join(", "));
        let started = std::time::Instant::now();
        let e = expand(&parse(&src).unwrap(), &mut Expanded::default()).expect_err("10^9");
        assert!(
            started.elapsed().as_millis() < 500,
            "{:?}",
            started.elapsed()
        );
        assert_eq!(e.loc, Loc { line: 3, col: 3 });
        assert_eq!(
            e.message,
            "this matrix would produce 1000000000 cases, over the limit `matrix_cases` of 10000 cases per matrix (see Limits in cases/README.md)"
        );
        // 10,000 rows are allowed, 10,001 are not (zip and rows alike).
        let list = |n: usize| {
            let v: Vec<String> = (0..n).map(|i| i.to_string()).collect();
            format!("[{}]", v.join(", "))
        };
        let zip = |n| format!("id: 'x.{{n}}'\nmatrix:\n  zip: {{n: {}}}\n", list(n));
        let mut spent = Expanded::default();
        assert_eq!(
            expand(&parse(&zip(10_000)).unwrap(), &mut spent)
                .unwrap()
                .len(),
            10_000
        );
        assert_eq!(spent.cases, 10_000);
        let e = expand(&parse(&zip(10_001)).unwrap(), &mut Expanded::default()).unwrap_err();
        assert!(
            e.message
                .starts_with("this matrix would produce 10001 cases"),
            "{}",
            e.message
        );
        let rows: Vec<String> = (0..10_001).map(|i| format!("{{n: {i}}}")).collect();
        let src = format!("id: 'x.{{n}}'\nmatrix:\n  rows: [{}]\n", rows.join(", "));
        let e = expand(&parse(&src).unwrap(), &mut Expanded::default()).unwrap_err();
        assert!(
            e.message
                .starts_with("this matrix would produce 10001 cases"),
            "{}",
            e.message
        );
        assert_eq!(e.loc.line, 3);
    }

    /// A file's expansions share one budget: cases, nodes and text.
    #[test]
    fn a_files_expansions_are_bounded_together() {
        let src = "id: 'x.{n}'\nmatrix: {zip: {n: [1, 2]}}\n";
        let template = parse(src).unwrap();
        let mut spent = Expanded {
            cases: 19_999,
            ..Expanded::default()
        };
        let e = expand(&template, &mut spent).unwrap_err();
        assert_eq!(e.loc, Loc { line: 2, col: 9 });
        assert!(
            e.message.starts_with(
                "the file would hold 20001 cases, over the limit `file_cases` of 20000"
            ),
            "{}",
            e.message
        );
        assert!(spent.exhausted());
        // A case without a matrix counts too.
        let mut spent = Expanded {
            cases: 20_000,
            ..Expanded::default()
        };
        let e = expand(&parse("id: x\n").unwrap(), &mut spent).unwrap_err();
        assert!(e.message.contains("`file_cases`"), "{}", e.message);
        // Nodes: the expanded template (a map, two keys, two values) crosses.
        let mut spent = Expanded {
            size: Size {
                nodes: 999_995,
                text: 0,
            },
            ..Expanded::default()
        };
        let e = expand(&template, &mut spent).unwrap_err();
        assert!(
            e.message.starts_with("the file's expanded cases would hold at least 1000001 YAML nodes, over the limit `expanded_nodes`"),
            "{}",
            e.message
        );
        let mut fresh = Expanded::default();
        expand(&template, &mut fresh).unwrap();
        // Per case: the mapping, `id` and its value, as written (`x.{n}`, 5 bytes:
        // a shorter value is not subtracted).
        assert_eq!(fresh.size, Size { nodes: 6, text: 14 });
        assert!(!fresh.exhausted());
        // Text: a placeholder repeated in one string is sized before the
        // string is built (10,000 x 10 KiB would be 100 MiB).
        let value = "v".repeat(10 << 10);
        let src = format!(
            "id: '{}'\nmatrix: {{zip: {{n: [{value}]}}}}\n",
            "{n}".repeat(10_000)
        );
        let e = expand(&parse(&src).unwrap(), &mut Expanded::default()).unwrap_err();
        assert_eq!(e.loc.line, 2);
        assert!(
            e.message.starts_with("the file's expanded cases would hold at least 102370002 bytes of YAML text, over the limit `yaml_text`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn uneven_zip_is_located() {
        let e = expand(
            &parse("id: x\nmatrix:\n  zip:\n    a: [1, 2]\n    b: [1]\n").unwrap(),
            &mut Expanded::default(),
        )
        .unwrap_err();
        assert_eq!(e.loc.line, 5);
        assert!(e.message.contains("equal lengths"));
    }
}
