//! `matrix` expansion: one case template becomes many. A matrix is given as
//! `rows` (a list of variable bindings), `zip` (lists of equal length, taken
//! side by side) or `cross` (every combination). `{name}` in any string of the
//! template is replaced by the bound value; a string that is exactly `{name}`
//! takes the value's own type (so `len: "{len}"` stays a number). Expanded nodes
//! keep the template's positions, so errors point at the template line.

use super::yaml::{Loc, Node, NodeKind};

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

/// Expands a case template (a mapping that may hold `matrix`).
pub fn expand(template: &Node) -> Result<Vec<Expansion>, MatrixError> {
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
        return Ok(vec![(template.clone(), Vec::new())]);
    };
    let rows = bindings(matrix)?;
    if rows.is_empty() {
        return err(
            matrix.loc,
            "this matrix produces no cases (its lists are empty)",
        );
    }
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
    Ok(rows
        .into_iter()
        .map(|row| {
            let shown = row
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
            (substitute(&body, &row), shown)
        })
        .collect())
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

fn substitute(node: &Node, row: &Row) -> Node {
    match &node.kind {
        NodeKind::Scalar { value, plain } => {
            for (name, v) in row {
                if value.len() == name.len() + 2
                    && value[1..value.len() - 1] == **name
                    && value.starts_with('{')
                    && value.ends_with('}')
                {
                    if let NodeKind::Scalar {
                        value: bound,
                        plain: bound_plain,
                    } = &v.kind
                    {
                        return Node::scalar(bound.clone(), *bound_plain, node.loc);
                    }
                }
            }
            let mut out = value.clone();
            for (name, v) in row {
                let pattern = format!("{{{name}}}");
                if out.contains(&pattern) {
                    out = out.replace(&pattern, v.as_str().unwrap_or_default());
                }
            }
            Node::scalar(out, *plain, node.loc)
        }
        NodeKind::Seq(items) => Node {
            kind: NodeKind::Seq(items.iter().map(|i| substitute(i, row)).collect()),
            loc: node.loc,
        },
        NodeKind::Map(entries) => Node {
            kind: NodeKind::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), substitute(v, row)))
                    .collect(),
            ),
            loc: node.loc,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::yaml::parse;
    use super::*;

    fn ids(src: &str) -> Vec<String> {
        expand(&parse(src).unwrap())
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
        let out = expand(&parse(src).unwrap()).unwrap();
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
            let e = expand(&parse(src).unwrap()).expect_err(src);
            assert_eq!(e.loc.line, *line, "{src}: {}", e.message);
            assert!(e.message.starts_with(words), "{src}: {}", e.message);
        }
        // Letters, digits and _ are a plain name.
        assert_eq!(ids("id: '{a_1}'\nmatrix: {zip: {a_1: [x]}}\n"), ["x"]);
    }

    #[test]
    fn uneven_zip_is_located() {
        let e = expand(&parse("id: x\nmatrix:\n  zip:\n    a: [1, 2]\n    b: [1]\n").unwrap())
            .unwrap_err();
        assert_eq!(e.loc.line, 5);
        assert!(e.message.contains("equal lengths"));
    }
}
