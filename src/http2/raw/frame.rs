//! HTTP/2 frames as bytes (RFC 9113 sections 4 and 6), with nothing checked
//! on the way out: [`Frame`] names every frame type a WebSocket-over-HTTP/2
//! case needs (DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PING, GOAWAY,
//! WINDOW_UPDATE, CONTINUATION) and keeps any other type as [`Frame::Raw`],
//! which also writes any type, flags and stream id verbatim, so a case can
//! send what `h2` refuses to. [`FrameDecoder`] reads frames from bytes in any
//! chunking, never allocates by a length the peer declared beyond its
//! maximum frame size, and reports a frame it cannot read as a
//! [`FrameError`] value. Also here: the error codes of section 7, the
//! SETTINGS parameters of section 6.5.2 (and RFC 8441's), the connection
//! preface.

use std::fmt;

use bytes::{Buf, BytesMut};

/// The client connection preface (RFC 9113 3.4), sent before any frame.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Length of a frame header (RFC 9113 4.1).
pub const HEADER_LEN: usize = 9;

/// SETTINGS_MAX_FRAME_SIZE's initial value (RFC 9113 6.5.2).
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 16_384;

/// The largest length the 24-bit length field can carry.
pub const MAX_FRAME_LEN: u32 = (1 << 24) - 1;

/// Frame type codes (RFC 9113 6).
pub mod kind {
    pub const DATA: u8 = 0x0;
    pub const HEADERS: u8 = 0x1;
    pub const PRIORITY: u8 = 0x2;
    pub const RST_STREAM: u8 = 0x3;
    pub const SETTINGS: u8 = 0x4;
    pub const PUSH_PROMISE: u8 = 0x5;
    pub const PING: u8 = 0x6;
    pub const GOAWAY: u8 = 0x7;
    pub const WINDOW_UPDATE: u8 = 0x8;
    pub const CONTINUATION: u8 = 0x9;
}

/// Frame flags (RFC 9113 6).
pub mod flags {
    pub const END_STREAM: u8 = 0x1;
    pub const ACK: u8 = 0x1;
    pub const END_HEADERS: u8 = 0x4;
    pub const PADDED: u8 = 0x8;
    pub const PRIORITY: u8 = 0x20;
}

/// SETTINGS parameter identifiers (RFC 9113 6.5.2; RFC 8441 3).
pub mod setting {
    pub const HEADER_TABLE_SIZE: u16 = 0x1;
    pub const ENABLE_PUSH: u16 = 0x2;
    pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;
    pub const INITIAL_WINDOW_SIZE: u16 = 0x4;
    pub const MAX_FRAME_SIZE: u16 = 0x5;
    pub const MAX_HEADER_LIST_SIZE: u16 = 0x6;
    /// RFC 8441 3: a value of 1 allows extended CONNECT (`:protocol`).
    pub const ENABLE_CONNECT_PROTOCOL: u16 = 0x8;

    /// The parameter's name, when it has one.
    pub fn name(id: u16) -> Option<&'static str> {
        Some(match id {
            HEADER_TABLE_SIZE => "SETTINGS_HEADER_TABLE_SIZE",
            ENABLE_PUSH => "SETTINGS_ENABLE_PUSH",
            MAX_CONCURRENT_STREAMS => "SETTINGS_MAX_CONCURRENT_STREAMS",
            INITIAL_WINDOW_SIZE => "SETTINGS_INITIAL_WINDOW_SIZE",
            MAX_FRAME_SIZE => "SETTINGS_MAX_FRAME_SIZE",
            MAX_HEADER_LIST_SIZE => "SETTINGS_MAX_HEADER_LIST_SIZE",
            ENABLE_CONNECT_PROTOCOL => "SETTINGS_ENABLE_CONNECT_PROTOCOL",
            _ => return None,
        })
    }
}

/// An error code of RST_STREAM and GOAWAY (RFC 9113 7); a code RFC 9113
/// does not define is kept as `Unknown` (it must be treated as INTERNAL_ERROR
/// by a receiver, but the harness reports what it got).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    NoError,
    ProtocolError,
    InternalError,
    FlowControlError,
    SettingsTimeout,
    StreamClosed,
    FrameSizeError,
    RefusedStream,
    Cancel,
    CompressionError,
    ConnectError,
    EnhanceYourCalm,
    InadequateSecurity,
    Http11Required,
    Unknown(u32),
}

