//! A tap on the byte stream of an HTTP/2 connection wsspec serves, between
//! the socket and the `h2` crate, so that `serve --h2` sees each request's
//! header fields exactly as the client sent them, including the requests
//! `h2` refuses. Every byte passes through unchanged. The client's bytes are
//! read as frames (after the preface) with wsspec's own decoder, and every
//! header block is decoded in order with an HPACK decoder of its own (the
//! client-to-server direction's dynamic table depends on nothing else), so
//! the first block on each new stream, the request, is kept as sent until
//! the server claims it ([`TapLog::claim`]) when `h2` hands the request
//! over. The server's bytes are only walked for two frames: an RST_STREAM
//! with PROTOCOL_ERROR on a stream whose request was never claimed, or a
//! GOAWAY with PROTOCOL_ERROR while requests wait unclaimed, means `h2`
//! found the request malformed (RFC 9113 8.1.1) and dropped it; the tap then
//! hands it to the caller's [`Rejected`] hook. Memory is bounded: a header
//! block is at most the caller's limit, at most [`MAX_WAITING`] requests wait
//! unclaimed (the oldest is forgotten), and decoding stops for good at the
//! first frame or HPACK error (`h2` ends such a connection anyway); a request
//! the tap could not read is then seen only as `h2` reports it.

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::raw::blocks::HeaderBlocks;
use super::raw::frame::{self, kind, ErrorCode, FrameDecoder};
use super::raw::hpack::{self, Field};

/// The most requests kept unclaimed at once.
pub const MAX_WAITING: usize = 32;

/// The HPACK table size `h2`'s server allows its client (its
/// SETTINGS_HEADER_TABLE_SIZE, left at the default of RFC 9113 6.5.2).
const TABLE_SIZE: usize = 4096;

/// How the server dropped a request it found malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DroppedBy {
    /// RST_STREAM (PROTOCOL_ERROR) on the request's stream.
    StreamReset,
    /// GOAWAY (PROTOCOL_ERROR): the whole connection ended.
    ConnectionEnded,
}

/// A request the server dropped without handing it over, with its header
/// fields exactly as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub stream_id: u32,
    pub fields: Vec<Field>,
    pub by: DroppedBy,
}

/// What is told of each dropped request, at the moment the server's frame
/// that drops it is written (before the client can have read it).
pub type RejectedHook = Arc<dyn Fn(Rejected) + Send + Sync>;

/// The requests seen and not yet claimed, shared by the tap and the server.
#[derive(Clone)]
pub struct TapLog {
    state: Arc<Mutex<Waiting>>,
}

struct Waiting {
    requests: BTreeMap<u32, Vec<Field>>,
    hook: RejectedHook,
}

impl TapLog {
    /// The header fields of the request on `stream_id` as sent, taken out of
    /// the log; None when the tap did not read it.
    pub fn claim(&self, stream_id: u32) -> Option<Vec<Field>> {
        self.state.lock().ok()?.requests.remove(&stream_id)
    }

    fn keep(&self, stream_id: u32, fields: Vec<Field>) {
        if let Ok(mut state) = self.state.lock() {
            if state.requests.len() >= MAX_WAITING {
                state.requests.pop_first();
            }
            state.requests.insert(stream_id, fields);
        }
    }

    /// The server wrote RST_STREAM or GOAWAY: forgets what it ended and
    /// tells the hook of the requests it dropped as malformed.
    fn server_ended(&self, ended: Ended) {
        let (dropped, hook) = {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            let dropped = match ended {
                Ended::Stream { id, code } => state
                    .requests
                    .remove(&id)
                    .filter(|_| code == ErrorCode::ProtocolError)
                    .map(|fields| vec![(id, fields, DroppedBy::StreamReset)])
                    .unwrap_or_default(),
                Ended::Connection {
                    last_stream_id,
                    code,
                } => {
                    // Streams up to the last one the server processed may
                    // still be handed over (RFC 9113 6.8); the ones after
                    // it never will be.
                    let unprocessed = state.requests.split_off(&(last_stream_id + 1));
                    if code == ErrorCode::ProtocolError {
                        unprocessed
                            .into_iter()
                            .map(|(id, fields)| (id, fields, DroppedBy::ConnectionEnded))
                            .collect()
                    } else {
                        Vec::new()
                    }
                }
            };
            (dropped, state.hook.clone())
        };
        for (stream_id, fields, by) in dropped {
            hook(Rejected {
                stream_id,
                fields,
                by,
            });
        }
    }
}

/// The byte stream with the tap on it.
pub struct RequestTap<S> {
    inner: S,
    log: TapLog,
    /// None once decoding has stopped.
    client: Option<ClientSide>,
    server: ServerWalk,
}

