//! The session's bounds against a hostile peer, over scripted in-memory
//! targets: `--max-events` (frames and messages past it counted and
//! digested, not kept), the bound on pongs waiting for the writer, and
//! `--stall-timeout` ending a long wait on a peer that sends nothing.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::shared::MAX_PENDING_REPLIES;
use super::*;
use crate::case::load::{load, Source};
use crate::case::model::{Millis, WaitFor};
use crate::run::scripted::{drain, hold, upgrade, Scripted};
use crate::wire::bytelog::hex;

/// One case of the given steps (YAML list items, indented six spaces) with
/// a case deadline of `timeout`.
fn case(timeout: &str, steps: &str) -> Case {
    let text = format!(
        "group: t\ntitle: t\ncases:\n  - id: t.1\n    title: t\n    requirement: MUST\n    timeout: {timeout}\n    steps:\n{steps}    expect:\n      ok: []\n      close: {{by: peer}}\n"
    );
    let mut cases = load(&[Source {
        name: "t.yaml".into(),
        text,
    }])
    .expect("the test case loads");
    cases.remove(0)
}

/// Runs `case` against `target`, with `options` otherwise as given.
async fn run(case: &Case, target: Scripted, options: RunOptions) -> Transcript {
    let options = RunOptions {
        connector: std::sync::Arc::new(target),
        ..options
    };
    run_case(case, &crate::run::scripted::target(), &options).await
}

fn overflow(t: &Transcript) -> Option<(u64, u64, String, u64, u64)> {
    t.kinds().find_map(|k| match k {
        EventKind::Overflow {
            frames,
            messages,
            messages_sha256,
            max_events,
            replies_dropped,
        } => Some((
            *frames,
            *messages,
            messages_sha256.clone(),
            *max_events,
            *replies_dropped,
        )),
        _ => None,
    })
}

fn is_frame_or_message(k: &EventKind) -> bool {
    matches!(
        k,
        EventKind::FrameReceived { .. }
            | EventKind::FrameSent { .. }
            | EventKind::MessageReceived { .. }
            | EventKind::MessageSent { .. }
    )
}

/// Frames of `opcode` received (`sent` false) or sent.
fn frames(t: &Transcript, opcode: Opcode, sent: bool) -> u64 {
    t.kinds()
        .filter(|k| match k {
            EventKind::FrameReceived { frame } if !sent => frame.head.opcode == opcode,
            EventKind::FrameSent { frame } if sent => frame.head.opcode == opcode,
            _ => false,
        })
        .count() as u64
}

fn messages_received(t: &Transcript) -> u64 {
    t.kinds()
        .filter(|k| matches!(k, EventKind::MessageReceived { .. }))
        .count() as u64
}

/// 30 empty binary messages, then a close; then reads until the end.
fn thirty_messages_then_close(mut p: tokio::io::DuplexStream) -> BoxFuture {
    Box::pin(async move {
        if upgrade(&mut p).await {
            let mut flood = [0x82u8, 0x00].repeat(30);
            flood.extend_from_slice(&[0x88, 0x02, 0x03, 0xe8]);
            let _ = p.write_all(&flood).await;
            drain(p).await;
        }
    })
}

type BoxFuture = futures_util::future::BoxFuture<'static, ()>;

