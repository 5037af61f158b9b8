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

/// yawc as an Autobahn fuzzing client (an echo client for every case),
/// against the serve at `base` (`ws://HOST:PORT`): over HTTP/2 with prior
/// knowledge when `http2`, else HTTP/1.1. Returns how many cases it ran.
pub async fn drive(base: &str, agent: &str, http2: bool) -> usize {
    use yawc::HttpVersion;
    let version = if http2 {
        HttpVersion::Http2
    } else {
        HttpVersion::Http1
    };
    let options = || {
        Options::default()
            .with_utf8()
            .with_balanced_compression()
            .with_limits(1 << 25, 1 << 25)
    };
    let open = |path: String| {
        let url = format!("{base}{path}").parse().expect("url");
        WebSocket::connect(url)
            .with_options(options())
            .http_version(version)
    };
    let mut count = 0usize;
    if let Ok(mut ws) = open("/getCaseCount".into()).await {
        while let Some(frame) = ws.next().await {
            if frame.opcode() == OpCode::Text {
                count = std::str::from_utf8(frame.payload())
                    .ok()
                    .and_then(|t| t.trim().parse().ok())
                    .unwrap_or(0);
            }
        }
    }
    for n in 1..=count {
        let Ok(mut ws) = open(format!("/runCase?case={n}&agent={agent}")).await else {
            continue;
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while let Some(frame) = ws.next().await {
                if matches!(frame.opcode(), OpCode::Text | OpCode::Binary)
                    && ws.send(frame).await.is_err()
                {
                    break;
                }
            }
            // What an application does when the peer has closed: flush
            // (yawc's answer to the close) and end its side. Over HTTP/2
            // hyper's flush returns before the data is out, and dropping the
            // stream resets it, which discards what is still queued (yawc's
            // close answer): the stream is kept a moment first
            // (docs/http2.md).
            let _ = ws.close().await;
            if http2 {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        })
        .await;
    }
    if let Ok(mut ws) = open(format!(
        "/updateReports?agent={agent}&shutdownOnComplete=true"
    ))
    .await
    {
        while ws.next().await.is_some() {}
    }
    count
}
