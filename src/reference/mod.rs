//! The embedded reference peer: an echo server built on tokio-tungstenite,
//! with the thin layer a strict server needs around it. tungstenite detects
//! protocol errors but leaves failing the connection to its user, so this layer
//! sends the close code RFC 6455 7.4.1 names (1002 protocol error, 1007 invalid
//! payload, 1009 too big) and closes TCP; its handshake callback refuses a
//! request without Host (RFC 6455 4.1) with 400; a gate ([`gate`]) answers every
//! other malformed opening handshake with the status RFC 6455 4.2 asks for
//! (tungstenite drops some of them unanswered); and a read-side guard
//! ([`utf8_guard`]) fails text messages on the first invalid UTF-8 byte rather
//! than at the end of the frame. tungstenite has no permessage-deflate, so a
//! connection whose request offers it is negotiated here ([`pmd_offer`], RFC
//! 7692 7.1, independent of wsspec's own `deflate` module) and, once agreed,
//! echoed on yawc ([`deflate_echo`], with [`frame_guard`] in front of it);
//! every other connection, and one whose offers are all declined, stays on
//! tungstenite. It is the default target of `wsspec run` and the known-good
//! peer of the project's own tests. The reference client ([`client`], with its
//! own opening handshake in [`client_handshake`]) shares the echo loop and the
//! failing codes (`echo_until_failure`), and the compressed session when it
//! offers permessage-deflate (Autobahn's groups 12 and 13, wsspec's `pmd`).

/// Implements `AsyncWrite` for a read-side wrapper `$wrapper<S>` (a struct
/// with the wrapped stream in `inner`) by passing every write straight
/// through: [`gate::Replay`] and [`utf8_guard::Utf8Guard`] only act on reads.
macro_rules! write_through {
    ($wrapper:ident) => {
        impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for $wrapper<S> {
            fn poll_write(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                data: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut self.inner).poll_write(cx, data)
            }

            fn poll_flush(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut self.inner).poll_flush(cx)
            }

            fn poll_shutdown(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
            }
        }
    };
}

pub mod bulk_echo;
pub mod client;
pub mod client_handshake;
pub mod deflate_echo;
pub mod frame_guard;
pub mod gate;
pub mod http2_echo;
pub mod pmd_offer;
pub mod utf8_guard;

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use crate::run::{Acceptor, TcpAcceptor};

/// Largest message the reference server accepts (Autobahn group 9 sends 16 MiB).
pub const MAX_MESSAGE: usize = 64 << 20;

/// Binds `addr` and serves plain TCP until the task is dropped.
pub async fn bind(addr: &str) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    bind_with(addr, Arc::new(TcpAcceptor)).await
}

/// Binds `addr` and serves every connection `acceptor` makes of it (TLS,
/// for instance) until the task is dropped.
pub async fn bind_with(
    addr: &str,
    acceptor: Arc<dyn Acceptor>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((local, tokio::spawn(serve(listener, acceptor))))
}

/// How long an accepted connection may take to finish a TLS handshake.
const ACCEPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Accepts connections forever, one task each.
pub async fn serve(listener: TcpListener, acceptor: Arc<dyn Acceptor>) {
    loop {
        match listener.accept().await {
            Ok((tcp, _)) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(ACCEPT_TIMEOUT, acceptor.accept(tcp)).await
                    {
                        serve_connection(stream).await;
                    }
                });
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

// The callback signature is tungstenite's; its error type is large by design.
#[allow(clippy::result_large_err)]
fn check_request(req: &Request, resp: Response) -> Result<Response, ErrorResponse> {
    if req.headers().get("host").is_none() {
        let mut err = ErrorResponse::new(Some("missing Host header".into()));
        *err.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::BAD_REQUEST;
        return Err(err);
    }
    Ok(resp)
}

/// Serves one accepted connection (TCP, or any byte stream): the gate, the
/// opening handshake, then echo until the peer closes or the connection must
/// be failed. A request whose permessage-deflate offer is accepted is answered
/// here and echoed on yawc; every other one goes to tungstenite.
pub async fn serve_connection<S>(mut stream: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // A client with prior knowledge of HTTP/2 opens with its preface (RFC
    // 9113 3.3): WebSockets over HTTP/2 streams (RFC 8441).
    let Ok(start) = sniff_preface(&mut stream).await else {
        return;
    };
    if start == crate::http2::server::PREFACE {
        let io = gate::Replay::new(start, stream);
        let _ = crate::http2::server::serve_connection(io, None, None, http2_echo::handler()).await;
        return;
    }
    let mut stream = gate::Replay::new(start, stream);
    let Ok(head) = gate::admit(&mut stream).await else {
        return;
    };
    if let Some(upgrade) = deflate_upgrade(&head) {
        if stream.write_all(upgrade.response.as_bytes()).await.is_err() {
            return;
        }
        let rest = head[upgrade.head_len..].to_vec();
        deflate_echo::run(gate::Replay::new(rest, stream), &upgrade.agreed, true).await;
        return;
    }
    let head_len = request_len(&head);
    echo_on_tungstenite(gate::Replay::new(head, stream), head_len).await;
}

/// The opening handshake and the echo on tungstenite, for a connection whose
/// request the gate admitted (`stream` replays it), through the UTF-8 guard
/// and the large-message layer ([`bulk_echo`]; `head_len` is the request's
/// length, None leaves every message to tungstenite).
pub(crate) async fn echo_on_tungstenite<S>(stream: gate::Replay<S>, head_len: Option<usize>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let guarded = utf8_guard::Utf8Guard::new(stream);
    let layered = bulk_echo::BulkEcho::new(guarded, head_len);
    let Ok(ws) =
        tokio_tungstenite::accept_hdr_async_with_config(layered, check_request, Some(config)).await
    else {
        return;
    };
    echo_and_end(ws, false).await;
}

/// Echoes until the connection ends or must be failed. A failure gets its
/// close frame (the reason cut to 100 characters) and a graceful end of the
/// connection; so does a connection that ended cleanly when `always_end`
/// (an HTTP/2 stream, which dropping would reset, where dropping TCP ends
/// it with FIN).
pub(crate) async fn echo_and_end<S>(mut ws: WebSocketStream<S>, always_end: bool)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match echo_until_failure(&mut ws).await {
        Some((code, reason)) => {
            let reason: String = reason.chars().take(100).collect();
            let _ = ws
                .send(Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })))
                .await;
        }
        None if !always_end => return,
        None => {}
    }
    close_tcp(ws.into_inner()).await;
}

