//! The `.snap` file format, written and read without insta: a YAML header
//! between two `---` lines, then the body. The header is byte for byte what
//! insta 1.x writes for a file snapshot (`source`, `expression`, `info`, with
//! insta's quoting rules), so `cargo insta review` can read and re-save these
//! files without changing them; the reader accepts what insta writes, and
//! ignores header keys it does not know.

use crate::snapshot::Error;

/// The `source:` written in every header.
pub const SOURCE: &str = "wsspec";

/// One parsed `.snap` file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snap {
    /// `source:` (`wsspec` for files this module writes).
    pub source: Option<String>,
    /// `description:`, when present.
    pub description: Option<String>,
    /// `expression:`: the case id.
    pub expression: Option<String>,
    /// `info:` as key/value pairs in file order (`tool_version`, `corpus_version`).
    pub info: Vec<(String, String)>,
    /// Everything after the second `---`, without the final newline.
    pub body: String,
}

impl Snap {
    /// The case id the file records (`expression:`).
    pub fn case_id(&self) -> Option<&str> {
        self.expression.as_deref()
    }

    /// One `info:` value.
    pub fn info(&self, key: &str) -> Option<&str> {
        self.info
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The wsspec version that wrote the snapshot.
    pub fn tool_version(&self) -> Option<&str> {
        self.info("tool_version")
    }

    /// The corpus version the snapshot was taken with.
    pub fn corpus_version(&self) -> Option<&str> {
        self.info("corpus_version")
    }
}

/// A whole `.snap` file: header (`source: wsspec`, `expression: <case id>`,
/// `info:` with `tool_version` and `corpus_version`), `---`, the body and a
/// final newline.
pub fn render_snap(case_id: &str, body: &str, tool_version: &str, corpus_version: &str) -> String {
    let mut s = String::from("---\n");
    s.push_str(&format!("source: {}\n", scalar(SOURCE)));
    s.push_str(&format!("expression: {}\n", scalar(case_id)));
    s.push_str("info:\n");
    s.push_str(&format!("  tool_version: {}\n", scalar(tool_version)));
    s.push_str(&format!("  corpus_version: {}\n", scalar(corpus_version)));
    s.push_str("---\n");
    let body = body.trim_end_matches(['\n', '\r']);
    s.push_str(body);
    s.push('\n');
    s
}

/// Parses a `.snap` file (the new format: a header between `---` lines).
pub fn parse_snap(text: &str) -> Result<Snap, Error> {
    let mut lines = text.split_inclusive('\n').enumerate();
    let mut consumed = match lines.next() {
        Some((_, l)) if l.trim_end() == "---" => l.len(),
        _ => return Err(format_error(1, "a snapshot starts with a `---` line")),
    };
    let mut snap = Snap::default();
    let mut closed = false;
    let mut in_info = false;
    let mut info_indent: Option<usize> = None;
    for (idx, raw) in lines.by_ref() {
        let lineno = idx + 1;
        consumed += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim_end() == "---" {
            closed = true;
            break;
        }
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if indent > 0 {
            // Only `info:`'s own keys are ours; deeper structure (insta allows
            // any YAML under `info:`) and anything under other keys is skipped.
            if in_info && *info_indent.get_or_insert(indent) == indent {
                if let Some((key, value)) = split_key(line.trim()) {
                    if !value.is_empty() {
                        let v = parse_scalar(value).map_err(|m| format_error(lineno, &m))?;
                        snap.info.push((key.to_string(), v));
                    }
                }
            }
            continue;
        }
        let (key, value) =
            split_key(line.trim()).ok_or_else(|| format_error(lineno, "expected `key: value`"))?;
        in_info = false;
        let parsed = || parse_scalar(value).map_err(|m| format_error(lineno, &m));
        match key {
            "source" => snap.source = Some(parsed()?),
            "description" => snap.description = Some(parsed()?),
            "expression" => snap.expression = Some(parsed()?),
            "info" if value.is_empty() => in_info = true,
            "info" if value == "~" || value == "null" => {}
            "snapshot_kind" if parsed()? != "text" => {
                return Err(format_error(lineno, "only text snapshots are supported"));
            }
            _ => {}
        }
    }
    if !closed {
        return Err(format_error(
            text.lines().count().max(1),
            "the header has no closing `---` line",
        ));
    }
    let body = text.get(consumed.min(text.len())..).unwrap_or("");
    snap.body = body
        .trim_end_matches('\n')
        .trim_end_matches('\r')
        .replace("\r\n", "\n");
    Ok(snap)
}

fn format_error(line: usize, message: &str) -> Error {
    Error::Format {
        line,
        message: message.to_string(),
    }
}

/// `key: value` → (key, value); `key:` → (key, "").
fn split_key(line: &str) -> Option<(&str, &str)> {
    let (key, rest) = line.split_once(':')?;
    if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
        return None;
    }
    let key = key.trim();
    (!key.is_empty()).then(|| (key, rest.trim()))
}

