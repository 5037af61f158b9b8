//! Deliberately faulty WebSocket echo servers for integration tests.
//!
//! This module owns a small, self-contained RFC 6455 echo server written on
//! raw `std::net` sockets: its own HTTP handshake parsing, its own frame codec
//! and one OS thread per connection. It deliberately shares no code with
//! `wsspec` (so a codec bug in the harness cannot cancel itself out) and does
//! not use tungstenite.
//!
//! With [`Fault::None`] the server is a strict, correct echo server. Every
//! other [`Fault`] variant changes exactly one behaviour, as described on the
//! variant, so tests can prove that the harness notices that fault.
//!
//! Include it from an integration test with
//! `#[path = "common/faulty.rs"] mod faulty;`.
#![allow(dead_code)]

use std::io::{self, Cursor, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use base64::Engine;
use sha1::{Digest, Sha1};

/// The single fault a [`FaultyServer`] exhibits (or `None` for a correct server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Correct strict echo server.
    None,
    /// Frames with reserved opcodes 3-7 / 0xB-0xF are echoed back as-is
    /// instead of failing the connection.
    EchoReservedOpcodes,
    /// RSV bits are not checked (frame treated as if RSV=0; a reserved-bit
    /// control frame is handled normally).
    IgnoreRsv,
    /// Pings are silently ignored (no pong).
    NoPong,
    /// Control frames with FIN=0 are accepted (a fragmented ping gets a pong
    /// for the joined payload; fragmented pong ignored) instead of failing.
    AcceptFragmentedControl,
    /// Control frames with payload > 125 bytes are accepted (a 126-byte ping
    /// gets a pong).
    AcceptOversizedControl,
    /// Messages longer than 65535 bytes are echoed truncated to their first
    /// 65535 bytes.
    TruncateLarge,
    /// Never sends a close frame and never closes TCP: ignores close frames,
    /// and on protocol errors it just stops reading (keeps the socket open
    /// until the client goes away).
    NeverClose,
    /// The server masks every frame it sends (forbidden for servers).
    MaskedFrames,
    /// A continuation frame with no message in progress is ignored instead of
    /// failing the connection.
    AcceptStrayContinuation,
    /// Fails the connection with close code 1000 instead of 1002 on protocol
    /// errors (1007 cases too).
    WrongCloseCode,
    /// A control frame arriving in the middle of a fragmented message fails
    /// the connection with 1002 (should be allowed).
    ControlMidMessageFails,
    /// Sec-WebSocket-Accept is computed wrongly (key hashed without the GUID).
    BadAcceptKey,
    /// Text messages are never checked for valid UTF-8 (invalid text is echoed).
    NoUtf8Check,
    /// Text is checked only once the message is complete, not as it arrives.
    Utf8CheckAtEndOnly,
    /// A close frame is answered by echoing its code, without validating the
    /// code or the reason.
    EchoAnyCloseCode,
    /// A 64-bit length is read from its first four bytes only (as if it
    /// were a 32-bit field), so any frame in the 64-bit form is misread.
    Misreads64BitLength,
    /// Frames from the client without a mask are processed as if masked with
    /// the zero key instead of failing the connection.
    AcceptUnmaskedFrames,
    /// A close frame without a body is answered with code 1005 on the wire
    /// (1005 means "no status received" and MUST NOT be sent).
    Close1005OnTheWire,
    /// After the closing handshake the server waits for the client to close
    /// TCP instead of closing it itself (RFC 6455 5.5.1: the server MUST
    /// close the underlying TCP connection immediately).
    KeepsTcpOpenAfterClose,
    /// A message of 1 MiB or more makes the server drop the connection: no
    /// close frame, just the end of TCP (a refusal without a close code).
    DropsLargeMessages,
    /// A close frame longer than 125 bytes is not refused but sent back
    /// unchanged, so the server itself sends an over-long control frame.
    EchoOverlongClose,
    /// A message of 1 MiB or more is refused with close 1009 ("too big"):
    /// allowed by RFC 6455 7.4.1, graded INFORMATIONAL by group 9.
    RefusesLargeWith1009,
    /// A message of 1 MiB or more is refused with close 1008 ("policy"):
    /// graded NON-STRICT by group 9 (1009 is the code for it).
    RefusesLargeWith1008,
    /// The accept value has the right letters with their case swapped (it is
    /// compared as a string, RFC 6455 4.1).
    SwapsAcceptCase,
    // Variants below are not faults: each changes one observable detail that
    // stays within the RFC, to prove that snapshots notice it.
    /// Every close frame the server sends carries the reason "bye".
    CloseReason,
    /// A close is always answered with 1000 instead of echoing its code.
    CloseReply1000,
    /// The 101 response carries one extra header (`X-Variant: yes`).
    ExtraHeader,
    /// A message that arrived in several frames is echoed in two frames.
    RefragmentEcho,
    /// A ping inside a fragmented message is answered after the message's echo.
    PongAfterEcho,
    /// A request whose method is not GET (e.g. POST) is accepted instead of
    /// refused with 400.
    AcceptPost,
    /// A Sec-WebSocket-Key that is valid base64 but decodes to a length other
    /// than 16 bytes (e.g. 20) is accepted; the accept value is computed from
    /// the key as sent.
    AcceptShortKey,
    /// Every Sec-WebSocket-Version refusal (a version other than 13, or a
    /// missing, repeated or non-numeric one) is a plain 400 without the
    /// `Sec-WebSocket-Version: 13` header (correct: 426, or 400 for a malformed
    /// one, both carrying that header).
    VersionRefusalWithoutHeader,
    /// Every 101 carries `Sec-WebSocket-Protocol: wsspec-unoffered`, whatever
    /// the client offered (correct: no subprotocol is ever selected).
    UnofferedSubprotocol,
    /// The 101 response has no `Upgrade` header.
    NoUpgradeHeader,
}

