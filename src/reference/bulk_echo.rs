//! The reference server's own frame layer for large messages. tungstenite
//! reads a frame into a fresh, zero-filled buffer of its whole size and formats
//! the echo into a second fresh buffer (two 16 MiB allocations and several
//! copies per message of group 9). This layer sits between tungstenite and the
//! byte stream and follows the frame headers of everything it hands on. A
//! message sent as one masked frame of [`BULK_AT`] bytes or more (FIN set, text
//! or binary, no reserved bit, shorter than [`MAX_MESSAGE`], no fragmented
//! message in progress) is taken over when tungstenite asks for its first byte
//! (so every earlier message has been echoed) and its own writes are all out:
//! the payload is read into one buffer behind room for the echo's header,
//! unmasked and (text) checked for UTF-8 as each read arrives, and once the
//! whole message is in and valid, the echo (one unmasked frame, as tungstenite
//! writes it) goes out from that same buffer. The UTF-8 guard underneath is
//! told to leave that payload alone (it is read once, here). The message is
//! still validated whole before anything of it is echoed: an invalid text
//! message is failed as before (at its first invalid byte, or at its end for
//! an incomplete last code point, with the guard's `InvalidData` error, close
//! 1007), and a stream that ends mid-frame hands tungstenite the frame's bytes
//! as they arrived, so it reacts as it always did. Everything else, and every
//! write of tungstenite's, passes through unchanged.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::BufMut;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::utf8_guard::{Utf8Guard, INVALID_UTF8};
use super::MAX_MESSAGE;
use crate::wire::decode::{header_len, parse_header};
use crate::wire::frame::apply_mask;
use crate::wire::utf8::Utf8Stream;

/// Smallest payload this layer echoes itself; smaller frames stay with
/// tungstenite. Such a frame always has the 64-bit length form.
pub const BULK_AT: u64 = 1 << 20;

/// A masked header with a 64-bit length: 2 + 8 + 4 bytes.
const TAKEN_HEADER: usize = 14;

/// The echo's header: unmasked, 64-bit length, 2 + 8 bytes.
const ECHO_HEADER: usize = 10;

/// How much is read at once while a header is being decided.
const DECIDE_READ: usize = 16 * 1024;

/// What the bytes at a frame boundary say about the frame.
#[derive(Debug, PartialEq, Eq)]
enum Candidate {
    /// Not one to take over: hand it to tungstenite.
    No,
    /// Cannot tell yet: more header bytes are needed.
    Maybe,
    /// A whole message of this many payload bytes to echo here.
    Yes(usize),
}

/// Judges the header at the start of `avail`, a frame boundary.
fn candidate(avail: &[u8], fragmented: bool) -> Candidate {
    if fragmented {
        return Candidate::No;
    }
    let Some(&b0) = avail.first() else {
        return Candidate::Maybe;
    };
    // FIN, no reserved bit, text or binary.
    if b0 != 0x81 && b0 != 0x82 {
        return Candidate::No;
    }
    let Some(&b1) = avail.get(1) else {
        return Candidate::Maybe;
    };
    // Masked, 64-bit length.
    if b1 != 0xff {
        return Candidate::No;
    }
    let Some(len) = avail.get(2..10) else {
        return Candidate::Maybe;
    };
    let mut be = [0u8; 8];
    be.copy_from_slice(len);
    let len = u64::from_be_bytes(be);
    if !(BULK_AT..MAX_MESSAGE as u64).contains(&len) {
        return Candidate::No;
    }
    if avail.len() < TAKEN_HEADER {
        return Candidate::Maybe;
    }
    usize::try_from(len).map_or(Candidate::No, Candidate::Yes)
}

/// Follows the frames of the bytes handed to tungstenite.
#[derive(Debug)]
struct Frames {
    /// Bytes of the HTTP request head still to pass unread; `usize::MAX`
    /// when its length is unknown (nothing is ever taken over then).
    head_left: usize,
    /// The header being passed on (`have` of its bytes so far), or `None`
    /// inside a payload.
    header: Option<([u8; TAKEN_HEADER], usize)>,
    /// Payload bytes of the current frame still to pass.
    payload_left: u64,
    /// A text or binary message without FIN is waiting for its continuation.
    fragmented: bool,
    /// The header at the boundary was judged: pass it without stopping.
    decided: bool,
}

