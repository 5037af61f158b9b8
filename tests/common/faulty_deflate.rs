//! Deliberately faulty permessage-deflate (RFC 7692) peers for integration
//! tests: an echo server and an echo client, each on raw `std::net` sockets.
//!
//! Like `faulty.rs` and `faulty_client.rs`, this module shares no code with
//! `wsspec`: its own HTTP handshake, frame codec, `Sec-WebSocket-Extensions`
//! parser and negotiation, and its own compression on the `flate2` crate
//! directly (raw DEFLATE, a sync flush per message with the `00 00 ff ff`
//! tail stripped on sending and appended before inflating, RFC 7692 7.2.1
//! and 7.2.2). It never uses `wsspec::deflate`, so a fault in wsspec's
//! negotiation or inflater cannot cancel itself out. One OS thread per
//! server connection.
//!
//! With [`Fault::None`] the server is a correct permessage-deflate echo
//! server: it passes over invalid offers and accepts the first valid one,
//! honours `server_max_window_bits` 8 to 15 (8 with zlib's 9-bit window,
//! whose references stop at 250 bytes) and `server_no_context_takeover`,
//! compresses every message it echoes, in frames of at most [`FRAME_MAX`]
//! bytes with RSV1 on the first only, and fails the connection on RSV1
//! where RFC 7692 6.1 forbids it, on RSV2/RSV3, on a stream that does not
//! inflate (1007) and on text that is not UTF-8 once inflated (1007). A
//! message that inflates past [`MAX_MESSAGE`] is refused with 1009 (RFC 6455
//! 10.4). Every other [`Fault`] changes exactly one of these behaviours.
//!
//! [`drive`] runs Autobahn's fuzzing-server sequence against `wsspec serve`
//! with a client that offers plain `permessage-deflate`, checks the answer
//! as RFC 7692 7.1 and RFC 6455 9.1 ask, then echoes as the server does.
//! Every [`ClientFault`] but `None` changes exactly one of these behaviours.
//!
//! Both roles share the frame loop ([`Session`]), so a fault in what an
//! endpoint takes from its peer ([`Receive`]) is the same code as
//! `Fault::Receives(r)` and as `ClientFault::Receives(r)`.
//!
//! Include it from an integration test with
//! `#[path = "common/faulty_deflate.rs"] mod faulty_deflate;`.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use base64::Engine;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use sha1::{Digest, Sha1};

/// The single fault a server exhibits (or `None` for a correct server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Correct permessage-deflate echo server.
    None,
    /// Sets RSV1 on the continuation frames of a compressed message too, not
    /// only on its first frame (RFC 7692 6.1 forbids it). Only echoes longer
    /// than [`FRAME_MAX`] compressed bytes have continuation frames.
    Rsv1OnContinuation,
    /// Answers `server_no_context_takeover` when offered, but keeps its
    /// compression context from message to message (RFC 7692 7.1.1.1).
    IgnoresServerNoContextTakeover,
    /// Answers `server_max_window_bits=N` when offered, but compresses with
    /// a 15-bit window whatever N was (RFC 7692 7.1.2.1).
    WindowTooLarge,
    /// Takes `server_max_window_bits=7` and `client_max_window_bits=7` as
    /// valid and answers with them (RFC 7692 7.1.2: 8 to 15 only).
    AcceptsWindowBits7,
    /// Never declines an offer for an unknown parameter, a parameter given
    /// twice or a value on a flag parameter: it ignores the first, keeps the
    /// last of a duplicate and takes the flag as set (RFC 7692 7.1).
    AcceptsUnknownParams,
    /// Never declines an offer for a bad window size: a
    /// `server_max_window_bits` or `client_max_window_bits` whose value is
    /// not 8 to 15 in decimal (out of range, negative, not a number, or
    /// missing where one is needed) is ignored, as if the offer did not
    /// have it (RFC 7692 7.1, 7.1.2: the offer MUST be declined).
    IgnoresBadWindowValues,
    /// A fault in what it accepts from the client, the same in both roles.
    Receives(Receive),
}

/// The single fault a client exhibits (or `None` for a correct client).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientFault {
    /// Correct permessage-deflate echo client, offering plain
    /// `permessage-deflate`.
    None,
    /// An extension other than permessage-deflate in the answer is ignored
    /// instead of failing the connection (RFC 6455 9.1: the client did not
    /// offer it).
    AcceptsUnofferedExtension,
    /// `client_max_window_bits=N` in the answer is taken (and honoured)
    /// although the offer did not have the parameter (RFC 7692 7.1.2.2: the
    /// client MUST fail the connection). Its value is still checked.
    AcceptsUnofferedClientBits,
    /// A window parameter in the answer whose value is not 8 to 15 in
    /// decimal, or that has no value, is ignored instead of failing the
    /// connection (RFC 7692 7.1, 7.1.2). A valid `client_max_window_bits`
    /// is still refused, as the offer did not have it.
    IgnoresBadWindowValues,
    /// An unknown parameter in the answer is ignored, a value on a flag
    /// parameter is taken as the flag, and the last of a duplicate is kept,
    /// instead of failing the connection (RFC 7692 7.1).
    AcceptsUnknownParams,
    /// An answer with permessage-deflate twice is taken, the first one used,
    /// instead of failing the connection (RFC 7692 5.1: both use RSV1).
    AcceptsDeflateTwice,
    /// Refuses (fails the connection on) any parameter in the answer, as its
    /// offer had none, although a server may add `server_no_context_takeover`
    /// (RFC 7692 7.1.1.1), `client_no_context_takeover` (7.1.1.2) and
    /// `server_max_window_bits` (7.1.2.1) of its own accord.
    RefusesServerAdditions,
    /// Accepts `client_no_context_takeover` in the answer but keeps its
    /// compression context from message to message (RFC 7692 7.1.1.2).
    IgnoresClientNoContextTakeover,
    /// Sets RSV1 on the continuation frames of the compressed messages it
    /// sends, as [`Fault::Rsv1OnContinuation`] does (RFC 7692 6.1).
    Rsv1OnContinuation,
    /// A fault in what it accepts from the server, the same in both roles.
    Receives(Receive),
}

