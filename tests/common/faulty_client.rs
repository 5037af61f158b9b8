//! A deliberately faulty WebSocket echo *client* driver for `wsspec serve`.
//!
//! It speaks Autobahn's fuzzing-server URL protocol (`/getCaseCount`,
//! `/runCase?case=N&agent=A`, `/updateReports?agent=A&shutdownOnComplete=true`)
//! with its own minimal RFC 6455 client on raw `std::net` sockets: its own
//! handshake and frame codec, sharing no code with `wsspec` and not using
//! tungstenite, so a codec bug in the harness cannot cancel itself out.
//!
//! With [`ClientFault::None`] it is a strict, correct echo client. Every other
//! variant changes exactly one behaviour, and only on `/runCase` connections
//! (the bookkeeping connections always behave correctly).
//!
//! Include it from an integration test with
//! `#[path = "common/faulty_client.rs"] mod faulty_client;`.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine;
use sha1::{Digest, Sha1};

/// The single fault the client exhibits (or `None` for a correct client).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientFault {
    /// Correct strict echo client.
    None,
    /// Sends every frame unmasked (mask bit clear).
    UnmaskedFrames,
    /// Masks every frame with the same key, `[1, 2, 3, 4]`.
    FixedMaskKey,
    /// Masks frame n with the key n (a counter, big-endian): always
    /// different, never unpredictable.
    CounterMaskKey,
    /// Masks every frame with the all-zero key (which masks nothing).
    ZeroMaskKey,
    /// Echoes text messages with invalid UTF-8 instead of failing with 1007.
    NoUtf8Check,
    /// Never answers a close frame: ignores it and keeps reading until the
    /// server closes TCP (or the read times out).
    NeverEchoClose,
    /// Does not look at Sec-WebSocket-Accept at all (present, absent or wrong).
    IgnoresAccept,
    /// Compares Sec-WebSocket-Accept without regard to letter case.
    AcceptCaseInsensitive,
    /// Takes a Sec-WebSocket-Protocol in the 101 although it offered none.
    AcceptsUnofferedSubprotocol,
    /// Unmasks and processes masked server frames instead of failing.
    AcceptsMaskedServerFrames,
    /// Sends the same Sec-WebSocket-Key on every connection.
    FixedHandshakeKey,
    /// Asks for Sec-WebSocket-Version 8 (a draft) instead of 13.
    OldVersion,
    /// Answers a close frame without a body with code 1005, which MUST NOT
    /// appear on the wire.
    Close1005OnTheWire,
    /// Sends a close frame longer than 125 bytes back unchanged instead of
    /// failing the connection (an over-long control frame of its own).
    EchoOverlongClose,
    /// Drops the connection, with no close frame, once a message reaches
    /// 1 MiB (a refusal without a close code).
    DropsLargeMessages,
    /// Checks every header of the server's answer but never its status
    /// code, so a 200 with the upgrade headers opens a "WebSocket".
    IgnoresStatus,
    /// Sends a Sec-WebSocket-Key that decodes to 12 bytes, not 16, on
    /// every connection (the control endpoints too).
    ShortHandshakeKey,
    /// Sends no Host header on any connection.
    NoHostHeader,
    /// Sends no Sec-WebSocket-Key on any connection (and so checks no
    /// Sec-WebSocket-Accept).
    NoHandshakeKey,
}

impl ClientFault {
    /// A defect of the opening request itself, which a broken client
    /// repeats on every connection, the driver's own included.
    fn in_every_request(self) -> bool {
        matches!(
            self,
            ClientFault::OldVersion
                | ClientFault::ShortHandshakeKey
                | ClientFault::NoHostHeader
                | ClientFault::NoHandshakeKey
        )
    }
}

/// `DropsLargeMessages`: the message size at which the connection is dropped.
const DROP_AT: usize = 1 << 20;