/// A YAML scalar: double-quoted (with escapes), single-quoted, or plain.
fn parse_scalar(v: &str) -> Result<String, String> {
    if let Some(inner) = v.strip_prefix('"') {
        let inner = inner
            .strip_suffix('"')
            .ok_or("unterminated double-quoted string")?;
        return unescape_double(inner);
    }
    if let Some(inner) = v.strip_prefix('\'') {
        let inner = inner
            .strip_suffix('\'')
            .ok_or("unterminated single-quoted string")?;
        return Ok(inner.replace("''", "'"));
    }
    // A plain scalar may carry a trailing comment.
    let plain = match v.find(" #") {
        Some(i) => &v[..i],
        None => v,
    };
    Ok(plain.trim().to_string())
}

fn unescape_double(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or("a string ends in a lone backslash")?;
        match e {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '/' => out.push('/'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            '0' => out.push('\0'),
            ' ' => out.push(' '),
            'u' | 'x' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = chars.by_ref().take(n).collect();
                let code = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == n)
                    .ok_or_else(|| format!("bad escape `\\{e}{hex}`"))?;
                out.push(char::from_u32(code).ok_or_else(|| format!("bad code point {code:#x}"))?);
            }
            other => return Err(format!("unknown escape `\\{other}`")),
        }
    }
    Ok(out)
}

/// A string as insta's YAML emitter writes it: plain when YAML would read it
/// back as the same string, double-quoted otherwise (numbers such as a case id
/// `2.2`, booleans, leading indicators, `:` and the like).
pub fn scalar(s: &str) -> String {
    if needs_quotes(s) {
        escape_double(s)
    } else {
        s.to_string()
    }
}

/// insta's (yaml-rust's) `need_quotes`.
fn needs_quotes(s: &str) -> bool {
    const WORDS: [&str; 22] = [
        "yes", "Yes", "YES", "no", "No", "NO", "True", "TRUE", "true", "False", "FALSE", "false",
        "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
    ];
    s.is_empty()
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.starts_with(['&', '*', '?', '|', '-', '<', '>', '=', '!', '%', '@'])
        || s.contains(|c: char| {
            matches!(c, ':' | '{' | '}' | '[' | ']' | ',' | '#' | '`' | '"' | '\'' | '\\'
                | '\0'..='\x06' | '\t' | '\n' | '\r' | '\x0e'..='\x1a' | '\x1c'..='\x1f')
        })
        || WORDS.contains(&s)
        || s.starts_with('.')
        || s.starts_with("0x")
        || s.parse::<i64>().is_ok()
        || s.parse::<f64>().is_ok()
}

/// insta's (yaml-rust's) `escape_str`.
fn escape_double(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_matches_insta_layout() {
        let text = render_snap("2.2", "handshake: 101\nverdict: OK\n", "0.1.0", "2");
        assert_eq!(
            text,
            "---\nsource: wsspec\nexpression: \"2.2\"\ninfo:\n  tool_version: 0.1.0\n  corpus_version: \"2\"\n---\nhandshake: 101\nverdict: OK\n"
        );
    }

    #[test]
    fn round_trip() {
        for id in ["2.2", "6.4.1", "my-case_1", "yes", "12"] {
            let body = "line one\n  \"quoted\": x\n---\nlast";
            let snap = parse_snap(&render_snap(id, body, "0.1.0", "2.1")).expect("parses");
            assert_eq!(snap.case_id(), Some(id));
            assert_eq!(snap.source.as_deref(), Some("wsspec"));
            assert_eq!(snap.tool_version(), Some("0.1.0"));
            assert_eq!(snap.corpus_version(), Some("2.1"));
            assert_eq!(snap.body, body);
        }
    }

    #[test]
    fn reads_insta_headers() {
        let text = "---\nsource: tests/x.rs\nassertion_line: 12\ndescription: 'it''s'\nexpression: message\ninfo:\n  a: \"\\u0041\\tb\"\n  nested:\n    - 1\ninput_file: x.txt\n---\nbody\r\n";
        let snap = parse_snap(text).expect("parses");
        assert_eq!(snap.source.as_deref(), Some("tests/x.rs"));
        assert_eq!(snap.description.as_deref(), Some("it's"));
        assert_eq!(snap.expression.as_deref(), Some("message"));
        assert_eq!(snap.info("a"), Some("A\tb"));
        assert_eq!(snap.body, "body");
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse_snap("source: x\n").expect_err("no ---");
        assert!(e.to_string().contains("line 1"), "{e}");
        let e = parse_snap("---\nsource: x\nbody\n").expect_err("unclosed");
        assert!(matches!(e, Error::Format { .. }), "{e}");
        let e = parse_snap("---\nexpression: \"2.2\n---\n").expect_err("bad quote");
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn quoting_follows_insta() {
        assert_eq!(scalar("wsspec"), "wsspec");
        assert_eq!(scalar("2"), "\"2\"");
        assert_eq!(scalar("0.1.0"), "0.1.0");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(scalar("-x"), "\"-x\"");
    }
}