impl ErrorCode {
    /// The codes RFC 9113 7 defines, in the order of their values.
    const KNOWN: [ErrorCode; 14] = [
        ErrorCode::NoError,
        ErrorCode::ProtocolError,
        ErrorCode::InternalError,
        ErrorCode::FlowControlError,
        ErrorCode::SettingsTimeout,
        ErrorCode::StreamClosed,
        ErrorCode::FrameSizeError,
        ErrorCode::RefusedStream,
        ErrorCode::Cancel,
        ErrorCode::CompressionError,
        ErrorCode::ConnectError,
        ErrorCode::EnhanceYourCalm,
        ErrorCode::InadequateSecurity,
        ErrorCode::Http11Required,
    ];

    /// The code as it goes on the wire.
    pub fn to_u32(self) -> u32 {
        match self {
            ErrorCode::NoError => 0x0,
            ErrorCode::ProtocolError => 0x1,
            ErrorCode::InternalError => 0x2,
            ErrorCode::FlowControlError => 0x3,
            ErrorCode::SettingsTimeout => 0x4,
            ErrorCode::StreamClosed => 0x5,
            ErrorCode::FrameSizeError => 0x6,
            ErrorCode::RefusedStream => 0x7,
            ErrorCode::Cancel => 0x8,
            ErrorCode::CompressionError => 0x9,
            ErrorCode::ConnectError => 0xa,
            ErrorCode::EnhanceYourCalm => 0xb,
            ErrorCode::InadequateSecurity => 0xc,
            ErrorCode::Http11Required => 0xd,
            ErrorCode::Unknown(code) => code,
        }
    }

    /// The code read off the wire.
    pub fn from_u32(code: u32) -> ErrorCode {
        usize::try_from(code)
            .ok()
            .and_then(|i| Self::KNOWN.get(i).copied())
            .unwrap_or(ErrorCode::Unknown(code))
    }

    /// The name RFC 9113 7 gives it (`PROTOCOL_ERROR`), if any.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            ErrorCode::NoError => "NO_ERROR",
            ErrorCode::ProtocolError => "PROTOCOL_ERROR",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::FlowControlError => "FLOW_CONTROL_ERROR",
            ErrorCode::SettingsTimeout => "SETTINGS_TIMEOUT",
            ErrorCode::StreamClosed => "STREAM_CLOSED",
            ErrorCode::FrameSizeError => "FRAME_SIZE_ERROR",
            ErrorCode::RefusedStream => "REFUSED_STREAM",
            ErrorCode::Cancel => "CANCEL",
            ErrorCode::CompressionError => "COMPRESSION_ERROR",
            ErrorCode::ConnectError => "CONNECT_ERROR",
            ErrorCode::EnhanceYourCalm => "ENHANCE_YOUR_CALM",
            ErrorCode::InadequateSecurity => "INADEQUATE_SECURITY",
            ErrorCode::Http11Required => "HTTP_1_1_REQUIRED",
            ErrorCode::Unknown(_) => return None,
        })
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "unknown error code {:#x}", self.to_u32()),
        }
    }
}

/// A stream dependency (RFC 9113 5.3.2, deprecated but still on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priority {
    pub exclusive: bool,
    pub dependency: u32,
    /// The weight field as sent (the weight minus one).
    pub weight: u8,
}

/// One HTTP/2 frame. Stream ids of the named variants are written with the
/// reserved bit clear; [`Frame::Raw`] writes every field as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Data {
        stream_id: u32,
        end_stream: bool,
        data: Vec<u8>,
        /// With PADDED: that many padding bytes (zeros when sent).
        padding: Option<u8>,
    },
    Headers {
        stream_id: u32,
        end_stream: bool,
        end_headers: bool,
        priority: Option<Priority>,
        /// The field block fragment (HPACK bytes).
        block: Vec<u8>,
        padding: Option<u8>,
    },
    Priority {
        stream_id: u32,
        priority: Priority,
    },
    RstStream {
        stream_id: u32,
        code: ErrorCode,
    },
    Settings {
        ack: bool,
        /// (identifier, value) pairs in the order sent.
        params: Vec<(u16, u32)>,
    },
    Ping {
        ack: bool,
        data: [u8; 8],
    },
    GoAway {
        last_stream_id: u32,
        code: ErrorCode,
        debug: Vec<u8>,
    },
    WindowUpdate {
        stream_id: u32,
        increment: u32,
    },
    Continuation {
        stream_id: u32,
        end_headers: bool,
        block: Vec<u8>,
    },
    /// Any frame as it is: an unknown type when decoded (PUSH_PROMISE too),
    /// anything at all when encoded.
    Raw {
        kind: u8,
        flags: u8,
        stream_id: u32,
        payload: Vec<u8>,
    },
}