/// A fault in how an endpoint takes the frames and compressed messages it
/// receives; the same code in the server and the client role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receive {
    /// Once permessage-deflate is agreed, the RSV bits are not checked at
    /// all: RSV1 on a data message's first frame still means compressed,
    /// but RSV1 on a control frame or a continuation frame (RFC 7692 6.1)
    /// and RSV2 or RSV3 anywhere (RFC 6455 5.2: no extension gives them a
    /// meaning) are ignored instead of failing the connection.
    IgnoresRsvOnceAgreed,
    /// Its inflater exists from the start: a message with RSV1 is inflated
    /// even when permessage-deflate was not agreed (RFC 6455 5.2, RFC 7692
    /// 6: RSV1 has no meaning then and MUST fail the connection). It sends
    /// uncompressed.
    InflatesWithoutAgreement,
    /// Once permessage-deflate is agreed, every data message is inflated,
    /// RSV1 or not (RFC 7692 6: RSV1 clear means not compressed).
    InflatesEveryMessage,
    /// A compressed message that does not inflate is taken as its raw
    /// payload, as if RSV1 were clear, instead of failing the connection
    /// (RFC 7692 7.2.2). The inflater is reset for the next message.
    IgnoresInflateErrors,
    /// A compressed message that inflates to nothing is taken as a broken
    /// stream and fails the connection with 1007 (RFC 7692 7.2.3.6: the
    /// single byte 00 is an empty message).
    RefusesEmptyMessage,
    /// A compressed message whose DEFLATE stream ends with a final block
    /// (BFINAL) fails the connection with 1007 (RFC 7692 7.2.3.3 allows
    /// it).
    RefusesFinalBlock,
    /// A compressed message whose DEFLATE stream begins with a stored block
    /// holding data fails the connection with 1007, as an inflater that
    /// decodes Huffman blocks and the empty stored block of a sync flush
    /// only would (RFC 7692 7.2.3.4 allows stored blocks).
    RefusesStoredBlocks,
    /// Resets its inflater after every message although context takeover
    /// was agreed for the peer's direction (RFC 7692 7.2.3.2), so a message
    /// that refers back into an earlier one does not inflate (1007).
    ResetsInflater,
    /// Checks text for UTF-8 only when it arrives uncompressed: a
    /// compressed text message is echoed whatever it inflates to (RFC 6455
    /// 8.1: invalid UTF-8 MUST fail the connection).
    NoUtf8CheckAfterInflation,
    /// Takes the first empty stored block (`00 00 ff ff`) in a compressed
    /// payload for the end of the message, as an inflater that looks for
    /// the sync flush's tail instead of inflating the whole payload would
    /// (RFC 7692 7.2.2): a message with a flush inside is cut short.
    StopsAtFirstFlush,
}

impl Fault {
    fn receive(self) -> Option<Receive> {
        match self {
            Fault::Receives(r) => Some(r),
            _ => None,
        }
    }
}

impl ClientFault {
    fn receive(self) -> Option<Receive> {
        match self {
            ClientFault::Receives(r) => Some(r),
            _ => None,
        }
    }
}

/// The largest frame payload the peers send: a compressed message longer
/// than this is sent in several frames.
pub const FRAME_MAX: usize = 128;
/// The largest message (compressed on the wire, or once inflated) the peers
/// take; a larger one is refused with 1009.
pub const MAX_MESSAGE: usize = 16 << 20;
/// The zlib level the peers compress at.
const LEVEL: u32 = 6;
/// How long a read may wait for the peer before the connection is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the server drains input after closing its side, so its close
/// frame is not destroyed by an RST caused by unread data.
const DRAIN_AFTER_CLOSE: Duration = Duration::from_millis(100);
/// How long the client waits for the server to close TCP after the close.
const CLIENT_CLOSE_WAIT: Duration = Duration::from_secs(2);
const MAX_HEAD: usize = 16 * 1024;
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const PMD: &str = "permessage-deflate";

const OP_CONT: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;
const RSV1: u8 = 0x4;

const CLOSE_NORMAL: u16 = 1000;
const CLOSE_PROTOCOL: u16 = 1002;
const CLOSE_INVALID_DATA: u16 = 1007;
const CLOSE_TOO_BIG: u16 = 1009;

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

/// A running server; dropping it stops the accept loop. Connection threads
/// are detached and end on their own (close, EOF or read timeout).
pub struct FaultyDeflateServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept_thread: Option<JoinHandle<()>>,
}

impl FaultyDeflateServer {
    /// `ws://127.0.0.1:PORT/`
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }
}

impl Drop for FaultyDeflateServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the loop sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(handle) = self.accept_thread.take() {
            let _ = handle.join();
        }
    }
}