/// A running server; dropping it stops the accept loop.
///
/// Connection threads are detached: they end on their own (peer EOF, close
/// handshake, or read timeout).
pub struct FaultyServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept_thread: Option<JoinHandle<()>>,
}

impl FaultyServer {
    /// `ws://127.0.0.1:PORT/`
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }
}

impl Drop for FaultyServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the loop can observe the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(handle) = self.accept_thread.take() {
            let _ = handle.join();
        }
    }
}

/// Starts a server with `fault` on `127.0.0.1:0` (an ephemeral port).
pub fn start(fault: Fault) -> FaultyServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local_addr");
    let stop = Arc::new(AtomicBool::new(false));
    let stop_flag = Arc::clone(&stop);
    let accept_thread = thread::Builder::new()
        .name(format!("faulty-accept-{fault:?}"))
        .spawn(move || accept_loop(listener, fault, &stop_flag))
        .expect("spawn accept thread");
    FaultyServer {
        addr,
        stop,
        accept_thread: Some(accept_thread),
    }
}

fn accept_loop(listener: TcpListener, fault: Fault, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // e.g. out of file descriptors: back off instead of spinning.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        // If the OS refuses a new thread, the stream is simply dropped.
        let _ = thread::Builder::new()
            .name("faulty-conn".into())
            .spawn(move || serve_connection(stream, fault));
    }
}

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const MAX_HEAD: usize = 16 * 1024;
const MAX_MESSAGE: usize = 64 * 1024 * 1024;
const MAX_CONTROL_PAYLOAD: usize = 125;
const TRUNCATE_AT: usize = 65535;
/// `DropsLargeMessages`: the message size at which the connection is dropped.
const DROP_AT: u64 = 1 << 20;
/// Not a close code: `End::Fail(DROP)` ends the connection without a close frame.
const DROP: u16 = 0;
/// Idle read timeout for normal connections.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a `NeverClose` server holds an idle / failed connection open.
const NEVER_CLOSE_HOLD: Duration = Duration::from_secs(10);
/// How long we drain input after closing our side, so our close frame is not
/// destroyed by an RST caused by unread data.
const DRAIN_AFTER_CLOSE: Duration = Duration::from_millis(100);

const OP_CONT: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

const CLOSE_NORMAL: u16 = 1000;
const CLOSE_PROTOCOL: u16 = 1002;
const CLOSE_INVALID_DATA: u16 = 1007;
const CLOSE_POLICY: u16 = 1008;
const CLOSE_TOO_BIG: u16 = 1009;

fn is_control(opcode: u8) -> bool {
    opcode & 0x8 != 0
}

fn is_reserved_opcode(opcode: u8) -> bool {
    matches!(opcode, 0x3..=0x7 | 0xB..=0xF)
}

/// Close codes a peer may legitimately send (RFC 6455 §7.4 plus IANA 1012-1014).
fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

// ---------------------------------------------------------------------------
// Connection driver
// ---------------------------------------------------------------------------

/// Why a connection's frame loop ended.
enum End {
    /// Read/write error, EOF or timeout: just drop the socket.
    Io,
    /// The close handshake completed from our side: close frame already sent.
    Closed,
    /// Fail the WebSocket connection with this close code.
    Fail(u16),
}