/// Why bytes could not be read (or written) as a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("a frame of type {kind:#x} declares {length} bytes of payload, more than the maximum frame size {max}")]
    TooLarge { kind: u8, length: u32, max: u32 },
    #[error("a frame's payload of {length} bytes does not fit the 24-bit length field")]
    PayloadTooLong { length: usize },
    #[error("{frame} frame on stream {stream_id} with {length} bytes of payload: {problem}")]
    Malformed {
        frame: &'static str,
        stream_id: u32,
        length: u32,
        problem: &'static str,
    },
}

impl Frame {
    /// The frame's type code.
    pub fn kind(&self) -> u8 {
        match self {
            Frame::Data { .. } => kind::DATA,
            Frame::Headers { .. } => kind::HEADERS,
            Frame::Priority { .. } => kind::PRIORITY,
            Frame::RstStream { .. } => kind::RST_STREAM,
            Frame::Settings { .. } => kind::SETTINGS,
            Frame::Ping { .. } => kind::PING,
            Frame::GoAway { .. } => kind::GOAWAY,
            Frame::WindowUpdate { .. } => kind::WINDOW_UPDATE,
            Frame::Continuation { .. } => kind::CONTINUATION,
            Frame::Raw { kind, .. } => *kind,
        }
    }

    /// The stream the frame belongs to (0 for the connection).
    pub fn stream_id(&self) -> u32 {
        match self {
            Frame::Data { stream_id, .. }
            | Frame::Headers { stream_id, .. }
            | Frame::Priority { stream_id, .. }
            | Frame::RstStream { stream_id, .. }
            | Frame::WindowUpdate { stream_id, .. }
            | Frame::Continuation { stream_id, .. }
            | Frame::Raw { stream_id, .. } => *stream_id,
            Frame::Settings { .. } | Frame::Ping { .. } | Frame::GoAway { .. } => 0,
        }
    }

    /// Whether the frame carries END_STREAM.
    pub fn is_end_stream(&self) -> bool {
        matches!(
            self,
            Frame::Data {
                end_stream: true,
                ..
            } | Frame::Headers {
                end_stream: true,
                ..
            }
        )
    }

    /// The frame's type name (`DATA`), or `type 0xNN` for others.
    pub fn name(&self) -> String {
        kind_name(self.kind()).map_or_else(|| format!("type {:#04x}", self.kind()), str::to_owned)
    }

    /// Appends the frame's bytes to `out`. Fails only when the payload would
    /// not fit the 24-bit length field; nothing else is checked.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), FrameError> {
        let mut payload = Vec::new();
        let mut flag_bits = 0u8;
        let stream = self.stream_id() & 0x7fff_ffff;
        let (kind, stream) = match self {
            Frame::Data {
                end_stream,
                data,
                padding,
                ..
            } => {
                if *end_stream {
                    flag_bits |= flags::END_STREAM;
                }
                padded(&mut payload, &mut flag_bits, *padding, |p| {
                    p.extend_from_slice(data)
                });
                (kind::DATA, stream)
            }
            Frame::Headers {
                end_stream,
                end_headers,
                priority,
                block,
                padding,
                ..
            } => {
                if *end_stream {
                    flag_bits |= flags::END_STREAM;
                }
                if *end_headers {
                    flag_bits |= flags::END_HEADERS;
                }
                if priority.is_some() {
                    flag_bits |= flags::PRIORITY;
                }
                padded(&mut payload, &mut flag_bits, *padding, |p| {
                    if let Some(priority) = priority {
                        put_priority(p, priority);
                    }
                    p.extend_from_slice(block);
                });
                (kind::HEADERS, stream)
            }
            Frame::Priority { priority, .. } => {
                put_priority(&mut payload, priority);
                (kind::PRIORITY, stream)
            }
            Frame::RstStream { code, .. } => {
                payload.extend_from_slice(&code.to_u32().to_be_bytes());
                (kind::RST_STREAM, stream)
            }
            Frame::Settings { ack, params } => {
                if *ack {
                    flag_bits |= flags::ACK;
                }
                for (id, value) in params {
                    payload.extend_from_slice(&id.to_be_bytes());
                    payload.extend_from_slice(&value.to_be_bytes());
                }
                (kind::SETTINGS, 0)
            }
            Frame::Ping { ack, data } => {
                if *ack {
                    flag_bits |= flags::ACK;
                }
                payload.extend_from_slice(data);
                (kind::PING, 0)
            }
            Frame::GoAway {
                last_stream_id,
                code,
                debug,
            } => {
                payload.extend_from_slice(&(last_stream_id & 0x7fff_ffff).to_be_bytes());
                payload.extend_from_slice(&code.to_u32().to_be_bytes());
                payload.extend_from_slice(debug);
                (kind::GOAWAY, 0)
            }
            Frame::WindowUpdate { increment, .. } => {
                payload.extend_from_slice(&(increment & 0x7fff_ffff).to_be_bytes());
                (kind::WINDOW_UPDATE, stream)
            }
            Frame::Continuation {
                end_headers, block, ..
            } => {
                if *end_headers {
                    flag_bits |= flags::END_HEADERS;
                }
                payload.extend_from_slice(block);
                (kind::CONTINUATION, stream)
            }
            Frame::Raw {
                kind,
                flags: raw_flags,
                stream_id,
                payload: raw,
            } => {
                flag_bits = *raw_flags;
                payload.extend_from_slice(raw);
                (*kind, *stream_id)
            }
        };
        let length = u32::try_from(payload.len())
            .ok()
            .filter(|len| *len <= MAX_FRAME_LEN)
            .ok_or(FrameError::PayloadTooLong {
                length: payload.len(),
            })?;
        out.extend_from_slice(&length.to_be_bytes()[1..]);
        out.push(kind);
        out.push(flag_bits);
        out.extend_from_slice(&stream.to_be_bytes());
        out.extend_from_slice(&payload);
        Ok(())
    }

    /// The frame's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, FrameError> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }
}

