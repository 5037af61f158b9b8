//! Bulk throughput and per-case cost, each next to baselines measured in the
//! same invocation (docs/benchmarks.md, "Bulk throughput and per-case cost").
//!
//! Run with `scripts/bench-bulk.sh` (or `cargo bench --bench bulk`). One
//! process, one tokio multi-thread runtime (one worker per core) with the
//! embedded reference server on it, as in `wsspec run` without a URL, and:
//!
//! - **bulk**: group 9's two 16 MiB messages (9.1.6 text, 9.2.6 binary)
//!   echoed, each connection timed from its start to the end of TCP, by five
//!   clients in turn: `wsspec::suite::run` over the case alone (probe,
//!   handshake, send, echo, judging, result) and a minimal tokio-tungstenite
//!   client sending the same message and reading its echo, each against the
//!   reference server (which holds a whole message before echoing it) and
//!   against a streaming echo peer defined here (which echoes each piece of a
//!   frame as it arrives, so the clients' own cost shows); and a raw TCP echo
//!   on loopback (a tokio echo server on the same runtime, a client writing
//!   the same bytes while it reads them back). MB/s counts
//!   the message's payload (16,777,216 bytes, MB = 10^6 bytes) per round trip.
//! - **per case**: the server-role cases of groups 1–7 and 10, with and
//!   without the four cases that wait on the clock (6.4.1–6.4.4), at `--jobs
//!   1` and at the default 16, in cases per second, next to as many minimal
//!   tokio-tungstenite connections (handshake, one echo, close) at the same
//!   concurrency: the baseline of `benches/suite.rs`.
//!
//! The five bulk clients and the suite runs and their baselines alternate
//! round by round, so that other work on the machine weighs on all of them
//! alike; the figures are medians over the rounds. `WSSPEC_BULK_ROUNDS`
//! (default 7) and `WSSPEC_CASE_ROUNDS` (default 5) set the rounds; an
//! argument `bulk` or `cases` runs only that part. With `WSSPEC_BULK_TRACE`
//! set, one more run of each bulk case by wsspec against each peer prints
//! its timeline (when each transcript event was recorded).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use wsspec::case::{self, Case, Role, Selection};
use wsspec::judge::Outcome;
use wsspec::results::RunResults;
use wsspec::run::{RunOptions, Target};
use wsspec::suite::SuiteConfig;

/// Group 9's 16 MiB messages.
const MIB16: usize = 16 << 20;

/// Autobahn's groups 1–7 and 10 (the per-case part).
const GROUPS: [&str; 8] = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"];

/// The cases of `GROUPS` that wait on the clock by design (benches/suite.rs).
const TIMED_WAITS: [&str; 4] = ["6.4.1", "6.4.2", "6.4.3", "6.4.4"];

/// `wsspec run`'s default `--jobs`.
const DEFAULT_JOBS: usize = 16;

/// The message baseline and wsspec send in the per-case baseline.
const ECHO: &str = "Hello, wsspec";

/// Size of the raw echo's reads and writes: wsspec's own write pieces and
/// read buffer are 64 KiB too.
const PIECE: usize = 64 * 1024;

fn main() {
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("cannot build a tokio runtime");
    let (server, _task) = rt
        .block_on(wsspec::reference::bind("127.0.0.1:0"))
        .expect("the reference server cannot bind 127.0.0.1:0");
    println!(
        "wsspec bulk bench: {} cores, reference server at {server}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if only.as_deref().is_none_or(|o| o == "bulk") {
        bulk(&rt, server, rounds("WSSPEC_BULK_ROUNDS", 7));
    }
    if only.as_deref().is_none_or(|o| o == "cases") {
        per_case(&rt, server, rounds("WSSPEC_CASE_ROUNDS", 5));
    }
}