impl<S> RequestTap<S> {
    /// Taps `inner`, the connection from its first byte (the preface);
    /// header blocks of more than `max_block` bytes (HPACK, or decoded as
    /// RFC 9113 6.5.2 counts) stop the decoding.
    pub fn new(inner: S, max_block: usize, hook: RejectedHook) -> (RequestTap<S>, TapLog) {
        let log = TapLog {
            state: Arc::new(Mutex::new(Waiting {
                requests: BTreeMap::new(),
                hook,
            })),
        };
        let client = ClientSide {
            preface_seen: 0,
            frames: FrameDecoder::new(frame::DEFAULT_MAX_FRAME_SIZE),
            blocks: HeaderBlocks::new(hpack::Decoder::new(TABLE_SIZE, max_block), max_block),
            highest_stream: 0,
        };
        let tap = RequestTap {
            inner,
            log: log.clone(),
            client: Some(client),
            server: ServerWalk::default(),
        };
        (tap, log)
    }

    fn client_bytes(&mut self, bytes: &[u8]) {
        let Some(client) = &mut self.client else {
            return;
        };
        match client.read(bytes) {
            Ok(requests) => {
                for (id, fields) in requests {
                    self.log.keep(id, fields);
                }
            }
            Err(()) => self.client = None,
        }
    }
}

/// The decoding of the client's direction.
struct ClientSide {
    preface_seen: usize,
    frames: FrameDecoder,
    blocks: HeaderBlocks,
    /// The highest stream a request opened: a block on a higher one is a
    /// new request, any other a trailer.
    highest_stream: u32,
}

impl ClientSide {
    /// The requests whose header blocks these bytes completed; Err when
    /// decoding must stop.
    fn read(&mut self, mut bytes: &[u8]) -> Result<Vec<(u32, Vec<Field>)>, ()> {
        if self.preface_seen < frame::PREFACE.len() {
            let take = bytes.len().min(frame::PREFACE.len() - self.preface_seen);
            let expected = &frame::PREFACE[self.preface_seen..self.preface_seen + take];
            if &bytes[..take] != expected {
                return Err(());
            }
            self.preface_seen += take;
            bytes = &bytes[take..];
        }
        self.frames.push(bytes);
        let mut requests = Vec::new();
        loop {
            let frame = match self.frames.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => return Ok(requests),
                // A frame over the size limit ends decoding; a malformed one
                // is skipped unless it belongs to a header block.
                Err(frame::FrameError::Malformed { frame, .. })
                    if frame != "HEADERS" && frame != "CONTINUATION" =>
                {
                    continue
                }
                Err(_) => return Err(()),
            };
            match self.blocks.frame(&frame) {
                Some(Ok(block)) if block.stream_id > self.highest_stream => {
                    self.highest_stream = block.stream_id;
                    requests.push((block.stream_id, block.fields));
                }
                Some(Err(_)) => return Err(()),
                Some(Ok(_)) | None => {}
            }
        }
    }
}

/// How the server ended something, as its frames say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    Stream {
        id: u32,
        code: ErrorCode,
    },
    Connection {
        last_stream_id: u32,
        code: ErrorCode,
    },
}

/// A walk over the server's frames that looks only into RST_STREAM and
/// GOAWAY (their first 8 payload bytes) and skips everything else without
/// keeping it.
#[derive(Default)]
struct ServerWalk {
    head: [u8; frame::HEADER_LEN],
    head_len: usize,
    /// Payload bytes of the current frame still to come.
    left: usize,
    /// The first payload bytes of an RST_STREAM or GOAWAY.
    start: Vec<u8>,
    looking: bool,
}

impl ServerWalk {
    fn read(&mut self, mut bytes: &[u8]) -> Vec<Ended> {
        let mut ended = Vec::new();
        while !bytes.is_empty() {
            if self.head_len < frame::HEADER_LEN {
                let take = bytes.len().min(frame::HEADER_LEN - self.head_len);
                self.head[self.head_len..self.head_len + take].copy_from_slice(&bytes[..take]);
                self.head_len += take;
                bytes = &bytes[take..];
                if self.head_len < frame::HEADER_LEN {
                    break;
                }
                let h = self.head;
                self.left = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
                self.looking = matches!(h[3], kind::RST_STREAM | kind::GOAWAY);
                self.start.clear();
            } else {
                let take = bytes.len().min(self.left);
                if self.looking && self.start.len() < 8 {
                    let want = (8 - self.start.len()).min(take);
                    self.start.extend_from_slice(&bytes[..want]);
                }
                self.left -= take;
                bytes = &bytes[take..];
            }
            if self.head_len == frame::HEADER_LEN && self.left == 0 {
                if self.looking {
                    ended.extend(self.ended());
                }
                self.head_len = 0;
            }
        }
        ended
    }

