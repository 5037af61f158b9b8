//! The reference client's opening handshake, done by hand rather than by
//! tungstenite (whose client handshake refuses `Connection: Upgrade,
//! keep-alive` and a 101 that arrives a byte at a time). It writes the standard
//! request with a fresh random key, reads the response head however it is
//! split across reads (bounded in size and time), parses it with the runner's
//! lenient parser ([`parse_response`]), and checks what RFC 6455 4.1 asks a
//! client to check: status 101, the `websocket` and `upgrade` tokens (any
//! letter case, in token lists), exactly one correct Sec-WebSocket-Accept, no
//! subprotocol and no extension (it offers neither). Bytes that arrived after the head (a server frame
//! sent in the same write as the 101) are handed back to be read first.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::run::target::Target;
use crate::wire::handshake::{
    accept_for, build_request, parse_response, HeaderEdits, RequestParts, ResponseHead,
};
use crate::wire::head::{Head, HeadLimits, HeadReadError};

/// Largest response head the reference client reads.
pub const MAX_RESPONSE_HEAD: usize = crate::wire::handshake::MAX_HEAD_BYTES;

/// How long a server may take to send its whole response head.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the opening handshake did not produce a WebSocket connection.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("opening handshake: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "opening handshake: the server closed the connection before the end of its response head"
    )]
    Eof,
    #[error("opening handshake: no complete response head within {0:?}")]
    Timeout(Duration),
    #[error("opening handshake: the response head exceeds {MAX_RESPONSE_HEAD} bytes")]
    TooLarge,
    /// The response is not an acceptable 101 (the sentence says why).
    #[error("opening handshake refused: {0}")]
    Refused(String),
}

/// A fresh Sec-WebSocket-Key: 16 random bytes, base64 (RFC 6455 4.1).
pub fn fresh_key() -> String {
    tokio_tungstenite::tungstenite::handshake::client::generate_key()
}

/// The standard upgrade request for `target`: Host, Upgrade, Connection,
/// Sec-WebSocket-Key, Sec-WebSocket-Version 13, nothing offered beyond that.
pub fn request(target: &Target, key: &str) -> Vec<u8> {
    build_request(
        &RequestParts {
            host: &target.host_header,
            path: &target.path,
            key,
            extra: &[],
        },
        &HeaderEdits::default(),
    )
}

/// Reads until the response head is complete (its blank line: CRLF CRLF, or
/// leniently LF LF, RFC 7230 3.5), however the server splits it across writes.
/// Returns everything read and the length of the head; bytes past it belong to
/// the WebSocket connection.
pub async fn read_head<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<(Vec<u8>, usize), HandshakeError> {
    let limits = HeadLimits {
        max_bytes: MAX_RESPONSE_HEAD,
        timeout: RESPONSE_TIMEOUT,
    };
    match crate::wire::head::read_head(stream, Vec::new(), limits).await {
        Ok(Head { head, .. }) if head.len() > MAX_RESPONSE_HEAD => Err(HandshakeError::TooLarge),
        Ok(Head { mut head, rest }) => {
            let end = head.len();
            head.extend(rest);
            Ok((head, end))
        }
        Err(HeadReadError::TooLarge { .. }) => Err(HandshakeError::TooLarge),
        Err(HeadReadError::Closed { .. }) => Err(HandshakeError::Eof),
        Err(HeadReadError::Io { error, .. }) => Err(error.into()),
        Err(HeadReadError::Timeout { .. }) => Err(HandshakeError::Timeout(RESPONSE_TIMEOUT)),
    }
}

