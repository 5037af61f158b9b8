//! Text sanitizing for the XML and HTML reports. Everything a report shows may
//! come from the peer (close reasons, handshake headers, payloads) or from case
//! files, so before any string reaches a renderer it passes through here:
//! [`xml_text`] makes a string safe for `junit-report`'s attributes (whose
//! markup it escapes), replacing characters XML 1.0 forbids with visible
//! escapes such as `\x1b`; [`cdata_text`] does the same for text it writes
//! raw into a CDATA section, and splits every `]]>` across two sections so the
//! text reads back unchanged; [`html`] escapes
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

/// Makes a string safe as an attribute value for `junit-report` (which
/// escapes markup in attributes): forbidden and control characters become
/// visible escapes.
pub fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match visible_escape(c) {
            Some(e) => out.push_str(&e),
            None => out.push(c),
        }
    }
    out
}

/// Makes a string safe as CDATA content for `junit-report`, which writes it
/// raw inside `<![CDATA[` … `]]>`: as [`xml_text`], and every `]]>` ends the
/// section after `]]` and opens a new one for `>`, the standard split, so an
/// XML reader gets the exact text back.
pub fn cdata_text(s: &str) -> String {
    xml_text(s).replace("]]>", "]]]]><![CDATA[>")
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
    fn xml_escapes_controls_and_cdata_splits_its_end() {
        let raw = "a]]>b]]]>c\u{0}\u{1b}[31m\u{7f}\u{fffe}\t\n";
        let s = xml_text(raw);
        assert_eq!(s, "a]]>b]]]>c\\x00\\x1b[31m\\x7f\\u{fffe}\t\n");
        let c = cdata_text(raw);
        assert_eq!(
            c,
            "a]]]]><![CDATA[>b]]]]]><![CDATA[>c\\x00\\x1b[31m\\x7f\\u{fffe}\t\n"
        );
        // Inside a CDATA section, the pieces join back to the escaped text.
        let doc = format!("<x><![CDATA[{c}]]></x>");
        let parsed = cdata_sections_joined(&doc);
        assert_eq!(parsed, s);
    }

    /// The text of `<x>` made of CDATA sections, joined (a reader's view).
    fn cdata_sections_joined(doc: &str) -> String {
        let inner = &doc["<x><![CDATA[".len()..doc.len() - "]]></x>".len()];
        inner.split("]]><![CDATA[").collect()
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            html("<script>alert('x')&\"</script>\u{0}\u{202e}"),
            "&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;\\x00\\u{202e}"
        );
    }
}
