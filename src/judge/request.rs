//! The client's opening handshake, checked whenever wsspec is the server:
//! what RFC 6455 4.1 requires of every request a client sends. It must be a
//! valid HTTP/1.1 (or later) GET with a Host header, an Upgrade header with
//! the `websocket` token and a Connection header with the `upgrade` token
//! (token lists, any letter case), exactly one Sec-WebSocket-Key that is 16
//! bytes in base64, and Sec-WebSocket-Version 13. A request that breaks one of
//! these fails the case whatever else the client did, as a broken 101 does
//! when wsspec is the client. Over HTTP/2 (a request recorded as its header
//! fields in the order sent, [`check_http2_request`]) the rules are RFC
//! 9113's for a well-formed message (no connection-specific fields, 8.2.2;
//! lowercase, valid names and values, 8.2.1; pseudo-header fields first,
//! known and once each, 8.3), then RFC 8441's: an extended CONNECT with
//! `:protocol websocket`, `:scheme` and `:path`, and Sec-WebSocket-Version 13
//! (RFC 8441 5, which keeps RFC 6455's version and drops its key, Upgrade and
//! Connection).

use base64::Engine;

use crate::wire::field_lines::FieldLine;

/// The first problem with a client's opening handshake request (its head, up
/// to the blank line), as a sentence; None when it is right.
pub fn check_request(head: &[u8]) -> Option<String> {
    if head.starts_with(b":method:") {
        return check_http2_request(head);
    }
    let mut headers = [httparse::EMPTY_HEADER; crate::wire::handshake::MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Some("the client's opening handshake request never ended".into())
        }
        Err(e) => {
            return Some(format!(
                "the client's opening handshake is not a valid HTTP request ({e}; RFC 6455 4.1)"
            ))
        }
    }
    let rule = "RFC 6455 4.1";
    if req.method != Some("GET") {
        return Some(format!(
            "the client's opening handshake uses the method {}; it must be GET ({rule})",
            req.method.unwrap_or("?")
        ));
    }
    if req.version != Some(1) {
        return Some(format!(
            "the client's opening handshake is HTTP/1.{}; it must be HTTP/1.1 or later ({rule})",
            req.version.unwrap_or(0)
        ));
    }
    let values = |name: &str| -> Vec<String> {
        req.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
            .collect()
    };
    let has_token = |name: &str, token: &str| {
        values(name)
            .iter()
            .flat_map(|v| v.split(',').map(|t| t.trim().to_ascii_lowercase()))
            .any(|t| t == token)
    };
    if values("host").is_empty() {
        return Some(format!(
            "the client's opening handshake has no Host header ({rule})"
        ));
    }
    if !has_token("upgrade", "websocket") {
        return Some(format!(
            "the client's Upgrade header is `{}`; it must include `websocket` ({rule})",
            values("upgrade").join(", ")
        ));
    }
    if !has_token("connection", "upgrade") {
        return Some(format!(
            "the client's Connection header is `{}`; it must include `Upgrade` ({rule})",
            values("connection").join(", ")
        ));
    }
    let keys = values("sec-websocket-key");
    match keys.as_slice() {
        [key] => {
            let decoded = base64::engine::general_purpose::STANDARD.decode(key);
            if decoded.map(|d| d.len()) != Ok(16) {
                return Some(format!(
                    "the client's Sec-WebSocket-Key `{key}` is not 16 bytes in base64 ({rule})"
                ));
            }
        }
        [] => {
            return Some(format!(
                "the client's opening handshake has no Sec-WebSocket-Key ({rule})"
            ))
        }
        _ => {
            return Some(format!(
                "the client sent {} Sec-WebSocket-Key headers; exactly one is allowed ({rule})",
                keys.len()
            ))
        }
    }
    let versions = values("sec-websocket-version");
    if versions != ["13"] {
        return Some(format!(
            "the client's Sec-WebSocket-Version is `{}`; it must be 13 ({rule})",
            versions.join(", ")
        ));
    }
    None
}