#[tokio::test]
async fn past_max_events_frames_and_messages_are_counted_and_digested() {
    let c = case("5s", "      - wait: {for: close, timeout: 3s}\n");
    let t = run(
        &c,
        Scripted::peer(thirty_messages_then_close),
        RunOptions {
            max_events: 12,
            ..RunOptions::default()
        },
    )
    .await;
    // No frame or message is kept past the twelfth event; the others are.
    assert!(
        t.kinds().skip(12).all(|k| !is_frame_or_message(k)),
        "{:#?}",
        t.events
    );
    assert!(t.kinds().any(|k| matches!(k, EventKind::WaitMet { .. })));
    let (frames_omitted, messages_omitted, digest, max_events, replies_dropped) =
        overflow(&t).expect("an overflow event");
    assert_eq!((max_events, replies_dropped), (12, 0));
    // 30 messages; 31 frames received and our close frame sent.
    assert_eq!(messages_received(&t) + messages_omitted, 30);
    let kept_frames = t
        .kinds()
        .filter(|k| {
            matches!(
                k,
                EventKind::FrameReceived { .. } | EventKind::FrameSent { .. }
            )
        })
        .count() as u64;
    assert_eq!(kept_frames + frames_omitted, 32, "{:#?}", t.events);
    assert!(messages_omitted > 0 && frames_omitted > 0);
    // The digest: SHA-256 over the omitted messages' digests (hex), in order.
    let empty = hex(&Sha256::digest(b""));
    let expected = hex(&Sha256::digest(empty.repeat(messages_omitted as usize)));
    assert_eq!(digest, expected);

    // A performance case records no data frames: only messages overflow.
    let perf = case("5s", "      - wait: {for: close, timeout: 3s}\n");
    let perf = Case {
        spec: crate::case::model::CaseSpec {
            performance: true,
            ..perf.spec
        },
        ..perf
    };
    let t = run(
        &perf,
        Scripted::peer(thirty_messages_then_close),
        RunOptions {
            max_events: 12,
            ..RunOptions::default()
        },
    )
    .await;
    let (frames_omitted, messages_omitted, digest, _, _) = overflow(&t).expect("an overflow event");
    // Only the closes each way are frame events past the bound.
    assert_eq!(frames_omitted, 2, "{:#?}", t.events);
    assert_eq!(messages_received(&t) + messages_omitted, 30);
    assert!(messages_omitted > 0 && digest.len() == 64);

    // Pings alone: frames overflow, no message does.
    let t = run(
        &c,
        Scripted::peer(|mut p| {
            Box::pin(async move {
                if upgrade(&mut p).await {
                    let mut pings = [0x89u8, 0x00].repeat(30);
                    pings.extend_from_slice(&[0x88, 0x02, 0x03, 0xe8]);
                    let _ = p.write_all(&pings).await;
                    drain(p).await;
                }
            })
        }),
        RunOptions {
            max_events: 12,
            ..RunOptions::default()
        },
    )
    .await;
    let (frames_omitted, messages_omitted, digest, _, dropped) =
        overflow(&t).expect("an overflow event");
    assert!(frames_omitted > 0);
    assert_eq!((messages_omitted, digest.as_str(), dropped), (0, "", 0));

    // Under the default bound, everything is kept and nothing overflows.
    let t = run(
        &c,
        Scripted::peer(thirty_messages_then_close),
        RunOptions::default(),
    )
    .await;
    assert_eq!(messages_received(&t), 30);
    assert_eq!(frames(&t, Opcode::BINARY, false), 30);
    assert_eq!(overflow(&t), None, "{:#?}", t.events);
}

#[tokio::test]
async fn pongs_for_a_peer_that_never_reads_are_bounded_and_the_rest_dropped() {
    const PINGS: u64 = 20_000;
    let c = case("2s", "      - wait: {for: close, timeout: 5s}\n");
    let t = run(
        &c,
        // 4 KiB of room: the writer is soon blocked on a peer that never reads.
        Scripted::Peer {
            peer: |mut p| {
                Box::pin(async move {
                    if upgrade(&mut p).await {
                        let _ = p.write_all(&[0x89u8, 0x00].repeat(PINGS as usize)).await;
                        hold(p).await;
                    }
                })
            },
            buffer: 4096,
        },
        RunOptions::default(),
    )
    .await;
    assert_eq!(frames(&t, Opcode::PING, false), PINGS, "every ping is read");
    let queued = frames(&t, Opcode::PONG, true);
    let (frames_omitted, messages_omitted, digest, _, dropped) =
        overflow(&t).expect("an overflow event");
    // Nothing but pongs overflowed: no digest of omitted messages.
    assert_eq!((frames_omitted, messages_omitted), (0, 0));
    assert_eq!(digest, "");
    assert!(
        queued >= MAX_PENDING_REPLIES as u64,
        "pongs up to the bound are queued: {queued}"
    );
    assert!(queued < 2000, "then no more: {queued}");
    assert_eq!(queued + dropped, PINGS);
    assert!(t.kinds().any(|k| matches!(k, EventKind::Deadline { .. })));
}

