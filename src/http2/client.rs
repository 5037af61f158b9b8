//! wsspec as an HTTP/2 client (RFC 8441): HTTP/2 connections over the
//! byte-stream connector below (TCP for `h2c://` with prior knowledge, TLS
//! with ALPN `h2` for `h2://`), each case on its own extended-CONNECT stream.
//! With `streams` = 1 every case gets a connection of its own, so that a
//! server that ends a whole connection for one stream's fault cannot decide
//! another case's verdict; with more, up to that many cases share one
//! connection at once (multiplexing and flow control under test), and a
//! connection that ended (GOAWAY, reset, closed) is left for a new one.
//! Before the first stream of a connection the connector learns the server's
//! SETTINGS: a PING's answer comes after the server's connection preface, so
//! once it is back, whether `SETTINGS_ENABLE_CONNECT_PROTOCOL` was sent is
//! known.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use h2::client::SendRequest;
use h2::ext::Protocol;

use super::stream::{io_error, H2Stream};
use crate::run::{
    Connector, RawTunnelOpened, RawTunnelRequest, Target, Transport, TunnelConnection,
    TunnelOpened, TunnelRequest, Tunnels,
};
use crate::transcript::TlsSession;

/// How long the server's SETTINGS may take to arrive after the preface.
const SETTINGS_WAIT: Duration = Duration::from_secs(5);

/// Receive windows: large enough that a 16 MiB message is not throttled by
/// a WINDOW_UPDATE per 64 KiB.
const STREAM_WINDOW: u32 = 4 << 20;
const CONNECTION_WINDOW: u32 = 16 << 20;

/// Connects HTTP/2 over `inner`, and opens one stream a case.
pub struct H2Connector {
    inner: Arc<dyn Connector>,
    /// Cases one connection carries at once.
    streams: usize,
    /// The connections cases may share (only when `streams` > 1).
    pool: tokio::sync::Mutex<Vec<Live>>,
}

impl std::fmt::Debug for H2Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H2Connector")
            .field("inner", &self.inner)
            .field("streams", &self.streams)
            .finish()
    }
}

/// An open HTTP/2 connection.
#[derive(Clone)]
struct Live {
    send: SendRequest<Bytes>,
    peer: Option<SocketAddr>,
    tls: Option<TlsSession>,
    extended_connect: bool,
    /// Set when the connection's driver task has ended.
    ended: Arc<AtomicBool>,
    /// Cases on the connection now.
    active: Arc<AtomicUsize>,
}

/// One case's claim on a shared connection, given back when its stream (or
/// its failed attempt to open one) is dropped.
pub(super) struct Lease(Arc<AtomicUsize>);

impl Drop for Lease {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A connection, claimed for one case.
struct Claimed {
    live: Live,
    lease: Lease,
}

impl H2Connector {
    /// HTTP/2 over the connections `inner` opens (TCP or TLS with ALPN h2),
    /// `streams` cases at once on each.
    pub fn new(inner: Arc<dyn Connector>, streams: usize) -> H2Connector {
        H2Connector {
            inner,
            streams: streams.max(1),
            pool: tokio::sync::Mutex::new(Vec::new()),
        }
    }

    /// A connection for one more case: a shared one with room, or a new one.
    async fn claim(&self, target: &Target) -> std::io::Result<Claimed> {
        let mut pool = self.pool.lock().await;
        pool.retain(|l| !l.ended.load(Ordering::SeqCst));
        let room = pool
            .iter()
            .find(|l| l.active.load(Ordering::SeqCst) < self.streams)
            .cloned();
        let live = match room {
            Some(live) => live,
            None => {
                let live = self.open(target).await?;
                if self.streams > 1 {
                    pool.push(live.clone());
                }
                live
            }
        };
        live.active.fetch_add(1, Ordering::SeqCst);
        let lease = Lease(live.active.clone());
        Ok(Claimed { live, lease })
    }

    /// A new HTTP/2 connection, its server's SETTINGS known.
    async fn open(&self, target: &Target) -> std::io::Result<Live> {
        let io = self.inner.connect(target).await?;
        let peer = io.peer_addr();
        let tls = io.tls();
        if let Some(session) = &tls {
            if session.alpn.as_deref() != Some("h2") {
                return Err(std::io::Error::other(format!(
                    "the server did not agree to HTTP/2 in the TLS handshake (ALPN: {})",
                    session.alpn.as_deref().unwrap_or("none")
                )));
            }
        }
        let no_http2 = |e: std::io::Error| {
            std::io::Error::new(
                e.kind(),
                format!("the target does not speak HTTP/2 here (its answer to the HTTP/2 preface and SETTINGS: {e})"),
            )
        };
        let (send, mut connection) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .handshake::<_, Bytes>(io)
            .await
            .map_err(|e| no_http2(io_error(e)))?;
        let ping = connection.ping_pong();
        let ended = Arc::new(AtomicBool::new(false));
        let flag = ended.clone();
        tokio::spawn(async move {
            let _ = connection.await;
            flag.store(true, Ordering::SeqCst);
        });
        if let Some(mut ping) = ping {
            match tokio::time::timeout(SETTINGS_WAIT, ping.ping(h2::Ping::opaque())).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(no_http2(io_error(e))),
                Err(_) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the server did not answer an HTTP/2 PING after its preface",
                    ))
                }
            }
        }
        Ok(Live {
            extended_connect: send.is_extended_connect_protocol_enabled(),
            send,
            peer,
            tls,
            ended,
            active: Arc::new(AtomicUsize::new(0)),
        })
    }
}