impl From<io::Error> for End {
    fn from(_: io::Error) -> Self {
        End::Io
    }
}

fn serve_connection(stream: TcpStream, fault: Fault) {
    let _ = stream.set_nodelay(true);
    let timeout = if fault == Fault::NeverClose {
        NEVER_CLOSE_HOLD
    } else {
        READ_TIMEOUT
    };
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));

    let (head, leftover) = match read_request_head(&stream) {
        Ok(parts) => parts,
        Err(HeadError::TooLarge) => {
            refuse_handshake(&stream, Refusal::HeadTooLarge, fault);
            finish_tcp(&stream);
            return;
        }
        Err(HeadError::Io) => return,
    };
    if !answer_handshake(&stream, &head, fault) {
        finish_tcp(&stream);
        return;
    }
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    // Bytes that arrived after the request head are already frame data.
    let reader = io::BufReader::new(Cursor::new(leftover).chain(read_half));
    let mut session = Session::new(reader, fault);

    let mut writer = &stream;
    match session.run(&mut writer) {
        End::Io => {}
        End::Closed if fault == Fault::KeepsTcpOpenAfterClose => hold_open(&stream),
        End::Closed => finish_tcp(&stream),
        End::Fail(DROP) => {}
        End::Fail(code) => fail_connection(&stream, &mut session, code),
    }
}

/// Sends our close frame for a failure (or, for `NeverClose`, just stops
/// reading and keeps the socket open until the client leaves).
fn fail_connection(stream: &TcpStream, session: &mut Session, code: u16) {
    if session.fault == Fault::NeverClose {
        hold_open(stream);
        return;
    }
    let code = match (session.fault, code) {
        (Fault::WrongCloseCode, CLOSE_PROTOCOL | CLOSE_INVALID_DATA) => CLOSE_NORMAL,
        _ => code,
    };
    let mut writer = stream;
    if session.send_close(&mut writer, code).is_ok() {
        if session.fault == Fault::KeepsTcpOpenAfterClose {
            hold_open(stream);
        } else {
            finish_tcp(stream);
        }
    }
}

/// Server closes TCP first: shut down our write side, then drain briefly so
/// unread input does not turn our FIN into an RST, then drop.
fn finish_tcp(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    drain_until(stream, Instant::now() + DRAIN_AFTER_CLOSE);
}

/// `NeverClose`: discard input without processing it until the peer goes
/// away or the hold time passes.
fn hold_open(stream: &TcpStream) {
    drain_until(stream, Instant::now() + NEVER_CLOSE_HOLD);
}

/// Reads and discards until EOF, error, or `deadline`.
fn drain_until(mut stream: &TcpStream, deadline: Instant) {
    let mut sink = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

// ---------------------------------------------------------------------------
// Handshake
// ---------------------------------------------------------------------------
//
// Choices where RFC 7230 leaves the server a choice (Fault::None):
// - Line ends: CRLF, or a bare LF (RFC 7230 3.5 lets a recipient accept a
//   bare LF; this server does). A bare CR inside a line is refused with 400.
// - obs-fold (a header line starting with SP or HTAB, RFC 7230 3.2.4): refused
//   with 400, never unfolded. Whitespace between the request line and the
//   first header is refused the same way.
// - A request body (Content-Length other than 0, or any Transfer-Encoding):
//   refused with 400. RFC 6455 4.1 describes the handshake as a GET without a
//   body, so any bytes after the head must be WebSocket frames.
// - The request head, through its empty line, may be at most MAX_HEAD bytes;
//   longer is answered 431 and closed.
// - The request-target may be in origin-form (`/path?query`) or absolute-form
//   (`ws://host/path`, RFC 7230 5.3.2); any path is served.
// - Subprotocols are never selected (an echo server has none) and extension
//   offers are ignored, so the 101 carries neither header.

/// Why reading the request head failed.
enum HeadError {
    /// The head did not end within MAX_HEAD bytes.
    TooLarge,
    /// EOF, timeout or a socket error before the head ended.
    Io,
}

/// A refused handshake: which error response to send (then close).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    /// 400 Bad Request.
    BadRequest,
    /// Sec-WebSocket-Version missing, repeated, or not a version number:
    /// 400 with `Sec-WebSocket-Version: 13`.
    MalformedVersion,
    /// A well-formed version other than 13: 426 Upgrade Required with
    /// `Sec-WebSocket-Version: 13` (RFC 6455 4.2.2, 4.4).
    UnsupportedVersion,
    /// 431 Request Header Fields Too Large.
    HeadTooLarge,
}

