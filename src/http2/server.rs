//! wsspec's peers as HTTP/2 servers (RFC 8441): serves one HTTP/2 connection
//! (h2c with prior knowledge, or TLS after ALPN `h2`), advertising
//! `SETTINGS_ENABLE_CONNECT_PROTOCOL`, and hands every request to a handler
//! as an [`Incoming`]: its pseudo-header fields and header fields, and the
//! means to answer it. A handler that accepts a WebSocket gets the stream as
//! an [`H2Stream`] transport to run the WebSocket on.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use h2::server::SendResponse;
use h2::RecvStream;
use tokio::io::{AsyncRead, AsyncWrite};

use super::raw::hpack::Field;
use super::stream::{io_error, H2Stream};
use super::tap::{RejectedHook, RequestTap, TapLog};
use crate::run::{AcceptedTunnel, Transport, TunnelRequest};
use crate::transcript::TlsSession;

/// The HTTP/2 connection preface a client with prior knowledge opens with.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// One request on an HTTP/2 connection, not yet answered.
pub struct Incoming {
    /// Its pseudo-header fields and header fields.
    pub request: TunnelRequest,
    /// Its header block exactly as the client sent it (names as sent,
    /// pseudo-header fields where they came), when a tap read it.
    pub as_sent: Option<Vec<Field>>,
    pub stream_id: u32,
    body: RecvStream,
    respond: SendResponse<Bytes>,
    peer: Option<SocketAddr>,
    tls: Option<TlsSession>,
}

impl Incoming {
    /// All values of a header field.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.request
            .headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether this is a WebSocket opening request (RFC 8441 4-5).
    pub fn is_websocket(&self) -> bool {
        self.request.method == "CONNECT" && self.request.protocol.as_deref() == Some("websocket")
    }

    /// `:path`, `/` when absent.
    pub fn path(&self) -> &str {
        self.request.path.as_deref().unwrap_or("/")
    }

    /// Answers with `status` (2xx for a WebSocket) and `headers`, and gives
    /// the stream back as a transport.
    pub fn accept(mut self, status: u16, headers: &[(&str, String)]) -> std::io::Result<H2Stream> {
        let response = response(status, headers)?;
        let send = self
            .respond
            .send_response(response, false)
            .map_err(io_error)?;
        Ok(H2Stream::new(send, self.body, self.peer, self.tls))
    }

    /// Answers with `status`, the header fields and `body`, ending the stream.
    pub async fn answer(self, status: u16, headers: &[(&str, String)], body: &[u8]) {
        use tokio::io::AsyncWriteExt;
        if let Ok(mut stream) = self.accept(status, headers) {
            let _ = stream.write_all(body).await;
            let _ = stream.shutdown().await;
            // The body may still be queued: keep the stream until it is out.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
                let mut sink = [0u8; 1024];
                while let Ok(n) = tokio::io::AsyncReadExt::read(&mut stream, &mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
            })
            .await;
        }
    }

    /// Answers with `status` and an empty body, ending the stream.
    pub fn refuse(mut self, status: u16) -> std::io::Result<()> {
        let response = response(status, &[])?;
        self.respond
            .send_response(response, true)
            .map_err(io_error)?;
        Ok(())
    }
}

impl AcceptedTunnel for Incoming {
    fn request(&self) -> &TunnelRequest {
        &self.request
    }

    fn head(&self) -> Vec<u8> {
        match &self.as_sent {
            Some(fields) => as_sent_head(fields),
            None => self.request.render(),
        }
    }

    fn stream_id(&self) -> u32 {
        self.stream_id
    }

    fn accept(
        self: Box<Self>,
        status: u16,
        headers: &[(String, String)],
    ) -> std::io::Result<Box<dyn Transport>> {
        let fields: Vec<(&str, String)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.clone()))
            .collect();
        Ok(Box::new(Incoming::accept(*self, status, &fields)?))
    }
}

fn response(status: u16, headers: &[(&str, String)]) -> std::io::Result<http::Response<()>> {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    builder
        .body(())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
}

/// A header block as the transcript's lines, in the order sent
/// ([`crate::wire::field_lines`]).
pub fn as_sent_head(fields: &[Field]) -> Vec<u8> {
    let pairs: Vec<(&[u8], &[u8])> = fields
        .iter()
        .map(|f| (f.name.as_slice(), f.value.as_slice()))
        .collect();
    crate::wire::field_lines::render(&pairs)
}

/// What the server does with each request.
pub type Handler = Arc<dyn Fn(Incoming) -> BoxFuture<'static, ()> + Send + Sync>;

/// Serves one connection until it ends: the HTTP/2 handshake with extended
/// CONNECT enabled, then each request on its own task.
pub async fn serve_connection<S>(
    io: S,
    peer: Option<SocketAddr>,
    tls: Option<TlsSession>,
    handler: Handler,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    serve(io, peer, tls, handler, None).await
}

/// [`serve_connection`] with a tap under `h2` (`io` from the preface on):
/// each [`Incoming`] carries its header block as sent, and `rejected` is
/// told of each request `h2` drops as malformed. Header blocks over
/// `max_block` bytes stop the tap (those requests are seen as `h2` reports
/// them).
pub async fn serve_connection_tapped<S>(
    io: S,
    peer: Option<SocketAddr>,
    tls: Option<TlsSession>,
    handler: Handler,
    max_block: usize,
    rejected: RejectedHook,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (tapped, log) = RequestTap::new(io, max_block, rejected);
    serve(tapped, peer, tls, handler, Some(log)).await
}

async fn serve<S>(
    io: S,
    peer: Option<SocketAddr>,
    tls: Option<TlsSession>,
    handler: Handler,
    log: Option<TapLog>,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut connection = h2::server::Builder::new()
        .enable_connect_protocol()
        .initial_window_size(4 << 20)
        .initial_connection_window_size(16 << 20)
        .handshake::<_, Bytes>(io)
        .await
        .map_err(io_error)?;
    while let Some(next) = connection.accept().await {
        let (request, respond) = next.map_err(io_error)?;
        let (parts, body) = request.into_parts();
        let request = TunnelRequest {
            method: parts.method.as_str().to_string(),
            protocol: parts
                .extensions
                .get::<h2::ext::Protocol>()
                .map(|p| p.as_str().to_string()),
            scheme: parts.uri.scheme_str().map(str::to_string),
            authority: parts.uri.authority().map(|a| a.as_str().to_string()),
            path: parts.uri.path_and_query().map(|p| p.as_str().to_string()),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
        };
        let stream_id = body.stream_id().as_u32();
        let incoming = Incoming {
            request,
            as_sent: log.as_ref().and_then(|log| log.claim(stream_id)),
            stream_id,
            body,
            respond,
            peer,
            tls: tls.clone(),
        };
        tokio::spawn(handler(incoming));
    }
    Ok(())
}
