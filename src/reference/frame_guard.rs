//! A read-side guard for the compressed connections of the reference peer.
//! yawc lets a few frames through that RFC 6455 and RFC 7692 6.1 require an
//! endpoint to fail on: RSV1 on a control frame or on a continuation frame, a
//! control frame longer than 125 bytes (it checks pings only), a masked frame
//! from a server, and it answers a reserved opcode with 1003 rather than a
//! protocol error. This guard reads the frame headers as the bytes arrive (it
//! holds back a header's first byte until the second one is there) and marks
//! each such frame by setting RSV2 in its first byte, which yawc then refuses
//! as a reserved-bit fault: it fails the connection with 1002. Payload bytes
//! pass through untouched; writes pass straight through.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

const RSV1: u8 = 0x40;
const RSV2: u8 = 0x20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting the first byte of a frame header.
    First,
    /// The first byte is held back until the second one arrives.
    Second(u8),
    /// The rest of the header: `left` bytes, of which the first `len_left`
    /// extend the payload length `len`.
    Rest { left: u8, len_left: u8, len: u64 },
    /// Payload bytes still to pass.
    Payload(u64),
}

/// The guard around a stream. `server` is the role of this endpoint: as the
/// client it also marks masked frames.
pub struct FrameGuard<S> {
    inner: S,
    server: bool,
    state: State,
    /// Checked bytes not yet handed to the reader.
    out: Vec<u8>,
    out_pos: usize,
    scratch: Vec<u8>,
}

impl<S> FrameGuard<S> {
    pub fn new(inner: S, server: bool) -> Self {
        FrameGuard {
            inner,
            server,
            state: State::First,
            out: Vec::new(),
            out_pos: 0,
            scratch: Vec::new(),
        }
    }

    /// Whether the frame that starts with `b0 b1` is one to refuse.
    fn refuse(&self, b0: u8, b1: u8) -> bool {
        let opcode = b0 & 0x0f;
        let control = opcode >= 8;
        let reserved_opcode = matches!(opcode, 3..=7 | 11..=15);
        let rsv1_misplaced = b0 & RSV1 != 0 && (control || opcode == 0);
        let long_control = control && (b1 & 0x7f) > 125;
        let masked_from_server = !self.server && b1 & 0x80 != 0;
        reserved_opcode || rsv1_misplaced || long_control || masked_from_server
    }

    /// Runs newly read bytes through the header reader into `out`.
    fn inspect(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            match self.state {
                State::First => {
                    self.state = State::Second(data[0]);
                    data = &data[1..];
                }
                State::Second(b0) => {
                    let b1 = data[0];
                    data = &data[1..];
                    let b0 = if self.refuse(b0, b1) { b0 | RSV2 } else { b0 };
                    self.out.extend_from_slice(&[b0, b1]);
                    let len_left = match b1 & 0x7f {
                        126 => 2,
                        127 => 8,
                        _ => 0,
                    };
                    let mask = if b1 & 0x80 != 0 { 4 } else { 0 };
                    self.state = State::Rest {
                        left: len_left + mask,
                        len_left,
                        len: if len_left > 0 {
                            0
                        } else {
                            u64::from(b1 & 0x7f)
                        },
                    }
                    .settled();
                }
                State::Rest {
                    left,
                    len_left,
                    len,
                } => {
                    let b = data[0];
                    data = &data[1..];
                    self.out.push(b);
                    let (len_left, len) = if len_left > 0 {
                        (len_left - 1, (len << 8) | u64::from(b))
                    } else {
                        (0, len)
                    };
                    self.state = State::Rest {
                        left: left - 1,
                        len_left,
                        len,
                    }
                    .settled();
                }
                State::Payload(left) => {
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(data.len());
                    self.out.extend_from_slice(&data[..n]);
                    data = &data[n..];
                    self.state = State::Payload(left - n as u64).settled();
                }
            }
        }
    }
}

impl State {
    /// Moves on from a finished header or payload.
    fn settled(self) -> State {
        match self {
            State::Rest { left: 0, len, .. } => State::Payload(len).settled(),
            State::Payload(0) => State::First,
            other => other,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FrameGuard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        while this.out_pos == this.out.len() {
            this.out.clear();
            this.out_pos = 0;
            let want = buf.remaining().clamp(1, 64 * 1024);
            this.scratch.resize(want, 0);
            let mut read = ReadBuf::new(&mut this.scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) => {}
                other => return other,
            }
            let n = read.filled().len();
            if n == 0 {
                // End of stream: whatever was held back is handed on as it is.
                if let State::Second(b0) = this.state {
                    this.state = State::First;
                    this.out.push(b0);
                    continue;
                }
                return Poll::Ready(Ok(()));
            }
            let fresh = std::mem::take(&mut this.scratch);
            this.inspect(&fresh[..n]);
            this.scratch = fresh;
        }
        let n = (this.out.len() - this.out_pos).min(buf.remaining());
        buf.put_slice(&this.out[this.out_pos..this.out_pos + n]);
        this.out_pos += n;
        Poll::Ready(Ok(()))
    }
}

write_through!(FrameGuard);

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `bytes` through a guard one byte at a time and all at once; both
    /// must give the same output.
    fn pass(bytes: &[u8], server: bool) -> Vec<u8> {
        let mut whole = FrameGuard::new((), server);
        whole.inspect(bytes);
        let mut split = FrameGuard::new((), server);
        for b in bytes {
            split.inspect(&[*b]);
        }
        assert_eq!(whole.out, split.out);
        whole.out
    }

    #[test]
    fn marks_what_yawc_lets_through() {
        // masked ping with RSV1 (server side): marked
        assert_eq!(pass(&[0xc9, 0x80, 1, 2, 3, 4], true)[0], 0xe9);
        // compressed text then a continuation with RSV1: the second is marked
        let out = pass(
            &[0x41, 0x81, 0, 0, 0, 0, 0xf2, 0xc0, 0x81, 0, 0, 0, 0, 0x00],
            true,
        );
        assert_eq!((out[0], out[7]), (0x41, 0xe0));
        // a pong of 126 bytes (length in two extra bytes) from a server
        let mut pong = vec![0x8a, 0x7e, 0x00, 0x7e];
        pong.extend([0u8; 126]);
        assert_eq!(pass(&pong, false)[0], 0xaa);
        // reserved opcode 3
        assert_eq!(pass(&[0x83, 0x80, 0, 0, 0, 0], true)[0], 0xa3);
        // a masked frame from a server, seen by the client
        assert_eq!(pass(&[0x82, 0x80, 0, 0, 0, 0], false)[0], 0xa2);
    }

    #[test]
    fn passes_valid_frames_untouched() {
        // compressed text, 2-byte length 300, masked; then a close
        let mut frames = vec![0xc1, 0xfe, 0x01, 0x2c, 9, 9, 9, 9];
        frames.extend([0x88u8; 300]);
        frames.extend([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
        assert_eq!(pass(&frames, true), frames);
        // 8-byte length, unmasked, from a server
        let mut big = vec![0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0];
        big.extend(vec![0x41u8; 65536]);
        big.extend([0x89, 0x00]);
        assert_eq!(pass(&big, false), big);
    }
}