/// How long one case may take on the client side.
const CASE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for the server to close TCP after the closing handshake.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Runs the whole fuzzing-server sequence against `url_host_port`
/// (`127.0.0.1:9001` or `ws://127.0.0.1:9001`) as `agent`.
pub fn drive(url_host_port: &str, agent: &str, fault: ClientFault) {
    let host = url_host_port
        .trim_start_matches("ws://")
        .trim_end_matches('/');
    let mut rng = Rng::new();
    let control = if fault.in_every_request() {
        fault
    } else {
        ClientFault::None
    };
    let count = match Conn::open(host, "/getCaseCount", control, &mut rng) {
        Some(mut c) => c
            .run(&mut rng, false)
            .first()
            .and_then(|t| String::from_utf8_lossy(t).trim().parse::<usize>().ok())
            .unwrap_or(0),
        None => 0,
    };
    assert!(count > 0, "getCaseCount gave no case count");
    for n in 1..=count {
        let path = format!("/runCase?case={n}&agent={agent}");
        if let Some(mut c) = Conn::open(host, &path, fault, &mut rng) {
            c.run(&mut rng, true);
        }
    }
    let path = format!("/updateReports?agent={agent}&shutdownOnComplete=true");
    if let Some(mut c) = Conn::open(host, &path, control, &mut rng) {
        c.run(&mut rng, false);
    }
}

/// A small xorshift generator seeded from the OS-randomised hasher state and
/// the clock (no `rand` dependency).
struct Rng(u64);

impl Rng {
    fn new() -> Self {
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

/// One decoded server frame.
struct Frame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    masked: bool,
    payload: Vec<u8>,
}

enum ReadError {
    /// EOF, timeout or I/O error: the connection is over.
    Gone,
}

/// Why the client fails the connection.
enum Failure {
    Protocol,
    Utf8,
}

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    deadline: Instant,
    fault: ClientFault,
    /// Frames sent on this connection (the counter of `CounterMaskKey`).
    frames_sent: u32,
}

