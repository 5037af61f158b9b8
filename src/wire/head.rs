//! The one bounded reader of HTTP heads, for every opening handshake (the
//! response wsspec reads as a client, the request it reads as a server) and
//! for `serve`'s and the reference server's requests: bytes are read until
//! the blank line that ends the head ([`find_head_end`]), never past
//! `max_bytes` of head and never longer than `timeout`, however the peer
//! splits its writes. Whatever went wrong, the bytes read so far come back
//! with the error so that they can be logged.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use super::handshake::find_head_end;

/// How much and how long a head may take.
#[derive(Debug, Clone, Copy)]
pub struct HeadLimits {
    /// Bytes read without the head ending before giving up.
    pub max_bytes: usize,
    /// Time for the whole head, from the call.
    pub timeout: Duration,
}

/// A complete head and the bytes that came after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The head, up to and including its blank line.
    pub head: Vec<u8>,
    /// Bytes read past the head (the peer's first WebSocket bytes, or its body).
    pub rest: Vec<u8>,
}

/// Why no complete head arrived; each carries the bytes read so far.
#[derive(Debug)]
pub enum HeadReadError {
    /// More than `max_bytes` arrived without the head ending.
    TooLarge { partial: Vec<u8> },
    /// The peer ended the connection first.
    Closed { partial: Vec<u8> },
    /// Reading failed.
    Io {
        error: std::io::Error,
        partial: Vec<u8>,
    },
    /// The head did not end within `timeout`.
    Timeout { partial: Vec<u8> },
}

/// Reads a head from `stream`, starting with the bytes in `already`.
pub async fn read_head<S: AsyncRead + Unpin>(
    stream: &mut S,
    already: Vec<u8>,
    limits: HeadLimits,
) -> Result<Head, HeadReadError> {
    let mut buf = already;
    let mut chunk = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limits.timeout;
    loop {
        if let Some(end) = find_head_end(&buf) {
            // The bound holds however the bytes arrived: a head that came in
            // one read is no longer than one that came a byte at a time
            // (the blank line that ends it may follow the last byte allowed).
            if end > limits.max_bytes + 4 {
                return Err(HeadReadError::TooLarge { partial: buf });
            }
            let rest = buf.split_off(end);
            return Ok(Head { head: buf, rest });
        }
        if buf.len() > limits.max_bytes {
            return Err(HeadReadError::TooLarge { partial: buf });
        }
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(0)) => return Err(HeadReadError::Closed { partial: buf }),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(error)) => {
                return Err(HeadReadError::Io {
                    error,
                    partial: buf,
                })
            }
            Err(_) => return Err(HeadReadError::Timeout { partial: buf }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    const LIMITS: HeadLimits = HeadLimits {
        max_bytes: 64,
        timeout: Duration::from_millis(200),
    };

    #[tokio::test]
    async fn a_head_split_across_writes_and_what_follows() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        let writer = tokio::spawn(async move {
            for piece in [&b"HTTP/1.1 101 OK\r"[..], b"\nX: y\r\n", b"\r\n\x81\x00"] {
                a.write_all(piece).await.expect("write");
                tokio::task::yield_now().await;
            }
            a
        });
        let got = read_head(&mut b, Vec::new(), LIMITS).await.expect("head");
        assert_eq!(got.head, b"HTTP/1.1 101 OK\r\nX: y\r\n\r\n");
        let _a = writer.await.expect("writer");
        assert!(got.rest.is_empty() || got.rest == b"\x81\x00");
    }

    #[tokio::test]
    async fn bounded_in_size_time_and_by_the_end_of_the_stream() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        a.write_all(&[b'x'; 100]).await.expect("write");
        match read_head(&mut b, Vec::new(), LIMITS).await {
            Err(HeadReadError::TooLarge { partial }) => assert_eq!(partial.len(), 100),
            other => panic!("{other:?}"),
        }
        let (mut a, mut b) = tokio::io::duplex(1024);
        a.write_all(b"HTTP/1.1").await.expect("write");
        match read_head(&mut b, Vec::new(), LIMITS).await {
            Err(HeadReadError::Timeout { partial }) => assert_eq!(partial, b"HTTP/1.1"),
            other => panic!("{other:?}"),
        }
        drop(a);
        match read_head(&mut b, b"GET".to_vec(), LIMITS).await {
            Err(HeadReadError::Closed { partial }) => assert_eq!(partial, b"GET"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_head_may_fill_the_bound_before_it_ends() {
        // Exactly max_bytes without the end is still within bounds: the end
        // that follows completes the head.
        let (mut a, mut b) = tokio::io::duplex(1024);
        a.write_all(&[b'x'; 64]).await.expect("write");
        let writer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            a.write_all(b"\r\n\r\n").await.expect("write");
            a
        });
        let limits = HeadLimits {
            max_bytes: 64,
            timeout: Duration::from_secs(5),
        };
        let got = read_head(&mut b, Vec::new(), limits).await.expect("head");
        assert_eq!(got.head.len(), 68);
        let _a = writer.await.expect("writer");
    }

    #[tokio::test]
    async fn a_long_head_that_arrives_in_one_read_is_refused_too() {
        for (len, ok) in [(64, true), (65, false), (1000, false)] {
            let (mut a, mut b) = tokio::io::duplex(4096);
            let mut head = vec![b'x'; len];
            head.extend_from_slice(b"\r\n\r\n");
            a.write_all(&head).await.expect("write");
            let got = read_head(&mut b, Vec::new(), LIMITS).await;
            match (got, ok) {
                (Ok(h), true) => assert_eq!(h.head.len(), len + 4),
                (Err(HeadReadError::TooLarge { partial }), false) => {
                    assert_eq!(partial.len(), len + 4)
                }
                (other, _) => panic!("{len}: {other:?}"),
            }
        }
    }
}