impl Frames {
    fn new(head_len: Option<usize>) -> Frames {
        Frames {
            head_left: head_len.unwrap_or(usize::MAX),
            header: Some(([0; TAKEN_HEADER], 0)),
            payload_left: 0,
            fragmented: false,
            decided: false,
        }
    }

    /// At the start of a frame, none of its header passed yet.
    fn at_boundary(&self) -> bool {
        self.head_left == 0 && matches!(self.header, Some((_, 0)))
    }

    /// Follows `data`, the next bytes of the stream, and returns how many of
    /// them may go to tungstenite: all, or those before a frame that may be
    /// one to take over (not yet `decided`).
    fn scan(&mut self, data: &[u8]) -> usize {
        let mut i = 0;
        while i < data.len() {
            if self.head_left > 0 {
                let n = self.head_left.min(data.len() - i);
                self.head_left -= n;
                i += n;
                continue;
            }
            match &mut self.header {
                None => {
                    let n = usize::try_from(self.payload_left)
                        .unwrap_or(usize::MAX)
                        .min(data.len() - i);
                    self.payload_left -= n as u64;
                    i += n;
                    if self.payload_left == 0 {
                        self.header = Some(([0; TAKEN_HEADER], 0));
                    }
                }
                Some((bytes, have)) => {
                    if *have == 0
                        && !self.decided
                        && candidate(&data[i..], self.fragmented) != Candidate::No
                    {
                        return i;
                    }
                    self.decided = false;
                    bytes[*have] = data[i];
                    *have += 1;
                    i += 1;
                    if *have == header_len(&bytes[..*have]) {
                        let (bytes, have) = (*bytes, *have);
                        self.end_header(&bytes[..have]);
                    }
                }
            }
        }
        i
    }

    /// A whole header has passed: note its message state and its payload.
    fn end_header(&mut self, h: &[u8]) {
        let head = parse_header(h);
        match head.opcode.0 {
            1 | 2 => self.fragmented = !head.fin,
            0 if head.fin => self.fragmented = false,
            _ => {}
        }
        let len = head.len;
        self.payload_left = len;
        self.header = if len == 0 {
            Some(([0; TAKEN_HEADER], 0))
        } else {
            None
        };
    }
}

/// A message this layer is echoing.
struct Job {
    header: [u8; TAKEN_HEADER],
    key: [u8; 4],
    len: usize,
    /// Room for the echo's header, then the payload read so far (unmasked).
    buf: Vec<u8>,
    /// Set for a text message.
    utf8: Option<Utf8Stream>,
    /// Bytes of `buf` written so far.
    written: usize,
}

impl Job {
    fn new(header: [u8; TAKEN_HEADER], len: usize) -> Job {
        let mut buf = Vec::with_capacity(ECHO_HEADER + len);
        // The echo's header, as tungstenite writes it: FIN, the same opcode,
        // unmasked, the 64-bit length.
        buf.push(0x80 | (header[0] & 0x0f));
        buf.push(127);
        buf.extend_from_slice(&(len as u64).to_be_bytes());
        Job {
            key: [header[10], header[11], header[12], header[13]],
            utf8: (header[0] & 0x0f == 1).then(Utf8Stream::default),
            header,
            len,
            buf,
            written: 0,
        }
    }

    /// Payload bytes still to read.
    fn left(&self) -> usize {
        ECHO_HEADER + self.len - self.buf.len()
    }

    /// Whether the payload is still being read (else it is being echoed).
    fn reading(&self) -> bool {
        self.left() > 0
    }

