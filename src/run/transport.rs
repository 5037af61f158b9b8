//! The seam under the session: a case runs over whatever byte stream a
//! [`Connector`] hands it (wsspec as the client) or the front door accepted
//! (wsspec as the server), as a boxed [`Transport`]. The session needs only
//! what every transport can give: reading and writing bytes, with each write
//! flushed as the case chopped it (TCP segments today; TLS records and HTTP/2
//! DATA frames later); a graceful end of its sending side (`shutdown`: TCP
//! FIN, later TLS close_notify or END_STREAM) that leaves the other side
//! readable (half-close); an abort (TCP RST, later RST_STREAM); and the
//! peer's address for reports. A transport that secures the bytes says what
//! it agreed ([`Transport::tls`]). TCP is the connector and the acceptor this
//! module provides ([`crate::tls`] adds TLS for both); in-memory streams
//! ([`tokio::io::DuplexStream`]) are transports too, which is how the test
//! suite runs the whole corpus without sockets.

use std::fmt;
use std::net::SocketAddr;

use futures_util::future::BoxFuture;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::Target;
use crate::transcript::TlsSession;

/// A byte stream one case runs over.
pub trait Transport: AsyncRead + AsyncWrite + Send + Unpin + 'static {
    /// The peer's address, when the transport has one.
    fn peer_addr(&self) -> Option<SocketAddr>;

    /// Ends the connection at once, without the graceful goodbye.
    fn abort(self: Box<Self>);

    /// What TLS agreed, when the transport is TLS.
    fn tls(&self) -> Option<TlsSession> {
        None
    }
}

impl Transport for TcpStream {
    fn peer_addr(&self) -> Option<SocketAddr> {
        TcpStream::peer_addr(self).ok()
    }

    fn abort(self: Box<Self>) {
        // With a zero linger time, closing the socket sends RST, not FIN.
        let _ = self.set_zero_linger();
    }
}

impl Transport for tokio::io::DuplexStream {
    fn peer_addr(&self) -> Option<SocketAddr> {
        None
    }

    fn abort(self: Box<Self>) {}
}

/// Opens transports to a target (wsspec as the client).
pub trait Connector: Send + Sync + fmt::Debug {
    /// A new connection to `target`, ready for the opening handshake.
    fn connect<'a>(
        &'a self,
        target: &'a Target,
    ) -> BoxFuture<'a, std::io::Result<Box<dyn Transport>>>;

    /// Some for a connector that carries each case on a stream of a shared
    /// connection, opened by a request of its own (HTTP/2's extended CONNECT,
    /// RFC 8441) instead of an HTTP/1.1 upgrade written on a byte stream.
    /// `connect` still opens a plain connection (reachability probes).
    fn tunnels(&self) -> Option<&dyn Tunnels> {
        None
    }
}

/// Connections that carry WebSockets as streams (RFC 8441).
pub trait Tunnels: Send + Sync {
    /// The connection to `target` the next case opens its stream on: the
    /// one already open, or a new one when there is none or it has ended.
    fn connection<'a>(
        &'a self,
        target: &'a Target,
    ) -> BoxFuture<'a, std::io::Result<Box<dyn TunnelConnection>>>;

    /// A new connection of its own for one case, not yet speaking HTTP/2
    /// (TCP, or TLS with ALPN `h2`), for a case that writes its request
    /// field by field ([`Tunnels::open_raw`]).
    fn raw_connection<'a>(
        &'a self,
        target: &'a Target,
    ) -> BoxFuture<'a, std::io::Result<Box<dyn Transport>>>;

    /// Speaks HTTP/2 on `io` (from [`Tunnels::raw_connection`]) without a
    /// library's checks: sends `request` exactly as given and reads what the
    /// server made of it. A timeout is an error of kind `TimedOut`.
    fn open_raw(
        &self,
        io: Box<dyn Transport>,
        request: RawTunnelRequest,
    ) -> BoxFuture<'static, std::io::Result<RawTunnelOpened>>;
}

