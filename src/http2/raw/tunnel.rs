//! A case's WebSocket opened and carried by wsspec's own HTTP/2 (the RFC
//! 8441 group's cases): [`open`] sends the extended CONNECT exactly as the
//! case wrote it on a connection of its own, with the case's early frames as
//! DATA right after, and reads what the server made of it: a response, a
//! reset stream, a GOAWAY, or the connection's end. After a 2xx the stream
//! becomes a [`RawStream`], a transport like any other: each write goes out
//! as DATA, the server's DATA is read back (and its flow-control credit
//! returned at once), END_STREAM reads as the end of the stream, and
//! RST_STREAM or GOAWAY as a connection reset. Unlike the `h2` crate, it
//! keeps sending whatever the case writes after the stream was ended or
//! reset ([`Http2Control`]), since what a server does with such frames is
//! what some cases test; and it hands on DATA the server sends after a
//! reset, since a server that ignores RST_STREAM is what others test.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};
use tokio::sync::{mpsc, watch};

pub use super::conn::ConnError;
use super::conn::RawClient;
use super::frame::{self, setting, ErrorCode, Frame, FrameDecoder};
use super::hpack::Field;
use crate::run::{RawAnswer, RawTunnelOpened, RawTunnelRequest, StreamControl, Transport};
use crate::transcript::TlsSession;

/// The stream every raw case opens (the first a client may use).
pub const STREAM_ID: u32 = 1;

/// Our receive window, stream and connection alike: credit is returned
/// after every DATA frame, so this only has to cover one burst.
const WINDOW: u32 = 1 << 20;

/// Encoded writes waiting for the socket (the case's DATA, credit, SETTINGS
/// and PING acknowledgements): past it the case's writes and the reading of
/// the server's frames wait, so a server that stops reading holds no more
/// of wsspec's memory than this (at most 64 KiB a write).
const OUT_QUEUE: usize = 64;

/// How long a dropped stream's writer may go on flushing what was queued
/// before it is stopped (it only takes this long when the server does not
/// read).
const LINGER: Duration = Duration::from_secs(2);

/// Opens a stream on `io` (a fresh connection) with `request`: the
/// [`Tunnels::open_raw`](crate::run::Tunnels::open_raw) of the HTTP/2
/// connector.
pub async fn open(
    io: Box<dyn Transport>,
    request: RawTunnelRequest,
) -> Result<RawTunnelOpened, ConnError> {
    let peer = io.peer_addr();
    let tls = io.tls();
    let ours = [
        (setting::ENABLE_PUSH, 0),
        (setting::INITIAL_WINDOW_SIZE, WINDOW),
    ];
    let mut client = RawClient::handshake(io, &ours, request.timeout).await?;
    let extended_connect = client.extended_connect();
    if !extended_connect && !request.without_setting {
        return Ok(RawTunnelOpened {
            extended_connect,
            stream_id: STREAM_ID,
            answer: None,
            stream: None,
        });
    }
    let grow = Frame::WindowUpdate {
        stream_id: 0,
        increment: WINDOW,
    };
    client.send(&[grow]).await?;
    let fields: Vec<Field> = request
        .fields
        .iter()
        .map(|(n, v)| Field::new(n, v))
        .collect();
    client.send_headers(STREAM_ID, &fields, false).await?;
    if !request.early.is_empty() {
        client.send(&data_frames(&request.early, false)).await?;
    }
    let (answer, ended) = read_answer(&mut client, request.timeout).await?;
    let opens =
        matches!(&answer, RawAnswer::Response { status, .. } if (200..300).contains(status));
    let stream = opens.then(|| {
        let stream = RawStream::start(client, ended, peer, tls);
        let control = Box::new(stream.control()) as Box<dyn StreamControl>;
        (Box::new(stream) as Box<dyn Transport>, control)
    });
    Ok(RawTunnelOpened {
        extended_connect,
        stream_id: STREAM_ID,
        answer: Some(answer),
        stream,
    })
}