    /// Unmasks and checks the payload bytes from `start` on, just read.
    fn took(&mut self, start: usize) -> io::Result<()> {
        apply_mask(&mut self.buf[start..], self.key, (start - ECHO_HEADER) % 4);
        if let Some(text) = &mut self.utf8 {
            text.feed(&self.buf[start..]);
            let done = self.buf.len() == ECHO_HEADER + self.len;
            if !text.ok_so_far() || (done && !text.is_complete_and_valid()) {
                return Err(io::Error::new(io::ErrorKind::InvalidData, INVALID_UTF8));
            }
        }
        Ok(())
    }

    /// The frame's bytes as they arrived (masked again), for tungstenite.
    fn into_arrived(mut self) -> Vec<u8> {
        apply_mask(&mut self.buf[ECHO_HEADER..], self.key, 0);
        let mut bytes = self.header.to_vec();
        bytes.extend_from_slice(&self.buf[ECHO_HEADER..]);
        bytes
    }
}

/// The layer around the reference server's [`Utf8Guard`], which it tells
/// to leave each message taken over to it.
pub struct BulkEcho<S> {
    inner: Utf8Guard<S>,
    frames: Frames,
    /// Bytes read but not yet handed on, from a frame boundary on.
    held: Vec<u8>,
    held_pos: usize,
    job: Option<Job>,
    /// One of tungstenite's writes could not complete: it may hold bytes
    /// it has yet to write, so nothing is taken over until it flushed.
    write_blocked: bool,
}

impl<S> BulkEcho<S> {
    /// `head_len`: the length of the HTTP request head at the start of the
    /// stream, which passes unread; `None` passes everything through.
    pub fn new(inner: Utf8Guard<S>, head_len: Option<usize>) -> Self {
        BulkEcho {
            inner,
            frames: Frames::new(head_len),
            held: Vec::new(),
            held_pos: 0,
            job: None,
            write_blocked: false,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> BulkEcho<S> {
    /// Starts echoing the message whose header begins the held bytes.
    fn start(&mut self, len: usize) {
        let mut header = [0u8; TAKEN_HEADER];
        header.copy_from_slice(&self.held[self.held_pos..self.held_pos + TAKEN_HEADER]);
        self.held_pos += TAKEN_HEADER;
        let job = Job::new(header, len);
        // The guard has read this header (every held byte came through
        // it): the rest of the payload is checked here, read once.
        self.inner.trust_current_frame(job.utf8.is_some());
        self.job = Some(job);
    }

    /// Reads, then writes, the message being echoed. Ready(Ok): done (or
    /// the stream ended mid-frame, and its bytes are held for tungstenite).
    fn poll_job(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(job) = &mut self.job else {
            return Poll::Ready(Ok(()));
        };
        let mut ended = false;
        while job.reading() {
            let start = job.buf.len();
            if self.held_pos < self.held.len() {
                let n = job.left().min(self.held.len() - self.held_pos);
                job.buf
                    .extend_from_slice(&self.held[self.held_pos..self.held_pos + n]);
                self.held_pos += n;
            } else {
                let left = job.left();
                let n = ready!(tokio_util::io::poll_read_buf(
                    Pin::new(&mut self.inner),
                    cx,
                    &mut (&mut job.buf).limit(left),
                ))?;
                if n == 0 {
                    ended = true;
                    break;
                }
            }
            job.took(start)?;
        }
        if ended {
            // The stream ended mid-frame: tungstenite gets what came, as
            // it came, and reacts as it always did.
            if let Some(job) = self.job.take() {
                let mut arrived = job.into_arrived();
                arrived.extend_from_slice(&self.held[self.held_pos..]);
                self.held = arrived;
                self.held_pos = 0;
                self.frames.decided = true;
            }
            return Poll::Ready(Ok(()));
        }
        while job.written < job.buf.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &job.buf[job.written..]))
                .map_err(not_invalid_data)?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            job.written += n;
        }
        ready!(Pin::new(&mut self.inner).poll_flush(cx)).map_err(not_invalid_data)?;
        // The frame is echoed; what follows it is a new frame.
        self.job = None;
        self.frames.header = Some(([0; TAKEN_HEADER], 0));
        if self.held_pos == self.held.len() {
            self.held.clear();
            self.held_pos = 0;
        }
        Poll::Ready(Ok(()))
    }

