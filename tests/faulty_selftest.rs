//! Self-test for the deliberately faulty servers in `tests/common/faulty.rs`.
//!
//! Uses a tiny raw-socket client written here (independent of both wsspec and
//! the server's codec) to prove that `Fault::None` behaves as a correct RFC
//! 6455 echo server and that each fault changes the observable behaviour.

#[path = "common/faulty.rs"]
mod faulty;

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use faulty::{start, Fault};

// ---------------------------------------------------------------------------
// Minimal raw client
// ---------------------------------------------------------------------------

/// The RFC 6455 §1.3 example key and its accept value.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
const CLIENT_MASK: [u8; 4] = [0x37, 0xFA, 0x21, 0x3D];

const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CONT: u8 = 0x0;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

/// Wait this long for the first reply to a probe.
const FIRST_REPLY: Duration = Duration::from_secs(3);
/// After something arrived, this much silence means "nothing more".
const QUIET: Duration = Duration::from_millis(500);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Frame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    masked: bool,
    payload: Vec<u8>,
}

/// What the client observed next on the socket.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ev {
    Frame(Frame),
    /// Clean TCP EOF.
    Eof,
    /// Nothing arrived within the timeout (socket still open).
    Silent,
    /// A read error other than a timeout (e.g. connection reset).
    Reset,
}

/// An unmasked, final frame as a correct server would send it.
fn server(opcode: u8, payload: &[u8]) -> Ev {
    Ev::Frame(Frame {
        fin: true,
        rsv: 0,
        opcode,
        masked: false,
        payload: payload.to_vec(),
    })
}

fn close(code: u16) -> Ev {
    server(CLOSE, &code.to_be_bytes())
}

struct Client {
    stream: TcpStream,
}

/// Builds a valid upgrade request head with `extra` lines appended.
fn request(extra: &str) -> String {
    format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// Encodes a client frame. `first` is the whole first byte (FIN|RSV|opcode).
fn client_frame(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut out = vec![first];
    let mask_bit = if masked { 0x80 } else { 0 };
    if payload.len() < 126 {
        out.push(mask_bit | payload.len() as u8);
    } else if payload.len() <= 0xFFFF {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    }
    if masked {
        out.extend_from_slice(&CLIENT_MASK);
        out.extend(
            payload
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ CLIENT_MASK[i % 4]),
        );
    } else {
        out.extend_from_slice(payload);
    }
    out
}

fn fin(opcode: u8) -> u8 {
    0x80 | opcode
}

impl Client {
    fn connect(fault_server: &faulty::FaultyServer) -> Client {
        let stream = TcpStream::connect(fault_server.addr).expect("connect");
        stream.set_nodelay(true).unwrap();
        stream.set_read_timeout(Some(FIRST_REPLY)).unwrap();
        Client { stream }
    }