impl Conn {
    /// Connects and completes the opening handshake.
    fn open(host: &str, path: &str, fault: ClientFault, rng: &mut Rng) -> Option<Conn> {
        let mut stream = TcpStream::connect(host).ok()?;
        let _ = stream.set_nodelay(true);
        let key = match fault {
            ClientFault::FixedHandshakeKey => "dGhlIHNhbXBsZSBub25jZQ==".to_string(),
            ClientFault::ShortHandshakeKey => {
                base64::engine::general_purpose::STANDARD.encode(rng.bytes::<12>())
            }
            _ => base64::engine::general_purpose::STANDARD.encode(rng.bytes::<16>()),
        };
        let version = if fault == ClientFault::OldVersion {
            8
        } else {
            13
        };
        let host_line = if fault == ClientFault::NoHostHeader {
            String::new()
        } else {
            format!("Host: {host}\r\n")
        };
        let key_line = if fault == ClientFault::NoHandshakeKey {
            String::new()
        } else {
            format!("Sec-WebSocket-Key: {key}\r\n")
        };
        let req = format!(
            "GET {path} HTTP/1.1\r\n{host_line}Upgrade: websocket\r\nConnection: Upgrade\r\n\
             {key_line}Sec-WebSocket-Version: {version}\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).ok()?;
        let mut conn = Conn {
            stream,
            buf: Vec::new(),
            deadline: Instant::now() + CASE_TIMEOUT,
            fault,
            frames_sent: 0,
        };
        let end = loop {
            if let Some(p) = conn.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            if conn.buf.len() > 16 * 1024 || conn.fill().is_err() {
                return None;
            }
        };
        let head = String::from_utf8_lossy(&conn.buf[..end]).into_owned();
        conn.buf.drain(..end);
        response_acceptable(&head, &key, fault).then_some(conn)
    }

    /// Reads more bytes into the buffer, within the case deadline.
    fn fill(&mut self) -> Result<(), ReadError> {
        let left = self
            .deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or(ReadError::Gone)?;
        self.stream
            .set_read_timeout(Some(left))
            .map_err(|_| ReadError::Gone)?;
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) | Err(_) => Err(ReadError::Gone),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
        }
    }

    fn need(&mut self, n: usize) -> Result<(), ReadError> {
        while self.buf.len() < n {
            self.fill()?;
        }
        Ok(())
    }

    /// Reads one whole frame (header and payload, unmasked).
    fn read_frame(&mut self) -> Result<Frame, ReadError> {
        self.need(2)?;
        let (b0, b1) = (self.buf[0], self.buf[1]);
        let masked = b1 & 0x80 != 0;
        let mut at = 2;
        let len = match b1 & 0x7f {
            126 => {
                self.need(4)?;
                at = 4;
                u16::from_be_bytes([self.buf[2], self.buf[3]]) as u64
            }
            127 => {
                self.need(10)?;
                at = 10;
                let mut b = [0u8; 8];
                b.copy_from_slice(&self.buf[2..10]);
                u64::from_be_bytes(b)
            }
            n => n as u64,
        };
        if len > 64 << 20 {
            return Err(ReadError::Gone);
        }
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
        let mut payload: Vec<u8> = self.buf[at..total].to_vec();
        self.buf.drain(..total);
        if let Some(k) = key {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= k[i % 4];
            }
        }
        Ok(Frame {
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 0x7,
            opcode: b0 & 0x0f,
            masked,
            payload,
        })
    }

    /// Sends one frame, masked according to the fault.
    fn send(&mut self, opcode: u8, payload: &[u8], rng: &mut Rng) -> io::Result<()> {
        let mask = match self.fault {
            ClientFault::UnmaskedFrames => None,
            ClientFault::FixedMaskKey => Some([1, 2, 3, 4]),
            ClientFault::CounterMaskKey => {
                self.frames_sent += 1;
                Some(self.frames_sent.to_be_bytes())
            }
            ClientFault::ZeroMaskKey => Some([0; 4]),
            _ => Some(rng.bytes::<4>()),
        };
        let mut out = Vec::with_capacity(payload.len() + 14);
        out.push(0x80 | opcode);
        let m = if mask.is_some() { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => out.push(m | n as u8),
            n if n <= 0xffff => {
                out.push(m | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(m | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        match mask {
            Some(k) => {
                out.extend_from_slice(&k);
                out.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
            }
            None => out.extend_from_slice(payload),
        }
        self.stream.write_all(&out)
    }

    fn send_close(&mut self, code: Option<u16>, rng: &mut Rng) {
        let payload = code.map(|c| c.to_be_bytes().to_vec()).unwrap_or_default();
        let _ = self.send(0x8, &payload, rng);
    }

    /// After the closing handshake (or failing the connection): discard
    /// whatever arrives until the server closes TCP, at most [`CLOSE_WAIT`].
    fn wait_eof(&mut self) {
        self.deadline = Instant::now() + CLOSE_WAIT;
        self.buf.clear();
        while self.fill().is_ok() {
            self.buf.clear();
        }
    }

    /// Fails the connection: a close frame with `code`, then wait for the
    /// server to close TCP.
    fn fail(&mut self, code: u16, rng: &mut Rng) {
        self.send_close(Some(code), rng);
        self.wait_eof();
    }

    /// The frame loop. With `echo`, data messages are echoed; without it they
    /// are collected and returned (bookkeeping connections).
    fn run(&mut self, rng: &mut Rng, echo: bool) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        // The message being reassembled: opcode and bytes so far.
        let mut msg: Option<(u8, Vec<u8>)> = None;
        let check_utf8 = self.fault != ClientFault::NoUtf8Check;
        loop {
            let Ok(f) = self.read_frame() else {
                return got;
            };
            let control = f.opcode >= 0x8;
            let reserved = matches!(f.opcode, 3..=7 | 0xb..=0xf);
            let masked = f.masked && self.fault != ClientFault::AcceptsMaskedServerFrames;
            let overlong = f.payload.len() > 125
                && !(f.opcode == 0x8 && self.fault == ClientFault::EchoOverlongClose);
            if masked || f.rsv != 0 || reserved || (control && (!f.fin || overlong)) {
                self.fail(1002, rng);
                return got;
            }
            let complete = match f.opcode {
                0x0 => match msg.as_mut() {
                    None => Err(Failure::Protocol),
                    Some((op, bytes)) => {
                        bytes.extend_from_slice(&f.payload);
                        if check_utf8 && *op == 0x1 && utf8_broken(bytes, f.fin) {
                            Err(Failure::Utf8)
                        } else {
                            Ok(f.fin)
                        }
                    }
                },
                0x1 | 0x2 if msg.is_some() => Err(Failure::Protocol),
                0x1 | 0x2 => {
                    let broken = check_utf8 && f.opcode == 0x1 && utf8_broken(&f.payload, f.fin);
                    msg = Some((f.opcode, f.payload));
                    if broken {
                        Err(Failure::Utf8)
                    } else {
                        Ok(f.fin)
                    }
                }
                0x8 => {
                    if self.fault == ClientFault::NeverEchoClose && echo {
                        continue;
                    }
                    if f.payload.len() > 125 {
                        // EchoOverlongClose: the close goes back as it came.
                        let _ = self.send(0x8, &f.payload, rng);
                        self.wait_eof();
                        return got;
                    }
                    let reply = match f.payload.len() {
                        0 if self.fault == ClientFault::Close1005OnTheWire => Some(1005),
                        0 => None,
                        1 => Some(1002),
                        _ => {
                            let code = u16::from_be_bytes([f.payload[0], f.payload[1]]);
                            if !close_code_valid(code) {
                                Some(1002)
                            } else if std::str::from_utf8(&f.payload[2..]).is_err() {
                                Some(1007)
                            } else {
                                Some(code)
                            }
                        }
                    };
                    self.send_close(reply, rng);
                    self.wait_eof();
                    return got;
                }
                0x9 => {
                    if self.send(0xa, &f.payload, rng).is_err() {
                        return got;
                    }
                    Ok(false)
                }
                _ => Ok(false), // pong: ignored
            };
            match complete {
                Err(Failure::Protocol) => {
                    self.fail(1002, rng);
                    return got;
                }
                Err(Failure::Utf8) => {
                    self.fail(1007, rng);
                    return got;
                }
                _ if self.fault == ClientFault::DropsLargeMessages
                    && msg.as_ref().is_some_and(|(_, b)| b.len() >= DROP_AT) =>
                {
                    return got;
                }
                Ok(false) => {}
                Ok(true) => {
                    let Some((op, bytes)) = msg.take() else {
                        continue;
                    };
                    if echo {
                        if self.send(op, &bytes, rng).is_err() {
                            return got;
                        }
                    } else {
                        got.push(bytes);
                    }
                }
            }
        }
    }
}

/// The checks RFC 6455 4.1 asks of a client reading the server's handshake
/// (this client offers neither subprotocols nor extensions), less the one the
/// fault skips.
fn response_acceptable(head: &str, key: &str, fault: ClientFault) -> bool {
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    if status.split_whitespace().nth(1) != Some("101") && fault != ClientFault::IgnoresStatus {
        return false;
    }
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let values = |name: &str| -> Vec<&str> {
        headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let has_token = |name: &str, token: &str| {
        values(name)
            .iter()
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    if !has_token("upgrade", "websocket") || !has_token("connection", "upgrade") {
        return false;
    }
    if !matches!(
        fault,
        ClientFault::IgnoresAccept | ClientFault::NoHandshakeKey
    ) {
        let mut h = Sha1::new();
        h.update(key.as_bytes());
        h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
        let want = base64::engine::general_purpose::STANDARD.encode(h.finalize().as_slice());
        let got = values("sec-websocket-accept");
        let matches = match got.as_slice() {
            [one] if fault == ClientFault::AcceptCaseInsensitive => one.eq_ignore_ascii_case(&want),
            [one] => *one == want,
            _ => false,
        };
        if !matches {
            return false;
        }
    }
    if fault != ClientFault::AcceptsUnofferedSubprotocol
        && !values("sec-websocket-protocol").is_empty()
    {
        return false;
    }
    values("sec-websocket-extensions").is_empty()
}

/// Whether `bytes` (a text message so far; `complete` when it is whole) is
/// invalid UTF-8. An incomplete sequence at the end of an unfinished message
/// is not an error yet.
fn utf8_broken(bytes: &[u8], complete: bool) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => false,
        Err(e) => complete || e.error_len().is_some(),
    }
}

/// Close codes that may appear on the wire (RFC 6455 7.4, IANA registry).
fn close_code_valid(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}
