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
            EventKind::ResponseReceived { head, .. } => upgraded = head.status == 101,
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
    use crate::transcript::Event;
    use crate::wire::bytelog::ByteLog;
    use crate::wire::handshake::ResponseHead;

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