impl Connector for H2Connector {
    fn connect<'a>(
        &'a self,
        target: &'a Target,
    ) -> BoxFuture<'a, std::io::Result<Box<dyn Transport>>> {
        self.inner.connect(target)
    }

    fn tunnels(&self) -> Option<&dyn Tunnels> {
        Some(self)
    }
}

impl Tunnels for H2Connector {
    fn connection<'a>(
        &'a self,
        target: &'a Target,
    ) -> BoxFuture<'a, std::io::Result<Box<dyn TunnelConnection>>> {
        Box::pin(async move {
            let claimed = self.claim(target).await?;
            Ok(Box::new(claimed) as Box<dyn TunnelConnection>)
        })
    }

    fn raw_connection<'a>(
        &'a self,
        target: &'a Target,
    ) -> BoxFuture<'a, std::io::Result<Box<dyn Transport>>> {
        self.inner.connect(target)
    }

    fn open_raw(
        &self,
        io: Box<dyn Transport>,
        request: RawTunnelRequest,
    ) -> BoxFuture<'static, std::io::Result<RawTunnelOpened>> {
        Box::pin(async move {
            super::raw::tunnel::open(io, request)
                .await
                .map_err(|e| match e {
                    super::raw::conn::ConnError::Timeout { .. } => {
                        std::io::Error::new(std::io::ErrorKind::TimedOut, e.to_string())
                    }
                    other => std::io::Error::other(other.to_string()),
                })
        })
    }
}

impl TunnelConnection for Claimed {
    fn extended_connect(&self) -> bool {
        self.live.extended_connect
    }

    fn tls(&self) -> Option<TlsSession> {
        self.live.tls.clone()
    }

    fn open(
        self: Box<Self>,
        request: TunnelRequest,
        early: Vec<u8>,
    ) -> BoxFuture<'static, std::io::Result<TunnelOpened>> {
        Box::pin(async move {
            let Claimed { live, lease } = *self;
            let Live {
                send, peer, tls, ..
            } = live;
            let mut send = send.ready().await.map_err(io_error)?;
            let (response, mut out) = send
                .send_request(http_request(&request)?, false)
                .map_err(io_error)?;
            let stream_id = out.stream_id().as_u32();
            if !early.is_empty() {
                out.send_data(Bytes::from(early), false).map_err(io_error)?;
            }
            let mut response = response;
            // A 101 is no answer in HTTP/2 (RFC 9113 8.6), but a server that
            // answers as over HTTP/1.1 sends it as an interim response and
            // then nothing: it is reported as soon as it comes.
            let answer = std::future::poll_fn(|cx| {
                while let std::task::Poll::Ready(Some(Ok(interim))) =
                    response.poll_informational(cx)
                {
                    if interim.status() == http::StatusCode::SWITCHING_PROTOCOLS {
                        return std::task::Poll::Ready(Err(interim));
                    }
                }
                std::pin::Pin::new(&mut response).poll(cx).map(Ok)
            })
            .await;
            let (response, interim) = match answer {
                Ok(done) => {
                    let done = done.map_err(io_error)?;
                    let (parts, body) = done.into_parts();
                    (http::Response::from_parts(parts, Some(body)), false)
                }
                Err(interim) => (interim.map(|()| None), true),
            };
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let stream = response.into_body().map(|recv| {
                Box::new(H2Stream::new(out, recv, peer, tls).holding(lease)) as Box<dyn Transport>
            });
            Ok(TunnelOpened {
                stream_id,
                status,
                interim,
                headers,
                stream,
            })
        })
    }
}

/// The `http::Request` h2 sends for `request`; an error when a field cannot
/// be expressed (h2 itself refuses connection-specific fields).
fn http_request(request: &TunnelRequest) -> std::io::Result<http::Request<()>> {
    let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, what);
    let mut uri = http::Uri::builder();
    if let Some(scheme) = &request.scheme {
        uri = uri.scheme(scheme.as_str());
    }
    if let Some(authority) = &request.authority {
        uri = uri.authority(authority.as_str());
    }
    let uri = uri
        .path_and_query(request.path.as_deref().unwrap_or("/"))
        .build()
        .map_err(|e| invalid(format!("the request's URI cannot be sent: {e}")))?;
    let mut builder = http::Request::builder()
        .method(request.method.as_str())
        .uri(uri)
        .version(http::Version::HTTP_2);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let mut built = builder
        .body(())
        .map_err(|e| invalid(format!("the request cannot be sent: {e}")))?;
    if let Some(protocol) = &request.protocol {
        built
            .extensions_mut()
            .insert(Protocol::from(protocol.as_str()));
    }
    Ok(built)
}