fn rounds(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

// ---------------------------------------------------------------- bulk

/// One of the two 16 MiB cases, its payload as the case file builds it.
struct BulkCase {
    id: &'static str,
    text: bool,
    payload: Arc<Vec<u8>>,
    case: Vec<Case>,
}

impl BulkCase {
    fn new(id: &'static str, text: bool, pattern: &[u8]) -> BulkCase {
        let payload: Vec<u8> = pattern.iter().copied().cycle().take(MIB16).collect();
        BulkCase {
            id,
            text,
            payload: Arc::new(payload),
            case: corpus(&[id], &[]),
        }
    }

    /// The message the tungstenite client sends, built (outside the timing)
    /// from bytes it holds already, as an application would; wsspec builds
    /// its payload from the case each time, inside its timing.
    fn message(&self) -> Message {
        if self.text {
            Message::text(String::from_utf8(self.payload.to_vec()).expect("9.1.6 is ASCII"))
        } else {
            Message::binary(self.payload.to_vec())
        }
    }
}

/// The bulk part's clients, in the order they take turns in each round:
/// (peer, client). `ref` is the embedded reference server (which holds each
/// message whole before echoing it: tungstenite, or for a single frame of
/// 1 MiB or more its own layer, `reference::bulk_echo`), `stream` the streaming echo
/// peer below, `raw` the raw TCP echo.
const BULK_CLIENTS: [(&str, &str); 5] = [
    ("ref", "wsspec"),
    ("ref", "tungstenite"),
    ("stream", "wsspec"),
    ("stream", "tungstenite"),
    ("raw", "raw TCP"),
];

fn bulk(rt: &Runtime, server: SocketAddr, rounds: usize) {
    let cases = [
        // 9.1.6: `repeat: "BAsd7&jh23"`; 9.2.6: `repeat_hex: "00fe23faf0"`.
        BulkCase::new("9.1.6", true, b"BAsd7&jh23"),
        BulkCase::new("9.2.6", false, &[0x00, 0xfe, 0x23, 0xfa, 0xf0]),
    ];
    let config = suite_config(server, DEFAULT_JOBS);
    let (echo, _echo_task) = rt.block_on(raw_echo_server());
    let (stream, _stream_task) = rt.block_on(streaming_echo_server());
    let stream_config = suite_config(stream, DEFAULT_JOBS);
    println!("streaming echo peer at {stream}, raw TCP echo at {echo}");

    // Unmeasured warm-up, checking every setup: the cases pass (against the
    // streaming peer, with the verdict OK: a broken peer is noticed), the
    // echoes come back whole.
    for c in &cases {
        check_run(&rt.block_on(run_suite(&c.case, &config)), &c.case);
        let streamed = rt.block_on(run_suite(&c.case, &stream_config));
        check_run(&streamed, &c.case);
        for r in &streamed.cases {
            assert!(
                r.verdict.outcome == Outcome::Ok,
                "wsspec should judge the streaming echo peer OK on {}: {:?} {}",
                r.id,
                r.verdict.outcome,
                r.verdict.behavior_reason
            );
        }
        rt.block_on(tungstenite_echo(server, c, c.message()));
        rt.block_on(tungstenite_echo(stream, c, c.message()));
        let back = rt.block_on(raw_echo(echo, &c.payload));
        assert!(back == *c.payload, "raw echo: the bytes came back changed");
    }

    let mut times: [[Vec<Duration>; 5]; 2] = Default::default();
    for _ in 0..rounds {
        for (i, c) in cases.iter().enumerate() {
            times[i][0].push(timed(|| {
                rt.block_on(run_suite(&c.case, &config));
            }));
            let msg = c.message();
            times[i][1].push(timed(|| rt.block_on(tungstenite_echo(server, c, msg))));
            times[i][2].push(timed(|| {
                rt.block_on(run_suite(&c.case, &stream_config));
            }));
            let msg = c.message();
            times[i][3].push(timed(|| rt.block_on(tungstenite_echo(stream, c, msg))));
            let mut back = Vec::new();
            times[i][4].push(timed(|| back = rt.block_on(raw_echo(echo, &c.payload))));
            assert!(back == *c.payload, "raw echo: the bytes came back changed");
        }
    }

    if std::env::var_os("WSSPEC_BULK_TRACE").is_some() {
        for c in &cases {
            for (peer, config) in [("ref", &config), ("stream", &stream_config)] {
                trace(rt, c, peer, config);
            }
        }
    }

    println!(
        "\nbulk: one 16 MiB message echoed per connection, median of {rounds} (MB/s = 10^6 payload bytes per second of the round trip)"
    );
    println!(
        "peers: ref = the reference server (whole messages), stream = the streaming echo peer"
    );
    println!(
        "{:<7} {:<7} {:<12} {:>10} {:>7} {:>6} {:>9}",
        "case", "peer", "client", "time", "MB/s", "×raw", "×tungst."
    );
    for (i, c) in cases.iter().enumerate() {
        let med: Vec<Duration> = times[i].iter().map(|t| median(t)).collect();
        let rate = |d: Duration| MIB16 as f64 / d.as_secs_f64() / 1e6;
        for (j, (peer, client)) in BULK_CLIENTS.iter().enumerate() {
            // ×tungstenite: against the tungstenite client on the same peer.
            let same_peer = match *peer {
                "ref" => format!("{:>9.2}", rate(med[j]) / rate(med[1])),
                "stream" => format!("{:>9.2}", rate(med[j]) / rate(med[3])),
                _ => format!("{:>9}", "-"),
            };
            println!(
                "{:<7} {:<7} {:<12} {:>7.1} ms {:>7.0} {:>6.2} {}",
                c.id,
                peer,
                client,
                med[j].as_secs_f64() * 1e3,
                rate(med[j]),
                rate(med[j]) / rate(med[4]),
                same_peer,
            );
        }
        for (j, (peer, client)) in BULK_CLIENTS.iter().enumerate() {
            let all = times[i][j]
                .iter()
                .map(|d| format!("{:.1}", d.as_secs_f64() * 1e3))
                .collect::<Vec<_>>()
                .join(" ");
            println!("        samples (ms), {peer} {client}: {all}");
        }
    }
}

/// One more run of `c` by wsspec against `peer`, its timeline printed
/// (`WSSPEC_BULK_TRACE`): the wall of `suite::run`, the case's own duration,
/// and when each transcript event was recorded.
fn trace(rt: &Runtime, c: &BulkCase, peer: &str, config: &SuiteConfig) {
    let t = Instant::now();
    let results = rt.block_on(run_suite(&c.case, config));
    let wall = t.elapsed();
    for r in &results.cases {
        let events: Vec<String> = r
            .transcript
            .events
            .iter()
            .map(|e| {
                let json = serde_json::to_value(e).unwrap_or_default();
                let name = json["event"].as_str().unwrap_or("?").to_string();
                format!("{:.1} {name}", e.at_us as f64 / 1e3)
            })
            .collect();
        println!(
            "trace {} {peer}: suite::run {:.1} ms, case {:.1} ms; events (ms): {}",
            c.id,
            wall.as_secs_f64() * 1e3,
            r.transcript.duration_us as f64 / 1e3,
            events.join(", ")
        );
    }
}

/// The minimal tokio-tungstenite client: connect (`TCP_NODELAY`), handshake,
/// the message sent while its echo is read (checked), the closing handshake,
/// the end of TCP.
async fn tungstenite_echo(server: SocketAddr, c: &BulkCase, msg: Message) {
    let tcp = TcpStream::connect(server)
        .await
        .expect("cannot connect to the reference server");
    let _ = tcp.set_nodelay(true);
    let config = WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    let (ws, _) =
        tokio_tungstenite::client_async_with_config(format!("ws://{server}/"), tcp, Some(config))
            .await
            .expect("client handshake failed");
    // Sending on its own task while the echo is read: a peer that echoes as
    // it reads (the streaming one) blocks on its writes until the echo is
    // read, so a client that only reads once it has sent would deadlock.
    let (mut sink, mut stream) = ws.split();
    let sending = tokio::spawn(async move {
        sink.send(msg).await.expect("cannot send");
        sink
    });
    match stream.next().await {
        Some(Ok(Message::Text(t))) if c.text => assert_eq!(t.len(), MIB16, "short echo"),
        Some(Ok(Message::Binary(b))) if !c.text => assert_eq!(b.len(), MIB16, "short echo"),
        other => panic!("expected the echo of {}, got {other:?}", c.id),
    }
    let mut sink = sending.await.expect("the sending task failed");
    sink.close().await.expect("cannot send the close frame");
    while let Some(Ok(_)) = stream.next().await {}
    let mut tcp = sink
        .reunite(stream)
        .expect("the halves of one stream")
        .into_inner();
    let mut rest = [0u8; 256];
    while matches!(tcp.read(&mut rest).await, Ok(1..)) {}
}

/// A TCP echo server on loopback: every byte read is written back, in reads
/// of up to [`PIECE`].
async fn raw_echo_server() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("the raw echo server cannot bind");
    let addr = listener.local_addr().expect("no local address");
    let task = tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            tokio::spawn(async move {
                let mut buf = vec![0u8; PIECE];
                loop {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if tcp.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
    });
    (addr, task)
}

/// The raw echo's client: connect, write `payload` in [`PIECE`]s while
/// reading it back into a buffer, end the sending side, read to the end.
/// Returns what came back (the caller compares it, outside the timing).
async fn raw_echo(server: SocketAddr, payload: &Arc<Vec<u8>>) -> Vec<u8> {
    let tcp = TcpStream::connect(server)
        .await
        .expect("cannot connect to the raw echo server");
    let _ = tcp.set_nodelay(true);
    let (mut r, mut w) = tcp.into_split();
    let data = payload.clone();
    let writer = tokio::spawn(async move {
        for piece in data.chunks(PIECE) {
            w.write_all(piece).await.expect("raw echo: cannot write");
        }
        w.shutdown().await.expect("raw echo: cannot shut down");
    });
    let mut back = vec![0u8; payload.len()];
    r.read_exact(&mut back).await.expect("raw echo: short echo");
    let mut rest = [0u8; 256];
    while matches!(r.read(&mut rest).await, Ok(1..)) {}
    writer.await.expect("raw echo: the writer failed");
    back
}

/// The streaming echo peer: a WebSocket server that echoes each frame as it
/// streams in. Once a data frame's header has arrived it writes the same
/// opcode, FIN and length unmasked, then every piece of the payload as soon
/// as it is read and unmasked (reads of up to [`PIECE`]): no whole-message
/// assembly, no UTF-8 check, no limits. Pings are answered with pongs, pongs
/// ignored, a close is answered with the same close body, after which it
/// ends TCP. The least work a conforming echo can do, so that the client's
/// own cost shows (the reference server holds every 16 MiB message whole
/// before it echoes it).
async fn streaming_echo_server() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("the streaming echo peer cannot bind");
    let addr = listener.local_addr().expect("no local address");
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            tokio::spawn(async move {
                // A connection that ends early (wsspec's probe) is no error.
                let _ = stream_echo(tcp).await;
            });
        }
    });
    (addr, task)
}

