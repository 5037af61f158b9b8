//! Whether a target that has gone quiet is still there: after several cases
//! in a row got no byte from it, the run opens one fresh connection, makes
//! an ordinary upgrade request and, if a 101 comes, sends a ping; any byte
//! back within the handshake timeout means the target is alive. A target
//! that fails this check is given up on (the rest of the run is ERROR)
//! unless `--no-give-up` says otherwise. This module owns the check and the
//! rule for what counts as a quiet case.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{RunOptions, Target};
use crate::transcript::{EventKind, HandshakeFailure, Transcript};

/// How many cases in a row may get nothing from the target before the run
/// checks that it is still there.
pub const QUIET_STREAK: usize = 3;

/// Whether the target sent this case nothing at all: no response head
/// within the handshake timeout, or, after the 101, not a byte before a
/// wait gave up on it for the stall timeout.
pub fn went_quiet(t: &Transcript) -> bool {
    let mut upgraded = false;
    let mut received = false;
    let mut stalled = false;
    for kind in t.kinds() {
        match kind {
            EventKind::HandshakeFailed {
                reason: HandshakeFailure::Timeout { .. },
                raw,
            } if raw.len == 0 => return true,
            EventKind::ResponseReceived { head, .. } => upgraded = head.opened(),
            EventKind::FrameReceived { .. }
            | EventKind::MessageReceived { .. }
            | EventKind::PeerEof
            | EventKind::TruncatedFrame => received = true,
            EventKind::WaitTimedOut { stalled: true, .. } => stalled = true,
            _ => {}
        }
    }
    upgraded && stalled && !received
}

