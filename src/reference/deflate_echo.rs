//! The reference peer's compressed connections: once permessage-deflate is
//! agreed ([`super::pmd_offer`]), both roles echo on yawc, an implementation
//! of RFC 7692 independent of wsspec's own (it compresses and inflates with
//! flate2 over zlib-rs, honouring the agreed windows and context takeover).
//! This module owns that session: it hands yawc the agreement, puts the
//! [`super::frame_guard`] in front of it, reassembles messages itself (so that
//! every fault has one owner), checks text as UTF-8 fragment by fragment,
//! echoes each message as it came (text as text, binary as binary), and closes
//! as RFC 6455 asks. yawc answers pings, echoes the peer's close, and fails the
//! connection on the faults it detects (1002 protocol errors, 1007 invalid UTF-8
//! in a close reason, 1009 too big); this loop fails it on the rest (1002 broken
//! fragmentation, 1007 invalid UTF-8, 1009 a message over [`MAX_MESSAGE`]), and
//! on a compressed stream that does not inflate, where yawc would close with
//! 1011 (internal error), it drops yawc's close and writes 1002 itself.

use std::time::Duration;

use futures_util::SinkExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use yawc::close::CloseCode;
use yawc::streaming::Streaming;
use yawc::{CompressionLevel, Frame, OpCode, Options, Role, WebSocket, WebSocketError};

use super::frame_guard::FrameGuard;
use super::pmd_offer::Agreement;
use super::MAX_MESSAGE;

/// How long a client waits for the server to close TCP after the closing
/// handshake (the server closes first, RFC 6455 7.1.1).
const CLIENT_LINGER: Duration = Duration::from_secs(2);

/// yawc's settings: zlib's default level, every message compressed, and the
/// reference peer's size limit.
fn options() -> Options {
    Options::default()
        .with_compression_level(CompressionLevel::default())
        // yawc's bound is exclusive; tungstenite's (the other connections) is not.
        .with_max_payload_read(MAX_MESSAGE + 1)
        .with_max_read_buffer(MAX_MESSAGE + 1)
}

/// Echoes on a connection whose opening handshake agreed `agreed`, until it
/// ends; then closes TCP (`stream` starts at the first frame byte).
pub async fn run<S>(stream: S, agreed: &Agreement, server: bool)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut guarded = FrameGuard::new(stream, server);
    let fault = {
        let role = if server { Role::Server } else { Role::Client };
        let Ok(ws) = WebSocket::from_stream_with_extensions(
            &mut guarded,
            role,
            Some(&agreed.yawc_form()),
            options(),
        ) else {
            return;
        };
        echo(&mut ws.into_streaming()).await
    };
    if let Some(reason) = fault {
        // yawc, with what it had queued, is gone; the write side is at a frame
        // boundary (every send was flushed whole).
        let _ = guarded.write_all(&close_frame(1002, reason, server)).await;
        let _ = guarded.flush().await;
    }
    if server {
        super::close_tcp(guarded).await;
    } else {
        // Wait for the server's FIN, then close.
        let mut sink = [0u8; 4096];
        let _ = tokio::time::timeout(CLIENT_LINGER, async {
            while let Ok(n) = guarded.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
        let _ = guarded.shutdown().await;
    }
}

/// A message being reassembled.
struct Message {
    text: bool,
    data: Vec<u8>,
    /// For text: how many leading bytes are known to be valid UTF-8.
    valid: usize,
}

impl Message {
    /// Appends a fragment. Err: the message must fail the connection.
    fn push(&mut self, fragment: &[u8]) -> Result<(), (CloseCode, &'static str)> {
        if self.data.len() + fragment.len() > MAX_MESSAGE {
            return Err((CloseCode::Size, "message too big"));
        }
        self.data.extend_from_slice(fragment);
        if self.text {
            match std::str::from_utf8(&self.data[self.valid..]) {
                Ok(_) => self.valid = self.data.len(),
                // An invalid sequence; an incomplete one at the end may yet be
                // completed by the next fragment.
                Err(e) if e.error_len().is_some() => {
                    return Err((CloseCode::Invalid, "invalid UTF-8"))
                }
                Err(e) => self.valid += e.valid_up_to(),
            }
        }
        Ok(())
    }
}

/// A close frame as this endpoint sends it (masked as the client, RFC 6455
/// 5.3, with a fresh random key).
fn close_frame(code: u16, reason: &str, server: bool) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend(reason.bytes().take(123));
    let len = payload.len() as u8;
    if server {
        return [&[0x88, len][..], &payload].concat();
    }
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD
        .decode(super::client_handshake::fresh_key())
        .unwrap_or_default();
    let mut mask = [0u8; 4];
    for (m, k) in mask.iter_mut().zip(key) {
        *m = k;
    }
    let masked = payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]);
    [0x88, 0x80 | len]
        .into_iter()
        .chain(mask)
        .chain(masked)
        .collect()
}