/// A frame of [`stream_echo`] whose payload is still arriving.
struct Streaming {
    opcode: u8,
    key: [u8; 4],
    /// Payload bytes still to come.
    left: u64,
    /// Payload bytes seen so far (the mask's offset).
    seen: usize,
    /// A control frame's payload, answered once whole (at most 125 bytes).
    control: Vec<u8>,
}

/// The header of an unmasked frame carrying `len` payload bytes.
fn frame_header(first: u8, len: u64) -> Vec<u8> {
    let mut h = vec![first];
    match len {
        0..=125 => h.push(len as u8),
        126..=0xffff => {
            h.push(126);
            h.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            h.push(127);
            h.extend_from_slice(&len.to_be_bytes());
        }
    }
    h
}

/// Parses a client frame's header (masked or not) from the start of `buf`:
/// (first byte, mask key, payload length, header length), or `None` while
/// incomplete.
fn parse_head(buf: &[u8]) -> Option<(u8, [u8; 4], u64, usize)> {
    let (&first, rest) = buf.split_first()?;
    let (&second, rest) = rest.split_first()?;
    let (len, ext) = match second & 0x7f {
        126 => (
            u16::from_be_bytes(rest.get(..2)?.try_into().ok()?) as u64,
            2,
        ),
        127 => (u64::from_be_bytes(rest.get(..8)?.try_into().ok()?), 8),
        n => (n as u64, 0),
    };
    let mut key = [0u8; 4];
    let mut used = 2 + ext;
    if second & 0x80 != 0 {
        key.copy_from_slice(buf.get(used..used + 4)?);
        used += 4;
    }
    Some((first, key, len, used))
}

