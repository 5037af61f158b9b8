//! One WebSocket over one HTTP/2 stream (RFC 8441) as a [`Transport`]: the
//! stream's DATA frames are the byte stream the session reads and writes.
//! Each write becomes DATA frames as soon as the stream has send capacity (so
//! a case's chopping survives, up to the peer's frame size), and each read
//! gives the received capacity back at once, so flow control never stalls a
//! peer that the session keeps up with. RFC 8441 section 5 maps TCP's ends to
//! the stream's: the graceful end of the sending side (TCP FIN) is END_STREAM,
//! an abort (TCP RST) is RST_STREAM with CANCEL. A reset from the peer reads
//! as a connection reset, and END_STREAM from the peer as the end of the
//! stream.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use h2::{Reason, RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::run::Transport;
use crate::transcript::TlsSession;

/// An extended-CONNECT stream, either side of it.
pub struct H2Stream {
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// Received bytes not yet read.
    unread: Bytes,
    ended: bool,
    peer: Option<SocketAddr>,
    tls: Option<TlsSession>,
    /// The case's claim on a shared connection, given back with the stream.
    _lease: Option<super::client::Lease>,
}

impl H2Stream {
    pub fn new(
        send: SendStream<Bytes>,
        recv: RecvStream,
        peer: Option<SocketAddr>,
        tls: Option<TlsSession>,
    ) -> H2Stream {
        H2Stream {
            send,
            recv,
            unread: Bytes::new(),
            ended: false,
            peer,
            tls,
            _lease: None,
        }
    }

    /// The stream, holding `lease` until it is dropped.
    pub(super) fn holding(mut self, lease: super::client::Lease) -> H2Stream {
        self._lease = Some(lease);
        self
    }

    /// The HTTP/2 stream identifier.
    pub fn id(&self) -> u32 {
        self.send.stream_id().as_u32()
    }
}

/// An h2 error as the session sees socket errors: a reset of the stream (or
/// of the whole connection by GOAWAY) is a connection reset.
pub fn io_error(e: h2::Error) -> io::Error {
    let kind = if e.is_reset() || e.is_go_away() {
        io::ErrorKind::ConnectionReset
    } else if e.is_io() {
        return e
            .into_io()
            .unwrap_or_else(|| io::Error::other("HTTP/2 I/O error"));
    } else {
        io::ErrorKind::Other
    };
    let what = match e.reason() {
        Some(reason) if e.is_go_away() => format!("HTTP/2 GOAWAY ({reason:?})"),
        Some(reason) => format!("HTTP/2 RST_STREAM ({reason:?})"),
        None => format!("HTTP/2: {e}"),
    };
    io::Error::new(kind, what)
}

impl AsyncRead for H2Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        while self.unread.is_empty() {
            match ready!(self.recv.poll_data(cx)) {
                Some(Ok(data)) => {
                    let _ = self.recv.flow_control().release_capacity(data.len());
                    self.unread = data;
                }
                Some(Err(e)) => return Poll::Ready(Err(io_error(e))),
                None => return Poll::Ready(Ok(())),
            }
        }
        let n = self.unread.len().min(buf.remaining());
        let piece = self.unread.split_to(n);
        buf.put_slice(&piece);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for H2Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if self.ended {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        self.send.reserve_capacity(data.len());
        let mut room = self.send.capacity();
        while room == 0 {
            match ready!(self.send.poll_capacity(cx)) {
                Some(Ok(n)) => room = n,
                Some(Err(e)) => return Poll::Ready(Err(io_error(e))),
                None => return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
            }
        }
        let n = room.min(data.len());
        match self
            .send
            .send_data(Bytes::copy_from_slice(&data[..n]), false)
        {
            Ok(()) => Poll::Ready(Ok(n)),
            Err(e) => Poll::Ready(Err(io_error(e))),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// END_STREAM: an empty DATA frame with the flag (RFC 8441 5: the
    /// equivalent of TCP's FIN).
    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.ended {
            return Poll::Ready(Ok(()));
        }
        self.ended = true;
        self.send.reserve_capacity(0);
        match self.send.send_data(Bytes::new(), true) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(io_error(e))),
        }
    }
}

impl Transport for H2Stream {
    fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// RST_STREAM with CANCEL (RFC 8441 5: the equivalent of TCP's RST).
    fn abort(mut self: Box<Self>) {
        self.send.send_reset(Reason::CANCEL);
    }

    fn tls(&self) -> Option<TlsSession> {
        self.tls.clone()
    }
}