/// Whether yawc's read error is a compressed message it could not inflate
/// (it reports those as `InvalidInput`; a failing socket reports other kinds).
fn inflate_fault(e: &WebSocketError) -> bool {
    matches!(e, WebSocketError::IoError(io) if io.kind() == std::io::ErrorKind::InvalidInput)
}

/// The echo loop. Returns once the connection is over: the closing handshake
/// is done, or the connection was failed (its close frame sent), or TCP is
/// gone; or, Some(reason), when a compressed message did not inflate and the
/// caller must fail the connection with 1002 once yawc is dropped.
async fn echo<S>(ws: &mut Streaming<S>) -> Option<&'static str>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut message: Option<Message> = None;
    loop {
        let (opcode, fin, payload) = match ws.next_frame().await {
            Ok(frame) => frame.into_parts(),
            Err(e) if inflate_fault(&e) => return Some("a compressed message does not inflate"),
            Err(_) => {
                // yawc has queued the close frame the fault calls for (if the
                // peer is still there); reading once more sends it.
                let _ = ws.next_frame().await;
                return None;
            }
        };
        let current = match opcode {
            // yawc queues the pong and sends it before anything else.
            OpCode::Ping | OpCode::Pong => continue,
            OpCode::Close => {
                // yawc has queued the echo of the peer's close: send it.
                let _ = ws.next_frame().await;
                return None;
            }
            OpCode::Text | OpCode::Binary if message.is_some() => {
                return fail(
                    ws,
                    CloseCode::Protocol,
                    "a new message inside a fragmented one",
                )
                .await
            }
            OpCode::Continuation if message.is_none() => {
                return fail(
                    ws,
                    CloseCode::Protocol,
                    "a continuation frame outside a message",
                )
                .await
            }
            OpCode::Text | OpCode::Binary => message.insert(Message {
                text: opcode == OpCode::Text,
                data: Vec::new(),
                valid: 0,
            }),
            OpCode::Continuation => match message.as_mut() {
                Some(m) => m,
                None => return None,
            },
        };
        if let Err((code, why)) = current.push(&payload) {
            return fail(ws, code, why).await;
        }
        if !fin {
            continue;
        }
        let done = message.take()?;
        let frame = if done.text {
            if done.valid != done.data.len() {
                return fail(ws, CloseCode::Invalid, "invalid UTF-8").await;
            }
            Frame::text(done.data)
        } else {
            Frame::binary(done.data)
        };
        if ws.send(frame).await.is_err() {
            return None;
        }
    }
}

