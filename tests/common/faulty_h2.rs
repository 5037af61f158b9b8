//! Deliberately faulty WebSocket-over-HTTP/2 servers (RFC 8441), written on
//! wsspec's raw HTTP/2 layer because a real HTTP/2 library would not let
//! them misbehave. Each is a correct server but for one fault: it checks the
//! extended CONNECT as RFC 9113 8.2-8.3 and RFC 8441 4-5 demand and resets a
//! malformed one with PROTOCOL_ERROR, echoes WebSocket frames (unmasked, as
//! they came) on accepted streams, answers a close with the close and
//! END_STREAM, ends its side when the client ends its own, and treats DATA
//! after the client's RST_STREAM or END_STREAM as a stream error of type
//! STREAM_CLOSED (RFC 9113 5.1). The faults: accept every request unchecked
//! and ignore stream states ([`Fault::Lenient`]); accept extended CONNECT
//! without enabling it in SETTINGS ([`Fault::AcceptsWithoutSetting`]); go on
//! echoing on a stream the client reset ([`Fault::IgnoresReset`]); go on
//! echoing after the client's END_STREAM ([`Fault::IgnoresEndStream`]);
//! never end its stream after the closing handshake
//! ([`Fault::NeverEndsStream`]).

use std::collections::HashMap;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wsspec::http2::raw::frame::{setting, ErrorCode, Frame, FrameDecoder, PREFACE};
use wsspec::http2::raw::hpack::{self, Field};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No fault: the control.
    None,
    Lenient,
    AcceptsWithoutSetting,
    IgnoresReset,
    IgnoresEndStream,
    /// After the closing handshake, the close is echoed but the stream is
    /// never ended (as Hypercorn 0.18 does, docs/http2.md).
    NeverEndsStream,
}

/// Starts the server on loopback; its port.
pub async fn start(fault: Fault) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(connection(tcp, fault));
        }
    });
    port
}

#[derive(Default)]
struct StreamState {
    /// WebSocket bytes not yet a whole frame.
    pending: Vec<u8>,
    /// The client reset the stream, or ended it.
    reset: bool,
    ended: bool,
    /// We sent END_STREAM.
    done: bool,
}

async fn connection(mut tcp: TcpStream, fault: Fault) {
    let mut preface = [0u8; 24];
    if tcp.read_exact(&mut preface).await.is_err() || preface != PREFACE {
        return;
    }
    let mut params = vec![(setting::INITIAL_WINDOW_SIZE, 1 << 20)];
    if fault != Fault::AcceptsWithoutSetting {
        params.push((setting::ENABLE_CONNECT_PROTOCOL, 1));
    }
    let mut out = Vec::new();
    push(&mut out, Frame::Settings { ack: false, params });
    push(
        &mut out,
        Frame::WindowUpdate {
            stream_id: 0,
            increment: 1 << 24,
        },
    );
    if tcp.write_all(&out).await.is_err() {
        return;
    }
    let mut decoder = FrameDecoder::new(1 << 20);
    let mut hpack = hpack::Decoder::new(4096, 1 << 16);
    let mut block: Option<(u32, Vec<u8>)> = None;
    let mut streams: HashMap<u32, StreamState> = HashMap::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let frame = match decoder.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => match tcp.read(&mut buf).await {
                Ok(n) if n > 0 => {
                    decoder.push(&buf[..n]);
                    continue;
                }
                _ => return,
            },
            Err(_) => return,
        };
        let mut out = Vec::new();
        match frame {
            Frame::Settings { ack: false, .. } => push(
                &mut out,
                Frame::Settings {
                    ack: true,
                    params: vec![],
                },
            ),
            Frame::Ping { ack: false, data } => push(&mut out, Frame::Ping { ack: true, data }),
            Frame::Headers {
                stream_id,
                end_headers,
                block: fragment,
                ..
            } => {
                if end_headers {
                    request(
                        &mut out,
                        &mut hpack,
                        &mut streams,
                        stream_id,
                        &fragment,
                        fault,
                    );
                } else {
                    block = Some((stream_id, fragment));
                }
            }
            Frame::Continuation {
                stream_id,
                end_headers,
                block: fragment,
            } => {
                if let Some((_, bytes)) = block.as_mut() {
                    bytes.extend_from_slice(&fragment);
                }
                if end_headers {
                    if let Some((_, bytes)) = block.take() {
                        request(&mut out, &mut hpack, &mut streams, stream_id, &bytes, fault);
                    }
                }
            }
            Frame::RstStream { stream_id, .. }
                if fault != Fault::IgnoresReset && fault != Fault::Lenient =>
            {
                if let Some(s) = streams.get_mut(&stream_id) {
                    s.reset = true;
                }
            }
            Frame::Data {
                stream_id,
                end_stream,
                data,
                ..
            } => {
                if !data.is_empty() {
                    push(
                        &mut out,
                        Frame::WindowUpdate {
                            stream_id: 0,
                            increment: data.len() as u32,
                        },
                    );
                }
                let Some(s) = streams.get_mut(&stream_id) else {
                    continue;
                };
                let strict = !matches!(fault, Fault::Lenient | Fault::IgnoresEndStream);
                if s.reset || (s.ended && strict) {
                    s.reset = true;
                    push(
                        &mut out,
                        Frame::RstStream {
                            stream_id,
                            code: ErrorCode::StreamClosed,
                        },
                    );
                } else {
                    s.pending.extend_from_slice(&data);
                    echo(&mut out, stream_id, s, fault != Fault::NeverEndsStream);
                    if end_stream {
                        s.ended = true;
                        if !s.done && strict {
                            s.done = true;
                            push(&mut out, data_frame(stream_id, Vec::new(), true));
                        }
                    }
                }
            }
            _ => {}
        }
        if !out.is_empty() && tcp.write_all(&out).await.is_err() {
            return;
        }
    }
}

