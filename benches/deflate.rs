//! The floor for Autobahn's compression groups: a minimal client that makes
//! the same round trips as wsspec's cases 12.x and 13.x against a server (the
//! same offer, the same messages, the same fragmentation, zlib level 6 via
//! flate2, each message sent after the previous echo, every echo inflated and
//! compared) and nothing else: no transcript, no judging, no reports. What
//! wsspec costs above this is the price of being a harness.
//!
//! `cargo bench --bench deflate -- ws://127.0.0.1:PORT [GLOB...]` (default
//! globs: `12.*` `13.*`). `scripts/bench-deflate.sh` starts Node's `ws`, runs
//! `wsspec run` and this baseline one after the other and prints both wall
//! times and their ratio (docs/benchmarks.md, "Compression").

use std::time::Instant;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsspec::case::model::{Payload, Step};
use wsspec::case::{self, Case, Role, Selection};

const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];

/// What one case does, read off its definition.
struct Plan {
    id: String,
    offer: String,
    text: bool,
    kind: wsspec::case::payload_kinds::PayloadKind,
    len: usize,
    fragment: Option<usize>,
    times: u32,
}

fn plan(c: &Case) -> Option<Plan> {
    let offer = c.spec.deflate.as_ref()?.offer_text().to_string();
    c.spec.steps.iter().find_map(|s| match s {
        Step::Repeat(r) => r.steps.iter().find_map(|inner| match inner {
            Step::Send(f) => match &f.payload {
                Payload::Sample { kind, len } => Some(Plan {
                    id: c.spec.id.clone(),
                    offer: offer.clone(),
                    text: f.opcode.0 == 1,
                    kind: *kind,
                    len: *len,
                    fragment: f.fragment,
                    times: r.times,
                }),
                _ => None,
            },
            _ => None,
        }),
        _ => None,
    })
}

/// The agreed parameters the baseline needs, read leniently from the answer.
struct Agreed {
    client_bits: u8,
    client_resets: bool,
    server_bits: u8,
}

fn agreed(answer: &str, offer: &str) -> Agreed {
    let bits = |name: &str| {
        answer
            .split(';')
            .map(str::trim)
            .find_map(|p| p.strip_prefix(name)?.strip_prefix('=')?.trim().parse().ok())
            .unwrap_or(15u8)
    };
    Agreed {
        client_bits: bits("client_max_window_bits").max(9),
        client_resets: answer.contains("client_no_context_takeover")
            || offer.contains("client_no_context_takeover"),
        server_bits: bits("server_max_window_bits").max(9),
    }
}

async fn read_exact_into(s: &mut TcpStream, buf: &mut Vec<u8>, n: usize) -> std::io::Result<()> {
    let start = buf.len();
    buf.resize(start + n, 0);
    s.read_exact(&mut buf[start..]).await.map(|_| ())
}

/// Reads one message (all its frames); returns (RSV1 of the first, payload).
async fn read_message(s: &mut TcpStream) -> std::io::Result<(bool, Vec<u8>)> {
    let mut payload = Vec::new();
    let mut first_rsv1 = None;
    loop {
        let mut h = [0u8; 2];
        s.read_exact(&mut h).await?;
        let fin = h[0] & 0x80 != 0;
        let opcode = h[0] & 0x0f;
        let mut len = u64::from(h[1] & 0x7f);
        if len == 126 {
            let mut b = [0u8; 2];
            s.read_exact(&mut b).await?;
            len = u64::from(u16::from_be_bytes(b));
        } else if len == 127 {
            let mut b = [0u8; 8];
            s.read_exact(&mut b).await?;
            len = u64::from_be_bytes(b);
        }
        if opcode >= 8 {
            let mut skip = Vec::new();
            read_exact_into(s, &mut skip, len as usize).await?;
            continue;
        }
        first_rsv1.get_or_insert(h[0] & 0x40 != 0);
        read_exact_into(s, &mut payload, len as usize).await?;
        if fin {
            return Ok((first_rsv1.unwrap_or(false), payload));
        }
    }
}

