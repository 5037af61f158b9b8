//! The reference server's handshake gate. tungstenite drops the connection on
//! several malformed requests instead of answering them, and does not check
//! everything RFC 6455 4.2.1 lists, so the reference server reads the request
//! head itself first: it answers what is wrong with the status RFC 6455 and RFC
//! 7230 call for (400, 405, 426 with `Sec-WebSocket-Version: 13`, 431), and
//! hands a valid request on to tungstenite by replaying the bytes it read.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::wire::handshake::header_tokens;
use crate::wire::head::{read_head, Head, HeadLimits, HeadReadError};

/// Largest request head the reference server reads.
pub const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// How long a client may take to send its request head.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads and checks the request head. Ok: the bytes read so far (to replay);
/// Err: the connection was refused or ended (the response is already written).
pub async fn admit<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) -> Result<Vec<u8>, ()> {
    let limits = HeadLimits {
        max_bytes: MAX_REQUEST_HEAD,
        timeout: REQUEST_TIMEOUT,
    };
    let Head { head, rest } = match read_head(stream, Vec::new(), limits).await {
        Ok(h) => h,
        Err(HeadReadError::TooLarge { .. }) => {
            refuse(stream, 431, "").await;
            return Err(());
        }
        Err(_) => return Err(()),
    };
    match check(&head) {
        Ok(()) => {
            let mut replay = normalize_upgrade(&head);
            replay.extend_from_slice(&rest);
            Ok(replay)
        }
        Err((status, extra)) => {
            refuse(stream, status, extra).await;
            Err(())
        }
    }
}

async fn refuse<S: AsyncWrite + Unpin>(stream: &mut S, status: u16, extra: &str) {
    let reason = match status {
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        _ => "Bad Request",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\n{extra}Connection: close\r\nContent-Length: 0\r\n\r\n"
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Comma-separated tokens of all instances of a header, lowercased.
fn values<'h>(headers: &'h [httparse::Header<'h>], name: &str) -> Vec<&'h [u8]> {
    headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
        .collect()
}

const VERSION_HEADER: &str = "Sec-WebSocket-Version: 13\r\n";

/// RFC 6455 4.2.1: what a server checks in the client's opening handshake.
fn check(head: &[u8]) -> Result<(), (u16, &'static str)> {
    let mut storage = [httparse::EMPTY_HEADER; crate::wire::handshake::MAX_HEADERS];
    let mut req = httparse::Request::new(&mut storage);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err((400, "")),
    }
    if req.method != Some("GET") {
        return Err((405, "Allow: GET\r\n"));
    }
    if req.version != Some(1) {
        return Err((400, ""));
    }
    let headers = req.headers;
    if values(headers, "host").len() != 1 {
        return Err((400, ""));
    }
    if !header_tokens(headers, "upgrade")
        .iter()
        .any(|t| t == "websocket")
    {
        return Err((400, ""));
    }
    if !header_tokens(headers, "connection")
        .iter()
        .any(|t| t == "upgrade")
    {
        return Err((400, ""));
    }
    let keys = values(headers, "sec-websocket-key");
    let key_ok = match keys.as_slice() {
        [key] => base64::engine::general_purpose::STANDARD
            .decode(key.trim_ascii())
            .is_ok_and(|k| k.len() == 16),
        _ => false,
    };
    if !key_ok {
        return Err((400, ""));
    }
    match values(headers, "sec-websocket-version").as_slice() {
        [v] if v.trim_ascii() == b"13" => {}
        _ => return Err((426, VERSION_HEADER)),
    }
    let has_body = values(headers, "content-length")
        .iter()
        .any(|v| v.trim_ascii() != b"0")
        || !values(headers, "transfer-encoding").is_empty();
    if has_body {
        // An upgrade request carries no body (RFC 6455 4.1 describes none); refuse
        // rather than guess where the body ends and the frames begin.
        return Err((400, ""));
    }
    Ok(())
}

/// tungstenite wants `Upgrade: websocket` exactly, while RFC 7230 6.7 allows a
/// list of protocols (`h2c, websocket`); the checked request is handed on with
/// its Upgrade line reduced to the one protocol this server speaks.
fn normalize_upgrade(head: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len());
    for line in head.split_inclusive(|b| *b == b'\n') {
        let is_upgrade = line.len() > 8 && line[..8].eq_ignore_ascii_case(b"upgrade:");
        if is_upgrade {
            out.extend_from_slice(b"Upgrade: websocket\r\n");
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

/// A stream that first yields bytes already read from it.
pub struct Replay<S> {
    buffered: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S> Replay<S> {
    pub fn new(buffered: Vec<u8>, inner: S) -> Self {
        Replay {
            buffered,
            pos: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Replay<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pos < self.buffered.len() {
            let n = (self.buffered.len() - self.pos).min(buf.remaining());
            let start = self.pos;
            buf.put_slice(&self.buffered[start..start + n]);
            self.pos += n;
            if self.pos == self.buffered.len() {
                self.buffered = Vec::new();
                self.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

write_through!(Replay);

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn req(first: &str, headers: &[&str]) -> Vec<u8> {
        let mut s = format!("{first}\r\n");
        for h in headers {
            s.push_str(h);
            s.push_str("\r\n");
        }
        s.push_str("\r\n");
        s.into_bytes()
    }

    fn good() -> Vec<&'static str> {
        vec![
            "Host: h",
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version: 13",
        ]
    }

    #[test]
    fn table() {
        // A good GET request with the header starting with `name` replaced.
        let with = |name: &str, line: &str| -> Vec<u8> {
            let headers: Vec<&str> = good()
                .into_iter()
                .map(|h| if h.starts_with(name) { line } else { h })
                .collect();
            req("GET / HTTP/1.1", &headers)
        };
        let rows: Vec<(Vec<u8>, Result<(), u16>)> = vec![
            (req("GET / HTTP/1.1", &good()), Ok(())),
            (req("POST / HTTP/1.1", &good()), Err(405)),
            (req("GET / HTTP/1.0", &good()), Err(400)),
            (with("Host", "X-No: host"), Err(400)),
            (with("Upgrade", "Upgrade: WebSocket"), Ok(())),
            (
                with("Connection", "Connection: keep-alive, Upgrade"),
                Ok(()),
            ),
            (with("Connection", "Connection: keep-alive"), Err(400)),
            (
                with(
                    "Sec-WebSocket-Key",
                    "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                ),
                Err(400),
            ),
            (
                with("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"),
                Err(426),
            ),
        ];
        for (i, (r, want)) in rows.into_iter().enumerate() {
            assert_eq!(
                check(&r).map_err(|e| e.0),
                want,
                "row {i}: {}",
                String::from_utf8_lossy(&r)
            );
        }
        let _ = KEY;
    }
}
