//! WebSocket over HTTP/2 (RFC 8441) in both roles, on the `h2` crate: the
//! client connector that opens one extended-CONNECT stream a case on a shared
//! connection ([`client`]), the server side that advertises
//! `SETTINGS_ENABLE_CONNECT_PROTOCOL` and hands each request to a handler
//! ([`server`]), and the stream as a transport, with RFC 8441 section 5's
//! mapping of TCP's ends to END_STREAM and RST_STREAM ([`stream`]), and the
//! tap under a served connection that sees each request's header fields as
//! the client sent them, the ones `h2` drops as malformed too ([`tap`]). Nothing
//! above the session's transport seam knows HTTP/2 is there except the
//! handshake, which is a request and a response here, not bytes.

pub mod client;
pub mod raw;
pub mod server;
pub mod stream;
pub mod tap;

pub use client::H2Connector;
pub use stream::H2Stream;

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::mpsc;

    use super::server::{serve_connection, Handler};
    use super::H2Connector;
    use crate::run::{Connector, Target, TunnelRequest};

    /// A server on loopback whose every WebSocket request is accepted and
    /// whose stream's reads are reported, each with when it arrived.
    async fn reading_server() -> (Target, mpsc::UnboundedReceiver<(Instant, Vec<u8>)>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = mpsc::unbounded_channel();
        let handler: Handler = Arc::new(move |incoming| {
            let tx = tx.clone();
            Box::pin(async move {
                let Ok(mut stream) = incoming.accept(200, &[]) else {
                    return;
                };
                let mut buf = [0u8; 1024];
                while let Ok(n) = stream.read(&mut buf).await {
                    let _ = tx.send((Instant::now(), buf[..n].to_vec()));
                    if n == 0 {
                        break;
                    }
                }
            })
        });
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.expect("accept");
            let _ = serve_connection(tcp, None, None, handler).await;
        });
        let target = Target::parse(&format!("h2c://{addr}/chat")).expect("target");
        (target, rx)
    }

    fn request(target: &Target) -> TunnelRequest {
        TunnelRequest {
            method: "CONNECT".into(),
            protocol: Some("websocket".into()),
            scheme: Some("http".into()),
            authority: Some(target.host_header.clone()),
            path: Some(target.path.clone()),
            headers: vec![("sec-websocket-version".into(), "13".into())],
        }
    }

    #[tokio::test]
    async fn each_write_reaches_the_peer_before_the_next_and_shutdown_is_end_stream() {
        let (target, mut reads) = reading_server().await;
        let connector = H2Connector::new(Arc::new(crate::run::TcpConnector), 1);
        let tunnels = connector.tunnels().expect("HTTP/2 opens streams");
        let connection = tunnels.connection(&target).await.expect("connection");
        assert!(connection.extended_connect());
        let opened = connection
            .open(request(&target), b"early".to_vec())
            .await
            .expect("opened");
        assert_eq!(opened.status, 200);
        let mut stream = opened.stream.expect("a stream after 200");
        let (_, first) = reads.recv().await.expect("early data");
        assert_eq!(first, b"early");
        for piece in [&b"one"[..], b"two", b"three"] {
            let written = Instant::now();
            stream.write_all(piece).await.expect("write");
            let (at, got) = tokio::time::timeout(Duration::from_secs(2), reads.recv())
                .await
                .expect("the piece arrives without the next write")
                .expect("a read");
            assert_eq!(got, piece);
            assert!(at >= written);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stream.shutdown().await.expect("END_STREAM");
        let (_, end) = reads.recv().await.expect("end");
        assert!(end.is_empty(), "END_STREAM reads as the end of the stream");
    }
}
