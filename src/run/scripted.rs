//! (Tests only.) A connector whose every connection is one end of an
//! in-memory stream, with a scripted target on the other end: how the run's
//! unit tests meet targets that misbehave on cue, without sockets.

use futures_util::future::BoxFuture;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::{Connector, Target, Transport};

/// How a scripted target treats one connection.
pub type Peer = fn(DuplexStream) -> BoxFuture<'static, ()>;

/// Each connection's far end goes to the peer (on a task of its own, with
/// `buffer` bytes of room each way); or connecting fails (`Err`) or never
/// finishes (`Pending`).
#[derive(Debug)]
pub enum Scripted {
    Peer { peer: Peer, buffer: usize },
    Err,
    Pending,
}

impl Scripted {
    /// `peer` with 128 KiB of room each way.
    pub fn peer(peer: Peer) -> Scripted {
        Scripted::Peer {
            peer,
            buffer: 1 << 17,
        }
    }
}

impl Connector for Scripted {
    fn connect<'a>(
        &'a self,
        _target: &'a Target,
    ) -> BoxFuture<'a, std::io::Result<Box<dyn Transport>>> {
        Box::pin(async move {
            match self {
                Scripted::Peer { peer, buffer } => {
                    let (ours, theirs) = tokio::io::duplex(*buffer);
                    tokio::spawn(peer(theirs));
                    Ok(Box::new(ours) as Box<dyn Transport>)
                }
                Scripted::Err => Err(std::io::ErrorKind::ConnectionRefused.into()),
                Scripted::Pending => std::future::pending().await,
            }
        })
    }
}

/// A target for scripted connections (never dialled).
pub fn target() -> Target {
    Target {
        host: "example.test".into(),
        port: 8080,
        host_header: "example.test:8080".into(),
        path: "/p?q=1".into(),
        secure: false,
        http2: false,
    }
}

/// Reads the request head a byte at a time (nothing past it); answers a
/// right 101. Whether both went through.
pub async fn upgrade(peer: &mut DuplexStream) -> bool {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        match peer.read_u8().await {
            Ok(b) => head.push(b),
            Err(_) => return false,
        }
    }
    let key = crate::wire::handshake::request_key(&head).unwrap_or_default();
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        crate::wire::handshake::accept_for(&key)
    );
    peer.write_all(answer.as_bytes()).await.is_ok()
}

/// Holds the connection open, reading nothing more, past every timeout of
/// the tests.
pub async fn hold(peer: DuplexStream) {
    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    drop(peer);
}

/// Reads and discards everything until the other side ends.
pub async fn drain(mut peer: DuplexStream) {
    let mut sink = [0u8; 4096];
    while matches!(peer.read(&mut sink).await, Ok(n) if n > 0) {}
}
