//! An echo server on hyper's HTTP/1.1 and HTTP/2 (with extended CONNECT
//! enabled, RFC 8441) and yawc's WebSocket upgrade, both from crates.io: a
//! real RFC 8441 server of the hyper ecosystem, next to Hypercorn's Python
//! one. One port serves both (hyper-util tells them apart); yawc answers the
//! upgrade with 101 or 200 and runs the WebSocket, with permessage-deflate
//! when offered and UTF-8 checked.

#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use yawc::frame::OpCode;
use yawc::{Options, WebSocket};

/// Binds a free port on loopback and serves until the runtime ends.
pub async fn start() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut builder =
                    hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                builder.http2().enable_connect_protocol();
                let service = hyper::service::service_fn(upgrade);
                let _ = builder
                    .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    port
}

async fn upgrade(mut req: Request<Incoming>) -> yawc::Result<Response<Empty<Bytes>>> {
    let options = Options::default()
        .with_utf8()
        .with_balanced_compression()
        .with_limits(1 << 25, 1 << 25);
    let (response, fut) = WebSocket::upgrade_with_options(&mut req, options)?;
    tokio::spawn(async move {
        let Ok(mut ws) = fut.await else {
            return;
        };
        while let Some(frame) = ws.next().await {
            if matches!(frame.opcode(), OpCode::Text | OpCode::Binary)
                && ws.send(frame).await.is_err()
            {
                break;
            }
        }
    });
    Ok(response)
}