async fn stream_echo(mut tcp: TcpStream) -> std::io::Result<()> {
    let mut buf = vec![0u8; PIECE];
    // The opening handshake: the request's end, its key, the 101.
    let mut have = 0;
    let end = loop {
        let n = tcp.read(&mut buf[have..]).await?;
        if n == 0 {
            return Ok(());
        }
        have += n;
        if let Some(i) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if have == buf.len() {
            return Ok(());
        }
    };
    let request = String::from_utf8_lossy(&buf[..end]).into_owned();
    let Some(key) = request.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("sec-websocket-key")
            .then(|| value.trim())
    }) else {
        return Ok(());
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    tcp.write_all(
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        )
        .as_bytes(),
    )
    .await?;

    // Frames, echoed as they stream: `buf[start..have]` is read, not handled.
    let mut start = end;
    let mut frame: Option<Streaming> = None;
    loop {
        let need_more = match &frame {
            None => parse_head(&buf[start..have]).is_none(),
            Some(f) => f.left > 0 && start == have,
        };
        if need_more {
            buf.copy_within(start..have, 0);
            have -= start;
            start = 0;
            let n = tcp.read(&mut buf[have..]).await?;
            if n == 0 {
                return Ok(());
            }
            have += n;
            continue;
        }
        if frame.is_none() {
            let Some((first, key, len, used)) = parse_head(&buf[start..have]) else {
                continue;
            };
            start += used;
            let opcode = first & 0x0f;
            if opcode < 8 {
                tcp.write_all(&frame_header(first & 0x8f, len)).await?;
            }
            frame = Some(Streaming {
                opcode,
                key,
                left: len,
                seen: 0,
                control: Vec::new(),
            });
        }
        let Some(f) = frame.as_mut() else {
            continue;
        };
        let take = f.left.min((have - start) as u64) as usize;
        let piece = &mut buf[start..start + take];
        wsspec::wire::frame::apply_mask(piece, f.key, f.seen);
        if f.opcode < 8 {
            tcp.write_all(piece).await?;
        } else {
            f.control.extend_from_slice(piece);
        }
        start += take;
        f.seen += take;
        f.left -= take as u64;
        if f.left > 0 {
            continue;
        }
        match f.opcode {
            // Ping: the same payload in a pong.
            9 => {
                let mut pong = frame_header(0x8a, f.control.len() as u64);
                pong.extend_from_slice(&f.control);
                tcp.write_all(&pong).await?;
            }
            // Close: the same body back, then the end of TCP.
            8 => {
                let mut close = frame_header(0x88, f.control.len() as u64);
                close.extend_from_slice(&f.control);
                tcp.write_all(&close).await?;
                tcp.shutdown().await?;
                let mut rest = [0u8; 256];
                while matches!(tcp.read(&mut rest).await, Ok(1..)) {}
                return Ok(());
            }
            _ => {}
        }
        frame = None;
    }
}

