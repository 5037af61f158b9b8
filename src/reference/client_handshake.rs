//! The reference client's opening handshake, done by hand rather than by
//! tungstenite (whose client handshake refuses `Connection: Upgrade,
//! keep-alive` and a 101 that arrives a byte at a time). It writes the standard
//! request with a fresh random key, reads the response head however it is
//! split across reads (bounded in size and time), parses it with the runner's
//! lenient parser ([`parse_response`]), and checks what RFC 6455 4.1 asks a
//! client to check: status 101, the `websocket` and `upgrade` tokens (any
//! letter case, in token lists), exactly one correct Sec-WebSocket-Accept, no
//! subprotocol (it offers none), and no extension unless it offered
//! permessage-deflate, whose answer it checks as RFC 7692 7.1 asks
//! ([`super::pmd_offer`]). Bytes that arrived after the head (a server frame
//! sent in the same write as the 101) are handed back to be read first.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::pmd_offer::{Agreement, ClientOffer};
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
/// Sec-WebSocket-Key, Sec-WebSocket-Version 13, and `offer` if any.
pub fn request(target: &Target, key: &str, offer: Option<&ClientOffer>) -> Vec<u8> {
    let extra: Vec<(String, String)> = offer
        .map(|o| ("Sec-WebSocket-Extensions".to_string(), o.header_value()))
        .into_iter()
        .collect();
    build_request(
        &RequestParts {
            host: &target.host_header,
            path: &target.path,
            key,
            extra: &extra,
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
/// `key`, no subprotocol, and `offer` as its only extension. Ok: a valid 101,
/// with permessage-deflate agreed or not; Err: why the client must fail the
/// connection.
pub fn check_response(
    head: &ResponseHead,
    key: &str,
    offer: Option<&ClientOffer>,
) -> Result<Option<Agreement>, String> {
    if head.status != 101 {
        return Err(format!("status {} instead of 101", head.status));
    }
    if !head.tokens("upgrade").iter().any(|t| t == "websocket") {
        return Err("the Upgrade header lacks the token `websocket`".into());
    }
    if !head.tokens("connection").iter().any(|t| t == "upgrade") {
        return Err("the Connection header lacks the token `upgrade`".into());
    }
    let want = accept_for(key);
    let accepts: Vec<&str> = head.values("sec-websocket-accept").collect();
    match accepts.as_slice() {
        [one] if one.trim() == want => {}
        [] => return Err("no Sec-WebSocket-Accept header".into()),
        [_] => return Err("Sec-WebSocket-Accept does not match the key".into()),
        _ => return Err("more than one Sec-WebSocket-Accept header".into()),
    }
    if head.values("sec-websocket-protocol").next().is_some() {
        return Err("a subprotocol was selected although none was offered".into());
    }
    let answer: Vec<&str> = head.values("sec-websocket-extensions").collect();
    match offer {
        Some(offer) => offer.check(answer),
        None if answer.is_empty() => Ok(None),
        None => Err("an extension was accepted although none was offered".into()),
    }
}

/// Writes the request (with `offer`), reads and checks the response. Ok: every
/// byte read, the length of the head, and what was agreed; the bytes past the
/// head are the server's first WebSocket bytes and must be read before
/// anything else from the stream.
pub async fn open<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    target: &Target,
    offer: Option<&ClientOffer>,
) -> Result<(Vec<u8>, usize, Option<Agreement>), HandshakeError> {
    let key = fresh_key();
    stream.write_all(&request(target, &key, offer)).await?;
    stream.flush().await?;
    let (buf, end) = read_head(stream).await?;
    let head = parse_response(&buf[..end]).map_err(|e| HandshakeError::Refused(e.to_string()))?;
    match check_response(&head, &key, offer) {
        Ok(agreed) => Ok((buf, end, agreed)),
        Err(why) => Err(HandshakeError::Refused(why)),
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
        assert_eq!(check_response(&with(|_| {}), KEY, None), Ok(None));
        let lenient = [
            with(|l| l[2] = "Connection: keep-alive, Upgrade".into()),
            with(|l| l[2] = "connection: UPGRADE".into()),
            with(|l| l[1] = "uPGRADE: WebSocket".into()),
            with(|l| l[0] = "HTTP/1.1 101 Upgrading Now".into()),
            with(|l| l.push("X-Extra: yes".into())),
        ];
        for h in lenient {
            assert_eq!(check_response(&h, KEY, None), Ok(None), "{h:?}");
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
            assert!(check_response(&h, KEY, None).is_err(), "{h:?}");
        }
    }

    #[test]
    fn checks_the_extension_answer_against_the_offer() {
        let offer = ClientOffer {
            client_max_window_bits: true,
        };
        let agreed = with(|l| {
            l.push("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=9".into())
        });
        assert_eq!(
            check_response(&agreed, KEY, Some(&offer)).map(|a| a.map(|a| a.client_window)),
            Ok(Some(9))
        );
        assert_eq!(check_response(&with(|_| {}), KEY, Some(&offer)), Ok(None));
        let unoffered = with(|l| l.push("Sec-WebSocket-Extensions: x-wsspec-unoffered".into()));
        assert!(check_response(&unoffered, KEY, Some(&offer)).is_err());
        let target = Target::parse("ws://h:1/p").expect("url");
        let req = String::from_utf8(request(&target, KEY, Some(&offer))).expect("ascii");
        assert!(
            req.contains(
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            ),
            "{req}"
        );
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
