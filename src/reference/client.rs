//! The embedded reference client: a WebSocket echo client on tokio-tungstenite
//! that drives Autobahn's fuzzing-server protocol (get the case count, run each
//! case echoing every message, update reports), as client drivers do. Around
//! tungstenite it adds what a strict client needs: it refuses a 101 that
//! accepts an extension it never offered (tungstenite does not check
//! Sec-WebSocket-Extensions), fails the connection with 1002/1007/1009 on
//! protocol errors instead of just dropping it, and checks UTF-8 as bytes
//! arrive (the same guard as the reference server). Known gaps, inherited
//! from tungstenite's client handshake: it refuses `Connection: Upgrade,
//! keep-alive` (cl.2.17) and a 101 written a byte at a time (cl.2.20).

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::utf8_guard::Utf8Guard;
use super::MAX_MESSAGE;

/// Why the driver could not go on.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Ws(#[from] WsError),
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Url(String),
}

/// Runs every case the fuzzing server offers, then asks it to write reports
/// (and to shut down when `shutdown` is set). Returns the number of cases run.
pub async fn drive(server: &str, agent: &str, shutdown: bool) -> Result<usize, ClientError> {
    let base = server.trim_end_matches('/');
    let count = case_count(base).await?;
    for n in 1..=count {
        let url = format!("{base}/runCase?case={n}&agent={}", encode(agent));
        let _ = tokio::time::timeout(std::time::Duration::from_secs(120), echo_case(&url)).await;
    }
    let url = format!(
        "{base}/updateReports?agent={}{}",
        encode(agent),
        if shutdown {
            "&shutdownOnComplete=true"
        } else {
            ""
        }
    );
    if let Ok((mut ws, _)) = connect(&url).await {
        let _ = ws.close(None).await;
        while let Some(Ok(_)) = ws.next().await {}
    }
    Ok(count)
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

type Ws = tokio_tungstenite::WebSocketStream<Utf8Guard<TcpStream>>;

async fn connect(
    url: &str,
) -> Result<
    (
        Ws,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    ClientError,
> {
    let request = url.into_client_request()?;
    let host = request.uri().host().unwrap_or("127.0.0.1").to_string();
    let port = request.uri().port_u16().unwrap_or(80);
    let addr = format!("{host}:{port}");
    let tcp = TcpStream::connect(&addr)
        .await
        .map_err(|source| ClientError::Connect { addr, source })?;
    let _ = tcp.set_nodelay(true);
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    Ok(
        tokio_tungstenite::client_async_with_config(request, Utf8Guard::new(tcp), Some(config))
            .await?,
    )
}

async fn case_count(base: &str) -> Result<usize, ClientError> {
    let (mut ws, _) = connect(&format!("{base}/getCaseCount")).await?;
    let mut count = 0;
    while let Some(Ok(msg)) = ws.next().await {
        if let Message::Text(t) = msg {
            count = t
                .trim()
                .parse()
                .map_err(|_| ClientError::Url(format!("bad case count `{t}`")))?;
        }
    }
    Ok(count)
}

/// One case: echo every message until the server closes.
async fn echo_case(url: &str) {
    let Ok((mut ws, response)) = connect(url).await else {
        return;
    };
    // We offer no extension, so a response that accepts one is wrong
    // (RFC 6455 4.1: the client MUST fail the connection).
    if response.headers().get("sec-websocket-extensions").is_some() {
        let _ = fail(ws, CloseCode::Protocol, "unrequested extension").await;
        return;
    }
    let failure = loop {
        match ws.next().await {
            Some(Ok(msg @ (Message::Text(_) | Message::Binary(_)))) => {
                if ws.send(msg).await.is_err() {
                    return;
                }
            }
            Some(Ok(_)) => {}
            Some(Err(WsError::Protocol(e))) => break (CloseCode::Protocol, e.to_string()),
            Some(Err(WsError::Utf8(_))) => break (CloseCode::Invalid, "invalid UTF-8".into()),
            Some(Err(WsError::Capacity(e))) => break (CloseCode::Size, e.to_string()),
            Some(Err(WsError::Io(e))) if e.kind() == std::io::ErrorKind::InvalidData => {
                break (CloseCode::Invalid, "invalid UTF-8".into())
            }
            Some(Err(_)) | None => return,
        }
    };
    let _ = fail(ws, failure.0, &failure.1).await;
}

/// Fails the connection: a close frame with `code`, then wait briefly for the
/// server to close TCP (the server closes first, RFC 6455 7.1.1).
async fn fail(mut ws: Ws, code: CloseCode, reason: &str) -> Result<(), WsError> {
    let reason: String = reason.chars().take(100).collect();
    ws.send(Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    })))
    .await?;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    Ok(())
}