    /// [`poll_job`](Self::poll_job); after an error (the connection is being
    /// failed, or is gone) the message is dropped and everything after it
    /// passes through, as tungstenite's would be after its error.
    fn poll_job_or_stop(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = self.poll_job(cx);
        if let Poll::Ready(Err(_)) = polled {
            self.job = None;
            self.held.clear();
            self.held_pos = 0;
            self.frames.head_left = usize::MAX;
        }
        polled
    }

    /// Finishes writing an echo before any write of tungstenite's.
    fn poll_echo_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &self.job {
            Some(job) if !job.reading() => self.poll_job_or_stop(cx),
            _ => Poll::Ready(Ok(())),
        }
    }
}

/// A failed write of an echo, as tungstenite would report a failed send: an
/// I/O error, never the `InvalidData` that stands for invalid UTF-8.
fn not_invalid_data(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::InvalidData {
        io::Error::other(e)
    } else {
        e
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for BulkEcho<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            if this.job.is_some() {
                ready!(this.poll_job_or_stop(cx))?;
                continue;
            }
            if this.held_pos < this.held.len() {
                if this.frames.at_boundary() && !this.frames.decided {
                    let avail = &this.held[this.held_pos..];
                    match candidate(avail, this.frames.fragmented) {
                        Candidate::Yes(len) if !this.write_blocked => {
                            this.start(len);
                            continue;
                        }
                        Candidate::Maybe => {
                            this.held.reserve(DECIDE_READ);
                            let n = ready!(tokio_util::io::poll_read_buf(
                                Pin::new(&mut this.inner),
                                cx,
                                &mut (&mut this.held).limit(DECIDE_READ),
                            ))?;
                            if n == 0 {
                                // The stream ended: what is held goes as it is.
                                this.frames.decided = true;
                            }
                            continue;
                        }
                        Candidate::Yes(_) | Candidate::No => this.frames.decided = true,
                    }
                }
                let avail = &this.held[this.held_pos..];
                let avail = &avail[..avail.len().min(buf.remaining())];
                let n = this.frames.scan(avail);
                buf.put_slice(&avail[..n]);
                this.held_pos += n;
                if this.held_pos == this.held.len() {
                    this.held.clear();
                    this.held_pos = 0;
                }
                if n > 0 {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            // Nothing held: read where tungstenite reads, and keep back what
            // follows a frame that may be one to take over.
            let before = buf.filled().len();
            ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
            let fresh = &buf.filled()[before..];
            if fresh.is_empty() {
                return Poll::Ready(Ok(()));
            }
            let n = this.frames.scan(fresh);
            if n < fresh.len() {
                this.held.extend_from_slice(&fresh[n..]);
                buf.set_filled(before + n);
            }
            if n > 0 {
                return Poll::Ready(Ok(()));
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for BulkEcho<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_echo_out(cx))?;
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if polled.is_pending() {
            self.write_blocked = true;
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_echo_out(cx))?;
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        match polled {
            Poll::Ready(Ok(())) => self.write_blocked = false,
            Poll::Pending => self.write_blocked = true,
            Poll::Ready(Err(_)) => {}
        }
        polled
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_echo_out(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::reference::{echo_on_tungstenite, gate::Replay};
    use crate::wire::frame::{encode_frame, FrameEncoding};
    use crate::wire::Opcode;

    const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";

    /// A client's frame: masked with a key that changes every byte.
    fn frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
        let enc = FrameEncoding::simple(Opcode(opcode), fin, Some([0x37, 0xfa, 0x21, 0x3d]));
        encode_frame(&enc, payload).expect("a frame of a test")
    }

    /// Text of `len` bytes, valid UTF-8 with two-byte code points in it.
    fn text(len: usize) -> Vec<u8> {
        let mut t: Vec<u8> = "aé".bytes().cycle().take(len / 3 * 3).collect();
        t.resize(len, b'a');
        t
    }

    fn binary(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    /// What the server writes back when a client writes `script` (after the
    /// request) through a pipe of `pipe` bytes and then ends its side:
    /// through the large-message layer, or (`layer` false) tungstenite alone.
    async fn exchange(script: &[u8], layer: bool, pipe: usize) -> Vec<u8> {
        let (client, server) = tokio::io::duplex(pipe);
        let head_len = layer.then_some(REQUEST.len());
        let server = tokio::spawn(echo_on_tungstenite(
            Replay::new(Vec::new(), server),
            head_len,
        ));
        let (mut rd, mut wr) = tokio::io::split(client);
        // The frames follow the response, as a client's do: tungstenite
        // refuses frames that come with the request.
        let mut out = Vec::new();
        let written = wr.write_all(REQUEST).await;
        assert!(written.is_ok(), "the request could not be written");
        while !out.windows(4).any(|w| w == b"\r\n\r\n") {
            let mut piece = [0u8; 256];
            match rd.read(&mut piece).await {
                Ok(n) if n > 0 => out.extend_from_slice(&piece[..n]),
                _ => panic!("no response to the request: {out:?}"),
            }
        }
        let script = script.to_vec();
        let writer = tokio::spawn(async move {
            let _ = wr.write_all(&script).await;
            let _ = wr.shutdown().await;
        });
        let read = tokio::time::timeout(Duration::from_secs(60), rd.read_to_end(&mut out)).await;
        assert!(read.is_ok(), "the server did not end the connection");
        let _ = writer.await;
        let _ = server.await;
        out
    }

    /// The scripts both ways must give the same bytes back.
    async fn same_as_tungstenite(script: &[u8], pipe: usize) -> Vec<u8> {
        let layered = exchange(script, true, pipe).await;
        let alone = exchange(script, false, pipe).await;
        assert!(
            layered == alone,
            "the layer answered {} bytes, tungstenite alone {}; first difference at {:?}",
            layered.len(),
            alone.len(),
            layered.iter().zip(&alone).position(|(a, b)| a != b)
        );
        layered
    }

    const BIG: usize = BULK_AT as usize + 3;

    #[tokio::test]
    async fn echoes_whole_messages_as_tungstenite_does() {
        let close = frame(8, true, &[0x03, 0xe8]);
        // a small text, a ping, the large binary and text, a close
        let mut script = frame(1, true, b"hello");
        script.extend(frame(9, true, b"p"));
        script.extend(frame(2, true, &binary(BIG)));
        script.extend(frame(1, true, &text(BIG + 1)));
        script.extend(&close);
        let out = same_as_tungstenite(&script, 64 * 1024).await;
        // the echo of the binary is in it, whole and in order
        let mut echo = vec![0x82, 127];
        echo.extend((BIG as u64).to_be_bytes());
        echo.extend(binary(BIG));
        let at = out.windows(echo.len()).position(|w| w == echo.as_slice());
        let pong = out.windows(3).position(|w| w == [0x8a, 1, b'p']);
        assert!(
            pong.is_some() && at.is_some() && pong < at,
            "{:?} {:?}",
            pong,
            at
        );
        // the same through a pipe that splits every header
        same_as_tungstenite(&script, 5).await;
    }

    #[tokio::test]
    async fn invalid_text_is_failed_as_before() {
        // the last code point cut short: failed at the end of the message
        let mut cut = text(BIG);
        cut.push(0xc3);
        let out = same_as_tungstenite(&frame(1, true, &cut), 64 * 1024).await;
        assert!(out.windows(2).any(|w| w == [0x03, 0xef]), "no close 1007");
        // an invalid byte in the middle, then more: failed at once
        let mut bad = text(BIG);
        bad[BIG / 2] = 0xff;
        same_as_tungstenite(&frame(1, true, &bad), 64 * 1024).await;
    }

    #[tokio::test]
    async fn frames_not_taken_over_read_as_before() {
        // a stream ending mid-frame
        let whole = frame(2, true, &binary(BIG));
        same_as_tungstenite(&whole[..BIG / 2], 64 * 1024).await;
        // a large first fragment, then its continuation
        let mut script = frame(2, false, &binary(BIG));
        script.extend(frame(0, true, b"end"));
        same_as_tungstenite(&script, 64 * 1024).await;
        // a whole large message where a continuation was due
        let mut script = frame(1, false, b"part");
        script.extend(frame(2, true, &binary(BIG)));
        same_as_tungstenite(&script, 64 * 1024).await;
        // a reserved bit, and an unmasked large frame
        let mut rsv = frame(2, true, &binary(BIG));
        rsv[0] |= 0x40;
        same_as_tungstenite(&rsv, 64 * 1024).await;
        let enc = FrameEncoding::simple(Opcode(2), true, None);
        let unmasked = encode_frame(&enc, &binary(BIG)).expect("a frame of a test");
        same_as_tungstenite(&unmasked, 64 * 1024).await;
    }

    /// Reads all a `BulkEcho` hands on (as tungstenite would) while a
    /// client writes `script` to it; returns that and what the client got.
    async fn through_layer(script: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let mut layer = BulkEcho::new(Utf8Guard::frames_only(server), Some(0));
        let (mut rd, mut wr) = tokio::io::split(client);
        let writer = tokio::spawn(async move {
            let _ = wr.write_all(&script).await;
            let _ = wr.shutdown().await;
        });
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let _ = rd.read_to_end(&mut got).await;
            got
        });
        let mut handed = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(60), layer.read_to_end(&mut handed));
        assert!(
            matches!(read.await, Ok(Ok(_))),
            "the layer did not read to the end"
        );
        drop(layer);
        let _ = writer.await;
        let echoed = reader.await.expect("the client's reader");
        (handed, echoed)
    }

    #[tokio::test]
    async fn takes_over_only_whole_large_messages() {
        let small = frame(1, true, b"x");
        let mut script = small.clone();
        script.extend(frame(2, true, &binary(BIG)));
        script.extend(&small);
        let (handed, echoed) = through_layer(script).await;
        // tungstenite sees the two small frames only; the large one is echoed
        assert_eq!(handed, [small.clone(), small].concat());
        assert_eq!(echoed.len(), ECHO_HEADER + BIG);
        assert_eq!(echoed[..2], [0x82, 127]);
        assert!(echoed[ECHO_HEADER..] == binary(BIG));
        // a large text message is taken over the same way
        let (handed, echoed) = through_layer(frame(1, true, &text(BIG))).await;
        assert!(handed.is_empty(), "{} bytes handed on", handed.len());
        assert_eq!(echoed[..2], [0x81, 127]);
        assert!(echoed[ECHO_HEADER..] == text(BIG));
        // one byte short of the threshold: handed on untouched
        let below = frame(2, true, &binary(BIG - 4));
        let (handed, echoed) = through_layer(below.clone()).await;
        assert!(handed == below && echoed.is_empty());
        // a stream ending mid-frame: what arrived is handed on as it came
        // (still masked), nothing echoed
        let whole = frame(2, true, &binary(BIG));
        let (handed, echoed) = through_layer(whole[..BIG / 2].to_vec()).await;
        assert!(
            handed == whole[..BIG / 2],
            "{} bytes handed on",
            handed.len()
        );
        assert!(echoed.is_empty());
    }

    #[test]
    fn candidates_are_judged_from_the_header_alone() {
        let mut h = frame(1, true, &[]);
        assert_eq!(candidate(&h, false), Candidate::No);
        h = vec![0x81, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4];
        assert_eq!(candidate(&h, false), Candidate::Yes(1 << 20));
        assert_eq!(candidate(&h, true), Candidate::No);
        assert_eq!(candidate(&h[..13], false), Candidate::Maybe);
        assert_eq!(candidate(&h[..1], false), Candidate::Maybe);
        h[0] = 0x01;
        assert_eq!(candidate(&h, false), Candidate::No);
        h[0] = 0x82;
        h[2..10].copy_from_slice(&(MAX_MESSAGE as u64).to_be_bytes());
        assert_eq!(candidate(&h, false), Candidate::No);
    }
}
