//! `wsspec reference-client` against `wsspec serve`: the embedded reference
//! client is a correct client, so every client-role case of the corpus is OK
//! for it (INFORMATIONAL where a case is informational by definition), with
//! nothing FAILED, NON-STRICT, WRONG CODE or UNCLEAN. Both sides run as the
//! real binary, over loopback, through Autobahn's fuzzing-server protocol.

#[path = "common/harness.rs"]
mod harness;
#[path = "common/serve_proc.rs"]
mod serve_proc;

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serve_proc::{exit_within, Serve};
use wsspec::case::filter::glob_match;
use wsspec::case::{Case, Role};

/// Every group with client-role cases: Autobahn's 1–7, 9, 10, 12 and 13
/// (rows 1–5 of each compression subgroup; the rest is the benchmark's), and
/// wsspec's own client cases (masking, the client's side of the handshake,
/// permessage-deflate).
const GROUPS: [&str; 13] = [
    "1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*", "12.*", "13.*", "cl.*", "pmd.*",
];

// Rows 6–18 of 12.x and 13.x, left to the benchmark.
use harness::COMPRESSION_BEYOND_CI as BEYOND_CI;

const AGENT: &str = "refclient";

/// The client-role cases `serve --cases GROUPS...` selects.
fn selected() -> Vec<Case> {
    let cases = wsspec::case::load::load(&wsspec::case::embedded_sources()).expect("corpus");
    cases
        .into_iter()
        .filter(|c| {
            c.spec.roles.contains(&Role::Client)
                && GROUPS.iter().any(|p| glob_match(p, &c.spec.id))
                && !BEYOND_CI.iter().any(|p| glob_match(p, &c.spec.id))
        })
        .collect()
}