#[tokio::test]
async fn a_peer_that_reads_its_pongs_gets_every_one() {
    let c = case("10s", "      - wait: {for: close, timeout: 8s}\n");
    let started = Instant::now();
    let t = run(
        &c,
        Scripted::peer(|mut p| {
            Box::pin(async move {
                if !upgrade(&mut p).await {
                    return;
                }
                // One ping at a time, each waiting for its pong (masked,
                // empty: 8a 80 and the key).
                for _ in 0..200 {
                    let mut pong = [0u8; 6];
                    if p.write_all(&[0x89, 0x00]).await.is_err()
                        || p.read_exact(&mut pong).await.is_err()
                        || pong[..2] != [0x8a, 0x80]
                    {
                        return;
                    }
                }
                let _ = p.write_all(&[0x88, 0x02, 0x03, 0xe8]).await;
                drain(p).await;
            })
        }),
        RunOptions::default(),
    )
    .await;
    assert_eq!(frames(&t, Opcode::PONG, true), 200);
    assert_eq!(overflow(&t), None, "{:#?}", t.events);
    assert!(t.kinds().any(|k| matches!(
        k,
        EventKind::WaitMet {
            what: WaitFor::Close
        }
    )));
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Answers the upgrade, then sends nothing and reads nothing.
fn silent_after_upgrade(mut p: tokio::io::DuplexStream) -> BoxFuture {
    Box::pin(async move {
        if upgrade(&mut p).await {
            hold(p).await;
        }
    })
}

/// How the case's one wait ended: (stalled, after_ms), or None when it was met.
fn wait_end(t: &Transcript) -> Option<(bool, u64)> {
    t.kinds().find_map(|k| match k {
        EventKind::WaitTimedOut {
            stalled, after_ms, ..
        } => Some((*stalled, *after_ms)),
        _ => None,
    })
}

const SEND_AND_WAIT: &str =
    "      - send: {opcode: text, payload: hi}\n      - wait: {for: echo, timeout: 4s}\n";

#[tokio::test]
async fn a_long_wait_ends_after_the_stall_timeout_of_silence() {
    let c = case("10s", SEND_AND_WAIT);
    let started = Instant::now();
    let t = run(
        &c,
        Scripted::peer(silent_after_upgrade),
        RunOptions {
            stall_timeout: Millis(150),
            // Scales the stall timeout too: 300 ms.
            timeout_scale: 2.0,
            ..RunOptions::default()
        },
    )
    .await;
    assert_eq!(wait_end(&t), Some((true, 300)), "{:#?}", t.events);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_wait_shorter_than_the_stall_timeout_or_a_trickle_is_an_ordinary_timeout() {
    // The wait's own timeout (400 ms) comes first.
    let c = case(
        "10s",
        "      - send: {opcode: text, payload: hi}\n      - wait: {for: echo, timeout: 400ms}\n",
    );
    let t = run(
        &c,
        Scripted::peer(silent_after_upgrade),
        RunOptions {
            stall_timeout: Millis(1000),
            ..RunOptions::default()
        },
    )
    .await;
    assert_eq!(wait_end(&t), Some((false, 400)), "{:#?}", t.events);

    // A byte every 100 ms of a frame that never ends: never 600 ms of
    // silence, so the wait runs to its timeout (1.5 s).
    let c = case(
        "10s",
        "      - send: {opcode: text, payload: hi}\n      - wait: {for: echo, timeout: 1500ms}\n",
    );
    let trickle = Scripted::peer(|mut p| {
        Box::pin(async move {
            if upgrade(&mut p).await && p.write_all(&[0x81, 0x7e, 0x00, 0x64]).await.is_ok() {
                for _ in 0..100 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if p.write_all(b"x").await.is_err() {
                        return;
                    }
                }
            }
        })
    });
    let t = run(
        &c,
        trickle,
        RunOptions {
            stall_timeout: Millis(600),
            ..RunOptions::default()
        },
    )
    .await;
    assert_eq!(wait_end(&t), Some((false, 1500)), "{:#?}", t.events);
}

/// Reads one masked frame from wsspec (payload under 126 bytes); its opcode
/// and unmasked payload.
async fn read_masked_frame(p: &mut tokio::io::DuplexStream) -> Option<(u8, Vec<u8>)> {
    let mut head = [0u8; 6];
    p.read_exact(&mut head).await.ok()?;
    let mut payload = vec![0u8; usize::from(head[1] & 0x7f)];
    p.read_exact(&mut payload).await.ok()?;
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= head[2 + i % 4];
    }
    Some((head[0] & 0x0f, payload))
}

/// Answers the upgrade and the first frame, a ping, with its pong; then
/// holds the connection.
fn answer_one_ping(mut p: tokio::io::DuplexStream) -> BoxFuture {
    Box::pin(async move {
        if upgrade(&mut p).await {
            if let Some((9, payload)) = read_masked_frame(&mut p).await {
                let mut pong = vec![0x8a, payload.len() as u8];
                pong.extend_from_slice(&payload);
                let _ = p.write_all(&pong).await;
            }
            hold(p).await;
        }
    })
}

/// Whether the case's wait for `what` was met.
fn met(t: &Transcript, what: WaitFor) -> bool {
    t.kinds()
        .any(|k| matches!(k, EventKind::WaitMet { what: w } if *w == what))
}