/// The name RFC 9113 6 gives a frame type.
pub fn kind_name(code: u8) -> Option<&'static str> {
    Some(match code {
        kind::DATA => "DATA",
        kind::HEADERS => "HEADERS",
        kind::PRIORITY => "PRIORITY",
        kind::RST_STREAM => "RST_STREAM",
        kind::SETTINGS => "SETTINGS",
        kind::PUSH_PROMISE => "PUSH_PROMISE",
        kind::PING => "PING",
        kind::GOAWAY => "GOAWAY",
        kind::WINDOW_UPDATE => "WINDOW_UPDATE",
        kind::CONTINUATION => "CONTINUATION",
        _ => return None,
    })
}

fn padded(
    payload: &mut Vec<u8>,
    flag_bits: &mut u8,
    padding: Option<u8>,
    body: impl FnOnce(&mut Vec<u8>),
) {
    if let Some(pad) = padding {
        *flag_bits |= flags::PADDED;
        payload.push(pad);
        body(payload);
        payload.resize(payload.len() + usize::from(pad), 0);
    } else {
        body(payload);
    }
}

fn put_priority(out: &mut Vec<u8>, priority: &Priority) {
    let mut dependency = priority.dependency & 0x7fff_ffff;
    if priority.exclusive {
        dependency |= 0x8000_0000;
    }
    out.extend_from_slice(&dependency.to_be_bytes());
    out.push(priority.weight);
}

/// A frame's 9-byte header, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    length: u32,
    kind: u8,
    flags: u8,
    stream_id: u32,
}

impl Head {
    fn parse(bytes: &[u8; HEADER_LEN]) -> Head {
        Head {
            length: u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]),
            kind: bytes[3],
            flags: bytes[4],
            stream_id: u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]) & 0x7fff_ffff,
        }
    }

    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    fn malformed(&self, problem: &'static str) -> FrameError {
        FrameError::Malformed {
            frame: kind_name(self.kind).unwrap_or("unknown"),
            stream_id: self.stream_id,
            length: self.length,
            problem,
        }
    }
}

/// Reads frames from bytes that arrive in any chunking.
///
/// Push what was read with [`FrameDecoder::push`], then take frames with
/// [`FrameDecoder::next_frame`] until it gives `Ok(None)`. The buffer holds
/// at most one frame of `max_frame_size` plus what was pushed since. A frame
/// whose payload is malformed for its type is an error for that frame only:
/// the decoder stays in step and the next call reads the next frame. A
/// frame longer than the maximum ends decoding: every later call gives the
/// same error.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: BytesMut,
    max_frame_size: u32,
    failed: Option<FrameError>,
}

