//! A YAML document as a tree of nodes that remember where they came from.
//! Built from saphyr-parser's events so that every node, including map keys,
//! carries its line and column; duplicate keys are refused here, at the
//! repeated key. Anchors and aliases are expanded by copying the anchored node.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// A position in a source file, 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

fn loc_of(span: &Span) -> Loc {
    Loc {
        line: span.start.line() as u32,
        col: span.start.col() as u32 + 1,
    }
}

/// One YAML node.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// A scalar; `plain` is false for quoted and block scalars (always strings).
    Scalar {
        value: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Entries in document order; keys are nodes so their positions are known.
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub loc: Loc,
}

impl Node {
    pub fn scalar(value: impl Into<String>, plain: bool, loc: Loc) -> Node {
        Node {
            kind: NodeKind::Scalar {
                value: value.into(),
                plain,
            },
            loc,
        }
    }

    /// The scalar's text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// True for `~`, `null` and an empty plain scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, plain: true }
            if value.is_empty() || value == "~" || value == "null" || value == "Null" || value == "NULL")
    }

    /// Looks up a map entry by key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// A short word for the node's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { .. } => "a scalar",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

/// A syntax-level error with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub loc: Loc,
    pub message: String,
}

enum Building {
    Seq(Vec<Node>, Loc, usize),
    Map(Vec<(Node, Node)>, Option<Node>, Loc, usize),
}

/// Parses one YAML document into a node tree.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Building> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut root: Option<Node> = None;
    let mut documents = 0;
    loop {
        let (event, span) = match parser.next_event() {
            None => break,
            Some(Ok(ev)) => ev,
            Some(Err(e)) => {
                return Err(SyntaxError {
                    loc: Loc {
                        line: e.marker().line() as u32,
                        col: e.marker().col() as u32 + 1,
                    },
                    message: e.info().to_string(),
                })
            }
        };
        let loc = loc_of(&span);
        let finished: Option<(Node, usize)> = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => None,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(SyntaxError {
                        loc,
                        message: "a case file holds one YAML document; found a second one".into(),
                    });
                }
                None
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some(n) => {
                    let mut copy = n.clone();
                    copy.loc = loc;
                    Some((copy, 0))
                }
                None => {
                    return Err(SyntaxError {
                        loc,
                        message: "alias refers to an unknown anchor".into(),
                    })
                }
            },
            Event::Scalar(value, style, anchor, _tag) => {
                let plain = matches!(style, ScalarStyle::Plain);
                Some((Node::scalar(value.into_owned(), plain, loc), anchor))
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Building::Seq(Vec::new(), loc, anchor));
                None
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Building::Map(Vec::new(), None, loc, anchor));
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Building::Seq(items, l, anchor)) => Some((
                    Node {
                        kind: NodeKind::Seq(items),
                        loc: l,
                    },
                    anchor,
                )),
                _ => None,
            },
            Event::MappingEnd => match stack.pop() {
                Some(Building::Map(entries, _, l, anchor)) => Some((
                    Node {
                        kind: NodeKind::Map(merge_keys(entries)?),
                        loc: l,
                    },
                    anchor,
                )),
                _ => None,
            },
        };
        let Some((node, anchor)) = finished else {
            continue;
        };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Building::Seq(items, _, _)) => items.push(node),
            Some(Building::Map(entries, pending_key, _, _)) => match pending_key.take() {
                None => {
                    let Some(key) = node.as_str() else {
                        return Err(SyntaxError {
                            loc: node.loc,
                            message: "mapping keys must be plain scalars".into(),
                        });
                    };
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.as_str() == Some(key))
                    {
                        return Err(SyntaxError {
                            loc: node.loc,
                            message: format!(
                                "duplicate key `{key}` (first given at line {})",
                                first.loc.line
                            ),
                        });
                    }
                    *pending_key = Some(node);
                }
                Some(key) => entries.push((key, node)),
            },
        }
    }
    root.ok_or(SyntaxError {
        loc: Loc { line: 1, col: 1 },
        message: "the file is empty; expected a mapping with `cases`".into(),
    })
}