/// Reads up to and including the empty line ending the request head (lines
/// end in CRLF or a bare LF). Returns the head (every line with its line
/// end, without the empty line) and any bytes after it.
fn read_request_head(mut stream: &TcpStream) -> Result<(String, Vec<u8>), HeadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    // Bytes of `buf` already searched for LF, and where the current line starts.
    let mut scanned = 0;
    let mut line_start = 0;
    loop {
        while scanned < buf.len().min(MAX_HEAD) {
            if buf[scanned] == b'\n' {
                let line = &buf[line_start..scanned];
                if line.is_empty() || line == b"\r" {
                    let head = String::from_utf8_lossy(&buf[..line_start]).into_owned();
                    return Ok((head, buf[scanned + 1..].to_vec()));
                }
                line_start = scanned + 1;
            }
            scanned += 1;
        }
        if buf.len() >= MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
        let n = stream.read(&mut chunk).map_err(|_| HeadError::Io)?;
        if n == 0 {
            return Err(HeadError::Io);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Validates the upgrade request and writes the 101 (returning `true`) or an
/// error response (returning `false`).
fn answer_handshake(mut stream: &TcpStream, head: &str, fault: Fault) -> bool {
    match validate_request(head, fault) {
        Ok(key) => {
            let accept = accept_key(&key, fault);
            let upgrade = if fault == Fault::NoUpgradeHeader {
                ""
            } else {
                "Upgrade: websocket\r\n"
            };
            let protocol = if fault == Fault::UnofferedSubprotocol {
                "Sec-WebSocket-Protocol: wsspec-unoffered\r\n"
            } else {
                ""
            };
            let variant = if fault == Fault::ExtraHeader {
                "X-Variant: yes\r\n"
            } else {
                ""
            };
            let response = format!(
                "HTTP/1.1 101 Switching Protocols\r\n\
                 {upgrade}\
                 Connection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {accept}\r\n\
                 {protocol}{variant}\r\n"
            );
            stream.write_all(response.as_bytes()).is_ok()
        }
        Err(refusal) => {
            refuse_handshake(stream, refusal, fault);
            false
        }
    }
}

/// Writes the error response for `refusal`. `VersionRefusalWithoutHeader`
/// answers every version refusal with a plain 400.
fn refuse_handshake(mut stream: &TcpStream, refusal: Refusal, fault: Fault) {
    let refusal = match refusal {
        Refusal::MalformedVersion | Refusal::UnsupportedVersion
            if fault == Fault::VersionRefusalWithoutHeader =>
        {
            Refusal::BadRequest
        }
        other => other,
    };
    let (status, headers) = match refusal {
        Refusal::BadRequest => ("400 Bad Request", "Connection: close\r\n"),
        Refusal::MalformedVersion => (
            "400 Bad Request",
            "Sec-WebSocket-Version: 13\r\nConnection: close\r\n",
        ),
        // RFC 7231 6.5.15: a 426 carries Upgrade, and RFC 7230 6.7: a sender
        // of Upgrade lists `upgrade` in Connection.
        Refusal::UnsupportedVersion => (
            "426 Upgrade Required",
            "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nConnection: Upgrade, close\r\n",
        ),
        Refusal::HeadTooLarge => (
            "431 Request Header Fields Too Large",
            "Connection: close\r\n",
        ),
    };
    let response = format!("HTTP/1.1 {status}\r\n{headers}Content-Length: 0\r\n\r\n");
    let _ = stream.write_all(response.as_bytes());
}

/// Checks the request head per RFC 6455 4.2.1 and RFC 7230. Returns the
/// client key (trimmed), or the refusal to send.
fn validate_request(head: &str, fault: Fault) -> Result<String, Refusal> {
    use Refusal::BadRequest;
    let head = head.strip_suffix('\n').unwrap_or(head);
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().unwrap_or("");
    check_request_line(request_line, fault)?;
    let headers = parse_headers(lines).ok_or(BadRequest)?;

    let all = |name: &'static str| {
        headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    // A header that must appear exactly once.
    let single = |name: &'static str| {
        let mut values = all(name);
        match (values.next(), values.next()) {
            (Some(v), None) => Some(v),
            _ => None,
        }
    };
    // Comma-separated token lists, possibly spread over several lines.
    let has_token = |name: &'static str, token: &str| {
        all(name)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };

    // RFC 7230 5.4: exactly one Host.
    if single("Host").is_none()
        || !has_token("Upgrade", "websocket")
        || !has_token("Connection", "upgrade")
    {
        return Err(BadRequest);
    }
    // No request body (see the choices above).
    if all("Transfer-Encoding").next().is_some() || all("Content-Length").any(|v| v != "0") {
        return Err(BadRequest);
    }

    let key = single("Sec-WebSocket-Key").ok_or(BadRequest)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(key)
        .map_err(|_| BadRequest)?;
    if decoded.len() != 16 && fault != Fault::AcceptShortKey {
        return Err(BadRequest);
    }

    let version = single("Sec-WebSocket-Version").ok_or(Refusal::MalformedVersion)?;
    match parse_version(version) {
        None => Err(Refusal::MalformedVersion),
        Some(13) => Ok(key.to_string()),
        Some(_) => Err(Refusal::UnsupportedVersion),
    }
}