/// Reads frames until the request's answer; whether the answer also ended
/// the stream (END_STREAM on the response).
async fn read_answer(
    client: &mut RawClient<Box<dyn Transport>>,
    timeout: Duration,
) -> Result<(RawAnswer, bool), ConnError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(received) = client.next_frame(left).await? else {
            return Ok((RawAnswer::Closed, false));
        };
        match received.frame {
            Frame::GoAway { code, .. } => return Ok((RawAnswer::GoAway(code.to_string()), false)),
            Frame::RstStream { stream_id, code } if stream_id == STREAM_ID => {
                return Ok((RawAnswer::Reset(code.to_string()), false))
            }
            Frame::Data { stream_id, .. } if stream_id == STREAM_ID => {
                return Ok((
                    RawAnswer::Unreadable("DATA came before the response's HEADERS".into()),
                    false,
                ))
            }
            Frame::Headers { stream_id, .. } | Frame::Continuation { stream_id, .. }
                if stream_id == STREAM_ID =>
            {
                let (fields, ends) = match received.headers {
                    None => continue,
                    Some(Err(e)) => return Ok((RawAnswer::Unreadable(e.to_string()), false)),
                    Some(Ok(block)) => (block.fields, block.end_stream),
                };
                let status = fields
                    .iter()
                    .find(|f| f.name == b":status")
                    .and_then(|f| f.value_str().parse::<u16>().ok());
                match status {
                    None => {
                        return Ok((
                            RawAnswer::Unreadable(
                                "the response's HEADERS have no valid :status".into(),
                            ),
                            false,
                        ))
                    }
                    // 100 and 103 come before the answer (RFC 9113 8.1).
                    Some(s) if (100..200).contains(&s) && s != 101 => continue,
                    Some(status) => {
                        let fields = fields
                            .iter()
                            .filter(|f| f.name != b":status")
                            .map(|f| (f.name_str().into_owned(), f.value_str().into_owned()));
                        return Ok((
                            RawAnswer::Response {
                                status,
                                fields: fields.collect(),
                            },
                            ends,
                        ));
                    }
                }
            }
            _ => {}
        }
    }
}

/// DATA frames for `bytes` on the case's stream, at most the default frame
/// size each.
fn data_frames(bytes: &[u8], end_stream: bool) -> Vec<Frame> {
    let size = frame::DEFAULT_MAX_FRAME_SIZE as usize;
    let mut frames: Vec<Frame> = bytes
        .chunks(size)
        .map(|piece| Frame::Data {
            stream_id: STREAM_ID,
            end_stream: false,
            data: piece.to_vec(),
            padding: None,
        })
        .collect();
    match frames.last_mut() {
        Some(Frame::Data { end_stream: e, .. }) => *e = end_stream,
        _ if end_stream => frames.push(Frame::Data {
            stream_id: STREAM_ID,
            end_stream: true,
            data: Vec::new(),
            padding: None,
        }),
        _ => {}
    }
    frames
}

fn encode(frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        // Every frame here is well within the limits `encode` checks.
        let _ = f.encode(&mut out);
    }
    out
}

/// What a case does to its stream beyond writing to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    /// RST_STREAM with this code.
    Reset(ErrorCode),
    /// An empty DATA frame with END_STREAM.
    EndStream,
    /// The transport is gone: stop.
    Stop,
}

/// The case's handle on its stream's HTTP/2 frames.
#[derive(Debug, Clone)]
pub struct Http2Control(mpsc::UnboundedSender<Command>);

impl StreamControl for Http2Control {
    fn reset(&self) {
        let _ = self.0.send(Command::Reset(ErrorCode::Cancel));
    }

    fn end_stream(&self) {
        let _ = self.0.send(Command::EndStream);
    }
}

/// The case's WebSocket on a raw HTTP/2 stream.
pub struct RawStream {
    near: DuplexStream,
    /// Set when the server reset the stream, sent GOAWAY or dropped the
    /// connection without ending the stream.
    reset: Arc<AtomicBool>,
    control: mpsc::UnboundedSender<Command>,
    /// The task writing to the socket, stopped [`LINGER`] after the stream
    /// is dropped if it is still blocked then.
    writer: tokio::task::AbortHandle,
    peer: Option<SocketAddr>,
    tls: Option<TlsSession>,
}