/// Starts a server with `fault` on an ephemeral loopback port.
pub fn start(fault: Fault) -> FaultyDeflateServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local_addr");
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let accept_thread = thread::Builder::new()
        .name(format!("deflate-accept-{fault:?}"))
        .spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else {
                    thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = thread::Builder::new()
                    .name("deflate-conn".into())
                    .spawn(move || serve_connection(stream, fault));
            }
        })
        .expect("spawn the accept thread");
    FaultyDeflateServer {
        addr,
        stop,
        accept_thread: Some(accept_thread),
    }
}

fn serve_connection(stream: TcpStream, fault: Fault) {
    let Some(mut conn) = Conn::new(stream) else {
        return;
    };
    let Some(head) = conn.read_head() else {
        return;
    };
    let Some((key, offers)) = parse_request(&head) else {
        let _ = conn.stream.write_all(
            b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        );
        conn.finish_as_server();
        return;
    };
    let negotiated = offers.as_deref().and_then(|v| negotiate(v, fault));
    let extension_line = negotiated
        .as_ref()
        .map(|n| format!("Sec-WebSocket-Extensions: {}\r\n", n.response))
        .unwrap_or_default();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extension_line}\r\n",
        accept_value(&key)
    );
    if conn.stream.write_all(response.as_bytes()).is_err() {
        return;
    }
    let pmd = negotiated.map(|n| Pmd::new(n.own_bits, n.own_resets));
    let mut session = Session::new(conn, true, pmd, fault.receive(), Rng::new());
    session.rsv1_on_continuation = fault == Fault::Rsv1OnContinuation;
    match session.run() {
        End::Io => {}
        End::Closed => session.conn.finish_as_server(),
        End::Fail(code) => {
            if session.send_close(code).is_ok() {
                session.conn.finish_as_server();
            }
        }
    }
}

/// The request's Sec-WebSocket-Key and its Sec-WebSocket-Extensions values
/// (joined), if it is a WebSocket upgrade this server takes.
fn parse_request(head: &str) -> Option<(String, Option<String>)> {
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    if request_line.next() != Some("GET") {
        return None;
    }
    let headers = parse_headers(lines);
    let values = |name: &str| values_of(&headers, name);
    if !has_token(&values("upgrade"), "websocket")
        || !has_token(&values("connection"), "upgrade")
        || values("sec-websocket-version") != ["13"]
    {
        return None;
    }
    let [key] = values("sec-websocket-key")[..] else {
        return None;
    };
    let decoded = base64::engine::general_purpose::STANDARD.decode(key).ok()?;
    if decoded.len() != 16 {
        return None;
    }
    let offers = values("sec-websocket-extensions");
    let offers = (!offers.is_empty()).then(|| offers.join(", "));
    Some((key.to_string(), offers))
}

/// What the server agreed: its answer and how it compresses.
struct Negotiated {
    /// The Sec-WebSocket-Extensions value of the 101.
    response: String,
    /// The window the server compresses with (9..=15 for zlib).
    own_bits: u8,
    /// Whether the server resets its compressor after each message.
    own_resets: bool,
}

/// A permessage-deflate offer's parameters as this server understands them.
#[derive(Default)]
struct Offer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: the parameter without a value.
    client_max_window_bits: Option<Option<u8>>,
}

/// Answers the first permessage-deflate offer this server takes as valid.
fn negotiate(header: &str, fault: Fault) -> Option<Negotiated> {
    let offers = parse_extensions(header)?;
    let offer = offers
        .iter()
        .filter(|e| e.name.eq_ignore_ascii_case(PMD))
        .find_map(|e| read_offer(&e.params, fault))?;
    let mut response = PMD.to_string();
    if offer.server_no_context_takeover {
        response.push_str("; server_no_context_takeover");
    }
    if offer.client_no_context_takeover {
        response.push_str("; client_no_context_takeover");
    }
    if let Some(bits) = offer.server_max_window_bits {
        response.push_str(&format!("; server_max_window_bits={bits}"));
    }
    // A correct server never limits the client's window; this one echoes
    // the 7 it took as valid.
    if fault == Fault::AcceptsWindowBits7 && offer.client_max_window_bits == Some(Some(7)) {
        response.push_str("; client_max_window_bits=7");
    }
    // zlib's smallest raw window is 9 bits; its references stop at 250
    // bytes, within an 8-bit (256-byte) window.
    let own_bits = match (fault, offer.server_max_window_bits) {
        (Fault::WindowTooLarge, _) | (_, None) => 15,
        (_, Some(bits)) => bits.max(9),
    };
    Some(Negotiated {
        response,
        own_bits,
        own_resets: offer.server_no_context_takeover
            && fault != Fault::IgnoresServerNoContextTakeover,
    })
}

/// Validates one offer's parameters (RFC 7692 7.1); `None` declines it.
fn read_offer(params: &[(String, Option<String>)], fault: Fault) -> Option<Offer> {
    let lenient = fault == Fault::AcceptsUnknownParams;
    let mut offer = Offer::default();
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in params {
        let name = name.to_ascii_lowercase();
        if seen.contains(&name) && !lenient {
            return None;
        }
        let bits = |v: &str| window_bits(v, fault == Fault::AcceptsWindowBits7);
        match name.as_str() {
            "server_max_window_bits" | "client_max_window_bits"
                if fault == Fault::IgnoresBadWindowValues
                    && bad_offered_window(&name, value.as_deref()) => {}
            "server_no_context_takeover" | "client_no_context_takeover" => {
                if value.is_some() && !lenient {
                    return None;
                }
                if name.starts_with("server") {
                    offer.server_no_context_takeover = true;
                } else {
                    offer.client_no_context_takeover = true;
                }
            }
            "server_max_window_bits" => {
                offer.server_max_window_bits = Some(bits(value.as_deref()?)?);
            }
            "client_max_window_bits" => {
                offer.client_max_window_bits = Some(match value {
                    Some(v) => Some(bits(v)?),
                    None => None,
                });
            }
            _ if lenient => {}
            _ => return None,
        }
        seen.push(name);
    }
    Some(offer)
}