/// `method SP request-target SP HTTP-version`, single spaces. Only GET
/// (`AcceptPost`: any method); origin-form or absolute-form targets; HTTP/1.1
/// or later.
fn check_request_line(line: &str, fault: Fault) -> Result<(), Refusal> {
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::BadRequest);
    };
    let method_ok = if fault == Fault::AcceptPost {
        is_token(method)
    } else {
        method == "GET"
    };
    if method_ok && is_request_target(target) && is_http_1_1_or_later(version) {
        Ok(())
    } else {
        Err(Refusal::BadRequest)
    }
}

/// RFC 7230 3.2.6 `token`: one or more tchar.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Origin-form (`/...`) or absolute-form (`scheme://...`, RFC 7230 5.3.2),
/// visible ASCII only.
fn is_request_target(target: &str) -> bool {
    if target.is_empty() || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    if target.starts_with('/') {
        return true;
    }
    let Some((scheme, rest)) = target.split_once("://") else {
        return false;
    };
    let mut scheme_bytes = scheme.bytes();
    scheme_bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme_bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        && !rest.is_empty()
        && !rest.starts_with('/')
}

/// `HTTP/DIGIT.DIGIT` at least 1.1 (RFC 6455 4.2.1: "HTTP/1.1 or higher").
fn is_http_1_1_or_later(version: &str) -> bool {
    match version.strip_prefix("HTTP/").map(str::as_bytes) {
        Some(&[major, b'.', minor]) if major.is_ascii_digit() && minor.is_ascii_digit() => {
            (major, minor) >= (b'1', b'1')
        }
        _ => false,
    }
}

/// RFC 6455 4.3 `version` = a number 0-255 without leading zeros.
fn parse_version(v: &str) -> Option<u8> {
    let well_formed = !v.is_empty()
        && v.len() <= 3
        && v.bytes().all(|b| b.is_ascii_digit())
        && (v == "0" || !v.starts_with('0'));
    if well_formed {
        v.parse().ok()
    } else {
        None
    }
}

/// Parses `Name: value` lines (values trimmed of SP/HTAB). `None` on a
/// malformed line: a name that is not a token (including whitespace before
/// the colon), an obs-fold line (starting with SP/HTAB, refused by choice),
/// or a control character other than HTAB in the value (a bare CR included).
fn parse_headers<'a>(lines: impl Iterator<Item = &'a str>) -> Option<Vec<(String, String)>> {
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        if !is_token(name) || value.chars().any(|c| c.is_ascii_control() && c != '\t') {
            return None;
        }
        let value = value.trim_matches([' ', '\t']);
        headers.push((name.to_string(), value.to_string()));
    }
    Some(headers)
}