/// Reads the connection's first bytes for as long as they match the HTTP/2
/// preface (an HTTP/1.1 request differs within its first three bytes), and
/// returns what it read, to be replayed.
async fn sniff_preface<S: AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<Vec<u8>> {
    let preface = crate::http2::server::PREFACE;
    let mut start = Vec::new();
    let mut buf = [0u8; 24];
    while start.len() < preface.len() && preface.starts_with(&start) {
        let want = preface.len() - start.len();
        let n = tokio::time::timeout(gate::REQUEST_TIMEOUT, stream.read(&mut buf[..want]))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        if n == 0 {
            break;
        }
        start.extend_from_slice(&buf[..n]);
    }
    Ok(start)
}

/// Length of the request head at the start of `head` (as the gate replays
/// it); None if it does not parse whole.
fn request_len(head: &[u8]) -> Option<usize> {
    let mut storage = [httparse::EMPTY_HEADER; crate::wire::handshake::MAX_HEADERS];
    match httparse::Request::new(&mut storage).parse(head) {
        Ok(httparse::Status::Complete(len)) => Some(len),
        _ => None,
    }
}

/// A request the gate admitted whose permessage-deflate offer is accepted.
struct DeflateUpgrade {
    agreed: pmd_offer::Agreement,
    /// The 101 response, with the extension answer.
    response: String,
    /// Length of the request head; bytes past it are the client's first frames.
    head_len: usize,
}

/// Reads the admitted request (`head`, as the gate replays it) for
/// permessage-deflate offers. None: nothing offered, or every offer declined.
fn deflate_upgrade(head: &[u8]) -> Option<DeflateUpgrade> {
    let mut storage = [httparse::EMPTY_HEADER; crate::wire::handshake::MAX_HEADERS];
    let mut req = httparse::Request::new(&mut storage);
    let httparse::Status::Complete(head_len) = req.parse(head).ok()? else {
        return None;
    };
    let named = |name: &str| {
        req.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .filter_map(|h| std::str::from_utf8(h.value).ok())
            .collect::<Vec<_>>()
    };
    let offers = pmd_offer::parse_list(named("sec-websocket-extensions"));
    let (agreed, answer) = pmd_offer::answer(&offers)?;
    let key = *named("sec-websocket-key").first()?;
    let accept =
        tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.trim().as_bytes());
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: {answer}\r\n\r\n"
    );
    Some(DeflateUpgrade {
        agreed,
        response,
        head_len,
    })
}

/// Closes a connection politely: FIN, then whatever the peer still sends is
/// read (for a second at most) so that the close does not turn into a reset.
pub(crate) async fn close_tcp<S: AsyncRead + AsyncWrite + Unpin>(mut tcp: S) {
    let _ = tcp.shutdown().await;
    let mut sink = [0u8; 4096];
    let drain = async {
        while let Ok(n) = tcp.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), drain).await;
}

/// The echo loop both reference peers share: every text and binary message is
/// sent back as it arrived, until the connection ends or tungstenite reports an
/// error. Some((code, reason)): the connection must be failed with that close
/// code (RFC 6455 7.4.1: 1002 protocol error, 1007 invalid UTF-8, 1009 too
/// big); None: it ended (closing handshake done, TCP gone, or a write failed)
/// and there is nothing left to send.
pub(crate) async fn echo_until_failure<S>(
    ws: &mut WebSocketStream<S>,
) -> Option<(CloseCode, String)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        match ws.next().await {
            Some(Ok(msg @ (Message::Text(_) | Message::Binary(_)))) => {
                if ws.send(msg).await.is_err() {
                    return None;
                }
            }
            Some(Ok(_)) => {}
            Some(Err(WsError::Protocol(e))) => return Some((CloseCode::Protocol, e.to_string())),
            Some(Err(WsError::Utf8(_))) => {
                return Some((CloseCode::Invalid, "invalid UTF-8".into()))
            }
            Some(Err(WsError::Capacity(e))) => return Some((CloseCode::Size, e.to_string())),
            Some(Err(WsError::Io(e))) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Some((CloseCode::Invalid, "invalid UTF-8".into()))
            }
            Some(Err(_)) | None => return None,
        }
    }
}