fn push(out: &mut Vec<u8>, frame: Frame) {
    frame.encode(out).expect("encode");
}

fn data_frame(stream_id: u32, data: Vec<u8>, end_stream: bool) -> Frame {
    Frame::Data {
        stream_id,
        end_stream,
        data,
        padding: None,
    }
}

/// Answers a request: 200 when it is well-formed (or the server is
/// lenient), RST_STREAM PROTOCOL_ERROR when not.
fn request(
    out: &mut Vec<u8>,
    hpack: &mut hpack::Decoder,
    streams: &mut HashMap<u32, StreamState>,
    stream_id: u32,
    block: &[u8],
    fault: Fault,
) {
    let Ok(fields) = hpack.decode(block) else {
        return;
    };
    if fault != Fault::Lenient && malformed(&fields).is_some() {
        push(
            out,
            Frame::RstStream {
                stream_id,
                code: ErrorCode::ProtocolError,
            },
        );
        return;
    }
    let answer = hpack::Encoder::default().block(&[Field::new(":status", "200")]);
    push(
        out,
        Frame::Headers {
            stream_id,
            end_stream: false,
            end_headers: true,
            priority: None,
            block: answer,
            padding: None,
        },
    );
    streams.insert(stream_id, StreamState::default());
}

/// What makes an extended CONNECT for a WebSocket malformed or unacceptable.
fn malformed(fields: &[Field]) -> Option<&'static str> {
    const PSEUDO: [&[u8]; 5] = [
        b":method",
        b":protocol",
        b":scheme",
        b":authority",
        b":path",
    ];
    const CONNECTION: [&[u8]; 5] = [
        b"connection",
        b"upgrade",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
    ];
    let mut regular_seen = false;
    let mut seen: Vec<&[u8]> = Vec::new();
    for f in fields {
        let name = f.name.as_slice();
        if f.value.iter().any(|b| matches!(b, 0 | b'\r' | b'\n')) {
            return Some("CR, LF or NUL in a value");
        }
        if name.starts_with(b":") {
            if regular_seen {
                return Some("pseudo-header after a regular field");
            }
            if !PSEUDO.contains(&name) || seen.contains(&name) {
                return Some("undefined or repeated pseudo-header");
            }
            seen.push(name);
        } else {
            regular_seen = true;
            if name.iter().any(u8::is_ascii_uppercase) {
                return Some("upper-case name");
            }
            if CONNECTION.contains(&name) || (name == b"te" && f.value != b"trailers") {
                return Some("connection-specific field");
            }
        }
    }
    let get = |n: &[u8]| {
        fields
            .iter()
            .find(|f| f.name == n)
            .map(|f| f.value.as_slice())
    };
    if get(b":method") != Some(b"CONNECT") || get(b":protocol") != Some(b"websocket") {
        return Some("not an extended CONNECT for websocket");
    }
    if get(b":scheme").is_none() || get(b":path").is_none_or(<[u8]>::is_empty) {
        return Some(":scheme or :path missing");
    }
    if get(b"sec-websocket-version") != Some(b"13") {
        return Some("not WebSocket version 13");
    }
    None
}

/// Echoes every whole WebSocket frame buffered on the stream, unmasked; a
/// close is echoed and ends the stream.
fn echo(out: &mut Vec<u8>, stream_id: u32, s: &mut StreamState, end_after_close: bool) {
    loop {
        let b = &s.pending;
        if b.len() < 2 {
            return;
        }
        let masked = b[1] & 0x80 != 0;
        let (len, mut at) = match b[1] & 0x7f {
            126 if b.len() >= 4 => (u64::from(u16::from_be_bytes([b[2], b[3]])), 4),
            127 if b.len() >= 10 => {
                let mut n = [0u8; 8];
                n.copy_from_slice(&b[2..10]);
                (u64::from_be_bytes(n), 10)
            }
            126 | 127 => return,
            n => (u64::from(n), 2),
        };
        let key_at = at;
        if masked {
            at += 4;
        }
        let Ok(len) = usize::try_from(len) else {
            return;
        };
        if b.len() < at + len {
            return;
        }
        let mut payload = b[at..at + len].to_vec();
        if masked {
            let key = [b[key_at], b[key_at + 1], b[key_at + 2], b[key_at + 3]];
            for (i, byte) in payload.iter_mut().enumerate() {
                *byte ^= key[i % 4];
            }
        }
        let first = b[0];
        s.pending.drain(..at + len);
        let opcode = first & 0x0f;
        let mut frame = vec![if opcode == 0x9 {
            (first & 0xf0) | 0xa
        } else {
            first
        }];
        match payload.len() {
            n if n < 126 => frame.push(n as u8),
            n if n < 65536 => {
                frame.push(126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&payload);
        let close = opcode == 0x8;
        let end = close && !s.done && end_after_close;
        push(out, data_frame(stream_id, frame, end));
        if end {
            s.done = true;
        }
    }
}
