//! A read-side guard that gives the reference server fail-fast UTF-8 checking.
//! tungstenite validates a text message only once a whole frame has arrived, so
//! invalid bytes in the middle of a long frame go unnoticed until its end. This
//! wrapper watches the bytes as they arrive (after the HTTP request head),
//! decodes frames with wsspec's own decoder, and turns the first invalid UTF-8
//! byte of a text message into an `InvalidData` read error, which the server
//! answers with close 1007 (RFC 6455 8.1: fail the connection). Frames with a
//! reserved bit set are not checked: tungstenite fails them with 1002.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

use crate::wire::decode::{DecodeEvent, Decoder};
use crate::wire::utf8::Utf8Stream;

/// Marker carried by the `InvalidData` error.
pub const INVALID_UTF8: &str = "invalid UTF-8 in a text message";

enum Phase {
    /// Still inside the HTTP request head; holds the last bytes seen.
    Head(Vec<u8>),
    Frames,
}

/// The guard around a stream.
pub struct Utf8Guard<S> {
    inner: S,
    phase: Phase,
    decoder: Decoder,
    /// The text message in progress, if any.
    text: Option<Utf8Stream>,
    /// Whether the current frame's payload belongs to that text message.
    in_text_frame: bool,
}

impl<S> Utf8Guard<S> {
    pub fn new(inner: S) -> Self {
        Utf8Guard {
            inner,
            phase: Phase::Head(Vec::new()),
            decoder: Decoder::new(),
            text: None,
            in_text_frame: false,
        }
    }

    /// A guard on a stream that carries frames from its first byte (an
    /// HTTP/2 stream, RFC 8441: the handshake is not on it).
    pub fn frames_only(inner: S) -> Self {
        Utf8Guard {
            phase: Phase::Frames,
            ..Utf8Guard::new(inner)
        }
    }

    /// The layer above ([`BulkEcho`](super::bulk_echo::BulkEcho)) checks
    /// the rest of the current frame, a whole message (`text` or binary),
    /// itself: its payload is no longer unmasked or checked here, and the
    /// guard is left as a whole valid message of that kind would leave it.
    pub fn trust_current_frame(&mut self, text: bool) {
        self.decoder.leave_masked();
        self.in_text_frame = false;
        self.text = text.then(Utf8Stream::default);
    }

    /// Feeds newly read bytes; false once invalid text has been seen.
    fn inspect(&mut self, mut data: &[u8]) -> bool {
        if let Phase::Head(seen) = &mut self.phase {
            let start = seen.len();
            seen.extend_from_slice(data);
            match seen.windows(4).position(|w| w == b"\r\n\r\n") {
                Some(i) => {
                    let consumed = (i + 4).saturating_sub(start);
                    data = &data[consumed.min(data.len())..];
                    self.phase = Phase::Frames;
                }
                None => {
                    let keep = seen.len().saturating_sub(3);
                    seen.drain(..keep);
                    return true;
                }
            }
        }
        let mut ok = true;
        let (text, in_text_frame) = (&mut self.text, &mut self.in_text_frame);
        self.decoder.feed(data, &mut |ev| match ev {
            DecodeEvent::Head(h) => {
                *in_text_frame = match h.opcode.0 {
                    1 => {
                        *text = Some(Utf8Stream::default());
                        true
                    }
                    0 => text.is_some(),
                    2 => {
                        *text = None;
                        false
                    }
                    _ => false,
                };
                // A frame with a reserved bit set (no extension is agreed on
                // these connections) is tungstenite's to fail with 1002: its
                // payload is no text to judge.
                if h.rsv != 0 {
                    *in_text_frame = false;
                }
            }
            DecodeEvent::Payload(p) => {
                if *in_text_frame {
                    if let Some(t) = text.as_mut() {
                        t.feed(p);
                        ok &= t.ok_so_far();
                    }
                }
            }
            DecodeEvent::End => {}
        });
        ok
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Utf8Guard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                // Inspected where it was read: a 16 MiB message is not
                // copied once more on its way in.
                if self.inspect(&buf.filled()[before..]) {
                    Poll::Ready(Ok(()))
                } else {
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        INVALID_UTF8,
                    )))
                }
            }
            other => other,
        }
    }
}

write_through!(Utf8Guard);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_invalid_text_mid_frame_only_after_the_head() {
        let mut g = Utf8Guard::new(());
        assert!(g.inspect(b"GET / HTTP/1.1\r\nHost: \xff\r\n\r\n"));
        // masked text frame header (FIN=0, len 21, zero mask) and the valid first part
        assert!(g.inspect(&[0x01, 0x95, 0, 0, 0, 0]));
        assert!(g.inspect(&[0xce, 0xba, 0xe1, 0xbd, 0xb9]));
        assert!(g.inspect(&[0xf4]));
        assert!(!g.inspect(&[0x90]));
    }

    #[test]
    fn frames_with_reserved_bits_are_left_to_tungstenite() {
        let mut g = Utf8Guard::new(());
        // a text frame with RSV1 whose payload (a DEFLATE stream) is no UTF-8
        assert!(g.inspect(b"GET / HTTP/1.1\r\n\r\n\xc1\x83\0\0\0\0\xf2\x48\xcd"));
    }

    #[test]
    fn a_trusted_frame_is_left_alone_and_the_next_is_checked() {
        let mut g = Utf8Guard::new(());
        assert!(g.inspect(b"GET / HTTP/1.1\r\n\r\n"));
        // masked text frame (FIN, length 4, zero mask) and its first byte
        assert!(g.inspect(&[0x81, 0x84, 0, 0, 0, 0, b'a']));
        g.trust_current_frame(true);
        assert!(g.inspect(&[0xff, 0xff, 0xff]));
        assert!(!g.inspect(&[0x81, 0x81, 0, 0, 0, 0, 0xff]));
    }

    #[test]
    fn binary_payloads_are_not_checked() {
        let mut g = Utf8Guard::new(());
        assert!(g.inspect(b"GET / HTTP/1.1\r\n\r\n\x82\x82\0\0\0\0\xff\xff"));
    }
}
