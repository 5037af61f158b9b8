//! The per-agent ledger of `wsspec serve`: every agent's results by case
//! number, the handshake keys each agent has sent (RFC 6455 4.1 wants a fresh
//! nonce per connection, so a repeat is recorded as a `ClientKeyReused`
//! event), follow-up requests that arrived before their case's first
//! connection was done, the count of `runCase` connections still running that
//! `updateReports` waits for, and whether a report could not be written.
//! Concluding a case and telling the reporters about it happen here, once per
//! connection.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::allow::AllowList;
use crate::case::{Case, Role};
use crate::conclude::conclude;
use crate::report::{agent_folder, Reporters, RunEvent, WriteError};
use crate::results::{CaseResult, RunClock, RunIdentity, RunResults};
use crate::snapshot::SnapshotConfig;
use crate::transcript::{EventKind, Transcript};

/// Where `serve` keeps snapshots: one store per agent under `dir`.
#[derive(Debug, Clone)]
pub struct SnapshotsPerAgent {
    pub dir: std::path::PathBuf,
    pub update: bool,
}

impl SnapshotsPerAgent {
    /// The snapshot store of one agent.
    pub fn for_agent(&self, agent: &str) -> SnapshotConfig {
        SnapshotConfig {
            dir: self.dir.clone(),
            role: format!("{}/client", agent_folder(agent)),
            update: self.update,
        }
    }
}

/// Results per agent, by 1-based case number.
pub type AgentResults = BTreeMap<String, BTreeMap<usize, CaseResult>>;

/// Everything serve remembers across connections.
pub struct Ledger {
    results: Mutex<AgentResults>,
    /// Follow-up requests that arrived before their case's first connection
    /// was done, by (agent, case number).
    follow_ups: Mutex<BTreeMap<(String, usize), Vec<EventKind>>>,
    /// Every Sec-WebSocket-Key each agent has sent, with the case it came with.
    keys_seen: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
    /// The `User-Agent` of each agent's first `runCase` request (cut to
    /// [`USER_AGENT_CHARS`]), named in its report's target line.
    user_agents: Mutex<BTreeMap<String, String>>,
    /// `runCase` connections whose request has been read and whose case is
    /// not yet stored. `updateReports` waits for this to reach zero, so a
    /// report never misses the case a driver has just finished; a connection
    /// that has sent no request yet is not counted, so idle connections never
    /// hold it up.
    /// By (agent, case number), so `getCaseStatus` can wait for its case.
    in_flight: watch::Sender<BTreeMap<(String, usize), usize>>,
    reporters: Mutex<Reporters>,
    /// Whether writing reports has ever failed (serve then exits 4).
    reports_failed: AtomicBool,
    snapshots: Option<SnapshotsPerAgent>,
    identity: RunIdentity,
    /// Expected deviations, applied to every agent's cases.
    allow: AllowList,
    clock: RunClock,
    total: usize,
}

/// Counts one `runCase` connection as in flight until dropped.
pub struct InFlight {
    ledger: Arc<Ledger>,
    key: (String, usize),
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.ledger.in_flight.send_modify(|running| {
            if let Some(n) = running.get_mut(&self.key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    running.remove(&self.key);
                }
            }
        });
    }
}

/// The transport an agent's cases ran on, as the report's target line says
/// it: nothing for HTTP/1.1, else how many cases ran on HTTP/2 streams.
fn transport_seen(by_case: &BTreeMap<usize, CaseResult>) -> String {
    let http2 = by_case
        .values()
        .filter(|r| r.transcript.over_http2())
        .count();
    match http2 {
        0 => String::new(),
        n if n == by_case.len() => "; over HTTP/2 (RFC 8441)".to_string(),
        n => format!(
            "; over HTTP/2 (RFC 8441) for {n} of {} cases",
            by_case.len()
        ),
    }
}

/// The most characters of a client's `User-Agent` a report names.
const USER_AGENT_CHARS: usize = 200;

