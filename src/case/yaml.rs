//! A YAML document as a tree of nodes that remember where they came from.
//! Built from saphyr-parser's events so that every node, including map keys,
//! carries its line and column; duplicate keys are refused here, at the
//! repeated key. Anchors and aliases are expanded by copying the anchored node;
//! the copies count towards the file's limits (`yaml_nodes`, `yaml_text`), so
//! an alias bomb is refused at the alias that crosses one.

use std::collections::HashMap;

use super::limits::{Limit, YAML_NODES, YAML_TEXT};

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

/// How much a node holds: nodes (itself included) and bytes of scalar text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Size {
    pub nodes: u64,
    pub text: u64,
}

impl Size {
    fn add(&mut self, other: Size) {
        self.nodes = self.nodes.saturating_add(other.nodes);
        self.text = self.text.saturating_add(other.text);
    }

    /// The sum, saturating.
    pub fn plus(mut self, other: Size) -> Size {
        self.add(other);
        self
    }

    /// The message naming the limit this size passes, if any: `nodes` (or
    /// `yaml_text`); `what` says what the size is of ("this alias would
    /// make the file").
    pub fn over_limits(&self, nodes: &Limit, what: &str) -> Option<String> {
        if nodes.exceeded_by(self.nodes) {
            Some(nodes.refuse(format!("{what} {} YAML nodes", self.nodes)))
        } else if YAML_TEXT.exceeded_by(self.text) {
            Some(YAML_TEXT.refuse(format!("{what} {} bytes of YAML text", self.text)))
        } else {
            None
        }
    }
}