impl RawStream {
    fn start(
        client: RawClient<Box<dyn Transport>>,
        ended: bool,
        peer: Option<SocketAddr>,
        tls: Option<TlsSession>,
    ) -> RawStream {
        let (near, far) = tokio::io::duplex(256 * 1024);
        let (far_read, mut far_write) = tokio::io::split(far);
        let (io, decoder) = client.into_parts();
        let (io_read, io_write) = tokio::io::split(io);
        let reset = Arc::new(AtomicBool::new(false));
        let (control, commands) = mpsc::unbounded_channel();
        let (out_tx, out_rx) = mpsc::channel::<Vec<u8>>(OUT_QUEUE);
        let (stop_tx, stop_rx) = watch::channel(false);
        let writer = tokio::spawn(write_frames(io_write, out_rx)).abort_handle();
        tokio::spawn(pump(far_read, commands, out_tx.clone(), stop_tx));
        let flag = reset.clone();
        tokio::spawn(async move {
            if ended {
                let _ = far_write.shutdown().await;
            }
            read_frames(io_read, decoder, far_write, out_tx, flag, stop_rx, ended).await;
        });
        RawStream {
            near,
            reset,
            control,
            writer,
            peer,
            tls,
        }
    }

    /// The handle for `http2:` steps.
    fn control(&self) -> Http2Control {
        Http2Control(self.control.clone())
    }
}

impl Drop for RawStream {
    fn drop(&mut self) {
        let _ = self.control.send(Command::Stop);
        // What was queued is flushed unless the server stopped reading:
        // then the writer, and with it the other two tasks, end here.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let writer = self.writer.clone();
            runtime.spawn(async move {
                tokio::time::sleep(LINGER).await;
                writer.abort();
            });
        }
    }
}

/// Writes encoded frames until every sender is gone.
async fn write_frames<W: AsyncWrite + Unpin>(mut io: W, mut out: mpsc::Receiver<Vec<u8>>) {
    while let Some(bytes) = out.recv().await {
        if io.write_all(&bytes).await.is_err() || io.flush().await.is_err() {
            break;
        }
    }
    let _ = io.shutdown().await;
}

/// What the case writes, as DATA; and its commands, each after everything
/// written before it.
async fn pump<R: AsyncRead + Unpin>(
    mut far: R,
    mut commands: mpsc::UnboundedReceiver<Command>,
    out: mpsc::Sender<Vec<u8>>,
    stop: watch::Sender<bool>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut writing = true;
    let mut ended = false;
    let mut stopping = false;
    while !stopping {
        let bytes = tokio::select! {
            biased;
            read = far.read(&mut buf), if writing => written(read, &buf, &mut writing, &mut ended),
            command = commands.recv() => {
                let mut bytes = Vec::new();
                // Whatever the case wrote before the command goes first.
                while writing {
                    let Some(read) = far.read(&mut buf).now_or_never() else {
                        break;
                    };
                    bytes.extend(written(read, &buf, &mut writing, &mut ended).unwrap_or_default());
                }
                match command {
                    Some(Command::Reset(code)) => bytes.extend(encode(&[Frame::RstStream {
                        stream_id: STREAM_ID,
                        code,
                    }])),
                    Some(Command::EndStream) => {
                        ended = true;
                        bytes.extend(encode(&data_frames(&[], true)));
                    }
                    Some(Command::Stop) | None => stopping = true,
                }
                Some(bytes)
            }
        };
        // Waits while the queue is full: the case's writes wait with it.
        if let Some(bytes) = bytes.filter(|b| !b.is_empty()) {
            if out.send(bytes).await.is_err() {
                break;
            }
        }
    }
    let _ = stop.send(true);
}

/// What a DATA frame took of the flow-control windows: its data, and its
/// padding with the length byte (RFC 9113 6.9.1).
fn flow_credit(data: &[u8], padding: Option<u8>) -> u32 {
    data.len() as u32 + padding.map_or(0, |p| u32::from(p) + 1)
}