impl Ledger {
    /// `target` and `strict` describe every agent's run; `total` is the number of cases.
    pub fn new(
        target: String,
        strict: bool,
        (allow, strict_allowlist): (AllowList, bool),
        total: usize,
        snapshots: Option<SnapshotsPerAgent>,
        mut reporters: Reporters,
    ) -> Ledger {
        let _ = reporters.emit(RunEvent::RunStarted { total });
        Ledger {
            results: Mutex::new(BTreeMap::new()),
            follow_ups: Mutex::new(BTreeMap::new()),
            keys_seen: Mutex::new(BTreeMap::new()),
            user_agents: Mutex::new(BTreeMap::new()),
            in_flight: watch::channel(BTreeMap::new()).0,
            reporters: Mutex::new(reporters),
            reports_failed: AtomicBool::new(false),
            snapshots,
            identity: RunIdentity {
                role: Role::Client,
                target,
                agent: String::new(),
                strict,
                strict_allowlist,
            },
            allow,
            clock: RunClock::start(),
            total,
        }
    }

    /// Starts counting a `runCase` connection of `agent`'s case `number`
    /// as in flight.
    pub fn in_flight(self: &Arc<Self>, agent: &str, number: usize) -> InFlight {
        let key = (agent.to_string(), number);
        self.in_flight
            .send_modify(|running| *running.entry(key.clone()).or_default() += 1);
        InFlight {
            ledger: self.clone(),
            key,
        }
    }

    /// Resolves once no `runCase` connection is in flight.
    pub async fn settled(&self) {
        let mut pending = self.in_flight.subscribe();
        let _ = pending.wait_for(|running| running.is_empty()).await;
    }

    /// Resolves once no connection of `agent`'s case `number` is in flight.
    pub async fn case_settled(&self, agent: &str, number: usize) {
        let key = (agent.to_string(), number);
        let mut pending = self.in_flight.subscribe();
        let _ = pending
            .wait_for(|running| !running.contains_key(&key))
            .await;
    }

    fn conclude(&self, case: &Case, agent: &str, transcript: Transcript) -> CaseResult {
        let snapshots = self.snapshots.as_ref().map(|s| s.for_agent(agent));
        conclude(case, transcript, snapshots.as_ref(), &self.allow)
    }

    /// Remembers the key of an agent's runCase request; the event to record
    /// when the agent sent the same key before.
    pub fn note_key(&self, agent: &str, head: &[u8], case_id: &str) -> Option<EventKind> {
        self.note_user_agent(agent, head);
        let key = crate::wire::handshake::request_key(head)?;
        let mut seen = self.keys_seen.lock().ok()?;
        let keys = seen.entry(agent.to_string()).or_default();
        match keys.get(&key) {
            Some(earlier) => Some(EventKind::ClientKeyReused {
                key,
                earlier_case: earlier.clone(),
            }),
            None => {
                keys.insert(key, case_id.to_string());
                None
            }
        }
    }

    /// Keeps the `User-Agent` of `agent`'s first request that has one.
    fn note_user_agent(&self, agent: &str, head: &[u8]) {
        let mut headers = [httparse::EMPTY_HEADER; crate::wire::handshake::MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        let _ = req.parse(head);
        let ua = req
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("user-agent"))
            .map(|h| String::from_utf8_lossy(h.value).into_owned());
        self.remember_user_agent(agent, ua.as_deref());
    }

    /// Keeps `ua` (cut to its first characters) as `agent`'s `User-Agent`
    /// unless one is known already.
    pub fn remember_user_agent(&self, agent: &str, ua: Option<&str>) {
        let (Ok(mut known), Some(ua)) = (self.user_agents.lock(), ua) else {
            return;
        };
        known
            .entry(agent.to_string())
            .or_insert_with(|| ua.chars().take(USER_AGENT_CHARS).collect());
    }

    /// Tells the reporters that `agent` has started `case`.
    pub fn start_case(&self, case: &Case, agent: &str) {
        if let Ok(mut reporters) = self.reporters.lock() {
            let _ = reporters.emit(RunEvent::CaseStarted { agent, case });
        }
    }