/// RFC 6455 4.1: what a client checks in the server's response when it offered
/// `key` and no subprotocol or extension. None when the response is a valid 101.
pub fn check_response(head: &ResponseHead, key: &str) -> Option<String> {
    if head.status != 101 {
        return Some(format!("status {} instead of 101", head.status));
    }
    if !head.tokens("upgrade").iter().any(|t| t == "websocket") {
        return Some("the Upgrade header lacks the token `websocket`".into());
    }
    if !head.tokens("connection").iter().any(|t| t == "upgrade") {
        return Some("the Connection header lacks the token `upgrade`".into());
    }
    let want = accept_for(key);
    let accepts: Vec<&str> = head.values("sec-websocket-accept").collect();
    match accepts.as_slice() {
        [one] if one.trim() == want => {}
        [] => return Some("no Sec-WebSocket-Accept header".into()),
        [_] => return Some("Sec-WebSocket-Accept does not match the key".into()),
        _ => return Some("more than one Sec-WebSocket-Accept header".into()),
    }
    if head.values("sec-websocket-protocol").next().is_some() {
        return Some("a subprotocol was selected although none was offered".into());
    }
    if head.values("sec-websocket-extensions").next().is_some() {
        return Some("an extension was accepted although none was offered".into());
    }
    None
}

/// Writes the request, reads and checks the response. Ok: every byte read and
/// the length of the head; the bytes past the head are the server's first
/// WebSocket bytes and must be read before anything else from the stream.
pub async fn open<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    target: &Target,
) -> Result<(Vec<u8>, usize), HandshakeError> {
    let key = fresh_key();
    stream.write_all(&request(target, &key)).await?;
    stream.flush().await?;
    let (buf, end) = read_head(stream).await?;
    let head = parse_response(&buf[..end]).map_err(|e| HandshakeError::Refused(e.to_string()))?;
    match check_response(&head, &key) {
        None => Ok((buf, end)),
        Some(why) => Err(HandshakeError::Refused(why)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
    const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    fn head(lines: &[&str]) -> ResponseHead {
        let mut s = String::new();
        for l in lines {
            s.push_str(l);
            s.push_str("\r\n");
        }
        s.push_str("\r\n");
        parse_response(s.as_bytes()).expect("test head parses")
    }

    fn good() -> Vec<String> {
        vec![
            "HTTP/1.1 101 Switching Protocols".into(),
            "Upgrade: websocket".into(),
            "Connection: Upgrade".into(),
            format!("Sec-WebSocket-Accept: {ACCEPT}"),
        ]
    }

    fn with(edit: impl Fn(&mut Vec<String>)) -> ResponseHead {
        let mut lines = good();
        edit(&mut lines);
        head(&lines.iter().map(String::as_str).collect::<Vec<_>>())
    }

    #[test]
    fn accepts_what_rfc_6455_allows() {
        assert_eq!(check_response(&with(|_| {}), KEY), None);
        let lenient = [
            with(|l| l[2] = "Connection: keep-alive, Upgrade".into()),
            with(|l| l[2] = "connection: UPGRADE".into()),
            with(|l| l[1] = "uPGRADE: WebSocket".into()),
            with(|l| l[0] = "HTTP/1.1 101 Upgrading Now".into()),
            with(|l| l.push("X-Extra: yes".into())),
        ];
        for h in lenient {
            assert_eq!(check_response(&h, KEY), None, "{h:?}");
        }
    }

    #[test]
    fn refuses_what_rfc_6455_4_1_refuses() {
        let bad = [
            with(|l| l[0] = "HTTP/1.1 200 OK".into()),
            with(|l| {
                l.remove(1);
            }),
            with(|l| l[1] = "Upgrade: h2c".into()),
            with(|l| {
                l.remove(2);
            }),
            with(|l| l[2] = "Connection: keep-alive".into()),
            with(|l| {
                l.remove(3);
            }),
            with(|l| l[3] = "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=".into()),
            with(|l| l.push(format!("Sec-WebSocket-Accept: {ACCEPT}"))),
            with(|l| l.push("Sec-WebSocket-Protocol: chat".into())),
            with(|l| l.push("Sec-WebSocket-Extensions: permessage-deflate".into())),
        ];
        for h in bad {
            assert!(check_response(&h, KEY).is_some(), "{h:?}");
        }
    }

    #[test]
    fn fresh_keys_are_16_bytes_and_differ() {
        use base64::Engine;
        let a = fresh_key();
        let b = fresh_key();
        assert_ne!(a, b);
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&a)
            .expect("base64");
        assert_eq!(raw.len(), 16);
    }
}