/// The frames for one read of what the case wrote: its bytes as DATA, or,
/// when it stopped writing, an empty DATA with END_STREAM (once).
fn written(
    read: io::Result<usize>,
    buf: &[u8],
    writing: &mut bool,
    ended: &mut bool,
) -> Option<Vec<u8>> {
    match read {
        Ok(n) if n > 0 => Some(encode(&data_frames(&buf[..n], false))),
        _ => {
            *writing = false;
            (!std::mem::replace(ended, true)).then(|| encode(&data_frames(&[], true)))
        }
    }
}

/// The server's frames: DATA on the case's stream to the case (credit
/// returned at once), its end and resets as the end of the case's reads;
/// SETTINGS acknowledged and PINGs answered.
async fn read_frames<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    mut io: R,
    mut decoder: FrameDecoder,
    mut far: W,
    out: mpsc::Sender<Vec<u8>>,
    reset: Arc<AtomicBool>,
    mut stop: watch::Receiver<bool>,
    mut ended: bool,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let frame = match decoder.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => {
                let read = tokio::select! {
                    read = io.read(&mut buf) => read,
                    _ = stop.changed() => break,
                };
                match read {
                    Ok(n) if n > 0 => {
                        decoder.push(&buf[..n]);
                        continue;
                    }
                    _ => {
                        if !ended {
                            reset.store(true, Ordering::SeqCst);
                        }
                        break;
                    }
                }
            }
            Err(_) => {
                reset.store(true, Ordering::SeqCst);
                break;
            }
        };
        match frame {
            Frame::Data {
                stream_id,
                end_stream,
                data,
                padding,
            } if stream_id == STREAM_ID => {
                let credit = flow_credit(&data, padding);
                if credit > 0 {
                    let _ = out
                        .send(encode(&[
                            Frame::WindowUpdate {
                                stream_id: 0,
                                increment: credit,
                            },
                            Frame::WindowUpdate {
                                stream_id: STREAM_ID,
                                increment: credit,
                            },
                        ]))
                        .await;
                }
                if !ended && far.write_all(&data).await.is_err() {
                    break;
                }
                if end_stream && !ended {
                    ended = true;
                    let _ = far.shutdown().await;
                }
            }
            Frame::Data { data, padding, .. } => {
                let increment = flow_credit(&data, padding);
                if increment > 0 {
                    let _ = out
                        .send(encode(&[Frame::WindowUpdate {
                            stream_id: 0,
                            increment,
                        }]))
                        .await;
                }
            }
            Frame::Headers {
                stream_id,
                end_stream: true,
                ..
            } if stream_id == STREAM_ID && !ended => {
                ended = true;
                let _ = far.shutdown().await;
            }
            Frame::RstStream { stream_id, .. } if stream_id == STREAM_ID => {
                reset.store(true, Ordering::SeqCst);
                if !ended {
                    ended = true;
                    let _ = far.shutdown().await;
                }
            }
            Frame::GoAway { .. } if !ended => {
                reset.store(true, Ordering::SeqCst);
                ended = true;
                let _ = far.shutdown().await;
            }
            Frame::Settings { ack: false, .. } => {
                let _ = out
                    .send(encode(&[Frame::Settings {
                        ack: true,
                        params: vec![],
                    }]))
                    .await;
            }
            Frame::Ping { ack: false, data } => {
                let _ = out.send(encode(&[Frame::Ping { ack: true, data }])).await;
            }
            _ => {}
        }
    }
    if !ended {
        let _ = far.shutdown().await;
    }
}

impl AsyncRead for RawStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.near).poll_read(cx, buf) {
            Poll::Ready(Ok(())) if buf.filled().len() == before && buf.remaining() > 0 => {
                if self.reset.load(Ordering::SeqCst) {
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::ConnectionReset,
                        "the server reset the HTTP/2 stream (RST_STREAM or GOAWAY)",
                    )))
                } else {
                    Poll::Ready(Ok(()))
                }
            }
            other => other,
        }
    }
}

impl AsyncWrite for RawStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.near).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.near).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.near).poll_shutdown(cx)
    }
}

impl Transport for RawStream {
    fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    fn abort(self: Box<Self>) {
        let _ = self.control.send(Command::Reset(ErrorCode::Cancel));
    }

    fn tls(&self) -> Option<TlsSession> {
        self.tls.clone()
    }
}
