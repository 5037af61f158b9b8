//! The HTTP/1.1 upgrade handshake as bytes: building a client request (the
//! standard one, one with headers added, removed or replaced, or a raw request
//! written out byte for byte with placeholders), computing Sec-WebSocket-Accept,
//! finding the end of a response head within a byte budget, and parsing that
//! head leniently so that odd responses are recorded rather than refused.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

/// The GUID of RFC 6455 1.3.
pub const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// How many header lines every head parser reads (a response wsspec reads as
/// a client, a request the judge, serve or a follow-up reads); a head with more
/// is malformed alike everywhere.
pub const MAX_HEADERS: usize = 128;

/// Default cap on a response head; a longer head is recorded as too large.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Sec-WebSocket-Accept for a Sec-WebSocket-Key value.
pub fn accept_for(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(WS_GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// The same letters in the other case: a wrong accept value that only a
/// case-insensitive comparison would take (base64 is case-sensitive).
pub fn swap_case(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

/// Base64 of 16 key bytes.
pub fn key_from_bytes(bytes: &[u8; 16]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Header changes a case asks for, applied to the standard request in order:
/// remove, then replace (in place, or appended when absent), then add.
#[derive(Clone, Debug, Default)]
pub struct HeaderEdits {
    pub remove: Vec<String>,
    pub replace: Vec<(String, String)>,
    pub add: Vec<(String, String)>,
}

/// Inputs of the standard request.
#[derive(Clone, Debug)]
pub struct RequestParts<'a> {
    pub host: &'a str,
    pub path: &'a str,
    pub key: &'a str,
    /// Operator-supplied headers (origin, auth...), appended last.
    pub extra: &'a [(String, String)],
}

/// The standard upgrade request with edits applied.
pub fn build_request(parts: &RequestParts<'_>, edits: &HeaderEdits) -> Vec<u8> {
    let mut headers: Vec<(String, String)> = vec![
        ("Host".into(), parts.host.into()),
        ("Upgrade".into(), "websocket".into()),
        ("Connection".into(), "Upgrade".into()),
        ("Sec-WebSocket-Key".into(), parts.key.into()),
        ("Sec-WebSocket-Version".into(), "13".into()),
    ];
    headers.extend(parts.extra.iter().cloned());
    headers.retain(|(n, _)| !edits.remove.iter().any(|r| r.eq_ignore_ascii_case(n)));
    for (name, value) in &edits.replace {
        match headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => *slot = (name.clone(), value.clone()),
            None => headers.push((name.clone(), value.clone())),
        }
    }
    headers.extend(edits.add.iter().cloned());
    let mut out = format!("GET {} HTTP/1.1\r\n", parts.path);
    for (n, v) in headers {
        out.push_str(&n);
        out.push_str(": ");
        out.push_str(&v);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// Fills `{host}`, `{path}`, `{key}` and `{headers}` (the operator's extra
/// headers, each ending in CRLF) into a raw request written in a case. Works on
/// bytes, so a raw request may hold anything, including invalid UTF-8.
pub fn render_raw_request(template: &[u8], parts: &RequestParts<'_>) -> Vec<u8> {
    let extra: String = parts
        .extra
        .iter()
        .map(|(n, v)| format!("{n}: {v}\r\n"))
        .collect();
    let fills: [(&[u8], &[u8]); 4] = [
        (b"{host}", parts.host.as_bytes()),
        (b"{path}", parts.path.as_bytes()),
        (b"{key}", parts.key.as_bytes()),
        (b"{headers}", extra.as_bytes()),
    ];
    let mut out = Vec::with_capacity(template.len() + extra.len());
    let mut i = 0;
    'scan: while i < template.len() {
        if template[i] == b'{' {
            for (name, value) in fills {
                if template[i..].starts_with(name) {
                    out.extend_from_slice(value);
                    i += name.len();
                    continue 'scan;
                }
            }
        }
        out.push(template[i]);
        i += 1;
    }
    out
}

/// Every value of header `name` in a request head, in order, trimmed (the
/// request line is never a header: its colon-free form or `http:` in a
/// target does not count, as only lines after the first are read).
pub fn request_header_values(head: &[u8], name: &str) -> Vec<String> {
    String::from_utf8_lossy(head)
        .split('\n')
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

/// The single Sec-WebSocket-Key of a request head, if it has exactly one.
pub fn request_key(head: &[u8]) -> Option<String> {
    let keys = request_header_values(head, "sec-websocket-key");
    match keys.as_slice() {
        [k] if !k.is_empty() => Some(k.clone()),
        _ => None,
    }
}

/// Where a response head ends (index just past the blank line), accepting
/// CRLF CRLF and, leniently, LF LF.
pub fn find_head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A parsed HTTP response head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: String,
    /// Header names and values in order, as received (values decoded lossily).
    pub headers: Vec<(String, String)>,
    /// The answer to an extended CONNECT on an HTTP/2 stream (RFC 8441), not
    /// an HTTP/1.1 response.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub http2: bool,
}

impl ResponseHead {
    /// Whether the WebSocket opened: 101 over HTTP/1.1, any 2xx over HTTP/2
    /// (RFC 8441 5: a 2xx answer to extended CONNECT does what 101 does).
    pub fn opened(&self) -> bool {
        if self.http2 {
            (200..300).contains(&self.status)
        } else {
            self.status == 101
        }
    }

    /// The status as RFC 6455 reads it: a 2xx that opened an HTTP/2 stream
    /// counts as 101, so that a case's `status: 101` and the judge's rules
    /// for an accepted handshake apply to both transports.
    pub fn upgrade_status(&self) -> u16 {
        if self.http2 && self.opened() {
            101
        } else {
            self.status
        }
    }

    /// All values of a header, case-insensitively.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Comma-separated tokens of every instance of a header, lowercased.
    pub fn tokens(&self, name: &str) -> Vec<String> {
        self.values(name)
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect()
    }
}

/// The comma-separated tokens of every instance of a request header,
/// lowercased (RFC 7230 7: `Connection: keep-alive, Upgrade`).
pub fn header_tokens(headers: &[httparse::Header<'_>], name: &str) -> Vec<String> {
    headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(name))
        .flat_map(|h| {
            String::from_utf8_lossy(h.value)
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// Why a response head could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// The head ends before the parser is satisfied.
    #[error("incomplete response head")]
    Incomplete,
    /// The parser's words.
    #[error("malformed response head: {0}")]
    Malformed(String),
}

/// Parses a response head leniently (obs-fold, odd spacing, invalid header lines skipped).
pub fn parse_response(head: &[u8]) -> Result<ResponseHead, HeadError> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut storage);
    let mut config = httparse::ParserConfig::default();
    config
        .allow_obsolete_multiline_headers_in_responses(true)
        .allow_spaces_after_header_name_in_responses(true)
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .ignore_invalid_headers_in_responses(true);
    match config.parse_response(&mut resp, head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HeadError::Incomplete),
        Err(e) => return Err(HeadError::Malformed(e.to_string())),
    }
    Ok(ResponseHead {
        status: resp.code.unwrap_or(0),
        reason: resp.reason.unwrap_or("").to_string(),
        headers: resp
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        http2: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_sample_accept() {
        assert_eq!(
            accept_for("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn swap_case_swaps_letters_only() {
        assert_eq!(swap_case("aB3+/="), "Ab3+/=");
    }

    #[test]
    fn keys_and_the_head_bound() {
        // RFC 6455 4.1's sample nonce.
        assert_eq!(
            key_from_bytes(b"the sample nonce"),
            "dGhlIHNhbXBsZSBub25jZQ=="
        );
        assert_eq!(
            MAX_HEAD_BYTES, 16_384,
            "the bound the docs and reasons state"
        );
    }

    #[test]
    fn the_single_key_of_a_request() {
        let key = |head: &str| request_key(head.as_bytes());
        assert_eq!(
            key("GET / HTTP/1.1\r\nsec-websocket-KEY:  abc== \r\n\r\n"),
            Some("abc==".into())
        );
        assert_eq!(key("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), None);
        assert_eq!(key("GET / HTTP/1.1\r\nSec-WebSocket-Key:\r\n\r\n"), None);
        assert_eq!(
            key("GET / HTTP/1.1\r\nSec-WebSocket-Key: a\r\nSec-WebSocket-Key: b\r\n\r\n"),
            None
        );
    }

    #[test]
    fn edits_apply_in_order() {
        let parts = RequestParts {
            host: "h:1",
            path: "/p?q",
            key: "k",
            extra: &[("X-Auth".into(), "t".into())],
        };
        let edits = HeaderEdits {
            remove: vec!["sec-websocket-version".into()],
            replace: vec![("Upgrade".into(), "WebSocket".into())],
            add: vec![("Origin".into(), "http://o".into())],
        };
        let req = String::from_utf8(build_request(&parts, &edits)).unwrap();
        assert_eq!(
            req,
            "GET /p?q HTTP/1.1\r\nHost: h:1\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: k\r\nX-Auth: t\r\nOrigin: http://o\r\n\r\n"
        );
    }

    #[test]
    fn raw_placeholders() {
        let parts = RequestParts {
            host: "h",
            path: "/ws",
            key: "K",
            extra: &[("A".into(), "b".into())],
        };
        let raw = render_raw_request(
            b"GET {path} HTTP/1.1\r\nHost: {host}\r\n{headers}\r\n",
            &parts,
        );
        assert_eq!(raw, b"GET /ws HTTP/1.1\r\nHost: h\r\nA: b\r\n\r\n");
    }

    #[test]
    fn lenient_head_parsing() {
        let raw = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\nxx";
        let end = find_head_end(raw).unwrap();
        assert_eq!(&raw[end..], b"xx");
        let head = parse_response(&raw[..end]).unwrap();
        assert_eq!(head.status, 101);
        assert_eq!(head.tokens("connection"), vec!["keep-alive", "upgrade"]);
        assert!(parse_response(b"garbage\r\n\r\n").is_err());
        assert_eq!(find_head_end(b"HTTP/1.1 200 OK\n\nbody"), Some(17));
    }
}