    /// What the frame just walked ended, if it was well-formed.
    fn ended(&self) -> Option<Ended> {
        let h = self.head;
        let be32 = |b: &[u8]| {
            b.get(..4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        match h[3] {
            kind::RST_STREAM => Some(Ended::Stream {
                id: be32(&h[5..])? & 0x7fff_ffff,
                code: ErrorCode::from_u32(be32(&self.start)?),
            }),
            _ => Some(Ended::Connection {
                last_stream_id: be32(&self.start)? & 0x7fff_ffff,
                code: ErrorCode::from_u32(be32(self.start.get(4..)?)?),
            }),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for RequestTap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            // Decoded before `h2` sees the bytes: a request is in the log
            // before `h2` can hand it over or drop it.
            self.client_bytes(&buf.filled()[before..]);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for RequestTap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = polled {
            let written = data.get(..n).unwrap_or(data);
            for ended in self.server.read(written) {
                self.log.server_ended(ended);
            }
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::sync::mpsc;

    use super::*;
    use crate::http2::raw::conn::RawClient;
    use crate::http2::raw::frame::Frame;
    use crate::http2::server::{serve_connection_tapped, Handler};

    const WAIT: Duration = Duration::from_secs(5);

    fn request(extra: &[(&str, &str)]) -> Vec<Field> {
        let mut fields = vec![
            Field::new(":method", "CONNECT"),
            Field::new(":protocol", "websocket"),
            Field::new(":scheme", "http"),
            Field::new(":path", "/chat"),
            Field::new("x-b", "2"),
            Field::new("x-a", "1"),
        ];
        fields.extend(extra.iter().map(|(n, v)| Field::new(n, v)));
        fields
    }

    /// A request the handler was handed: its stream and its block as sent.
    type Handed = (u32, Option<Vec<Field>>);

    /// `h2` behind a tap over a duplex pipe of `pipe` bytes; what the
    /// handler was handed (stream, header block as sent) and what the hook
    /// was told.
    fn tapped_server(
        pipe: usize,
        max_block: usize,
    ) -> (
        tokio::io::DuplexStream,
        mpsc::UnboundedReceiver<Handed>,
        mpsc::UnboundedReceiver<Rejected>,
    ) {
        let (client_io, server_io) = tokio::io::duplex(pipe);
        let (handed, handed_rx) = mpsc::unbounded_channel();
        let (dropped, dropped_rx) = mpsc::unbounded_channel();
        let handler: Handler = Arc::new(move |incoming| {
            let handed = handed.clone();
            Box::pin(async move {
                let _ = handed.send((incoming.stream_id, incoming.as_sent.clone()));
                let _ = incoming.refuse(204);
            })
        });
        let hook: RejectedHook = Arc::new(move |rejected| {
            let _ = dropped.send(rejected);
        });
        tokio::spawn(serve_connection_tapped(
            server_io, None, None, handler, max_block, hook,
        ));
        (client_io, handed_rx, dropped_rx)
    }

    #[tokio::test]
    async fn requests_are_seen_as_sent_and_the_ones_h2_drops_reported() {
        let (io, mut handed, mut dropped) = tapped_server(64 * 1024, 64 * 1024);
        let mut client = RawClient::handshake(io, &[], WAIT).await.unwrap();
        // Well-formed: handed over, with the block in the order sent.
        client.send_headers(1, &request(&[]), true).await.unwrap();
        let (id, as_sent) = handed.recv().await.unwrap();
        assert_eq!((id, as_sent), (1, Some(request(&[]))));
        // A Connection field: RST_STREAM, and the hook has the request.
        let bad = request(&[("connection", "Upgrade")]);
        client.send_headers(3, &bad, true).await.unwrap();
        let reset = client.next_on_stream(3, WAIT).await.unwrap().unwrap();
        assert!(matches!(reset.frame, Frame::RstStream { .. }), "{reset:?}");
        let rejected = dropped.recv().await.unwrap();
        assert_eq!(
            rejected,
            Rejected {
                stream_id: 3,
                fields: bad,
                by: DroppedBy::StreamReset
            }
        );
        // The connection goes on; an uppercase name makes h2 end it.
        client.send_headers(5, &request(&[]), true).await.unwrap();
        assert_eq!(handed.recv().await.unwrap().0, 5);
        let upper = request(&[("X-Upper", "1")]);
        client.send_headers(7, &upper, true).await.unwrap();
        let rejected = dropped.recv().await.unwrap();
        assert_eq!(
            (rejected.stream_id, rejected.by, rejected.fields),
            (7, DroppedBy::ConnectionEnded, upper)
        );
        assert!(dropped.try_recv().is_err(), "nothing else was dropped");
    }

    #[tokio::test]
    async fn a_block_over_the_limit_stops_the_tap_and_h2_carries_on() {
        let (io, mut handed, _dropped) = tapped_server(64 * 1024, 200);
        let mut client = RawClient::handshake(io, &[], WAIT).await.unwrap();
        let long = "v".repeat(300);
        client
            .send_headers(1, &request(&[("x-long", &long)]), true)
            .await
            .unwrap();
        assert_eq!(handed.recv().await.unwrap(), (1, None));
        // The HPACK state is lost with the block: later requests are seen
        // only as h2 reports them.
        client.send_headers(3, &request(&[]), true).await.unwrap();
        assert_eq!(handed.recv().await.unwrap(), (3, None));
    }

    #[test]
    fn at_most_max_waiting_requests_wait_and_the_oldest_go_first() {
        let hook: RejectedHook = Arc::new(|_| {});
        let (_tap, log) = RequestTap::new(tokio::io::empty(), 1024, hook);
        for id in (1..=2 * MAX_WAITING as u32).map(|n| 2 * n - 1) {
            log.keep(id, vec![Field::new(":path", id.to_string())]);
        }
        assert_eq!(log.claim(1), None);
        let last = 4 * MAX_WAITING as u32 - 1;
        assert_eq!(
            log.claim(last),
            Some(vec![Field::new(":path", last.to_string())])
        );
        let waiting = log.state.lock().map(|s| s.requests.len()).unwrap_or(0);
        assert_eq!(waiting, MAX_WAITING - 1);
    }

    #[test]
    fn the_client_side_reads_requests_from_any_pieces_and_skips_trailers() {
        let mut bytes = frame::PREFACE.to_vec();
        let block = |fields: &[Field]| hpack::Encoder::default().block(fields);
        let first = block(&request(&[]));
        let (a, b) = first.split_at(10);
        for frame in [
            Frame::Settings {
                ack: false,
                params: vec![],
            },
            Frame::Headers {
                stream_id: 1,
                end_stream: false,
                end_headers: false,
                priority: None,
                block: a.to_vec(),
                padding: Some(3),
            },
            Frame::Continuation {
                stream_id: 1,
                end_headers: true,
                block: b.to_vec(),
            },
            Frame::Data {
                stream_id: 1,
                end_stream: false,
                data: vec![1; 100],
                padding: None,
            },
            // Trailers on stream 1: decoded, not a request.
            Frame::Headers {
                stream_id: 1,
                end_stream: true,
                end_headers: true,
                priority: None,
                block: block(&[Field::new("x-trailer", "t")]),
                padding: None,
            },
        ] {
            frame.encode(&mut bytes).unwrap();
        }
        let mut side = ClientSide {
            preface_seen: 0,
            frames: FrameDecoder::new(frame::DEFAULT_MAX_FRAME_SIZE),
            blocks: HeaderBlocks::new(hpack::Decoder::new(TABLE_SIZE, 4096), 4096),
            highest_stream: 0,
        };
        let mut requests = Vec::new();
        for piece in bytes.chunks(3) {
            requests.extend(side.read(piece).unwrap());
        }
        assert_eq!(requests, [(1, request(&[]))]);
        // Anything but the preface first stops it.
        let mut other = ClientSide {
            preface_seen: 0,
            ..side
        };
        assert!(other.read(b"GET / HTTP/1.1\r\n").is_err());
    }

    #[test]
    fn the_server_walk_finds_resets_and_goaways_in_any_pieces() {
        let mut bytes = Vec::new();
        for frame in [
            Frame::Data {
                stream_id: 1,
                end_stream: false,
                data: vec![7; 40],
                padding: None,
            },
            Frame::RstStream {
                stream_id: 9,
                code: ErrorCode::ProtocolError,
            },
            Frame::GoAway {
                last_stream_id: 9,
                code: ErrorCode::Cancel,
                debug: b"bye".to_vec(),
            },
        ] {
            frame.encode(&mut bytes).unwrap();
        }
        let mut walk = ServerWalk::default();
        let ended: Vec<Ended> = bytes.chunks(3).flat_map(|c| walk.read(c)).collect();
        assert_eq!(
            ended,
            [
                Ended::Stream {
                    id: 9,
                    code: ErrorCode::ProtocolError
                },
                Ended::Connection {
                    last_stream_id: 9,
                    code: ErrorCode::Cancel
                }
            ]
        );
    }
}