impl FrameDecoder {
    /// A decoder refusing payloads longer than `max_frame_size` (at most the
    /// 24-bit maximum).
    pub fn new(max_frame_size: u32) -> FrameDecoder {
        FrameDecoder {
            buf: BytesMut::new(),
            max_frame_size: max_frame_size.min(MAX_FRAME_LEN),
            failed: None,
        }
    }

    /// Adds bytes read from the peer.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes pushed and not yet read as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next whole frame, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let Some(header) = self.buf.get(..HEADER_LEN) else {
            return Ok(None);
        };
        let mut bytes = [0u8; HEADER_LEN];
        bytes.copy_from_slice(header);
        let head = Head::parse(&bytes);
        if head.length > self.max_frame_size {
            let error = FrameError::TooLarge {
                kind: head.kind,
                length: head.length,
                max: self.max_frame_size,
            };
            self.failed = Some(error.clone());
            return Err(error);
        }
        let total = HEADER_LEN + head.length as usize;
        if self.buf.len() < total {
            return Ok(None);
        }
        self.buf.advance(HEADER_LEN);
        let payload = self.buf.split_to(head.length as usize);
        // Raw frames keep the reserved bit of the stream id as it was sent.
        let raw_stream = u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]);
        parse(head, raw_stream, &payload).map(Some)
    }
}

/// Strips PADDED's pad length and padding.
fn unpad<'a>(head: &Head, payload: &'a [u8]) -> Result<&'a [u8], FrameError> {
    if !head.has(flags::PADDED) {
        return Ok(payload);
    }
    let (&pad, rest) = payload
        .split_first()
        .ok_or_else(|| head.malformed("PADDED without a pad length"))?;
    let keep = rest
        .len()
        .checked_sub(usize::from(pad))
        .ok_or_else(|| head.malformed("padding longer than the payload"))?;
    Ok(&rest[..keep])
}

fn pad_length(head: &Head, payload: &[u8]) -> Option<u8> {
    if head.has(flags::PADDED) {
        payload.first().copied()
    } else {
        None
    }
}

fn read_priority(bytes: &[u8]) -> Option<Priority> {
    let b: [u8; 5] = bytes.get(..5)?.try_into().ok()?;
    let dependency = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some(Priority {
        exclusive: dependency & 0x8000_0000 != 0,
        dependency: dependency & 0x7fff_ffff,
        weight: b[4],
    })
}

fn be32(bytes: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[..4]);
    u32::from_be_bytes(b)
}