impl Node {
    /// The node's size: itself, everything under it, and their text.
    pub fn size(&self) -> Size {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Size {
                nodes: 1,
                text: value.len() as u64,
            },
            NodeKind::Seq(items) => items
                .iter()
                .fold(Size { nodes: 1, text: 0 }, |s, i| s.plus(i.size())),
            NodeKind::Map(entries) => entries
                .iter()
                .fold(Size { nodes: 1, text: 0 }, |s, (k, v)| {
                    s.plus(k.size()).plus(v.size())
                }),
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
    Seq(Vec<Node>, Loc, usize, Size),
    /// Entries, the key waiting for its value, position, anchor, size, and
    /// the line of each key so far (so that duplicates are found in linear time).
    Map(
        Vec<(Node, Node)>,
        Option<Node>,
        Loc,
        usize,
        Size,
        HashMap<String, u32>,
    ),
}

/// The innermost collection still open that was written in flow style
/// (`[` or `{` at its position), with that position.
fn open_flow_collection(text: &str, stack: &[Building]) -> Option<(char, Loc)> {
    stack.iter().rev().find_map(|b| {
        let at = match b {
            Building::Seq(_, loc, ..) | Building::Map(_, _, loc, ..) => *loc,
        };
        let line = text.lines().nth((at.line as usize).checked_sub(1)?)?;
        let opener = line.chars().nth((at.col as usize).checked_sub(1)?)?;
        matches!(opener, '[' | '{').then_some((opener, at))
    })
}

/// Parses one YAML document into a node tree.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Building> = Vec::new();
    let mut anchors: HashMap<usize, (Node, Size)> = HashMap::new();
    let mut root: Option<Node> = None;
    // Everything produced so far, aliases counted as what they copy.
    let mut total = Size::default();
    let mut documents = 0;
    loop {
        let (event, span) = match parser.next_event() {
            None => break,
            Some(Ok(ev)) => ev,
            Some(Err(e)) => {
                let loc = Loc {
                    line: e.marker().line() as u32,
                    col: e.marker().col() as u32 + 1,
                };
                let mut message = e.info().to_string();
                // The parser notices an unclosed `[` or `{` only where the
                // text stops making sense, often lines later: name the opener.
                if let Some((opener, at)) = open_flow_collection(text, &stack) {
                    if at.line < loc.line {
                        message.push_str(&format!(
                            " (inside the `{opener}` opened at line {}, column {}: is it closed?)",
                            at.line, at.col
                        ));
                    }
                }
                return Err(SyntaxError { loc, message });
            }
        };
        let loc = loc_of(&span);
        let finished: Option<(Node, usize, Size)> = match event {
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
                Some((n, size)) => {
                    total.add(*size);
                    if let Some(message) =
                        total.over_limits(&YAML_NODES, "this alias would make the file")
                    {
                        return Err(SyntaxError { loc, message });
                    }
                    let mut copy = n.clone();
                    copy.loc = loc;
                    Some((copy, 0, *size))
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
                let size = Size {
                    nodes: 1,
                    text: value.len() as u64,
                };
                total.add(size);
                Some((Node::scalar(value.into_owned(), plain, loc), anchor, size))
            }
            Event::SequenceStart(anchor, _) => {
                total.add(Size { nodes: 1, text: 0 });
                stack.push(Building::Seq(
                    Vec::new(),
                    loc,
                    anchor,
                    Size { nodes: 1, text: 0 },
                ));
                None
            }
            Event::MappingStart(anchor, _) => {
                total.add(Size { nodes: 1, text: 0 });
                stack.push(Building::Map(
                    Vec::new(),
                    None,
                    loc,
                    anchor,
                    Size { nodes: 1, text: 0 },
                    HashMap::new(),
                ));
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Building::Seq(items, l, anchor, size)) => Some((
                    Node {
                        kind: NodeKind::Seq(items),
                        loc: l,
                    },
                    anchor,
                    size,
                )),
                _ => None,
            },
            Event::MappingEnd => match stack.pop() {
                Some(Building::Map(entries, _, l, anchor, size, _)) => Some((
                    Node {
                        kind: NodeKind::Map(merge_keys(entries)?),
                        loc: l,
                    },
                    anchor,
                    size,
                )),
                _ => None,
            },
        };
        if let Some(message) = total.over_limits(&YAML_NODES, "the file holds at least") {
            return Err(SyntaxError { loc, message });
        }
        let Some((node, anchor, size)) = finished else {
            continue;
        };
        if anchor != 0 {
            anchors.insert(anchor, (node.clone(), size));
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Building::Seq(items, _, _, parent)) => {
                parent.add(size);
                items.push(node)
            }
            Some(Building::Map(entries, pending_key, _, _, parent, lines)) => {
                parent.add(size);
                match pending_key.take() {
                    None => {
                        let Some(key) = node.as_str() else {
                            return Err(SyntaxError {
                                loc: node.loc,
                                message: "mapping keys must be plain scalars".into(),
                            });
                        };
                        if let Some(first) = lines.get(key) {
                            return Err(SyntaxError {
                                loc: node.loc,
                                message: format!(
                                    "duplicate key `{key}` (first given at line {first})"
                                ),
                            });
                        }
                        lines.insert(key.to_string(), node.loc.line);
                        *pending_key = Some(node);
                    }
                    Some(key) => entries.push((key, node)),
                }
            }
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
    // Keys are plain scalars (checked as they are read).
    let mut seen: std::collections::HashSet<String> = own
        .iter()
        .map(|(k, _)| k.as_str().unwrap_or_default().to_string())
        .collect();
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
                if seen.insert(k.as_str().unwrap_or_default().to_string()) {
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

    /// The "billion laughs": nine levels of nine aliases would be about
    /// 5 * 10^8 nodes; the alias that crosses `yaml_nodes` is refused.
    #[test]
    fn alias_bombs_are_refused_at_the_alias_that_crosses_the_limit() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (prev, name) in ('a'..='h').zip('b'..='i') {
            let refs = vec![format!("*{prev}"); 9].join(", ");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        let e = parse(&text).expect_err("a bomb");
        // Level e is 66,430 nodes, so the file passes 250,000 at f's
        // third alias of it (line 6, column 8 + 4 * 2).
        assert_eq!(e.loc, Loc { line: 6, col: 16 }, "{e:?}");
        assert!(
            e.message.starts_with("this alias would make the file 274030 YAML nodes, over the limit `yaml_nodes` of 250000 YAML nodes per file"),
            "{e:?}"
        );
        // The first five levels (about 75,000 nodes) parse.
        let short: String = text.lines().take(5).map(|l| format!("{l}\n")).collect();
        assert_eq!(parse(&short).expect("under the limit").size().nodes, 74_738);
    }

    #[test]
    fn long_text_behind_aliases_is_refused() {
        let text = format!(
            "a: &a '{}'\nb: [{}]\n",
            "x".repeat(1 << 20),
            vec!["*a"; 70].join(", ")
        );
        let e = parse(&text).expect_err("70 MiB of text");
        // 2 bytes of keys and 1 MiB of value, then 62 copies fit: the 63rd
        // alias (each `*a, ` is 4 columns, from column 5) crosses.
        assert_eq!(
            e.loc,
            Loc {
                line: 2,
                col: 5 + 4 * 62
            },
            "{e:?}"
        );
        assert!(
            e.message.starts_with("this alias would make the file 67108866 bytes of YAML text, over the limit `yaml_text` of 67108864 (64 MiB)"),
            "{e:?}"
        );
        // Sizes add up: keys, values and containers.
        let n = parse("a: [x, yy]\nb: {c: d}\n").expect("yaml");
        assert_eq!(n.size(), Size { nodes: 9, text: 7 });
    }

    #[test]
    fn duplicate_keys_in_a_large_mapping_are_found_fast() {
        let mut text: String = (0..50_000).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("k7: again\n");
        let started = std::time::Instant::now();
        let e = parse(&text).expect_err("duplicate");
        assert!(started.elapsed().as_secs() < 2, "{:?}", started.elapsed());
        assert_eq!(
            e.loc,
            Loc {
                line: 50_001,
                col: 1
            }
        );
        assert_eq!(e.message, "duplicate key `k7` (first given at line 8)");
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
            // An unclosed `[` or `{` is noticed lines later: the message
            // names where it was opened.
            (
                "x: [1,\n  2\nid: 3\n",
                3,
                3,
                "inside the `[` opened at line 1, column 4: is it closed?",
            ),
            (
                "c:\n  - s: {a: 1,\n    t: x\n",
                3,
                5,
                "inside the `{` opened at line 2, column 8",
            ),
        ];
        for (text, line, col, words) in rows {
            let e = parse(text).unwrap_err();
            assert_eq!((e.loc.line, e.loc.col), (line, col), "{text:?}: {e:?}");
            assert!(e.message.contains(words), "{text:?}: {e:?}");
        }
        // An error on the opener's own line needs no pointer back.
        let e = parse("a: [1, 2}\nb: 1\n").unwrap_err();
        assert_eq!(e.loc.line, 1, "{e:?}");
        assert!(!e.message.contains("opened at"), "{e:?}");
    }
}