/// Whether an offer's window parameter has a value this server cannot take:
/// not 8 to 15 in decimal, or none for `server_max_window_bits` (RFC 7692
/// 7.1.2.1; `client_max_window_bits` may come without one, 7.1.2.2).
fn bad_offered_window(name: &str, value: Option<&str>) -> bool {
    match value {
        Some(v) => window_bits(v, false).is_none(),
        None => name == "server_max_window_bits",
    }
}

/// A window size: 8 to 15 in decimal without leading zeros (and 7 when
/// `seven` is allowed by a fault).
fn window_bits(value: &str, seven: bool) -> Option<u8> {
    let digits = !value.is_empty()
        && value.len() <= 2
        && value.bytes().all(|b| b.is_ascii_digit())
        && !value.starts_with('0');
    let bits: u8 = value.parse().ok().filter(|_| digits)?;
    ((8..=15).contains(&bits) || (seven && bits == 7)).then_some(bits)
}

fn accept_value(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize().as_slice())
}

// ---------------------------------------------------------------------------
// Headers and the extensions grammar (RFC 6455 9.1)
// ---------------------------------------------------------------------------

/// `Name: value` lines as (lower-case name, trimmed value); lines without a
/// colon are skipped.
fn parse_headers<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
    lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect()
}

fn values_of<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Whether a comma-separated header holds `token` (any letter case).
fn has_token(values: &[&str], token: &str) -> bool {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// One extension of a Sec-WebSocket-Extensions value.
struct Ext {
    name: String,
    params: Vec<(String, Option<String>)>,
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Splits `s` at `sep` outside double quotes.
fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Parses an extension list: `name; p; q=v; r="v", name2`. Quoted values
/// are unquoted and must then be tokens. `None` when it does not parse.
fn parse_extensions(value: &str) -> Option<Vec<Ext>> {
    let mut out = Vec::new();
    for element in split_outside_quotes(value, ',') {
        if element.trim().is_empty() {
            continue;
        }
        let mut parts = split_outside_quotes(element, ';').into_iter();
        let name = parts.next().unwrap_or_default().trim();
        if !is_token(name) {
            return None;
        }
        let mut params = Vec::new();
        for p in parts {
            let (pname, pvalue) = match p.split_once('=') {
                Some((n, v)) => (n.trim(), Some(unquote(v.trim())?)),
                None => (p.trim(), None),
            };
            if !is_token(pname) {
                return None;
            }
            params.push((pname.to_string(), pvalue));
        }
        out.push(Ext {
            name: name.to_string(),
            params,
        });
    }
    Some(out)
}

/// A parameter value: a token, or a quoted string whose content is one.
fn unquote(v: &str) -> Option<String> {
    let text = match v.strip_prefix('"') {
        Some(rest) => {
            let inner = rest.strip_suffix('"')?;
            let mut text = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                text.push(if c == '\\' { chars.next()? } else { c });
            }
            text
        }
        None => v.to_string(),
    };
    is_token(&text).then_some(text)
}

// ---------------------------------------------------------------------------
// Compression (flate2 directly, raw DEFLATE)
// ---------------------------------------------------------------------------

/// One direction's compressor and the other direction's inflater.
struct Pmd {
    deflater: Compress,
    /// Reset the compressor after each message (no context takeover).
    resets: bool,
    inflater: Decompress,
}

impl Pmd {
    fn new(own_bits: u8, resets: bool) -> Pmd {
        Pmd {
            deflater: Compress::new_with_window_bits(
                Compression::new(LEVEL),
                false,
                own_bits.clamp(9, 15),
            ),
            resets,
            // A 15-bit window inflates a stream of any smaller window too,
            // and keeping the history is safe whether or not the peer reset
            // its own context.
            inflater: Decompress::new_with_window_bits(false, 15),
        }
    }

    /// One message's payload: deflated with a sync flush whose `00 00 ff ff`
    /// is removed (RFC 7692 7.2.1). An empty message is the single byte 00
    /// (7.2.3.6), which leaves the compressor alone.
    fn compress(&mut self, data: &[u8]) -> Vec<u8> {
        if data.is_empty() {
            return vec![0];
        }
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let start = self.deflater.total_in();
        loop {
            let consumed = (self.deflater.total_in() - start) as usize;
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(4096));
            }
            self.deflater
                .compress_vec(&data[consumed..], &mut out, FlushCompress::Sync)
                .expect("in-memory raw deflate with valid parameters does not fail");
            let all_in = (self.deflater.total_in() - start) as usize == data.len();
            // The flush is complete once zlib stops with output room to spare.
            if all_in && out.len() < out.capacity() {
                break;
            }
        }
        assert!(
            out.ends_with(&[0, 0, 0xff, 0xff]),
            "a sync flush ends with an empty stored block"
        );
        out.truncate(out.len() - 4);
        if self.resets {
            self.deflater.reset();
        }
        out
    }

    /// Inflates one message's payload with `00 00 ff ff` appended (RFC 7692
    /// 7.2.2). A stream that does not inflate fails with 1007; one that
    /// inflates past [`MAX_MESSAGE`] with 1009. A final block (BFINAL, 7.2.3.3)
    /// ends the DEFLATE stream: the next message starts a new one.
    fn inflate(&mut self, payload: &[u8]) -> Result<Inflated, u16> {
        let mut input = Vec::with_capacity(payload.len() + 4);
        input.extend_from_slice(payload);
        input.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let mut out: Vec<u8> = Vec::with_capacity((payload.len() * 4).clamp(64, 1 << 20));
        let start = self.inflater.total_in();
        let mut final_block = false;
        loop {
            let consumed = (self.inflater.total_in() - start) as usize;
            if out.len() > MAX_MESSAGE {
                return Err(CLOSE_TOO_BIG);
            }
            if out.capacity() - out.len() < 1024 {
                out.reserve(out.capacity().clamp(4096, 4 << 20));
            }
            let (in_before, out_before) = (self.inflater.total_in(), self.inflater.total_out());
            let status = self
                .inflater
                .decompress_vec(&input[consumed..], &mut out, FlushDecompress::Sync)
                .map_err(|_| CLOSE_INVALID_DATA)?;
            if status == Status::StreamEnd {
                self.inflater.reset(false);
                final_block = true;
                break;
            }
            let all_in = (self.inflater.total_in() - start) as usize == input.len();
            if all_in && out.len() < out.capacity() {
                break;
            }
            let stuck =
                self.inflater.total_in() == in_before && self.inflater.total_out() == out_before;
            if stuck && out.len() < out.capacity() {
                return Err(CLOSE_INVALID_DATA);
            }
        }
        if out.len() > MAX_MESSAGE {
            return Err(CLOSE_TOO_BIG);
        }
        Ok(Inflated {
            data: out,
            final_block,
        })
    }
}

