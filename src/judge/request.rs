//! The client's opening handshake, checked whenever wsspec is the server:
//! what RFC 6455 4.1 requires of every request a client sends. It must be a
//! valid HTTP/1.1 (or later) GET with a Host header, an Upgrade header with
//! the `websocket` token and a Connection header with the `upgrade` token
//! (token lists, any letter case), exactly one Sec-WebSocket-Key that is 16
//! bytes in base64, and Sec-WebSocket-Version 13. A request that breaks one of
//! these fails the case whatever else the client did, as a broken 101 does
//! when wsspec is the client. Over HTTP/2 (a request recorded as its header
//! fields, `:method: CONNECT` first) the rules are RFC 8441's: an extended
//! CONNECT with `:protocol websocket`, `:scheme` and `:path`, and
//! Sec-WebSocket-Version 13 (RFC 8441 5, which keeps RFC 6455's version and
//! drops its key, Upgrade and Connection).

use base64::Engine;

/// The first problem with a client's opening handshake request (its head, up
/// to the blank line), as a sentence; None when it is right.
pub fn check_request(head: &[u8]) -> Option<String> {
    if head.starts_with(b":method:") {
        return check_extended_connect(head);
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

/// RFC 8441's rules for a request recorded as header-field lines.
fn check_extended_connect(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(head);
    // One field a line; a pseudo-field's name keeps its colon (`:path`).
    let fields: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| {
            let after = usize::from(l.starts_with(':'));
            let colon = l[after..].find(':')? + after;
            Some((l[..colon].trim(), l[colon + 1..].trim()))
        })
        .collect();
    let pseudo = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n.strip_prefix(':') == Some(name))
            .map(|(_, v)| v.to_string())
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
    let versions: Vec<&str> = fields
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-version"))
        .map(|(_, v)| *v)
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
    use super::check_request;

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