/// A child process killed when the test ends, whichever way it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// `wsspec reference-client URL --agent AGENT` (and `--shutdown`).
fn reference_client(url: &str, shutdown: bool) -> Reaped {
    Reaped(
        Command::new(env!("CARGO_BIN_EXE_wsspec"))
            .args(["reference-client", url, "--agent", AGENT])
            .args(shutdown.then_some("--shutdown"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start wsspec reference-client"),
    )
}

#[test]
fn reference_client_is_ok_on_every_client_case() {
    let started = Instant::now();
    let cases = selected();
    let excludes: Vec<&str> = BEYOND_CI.iter().flat_map(|p| ["--exclude", p]).collect();
    let mut server = Serve::start(AGENT, &GROUPS, &excludes);
    let mut client = reference_client(&server.url(), true);
    let code = exit_within(&mut client.0, Duration::from_secs(300));
    assert_eq!(
        code,
        Some(0),
        "reference-client did not finish cleanly within 300 s"
    );
    // updateReports&shutdownOnComplete=true: serve writes reports and exits.
    assert!(
        server.finish(Duration::from_secs(20)).is_some(),
        "wsspec serve did not shut down after updateReports"
    );
    let dir = server.report_dir.clone();
    let path = dir.join(AGENT).join("results.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let results: serde_json::Value = serde_json::from_str(&text).expect("results.json");
    let reported = results["cases"].as_array().expect("cases in results.json");

    let want: BTreeSet<&str> = cases.iter().map(|c| c.spec.id.as_str()).collect();
    let got: BTreeSet<&str> = reported.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(
        reported.len(),
        cases.len(),
        "one result per selected case; missing {:?}, unexpected {:?}",
        want.difference(&got).collect::<Vec<_>>(),
        got.difference(&want).collect::<Vec<_>>()
    );

    let informational: BTreeSet<&str> = cases
        .iter()
        .filter(|c| c.spec.informational)
        .map(|c| c.spec.id.as_str())
        .collect();
    let mut bad = Vec::new();
    for c in reported {
        let id = c["id"].as_str().unwrap_or("?");
        let v = &c["verdict"];
        let (behavior, close) = (
            v["behavior"].as_str().unwrap_or("?"),
            v["close"].as_str().unwrap_or("?"),
        );
        let allowed: &[&str] = if informational.contains(id) {
            &["OK", "INFORMATIONAL"]
        } else {
            &["OK"]
        };
        let close_ok = close == "OK" || close == "INFORMATIONAL";
        if !allowed.contains(&behavior) || !close_ok {
            bad.push(format!(
                "{id}: {behavior} ({}) / close {close} ({})",
                v["behavior_reason"].as_str().unwrap_or(""),
                v["close_reason"].as_str().unwrap_or("")
            ));
        }
    }
    if bad.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    eprintln!(
        "reference client: {} cases in {:.1} s",
        reported.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        bad.is_empty(),
        "{} of {} cases not OK (transcripts in {}):\n{}",
        bad.len(),
        reported.len(),
        path.display(),
        bad.join("\n")
    );
}

/// Reads an HTTP request head from `s`; returns it as text.
fn read_request(s: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// The 101 for a request, written in `pieces` writes, with `after` in the last.
fn answer_101(s: &mut std::net::TcpStream, request: &str, pieces: usize, after: &[u8]) {
    use std::io::Write;
    let key = request
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-key"))
        .map(|(_, v)| v.trim().to_string())
        .expect("the client sent a key");
    let mut bytes = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade, keep-alive\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        wsspec::wire::handshake::accept_for(&key)
    )
    .into_bytes();
    let step = bytes.len().div_ceil(pieces);
    bytes.extend_from_slice(after);
    let mut chunks: Vec<&[u8]> = bytes.chunks(step).collect();
    // The bytes after the head travel with the head's last piece.
    if chunks.len() > pieces {
        let tail = chunks.split_off(pieces - 1).concat();
        for c in chunks {
            s.write_all(c).expect("write");
            std::thread::sleep(Duration::from_millis(2));
        }
        s.write_all(&tail).expect("write");
    } else {
        for c in chunks {
            s.write_all(c).expect("write");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Reads the client's frames until a close frame; returns its code.
fn read_close_code(s: &mut std::net::TcpStream) -> Option<u16> {
    use std::io::Read;
    let mut head = [0u8; 2];
    loop {
        s.read_exact(&mut head).ok()?;
        let len = match head[1] & 0x7f {
            126 => {
                let mut l = [0u8; 2];
                s.read_exact(&mut l).ok()?;
                u16::from_be_bytes(l) as usize
            }
            127 => return None,
            n => n as usize,
        };
        let mut mask = [0u8; 4];
        if head[1] & 0x80 != 0 {
            s.read_exact(&mut mask).ok()?;
        }
        let mut payload = vec![0u8; len];
        s.read_exact(&mut payload).ok()?;
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= mask[i % 4];
        }
        if head[0] & 0x0f == 8 {
            return payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
        }
    }
}

/// A frame that arrives in the same write as the 101 (here after a head split
/// over five writes) reaches the UTF-8 guard: a text frame announcing 1000
/// bytes whose third byte is invalid UTF-8 makes the client fail the connection
/// with 1007 at once, without waiting for the rest of the frame (which never
/// comes; tungstenite alone would wait for it).
#[test]
fn bytes_sent_with_the_101_pass_the_utf8_guard() {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        let mut codes = Vec::new();
        for n in 0..4 {
            let (mut s, _) = listener.accept().expect("accept");
            s.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            let request = read_request(&mut s);
            match n {
                0 => {
                    assert!(request.starts_with("GET /getCaseCount "), "{request}");
                    answer_101(&mut s, &request, 1, b"\x81\x011\x88\x02\x03\xe8");
                }
                // The client asks for the case's id (to know whether to
                // offer permessage-deflate).
                1 => {
                    assert!(request.starts_with("GET /getCaseInfo?case=1 "), "{request}");
                    answer_101(
                        &mut s,
                        &request,
                        1,
                        b"\x81\x0e{\"id\":\"1.1.1\"}\x88\x02\x03\xe8",
                    );
                }
                2 => {
                    assert!(request.starts_with("GET /runCase?case=1&"), "{request}");
                    answer_101(&mut s, &request, 5, b"\x81\x7e\x03\xe8ab\xff");
                }
                _ => {
                    assert!(request.starts_with("GET /updateReports?"), "{request}");
                    answer_101(&mut s, &request, 1, b"");
                }
            }
            let code = read_close_code(&mut s);
            if n != 2 {
                let _ = s.write_all(b"\x88\x02\x03\xe8");
            }
            codes.push(code);
        }
        codes
    });
    let mut client = reference_client(&format!("ws://127.0.0.1:{port}"), false);
    let codes = server.join().expect("fake server");
    assert!(
        exit_within(&mut client.0, Duration::from_secs(10)).is_some(),
        "the reference client did not finish"
    );
    assert_eq!(
        codes[2],
        Some(1007),
        "close codes per connection: {codes:?}"
    );
}