fn frame_into(out: &mut Vec<u8>, first: u8, payload: &[u8], mask: [u8; 4]) {
    out.push(first);
    let n = payload.len();
    if n < 126 {
        out.push(0x80 | n as u8);
    } else if n < 65536 {
        out.push(0x80 | 126);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
}

fn compress(z: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    let before = z.total_in();
    loop {
        let used = (z.total_in() - before) as usize;
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(1024));
        }
        let _ = z.compress_vec(&data[used..], &mut out, FlushCompress::Sync);
        if (z.total_in() - before) as usize == data.len() && out.len() < out.capacity() {
            break;
        }
    }
    if out.ends_with(&TAIL) {
        out.truncate(out.len() - 4);
    }
    out
}

fn inflate(z: &mut Decompress, data: &[u8]) -> Vec<u8> {
    let mut input = data.to_vec();
    input.extend_from_slice(&TAIL);
    let mut out = Vec::with_capacity(data.len() * 4 + 64);
    let before = z.total_in();
    loop {
        let used = (z.total_in() - before) as usize;
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(4096));
        }
        let _ = z.decompress_vec(&input[used..], &mut out, FlushDecompress::Sync);
        if (z.total_in() - before) as usize == input.len() && out.len() < out.capacity() {
            break;
        }
    }
    out
}

async fn run_case(host: &str, p: &Plan) -> Result<(), String> {
    let mut s = TcpStream::connect(host).await.map_err(|e| e.to_string())?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    let req = format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: {}\r\n\r\n",
        p.offer
    );
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await.map_err(|e| e.to_string())?;
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let answer = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("sec-websocket-extensions")
                .then(|| v.trim().to_string())
        })
        .ok_or_else(|| format!("{}: permessage-deflate not agreed", p.id))?;
    let a = agreed(&answer, &p.offer);
    let mut deflate = Compress::new_with_window_bits(Compression::new(6), false, a.client_bits);
    let mut inflater = Decompress::new_with_window_bits(false, a.server_bits);
    let mask = [0x12, 0x34, 0x56, 0x78];
    let mut wire = Vec::new();
    for i in 0..p.times as usize {
        let msg = wsspec::case::payload_kinds::message(p.kind, p.len, i);
        let compressed = compress(&mut deflate, &msg);
        if a.client_resets {
            deflate.reset();
        }
        wire.clear();
        let opcode = if p.text { 1 } else { 2 };
        let pieces: Vec<&[u8]> = match p.fragment {
            Some(n) if n > 0 && compressed.len() > n => compressed.chunks(n).collect(),
            _ => vec![&compressed[..]],
        };
        for (k, piece) in pieces.iter().enumerate() {
            let fin = if k + 1 == pieces.len() { 0x80 } else { 0 };
            let first = if k == 0 { 0x40 | opcode } else { 0 };
            frame_into(&mut wire, fin | first, piece, mask);
        }
        s.write_all(&wire).await.map_err(|e| e.to_string())?;
        let (rsv1, echo) = read_message(&mut s).await.map_err(|e| e.to_string())?;
        let echo = if rsv1 {
            inflate(&mut inflater, &echo)
        } else {
            echo
        };
        if echo != msg {
            return Err(format!("{}: echo {i} differs", p.id));
        }
    }
    wire.clear();
    frame_into(&mut wire, 0x88, &1000u16.to_be_bytes(), mask);
    s.write_all(&wire).await.map_err(|e| e.to_string())?;
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest).await;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(url) = args.first() else {
        eprintln!("usage: cargo bench --bench deflate -- ws://HOST:PORT [GLOB...]");
        std::process::exit(2);
    };
    let host = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_string();
    let globs: Vec<String> = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        vec!["12.*".into(), "13.*".into()]
    };
    let sel = Selection {
        include: globs,
        exclude: Vec::new(),
    };
    let cases = case::load::load(&case::embedded_sources()).unwrap_or_else(|e| {
        eprintln!("corpus: {e:?}");
        std::process::exit(2)
    });
    let plans: Vec<Plan> = cases
        .iter()
        .filter(|c| c.spec.roles.contains(&Role::Server) && sel.selects(&c.spec.id))
        .filter_map(plan)
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("runtime: {e}");
            std::process::exit(2)
        });
    let start = Instant::now();
    let mut failed = 0;
    for p in &plans {
        if let Err(e) = rt.block_on(run_case(&host, p)) {
            eprintln!("{e}");
            failed += 1;
        }
    }
    println!(
        "baseline: {} cases ({failed} failed) in {:.2} s",
        plans.len(),
        start.elapsed().as_secs_f64()
    );
}