// ------------------------------------------------------------ per case

fn per_case(rt: &Runtime, server: SocketAddr, rounds: usize) {
    let sets = [
        ("groups 1-7, 10", corpus(&GROUPS, &[])),
        ("the same but 6.4.1-6.4.4", corpus(&GROUPS, &TIMED_WAITS)),
    ];
    let jobs = [1, DEFAULT_JOBS];
    // Warm-up and check of each setup.
    for (_, cases) in &sets {
        for &j in &jobs {
            check_run(
                &rt.block_on(run_suite(cases, &suite_config(server, j))),
                cases,
            );
            rt.block_on(handshakes(server, cases.len(), j));
        }
    }
    let mut times = vec![[Vec::new(), Vec::new()]; sets.len() * jobs.len()];
    for _ in 0..rounds {
        for (s, (_, cases)) in sets.iter().enumerate() {
            for (k, &j) in jobs.iter().enumerate() {
                let config = suite_config(server, j);
                let slot = &mut times[s * jobs.len() + k];
                slot[0].push(timed(|| {
                    rt.block_on(run_suite(cases, &config));
                }));
                slot[1].push(timed(|| rt.block_on(handshakes(server, cases.len(), j))));
            }
        }
    }
    println!("\nper case: whole runs, median of {rounds}");
    println!(
        "{:<26} {:>4} {:>5} {:>11} {:>10} {:>11} {:>10} {:>7}",
        "cases", "jobs", "n", "wsspec", "cases/s", "baseline", "conns/s", "ratio"
    );
    for (s, (name, cases)) in sets.iter().enumerate() {
        for (k, &j) in jobs.iter().enumerate() {
            let slot = &times[s * jobs.len() + k];
            let (w, b) = (median(&slot[0]), median(&slot[1]));
            let n = cases.len() as f64;
            println!(
                "{:<26} {:>4} {:>5} {:>8.1} ms {:>10.0} {:>8.1} ms {:>10.0} {:>7.2}",
                name,
                j,
                cases.len(),
                w.as_secs_f64() * 1e3,
                n / w.as_secs_f64(),
                b.as_secs_f64() * 1e3,
                n / b.as_secs_f64(),
                w.as_secs_f64() / b.as_secs_f64(),
            );
        }
    }
    println!(
        "(ratio: wsspec's wall divided by the baseline's; 1.00 = as fast as the minimal client)"
    );
}

