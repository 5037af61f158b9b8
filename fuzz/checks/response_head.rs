//! The `response_head` fuzz target's check, shared with `tests/fuzz_seeds.rs`
//! (both include this file with `#[path]`). The input's first byte picks a
//! head bound and how many of the following bytes are read sizes; the rest is
//! what a server sends. `wire::head::read_head` reads it through a reader that
//! hands out those sizes (no socket: a current-thread runtime polls it), and
//! must end as the bytes alone decide: a head that ends within the bound is
//! found whatever the sizes, none that ends past it (plus its blank line) is
//! taken, never more than the bound plus one read is kept,
//! and head and rest are exactly the bytes read. `wire::handshake::
//! parse_response` parses the raw bytes and the head read, and its result is
//! read as the session reads it (tokens, the extension response against
//! fixed offers). Nothing may panic.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, ReadBuf};
use wsspec::deflate::negotiate::{check_response, Offer};
use wsspec::wire::handshake::{find_head_end, parse_response, ResponseHead, MAX_HEADERS};
use wsspec::wire::head::{read_head, Head, HeadLimits, HeadReadError};

const MAX_BYTES: [usize; 8] = [0, 1, 4, 16, 64, 256, 4096, 16 * 1024];
/// `read_head`'s read buffer: how far past the bound one read can go.
const READ_CHUNK: usize = 4096;

pub fn check(input: &[u8]) {
    let Some((&control, rest)) = input.split_first() else {
        return;
    };
    let max_bytes = MAX_BYTES[usize::from(control & 7)];
    let (sizes, stream) = rest.split_at(usize::from(control >> 5).min(rest.len()));
    check_parse(stream);
    let got = read(stream, sizes, max_bytes);
    let end = find_head_end(stream);
    match got {
        Ok(Head { head, rest }) => {
            assert_eq!(Some(head.len()), end, "the head ends where the bytes say");
            // The blank line that ends it may follow the last byte allowed.
            assert!(head.len() <= max_bytes + 4, "a head past the bound taken");
            assert!(stream.starts_with(&head) && stream[head.len()..].starts_with(&rest));
            assert!(head.len() + rest.len() <= max_bytes + READ_CHUNK);
            check_parse(&head);
        }
        Err(HeadReadError::TooLarge { partial }) => {
            assert!(
                end.is_none_or(|e| e > max_bytes),
                "a head within bounds refused"
            );
            assert!(partial.len() > max_bytes && partial.len() <= max_bytes + READ_CHUNK);
            assert!(stream.starts_with(&partial));
            // An end in what was read lies past the bound, however the
            // bytes arrived (one long read included).
            assert!(find_head_end(&partial).is_none_or(|e| e > max_bytes + 4));
        }
        Err(HeadReadError::Closed { partial }) => {
            assert_eq!(end, None);
            assert!(partial.len() <= max_bytes, "the bound was not enforced");
            assert_eq!(partial, stream);
        }
        Err(e) => panic!("a reader that never fails nor waits gave {e:?}"),
    }
}

/// Parses `bytes` as a response head and reads it as the session does.
fn check_parse(bytes: &[u8]) {
    let Ok(head) = parse_response(bytes) else {
        return;
    };
    assert!(head.status <= 999);
    assert!(head.headers.len() <= MAX_HEADERS);
    for t in head.tokens("connection") {
        assert!(!t.is_empty() && t == t.trim() && t == t.to_ascii_lowercase());
    }
    let _ = head.values("upgrade").count();
    check_extensions(&head);
}

/// The extension response, judged against a plain offer and one with every
/// parameter, as the client-role session does.
fn check_extensions(head: &ResponseHead) {
    let values: Vec<&str> = head.values("sec-websocket-extensions").collect();
    if values.is_empty() {
        return;
    }
    let joined = values.join(", ");
    let plain = Offer::default();
    let full = Offer {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: Some(10),
        client_max_window_bits: Some(None),
    };
    for offers in [vec![plain], vec![full], vec![]] {
        if let Err(fault) = check_response(&offers, Some(&joined)) {
            let _ = fault.to_string();
        }
    }
}

/// Runs `read_head` over `stream` handed out in reads of `1 + sizes[i]`
/// bytes (cycling; all at once when `sizes` is empty).
fn read(stream: &[u8], sizes: &[u8], max_bytes: usize) -> Result<Head, HeadReadError> {
    let mut reader = Pieces {
        data: stream,
        sizes,
        next: 0,
    };
    let limits = HeadLimits {
        max_bytes,
        timeout: Duration::from_secs(3600),
    };
    RUNTIME.with(|rt| rt.block_on(read_head(&mut reader, Vec::new(), limits)))
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime");
}

/// A reader that is always ready, handing out its bytes in the given sizes.
struct Pieces<'a> {
    data: &'a [u8],
    sizes: &'a [u8],
    next: usize,
}

impl AsyncRead for Pieces<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let size = match self.sizes {
            [] => usize::MAX,
            sizes => 1 + usize::from(sizes[self.next % sizes.len()]),
        };
        self.next += 1;
        let n = size.min(self.data.len()).min(buf.remaining());
        let (now, later) = self.data.split_at(n);
        buf.put_slice(now);
        self.data = later;
        Poll::Ready(Ok(()))
    }
}
