//! Text sanitizing for the XML and HTML reports. Everything a report shows may
//! come from the peer (close reasons, handshake headers, payloads) or from case
//! files, so before any string reaches a renderer it passes through here:
//! [`xml_text`] makes a string safe for `junit-report` (which escapes attribute
//! markup but writes CDATA raw), replacing characters XML 1.0 forbids with
//! visible escapes such as `\x1b` and breaking every `]]>`; [`html`] escapes
//! markup characters and makes the same control characters visible. Both also
//! show bidirectional-override characters as escapes, so a hostile string
//! cannot reorder the text around it.

/// The visible escape for a character a report must not show raw, if any.
///
/// Covers C0 controls other than tab, line feed and carriage return, DEL, C1
/// controls, the non-characters U+FFFE and U+FFFF (forbidden in XML 1.0) and
/// the bidirectional embedding, override and isolate controls.
pub fn visible_escape(c: char) -> Option<String> {
    match c {
        '\t' | '\n' | '\r' => None,
        '\u{0}'..='\u{1f}' | '\u{7f}' => Some(format!("\\x{:02x}", c as u32)),
        '\u{80}'..='\u{9f}'
        | '\u{fffe}'
        | '\u{ffff}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}' => Some(format!("\\u{{{:x}}}", c as u32)),
        _ => None,
    }
}

/// Makes any string safe to hand to `junit-report`, as attribute value or as
/// CDATA content: forbidden and control characters become visible escapes and
/// every `]]>` becomes `]]` U+200B `>` (a zero-width space keeps the CDATA
/// section open without changing how the text looks).
pub fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if let Some(e) = visible_escape(c) {
            out.push_str(&e);
        } else {
            if c == '>' && out.ends_with("]]") {
                out.push('\u{200b}');
            }
            out.push(c);
        }
    }
    out
}

/// Escapes a string for HTML text and (quoted) attribute values: `& < > " '`
/// become character references and control characters visible escapes.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => match visible_escape(c) {
                Some(e) => out.push_str(&e),
                None => out.push(c),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_breaks_cdata_end_and_controls() {
        let s = xml_text("a]]>b]]]>c\u{0}\u{1b}[31m\u{7f}\u{fffe}\t\n");
        assert!(!s.contains("]]>"));
        assert!(s.contains("\\x00\\x1b[31m\\x7f\\u{fffe}\t\n"));
        assert!(xml_text("]]>]]>").matches('\u{200b}').count() == 2);
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            html("<script>alert('x')&\"</script>\u{0}\u{202e}"),
            "&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;\\x00\\u{202e}"
        );
    }
}