/// One inflated message.
struct Inflated {
    data: Vec<u8>,
    /// Its DEFLATE stream ended with a final block (BFINAL).
    final_block: bool,
}

/// Whether a compressed payload's first DEFLATE block is a stored block
/// (BTYPE 00) with a length other than 0 (RFC 1951 3.2.4: after the 3
/// header bits, LEN starts at the next byte). A lone `00` is the empty
/// message (RFC 7692 7.2.3.6), not stored data.
fn starts_with_stored_data(payload: &[u8]) -> bool {
    match payload {
        [header, lo, hi, ..] => header & 0x06 == 0 && (*lo, *hi) != (0, 0),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Connection and frames
// ---------------------------------------------------------------------------

/// Why a session ended.
enum End {
    /// EOF, timeout or a socket error: just drop the socket.
    Io,
    /// The closing handshake is done (our close frame sent).
    Closed,
    /// Fail the connection with this close code.
    Fail(u16),
}

impl From<io::Error> for End {
    fn from(_: io::Error) -> End {
        End::Io
    }
}

/// A socket with a read buffer.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn new(stream: TcpStream) -> Option<Conn> {
        stream.set_nodelay(true).ok()?;
        stream.set_read_timeout(Some(READ_TIMEOUT)).ok()?;
        stream.set_write_timeout(Some(READ_TIMEOUT)).ok()?;
        Some(Conn {
            stream,
            buf: Vec::new(),
        })
    }

    /// Reads more bytes; EOF is an error.
    fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 64 * 1024];
        match self.stream.read(&mut chunk)? {
            0 => Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
        }
    }

    fn need(&mut self, n: usize) -> io::Result<()> {
        while self.buf.len() < n {
            self.fill()?;
        }
        Ok(())
    }

    /// The HTTP head through its empty line (CRLF line ends), without the
    /// empty line; the bytes after it stay in the buffer.
    fn read_head(&mut self) -> Option<String> {
        let end = loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p;
            }
            if self.buf.len() > MAX_HEAD || self.fill().is_err() {
                return None;
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        Some(head)
    }

    /// Reads one whole frame, unmasked. A payload over [`MAX_MESSAGE`] is
    /// refused before it is read.
    fn read_frame(&mut self) -> Result<Frame, End> {
        self.need(2)?;
        let (b0, b1) = (self.buf[0], self.buf[1]);
        let (len, mut at) = match b1 & 0x7f {
            126 => {
                self.need(4)?;
                (u64::from(u16::from_be_bytes([self.buf[2], self.buf[3]])), 4)
            }
            127 => {
                self.need(10)?;
                let mut b = [0u8; 8];
                b.copy_from_slice(&self.buf[2..10]);
                (u64::from_be_bytes(b), 10)
            }
            n => (u64::from(n), 2),
        };
        if len > MAX_MESSAGE as u64 {
            return Err(End::Fail(CLOSE_TOO_BIG));
        }
        let masked = b1 & 0x80 != 0;
        let key = if masked {
            self.need(at + 4)?;
            let k = [
                self.buf[at],
                self.buf[at + 1],
                self.buf[at + 2],
                self.buf[at + 3],
            ];
            at += 4;
            Some(k)
        } else {
            None
        };
        let total = at + len as usize;
        self.need(total)?;
        let mut payload = self.buf[at..total].to_vec();
        self.buf.drain(..total);
        if let Some(k) = key {
            apply_mask(&mut payload, k);
        }
        Ok(Frame {
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 0x7,
            opcode: b0 & 0x0f,
            masked,
            payload,
        })
    }

    /// The server closes TCP first: shut down the write side, then drain
    /// briefly so unread input does not turn the FIN into an RST.
    fn finish_as_server(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
        self.drain(DRAIN_AFTER_CLOSE);
    }

    /// Discards input until EOF, an error, or `limit` has passed.
    fn drain(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        let mut sink = [0u8; 16 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.stream.set_read_timeout(Some(left)).is_err() {
                return;
            }
            match self.stream.read(&mut sink) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }
}

