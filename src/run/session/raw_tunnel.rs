//! The opening handshake of the RFC 8441 group's cases, wsspec as the
//! client: the extended CONNECT is the standard field list with the case's
//! edits (`handshake.http2`), written by wsspec's own HTTP/2 on a connection
//! of the case's own, so that a malformed request goes out as the case wrote
//! it and the server's answer is seen as it came: a response, a reset
//! stream, a GOAWAY or the connection's end. After a 2xx the steps run on
//! the stream, and `http2:` steps act on the stream itself.

use super::Session;
use crate::case::model::{FieldLine, Http2Request, Http2Step};
use crate::run::transport::render_response;
use crate::run::{RawAnswer, RawTunnelRequest, Target, Transport, TunnelRequest, Tunnels};
use crate::transcript::{EventKind, HandshakeFailure};
use crate::wire::bytelog::ByteLog;
use crate::wire::handshake::ResponseHead;

impl Session<'_> {
    /// Opens the case's stream with its own request; returns it after a 2xx.
    pub(super) async fn open_raw_tunnel(
        &mut self,
        tunnels: &dyn Tunnels,
        target: &Target,
        edits: &Http2Request,
    ) -> Option<Box<dyn Transport>> {
        let io = self.connect(tunnels.raw_connection(target)).await?;
        if let Some(session) = io.tls() {
            self.record(EventKind::TlsEstablished { session });
        }
        let fields = edited_fields(&self.tunnel_request(target), edits);
        let early = self.early_frames();
        let timeout = self.opts.handshake_timeout.scaled(self.opts.timeout_scale);
        let request = RawTunnelRequest {
            fields: fields.clone(),
            early,
            without_setting: edits.without_setting,
            timeout,
        };
        let opened = match tunnels.open_raw(io, request).await {
            Ok(opened) => opened,
            Err(e) => {
                let reason = match e.kind() {
                    std::io::ErrorKind::TimedOut => HandshakeFailure::Timeout {
                        ms: timeout.as_millis() as u64,
                    },
                    _ => HandshakeFailure::ReadFailed {
                        detail: e.to_string(),
                    },
                };
                self.record(EventKind::HandshakeFailed {
                    reason,
                    raw: ByteLog::of(b""),
                });
                return None;
            }
        };
        let Some(answer) = opened.answer else {
            self.record(EventKind::HandshakeFailed {
                reason: HandshakeFailure::NoExtendedConnect,
                raw: ByteLog::of(b""),
            });
            return None;
        };
        self.record(EventKind::RequestSent {
            raw: super::handshake::log_all(&crate::wire::field_lines::render(&fields)),
        });
        self.record(EventKind::Http2Stream {
            id: opened.stream_id,
        });
        let (status, fields) = match answer {
            RawAnswer::Response { status, fields } => (status, fields),
            _ if !opened.extended_connect => {
                self.record(EventKind::HandshakeFailed {
                    reason: HandshakeFailure::NoExtendedConnect,
                    raw: ByteLog::of(b""),
                });
                return None;
            }
            other => {
                let reason = match other {
                    RawAnswer::Reset(code) => HandshakeFailure::StreamReset { code },
                    RawAnswer::GoAway(code) => HandshakeFailure::GoAway { code },
                    RawAnswer::Unreadable(detail) => HandshakeFailure::Malformed { detail },
                    _ => HandshakeFailure::ClosedEarly,
                };
                self.record(EventKind::HandshakeFailed {
                    reason,
                    raw: ByteLog::of(b""),
                });
                return None;
            }
        };
        let headers = fields;
        let raw = super::handshake::log_all(&render_response(status, &headers));
        if status == 101 {
            self.record(EventKind::HandshakeFailed {
                reason: HandshakeFailure::Http2SwitchingProtocols,
                raw,
            });
            return None;
        }
        let opens = (200..300).contains(&status);
        if !opened.extended_connect && !opens {
            // Refusing what it never enabled is right (RFC 8441 3).
            self.record(EventKind::HandshakeFailed {
                reason: HandshakeFailure::NoExtendedConnect,
                raw,
            });
            return None;
        }
        if opens && !opened.extended_connect {
            self.record(EventKind::HandshakeFailed {
                reason: HandshakeFailure::AcceptedWithoutSetting { status },
                raw,
            });
            return None;
        }
        let head = ResponseHead {
            status,
            reason: String::new(),
            headers,
            http2: true,
        };
        if opens {
            self.conclude_offer(&head);
        }
        self.record(EventKind::ResponseReceived { head, raw });
        let (stream, control) = opened.stream.filter(|_| opens)?;
        self.http2_control = Some(control);
        Some(stream)
    }

    /// An `http2:` step: ends or resets the case's stream after what was
    /// written before it.
    pub(super) async fn http2_step(&mut self, step: Http2Step) {
        let Some(control) = &self.http2_control else {
            return;
        };
        let frame = match step {
            Http2Step::Reset => {
                control.reset();
                "RST_STREAM (CANCEL)"
            }
            Http2Step::EndStream => {
                control.end_stream();
                "END_STREAM"
            }
        };
        self.record(EventKind::Http2Sent {
            frame: frame.into(),
        });
    }
}

/// The standard request as a field list, with the case's edits (`{path}`
/// and `{host}` in their values stand for the target's path and authority).
fn edited_fields(request: &TunnelRequest, edits: &Http2Request) -> Vec<(Vec<u8>, Vec<u8>)> {
    let fill = |value: &str| {
        value
            .replace("{path}", request.path.as_deref().unwrap_or("/"))
            .replace("{host}", request.authority.as_deref().unwrap_or(""))
    };
    let field = |n: &str, v: &str| (n.as_bytes().to_vec(), v.as_bytes().to_vec());
    let mut fields = vec![field(":method", &request.method)];
    if let Some(p) = &request.protocol {
        fields.push(field(":protocol", p));
    }
    for (name, value) in [
        (":scheme", &request.scheme),
        (":authority", &request.authority),
        (":path", &request.path),
    ] {
        if let Some(v) = value {
            fields.push(field(name, v));
        }
    }
    fields.extend(request.headers.iter().map(|(n, v)| field(n, v)));
    fields.retain(|(n, _)| !edits.remove.iter().any(|r| n == r.as_bytes()));
    for FieldLine { name, value } in &edits.set {
        match fields.iter_mut().find(|(n, _)| n == name.as_bytes()) {
            Some((_, v)) => *v = fill(value).into_bytes(),
            None => fields.push(field(name, &fill(value))),
        }
    }
    fields.extend(edits.add.iter().map(|f| field(&f.name, &fill(&f.value))));
    fields
}