#[tokio::test]
async fn an_echo_ends_the_wait_at_once() {
    let c = case("10s", SEND_AND_WAIT);
    let started = Instant::now();
    let t = run(
        &c,
        Scripted::peer(|mut p| {
            Box::pin(async move {
                if upgrade(&mut p).await {
                    if let Some((1, payload)) = read_masked_frame(&mut p).await {
                        let mut echo = vec![0x81, payload.len() as u8];
                        echo.extend_from_slice(&payload);
                        let _ = p.write_all(&echo).await;
                    }
                    hold(p).await;
                }
            })
        }),
        RunOptions::default(),
    )
    .await;
    assert!(met(&t, WaitFor::Echo), "{:#?}", t.events);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_close_wait_with_a_probe_ends_on_the_probes_pong_only() {
    let c = case(
        "10s",
        "      - wait: {for: close, probe: ping, timeout: 3s}\n",
    );
    // The peer answers the probe ping: the wait is met at once.
    let started = Instant::now();
    let t = run(&c, Scripted::peer(answer_one_ping), RunOptions::default()).await;
    assert!(met(&t, WaitFor::Close), "{:#?}", t.events);
    assert!(started.elapsed() < Duration::from_secs(2));
    // An unsolicited pong is not the probe's: the wait runs out.
    let c = case(
        "10s",
        "      - wait: {for: close, probe: ping, timeout: 500ms}\n",
    );
    let t = run(
        &c,
        Scripted::peer(|mut p| {
            Box::pin(async move {
                if upgrade(&mut p).await {
                    let _ = p.write_all(&[0x8a, 0x00]).await;
                    hold(p).await;
                }
            })
        }),
        RunOptions::default(),
    )
    .await;
    assert_eq!(wait_end(&t), Some((false, 500)), "{:#?}", t.events);
}

#[tokio::test]
async fn a_pong_answers_a_ping_wait_and_no_probe_goes_to_a_peer_that_closed() {
    let c = case(
        "10s",
        "      - send: {opcode: ping, payload: hi}\n      - wait: {for: echo, timeout: 3s}\n",
    );
    let started = Instant::now();
    let t = run(&c, Scripted::peer(answer_one_ping), RunOptions::default()).await;
    assert!(met(&t, WaitFor::Echo), "{:#?}", t.events);
    assert!(started.elapsed() < Duration::from_secs(2));

    // The peer has sent its close (and keeps TCP open): a probe wait sends
    // no ping.
    let c = case(
        "10s",
        "      - pause: 300ms\n      - wait: {for: close, probe: ping, timeout: 1s}\n",
    );
    let t = run(
        &c,
        Scripted::peer(|mut p| {
            Box::pin(async move {
                if upgrade(&mut p).await {
                    let _ = p.write_all(&[0x88, 0x02, 0x03, 0xe8]).await;
                    hold(p).await;
                }
            })
        }),
        RunOptions::default(),
    )
    .await;
    assert!(
        !t.kinds().any(|k| matches!(k, EventKind::ProbeSent { .. })),
        "{:#?}",
        t.events
    );
}

#[tokio::test]
async fn a_silence_wait_without_a_timeout_gets_room_for_its_silence() {
    // The default wait (100 ms here) is added to the silence asked for:
    // 300 ms of quiet within 400 ms.
    let c = case("10s", "      - wait: {silence: 300ms}\n");
    let options = || RunOptions {
        default_wait: Millis(100),
        ..RunOptions::default()
    };
    let t = run(&c, Scripted::peer(silent_after_upgrade), options()).await;
    assert!(met(&t, WaitFor::Silence), "{:#?}", t.events);
    // A peer that never falls quiet: the wait gives up after those 400 ms.
    let t = run(
        &c,
        Scripted::peer(|mut p| {
            Box::pin(async move {
                if upgrade(&mut p).await && p.write_all(&[0x81, 0x7e, 0x00, 0x64]).await.is_ok() {
                    for _ in 0..100 {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        if p.write_all(b"x").await.is_err() {
                            return;
                        }
                    }
                }
            })
        }),
        options(),
    )
    .await;
    assert_eq!(wait_end(&t), Some((false, 400)), "{:#?}", t.events);
}

#[tokio::test]
async fn a_close_ends_an_echo_wait_and_the_end_of_tcp_ends_close_and_end_waits() {
    // A close frame instead of the echo.
    let c = case("10s", SEND_AND_WAIT);
    let started = Instant::now();
    let t = run(
        &c,
        Scripted::peer(|mut p| {
            Box::pin(async move {
                if upgrade(&mut p).await {
                    let _ = read_masked_frame(&mut p).await;
                    let _ = p.write_all(&[0x88, 0x02, 0x03, 0xe8]).await;
                    hold(p).await;
                }
            })
        }),
        RunOptions::default(),
    )
    .await;
    assert!(met(&t, WaitFor::Echo), "{:#?}", t.events);
    assert!(started.elapsed() < Duration::from_secs(3));
    // The connection ends, without a close frame.
    let c = case(
        "10s",
        "      - wait: {for: close, timeout: 3s}\n      - wait: {for: end, timeout: 3s}\n",
    );
    let started = Instant::now();
    let t = run(
        &c,
        Scripted::peer(|mut p| {
            Box::pin(async move {
                if upgrade(&mut p).await {
                    drop(p);
                }
            })
        }),
        RunOptions::default(),
    )
    .await;
    assert!(met(&t, WaitFor::Close), "{:#?}", t.events);
    assert!(met(&t, WaitFor::End), "{:#?}", t.events);
    assert!(started.elapsed() < Duration::from_secs(3));
}