/// The first problem with a client's request to open a WebSocket over
/// HTTP/2 (RFC 8441), recorded as its field lines in the order sent
/// ([`crate::wire::field_lines`]); None when it is right. A message RFC 9113
/// makes malformed comes first (connection-specific fields, 8.2.2; field
/// names, 8.2.1; pseudo-header fields, 8.3), then RFC 8441's rules for the
/// extended CONNECT, then field values (8.2.1) and the version.
pub fn check_http2_request(head: &[u8]) -> Option<String> {
    let fields = crate::wire::field_lines::read(head);
    malformed(&fields).or_else(|| check_extended_connect(&fields))
}

/// The pseudo-header fields a request may carry: RFC 9113 8.3.1's and RFC
/// 8441's `:protocol`.
const REQUEST_PSEUDO: [&str; 5] = [":method", ":scheme", ":authority", ":path", ":protocol"];

/// `name: value` as a reason shows a field.
fn shown(f: &FieldLine) -> String {
    format!("`{}: {}`", f.name, String::from_utf8_lossy(&f.value))
}

/// What makes the field block a malformed HTTP/2 message, if anything
/// (RFC 9113 8.1.1: a request to be treated as malformed).
fn malformed(fields: &[FieldLine]) -> Option<String> {
    let connection: Vec<String> = fields
        .iter()
        .filter(|f| crate::wire::field_lines::connection_specific(&f.name, &f.value))
        .map(shown)
        .collect();
    if !connection.is_empty() {
        return Some(format!(
            "the client's request over HTTP/2 carries {}, connection-specific header fields: RFC 9113 8.2.2 says \"Any message containing connection-specific header fields MUST be treated as malformed\" (Connection, Proxy-Connection, Keep-Alive, Transfer-Encoding, Upgrade; TE only as \"trailers\"); RFC 8441 5 puts :protocol in place of the HTTP/1.1 upgrade's Upgrade and Connection",
            connection.join(" and ")
        ));
    }
    if let Some(f) = fields.iter().find(|f| {
        let name = f.name.strip_prefix(':').unwrap_or(&f.name);
        name.is_empty() || name.bytes().any(|b| b == b'\\' || b.is_ascii_uppercase())
    }) {
        return Some(format!(
            "the client's request over HTTP/2 has the field name `{}`: RFC 9113 8.2.1 says \"A field name MUST NOT contain characters in the ranges 0x00-0x20, 0x41-0x5a, or 0x7f-0xff\" (no uppercase; no colon but a pseudo-header field's first) and such a request \"MUST be treated as malformed\"",
            f.name
        ));
    }
    let mut seen_regular: Option<&str> = None;
    let mut seen_pseudo: Vec<&str> = Vec::new();
    for f in fields {
        let name = f.name.as_str();
        if !name.starts_with(':') {
            seen_regular.get_or_insert(name);
            continue;
        }
        if let Some(regular) = seen_regular {
            return Some(format!(
                "the client's request over HTTP/2 has the pseudo-header field `{name}` after the regular field `{regular}`: RFC 9113 8.3 says \"All pseudo-header fields MUST appear in a field block before all regular field lines\" and such a request \"MUST be treated as malformed\""
            ));
        }
        if !REQUEST_PSEUDO.contains(&name) {
            return Some(format!(
                "the client's request over HTTP/2 has the pseudo-header field `{name}`, which no request has: RFC 9113 8.3 says \"Endpoints MUST treat a request or response that contains undefined or invalid pseudo-header fields as malformed\""
            ));
        }
        if seen_pseudo.contains(&name) {
            return Some(format!(
                "the client's request over HTTP/2 has `{name}` more than once: RFC 9113 8.3 says \"The same pseudo-header field name MUST NOT appear more than once in a field block\" and such a request \"MUST be treated as malformed\""
            ));
        }
        seen_pseudo.push(name);
    }
    None
}

