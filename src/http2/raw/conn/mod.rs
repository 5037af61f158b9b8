//! A tiny HTTP/2 client of wsspec's own over any byte stream (a
//! `run::Transport`, TCP, `tokio::io::duplex`): it sends the preface and a
//! SETTINGS, waits for the server's SETTINGS and acknowledges it, and
//! thereafter acknowledges every SETTINGS and answers every PING, which is
//! all RFC 9113 demands of an endpoint that only wants to look. Everything
//! else is the caller's: it sends whatever frames it likes (a HEADERS from
//! any header list, DATA after END_STREAM, raw bytes) and reads the
//! server's frames one by one with a timeout, each HEADERS with its
//! CONTINUATIONs decoded into its header list (HPACK state kept whether the
//! caller looks or not). No flow control, no stream states, no checks: the
//! point is to see what the server does.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::blocks::HeaderBlocks;
pub use super::blocks::{Block, BlockError};
use super::frame::{self, setting, Frame, FrameDecoder, FrameError};
use super::hpack::{self, Field};

/// The header list limit when our SETTINGS name none.
pub const DEFAULT_MAX_HEADER_LIST: usize = 64 * 1024;

/// What went wrong on the connection.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("{doing}: {source}")]
    Io {
        doing: &'static str,
        source: std::io::Error,
    },
    #[error("no frame from the server within {waited:?} while waiting for {waiting_for}")]
    Timeout {
        waited: Duration,
        waiting_for: &'static str,
    },
    #[error("the server closed the connection while we waited for {waiting_for}")]
    Closed { waiting_for: &'static str },
    #[error("reading the server's frames: {0}")]
    Frame(#[from] FrameError),
    #[error("the server's first frame was {got}, not SETTINGS (RFC 9113 3.4)")]
    NotSettingsFirst { got: String },
}

/// One frame from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub frame: Frame,
    /// On the frame that ends a header block (HEADERS or CONTINUATION with
    /// END_HEADERS): the block decoded. On a frame that breaks the rules of
    /// header blocks: why.
    pub headers: Option<Result<Block, BlockError>>,
}

/// A raw HTTP/2 client connection.
pub struct RawClient<T> {
    io: T,
    frames: FrameDecoder,
    blocks: HeaderBlocks,
    server_settings: Vec<(u16, u32)>,
    read_buf: Vec<u8>,
}

impl<T: AsyncRead + AsyncWrite + Unpin> RawClient<T> {
    /// Sends the preface and SETTINGS with `settings`, reads the server's
    /// SETTINGS (its first frame, within `timeout`) and acknowledges it. Our
    /// SETTINGS_MAX_FRAME_SIZE, SETTINGS_HEADER_TABLE_SIZE and
    /// SETTINGS_MAX_HEADER_LIST_SIZE, when given, bound what we accept.
    pub async fn handshake(
        io: T,
        settings: &[(u16, u32)],
        timeout: Duration,
    ) -> Result<RawClient<T>, ConnError> {
        let ours = |id: u16| {
            settings
                .iter()
                .rev()
                .find(|(i, _)| *i == id)
                .map(|(_, v)| *v)
        };
        let max_frame = ours(setting::MAX_FRAME_SIZE).unwrap_or(frame::DEFAULT_MAX_FRAME_SIZE);
        let table = ours(setting::HEADER_TABLE_SIZE).map_or(4096, |v| v as usize);
        let max_header_list =
            ours(setting::MAX_HEADER_LIST_SIZE).map_or(DEFAULT_MAX_HEADER_LIST, |v| v as usize);
        let mut client = RawClient {
            io,
            frames: FrameDecoder::new(max_frame),
            blocks: HeaderBlocks::new(hpack::Decoder::new(table, max_header_list), max_header_list),
            server_settings: Vec::new(),
            read_buf: vec![0; 16 * 1024],
        };
        let mut hello = frame::PREFACE.to_vec();
        let settings = Frame::Settings {
            ack: false,
            params: settings.to_vec(),
        };
        settings.encode(&mut hello)?;
        client.send_bytes(&hello).await?;
        let first =
            client
                .next(timeout, "the server's SETTINGS")
                .await?
                .ok_or(ConnError::Closed {
                    waiting_for: "the server's SETTINGS",
                })?;
        match first.frame {
            Frame::Settings { ack: false, .. } => Ok(client),
            other => Err(ConnError::NotSettingsFirst { got: other.name() }),
        }
    }

    /// Every SETTINGS parameter the server set, each with its latest value,
    /// in the order first set (at most one entry an identifier, so a server
    /// repeating SETTINGS cannot grow it).
    pub fn server_settings(&self) -> &[(u16, u32)] {
        &self.server_settings
    }