/// Fails the connection: a close frame with `code` (RFC 6455 7.1.7). yawc
/// would answer the peer's close with a second one, so nothing more is read
/// through it.
async fn fail<S>(ws: &mut Streaming<S>, code: CloseCode, reason: &str) -> Option<&'static str>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let _ = ws.send(Frame::close(code, reason)).await;
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads one unmasked frame with a 7-bit length: (first byte, payload).
    async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> (u8, Vec<u8>) {
        let mut head = [0u8; 2];
        r.read_exact(&mut head).await.expect("frame head");
        assert!(head[1] < 126, "short frames only");
        let mut payload = vec![0u8; usize::from(head[1])];
        r.read_exact(&mut payload).await.expect("payload");
        (head[0], payload)
    }

    /// Opens a compressed connection to the reference server over an
    /// in-memory stream; returns it after the 101 (checked) has been read.
    async fn open(offer: &str, answer: &str) -> tokio::io::DuplexStream {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        tokio::spawn(super::super::serve_connection(server));
        let request = format!(
            "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Extensions: {offer}\r\n\r\n"
        );
        client.write_all(request.as_bytes()).await.expect("request");
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            head.push(client.read_u8().await.expect("response"));
        }
        let head = String::from_utf8(head).expect("ascii");
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        assert!(
            head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
            "{head}"
        );
        assert!(
            head.contains(&format!("Sec-WebSocket-Extensions: {answer}\r\n")),
            "{head}"
        );
        client
    }

    /// A masked client frame (zero key) with a 7-bit length.
    fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
        [&[b0, 0x80 | payload.len() as u8, 0, 0, 0, 0][..], payload].concat()
    }

    /// The whole server path, with the compressed bytes made and read by
    /// flate2 directly: "Hello" compressed comes back compressed within the
    /// agreed 10-bit window, and RSV1 on a ping fails the connection with 1002.
    #[tokio::test]
    async fn server_echoes_compressed_and_fails_rsv1_on_a_ping() {
        let pmd = "permessage-deflate; server_max_window_bits=10";
        let mut client = open(pmd, pmd).await;
        let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        client.write_all(&frame(0xc1, &hello)).await.expect("send");
        let (b0, payload) = read_frame(&mut client).await;
        assert_eq!(b0, 0xc1, "a compressed text frame");
        let mut inflate = flate2::Decompress::new_with_window_bits(false, 10);
        let mut out = vec![0u8; 64];
        let input = [payload.as_slice(), &[0, 0, 0xff, 0xff]].concat();
        inflate
            .decompress(&input, &mut out, flate2::FlushDecompress::Sync)
            .expect("inflates");
        out.truncate(inflate.total_out() as usize);
        assert_eq!(out, b"Hello");
        client.write_all(&frame(0xc9, b"")).await.expect("ping");
        let (b0, payload) = read_frame(&mut client).await;
        assert_eq!((b0, &payload[..2]), (0x88, &[0x03, 0xea][..]));
    }

    /// A block of the reserved type 3 is a protocol error (1002), not an
    /// internal one (yawc's 1011).
    #[tokio::test]
    async fn a_stream_that_does_not_inflate_fails_with_1002() {
        let mut client = open(
            "permessage-deflate; client_no_context_takeover",
            "permessage-deflate; client_no_context_takeover",
        )
        .await;
        client.write_all(&frame(0xc1, &[0x06])).await.expect("send");
        let (b0, payload) = read_frame(&mut client).await;
        assert_eq!((b0, &payload[..2]), (0x88, &[0x03, 0xea][..]));
    }

    #[test]
    fn close_frames_are_masked_as_the_client_only() {
        assert_eq!(close_frame(1002, "x", true), [0x88, 3, 0x03, 0xea, b'x']);
        let c = close_frame(1002, "", false);
        assert_eq!((c[0], c[1], c.len()), (0x88, 0x82, 8));
        assert_eq!([c[6] ^ c[2], c[7] ^ c[3]], [0x03, 0xea]);
    }

    fn text() -> Message {
        Message {
            text: true,
            data: Vec::new(),
            valid: 0,
        }
    }

    #[test]
    fn utf8_is_checked_fragment_by_fragment() {
        let mut m = text();
        // κ split across fragments, then a lone continuation byte
        assert!(m.push(&[0xce]).is_ok());
        assert_eq!(m.valid, 0);
        assert!(m.push(&[0xba, b'a']).is_ok());
        assert_eq!(m.valid, 3);
        assert_eq!(m.push(&[0x80]).map_err(|e| e.0), Err(CloseCode::Invalid));
        // binary is not checked
        let mut b = Message {
            text: false,
            data: Vec::new(),
            valid: 0,
        };
        assert!(b.push(&[0xff, 0xfe]).is_ok());
    }
}