/// `base64(sha1(key + GUID))`; `BadAcceptKey` leaves the GUID out,
/// `SwapsAcceptCase` swaps the letters' case.
fn accept_key(key: &str, fault: Fault) -> String {
    let mut hasher = Sha1::new();
    hasher.update(key.as_bytes());
    if fault != Fault::BadAcceptKey {
        hasher.update(GUID.as_bytes());
    }
    let digest = hasher.finalize();
    let value = base64::engine::general_purpose::STANDARD.encode(digest.as_slice());
    if fault == Fault::SwapsAcceptCase {
        return value
            .chars()
            .map(|c| {
                if c.is_ascii_uppercase() {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
    }
    value
}

// ---------------------------------------------------------------------------
// Frame codec
// ---------------------------------------------------------------------------

/// A decoded frame header (payload not yet read).
struct Header {
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    len: u64,
}

/// Reads one frame header. A 64-bit length with the top bit set is invalid.
/// With `short_64` the 64-bit length is misread from its first four bytes.
fn read_header(r: &mut impl Read, short_64: bool) -> Result<Header, End> {
    let mut b = [0u8; 2];
    r.read_exact(&mut b)?;
    let len = match b[1] & 0x7F {
        126 => {
            let mut ext = [0u8; 2];
            r.read_exact(&mut ext)?;
            u64::from(u16::from_be_bytes(ext))
        }
        127 => {
            let mut ext = [0u8; 8];
            r.read_exact(&mut ext)?;
            let len = if short_64 {
                u64::from(u32::from_be_bytes([ext[0], ext[1], ext[2], ext[3]]))
            } else {
                u64::from_be_bytes(ext)
            };
            if len >> 63 != 0 {
                return Err(End::Fail(CLOSE_PROTOCOL));
            }
            len
        }
        n => u64::from(n),
    };
    let mask = if b[1] & 0x80 != 0 {
        let mut key = [0u8; 4];
        r.read_exact(&mut key)?;
        Some(key)
    } else {
        None
    };
    Ok(Header {
        fin: b[0] & 0x80 != 0,
        rsv: (b[0] >> 4) & 0x7,
        opcode: b[0] & 0x0F,
        mask,
        len,
    })
}

/// XORs `data` with the 4-byte masking key (masking and unmasking are equal).
fn apply_mask(data: &mut [u8], key: [u8; 4]) {
    for (i, byte) in data.iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}

/// Encodes one frame with RSV=0. `mask` is only used by `MaskedFrames`.
fn encode_frame(fin: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(if fin { 0x80 } else { 0 } | (opcode & 0x0F));
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(mask_bit | n as u8),
        n @ 126..=0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let body_start = out.len() + if mask.is_some() { 4 } else { 0 };
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut out[body_start..], key);
    }
    out
}

// ---------------------------------------------------------------------------
// Session: the frame loop and its state
// ---------------------------------------------------------------------------

/// A data message being reassembled from fragments.
struct Message {
    opcode: u8,
    data: Vec<u8>,
    /// How many frames carried it so far.
    frames: usize,
    /// Prefix of `data` already known to be valid UTF-8 (text only), so each
    /// fragment is validated once and invalid text fails fast.
    utf8_checked: usize,
}

struct Session {
    reader: Box<dyn Read + Send>,
    fault: Fault,
    message: Option<Message>,
    /// `AcceptFragmentedControl` only: a control frame started with FIN=0.
    control_fragments: Option<(u8, Vec<u8>)>,
    /// xorshift state for `MaskedFrames` masking keys (never zero).
    rng: u32,
    /// `PongAfterEcho`: pongs held back until the message in progress is echoed.
    held_pongs: Vec<Vec<u8>>,
}

impl Session {
    fn new(reader: impl Read + Send + 'static, fault: Fault) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9, |d| d.subsec_nanos());
        Session {
            reader: Box::new(reader),
            fault,
            message: None,
            control_fragments: None,
            rng: seed | 1,
            held_pongs: Vec::new(),
        }
    }

    /// Reads and handles frames until the connection ends.
    fn run(&mut self, w: &mut impl Write) -> End {
        loop {
            if let Err(end) = self.step(w) {
                return end;
            }
        }
    }

    /// Reads, validates and handles one frame.
    fn step(&mut self, w: &mut impl Write) -> Result<(), End> {
        let header = read_header(&mut self.reader, self.fault == Fault::Misreads64BitLength)?;
        self.check_header(&header)?;
        let payload = self.read_payload(&header)?;
        self.handle_frame(w, &header, payload)
    }

    /// Per-frame checks that need only the header.
    fn check_header(&self, h: &Header) -> Result<(), End> {
        let fail = Err(End::Fail(CLOSE_PROTOCOL));
        if h.rsv != 0 && self.fault != Fault::IgnoreRsv {
            return fail;
        }
        if h.mask.is_none() && self.fault != Fault::AcceptUnmaskedFrames {
            return fail;
        }
        if is_reserved_opcode(h.opcode) {
            // EchoReservedOpcodes skips the control-frame rules below too.
            return if self.fault == Fault::EchoReservedOpcodes {
                self.check_size(h.len, 0)
            } else {
                fail
            };
        }
        if is_control(h.opcode) {
            if !h.fin && self.fault != Fault::AcceptFragmentedControl {
                return fail;
            }
            let tolerated = self.fault == Fault::AcceptOversizedControl
                || (self.fault == Fault::EchoOverlongClose && h.opcode == OP_CLOSE);
            if h.len > MAX_CONTROL_PAYLOAD as u64 && !tolerated {
                return fail;
            }
            if self.message.is_some() && self.fault == Fault::ControlMidMessageFails {
                return fail;
            }
            return self.check_size(h.len, 0);
        }
        let buffered = match (h.opcode, &self.message) {
            (OP_CONT, Some(msg)) => msg.data.len(),
            (OP_CONT, None) if self.continuation_is_tolerated() => 0,
            (OP_CONT, None) => return fail,
            (_, Some(_)) => return fail, // new text/binary mid-message
            (_, None) => 0,
        };
        self.check_size(h.len, buffered)
    }

    /// A stray continuation is fine if a fault swallows or redirects it.
    fn continuation_is_tolerated(&self) -> bool {
        self.fault == Fault::AcceptStrayContinuation || self.control_fragments.is_some()
    }

    /// Rejects frames that would push a message past `MAX_MESSAGE` (1009).
    fn check_size(&self, len: u64, buffered: usize) -> Result<(), End> {
        if len + buffered as u64 >= DROP_AT {
            match self.fault {
                Fault::DropsLargeMessages => return Err(End::Fail(DROP)),
                Fault::RefusesLargeWith1009 => return Err(End::Fail(CLOSE_TOO_BIG)),
                Fault::RefusesLargeWith1008 => return Err(End::Fail(CLOSE_POLICY)),
                _ => {}
            }
        }
        if len > (MAX_MESSAGE - buffered.min(MAX_MESSAGE)) as u64 {
            return Err(End::Fail(CLOSE_TOO_BIG));
        }
        Ok(())
    }

    fn read_payload(&mut self, h: &Header) -> Result<Vec<u8>, End> {
        // check_size bounded len to MAX_MESSAGE, so this cannot overflow.
        let len = usize::try_from(h.len).map_err(|_| End::Fail(CLOSE_TOO_BIG))?;
        let mut payload = vec![0u8; len];
        self.reader.read_exact(&mut payload)?;
        if let Some(key) = h.mask {
            apply_mask(&mut payload, key);
        }
        Ok(payload)
    }

    fn handle_frame(
        &mut self,
        w: &mut impl Write,
        h: &Header,
        payload: Vec<u8>,
    ) -> Result<(), End> {
        if is_reserved_opcode(h.opcode) {
            // Only reachable with EchoReservedOpcodes: echo the frame as-is.
            return self.send(w, h.fin, h.opcode, &payload);
        }
        if is_control(h.opcode) {
            if !h.fin {
                // Only reachable with AcceptFragmentedControl.
                self.control_fragments = Some((h.opcode, payload));
                return Ok(());
            }
            return self.handle_control(w, h.opcode, payload);
        }
        if h.opcode == OP_CONT {
            if self.control_fragments.is_some() {
                return self.continue_control(w, h.fin, payload);
            }
            if self.message.is_none() {
                return Ok(()); // AcceptStrayContinuation: ignore it.
            }
        } else {
            self.message = Some(Message {
                opcode: h.opcode,
                data: Vec::new(),
                frames: 0,
                utf8_checked: 0,
            });
        }
        self.continue_message(w, h.fin, payload)
    }

    /// `AcceptFragmentedControl`: appends to the pending control frame and
    /// handles it once the final fragment arrives.
    fn continue_control(
        &mut self,
        w: &mut impl Write,
        fin: bool,
        payload: Vec<u8>,
    ) -> Result<(), End> {
        let Some((opcode, data)) = &mut self.control_fragments else {
            return Ok(());
        };
        data.extend_from_slice(&payload);
        if !fin {
            return Ok(());
        }
        let (opcode, data) = (*opcode, std::mem::take(data));
        self.control_fragments = None;
        self.handle_control(w, opcode, data)
    }

    /// Appends a data fragment; on FIN validates and echoes the whole message.
    fn continue_message(
        &mut self,
        w: &mut impl Write,
        fin: bool,
        payload: Vec<u8>,
    ) -> Result<(), End> {
        let Some(msg) = &mut self.message else {
            return Ok(());
        };
        msg.data.extend_from_slice(&payload);
        msg.frames += 1;
        let check_now = match self.fault {
            Fault::NoUtf8Check => false,
            Fault::Utf8CheckAtEndOnly => fin,
            _ => true,
        };
        if msg.opcode == OP_TEXT && check_now {
            check_utf8_prefix(msg, fin)?;
        }
        if !fin {
            return Ok(());
        }
        let Some(Message {
            opcode,
            mut data,
            frames,
            ..
        }) = self.message.take()
        else {
            return Ok(());
        };
        if self.fault == Fault::TruncateLarge {
            data.truncate(TRUNCATE_AT);
        }
        if self.fault == Fault::RefragmentEcho && frames > 1 {
            let half = data.len() / 2;
            self.send(w, false, opcode, &data[..half])?;
            self.send(w, true, OP_CONT, &data[half..])?;
        } else {
            self.send(w, true, opcode, &data)?;
        }
        for pong in std::mem::take(&mut self.held_pongs) {
            self.send(w, true, OP_PONG, &pong)?;
        }
        Ok(())
    }

    fn handle_control(
        &mut self,
        w: &mut impl Write,
        opcode: u8,
        payload: Vec<u8>,
    ) -> Result<(), End> {
        match opcode {
            OP_PING if self.fault == Fault::NoPong => Ok(()),
            OP_PING if self.fault == Fault::PongAfterEcho && self.message.is_some() => {
                self.held_pongs.push(payload);
                Ok(())
            }
            OP_PING => self.send(w, true, OP_PONG, &payload),
            OP_CLOSE if self.fault == Fault::NeverClose => Ok(()),
            OP_CLOSE if self.fault == Fault::EchoAnyCloseCode && payload.len() >= 2 => {
                self.send_close(w, u16::from_be_bytes([payload[0], payload[1]]))?;
                Err(End::Closed)
            }
            OP_CLOSE if self.fault == Fault::EchoOverlongClose && payload.len() > 125 => {
                self.send(w, true, OP_CLOSE, &payload)?;
                Err(End::Closed)
            }
            OP_CLOSE if self.fault == Fault::Close1005OnTheWire && payload.is_empty() => {
                self.send_close(w, 1005)?;
                Err(End::Closed)
            }
            OP_CLOSE => {
                let code = check_close_payload(&payload)?;
                let code = if self.fault == Fault::CloseReply1000 {
                    CLOSE_NORMAL
                } else {
                    code
                };
                self.send_close(w, code)?;
                Err(End::Closed)
            }
            _ => Ok(()), // pong: ignored
        }
    }

    /// Sends a close frame carrying `code` (and, under `CloseReason`, "bye").
    fn send_close(&mut self, w: &mut impl Write, code: u16) -> Result<(), End> {
        let mut body = code.to_be_bytes().to_vec();
        if self.fault == Fault::CloseReason {
            body.extend_from_slice(b"bye");
        }
        self.send(w, true, OP_CLOSE, &body)
    }

    /// Writes one frame (masked only under `MaskedFrames`).
    fn send(
        &mut self,
        w: &mut impl Write,
        fin: bool,
        opcode: u8,
        payload: &[u8],
    ) -> Result<(), End> {
        let mask = (self.fault == Fault::MaskedFrames).then(|| self.next_mask());
        w.write_all(&encode_frame(fin, opcode, payload, mask))?;
        w.flush()?;
        Ok(())
    }

    fn next_mask(&mut self) -> [u8; 4] {
        // xorshift32; a zero key would leave the payload readable, so avoid it.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        (self.rng | 1).to_be_bytes()
    }
}

/// Validates the not-yet-checked tail of a text message. Mid-message an
/// incomplete trailing sequence is fine; anything else fails with 1007.
fn check_utf8_prefix(msg: &mut Message, fin: bool) -> Result<(), End> {
    match std::str::from_utf8(&msg.data[msg.utf8_checked..]) {
        Ok(_) => {
            msg.utf8_checked = msg.data.len();
            Ok(())
        }
        Err(e) if e.error_len().is_none() && !fin => {
            msg.utf8_checked += e.valid_up_to();
            Ok(())
        }
        Err(_) => Err(End::Fail(CLOSE_INVALID_DATA)),
    }
}

/// Validates a received close payload and returns the code to reply with.
fn check_close_payload(payload: &[u8]) -> Result<u16, End> {
    match payload {
        [] => Ok(CLOSE_NORMAL),
        [_] => Err(End::Fail(CLOSE_PROTOCOL)),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !is_valid_close_code(code) {
                return Err(End::Fail(CLOSE_PROTOCOL));
            }
            if std::str::from_utf8(reason).is_err() {
                return Err(End::Fail(CLOSE_INVALID_DATA));
            }
            Ok(code)
        }
    }
}