    /// Concludes a finished runCase connection (with any follow-ups that
    /// came early), stores the result and tells the reporters.
    pub fn finish_case(&self, case: &Case, agent: &str, number: usize, mut transcript: Transcript) {
        let Ok(mut results) = self.results.lock() else {
            return;
        };
        if let Ok(mut pending) = self.follow_ups.lock() {
            for event in pending
                .remove(&(agent.to_string(), number))
                .unwrap_or_default()
            {
                transcript.append(event);
            }
        }
        let result = self.conclude(case, agent, transcript);
        let by_case = results.entry(agent.to_string()).or_default();
        if let Ok(mut reporters) = self.reporters.lock() {
            let _ = reporters.emit(RunEvent::CaseFinished {
                agent,
                result: &result,
                done: by_case.len() + usize::from(!by_case.contains_key(&number)),
                total: self.total,
            });
        }
        by_case.insert(number, result);
    }

    /// Records a follow-up request in its case's result (concluded again),
    /// or keeps it until the case's first connection is done.
    pub fn add_follow_up(&self, case: &Case, agent: &str, number: usize, event: EventKind) {
        let Ok(mut results) = self.results.lock() else {
            return;
        };
        match results.get_mut(agent).and_then(|a| a.get_mut(&number)) {
            Some(result) => {
                let mut transcript = result.transcript.clone();
                transcript.append(event);
                *result = self.conclude(case, agent, transcript);
            }
            None => {
                if let Ok(mut pending) = self.follow_ups.lock() {
                    pending
                        .entry((agent.to_string(), number))
                        .or_default()
                        .push(event);
                }
            }
        }
    }

    /// The behaviour verdict of an agent's case, if it has run.
    pub fn behavior(&self, agent: &str, number: usize) -> Option<&'static str> {
        let results = self.results.lock().ok()?;
        let r = results.get(agent)?.get(&number)?;
        Some(r.verdict.behavior.as_str())
    }

    /// Every agent's results so far as runs, in agent order.
    pub fn runs(&self) -> Vec<RunResults> {
        let all = self.results.lock().map(|r| r.clone()).unwrap_or_default();
        let user_agents = self
            .user_agents
            .lock()
            .map(|u| u.clone())
            .unwrap_or_default();
        all.into_iter()
            .map(|(agent, by_case)| {
                let mut target = match user_agents.get(&agent) {
                    Some(ua) => format!("{}; User-Agent: {ua}", self.identity.target),
                    None => self.identity.target.clone(),
                };
                target.push_str(&transport_seen(&by_case));
                RunResults::new(
                    RunIdentity {
                        agent,
                        target,
                        ..self.identity.clone()
                    },
                    self.clock,
                    by_case.into_values().collect(),
                )
            })
            .collect()
    }

    /// Hands every agent's results to the reporters to write out. Every
    /// file that could not be written is returned (the others are written),
    /// and remembered for [`Ledger::reports_failed`].
    pub fn reports_due(&self) -> Result<(), WriteError> {
        let runs = self.runs();
        let outcome = match self.reporters.lock() {
            Ok(mut r) => r.emit(RunEvent::ReportsDue { runs: &runs }),
            Err(poisoned) => poisoned
                .into_inner()
                .emit(RunEvent::ReportsDue { runs: &runs }),
        };
        if outcome.is_err() {
            self.reports_failed.store(true, Ordering::SeqCst);
        }
        outcome
    }

    /// Whether any report could not be written since serve started.
    pub fn reports_failed(&self) -> bool {
        self.reports_failed.load(Ordering::SeqCst)
    }

    /// The end of serving: the final results, also handed to the reporters.
    pub fn finish(&self) -> Vec<RunResults> {
        let runs = self.runs();
        if let Ok(mut r) = self.reporters.lock() {
            let _ = r.emit(RunEvent::RunFinished { runs: &runs });
        }
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_stores_are_in_the_reports_folder_name() {
        let per_agent = SnapshotsPerAgent {
            dir: "snaps".into(),
            update: false,
        };
        for agent in ["probe", "..", "a/b", "a b", &"x".repeat(300)] {
            let store = per_agent.for_agent(agent);
            assert_eq!(store.role, format!("{}/client", agent_folder(agent)));
            assert!(!store.role.contains(".."), "{}", store.role);
            assert_eq!(store.role.matches('/').count(), 1, "{}", store.role);
        }
    }
}