/// Applies YAML merge keys (`<<: *anchor`, `<<: [*a, *b]`): the merged
/// mappings' entries are added where the mapping does not set the key itself.
fn merge_keys(entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, SyntaxError> {
    if !entries.iter().any(|(k, _)| k.as_str() == Some("<<")) {
        return Ok(entries);
    }
    let (merges, mut own): (Vec<_>, Vec<_>) = entries
        .into_iter()
        .partition(|(k, _)| k.as_str() == Some("<<"));
    for (key, value) in merges {
        let sources: Vec<Node> = match value.kind {
            NodeKind::Map(_) => vec![value],
            NodeKind::Seq(items) => items,
            NodeKind::Scalar { .. } => {
                return Err(SyntaxError {
                    loc: key.loc,
                    message:
                        "`<<` merges a mapping (an alias such as `*defaults`) or a list of them"
                            .into(),
                })
            }
        };
        for source in sources {
            let NodeKind::Map(extra) = source.kind else {
                return Err(SyntaxError {
                    loc: source.loc,
                    message: "`<<` can only merge mappings".into(),
                });
            };
            for (k, v) in extra {
                if !own.iter().any(|(o, _)| o.as_str() == k.as_str()) {
                    own.push((k, v));
                }
            }
        }
    }
    Ok(own)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_and_lookup() {
        let n = parse("a: 1\nb:\n  - x\n  - 'y'\n").unwrap();
        let b = n.get("b").unwrap();
        assert_eq!(b.loc, Loc { line: 3, col: 3 });
        let NodeKind::Seq(items) = &b.kind else {
            panic!()
        };
        assert_eq!(
            items[1].kind,
            NodeKind::Scalar {
                value: "y".into(),
                plain: false
            }
        );
        assert_eq!(items[1].loc, Loc { line: 4, col: 5 });
    }

    #[test]
    fn duplicate_key_points_at_repeat() {
        let e = parse("id: 1\ntitle: x\nid: 2\n").unwrap_err();
        assert_eq!(e.loc, Loc { line: 3, col: 1 });
        assert!(e.message.contains("duplicate key `id`"), "{}", e.message);
    }

    #[test]
    fn anchors_copy() {
        let n = parse("a: &p {x: 1}\nb: *p\n").unwrap();
        assert_eq!(n.get("b").unwrap().get("x").unwrap().as_str(), Some("1"));
    }

    #[test]
    fn merge_keys_fill_missing_entries() {
        let n = parse("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n").unwrap();
        let u = n.get("use").unwrap();
        assert_eq!(u.get("x").unwrap().as_str(), Some("1"));
        assert_eq!(u.get("y").unwrap().as_str(), Some("3"));
    }

    #[test]
    fn nulls_kinds_and_locations() {
        let n = parse("a: ~\nb: null\nc:\nd: 'null'\ne: x\nf: [1]\ng: {h: 1}\n").unwrap();
        let null = |k: &str| n.get(k).unwrap().is_null();
        assert!(null("a") && null("b") && null("c"));
        assert!(!null("d"), "a quoted 'null' is a string");
        assert!(!null("e"));
        let kinds: Vec<&str> = ["e", "f", "g"]
            .iter()
            .map(|k| n.get(k).unwrap().kind_name())
            .collect();
        assert_eq!(kinds, ["a scalar", "a list", "a mapping"]);
        assert_eq!(Loc { line: 3, col: 7 }.to_string(), "3:7");
        assert_eq!(n.get("g").unwrap().loc, Loc { line: 7, col: 4 });
    }

    #[test]
    fn one_document_per_file() {
        let e = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.loc.line, 2, "{e:?}");
        assert!(
            e.message.starts_with("a case file holds one YAML document"),
            "{e:?}"
        );
        assert!(parse("---\na: 1\n").is_ok());
    }

    #[test]
    fn syntax_error_located() {
        // (text, line, column, words of the message): the position is the
        // offending token's, 1-based.
        let rows = [
            ("a: 1\nb: 'x\n", 2, 4, "quoted scalar"),
            ("a: 1\nb: \"x\\q\"\n", 2, 4, "unknown escape"),
            ("a: 1\n  b: 2\n", 2, 4, "mapping values are not allowed"),
            ("a: 1\nb: [1, 2\n", 3, 1, "flow sequence"),
        ];
        for (text, line, col, words) in rows {
            let e = parse(text).unwrap_err();
            assert_eq!((e.loc.line, e.loc.col), (line, col), "{text:?}: {e:?}");
            assert!(e.message.contains(words), "{text:?}: {e:?}");
        }
    }
}
