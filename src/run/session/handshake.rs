//! The opening handshake in both roles, as methods of the session. As the
//! client (`drive`, `open`): connect, write the request (standard, edited or
//! raw, with any frames that ride along), then read the response head within
//! the handshake timeout and size bound. As the server (`drive_accepted`):
//! answer the client's request already read with 101 (or the case's own
//! response, or 400 without a key). Either way, the steps then run.

use tokio::io::AsyncWriteExt;

use super::send::encode_all;
use super::Session;
use crate::run::{Target, Transport};
use crate::transcript::{ConnectFailure, EventKind, HandshakeFailure, SocketFailure, SocketOp};
use crate::wire::bytelog::{ByteLog, ByteLogBuilder};
use crate::wire::handshake::{
    build_request, key_from_bytes, parse_response, render_raw_request, HeaderEdits, RequestParts,
    MAX_HEAD_BYTES,
};
use crate::wire::head::{read_head, Head, HeadLimits, HeadReadError};

impl Session<'_> {
    pub(super) async fn drive(&mut self, target: &Target) {
        if let Some(tunnels) = self.opts.connector.tunnels() {
            let opened = match &self.case.spec.handshake.http2 {
                Some(edits) => self.open_raw_tunnel(tunnels, target, edits).await,
                None => self.open_tunnel(tunnels, target).await,
            };
            if let Some(stream) = opened {
                self.run_steps(stream, Vec::new()).await;
            }
            return;
        }
        let Some((stream, leftover)) = self.open(target).await else {
            return;
        };
        self.run_steps(stream, leftover).await;
    }

    /// wsspec as the server: answer the client's request with 101, then run
    /// the steps.
    pub(super) async fn drive_accepted(
        &mut self,
        mut stream: Box<dyn Transport>,
        request: Vec<u8>,
        leftover: Vec<u8>,
    ) {
        if let Some(session) = stream.tls() {
            self.record(EventKind::TlsEstablished { session });
        }
        self.record(EventKind::RequestReceived {
            raw: log_all(&request),
        });
        let key = crate::wire::handshake::request_key(&request);
        let accept = key
            .as_deref()
            .map(crate::wire::handshake::accept_for)
            .unwrap_or_default();
        let hs = &self.case.spec.handshake;
        let response: Vec<u8> = match (&hs.response, &key) {
            (Some(template), _) => {
                let bytes = template.bytes();
                let target = String::from_utf8_lossy(&request)
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .to_string();
                let swapped = crate::wire::handshake::swap_case(&accept);
                let text = String::from_utf8_lossy(&bytes)
                    .replace("{accept_swapcase}", &swapped)
                    .replace("{accept}", &accept)
                    .replace("{key}", key.as_deref().unwrap_or(""))
                    .replace("{request_target}", &target);
                text.into_bytes()
            }
            (None, Some(_)) => {
                let extensions = self
                    .answer_offer(&request)
                    .map(|v| format!("{}: {v}\r\n", super::deflate::EXTENSIONS))
                    .unwrap_or_default();
                format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{extensions}\r\n"
                )
                .into_bytes()
            }
            (None, None) => {
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec()
            }
        };
        let status = String::from_utf8_lossy(&response)
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0);
        self.record(EventKind::ResponseSent {
            status,
            raw: log_all(&response),
        });
        if !self
            .write_handshake(&mut stream, response, SocketOp::WriteResponse)
            .await
        {
            return;
        }
        if key.is_none() && hs.response.is_none() {
            return;
        }
        // After any response, the steps run: with a 101 they talk WebSocket,
        // after a refusal they watch whether the client (wrongly) does.
        self.run_steps(stream, leftover).await;
    }

    /// Writes a handshake head (request or response) with the frames the
    /// case sends in the same write, chopped and paced as the case says;
    /// false (and a recorded socket error) if writing failed.
    async fn write_handshake(
        &mut self,
        stream: &mut Box<dyn Transport>,
        mut bytes: Vec<u8>,
        op: SocketOp,
    ) -> bool {
        let mut early = Vec::new();
        for spec in &self.case.spec.handshake.frames {
            early.extend(self.build(spec));
        }
        if !early.is_empty() {
            self.observe_sent(&mut early);
            bytes.extend(encode_all(&early));
        }
        let hs = &self.case.spec.handshake;
        let piece = hs.chop.filter(|c| *c > 0).unwrap_or(bytes.len().max(1));
        let pause = hs.delay.map(|d| d.scaled(self.opts.timeout_scale));
        for (i, chunk) in bytes.chunks(piece).enumerate() {
            if i > 0 {
                if let Some(d) = pause {
                    tokio::time::sleep(d).await;
                }
            }
            if let Err(e) = stream.write_all(chunk).await {
                self.record(EventKind::SocketError {
                    error: SocketFailure::new(op, e),
                });
                return false;
            }
        }
        true
    }

    /// Waits for `opening` within `--connect-timeout` and records how it
    /// went: `Connected`, or why not.
    pub(super) async fn connect<T>(
        &mut self,
        opening: impl std::future::Future<Output = std::io::Result<T>>,
    ) -> Option<T> {
        let connect = self.opts.connect_timeout.scaled(self.opts.timeout_scale);
        let error = match tokio::time::timeout(connect, opening).await {
            Ok(Ok(connected)) => {
                self.record(EventKind::Connected);
                return Some(connected);
            }
            Ok(Err(e)) => ConnectFailure::Io(e.to_string()),
            Err(_) => ConnectFailure::Timeout {
                ms: connect.as_millis() as u64,
            },
        };
        self.record(EventKind::ConnectFailed { error });
        None
    }

    /// Connects and performs the opening handshake; returns the stream and any
    /// bytes that arrived after the response head.
    async fn open(&mut self, target: &Target) -> Option<(Box<dyn Transport>, Vec<u8>)> {
        let mut stream = self.connect(self.opts.connector.connect(target)).await?;
        if let Some(session) = stream.tls() {
            self.record(EventKind::TlsEstablished { session });
        }
        let key = key_from_bytes(&self.prng.bytes16());
        let parts = RequestParts {
            host: &target.host_header,
            path: &target.path,
            key: &key,
            extra: &self.opts.extra_headers,
        };
        let hs = &self.case.spec.handshake;
        let request = match &hs.raw {
            Some(raw) => render_raw_request(&raw.bytes(), &parts),
            None => build_request(
                &parts,
                &HeaderEdits {
                    remove: hs.remove.clone(),
                    replace: hs
                        .replace
                        .iter()
                        .map(|h| (h.name.clone(), h.value.clone()))
                        .collect(),
                    add: hs
                        .add
                        .iter()
                        .map(|h| (h.name.clone(), h.value.clone()))
                        .chain(self.deflate_offer())
                        .collect(),
                },
            ),
        };
        self.record(EventKind::RequestSent {
            raw: log_all(&request),
        });
        if !self
            .write_handshake(&mut stream, request, SocketOp::WriteRequest)
            .await
        {
            return None;
        }
        let limits = HeadLimits {
            max_bytes: self.opts.max_header_size,
            timeout: self.opts.handshake_timeout.scaled(self.opts.timeout_scale),
        };
        let (reason, partial) = match read_head(&mut stream, Vec::new(), limits).await {
            Ok(Head { head, rest }) => match parse_response(&head) {
                Ok(parsed) => {
                    let switching = parsed.status == 101;
                    if switching {
                        self.conclude_offer(&parsed);
                    }
                    self.record(EventKind::ResponseReceived {
                        head: parsed,
                        raw: log_all(&head),
                    });
                    return switching.then_some((stream, rest));
                }
                Err(e) => (HandshakeFailure::from(e), log_all(&head)),
            },
            Err(HeadReadError::TooLarge { partial }) => (
                HandshakeFailure::HeadTooLarge {
                    limit: self.opts.max_header_size,
                },
                ByteLog::of(&partial),
            ),
            Err(HeadReadError::Closed { partial }) => {
                (HandshakeFailure::ClosedEarly, ByteLog::of(&partial))
            }
            Err(HeadReadError::Io { error, partial }) => (
                HandshakeFailure::ReadFailed {
                    detail: error.to_string(),
                },
                ByteLog::of(&partial),
            ),
            Err(HeadReadError::Timeout { partial }) => (
                HandshakeFailure::Timeout {
                    ms: limits.timeout.as_millis() as u64,
                },
                ByteLog::of(&partial),
            ),
        };
        self.record(EventKind::HandshakeFailed {
            reason,
            raw: partial,
        });
        None
    }
}

pub(super) fn log_all(bytes: &[u8]) -> ByteLog {
    let mut b = ByteLogBuilder::new(MAX_HEAD_BYTES);
    b.push(bytes);
    b.finish()
}