fn parse(head: Head, raw_stream: u32, payload: &[u8]) -> Result<Frame, FrameError> {
    let stream_id = head.stream_id;
    Ok(match head.kind {
        kind::DATA => Frame::Data {
            stream_id,
            end_stream: head.has(flags::END_STREAM),
            data: unpad(&head, payload)?.to_vec(),
            padding: pad_length(&head, payload),
        },
        kind::HEADERS => {
            let body = unpad(&head, payload)?;
            let (priority, block) = if head.has(flags::PRIORITY) {
                let priority = read_priority(body)
                    .ok_or_else(|| head.malformed("PRIORITY flag without 5 bytes of priority"))?;
                (Some(priority), &body[5..])
            } else {
                (None, body)
            };
            Frame::Headers {
                stream_id,
                end_stream: head.has(flags::END_STREAM),
                end_headers: head.has(flags::END_HEADERS),
                priority,
                block: block.to_vec(),
                padding: pad_length(&head, payload),
            }
        }
        kind::PRIORITY => match (payload.len(), read_priority(payload)) {
            (5, Some(priority)) => Frame::Priority {
                stream_id,
                priority,
            },
            _ => return Err(head.malformed("PRIORITY payload is not 5 bytes")),
        },
        kind::RST_STREAM => {
            if payload.len() != 4 {
                return Err(head.malformed("RST_STREAM payload is not 4 bytes"));
            }
            Frame::RstStream {
                stream_id,
                code: ErrorCode::from_u32(be32(payload)),
            }
        }
        kind::SETTINGS => {
            if payload.len() % 6 != 0 {
                return Err(head.malformed("SETTINGS payload is not a multiple of 6 bytes"));
            }
            let params = payload
                .chunks_exact(6)
                .map(|p| (u16::from_be_bytes([p[0], p[1]]), be32(&p[2..])))
                .collect();
            Frame::Settings {
                ack: head.has(flags::ACK),
                params,
            }
        }
        kind::PING => {
            let data: [u8; 8] = payload
                .try_into()
                .map_err(|_| head.malformed("PING payload is not 8 bytes"))?;
            Frame::Ping {
                ack: head.has(flags::ACK),
                data,
            }
        }
        kind::GOAWAY => {
            if payload.len() < 8 {
                return Err(head.malformed("GOAWAY payload is shorter than 8 bytes"));
            }
            Frame::GoAway {
                last_stream_id: be32(payload) & 0x7fff_ffff,
                code: ErrorCode::from_u32(be32(&payload[4..])),
                debug: payload[8..].to_vec(),
            }
        }
        kind::WINDOW_UPDATE => {
            if payload.len() != 4 {
                return Err(head.malformed("WINDOW_UPDATE payload is not 4 bytes"));
            }
            Frame::WindowUpdate {
                stream_id,
                increment: be32(payload) & 0x7fff_ffff,
            }
        }
        kind::CONTINUATION => Frame::Continuation {
            stream_id,
            end_headers: head.has(flags::END_HEADERS),
            block: payload.to_vec(),
        },
        other => Frame::Raw {
            kind: other,
            flags: head.flags,
            stream_id: raw_stream,
            payload: payload.to_vec(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(frame: Frame) -> Vec<u8> {
        let bytes = frame.to_bytes().unwrap();
        let mut decoder = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
        decoder.push(&bytes);
        assert_eq!(decoder.next_frame().unwrap(), Some(frame));
        assert_eq!(decoder.next_frame().unwrap(), None);
        assert_eq!(decoder.buffered(), 0);
        bytes
    }

    #[test]
    fn preface_is_rfc_9113_3_4() {
        assert_eq!(PREFACE, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        assert_eq!(PREFACE.len(), 24);
    }

    #[test]
    fn data_bytes_and_flags() {
        let bytes = roundtrip(Frame::Data {
            stream_id: 1,
            end_stream: true,
            data: b"hi".to_vec(),
            padding: None,
        });
        assert_eq!(bytes, [0, 0, 2, 0, 1, 0, 0, 0, 1, b'h', b'i']);
    }

    #[test]
    fn padded_data_writes_pad_length_and_zeros() {
        let bytes = roundtrip(Frame::Data {
            stream_id: 3,
            end_stream: false,
            data: b"ab".to_vec(),
            padding: Some(3),
        });
        assert_eq!(bytes, [0, 0, 6, 0, 0x8, 0, 0, 0, 3, 3, b'a', b'b', 0, 0, 0]);
    }

    #[test]
    fn headers_with_every_flag() {
        let frame = Frame::Headers {
            stream_id: 5,
            end_stream: true,
            end_headers: true,
            priority: Some(Priority {
                exclusive: true,
                dependency: 3,
                weight: 15,
            }),
            block: vec![0x82, 0x84],
            padding: Some(2),
        };
        let bytes = roundtrip(frame);
        // flags: END_STREAM | END_HEADERS | PADDED | PRIORITY
        assert_eq!(bytes[4], 0x2d);
        assert_eq!(bytes[3], kind::HEADERS);
        assert_eq!(
            &bytes[9..],
            &[2, 0x80, 0, 0, 3, 15, 0x82, 0x84, 0, 0],
            "pad length, E+dependency, weight, block, padding"
        );
        let plain = roundtrip(Frame::Headers {
            stream_id: 1,
            end_stream: false,
            end_headers: false,
            priority: None,
            block: vec![0x82],
            padding: None,
        });
        assert_eq!(plain[4], 0);
    }

    #[test]
    fn control_frames_roundtrip_with_their_exact_bytes() {
        let rst = roundtrip(Frame::RstStream {
            stream_id: 1,
            code: ErrorCode::ProtocolError,
        });
        assert_eq!(rst, [0, 0, 4, 3, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
        let settings = roundtrip(Frame::Settings {
            ack: false,
            params: vec![(setting::ENABLE_CONNECT_PROTOCOL, 1), (0xabcd, 7)],
        });
        assert_eq!(
            settings,
            [0, 0, 12, 4, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 1, 0xab, 0xcd, 0, 0, 0, 7]
        );
        let ack = roundtrip(Frame::Settings {
            ack: true,
            params: vec![],
        });
        assert_eq!(ack, [0, 0, 0, 4, 1, 0, 0, 0, 0]);
        let ping = roundtrip(Frame::Ping {
            ack: true,
            data: *b"12345678",
        });
        assert_eq!(&ping[..9], &[0, 0, 8, 6, 1, 0, 0, 0, 0]);
        let goaway = roundtrip(Frame::GoAway {
            last_stream_id: 7,
            code: ErrorCode::EnhanceYourCalm,
            debug: b"calm".to_vec(),
        });
        assert_eq!(&goaway[9..17], &[0, 0, 0, 7, 0, 0, 0, 0xb]);
        let window = roundtrip(Frame::WindowUpdate {
            stream_id: 0,
            increment: 65_535,
        });
        assert_eq!(&window[9..], &[0, 0, 0xff, 0xff]);
        let cont = roundtrip(Frame::Continuation {
            stream_id: 1,
            end_headers: true,
            block: vec![0x86],
        });
        assert_eq!(&cont[3..5], &[9, 4]);
        let priority = roundtrip(Frame::Priority {
            stream_id: 3,
            priority: Priority {
                exclusive: false,
                dependency: 1,
                weight: 200,
            },
        });
        assert_eq!(&priority[9..], &[0, 0, 0, 1, 200]);
    }

    #[test]
    fn unknown_types_are_raw_and_raw_writes_anything() {
        let bytes = roundtrip(Frame::Raw {
            kind: 0xfa,
            flags: 0xff,
            stream_id: 0x8000_0001,
            payload: b"x".to_vec(),
        });
        assert_eq!(bytes, [0, 0, 1, 0xfa, 0xff, 0x80, 0, 0, 1, b'x']);
        // A DATA frame on stream 0 with a stray flag, written as raw, reads
        // back as the DATA frame it is.
        let raw = Frame::Raw {
            kind: kind::DATA,
            flags: 0x1 | 0x40,
            stream_id: 0,
            payload: b"z".to_vec(),
        };
        let mut decoder = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
        decoder.push(&raw.to_bytes().unwrap());
        assert_eq!(
            decoder.next_frame().unwrap(),
            Some(Frame::Data {
                stream_id: 0,
                end_stream: true,
                data: b"z".to_vec(),
                padding: None
            })
        );
    }

    #[test]
    fn any_chunking_gives_the_same_frames() {
        let frames = vec![
            Frame::Settings {
                ack: false,
                params: vec![(setting::MAX_FRAME_SIZE, 16_384)],
            },
            Frame::Data {
                stream_id: 1,
                end_stream: false,
                data: vec![7; 300],
                padding: Some(9),
            },
            Frame::Ping {
                ack: false,
                data: [1; 8],
            },
            Frame::Data {
                stream_id: 1,
                end_stream: true,
                data: vec![],
                padding: None,
            },
        ];
        let mut bytes = Vec::new();
        for frame in &frames {
            frame.encode(&mut bytes).unwrap();
        }
        for chunk in [1, 2, 5, 9, 10, 64, bytes.len()] {
            let mut decoder = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
            let mut got = Vec::new();
            for piece in bytes.chunks(chunk) {
                decoder.push(piece);
                while let Some(frame) = decoder.next_frame().unwrap() {
                    got.push(frame);
                }
            }
            assert_eq!(got, frames, "chunks of {chunk}");
            assert_eq!(decoder.buffered(), 0);
        }
    }

    #[test]
    fn a_frame_over_the_maximum_is_an_error_before_its_payload_arrives() {
        let mut decoder = FrameDecoder::new(100);
        // Declares 16 MiB - 1; only the header is here.
        decoder.push(&[0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 1]);
        let error = decoder.next_frame().unwrap_err();
        assert_eq!(
            error,
            FrameError::TooLarge {
                kind: 0,
                length: MAX_FRAME_LEN,
                max: 100
            }
        );
        assert!(error
            .to_string()
            .contains("more than the maximum frame size 100"));
        decoder.push(&[0; 64]);
        assert_eq!(decoder.next_frame().unwrap_err(), error, "it stays failed");
        // Exactly the maximum is fine.
        let mut decoder = FrameDecoder::new(100);
        let frame = Frame::Data {
            stream_id: 1,
            end_stream: false,
            data: vec![1; 100],
            padding: None,
        };
        decoder.push(&frame.to_bytes().unwrap());
        assert_eq!(decoder.next_frame().unwrap(), Some(frame));
    }

    #[test]
    fn malformed_payloads_are_errors_and_the_decoder_stays_in_step() {
        let cases: [(&[u8], &str); 7] = [
            (
                &[0, 0, 3, 3, 0, 0, 0, 0, 1, 0, 0, 0],
                "RST_STREAM payload is not 4 bytes",
            ),
            (&[0, 0, 5, 4, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0], "multiple of 6"),
            (
                &[0, 0, 1, 6, 0, 0, 0, 0, 0, 0],
                "PING payload is not 8 bytes",
            ),
            (&[0, 0, 4, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0], "shorter than 8"),
            (
                &[0, 0, 2, 0, 0x8, 0, 0, 0, 1, 5, 0],
                "padding longer than the payload",
            ),
            (
                &[0, 0, 0, 0, 0x8, 0, 0, 0, 1],
                "PADDED without a pad length",
            ),
            (
                &[0, 0, 2, 1, 0x20, 0, 0, 0, 1, 0, 0],
                "PRIORITY flag without 5 bytes",
            ),
        ];
        for (bytes, problem) in cases {
            let mut decoder = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
            decoder.push(bytes);
            decoder.push(&[0, 0, 0, 4, 1, 0, 0, 0, 0]);
            let error = decoder.next_frame().unwrap_err();
            assert!(error.to_string().contains(problem), "{error} / {problem}");
            assert_eq!(
                decoder.next_frame().unwrap(),
                Some(Frame::Settings {
                    ack: true,
                    params: vec![]
                })
            );
        }
    }

    #[test]
    fn error_codes_have_their_numbers_and_names() {
        assert_eq!(ErrorCode::NoError.to_u32(), 0);
        assert_eq!(ErrorCode::ProtocolError.to_u32(), 1);
        assert_eq!(ErrorCode::Cancel.to_u32(), 8);
        assert_eq!(ErrorCode::Http11Required.to_u32(), 0xd);
        for (i, known) in ErrorCode::KNOWN.iter().enumerate() {
            assert_eq!(known.to_u32(), i as u32, "{known}");
        }
        for code in 0..=0xd {
            assert_eq!(ErrorCode::from_u32(code).to_u32(), code);
            assert!(ErrorCode::from_u32(code).name().is_some());
        }
        assert_eq!(ErrorCode::from_u32(0xe), ErrorCode::Unknown(0xe));
        assert_eq!(ErrorCode::ProtocolError.to_string(), "PROTOCOL_ERROR");
        assert_eq!(ErrorCode::Http11Required.to_string(), "HTTP_1_1_REQUIRED");
        assert_eq!(
            ErrorCode::Unknown(0x77).to_string(),
            "unknown error code 0x77"
        );
        assert_eq!(
            setting::name(setting::ENABLE_CONNECT_PROTOCOL),
            Some("SETTINGS_ENABLE_CONNECT_PROTOCOL")
        );
        assert_eq!(setting::name(0x7), None);
    }

    #[test]
    fn names_and_accessors() {
        let frame = Frame::Raw {
            kind: 0x20,
            flags: 0,
            stream_id: 0,
            payload: vec![],
        };
        assert_eq!(frame.name(), "type 0x20");
        let data = Frame::Data {
            stream_id: 9,
            end_stream: true,
            data: vec![],
            padding: None,
        };
        assert_eq!(data.name(), "DATA");
        assert_eq!(data.stream_id(), 9);
        assert!(data.is_end_stream());
        assert!(!frame.is_end_stream());
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_in_any_chunks_give_frames_or_errors(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000),
            chunk in 1usize..64,
        ) {
            let mut decoder = FrameDecoder::new(256);
            let mut read = 0usize;
            for piece in bytes.chunks(chunk) {
                decoder.push(piece);
                loop {
                    match decoder.next_frame() {
                        Ok(Some(frame)) => read += frame.to_bytes().map_or(0, |b| b.len()),
                        Ok(None) => break,
                        Err(FrameError::TooLarge { length, .. }) => {
                            proptest::prop_assert!(length > 256);
                            return Ok(());
                        }
                        Err(FrameError::Malformed { .. }) => {}
                        Err(other) => proptest::prop_assert!(false, "{other}"),
                    }
                }
                proptest::prop_assert!(decoder.buffered() < HEADER_LEN + 256 + chunk);
            }
            proptest::prop_assert!(read <= bytes.len());
        }
    }

    #[test]
    fn reserved_bit_is_cleared_for_named_frames() {
        let mut decoder = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
        decoder.push(&[0, 0, 0, 0, 0, 0x80, 0, 0, 3]);
        assert_eq!(
            decoder.next_frame().unwrap().map(|f| f.stream_id()),
            Some(3)
        );
    }
}