    /// Sends `head` (plus any trailing bytes) and returns the response head.
    fn handshake_raw(&mut self, bytes: &[u8]) -> String {
        self.stream.write_all(bytes).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match self.stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => break,
            }
        }
        String::from_utf8_lossy(&head).into_owned()
    }

    /// Connects and completes a valid handshake, asserting 101 + accept key.
    fn open(fault_server: &faulty::FaultyServer) -> Client {
        let mut client = Client::connect(fault_server);
        let head = client.handshake_raw(request("").as_bytes());
        assert_switching_protocols(&head);
        assert_eq!(
            header(&head, "Sec-WebSocket-Accept"),
            Some(ACCEPT),
            "{head}"
        );
        client
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Sends a masked frame; `first` is FIN|RSV|opcode.
    fn send(&mut self, first: u8, payload: &[u8]) {
        self.send_raw(&client_frame(first, payload, true));
    }

    fn send_close(&mut self, code: u16) {
        self.send(fin(CLOSE), &code.to_be_bytes());
    }

    /// Reads one event, waiting at most `timeout`.
    fn next(&mut self, timeout: Duration) -> Ev {
        self.stream.set_read_timeout(Some(timeout)).unwrap();
        let mut b = [0u8; 2];
        match self.stream.read(&mut b[..1]) {
            Ok(0) => return Ev::Eof,
            Ok(_) => {}
            Err(e) if is_timeout(&e) => return Ev::Silent,
            Err(_) => return Ev::Reset,
        }
        // The rest of a started frame must follow promptly.
        self.stream.set_read_timeout(Some(FIRST_REPLY)).unwrap();
        match self.read_rest(b[0]) {
            Ok(frame) => Ev::Frame(frame),
            Err(_) => Ev::Reset,
        }
    }

    fn read_rest(&mut self, first: u8) -> io::Result<Frame> {
        let mut b = [0u8; 1];
        self.stream.read_exact(&mut b)?;
        let len = match b[0] & 0x7F {
            126 => {
                let mut ext = [0u8; 2];
                self.stream.read_exact(&mut ext)?;
                u64::from(u16::from_be_bytes(ext))
            }
            127 => {
                let mut ext = [0u8; 8];
                self.stream.read_exact(&mut ext)?;
                u64::from_be_bytes(ext)
            }
            n => u64::from(n),
        };
        let masked = b[0] & 0x80 != 0;
        let mut key = [0u8; 4];
        if masked {
            self.stream.read_exact(&mut key)?;
        }
        let mut payload = vec![0u8; len as usize];
        self.stream.read_exact(&mut payload)?;
        if masked {
            for (i, byte) in payload.iter_mut().enumerate() {
                *byte ^= key[i % 4];
            }
        }
        Ok(Frame {
            fin: first & 0x80 != 0,
            rsv: (first >> 4) & 0x7,
            opcode: first & 0x0F,
            masked,
            payload,
        })
    }

    /// Everything the server sends until EOF, an error, or a quiet period
    /// (the first event may take up to `FIRST_REPLY`).
    fn events(&mut self) -> Vec<Ev> {
        let mut out = Vec::new();
        let mut timeout = FIRST_REPLY;
        loop {
            let ev = self.next(timeout);
            let done = !matches!(ev, Ev::Frame(_));
            out.push(ev);
            if done || out.len() > 16 {
                return out;
            }
            timeout = QUIET;
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn assert_switching_protocols(head: &str) {
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(header(head, "Upgrade")
        .unwrap()
        .eq_ignore_ascii_case("websocket"));
    assert!(header(head, "Connection")
        .unwrap()
        .eq_ignore_ascii_case("upgrade"));
}

/// Opens a connection to a fresh server with `fault`, sends `frames`
/// (already encoded) and returns what came back.
fn probe(fault: Fault, frames: &[Vec<u8>]) -> Vec<Ev> {
    let srv = start(fault);
    let mut client = Client::open(&srv);
    for f in frames {
        client.send_raw(f);
    }
    client.events()
}

fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    client_frame(first, payload, true)
}

// ---------------------------------------------------------------------------
// Fault::None: a correct server
// ---------------------------------------------------------------------------

#[test]
fn none_handshake_echo_ping_close() {
    let srv = start(Fault::None);
    assert_eq!(srv.url(), format!("ws://127.0.0.1:{}/", srv.addr.port()));
    let mut c = Client::open(&srv);

    c.send(fin(TEXT), b"Hello");
    assert_eq!(c.next(FIRST_REPLY), server(TEXT, b"Hello"));

    c.send(fin(BINARY), &[0, 1, 2, 255]);
    assert_eq!(c.next(FIRST_REPLY), server(BINARY, &[0, 1, 2, 255]));

    c.send(fin(PING), b"are you there");
    assert_eq!(c.next(FIRST_REPLY), server(PONG, b"are you there"));

    c.send_close(1000);
    assert_eq!(c.events(), vec![close(1000), Ev::Eof]);
}

/// The status code of a response head (0 when there is none).
fn status(head: &str) -> u16 {
    head.strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// Sends `req` on a fresh connection; returns the response head and the client.
fn answer(srv: &faulty::FaultyServer, req: &str) -> (String, Client) {
    let mut c = Client::connect(srv);
    let head = c.handshake_raw(req.as_bytes());
    (head, c)
}

/// `req` must be refused with `want` and the connection then closed.
/// Returns the response head.
fn assert_refused(srv: &faulty::FaultyServer, req: &str, want: u16) -> String {
    let (head, mut c) = answer(srv, req);
    assert_eq!(status(&head), want, "request {req:?} got {head:?}");
    assert_eq!(c.next(FIRST_REPLY), Ev::Eof, "request {req:?}");
    head
}

/// `req` must be accepted with a correct 101 for KEY (no subprotocol, no
/// extension) and the connection must echo.
fn assert_accepted(srv: &faulty::FaultyServer, req: &str) {
    let (head, mut c) = answer(srv, req);
    assert_switching_protocols(&head);
    assert_eq!(
        header(&head, "Sec-WebSocket-Accept"),
        Some(ACCEPT),
        "{req:?}"
    );
    assert_eq!(header(&head, "Sec-WebSocket-Protocol"), None, "{req:?}");
    assert_eq!(header(&head, "Sec-WebSocket-Extensions"), None, "{req:?}");
    assert_echoes(&mut c);
}

fn assert_echoes(c: &mut Client) {
    c.send(fin(TEXT), b"handshake ok");
    assert_eq!(c.next(FIRST_REPLY), server(TEXT, b"handshake ok"));
}

/// The valid request with every line ending in a bare LF.
fn bare_lf(req: &str) -> String {
    req.replace("\r\n", "\n")
}

#[test]
fn none_rejects_bad_handshakes_with_400() {
    let srv = start(Fault::None);
    let base = request("");
    let key_line = format!("Sec-WebSocket-Key: {KEY}\r\n");
    let bad = [
        base.replace("GET", "POST"),
        base.replace("GET", "get"),
        base.replace("HTTP/1.1", "HTTP/1.0"),
        base.replace("HTTP/1.1", "HTTP/1"),
        base.replace("HTTP/1.1", "HTTP/1.1 extra"),
        base.replace("GET / ", "GET  / "),
        base.replace("GET / ", "GET * "),
        base.replace("GET / ", "GET 127.0.0.1:80 "),
        base.replace("Host: 127.0.0.1\r\n", ""),
        base.replace("Host: 127.0.0.1\r\n", "Host: a\r\nHost: b\r\n"),
        base.replace("Upgrade: websocket\r\n", ""),
        base.replace("Upgrade: websocket", "Upgrade: h2c"),
        base.replace("Upgrade: websocket", "Upgrade: websockets"),
        base.replace("Connection: Upgrade\r\n", ""),
        base.replace("Connection: Upgrade", "Connection: keep-alive"),
        base.replace("Connection: Upgrade", "Connection: Upgrades"),
        base.replace(&key_line, ""),
        base.replace(&key_line, &format!("{key_line}{key_line}")),
        base.replace(KEY, "c2hvcnQ="),                     // 5 bytes
        base.replace(KEY, "AAECAwQFBgcICQoLDA0O"),         // 15 bytes
        base.replace(KEY, "AAECAwQFBgcICQoLDA0ODxAREhM="), // 20 bytes
        base.replace(KEY, "this is not base64!!"),
        base.replace(KEY, ""),
        // A header name with whitespace before the colon, or not a token.
        base.replace("Host:", "Host :"),
        base.replace("Host:", "Ho(st:"),
        "garbage\r\n\r\n".to_string(),
        "\r\n\r\n".to_string(),
        // obs-fold is refused, never unfolded; so is whitespace before the
        // first header.
        request("X-Folded: first\r\n  second\r\n"),
        request("X-Folded: first\r\n\tsecond\r\n"),
        base.replacen("\r\nHost", "\r\n Host", 1),
        // A bare CR inside a line, a NUL in a value.
        request("X-Bare: a\rb\r\n"),
        request("X-Nul: a\0b\r\n"),
        // A request body is refused.
        format!("{}hello", request("Content-Length: 5\r\n")),
        format!(
            "{}5\r\nhello\r\n0\r\n\r\n",
            request("Transfer-Encoding: chunked\r\n")
        ),
    ];
    for req in bad {
        assert_refused(&srv, &req, 400);
    }
}

#[test]
fn none_refuses_other_versions_with_426_listing_13() {
    let srv = start(Fault::None);
    let base = request("");
    for version in ["8", "12", "14", "0", "255"] {
        let req = base.replace("Version: 13", &format!("Version: {version}"));
        let head = assert_refused(&srv, &req, 426);
        assert!(
            head.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
            "{head}"
        );
        assert_eq!(header(&head, "Sec-WebSocket-Version"), Some("13"), "{head}");
        assert_eq!(header(&head, "Upgrade"), Some("websocket"), "{head}");
    }
    // Missing, repeated or not a version number: 400, still listing 13.
    let malformed = [
        base.replace("Sec-WebSocket-Version: 13\r\n", ""),
        request("Sec-WebSocket-Version: 13\r\n"),
        base.replace("Version: 13", "Version: thirteen"),
        base.replace("Version: 13", "Version: 013"),
        base.replace("Version: 13", "Version: 13, 13"),
        base.replace("Version: 13", "Version: 256"),
        base.replace("Version: 13", "Version: "),
    ];
    for req in malformed {
        let head = assert_refused(&srv, &req, 400);
        assert_eq!(
            header(&head, "Sec-WebSocket-Version"),
            Some("13"),
            "{req:?}"
        );
    }
}

#[test]
fn none_limits_the_request_head_to_16_kib_with_431() {
    const MAX_HEAD: usize = 16 * 1024;
    let srv = start(Fault::None);
    // The head through its empty line is exactly 16 KiB: accepted.
    let fill = MAX_HEAD - request("").len() - "X-Padding: \r\n".len();
    let req = request(&format!("X-Padding: {}\r\n", "a".repeat(fill)));
    assert_eq!(req.len(), MAX_HEAD);
    assert_accepted(&srv, &req);
    // One byte more: 431, then close.
    let req = request(&format!("X-Padding: {}\r\n", "a".repeat(fill + 1)));
    let head = assert_refused(&srv, &req, 431);
    assert!(
        head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{head}"
    );
    // Far over (100 KB) and many short lines: the same.
    let req = request(&format!("X-Padding: {}\r\n", "a".repeat(100_000)));
    assert_refused(&srv, &req, 431);
    assert_refused(&srv, &request(&"X-Many: 1\r\n".repeat(2000)), 431);
}

#[test]
fn none_accepts_valid_handshake_variants() {
    let srv = start(Fault::None);
    let port = srv.addr.port();
    let base = request("");
    let good = [
        base.clone(),
        // Header names in any letter case.
        base.replace("Host:", "hOsT:")
            .replace("Upgrade: websocket", "uPGRADE: websocket")
            .replace("Connection:", "cONNECTION:")
            .replace("Sec-WebSocket-Key:", "sec-websocket-key:")
            .replace("Sec-WebSocket-Version:", "SEC-WEBSOCKET-VERSION:"),
        // Token values in any letter case, and as lists.
        base.replace("Upgrade: websocket", "Upgrade: WebSocket"),
        base.replace("Upgrade: websocket", "Upgrade: WEBSOCKET"),
        base.replace("Upgrade: websocket", "Upgrade: h2c, websocket"),
        base.replace("Connection: Upgrade", "Connection: upgrade"),
        base.replace("Connection: Upgrade", "Connection: keep-alive, Upgrade"),
        base.replace("Connection: Upgrade", "Connection: keep-alive,upgrade"),
        // Lists spread over two header lines.
        request("Connection: keep-alive\r\n"),
        request("Upgrade: h2c\r\n"),
        // Whitespace around values.
        base.replace("Upgrade: websocket", "Upgrade:    websocket   ")
            .replace("Connection: Upgrade", "Connection:\tUpgrade\t")
            .replace("Version: 13", "Version:  13 ")
            .replace(KEY, &format!("   {KEY}   ")),
        base.replace("Host: 127.0.0.1", "Host:127.0.0.1"),
        // Request-targets: query, percent-encoding, absolute-form.
        base.replace("GET / ", "GET /?wsspec=1&x=%20y "),
        base.replace("GET / ", "GET /%7Ewsspec "),
        base.replace("GET / ", &format!("GET ws://127.0.0.1:{port}/path ")),
        base.replace("GET / ", "GET http://127.0.0.1/ "),
        // A later HTTP/1.x.
        base.replace("HTTP/1.1", "HTTP/1.2"),
        // No body is fine.
        request("Content-Length: 0\r\n"),
        // Offers that are declined: no subprotocol, no extension.
        request("Sec-WebSocket-Protocol: chat, superchat\r\n"),
        request("Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\n"),
        request("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"),
        request("Sec-WebSocket-Extensions: ;;, =x\r\n"),
        request("Origin: https://attacker.example\r\n"),
        // Bare LF line ends are accepted (mixed with CRLF too).
        bare_lf(&base),
        base.replacen("\r\n", "\n", 2),
        format!("{}\n", base.strip_suffix("\r\n").unwrap()),
    ];
    for req in good {
        assert_accepted(&srv, &req);
    }
}

#[test]
fn none_keeps_frame_bytes_sent_with_the_handshake() {
    let srv = start(Fault::None);
    for req in [request(""), bare_lf(&request(""))] {
        let mut c = Client::connect(&srv);
        let mut bytes = req.into_bytes();
        bytes.extend(masked(fin(TEXT), b"early"));
        bytes.extend(masked(fin(TEXT), b"second"));
        assert_switching_protocols(&c.handshake_raw(&bytes));
        assert_eq!(c.next(FIRST_REPLY), server(TEXT, b"early"));
        assert_eq!(c.next(FIRST_REPLY), server(TEXT, b"second"));
    }
}

#[test]
fn none_reassembles_fragments_and_answers_ping_in_between() {
    let events = probe(
        Fault::None,
        &[
            masked(TEXT, b"frag"),
            masked(fin(PING), b"mid"),
            masked(CONT, b"men"),
            masked(fin(CONT), b"ted"),
        ],
    );
    assert_eq!(
        events,
        vec![
            server(PONG, b"mid"),
            server(TEXT, b"fragmented"),
            Ev::Silent
        ]
    );
}

#[test]
fn none_accepts_utf8_split_across_fragments() {
    // U+20AC EURO SIGN is E2 82 AC; split it across frames.
    let events = probe(
        Fault::None,
        &[
            masked(TEXT, &[b'a', 0xE2]),
            masked(fin(CONT), &[0x82, 0xAC]),
        ],
    );
    assert_eq!(
        events,
        vec![server(TEXT, "a\u{20AC}".as_bytes()), Ev::Silent]
    );
}

#[test]
fn none_echoes_large_messages_whole() {
    let srv = start(Fault::None);
    let mut c = Client::open(&srv);
    for len in [126, 65535, 70_000] {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        c.send(fin(BINARY), &data);
        assert!(c.next(FIRST_REPLY) == server(BINARY, &data), "len {len}");
    }
}

#[test]
fn none_fails_protocol_errors_with_1002_or_1007() {
    let cases: Vec<(&str, Vec<Vec<u8>>, u16)> = vec![
        (
            "unmasked frame",
            vec![client_frame(fin(TEXT), b"x", false)],
            1002,
        ),
        ("rsv1 text", vec![masked(0x80 | 0x40 | TEXT, b"x")], 1002),
        ("rsv3 ping", vec![masked(0x80 | 0x10 | PING, b"x")], 1002),
        ("opcode 3", vec![masked(fin(0x3), b"x")], 1002),
        ("opcode 0xB", vec![masked(fin(0xB), b"x")], 1002),
        ("stray continuation", vec![masked(fin(CONT), b"x")], 1002),
        (
            "fragmented ping",
            vec![masked(PING, b"a"), masked(fin(CONT), b"b")],
            1002,
        ),
        ("126-byte ping", vec![masked(fin(PING), &[b'p'; 126])], 1002),
        (
            "text while text in progress",
            vec![masked(TEXT, b"a"), masked(fin(TEXT), b"b")],
            1002,
        ),
        (
            "close with 1-byte payload",
            vec![masked(fin(CLOSE), &[0x03])],
            1002,
        ),
        (
            "close code 999",
            vec![masked(fin(CLOSE), &999u16.to_be_bytes())],
            1002,
        ),
        (
            "close code 1005",
            vec![masked(fin(CLOSE), &1005u16.to_be_bytes())],
            1002,
        ),
        (
            "close code 2999",
            vec![masked(fin(CLOSE), &2999u16.to_be_bytes())],
            1002,
        ),
        (
            "close code 5000",
            vec![masked(fin(CLOSE), &5000u16.to_be_bytes())],
            1002,
        ),
        (
            "invalid utf-8 text",
            vec![masked(fin(TEXT), &[0xCE, 0xBA, 0xFF])],
            1007,
        ),
        (
            "invalid utf-8 fails fast",
            vec![masked(TEXT, &[0xC0, 0x80])],
            1007,
        ),
        (
            "truncated utf-8 at end",
            vec![masked(fin(TEXT), &[0xE2, 0x82])],
            1007,
        ),
        (
            "invalid utf-8 close reason",
            vec![masked(fin(CLOSE), &[0x03, 0xE8, 0xFF])],
            1007,
        ),
    ];
    for (name, frames, code) in cases {
        assert_eq!(
            probe(Fault::None, &frames),
            vec![close(code), Ev::Eof],
            "{name}"
        );
    }
}

#[test]
fn none_close_handshake_variants() {
    let empty = probe(Fault::None, &[masked(fin(CLOSE), b"")]);
    assert_eq!(empty, vec![close(1000), Ev::Eof]);
    for code in [1001u16, 1003, 1011, 1014, 3000, 4999] {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice("bye ✓".as_bytes());
        let events = probe(Fault::None, &[masked(fin(CLOSE), &payload)]);
        assert_eq!(events, vec![close(code), Ev::Eof], "code {code}");
    }
    // A close in the middle of a fragmented message is still answered.
    let mid = probe(
        Fault::None,
        &[
            masked(TEXT, b"part"),
            masked(fin(CLOSE), &1000u16.to_be_bytes()),
        ],
    );
    assert_eq!(mid, vec![close(1000), Ev::Eof]);
}

#[test]
fn drop_stops_accepting() {
    let srv = start(Fault::None);
    let addr = srv.addr;
    drop(srv);
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
}

// ---------------------------------------------------------------------------
// Faults: each one visibly differs from Fault::None on the same input
// ---------------------------------------------------------------------------

#[test]
fn fault_bad_accept_key() {
    let srv = start(Fault::BadAcceptKey);
    let mut c = Client::connect(&srv);
    let head = c.handshake_raw(request("").as_bytes());
    assert_switching_protocols(&head);
    let accept = header(&head, "Sec-WebSocket-Accept").expect("accept header present");
    assert_ne!(accept, ACCEPT);
}

#[test]
fn fault_swaps_accept_case() {
    let srv = start(Fault::SwapsAcceptCase);
    let mut c = Client::connect(&srv);
    let head = c.handshake_raw(request("").as_bytes());
    assert_switching_protocols(&head);
    let accept = header(&head, "Sec-WebSocket-Accept").expect("accept header present");
    assert_ne!(accept, ACCEPT);
    assert!(
        accept.eq_ignore_ascii_case(ACCEPT),
        "only the case differs: {accept}"
    );
}

#[test]
fn fault_refuses_large_messages_with_a_code() {
    let data = vec![b'x'; 1 << 20];
    for (fault, code) in [
        (Fault::RefusesLargeWith1009, 1009),
        (Fault::RefusesLargeWith1008, 1008),
    ] {
        let srv = start(fault);
        let mut c = Client::open(&srv);
        c.send(fin(BINARY), &data[..1000]);
        assert!(
            c.next(FIRST_REPLY) == server(BINARY, &data[..1000]),
            "{fault:?}: small is echoed"
        );
        c.send(fin(BINARY), &data);
        assert_eq!(c.next(FIRST_REPLY), close(code), "{fault:?}");
    }
}

#[test]
fn fault_echo_reserved_opcodes() {
    let frames = [masked(fin(0x3), b"odd")];
    assert_eq!(probe(Fault::None, &frames), vec![close(1002), Ev::Eof]);
    assert_eq!(
        probe(Fault::EchoReservedOpcodes, &frames),
        vec![server(0x3, b"odd"), Ev::Silent]
    );
}

#[test]
fn fault_ignore_rsv() {
    let frames = [
        masked(0x80 | 0x40 | TEXT, b"rsv"),
        masked(0x80 | 0x20 | PING, b"p"),
    ];
    assert_eq!(probe(Fault::None, &frames), vec![close(1002), Ev::Eof]);
    assert_eq!(
        probe(Fault::IgnoreRsv, &frames),
        vec![server(TEXT, b"rsv"), server(PONG, b"p"), Ev::Silent]
    );
}

#[test]
fn fault_no_pong() {
    let frames = [masked(fin(PING), b"hi"), masked(fin(TEXT), b"after")];
    assert_eq!(
        probe(Fault::None, &frames),
        vec![server(PONG, b"hi"), server(TEXT, b"after"), Ev::Silent]
    );
    assert_eq!(
        probe(Fault::NoPong, &frames),
        vec![server(TEXT, b"after"), Ev::Silent]
    );
}

#[test]
fn fault_accept_fragmented_control() {
    let ping = [masked(PING, b"frag"), masked(fin(CONT), b"ping")];
    assert_eq!(probe(Fault::None, &ping), vec![close(1002), Ev::Eof]);
    assert_eq!(
        probe(Fault::AcceptFragmentedControl, &ping),
        vec![server(PONG, b"fragping"), Ev::Silent]
    );
    let pong = [
        masked(PONG, b"a"),
        masked(fin(CONT), b"b"),
        masked(fin(TEXT), b"ok"),
    ];
    assert_eq!(
        probe(Fault::AcceptFragmentedControl, &pong),
        vec![server(TEXT, b"ok"), Ev::Silent]
    );
}

#[test]
fn fault_accept_oversized_control() {
    let frames = [masked(fin(PING), &[b'x'; 126])];
    assert_eq!(probe(Fault::None, &frames), vec![close(1002), Ev::Eof]);
    assert_eq!(
        probe(Fault::AcceptOversizedControl, &frames),
        vec![server(PONG, &[b'x'; 126]), Ev::Silent]
    );
}

#[test]
fn fault_truncate_large() {
    let data: Vec<u8> = (0..70_000u32).map(|i| (i % 253) as u8).collect();
    let srv = start(Fault::TruncateLarge);
    let mut c = Client::open(&srv);
    c.send(fin(BINARY), &data[..65535]);
    assert!(
        c.next(FIRST_REPLY) == server(BINARY, &data[..65535]),
        "64 KiB - 1 is intact"
    );
    c.send(fin(BINARY), &data);
    let Ev::Frame(frame) = c.next(FIRST_REPLY) else {
        panic!("expected a frame")
    };
    assert_eq!(frame.payload.len(), 65535);
    assert!(frame.payload == data[..65535]);
}

#[test]
fn fault_never_close() {
    // Close frame: ignored, no reply, socket stays open, later frames echoed.
    let srv = start(Fault::NeverClose);
    let mut c = Client::open(&srv);
    c.send_close(1000);
    assert_eq!(c.next(Duration::from_millis(700)), Ev::Silent);
    c.send(fin(TEXT), b"still here");
    assert_eq!(c.next(FIRST_REPLY), server(TEXT, b"still here"));

    // Protocol error: no close frame, no EOF; the server just stops reading.
    let mut c = Client::open(&srv);
    c.send_raw(&client_frame(fin(TEXT), b"unmasked", false));
    assert_eq!(c.next(Duration::from_millis(700)), Ev::Silent);
    c.send(fin(TEXT), b"ignored");
    assert_eq!(c.next(Duration::from_millis(700)), Ev::Silent);
}

#[test]
fn fault_masked_frames() {
    let events = probe(Fault::MaskedFrames, &[masked(fin(TEXT), b"hello")]);
    let [Ev::Frame(frame), Ev::Silent] = events.as_slice() else {
        panic!("unexpected {events:?}")
    };
    assert!(
        frame.masked,
        "server frame should carry the (forbidden) mask bit"
    );
    assert_eq!(
        (frame.opcode, frame.payload.as_slice()),
        (TEXT, &b"hello"[..])
    );
}

#[test]
fn fault_accept_stray_continuation() {
    let frames = [masked(fin(CONT), b"stray"), masked(fin(TEXT), b"next")];
    assert_eq!(probe(Fault::None, &frames), vec![close(1002), Ev::Eof]);
    assert_eq!(
        probe(Fault::AcceptStrayContinuation, &frames),
        vec![server(TEXT, b"next"), Ev::Silent]
    );
}

#[test]
fn fault_wrong_close_code() {
    let protocol = [client_frame(fin(TEXT), b"x", false)];
    assert_eq!(
        probe(Fault::WrongCloseCode, &protocol),
        vec![close(1000), Ev::Eof]
    );
    let bad_utf8 = [masked(fin(TEXT), &[0xFF])];
    assert_eq!(probe(Fault::None, &bad_utf8), vec![close(1007), Ev::Eof]);
    assert_eq!(
        probe(Fault::WrongCloseCode, &bad_utf8),
        vec![close(1000), Ev::Eof]
    );
}

#[test]
fn fault_control_mid_message_fails() {
    let frames = [
        masked(BINARY, b"ab"),
        masked(fin(PING), b"p"),
        masked(fin(CONT), b"cd"),
    ];
    assert_eq!(
        probe(Fault::None, &frames),
        vec![server(PONG, b"p"), server(BINARY, b"abcd"), Ev::Silent]
    );
    assert_eq!(
        probe(Fault::ControlMidMessageFails, &frames),
        vec![close(1002), Ev::Eof]
    );
}

/// The response head `fault` gives to `req`, and the client.
fn answer_from(fault: Fault, req: &str) -> (String, Client) {
    let srv = start(fault);
    let (head, c) = answer(&srv, req);
    // The connection thread is detached and outlives `srv`.
    (head, c)
}

#[test]
fn handshake_faults_answer_the_standard_request_like_none() {
    // The faults that only loosen or change refusals give the standard
    // request the very same 101.
    let (want, _) = answer_from(Fault::None, &request(""));
    assert_switching_protocols(&want);
    for fault in [
        Fault::AcceptPost,
        Fault::AcceptShortKey,
        Fault::VersionRefusalWithoutHeader,
    ] {
        let (head, mut c) = answer_from(fault, &request(""));
        assert_eq!(head, want, "{fault:?}");
        assert_echoes(&mut c);
    }
}

#[test]
fn fault_accept_post() {
    let post = request("").replace("GET", "POST");
    let srv = start(Fault::None);
    assert_refused(&srv, &post, 400);
    let srv = start(Fault::AcceptPost);
    for req in [post, request("").replace("GET", "DELETE")] {
        let (head, mut c) = answer(&srv, &req);
        assert_switching_protocols(&head);
        assert_eq!(header(&head, "Sec-WebSocket-Accept"), Some(ACCEPT));
        assert_echoes(&mut c);
    }
    // Only the method check is gone.
    assert_refused(&srv, &request("").replace("HTTP/1.1", "HTTP/1.0"), 400);
}

#[test]
fn fault_accept_short_key() {
    // 20 bytes; accept value computed independently (Python hashlib).
    const KEY_20: &str = "AAECAwQFBgcICQoLDA0ODxAREhM=";
    const ACCEPT_20: &str = "se9JuA3kQ1NMi1MNozFbP2cA+ik=";
    let req = request("").replace(KEY, KEY_20);
    let srv = start(Fault::None);
    assert_refused(&srv, &req, 400);
    let srv = start(Fault::AcceptShortKey);
    let (head, mut c) = answer(&srv, &req);
    assert_switching_protocols(&head);
    assert_eq!(header(&head, "Sec-WebSocket-Accept"), Some(ACCEPT_20));
    assert_echoes(&mut c);
    // A 15-byte key too; but a key that is not base64, or none, is refused.
    let (head, _) = answer(&srv, &request("").replace(KEY, "AAECAwQFBgcICQoLDA0O"));
    assert_switching_protocols(&head);
    assert_refused(&srv, &request("").replace(KEY, "this is not base64!!"), 400);
    let no_key = request("").replace(&format!("Sec-WebSocket-Key: {KEY}\r\n"), "");
    assert_refused(&srv, &no_key, 400);
}

#[test]
fn fault_version_refusal_without_header() {
    let none = start(Fault::None);
    let faulty = start(Fault::VersionRefusalWithoutHeader);
    for (version, correct_status) in [("14", 426), ("8", 426), ("thirteen", 400)] {
        let req = request("").replace("Version: 13", &format!("Version: {version}"));
        let head = assert_refused(&none, &req, correct_status);
        assert_eq!(header(&head, "Sec-WebSocket-Version"), Some("13"));
        let head = assert_refused(&faulty, &req, 400);
        assert_eq!(header(&head, "Sec-WebSocket-Version"), None, "{head}");
    }
    let missing = request("").replace("Sec-WebSocket-Version: 13\r\n", "");
    let head = assert_refused(&faulty, &missing, 400);
    assert_eq!(header(&head, "Sec-WebSocket-Version"), None, "{head}");
}

#[test]
fn fault_unoffered_subprotocol() {
    for offer in ["", "Sec-WebSocket-Protocol: chat\r\n"] {
        let req = request(offer);
        let (head, _) = answer_from(Fault::None, &req);
        assert_eq!(header(&head, "Sec-WebSocket-Protocol"), None, "{head}");
        let (head, mut c) = answer_from(Fault::UnofferedSubprotocol, &req);
        assert_switching_protocols(&head);
        assert_eq!(header(&head, "Sec-WebSocket-Accept"), Some(ACCEPT));
        assert_eq!(
            header(&head, "Sec-WebSocket-Protocol"),
            Some("wsspec-unoffered"),
            "{head}"
        );
        assert_echoes(&mut c);
    }
}

#[test]
fn fault_no_upgrade_header() {
    let (head, _) = answer_from(Fault::None, &request(""));
    assert_eq!(header(&head, "Upgrade"), Some("websocket"));
    let (head, mut c) = answer_from(Fault::NoUpgradeHeader, &request(""));
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert_eq!(header(&head, "Upgrade"), None, "{head}");
    assert_eq!(header(&head, "Connection"), Some("Upgrade"));
    assert_eq!(header(&head, "Sec-WebSocket-Accept"), Some(ACCEPT));
    assert_echoes(&mut c);
}