/// RFC 8441's rules for the extended CONNECT, then RFC 9113 8.2.1's for
/// field values, then the version.
fn check_extended_connect(fields: &[FieldLine]) -> Option<String> {
    let pseudo = |name: &str| {
        fields
            .iter()
            .find(|f| f.name.strip_prefix(':') == Some(name))
            .map(|f| String::from_utf8_lossy(&f.value).into_owned())
    };
    let method = pseudo("method").unwrap_or_default();
    if method != "CONNECT" {
        return Some(format!(
            "the client opened its WebSocket over HTTP/2 with the method {method}; it must be CONNECT (RFC 8441 4)"
        ));
    }
    if pseudo("protocol").as_deref() != Some("websocket") {
        return Some(format!(
            "the client's :protocol is `{}`; a WebSocket over HTTP/2 needs `websocket` (RFC 8441 4)",
            pseudo("protocol").unwrap_or_default()
        ));
    }
    for name in ["scheme", "path"] {
        if pseudo(name).is_none() {
            return Some(format!(
                "the client's extended CONNECT has no :{name} (RFC 8441 4: it MUST be included)"
            ));
        }
    }
    if let Some(f) = fields.iter().find(|f| {
        let edge = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
        f.value.iter().any(|b| matches!(b, 0 | b'\n' | b'\r'))
            || edge(f.value.first())
            || edge(f.value.last())
    }) {
        return Some(format!(
            "the client's request over HTTP/2 has the field {}: RFC 9113 8.2.1 says a field value \"MUST NOT contain the zero value (ASCII NUL, 0x00), line feed (ASCII LF, 0x0a), or carriage return (ASCII CR, 0x0d) at any position\" and \"MUST NOT start or end with an ASCII whitespace character\", and such a request \"MUST be treated as malformed\"",
            shown(f).escape_debug()
        ));
    }
    let versions: Vec<String> = fields
        .iter()
        .filter(|f| f.name.eq_ignore_ascii_case("sec-websocket-version"))
        .map(|f| String::from_utf8_lossy(&f.value).trim().to_string())
        .collect();
    if versions != ["13"] {
        return Some(format!(
            "the client's sec-websocket-version is `{}`; it must be 13 (RFC 8441 5, RFC 6455 4.1)",
            versions.join(", ")
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{check_http2_request, check_request};

    #[test]
    fn extended_connect_requests_a_client_must_not_send() {
        const H2: &str = ":method: CONNECT\r\n:protocol: websocket\r\n:scheme: https\r\n:authority: example.com\r\n:path: /chat\r\nsec-websocket-version: 13\r\n\r\n";
        assert_eq!(check_request(H2.as_bytes()), None);
        let rows = [
            (":method: CONNECT", ":method: GET", "method GET"),
            (":protocol: websocket", ":protocol: chat", "`chat`"),
            (":scheme: https\r\n", "", "no :scheme"),
            (":path: /chat\r\n", "", "no :path"),
            ("version: 13", "version: 8", "`8`"),
        ];
        for (from, to, words) in rows {
            let why = check_request(H2.replace(from, to).as_bytes()).unwrap_or_default();
            assert!(why.contains(words), "{from} -> {to}: {why:?}");
        }
    }

    /// The field lines `serve --h2` records: any order, any bytes.
    fn h2(from: &str, to: &str) -> Option<String> {
        const H2: &str = ":method: CONNECT\r\n:protocol: websocket\r\n:scheme: http\r\n:authority: h\r\n:path: /runCase?case=1&agent=a\r\nsec-websocket-version: 13\r\nuser-agent: x\r\n\r\n";
        assert!(H2.contains(from), "{from}");
        check_http2_request(H2.replacen(from, to, 1).as_bytes())
    }

    #[test]
    fn malformed_http2_requests_are_named_with_rfc_9113() {
        assert_eq!(h2("", ""), None);
        // Pseudo-header fields in another order, TE with "trailers", an
        // authority left out: well-formed.
        assert_eq!(
            h2(
                ":method: CONNECT\r\n:protocol: websocket\r\n",
                ":protocol: websocket\r\n:method: CONNECT\r\n"
            ),
            None
        );
        assert_eq!(h2("user-agent: x", "te: trailers"), None);
        assert_eq!(h2(":authority: h\r\n", ""), None);
        let rows = [
            (
                "user-agent: x",
                "connection: Upgrade\r\nupgrade: websocket",
                "carries `connection: Upgrade` and `upgrade: websocket`, connection-specific header fields: RFC 9113 8.2.2",
            ),
            ("user-agent: x", "Keep-Alive: 5", "`Keep-Alive: 5`, connection-specific"),
            ("user-agent: x", "proxy-connection: x", "RFC 9113 8.2.2"),
            ("user-agent: x", "transfer-encoding: chunked", "RFC 9113 8.2.2"),
            ("user-agent: x", "te: gzip", "`te: gzip`, connection-specific"),
            ("user-agent: x", "User-Agent: x", "field name `User-Agent`: RFC 9113 8.2.1"),
            ("user-agent: x", "x\\x3ay: x", "field name `x\\x3ay`: RFC 9113 8.2.1"),
            ("user-agent: x", "x\\x20y: x", "RFC 9113 8.2.1"),
            (
                ":path: /runCase?case=1&agent=a\r\nsec-websocket-version: 13",
                "sec-websocket-version: 13\r\n:path: /runCase?case=1&agent=a",
                "`:path` after the regular field `sec-websocket-version`: RFC 9113 8.3",
            ),
            (":authority: h", ":authority: h\r\n:status: 200", "`:status`, which no request has"),
            (":authority: h", ":authority: h\r\n:path: /x", "`:path` more than once: RFC 9113 8.3"),
            (":authority: h", ":authority: h\r\n:foo: x", "`:foo`, which no request has: RFC 9113 8.3"),
            ("user-agent: x", "user-agent: \\x20x", "RFC 9113 8.2.1 says a field value"),
            ("user-agent: x", "user-agent: x\\x09", "RFC 9113 8.2.1 says a field value"),
            ("user-agent: x", "user-agent: a\\x00b", "RFC 9113 8.2.1 says a field value"),
            (":scheme: http\r\n", "", "no :scheme (RFC 8441 4"),
        ];
        for (from, to, words) in rows {
            let why = h2(from, to).unwrap_or_default();
            assert!(why.contains(words), "{from} -> {to}: {why:?}");
        }
    }

    const GOOD: &str = "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    fn with(from: &str, to: &str) -> Option<String> {
        check_request(GOOD.replace(from, to).as_bytes())
    }

    #[test]
    fn requests_a_client_must_not_send() {
        assert_eq!(check_request(GOOD.as_bytes()), None);
        assert_eq!(with("Upgrade: websocket", "upgrade: WebSocket"), None);
        assert_eq!(
            with("Connection: Upgrade", "Connection: keep-alive, upgrade"),
            None
        );
        let rows = [
            ("GET /chat", "POST /chat", "method POST"),
            ("HTTP/1.1", "HTTP/1.0", "HTTP/1.0"),
            ("Host: example.com\r\n", "", "no Host"),
            ("Upgrade: websocket", "Upgrade: h2c", "`h2c`"),
            (
                "Connection: Upgrade",
                "Connection: keep-alive",
                "`keep-alive`",
            ),
            ("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=", "not 16 bytes"),
            (
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
                "",
                "no Sec-WebSocket-Key",
            ),
            ("Version: 13", "Version: 8", "`8`"),
            (
                "GET /chat HTTP/1.1",
                "GET /chat HTTP/1.1 junk",
                "not a valid HTTP request",
            ),
        ];
        for (from, to, words) in rows {
            let why = with(from, to).unwrap_or_default();
            assert!(why.contains(words), "{from} -> {to}: {why:?}");
        }
    }
}
