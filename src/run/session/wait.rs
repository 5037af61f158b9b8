//! Waiting, as methods of the session: a `wait` step ends the moment its event
//! arrives (an echo, the peer's close, the end of TCP, or a stretch of
//! silence) or at its timeout, and records which; a long wait also ends
//! once nothing has come from the peer for the stall timeout. A `probe: ping`
//! wait sends a ping first and also ends once its pong is back, then listens
//! a moment longer for a close.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::shared::PeerState;
use super::{Session, PROBE_PREFIX};
use crate::case::model::{Millis, Probe, Wait, WaitFor};
use crate::run::build::frame;
use crate::transcript::EventKind;
use crate::wire::frame::FrameEncoding;
use crate::wire::Opcode;

/// How long a wait whose probe was answered still listens for a close.
const PROBE_SETTLE: Millis = Millis(50);

impl Session<'_> {
    pub(super) async fn wait(&mut self, w: &Wait) {
        // A silence wait needs at least the silence itself before giving up.
        let default = match (w.what, w.silence) {
            (WaitFor::Silence, Some(quiet)) => Millis(quiet.0 + self.opts.default_wait.0),
            _ => self.opts.default_wait,
        };
        let timeout = w.timeout.unwrap_or(default).scaled(self.opts.timeout_scale);
        let probes = match w.probe {
            Some(Probe::Ping) if !self.shared.peer_gone() => self.send_probe().await,
            _ => u64::MAX,
        };
        let mut rx = self.shared.state.subscribe();
        let (msgs, pings) = (self.messages_sent, self.pings_sent);
        let server = self.shared.server_role;
        let met = match w.what {
            WaitFor::Silence => {
                let quiet = w
                    .silence
                    .unwrap_or(Millis(500))
                    .scaled(self.opts.timeout_scale);
                tokio::time::timeout(timeout, silence(&mut rx, quiet))
                    .await
                    .is_ok()
            }
            kind => {
                let event = tokio::time::timeout(
                    timeout,
                    rx.wait_for(|s| match kind {
                        WaitFor::Echo => {
                            (s.messages >= msgs && s.pongs >= pings) || s.close_received || s.ended
                        }
                        WaitFor::Close => s.close_received || s.ended || s.probe_pongs >= probes,
                        _ => s.ended || (server && s.close_received && s.close_sent),
                    }),
                );
                // A long wait also ends once the peer has sent nothing for
                // the stall timeout: a peer that stops mid-message costs
                // that, not a deadline sized for 16 MiB.
                let stall = self.opts.stall_timeout.scaled(self.opts.timeout_scale);
                let mut quiet_rx = self.shared.state.subscribe();
                let stalled = async {
                    if stall < timeout {
                        silence(&mut quiet_rx, stall).await;
                    } else {
                        std::future::pending::<()>().await;
                    }
                };
                tokio::select! {
                    biased;
                    r = event => r.map(|r| r.is_ok()).unwrap_or(false),
                    () = stalled => {
                        self.record(EventKind::WaitTimedOut {
                            what: w.what,
                            after_ms: stall.as_millis() as u64,
                            stalled: true,
                        });
                        return;
                    }
                }
            }
        };
        if met && probes != u64::MAX {
            // The probe came back first. A peer that answers pings ahead of
            // checking the data before them gets a moment to close anyway.
            let settle = PROBE_SETTLE.scaled(self.opts.timeout_scale);
            let _ =
                tokio::time::timeout(settle, rx.wait_for(|s| s.close_received || s.ended)).await;
        }
        if met {
            self.record(EventKind::WaitMet { what: w.what });
        } else {
            self.record(EventKind::WaitTimedOut {
                what: w.what,
                after_ms: timeout.as_millis() as u64,
                stalled: false,
            });
        }
    }

    /// Sends a probe ping; returns how many probe pongs mean it was answered.
    async fn send_probe(&mut self) -> u64 {
        self.probes_sent += 1;
        let payload = format!("{PROBE_PREFIX}{}", self.probes_sent);
        self.record(EventKind::ProbeSent {
            payload: payload.clone(),
        });
        let mask = (!self.shared.server_role).then(|| self.prng.mask_key());
        let enc = FrameEncoding::simple(Opcode::PING, true, mask);
        if let Ok(f) = frame(enc, payload.into_bytes()) {
            self.send_frames(vec![f], None, None).await;
        }
        self.probes_sent
    }
}

/// Returns once no byte has arrived for `quiet`, counted from the call.
async fn silence(rx: &mut watch::Receiver<PeerState>, quiet: Duration) {
    let began = Instant::now();
    loop {
        let last = rx.borrow().last_rx;
        if rx.borrow().ended {
            return;
        }
        let until = last.max(began) + quiet;
        tokio::select! {
            _ = tokio::time::sleep_until(until.into()) => {
                if rx.borrow().last_rx == last {
                    return;
                }
            }
            changed = rx.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}