/// The least a case can cost (as in benches/suite.rs): connect TCP, a
/// tokio-tungstenite handshake, one text message and its echo, the closing
/// handshake, and the server's end of TCP read.
async fn handshake_echo_close(server: SocketAddr) {
    let tcp = TcpStream::connect(server)
        .await
        .expect("cannot connect to the reference server");
    let _ = tcp.set_nodelay(true);
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{server}/"), tcp)
        .await
        .expect("client handshake failed");
    ws.send(Message::text(ECHO)).await.expect("cannot send");
    match ws.next().await {
        Some(Ok(Message::Text(t))) if t.as_str() == ECHO => {}
        other => panic!("expected the echo of {ECHO:?}, got {other:?}"),
    }
    ws.close(None).await.expect("cannot send the close frame");
    while let Some(Ok(_)) = ws.next().await {}
    let mut tcp = ws.into_inner();
    let mut rest = [0u8; 256];
    while matches!(tcp.read(&mut rest).await, Ok(1..)) {}
}

/// `n` of [`handshake_echo_close`], `jobs` at a time, each on its own task,
/// scheduled the way `suite::run` schedules cases.
async fn handshakes(server: SocketAddr, n: usize, jobs: usize) {
    let limit = Arc::new(Semaphore::new(jobs));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let permit = limit
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore closed");
        tasks.spawn(async move {
            handshake_echo_close(server).await;
            drop(permit);
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a baseline connection failed");
    }
}

// -------------------------------------------------------------- shared

/// The embedded corpus's server-role cases that `include` and `exclude` select.
fn corpus(include: &[&str], exclude: &[&str]) -> Vec<Case> {
    let all = case::load::load(&case::embedded_sources()).expect("the embedded corpus loads");
    let sel = Selection {
        include: include.iter().map(|s| s.to_string()).collect(),
        exclude: exclude.iter().map(|s| s.to_string()).collect(),
    };
    let cases: Vec<Case> = all
        .into_iter()
        .filter(|c| c.spec.roles.contains(&Role::Server) && sel.selects(&c.spec.id))
        .collect();
    assert!(!cases.is_empty(), "no server-role case matches {include:?}");
    cases
}

fn suite_config(server: SocketAddr, jobs: usize) -> SuiteConfig {
    let url = format!("ws://{server}/");
    SuiteConfig {
        target: Target::parse(&url).expect("a valid target"),
        agent: "bench".into(),
        options: RunOptions::default(),
        jobs,
        strict: false,
        snapshots: None,
        allow: Default::default(),
        strict_allowlist: false,
    }
}

async fn run_suite(cases: &[Case], config: &SuiteConfig) -> RunResults {
    wsspec::suite::run(cases, config, &mut wsspec::report::Reporters::new())
        .await
        .expect("the suite did not start")
}

/// Every case ran and none FAILED or hit an ERROR: a broken setup cannot
/// pass for a fast one.
fn check_run(results: &RunResults, cases: &[Case]) {
    assert_eq!(results.cases.len(), cases.len(), "not every case ran");
    for c in &results.cases {
        assert!(
            !matches!(c.verdict.outcome, Outcome::Failed | Outcome::Error),
            "the reference server should pass {}: {:?} {}",
            c.id,
            c.verdict.outcome,
            c.verdict.behavior_reason
        );
    }
}

fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn median(samples: &[Duration]) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    s[s.len() / 2]
}