    /// The server's last value for a SETTINGS parameter.
    pub fn server_setting(&self, id: u16) -> Option<u32> {
        self.server_settings
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, v)| *v)
    }

    /// Whether the server's SETTINGS allowed extended CONNECT (RFC 8441 3).
    pub fn extended_connect(&self) -> bool {
        self.server_setting(setting::ENABLE_CONNECT_PROTOCOL) == Some(1)
    }

    /// Writes bytes as they are and flushes.
    pub async fn send_bytes(&mut self, bytes: &[u8]) -> Result<(), ConnError> {
        self.io
            .write_all(bytes)
            .await
            .map_err(|source| ConnError::Io {
                doing: "writing to the server",
                source,
            })?;
        self.io.flush().await.map_err(|source| ConnError::Io {
            doing: "flushing to the server",
            source,
        })
    }

    /// Writes frames, in one write.
    pub async fn send(&mut self, frames: &[Frame]) -> Result<(), ConnError> {
        let mut bytes = Vec::new();
        for frame in frames {
            frame.encode(&mut bytes)?;
        }
        self.send_bytes(&bytes).await
    }

    /// Writes `fields` exactly as given (HPACK literals with new names, no
    /// Huffman) as one HEADERS frame with END_HEADERS, or HEADERS and
    /// CONTINUATIONs when the block is larger than the server's
    /// SETTINGS_MAX_FRAME_SIZE.
    pub async fn send_headers(
        &mut self,
        stream_id: u32,
        fields: &[Field],
        end_stream: bool,
    ) -> Result<(), ConnError> {
        let block = hpack::Encoder::default().block(fields);
        let max = self
            .server_setting(setting::MAX_FRAME_SIZE)
            .unwrap_or(frame::DEFAULT_MAX_FRAME_SIZE)
            .clamp(frame::DEFAULT_MAX_FRAME_SIZE, frame::MAX_FRAME_LEN) as usize;
        let mut pieces = block.chunks(max).peekable();
        let mut frames = vec![Frame::Headers {
            stream_id,
            end_stream,
            end_headers: false,
            priority: None,
            block: pieces.next().unwrap_or_default().to_vec(),
            padding: None,
        }];
        frames.extend(pieces.map(|piece| Frame::Continuation {
            stream_id,
            end_headers: false,
            block: piece.to_vec(),
        }));
        if let Some(Frame::Headers { end_headers, .. } | Frame::Continuation { end_headers, .. }) =
            frames.last_mut()
        {
            *end_headers = true;
        }
        self.send(&frames).await
    }

    /// The next frame from the server, within `timeout`; `Ok(None)` when the
    /// server closed the connection cleanly between frames. SETTINGS are
    /// acknowledged and PINGs answered before the frame is handed over.
    pub async fn next_frame(&mut self, timeout: Duration) -> Result<Option<Received>, ConnError> {
        self.next(timeout, "a frame").await
    }

    /// The next frame on `stream_id` within `timeout`, frames of other
    /// streams and of the connection handled and passed over.
    pub async fn next_on_stream(
        &mut self,
        stream_id: u32,
        timeout: Duration,
    ) -> Result<Option<Received>, ConnError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left, "a frame on the stream").await? {
                Some(received) if received.frame.stream_id() != stream_id => continue,
                other => return Ok(other),
            }
        }
    }

    /// Gives the byte stream back with the frame decoder, which may hold
    /// bytes the server sent after the last frame read.
    pub fn into_parts(self) -> (T, FrameDecoder) {
        (self.io, self.frames)
    }

    async fn next(
        &mut self,
        timeout: Duration,
        waiting_for: &'static str,
    ) -> Result<Option<Received>, ConnError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(frame) = self.frames.next_frame()? {
                return self.handle(frame).await.map(Some);
            }
            let read = tokio::time::timeout_at(deadline, self.io.read(&mut self.read_buf)).await;
            let n = match read {
                Err(_) => {
                    return Err(ConnError::Timeout {
                        waited: timeout,
                        waiting_for,
                    })
                }
                Ok(Err(source)) => {
                    return Err(ConnError::Io {
                        doing: "reading from the server",
                        source,
                    })
                }
                Ok(Ok(n)) => n,
            };
            if n == 0 {
                if self.frames.buffered() == 0 {
                    return Ok(None);
                }
                return Err(ConnError::Closed { waiting_for });
            }
            self.frames.push(&self.read_buf[..n]);
        }
    }

    async fn handle(&mut self, frame: Frame) -> Result<Received, ConnError> {
        match &frame {
            Frame::Settings { ack: false, params } => {
                for &(id, value) in params {
                    match self.server_settings.iter_mut().find(|(i, _)| *i == id) {
                        Some(known) => known.1 = value,
                        None => self.server_settings.push((id, value)),
                    }
                }
                self.send(&[Frame::Settings {
                    ack: true,
                    params: vec![],
                }])
                .await?;
            }
            Frame::Ping { ack: false, data } => {
                let pong = Frame::Ping {
                    ack: true,
                    data: *data,
                };
                self.send(&[pong]).await?;
            }
            _ => {}
        }
        let headers = self.blocks.frame(&frame);
        Ok(Received { frame, headers })
    }
}

#[cfg(test)]
mod tests;
