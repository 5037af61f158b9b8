//! Hand-rolled TCP servers for tests that need a server to misbehave in ways
//! no WebSocket library would: each connection gets its own thread, which
//! reads the request head a byte at a time (never a byte past it) and hands
//! the head to the test's behaviour, which may answer the upgrade with
//! [`switch`] (or [`switching_protocols`] for a response of its own) and
//! then do whatever the test needs.
//!
//! The accept value is computed here, from RFC 6455 4.2.2, not with
//! wsspec's own `accept_for`: the servers do not lean on the code under test.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// The most request-head bytes a server reads; a longer head is cut there.
const MAX_HEAD: usize = 65536;

/// Listens on a free loopback port and serves every connection on a thread
/// of its own: reads the request head (each read bounded by `read_timeout`,
/// when given), then calls `behave` with the stream and the head as text. A
/// connection that ends or times out before its head is complete is dropped.
/// Returns the `ws://` URL of the server.
pub fn serve<F>(read_timeout: Option<Duration>, behave: F) -> String
where
    F: Fn(&mut TcpStream, &str) + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}/", listener.local_addr().expect("addr"));
    let behave = Arc::new(behave);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let behave = Arc::clone(&behave);
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(read_timeout);
                if let Some(head) = read_head(&mut stream) {
                    behave(&mut stream, &head);
                }
            });
        }
    });
    url
}

/// Reads up to the end of the request head (`\r\n\r\n`) one byte at a time,
/// so nothing after it is consumed, or the first [`MAX_HEAD`] bytes of a
/// longer one. `None` when the stream ends, fails or times out first.
pub fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < MAX_HEAD {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// The `Sec-WebSocket-Accept` value for the `Sec-WebSocket-Key` in `head`
/// (the key of an empty string when there is none).
pub fn accept_value(head: &str) -> String {
    use base64::Engine;
    use sha1::{Digest, Sha1};
    let key = head
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap_or("")
        .trim();
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// A right 101 answer to the request `head`, with `extra_headers` (each
/// ending in `\r\n`) between the status line and the upgrade headers.
pub fn switching_protocols(head: &str, extra_headers: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\n{extra_headers}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_value(head)
    )
}

/// Answers the request `head` with a right 101; whether it was written.
pub fn switch(stream: &mut TcpStream, head: &str) -> bool {
    stream
        .write_all(switching_protocols(head, "").as_bytes())
        .is_ok()
}