struct Frame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    masked: bool,
    payload: Vec<u8>,
}

fn apply_mask(data: &mut [u8], key: [u8; 4]) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

fn encode_frame(
    out: &mut Vec<u8>,
    fin: bool,
    rsv: u8,
    opcode: u8,
    payload: &[u8],
    mask: Option<[u8; 4]>,
) {
    out.push(if fin { 0x80 } else { 0 } | (rsv & 0x7) << 4 | (opcode & 0x0f));
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(m | n as u8),
        n @ 126..=0xffff => {
            out.push(m | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(m | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let start = out.len();
    match mask {
        Some(k) => {
            out.extend_from_slice(&k);
            out.extend_from_slice(payload);
            apply_mask(&mut out[start + 4..], k);
        }
        None => out.extend_from_slice(payload),
    }
}

/// Close codes that may appear on the wire (RFC 6455 7.4, IANA registry).
fn close_code_valid(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// A data message being reassembled.
struct Message {
    opcode: u8,
    compressed: bool,
    data: Vec<u8>,
}

/// One WebSocket connection after the handshake, either role.
struct Session {
    conn: Conn,
    /// The server role: client frames must be masked, ours are not.
    server: bool,
    /// `Fault::Rsv1OnContinuation`, `ClientFault::Rsv1OnContinuation`.
    rsv1_on_continuation: bool,
    /// The receiving fault, if any.
    receive: Option<Receive>,
    /// Whether permessage-deflate was agreed.
    agreed: bool,
    /// The compressor and inflater: when agreed, or (inflater only) under
    /// [`Receive::InflatesWithoutAgreement`].
    pmd: Option<Pmd>,
    rng: Rng,
    /// Echo data messages (false: collect them, for the client's
    /// bookkeeping connections).
    echo: bool,
    got: Vec<Vec<u8>>,
}

impl Session {
    /// A session that echoes, with `pmd` when permessage-deflate was agreed.
    fn new(
        conn: Conn,
        server: bool,
        pmd: Option<Pmd>,
        receive: Option<Receive>,
        rng: Rng,
    ) -> Session {
        let agreed = pmd.is_some();
        let pmd = match receive {
            Some(Receive::InflatesWithoutAgreement) => pmd.or_else(|| Some(Pmd::new(15, false))),
            _ => pmd,
        };
        Session {
            conn,
            server,
            rsv1_on_continuation: false,
            receive,
            agreed,
            pmd,
            rng,
            echo: true,
            got: Vec::new(),
        }
    }

    /// Reads and handles frames until the connection ends.
    fn run(&mut self) -> End {
        let mut msg: Option<Message> = None;
        loop {
            if let Err(end) = self.step(&mut msg) {
                return end;
            }
        }
    }

    fn step(&mut self, msg: &mut Option<Message>) -> Result<(), End> {
        let f = self.conn.read_frame()?;
        self.check(&f, msg.is_some()).map_err(End::Fail)?;
        match f.opcode {
            OP_PING => return self.send_frames(&[(true, 0, OP_PONG, &f.payload)]),
            OP_PONG => return Ok(()),
            OP_CLOSE => return Err(self.answer_close(&f.payload)),
            OP_CONT => {
                let m = msg
                    .as_mut()
                    .expect("check() refuses a continuation outside a message");
                m.data.extend_from_slice(&f.payload);
                if m.data.len() > MAX_MESSAGE {
                    return Err(End::Fail(CLOSE_TOO_BIG));
                }
            }
            _ => {
                *msg = Some(Message {
                    opcode: f.opcode,
                    compressed: f.rsv & RSV1 != 0,
                    data: f.payload,
                });
            }
        }
        if !f.fin {
            return Ok(());
        }
        let m = msg.take().expect("a data frame belongs to a message");
        self.deliver(m)
    }

    /// The frame rules of RFC 6455 5 and RFC 7692 6.1; the close code to
    /// fail with when one is broken.
    fn check(&self, f: &Frame, in_message: bool) -> Result<(), u16> {
        let rsv1_allowed = self.pmd.is_some() && matches!(f.opcode, OP_TEXT | OP_BINARY);
        let allowed_rsv = match self.receive {
            Some(Receive::IgnoresRsvOnceAgreed) if self.agreed => 0x7,
            _ if rsv1_allowed => RSV1,
            _ => 0,
        };
        let broken = f.masked != self.server
            || f.rsv & !allowed_rsv != 0
            || matches!(f.opcode, 0x3..=0x7 | 0xb..=0xf)
            || (f.opcode >= OP_CLOSE && (!f.fin || f.payload.len() > 125))
            || (f.opcode == OP_CONT && !in_message)
            || (matches!(f.opcode, OP_TEXT | OP_BINARY) && in_message);
        if broken {
            Err(CLOSE_PROTOCOL)
        } else {
            Ok(())
        }
    }

    /// A whole message: inflated if compressed, checked, echoed (or kept).
    fn deliver(&mut self, m: Message) -> Result<(), End> {
        let receive = self.receive;
        let compressed =
            m.compressed || (self.agreed && receive == Some(Receive::InflatesEveryMessage));
        let data = if compressed {
            let pmd = self
                .pmd
                .as_mut()
                .expect("check() allows RSV1 only with an inflater");
            let refused = match receive {
                Some(Receive::RefusesStoredBlocks) => starts_with_stored_data(&m.data),
                _ => false,
            };
            if refused {
                return Err(End::Fail(CLOSE_INVALID_DATA));
            }
            let payload = match receive {
                Some(Receive::StopsAtFirstFlush) => m
                    .data
                    .windows(4)
                    .position(|w| w == [0, 0, 0xff, 0xff])
                    .map_or(&m.data[..], |at| &m.data[..at]),
                _ => &m.data[..],
            };
            let inflated = match pmd.inflate(payload) {
                Err(CLOSE_INVALID_DATA) if receive == Some(Receive::IgnoresInflateErrors) => {
                    pmd.inflater.reset(false);
                    Inflated {
                        data: m.data,
                        final_block: false,
                    }
                }
                other => other.map_err(End::Fail)?,
            };
            if receive == Some(Receive::ResetsInflater) {
                pmd.inflater.reset(false);
            }
            let refused = match receive {
                Some(Receive::RefusesEmptyMessage) => inflated.data.is_empty(),
                Some(Receive::RefusesFinalBlock) => inflated.final_block,
                _ => false,
            };
            if refused {
                return Err(End::Fail(CLOSE_INVALID_DATA));
            }
            inflated.data
        } else {
            m.data
        };
        let checks_utf8 = !compressed || receive != Some(Receive::NoUtf8CheckAfterInflation);
        if m.opcode == OP_TEXT && checks_utf8 && std::str::from_utf8(&data).is_err() {
            return Err(End::Fail(CLOSE_INVALID_DATA));
        }
        if !self.echo {
            self.got.push(data);
            return Ok(());
        }
        self.send_message(m.opcode, &data)
    }

    /// Sends a data message: compressed when agreed, in frames of at most
    /// [`FRAME_MAX`] bytes, RSV1 on the first (and, under the fault, on the
    /// others too).
    fn send_message(&mut self, opcode: u8, data: &[u8]) -> Result<(), End> {
        let pmd = match self.pmd.as_mut() {
            Some(pmd) if self.agreed => pmd,
            _ => return self.send_frames(&[(true, 0, opcode, data)]),
        };
        let compressed = pmd.compress(data);
        // compress() never returns an empty payload; one frame at least.
        let mut chunks: Vec<&[u8]> = compressed.chunks(FRAME_MAX).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        let last = chunks.len() - 1;
        let frames: Vec<(bool, u8, u8, &[u8])> = chunks
            .iter()
            .enumerate()
            .map(|(i, chunk)| {
                let rsv = if i == 0 || self.rsv1_on_continuation {
                    RSV1
                } else {
                    0
                };
                let op = if i == 0 { opcode } else { OP_CONT };
                (i == last, rsv, op, *chunk)
            })
            .collect();
        self.send_frames(&frames)
    }

    /// Writes frames (fin, rsv, opcode, payload) in one write, masked in
    /// the client role.
    fn send_frames(&mut self, frames: &[(bool, u8, u8, &[u8])]) -> Result<(), End> {
        let mut out = Vec::new();
        for &(fin, rsv, opcode, payload) in frames {
            let mask = (!self.server).then(|| self.rng.bytes::<4>());
            encode_frame(&mut out, fin, rsv, opcode, payload, mask);
        }
        self.conn.stream.write_all(&out)?;
        Ok(())
    }

    fn send_close(&mut self, code: u16) -> Result<(), End> {
        self.send_frames(&[(true, 0, OP_CLOSE, &code.to_be_bytes())])
    }

    /// Answers a close frame (validated) and ends the session.
    fn answer_close(&mut self, payload: &[u8]) -> End {
        let code = match payload {
            [] => CLOSE_NORMAL,
            [_] => return End::Fail(CLOSE_PROTOCOL),
            [hi, lo, reason @ ..] => {
                let code = u16::from_be_bytes([*hi, *lo]);
                if !close_code_valid(code) {
                    return End::Fail(CLOSE_PROTOCOL);
                }
                if std::str::from_utf8(reason).is_err() {
                    return End::Fail(CLOSE_INVALID_DATA);
                }
                code
            }
        };
        match self.send_close(code) {
            Ok(()) => End::Closed,
            Err(end) => end,
        }
    }
}

// ---------------------------------------------------------------------------
// The client: Autobahn's fuzzing-server sequence against `wsspec serve`
// ---------------------------------------------------------------------------

/// Runs `/getCaseCount`, every `/runCase`, then `/updateReports` with
/// `shutdownOnComplete=true` against `host` (`127.0.0.1:PORT`) as `agent`.
/// Every connection offers plain `permessage-deflate`.
pub fn drive(host: &str, agent: &str, fault: ClientFault) {
    let host = host.trim_start_matches("ws://").trim_end_matches('/');
    let mut rng = Rng::new();
    let count = client_session(host, "/getCaseCount", ClientFault::None, &mut rng, false)
        .first()
        .and_then(|t| String::from_utf8_lossy(t).trim().parse::<usize>().ok())
        .unwrap_or(0);
    assert!(count > 0, "getCaseCount gave no case count");
    for n in 1..=count {
        let path = format!("/runCase?case={n}&agent={agent}");
        client_session(host, &path, fault, &mut rng, true);
    }
    let path = format!("/updateReports?agent={agent}&shutdownOnComplete=true");
    client_session(host, &path, ClientFault::None, &mut rng, false);
}

/// One client connection: the handshake, then the frame loop (echoing, or
/// collecting messages when `echo` is false). An answer the client must
/// refuse ends it at once: the TCP connection is closed (RFC 6455 4.1 and
/// 9.1, RFC 7692 7.1: _Fail the WebSocket Connection_ before it opened).
fn client_session(
    host: &str,
    path: &str,
    fault: ClientFault,
    rng: &mut Rng,
    echo: bool,
) -> Vec<Vec<u8>> {
    let Some(stream) = TcpStream::connect(host).ok() else {
        return Vec::new();
    };
    let Some(mut conn) = Conn::new(stream) else {
        return Vec::new();
    };
    let key = base64::engine::general_purpose::STANDARD.encode(rng.bytes::<16>());
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: {PMD}\r\n\r\n"
    );
    if conn.stream.write_all(request.as_bytes()).is_err() {
        return Vec::new();
    }
    let Some(head) = conn.read_head() else {
        return Vec::new();
    };
    let Some(pmd) = check_answer(&head, &key, fault) else {
        return Vec::new(); // dropping the socket fails the connection
    };
    let mut session = Session::new(conn, false, pmd, fault.receive(), Rng(rng.next()));
    session.rsv1_on_continuation = fault == ClientFault::Rsv1OnContinuation;
    session.echo = echo;
    match session.run() {
        End::Io => {}
        End::Closed => session.conn.drain(CLIENT_CLOSE_WAIT),
        End::Fail(code) => {
            if session.send_close(code).is_ok() {
                session.conn.drain(CLIENT_CLOSE_WAIT);
            }
        }
    }
    session.got
}

/// The checks a client makes of the server's handshake (RFC 6455 4.1) and
/// of its extensions answer (RFC 6455 9.1, RFC 7692 7.1) to the offer of
/// plain `permessage-deflate`: `None` when it must fail the connection,
/// else what was agreed (`Some(None)`: no extension).
fn check_answer(head: &str, key: &str, fault: ClientFault) -> Option<Option<Pmd>> {
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    if status.split_whitespace().nth(1) != Some("101") {
        return None;
    }
    let headers = parse_headers(lines);
    let values = |name: &str| values_of(&headers, name);
    if !has_token(&values("upgrade"), "websocket")
        || !has_token(&values("connection"), "upgrade")
        || values("sec-websocket-accept") != [accept_value(key).as_str()]
        || !values("sec-websocket-protocol").is_empty()
    {
        return None;
    }
    let answer = values("sec-websocket-extensions").join(", ");
    let mut agreed: Option<Pmd> = None;
    for ext in parse_extensions(&answer)? {
        if !ext.name.eq_ignore_ascii_case(PMD) {
            if fault == ClientFault::AcceptsUnofferedExtension {
                continue;
            }
            return None; // not offered
        }
        if agreed.is_some() {
            if fault == ClientFault::AcceptsDeflateTwice {
                continue;
            }
            return None; // permessage-deflate twice (RFC 7692 5.1)
        }
        agreed = Some(read_answer(&ext.params, fault)?);
    }
    Some(agreed)
}

/// Validates the answer's parameters for an offer that had none.
fn read_answer(params: &[(String, Option<String>)], fault: ClientFault) -> Option<Pmd> {
    if fault == ClientFault::RefusesServerAdditions && !params.is_empty() {
        return None; // wrongly: a server may add parameters of its own
    }
    let lenient = fault == ClientFault::AcceptsUnknownParams;
    let mut seen: Vec<String> = Vec::new();
    let mut own_bits = 15;
    let mut own_resets = false;
    for (name, value) in params {
        let name = name.to_ascii_lowercase();
        if seen.contains(&name) && !lenient {
            return None;
        }
        let flag = value.is_none() || lenient;
        let bad_window = value
            .as_deref()
            .and_then(|v| window_bits(v, false))
            .is_none();
        match name.as_str() {
            "server_max_window_bits" | "client_max_window_bits"
                if fault == ClientFault::IgnoresBadWindowValues && bad_window => {}
            // The server may add these of its own accord (7.1.1.1, 7.1.1.2,
            // 7.1.2.1); the inflater keeps a 15-bit window anyway.
            "server_no_context_takeover" if flag => {}
            "client_no_context_takeover" if flag => {
                own_resets = fault != ClientFault::IgnoresClientNoContextTakeover;
            }
            "server_max_window_bits" => {
                window_bits(value.as_deref()?, false)?;
            }
            "client_max_window_bits" => {
                let bits = window_bits(value.as_deref()?, false)?;
                // 7.1.2.2: only in answer to an offer that had it.
                if fault != ClientFault::AcceptsUnofferedClientBits {
                    return None;
                }
                own_bits = bits;
            }
            _ if lenient => {}
            _ => return None,
        }
        seen.push(name);
    }
    Some(Pmd::new(own_bits, own_resets))
}

/// A small xorshift generator seeded from the OS-randomised hasher state
/// and the clock (masking keys and handshake keys).
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        Rng(h.finish() | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        out
    }
}
