//! The embedded reference client: a WebSocket echo client that drives
//! Autobahn's fuzzing-server protocol (get the case count, run each case
//! echoing every message, update reports), as client drivers do. It does the
//! opening handshake itself ([`super::client_handshake`]: token lists in
//! Upgrade/Connection, a 101 split across any number of reads, the accept key,
//! no unoffered subprotocol or extension; on any fault it drops TCP without
//! sending a frame) and keeps bytes that arrived with the 101, then runs
//! tokio-tungstenite on the connection. Around tungstenite it adds what a
//! strict client needs: it fails the connection with 1002/1007/1009 on
//! protocol errors instead of just dropping it, and checks UTF-8 as bytes
//! arrive (the same guard as the reference server). Before each case it asks
//! the server for the case's id (`/getCaseInfo`); for Autobahn's compression
//! groups (12, 13) and wsspec's `pmd` group it offers permessage-deflate
//! ([`super::pmd_offer::client_offer_for`]), and a connection on which the
//! server agrees is echoed on yawc ([`super::deflate_echo`]) instead.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncReadExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::client_handshake::{self, HandshakeError};
use super::gate::Replay;
use super::pmd_offer::{client_offer_for, Agreement, ClientOffer};
use super::utf8_guard::Utf8Guard;
use super::{deflate_echo, echo_until_failure, MAX_MESSAGE};
use crate::run::target::{Target, TargetError};
use crate::run::{Connector, Transport};

/// Why the driver could not go on.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Handshake(#[from] HandshakeError),
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Target(#[from] TargetError),
    #[error("{0}")]
    Url(String),
}

/// How long the case-count and report connections may take (the report one
/// twice that).
const BOOKKEEPING_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs every case the fuzzing server offers, then asks it to write reports
/// (and to shut down when `shutdown` is set). Returns the number of cases run.
/// Every connection is opened by `connector` (TCP, or TLS for `wss://`).
pub async fn drive(
    server: &str,
    agent: &str,
    shutdown: bool,
    connector: &dyn Connector,
) -> Result<usize, ClientError> {
    let base = server.trim_end_matches('/');
    let count = tokio::time::timeout(BOOKKEEPING_TIMEOUT, case_count(base, connector))
        .await
        .map_err(|_| ClientError::Url(format!("{base}/getCaseCount gave no answer")))??;
    for n in 1..=count {
        let id = tokio::time::timeout(BOOKKEEPING_TIMEOUT, case_id(base, n, connector))
            .await
            .ok()
            .flatten();
        let offer = id.as_deref().and_then(client_offer_for);
        let url = format!("{base}/runCase?case={n}&agent={}", encode(agent));
        let _ =
            tokio::time::timeout(Duration::from_secs(120), echo_case(&url, offer, connector)).await;
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
    // The server may first wait for cases still in flight, then write reports.
    let _ = tokio::time::timeout(2 * BOOKKEEPING_TIMEOUT, async {
        if let Ok(mut ws) = connect(&url, connector).await {
            let _ = ws.close(None).await;
            while let Some(Ok(_)) = ws.next().await {}
        }
    })
    .await;
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

type Ws = tokio_tungstenite::WebSocketStream<Utf8Guard<Replay<Box<dyn Transport>>>>;

/// An open connection: on tungstenite, or (permessage-deflate agreed) the
/// stream at its first frame byte with the agreement, for yawc.
enum Connection {
    Plain(Box<Ws>),
    Deflate(Replay<Box<dyn Transport>>, Agreement),
}

/// Connects and opens a WebSocket connection to `url`, offering nothing.
async fn connect(url: &str, connector: &dyn Connector) -> Result<Ws, ClientError> {
    match connect_with(url, None, connector).await? {
        Connection::Plain(ws) => Ok(*ws),
        // Unreachable: without an offer, an extension in the answer is refused.
        Connection::Deflate(..) => Err(ClientError::Url(format!(
            "{url}: permessage-deflate agreed unoffered"
        ))),
    }
}

/// Connects and opens a WebSocket connection to `url`, offering `offer`. When
/// the handshake fails, TCP is closed without a WebSocket frame (RFC 6455 4.1:
/// the client fails the connection; there is no connection to send a close
/// frame on).
async fn connect_with(
    url: &str,
    offer: Option<&ClientOffer>,
    connector: &dyn Connector,
) -> Result<Connection, ClientError> {
    let target = Target::parse(url)?;
    let addr = target.authority();
    let mut tcp = connector
        .connect(&target)
        .await
        .map_err(|source| ClientError::Connect { addr, source })?;
    let (read, head_len, agreed) = match client_handshake::open(&mut tcp, &target, offer).await {
        Ok(done) => done,
        Err(e) => {
            abandon(tcp).await;
            return Err(e.into());
        }
    };
    if let Some(agreed) = agreed {
        let rest = read[head_len..].to_vec();
        return Ok(Connection::Deflate(Replay::new(rest, tcp), agreed));
    }
    // Bytes read past the head are the server's first frames (sent in the same
    // write as the 101): replay them before reading the socket again. The
    // UTF-8 guard skips everything up to a CRLF CRLF before it decodes frames;
    // the head is already consumed, so it is given just that blank line, which
    // is read through the guard here: tungstenite starts at the first frame byte.
    let mut replay = b"\r\n\r\n".to_vec();
    replay.extend_from_slice(&read[head_len..]);
    let mut guarded = Utf8Guard::new(Replay::new(replay, tcp));
    let mut blank = [0u8; 4];
    guarded
        .read_exact(&mut blank)
        .await
        .map_err(HandshakeError::Io)?;
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    Ok(Connection::Plain(Box::new(
        tokio_tungstenite::WebSocketStream::from_raw_socket(guarded, Role::Client, Some(config))
            .await,
    )))
}

/// Closes TCP after a refused handshake, without sending a frame.
async fn abandon(tcp: Box<dyn Transport>) {
    super::close_tcp(tcp).await;
}

async fn case_count(base: &str, connector: &dyn Connector) -> Result<usize, ClientError> {
    let mut ws = connect(&format!("{base}/getCaseCount"), connector).await?;
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

/// The id of case `n` (`/getCaseInfo` answers JSON with "id").
async fn case_id(base: &str, n: usize, connector: &dyn Connector) -> Option<String> {
    let mut ws = connect(&format!("{base}/getCaseInfo?case={n}"), connector)
        .await
        .ok()?;
    let mut id = None;
    while let Some(Ok(msg)) = ws.next().await {
        if let Message::Text(t) = msg {
            id = serde_json::from_str::<serde_json::Value>(&t)
                .ok()
                .and_then(|v| v.get("id")?.as_str().map(str::to_string));
        }
    }
    id
}

/// One case: echo every message until the server closes.
async fn echo_case(url: &str, offer: Option<ClientOffer>, connector: &dyn Connector) {
    match connect_with(url, offer.as_ref(), connector).await {
        Ok(Connection::Plain(mut ws)) => {
            if let Some((code, reason)) = echo_until_failure(&mut ws).await {
                let _ = fail(*ws, code, &reason).await;
            }
        }
        Ok(Connection::Deflate(stream, agreed)) => deflate_echo::run(stream, &agreed, false).await,
        Err(_) => {}
    }
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
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    Ok(())
}
