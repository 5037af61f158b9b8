//! Header blocks out of frames, for whoever reads one direction of an HTTP/2
//! connection (the raw client reads the server's, `serve`'s tap the
//! client's): a HEADERS frame and the CONTINUATIONs that follow it on its
//! stream are joined, bounded by a size limit, and each whole block is
//! decoded with that direction's HPACK decoder, whose dynamic table carries
//! from block to block (RFC 7541 2.3.2), so every block must pass through in
//! the order sent. A frame that breaks RFC 9113 6.10's rule that a block's
//! frames follow one another is named, not obeyed.

use super::frame::Frame;
use super::hpack::{self, Field, HpackError};

/// Why a header block could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("HPACK: {0}")]
    Hpack(#[from] HpackError),
    #[error("the header block on stream {stream_id} grew past {max} bytes")]
    TooLarge { stream_id: u32, max: usize },
    #[error("a {by} frame came while the header block on stream {stream_id} awaited CONTINUATION (RFC 9113 6.10)")]
    Interrupted { stream_id: u32, by: String },
    #[error(
        "CONTINUATION on stream {stream_id} without a header block to continue (RFC 9113 6.10)"
    )]
    UnexpectedContinuation { stream_id: u32 },
}

struct PendingBlock {
    stream_id: u32,
    /// The HEADERS frame's END_STREAM (a CONTINUATION has no such flag).
    end_stream: bool,
    bytes: Vec<u8>,
}

/// A whole header block, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub stream_id: u32,
    /// Whether the HEADERS frame that opened the block ended its stream.
    pub end_stream: bool,
    pub fields: Vec<Field>,
}

/// Joins and decodes the header blocks of one direction of a connection.
pub struct HeaderBlocks {
    hpack: hpack::Decoder,
    /// The most bytes of HPACK a block may take.
    max_block: usize,
    pending: Option<PendingBlock>,
}

impl HeaderBlocks {
    /// Blocks decoded by `hpack`, each at most `max_block` bytes of HPACK.
    pub fn new(hpack: hpack::Decoder, max_block: usize) -> HeaderBlocks {
        HeaderBlocks {
            hpack,
            max_block,
            pending: None,
        }
    }

    /// Takes the next frame of the direction. On the frame that ends a
    /// header block (HEADERS or CONTINUATION with END_HEADERS): the block
    /// decoded. On a frame that breaks the rules of header blocks: why.
    /// Otherwise None.
    pub fn frame(&mut self, frame: &Frame) -> Option<Result<Block, BlockError>> {
        let (stream_id, fragment, end, end_stream) = match frame {
            Frame::Headers {
                stream_id,
                end_stream,
                end_headers,
                block,
                ..
            } => {
                if let Some(pending) = self.pending.take() {
                    return Some(Err(BlockError::Interrupted {
                        stream_id: pending.stream_id,
                        by: frame.name(),
                    }));
                }
                (*stream_id, block, *end_headers, *end_stream)
            }
            Frame::Continuation {
                stream_id,
                end_headers,
                block,
            } => match &self.pending {
                Some(pending) if pending.stream_id == *stream_id => {
                    (*stream_id, block, *end_headers, pending.end_stream)
                }
                _ => {
                    self.pending = None;
                    return Some(Err(BlockError::UnexpectedContinuation {
                        stream_id: *stream_id,
                    }));
                }
            },
            other => {
                let pending = self.pending.take()?;
                return Some(Err(BlockError::Interrupted {
                    stream_id: pending.stream_id,
                    by: other.name(),
                }));
            }
        };
        let mut pending = self.pending.take().unwrap_or(PendingBlock {
            stream_id,
            end_stream,
            bytes: Vec::new(),
        });
        if pending.bytes.len() + fragment.len() > self.max_block {
            return Some(Err(BlockError::TooLarge {
                stream_id,
                max: self.max_block,
            }));
        }
        pending.bytes.extend_from_slice(fragment);
        if !end {
            self.pending = Some(pending);
            return None;
        }
        let decoded = self.hpack.decode(&pending.bytes);
        Some(decoded.map_err(BlockError::from).map(|fields| Block {
            stream_id,
            end_stream: pending.end_stream,
            fields,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_continued_keeps_the_end_stream_of_its_headers_frame() {
        let bytes = hpack::Encoder::default().block(&[Field::new(":status", "200")]);
        let (a, b) = bytes.split_at(1);
        for end_stream in [true, false] {
            let mut blocks = HeaderBlocks::new(hpack::Decoder::new(4096, 4096), 4096);
            let headers = Frame::Headers {
                stream_id: 1,
                end_stream,
                end_headers: false,
                priority: None,
                block: a.to_vec(),
                padding: None,
            };
            assert_eq!(blocks.frame(&headers), None);
            let continuation = Frame::Continuation {
                stream_id: 1,
                end_headers: true,
                block: b.to_vec(),
            };
            let block = blocks
                .frame(&continuation)
                .expect("a block")
                .expect("decoded");
            assert_eq!(block.end_stream, end_stream);
            assert_eq!(block.stream_id, 1);
            assert_eq!(block.fields, [Field::new(":status", "200")]);
        }
    }
}