/// An extended CONNECT written field by field, malformed if need be.
#[derive(Debug, Clone)]
pub struct RawTunnelRequest {
    /// The header list, byte for byte, in order.
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
    /// Bytes sent as DATA right after the request.
    pub early: Vec<u8>,
    /// Send the request even when the server's SETTINGS did not enable
    /// extended CONNECT.
    pub without_setting: bool,
    /// How long the server's SETTINGS, and then its answer, may take.
    pub timeout: std::time::Duration,
}

/// What the server made of a [`RawTunnelRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawAnswer {
    /// A response: a final status, or 101 (which HTTP/2 does not have).
    Response {
        status: u16,
        fields: Vec<(String, String)>,
    },
    /// RST_STREAM on the request's stream, with its error code's name.
    Reset(String),
    /// GOAWAY for the whole connection, with its error code's name.
    GoAway(String),
    /// The connection ended without either.
    Closed,
    /// A response that could not be read, in a sentence.
    Unreadable(String),
}

/// The outcome of [`Tunnels::open_raw`].
pub struct RawTunnelOpened {
    /// Whether the server's SETTINGS enabled extended CONNECT.
    pub extended_connect: bool,
    /// The request's stream.
    pub stream_id: u32,
    /// None when nothing was sent (no setting, and not `without_setting`).
    pub answer: Option<RawAnswer>,
    /// After a 2xx: the stream, and the handle on its frames.
    pub stream: Option<(Box<dyn Transport>, Box<dyn StreamControl>)>,
}

/// A case's handle on its HTTP/2 stream's own frames; each takes effect
/// after everything written to the stream before it.
pub trait StreamControl: Send + Sync {
    /// RST_STREAM (CANCEL).
    fn reset(&self);
    /// END_STREAM; later writes still go out as DATA.
    fn end_stream(&self);
}

/// One multiplexed connection, as a case sees it.
pub trait TunnelConnection: Send {
    /// Whether the server's SETTINGS enabled extended CONNECT
    /// (`SETTINGS_ENABLE_CONNECT_PROTOCOL`, RFC 8441 3).
    fn extended_connect(&self) -> bool;

    /// What TLS agreed, when the connection is TLS.
    fn tls(&self) -> Option<TlsSession>;

    /// Sends `request` on a new stream, then `early` as data right after it
    /// (before any response), and waits for the response head.
    fn open(
        self: Box<Self>,
        request: TunnelRequest,
        early: Vec<u8>,
    ) -> BoxFuture<'static, std::io::Result<TunnelOpened>>;
}

/// A request to open a WebSocket on a stream, received and not yet
/// answered (wsspec as the server, RFC 8441).
pub trait AcceptedTunnel: Send {
    /// The request as received.
    fn request(&self) -> &TunnelRequest;

    /// The request as the transcript records it: its fields a line, as the
    /// client sent them when that is known (order, names and bytes), else
    /// as [`TunnelRequest::render`] writes them.
    fn head(&self) -> Vec<u8> {
        self.request().render()
    }

    /// The stream's identifier on its connection.
    fn stream_id(&self) -> u32;

    /// Answers with `status` and `headers` (names in lower case), and gives
    /// the stream back as a transport.
    fn accept(
        self: Box<Self>,
        status: u16,
        headers: &[(String, String)],
    ) -> std::io::Result<Box<dyn Transport>>;
}

/// A request that opens a stream: pseudo-header fields, then the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelRequest {
    pub method: String,
    /// `:protocol` (extended CONNECT), when sent.
    pub protocol: Option<String>,
    /// `:scheme`, `:authority` and `:path`, each when present (a received
    /// request may lack one; RFC 8441 4 requires `:scheme` and `:path`).
    pub scheme: Option<String>,
    pub authority: Option<String>,
    pub path: Option<String>,
    /// Regular header fields, in order, names in lower case.
    pub headers: Vec<(String, String)>,
}

