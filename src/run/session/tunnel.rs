//! The opening handshake over HTTP/2 (RFC 8441), wsspec as the client: the
//! case's WebSocket is an extended-CONNECT stream of the connector's shared
//! connection. The request carries what an HTTP/1.1 upgrade would, less what
//! RFC 8441 5 drops (`Upgrade`, `Connection`, `Sec-WebSocket-Key`, `Host`
//! become `:protocol`, nothing and `:authority`): `sec-websocket-version: 13`,
//! the permessage-deflate offer, the operator's extra headers and the case's
//! added ones. Frames the case sends with its handshake go out as DATA right
//! after the request. A 2xx opens the WebSocket; anything else is a refusal,
//! recorded as the response it is. As the server (`drive_tunneled`), the
//! client's request is recorded as it came and answered 200, with
//! permessage-deflate's answer when the case agrees to an offer, or as the
//! case's `handshake.http2_answer` says; the judge
//! reads the request against RFC 8441, as it reads an HTTP/1.1 request
//! against RFC 6455 4.1.

use tokio::io::AsyncWriteExt;

use super::Session;
use crate::run::transport::render_response;
use crate::run::{AcceptedTunnel, Target, Transport, TunnelRequest, Tunnels};
use crate::transcript::{EventKind, HandshakeFailure, SocketFailure, SocketOp};
use crate::wire::bytelog::ByteLog;
use crate::wire::handshake::ResponseHead;

impl Session<'_> {
    /// Opens the case's stream; returns it after a 2xx.
    pub(super) async fn open_tunnel(
        &mut self,
        tunnels: &dyn Tunnels,
        target: &Target,
    ) -> Option<Box<dyn Transport>> {
        let connection = self.connect(tunnels.connection(target)).await?;
        if let Some(session) = connection.tls() {
            self.record(EventKind::TlsEstablished { session });
        }
        if !connection.extended_connect() {
            self.record(EventKind::HandshakeFailed {
                reason: HandshakeFailure::NoExtendedConnect,
                raw: ByteLog::of(b""),
            });
            return None;
        }
        let request = self.tunnel_request(target);
        self.record(EventKind::RequestSent {
            raw: super::handshake::log_all(&request.render()),
        });
        let early = self.early_frames();
        let answer = self.opts.handshake_timeout.scaled(self.opts.timeout_scale);
        let opened = match tokio::time::timeout(answer, connection.open(request, early)).await {
            Ok(Ok(opened)) => opened,
            Ok(Err(e)) => {
                self.record(EventKind::HandshakeFailed {
                    reason: HandshakeFailure::ReadFailed {
                        detail: e.to_string(),
                    },
                    raw: ByteLog::of(b""),
                });
                return None;
            }
            Err(_) => {
                self.record(EventKind::HandshakeFailed {
                    reason: HandshakeFailure::Timeout {
                        ms: answer.as_millis() as u64,
                    },
                    raw: ByteLog::of(b""),
                });
                return None;
            }
        };
        self.record(EventKind::Http2Stream {
            id: opened.stream_id,
        });
        let raw = super::handshake::log_all(&render_response(opened.status, &opened.headers));
        if opened.interim {
            self.record(EventKind::HandshakeFailed {
                reason: HandshakeFailure::Http2SwitchingProtocols,
                raw,
            });
            return None;
        }
        let head = ResponseHead {
            status: opened.status,
            reason: String::new(),
            headers: opened.headers,
            http2: true,
        };
        let opens = head.opened();
        if opens {
            self.conclude_offer(&head);
        }
        self.record(EventKind::ResponseReceived { head, raw });
        opened.stream.filter(|_| opens)
    }

    /// wsspec as the server: answer the client's extended CONNECT with 200
    /// (and the case's frames sent with the handshake right after), then run
    /// the steps.
    pub(super) async fn drive_tunneled(&mut self, tunnel: Box<dyn AcceptedTunnel>) {
        let request = tunnel.head();
        self.record(EventKind::Http2Stream {
            id: tunnel.stream_id(),
        });
        self.record(EventKind::RequestReceived {
            raw: super::handshake::log_all(&request),
        });
        let mut headers = Vec::new();
        let status = match &self.case.spec.handshake.http2_answer {
            Some(answer) => {
                headers.extend(answer.add.iter().map(|f| (f.name.clone(), f.value.clone())));
                answer.status
            }
            None => {
                if let Some(answer) = self.answer_offer(&request) {
                    headers.push((super::deflate::EXTENSIONS.to_ascii_lowercase(), answer));
                }
                200
            }
        };
        self.record(EventKind::ResponseSent {
            status,
            raw: super::handshake::log_all(&render_response(status, &headers)),
        });
        let mut stream = match tunnel.accept(status, &headers) {
            Ok(stream) => stream,
            Err(e) => {
                self.record(EventKind::SocketError {
                    error: SocketFailure::new(SocketOp::WriteResponse, e),
                });
                return;
            }
        };
        if let Some(session) = stream.tls() {
            self.record(EventKind::TlsEstablished { session });
        }
        let mut early = Vec::new();
        for spec in &self.case.spec.handshake.frames {
            early.extend(self.build(spec));
        }
        if !early.is_empty() {
            self.observe_sent(&mut early);
            if let Err(e) = stream.write_all(&super::send::encode_all(&early)).await {
                self.record(EventKind::SocketError {
                    error: SocketFailure::new(SocketOp::WriteResponse, e),
                });
                return;
            }
        }
        self.run_steps(stream, Vec::new()).await;
    }

    /// The extended CONNECT for this case (RFC 8441 4-5).
    pub(super) fn tunnel_request(&self, target: &Target) -> TunnelRequest {
        let hs = &self.case.spec.handshake;
        let mut headers = vec![("sec-websocket-version".to_string(), "13".to_string())];
        let extra = self.opts.extra_headers.iter().cloned();
        let added = hs.add.iter().map(|h| (h.name.clone(), h.value.clone()));
        headers.extend(
            extra
                .chain(added)
                .chain(self.deflate_offer())
                .map(|(n, v)| (n.to_ascii_lowercase(), v)),
        );
        TunnelRequest {
            method: "CONNECT".into(),
            protocol: Some("websocket".into()),
            scheme: Some(if target.secure { "https" } else { "http" }.into()),
            authority: Some(target.host_header.clone()),
            path: Some(target.path.clone()),
            headers,
        }
    }

    /// The handshake's frames that ride along with the request (data sent
    /// before the answer), built, recorded as sent and encoded; empty when
    /// the case has none.
    pub(super) fn early_frames(&mut self) -> Vec<u8> {
        let mut early = Vec::new();
        for spec in &self.case.spec.handshake.frames {
            early.extend(self.build(spec));
        }
        if early.is_empty() {
            return Vec::new();
        }
        self.observe_sent(&mut early);
        super::send::encode_all(&early)
    }
}