/// Whether the target answers a fresh upgrade request and then a ping, each
/// within the handshake timeout.
pub async fn target_alive(target: &Target, options: &RunOptions) -> bool {
    let connect = options.connect_timeout.scaled(options.timeout_scale);
    let answer = options.handshake_timeout.scaled(options.timeout_scale);
    let Ok(Ok(mut stream)) = tokio::time::timeout(connect, options.connector.connect(target)).await
    else {
        return false;
    };
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: d3NzcGVjLWxpdmVuZXNzIQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        target.path, target.host_header
    );
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let got_head = tokio::time::timeout(answer, async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        true
    })
    .await;
    if got_head != Ok(true) {
        return false;
    }
    let after = head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(head.len(), |p| p + 4);
    if !head.starts_with(b"HTTP/1.1 101") || head.len() > after {
        // Any answer, or bytes after the 101, show the target is there.
        return true;
    }
    // A masked ping with an empty payload, key 0: 89 80 00 00 00 00.
    if stream.write_all(&[0x89, 0x80, 0, 0, 0, 0]).await.is_err() {
        return false;
    }
    matches!(
        tokio::time::timeout(answer, stream.read(&mut buf)).await,
        Ok(Ok(n)) if n > 0
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::scripted::{hold, target, Peer, Scripted};
    use crate::transcript::Event;
    use crate::wire::bytelog::ByteLog;
    use crate::wire::handshake::ResponseHead;
    use tokio::io::DuplexStream;

    fn transcript(kinds: Vec<EventKind>) -> Transcript {
        Transcript {
            case_id: "q".into(),
            events: kinds
                .into_iter()
                .map(|kind| Event { at_us: 0, kind })
                .collect(),
            duration_us: 0,
            detailed: true,
            omitted: None,
        }
    }

    fn upgraded() -> EventKind {
        EventKind::ResponseReceived {
            head: ResponseHead {
                status: 101,
                reason: "Switching Protocols".into(),
                headers: Vec::new(),
                http2: false,
            },
            raw: ByteLog::of(b"HTTP/1.1 101"),
        }
    }

    fn stalled(yes: bool) -> EventKind {
        EventKind::WaitTimedOut {
            what: crate::case::model::WaitFor::Echo,
            after_ms: 20_000,
            stalled: yes,
        }
    }

    /// The request head the check must send to [`target`].
    const REQUEST: &[u8] = b"GET /p?q=1 HTTP/1.1\r\nHost: example.test:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: d3NzcGVjLWxpdmVuZXNzIQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    /// A 101 head (the check reads no header of it).
    const SWITCH: &[u8] =
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";

    /// An empty masked ping with the key 0, as the check sends it.
    const PING: [u8; 6] = [0x89, 0x80, 0, 0, 0, 0];

    /// Whether the check finds `connector`'s target alive, with a second to
    /// connect and for each answer; and how long it took.
    async fn alive(connector: Scripted) -> (bool, std::time::Duration) {
        let options = RunOptions {
            connect_timeout: crate::case::model::Millis(1000),
            handshake_timeout: crate::case::model::Millis(1000),
            connector: std::sync::Arc::new(connector),
            ..RunOptions::default()
        };
        let started = std::time::Instant::now();
        let alive = target_alive(&target(), &options).await;
        (alive, started.elapsed())
    }

    /// Reads exactly `expected.len()` bytes; whether they are `expected`.
    async fn reads(peer: &mut DuplexStream, expected: &[u8]) -> bool {
        let mut got = vec![0u8; expected.len()];
        peer.read_exact(&mut got).await.is_ok() && got == expected
    }

    /// Answers only the exact request, with `head`, and then only the ping,
    /// with a pong; then holds the connection.
    async fn answer(mut p: DuplexStream, head: &[u8]) {
        if reads(&mut p, REQUEST).await
            && p.write_all(head).await.is_ok()
            && reads(&mut p, &PING).await
        {
            let _ = p.write_all(&[0x8a, 0x00]).await;
        }
        hold(p).await;
    }

    #[tokio::test]
    async fn a_target_that_upgrades_and_answers_the_ping_is_alive() {
        let (ok, _) = alive(Scripted::peer(|p| Box::pin(answer(p, SWITCH)))).await;
        assert!(ok);
        // The head in pieces, the pong a while later: the same.
        let (ok, _) = alive(Scripted::peer(|mut p| {
            Box::pin(async move {
                if reads(&mut p, REQUEST).await {
                    for piece in SWITCH.chunks(7) {
                        let _ = p.write_all(piece).await;
                        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                    }
                    if reads(&mut p, &PING).await {
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        let _ = p.write_all(&[0x8a, 0x00]).await;
                    }
                }
                hold(p).await;
            })
        }))
        .await;
        assert!(ok);
    }

    #[tokio::test]
    async fn a_head_is_read_no_further_than_64_kib() {
        // 64 KiB of a 101 head that never ends: the check stops reading
        // there and sends its ping, which this peer answers.
        let (ok, _) = alive(Scripted::peer(|p| {
            Box::pin(async move {
                let mut head = b"HTTP/1.1 101 Switching Protocols\r\n".to_vec();
                while head.len() < 65536 {
                    head.extend_from_slice(b"X-Padding: 0123456789abcdef\r\n");
                }
                head.truncate(65536);
                answer(p, &head).await;
            })
        }))
        .await;
        assert!(ok);
    }

    #[tokio::test]
    async fn any_answer_but_a_bare_101_shows_the_target_is_there() {
        // A refusal, or a 101 with bytes after it: alive without a ping
        // (these peers never answer one).
        for peer in [
            (|mut p| {
                Box::pin(async move {
                    if reads(&mut p, REQUEST).await {
                        let _ = p.write_all(b"HTTP/1.1 404 Not Found\r\n\r\n").await;
                    }
                    hold(p).await;
                })
            }) as Peer,
            |mut p| {
                Box::pin(async move {
                    if reads(&mut p, REQUEST).await {
                        let _ = p.write_all(&[SWITCH, &[0x81, 0x00]].concat()).await;
                    }
                    hold(p).await;
                })
            },
        ] {
            let (ok, took) = alive(Scripted::peer(peer)).await;
            assert!(ok);
            assert!(took < std::time::Duration::from_millis(900), "{took:?}");
        }
    }

    #[tokio::test]
    async fn a_target_that_says_nothing_or_hangs_up_is_not_alive() {
        let peers: [Peer; 6] = [
            // A 101 in pieces, then nothing in answer to the ping: the
            // whole head is read before it is judged.
            |mut p| {
                Box::pin(async move {
                    if reads(&mut p, REQUEST).await {
                        for piece in SWITCH.chunks(7) {
                            let _ = p.write_all(piece).await;
                            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                        }
                    }
                    hold(p).await;
                })
            },
            // Connected, then silence.
            |p| Box::pin(hold(p)),
            // Hangs up at once.
            |p| Box::pin(async move { drop(p) }),
            // Half a head, then silence.
            |mut p| {
                Box::pin(async move {
                    let _ = p.write_all(b"HTTP/1.1 101 Switching").await;
                    hold(p).await;
                })
            },
            // A 101, then nothing in answer to the ping.
            |mut p| {
                Box::pin(async move {
                    if reads(&mut p, REQUEST).await {
                        let _ = p.write_all(SWITCH).await;
                    }
                    hold(p).await;
                })
            },
            // A 101, then the connection ends.
            |mut p| {
                Box::pin(async move {
                    if reads(&mut p, REQUEST).await {
                        let _ = p.write_all(SWITCH).await;
                        let _ = reads(&mut p, &PING).await;
                    }
                })
            },
        ];
        // All at once: each costs a timeout.
        let checks = peers.into_iter().map(|peer| alive(Scripted::peer(peer)));
        let mut results = futures_util::future::join_all(checks).await;
        results.push(alive(Scripted::Err).await);
        for (i, (ok, took)) in results.into_iter().enumerate() {
            assert!(!ok, "peer {i}");
            assert!(
                took < std::time::Duration::from_secs(3),
                "peer {i}: {took:?}"
            );
        }
        let (ok, took) = alive(Scripted::Pending).await;
        assert!(!ok);
        assert!(
            took >= std::time::Duration::from_secs(1) && took < std::time::Duration::from_secs(3),
            "{took:?}"
        );
    }

    #[test]
    fn quiet_means_nothing_at_all_from_the_target() {
        let no_head = |raw: &[u8]| EventKind::HandshakeFailed {
            reason: HandshakeFailure::Timeout { ms: 5000 },
            raw: ByteLog::of(raw),
        };
        assert!(went_quiet(&transcript(vec![no_head(b"")])));
        assert!(!went_quiet(&transcript(vec![no_head(b"HTTP/1.1 1")])));
        assert!(!went_quiet(&transcript(vec![EventKind::HandshakeFailed {
            reason: HandshakeFailure::ClosedEarly,
            raw: ByteLog::of(b""),
        }])));
        assert!(went_quiet(&transcript(vec![upgraded(), stalled(true)])));
        // An ordinary timeout, or anything received, is not quiet.
        assert!(!went_quiet(&transcript(vec![upgraded(), stalled(false)])));
        assert!(!went_quiet(&transcript(vec![
            upgraded(),
            EventKind::PeerEof,
            stalled(true)
        ])));
        assert!(!went_quiet(&transcript(vec![stalled(true)])));
    }
}