impl TunnelRequest {
    /// The request as text, one field a line (`:method: CONNECT`), for the
    /// transcript: what a reader of the wire log sees, and where the judge
    /// looks for the header fields that were offered.
    pub fn render(&self) -> Vec<u8> {
        let mut text = format!(":method: {}\r\n", self.method);
        if let Some(p) = &self.protocol {
            text.push_str(&format!(":protocol: {p}\r\n"));
        }
        for (name, value) in [
            ("scheme", &self.scheme),
            ("authority", &self.authority),
            ("path", &self.path),
        ] {
            if let Some(v) = value {
                text.push_str(&format!(":{name}: {v}\r\n"));
            }
        }
        for (name, value) in &self.headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        text.into_bytes()
    }
}

/// A response on a stream as text, one field a line (`:status: 200`), as
/// [`TunnelRequest::render`] writes a request.
pub fn render_response(status: u16, headers: &[(String, String)]) -> Vec<u8> {
    let mut text = format!(":status: {status}\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.into_bytes()
}

/// The answer to a [`TunnelRequest`].
pub struct TunnelOpened {
    /// The stream's identifier on its connection.
    pub stream_id: u32,
    /// The final status, or a 101 the server sent as an interim answer
    /// (HTTP/2 has no 101: RFC 9113 8.6), when `interim`.
    pub status: u16,
    pub interim: bool,
    /// Response header fields, in order, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The stream, to run the case on after a 2xx (none after an interim
    /// 101).
    pub stream: Option<Box<dyn Transport>>,
}

/// Plain TCP, with Nagle's algorithm off so that every write leaves at once.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpConnector;

impl Connector for TcpConnector {
    fn connect<'a>(
        &'a self,
        target: &'a Target,
    ) -> BoxFuture<'a, std::io::Result<Box<dyn Transport>>> {
        Box::pin(async move {
            let stream = TcpStream::connect((target.host.as_str(), target.port)).await?;
            let _ = stream.set_nodelay(true);
            Ok(Box::new(stream) as Box<dyn Transport>)
        })
    }
}

/// Turns accepted TCP connections into transports (wsspec as the server):
/// as they are, or after a TLS handshake.
pub trait Acceptor: Send + Sync + fmt::Debug {
    fn accept(&self, tcp: TcpStream) -> BoxFuture<'_, std::io::Result<Box<dyn Transport>>>;
}

/// Plain TCP, with Nagle's algorithm off.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpAcceptor;

impl Acceptor for TcpAcceptor {
    fn accept(&self, tcp: TcpStream) -> BoxFuture<'_, std::io::Result<Box<dyn Transport>>> {
        Box::pin(async move {
            let _ = tcp.set_nodelay(true);
            Ok(Box::new(tcp) as Box<dyn Transport>)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A connected pair over loopback: (wsspec's end, the peer's end).
    async fn pair() -> (Box<dyn Transport>, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let target = Target::parse(&format!("ws://{}/", listener.local_addr().expect("addr")))
            .expect("target");
        let (ours, theirs) = tokio::join!(TcpConnector.connect(&target), listener.accept());
        (ours.expect("connect"), theirs.expect("accept").0)
    }

    #[tokio::test]
    async fn graceful_end_is_a_half_close_and_abort_is_a_reset() {
        let (mut ours, mut theirs) = pair().await;
        assert!(ours.peer_addr().is_some());
        ours.shutdown().await.expect("shutdown");
        let mut buf = [0u8; 8];
        assert_eq!(theirs.read(&mut buf).await.expect("EOF"), 0);
        // Half-closed: the other direction still carries bytes.
        theirs.write_all(b"late").await.expect("write");
        assert_eq!(ours.read(&mut buf).await.expect("read"), 4);

        let (ours, mut theirs) = pair().await;
        ours.abort();
        let err = theirs.read(&mut buf).await.expect_err("a reset, not EOF");
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    }
}
