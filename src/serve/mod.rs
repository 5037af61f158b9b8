//! `wsspec serve`: the client-testing front door. It speaks Autobahn's
//! fuzzing-server URL protocol, so the client drivers projects already keep
//! work unchanged: `/getCaseCount`, `/runCase?case=N&agent=A` (or
//! `casetuple=X.Y.Z`), `/getCaseInfo?case=N`, `/getCaseStatus?case=N&agent=A`
//! and `/updateReports?agent=A[&shutdownOnComplete=true]`. Each `runCase`
//! connection becomes one case run with wsspec as the server; results are kept
//! per agent and written as the same reports `run` writes. [`follow_up`]
//! recognises a client coming back after a refused upgrade.

pub mod follow_up;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::SinkExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::case::Case;
use crate::case::Role;
use crate::conclude::conclude;
use crate::reference::gate::Replay;
use crate::report::agents::Column;
use crate::report::{write_file, write_reports, Outputs};
use crate::results::{CaseResult, RunClock, RunIdentity, RunResults};
use crate::run::session::run_case_accepted;
use crate::run::RunOptions;
use crate::snapshot::SnapshotConfig;
use crate::transcript::{Event, EventKind, Transcript};
use crate::wire::handshake::find_head_end;

/// What `serve` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The selected client-role cases, in order (case N is `cases[N-1]`).
    pub cases: Vec<Case>,
    pub options: RunOptions,
    /// Reports go to `report_dir/<agent>/`, Autobahn's index.json (all agents)
    /// to `report_dir/index.json`.
    pub report_dir: std::path::PathBuf,
    pub strict: bool,
    /// Print a line for every case as it completes, not only the failures.
    pub verbose: bool,
    /// With `--snapshots DIR`: each agent's results are compared with (or,
    /// with `update`, stored as) `DIR/<agent>/client/<case>.snap`.
    pub snapshots: Option<SnapshotsPerAgent>,
}

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
            role: format!("{}/client", safe_name(agent)),
            update: self.update,
        }
    }
}

/// Results per agent, by 1-based case number.
pub type AgentResults = BTreeMap<String, BTreeMap<usize, CaseResult>>;

struct State {
    config: ServeConfig,
    results: Mutex<AgentResults>,
    started: RunClock,
    listen: SocketAddr,
    shutdown: watch::Sender<bool>,
    /// Connections accepted whose case (if they are a `runCase`) is not yet
    /// stored. `updateReports` waits for this to reach zero, so a report never
    /// misses the case a driver has just finished.
    in_flight: watch::Sender<usize>,
    /// Follow-up requests that arrived before their case's first connection
    /// was done, by (agent, case number).
    follow_ups: Mutex<BTreeMap<(String, usize), Vec<EventKind>>>,
    /// Every Sec-WebSocket-Key each agent has sent, with the case it came
    /// with: RFC 6455 4.1 wants a fresh random nonce per connection.
    keys_seen: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
}

impl State {
    /// Judges a transcript (and compares its snapshot) into a result.
    fn result(&self, case: &Case, agent: &str, transcript: Transcript) -> CaseResult {
        let snapshots = self.config.snapshots.as_ref().map(|s| s.for_agent(agent));
        conclude(case, transcript, snapshots.as_ref())
    }

    /// Remembers the key of an agent's runCase request; the event to record
    /// when the agent sent the same key before.
    fn note_key(&self, agent: &str, head: &[u8], case_id: &str) -> Option<EventKind> {
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

    /// Records a follow-up request in its case's result (judged again), or
    /// keeps it until the case's first connection is done.
    fn add_follow_up(&self, case: &Case, key: (String, usize), event: EventKind) {
        let Ok(mut results) = self.results.lock() else {
            return;
        };
        let stored = results.get_mut(&key.0).and_then(|a| a.get_mut(&key.1));
        match stored {
            Some(result) => {
                let mut transcript = result.transcript.clone();
                append(&mut transcript, event);
                *result = self.result(case, &key.0, transcript);
            }
            None => {
                if let Ok(mut pending) = self.follow_ups.lock() {
                    pending.entry(key).or_default().push(event);
                }
            }
        }
    }
}

/// Adds an event at the end of a finished transcript.
fn append(transcript: &mut Transcript, kind: EventKind) {
    let at_us = transcript.duration_us;
    transcript.events.push(Event { at_us, kind });
}

/// Counts one accepted connection as in flight until dropped.
struct InFlight(Arc<State>);

impl InFlight {
    fn new(state: Arc<State>) -> Self {
        state.in_flight.send_modify(|n| *n += 1);
        InFlight(state)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// How long `updateReports` waits for cases still running before it writes
/// what it has.
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(60);

/// Serves until an `updateReports` with `shutdownOnComplete=true` arrives;
/// returns every agent's results. `on_ready` gets the bound address.
pub async fn serve(
    listen: &str,
    config: ServeConfig,
    on_ready: impl FnOnce(SocketAddr),
) -> std::io::Result<AgentResults> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (tx, mut rx) = watch::channel(false);
    let state = Arc::new(State {
        config,
        results: Mutex::new(BTreeMap::new()),
        started: RunClock::start(),
        listen: addr,
        shutdown: tx,
        in_flight: watch::channel(0).0,
        follow_ups: Mutex::new(BTreeMap::new()),
        keys_seen: Mutex::new(BTreeMap::new()),
    });
    on_ready(addr);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    let guard = InFlight::new(state.clone());
                    tokio::spawn(connection(state.clone(), stream, guard));
                }
            }
            _ = rx.changed() => break,
        }
    }
    let results = state.results.lock().map(|r| r.clone()).unwrap_or_default();
    Ok(results)
}

/// The request target's path and its query parameters.
fn parse_target(target: &str) -> (String, BTreeMap<String, String>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let params = query
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect();
    (path.to_string(), params)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn read_head(stream: &mut TcpStream) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let read = async {
        loop {
            if let Some(end) = find_head_end(&buf) {
                return Some(end);
            }
            if buf.len() > 16 * 1024 {
                return None;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    let end = tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .ok()??;
    let rest = buf.split_off(end);
    Some((buf, rest))
}

fn request_target(head: &[u8]) -> Option<String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(head).ok()?;
    req.path.map(str::to_string)
}

/// Looks a case up by `case=N` (1-based) or `casetuple=X.Y.Z`.
fn find_case(cases: &[Case], params: &BTreeMap<String, String>) -> Option<(usize, usize)> {
    if let Some(n) = params.get("case").and_then(|n| n.parse::<usize>().ok()) {
        return (1..=cases.len()).contains(&n).then_some((n, n - 1));
    }
    let id = params.get("casetuple")?;
    cases
        .iter()
        .position(|c| &c.spec.id == id)
        .map(|i| (i + 1, i))
}

async fn connection(state: Arc<State>, mut stream: TcpStream, in_flight: InFlight) {
    let _ = stream.set_nodelay(true);
    let Some((head, rest)) = read_head(&mut stream).await else {
        return;
    };
    // Only a runCase stays in flight past this point.
    let in_flight = (request_target(&head).is_some_and(|t| parse_target(&t).0 == "/runCase"))
        .then_some(in_flight);
    let Some(target) = request_target(&head) else {
        let _ = stream
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    };
    let (path, params) = parse_target(&target);
    let cases = &state.config.cases;
    match path.as_str() {
        "/runCase" => {
            let (Some((number, index)), Some(agent)) =
                (find_case(cases, &params), params.get("agent"))
            else {
                reply_text(stream, head, rest, None).await;
                return;
            };
            let case = &cases[index];
            let key = (agent.clone(), number);
            if follow_up::refuses_upgrade(case) {
                if let Some(event) = follow_up::recognise(&head, &params) {
                    let mut stream = stream;
                    let _ = stream.write_all(follow_up::ANSWER).await;
                    let _ = stream.shutdown().await;
                    state.add_follow_up(case, key, event);
                    return;
                }
            }
            let reused = state.note_key(&key.0, &head, &case.spec.id);
            let mut transcript =
                run_case_accepted(case, stream, head, rest, &state.config.options).await;
            if let Some(event) = reused {
                append(&mut transcript, event);
            }
            if let Ok(mut r) = state.results.lock() {
                if let Ok(mut pending) = state.follow_ups.lock() {
                    for event in pending.remove(&key).unwrap_or_default() {
                        append(&mut transcript, event);
                    }
                }
                let result = state.result(case, &key.0, transcript);
                if state.config.verbose || result.verdict.outcome.fails(state.config.strict) {
                    println!(
                        "[{}] {}",
                        crate::report::console::terminal_safe(&key.0),
                        crate::report::console::case_line(&result)
                    );
                }
                r.entry(key.0).or_default().insert(key.1, result);
            }
            drop(in_flight);
        }
        "/getCaseCount" => reply_text(stream, head, rest, Some(cases.len().to_string())).await,
        "/getCaseInfo" => {
            let info = find_case(cases, &params).map(|(_, i)| {
                serde_json::json!({"id": cases[i].spec.id, "description": cases[i].spec.title})
                    .to_string()
            });
            reply_text(stream, head, rest, info).await
        }
        "/getCaseStatus" => {
            let status = match (find_case(cases, &params), params.get("agent")) {
                (Some((n, _)), Some(agent)) => state.results.lock().ok().and_then(|r| {
                    r.get(agent).and_then(|a| a.get(&n)).map(|c| {
                        serde_json::json!({"behavior": c.verdict.behavior.as_str()}).to_string()
                    })
                }),
                _ => None,
            };
            reply_text(stream, head, rest, status).await
        }
        "/updateReports" => {
            let grace = IN_FLIGHT_GRACE.mul_f64(state.config.options.timeout_scale.max(1.0));
            let mut pending = state.in_flight.subscribe();
            let _ = tokio::time::timeout(grace, pending.wait_for(|n| *n == 0)).await;
            let written = write_all_reports(&state);
            if let Err(e) = &written {
                eprintln!("error: {e}");
            }
            reply_text(stream, head, rest, None).await;
            let shutdown = params
                .get("shutdownOnComplete")
                .is_some_and(|v| matches!(v.as_str(), "true" | "yes" | "1"));
            if shutdown {
                let _ = state.shutdown.send(true);
            }
        }
        _ => {
            let _ = stream
                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    }
}

/// Completes the WebSocket handshake (tungstenite), sends `text` if any, closes.
async fn reply_text(stream: TcpStream, head: Vec<u8>, rest: Vec<u8>, text: Option<String>) {
    let mut replay = head;
    replay.extend(rest);
    let Ok(mut ws) = tokio_tungstenite::accept_async(Replay::new(replay, stream)).await else {
        return;
    };
    if let Some(t) = text {
        let _ = ws.send(Message::Text(t.into())).await;
    }
    let _ = ws.close(None).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        use futures_util::StreamExt;
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

/// One agent's results as a run's results.
pub fn agent_results(
    config: &ServeConfig,
    listen: SocketAddr,
    started: RunClock,
    agent: &str,
    by_case: &BTreeMap<usize, CaseResult>,
) -> RunResults {
    let cases: Vec<CaseResult> = by_case.values().cloned().collect();
    RunResults::new(
        RunIdentity {
            role: Role::Client,
            target: format!("ws://{listen}/ (wsspec serve)"),
            agent: agent.to_string(),
            strict: config.strict,
        },
        started,
        cases,
    )
}

fn write_all_reports(state: &State) -> Result<(), crate::report::WriteError> {
    let all = state.results.lock().map(|r| r.clone()).unwrap_or_default();
    let dir = &state.config.report_dir;
    let runs: Vec<RunResults> = all
        .iter()
        .map(|(agent, by_case)| {
            agent_results(&state.config, state.listen, state.started, agent, by_case)
        })
        .collect();
    for r in &runs {
        write_reports(
            r,
            &Outputs {
                dir: dir.join(safe_name(&r.agent)),
                junit: None,
                html: None,
                json: None,
                autobahn_dir: None,
            },
        )?;
        crate::report::write_autobahn_case_files(r, dir)?;
    }
    let refs: Vec<&RunResults> = runs.iter().collect();
    write_file(
        &dir.join("index.json"),
        &crate::report::autobahn::render_index_of(&refs),
    )?;
    let columns: Vec<Column> = runs
        .iter()
        .map(|r| Column {
            results: r,
            folder: safe_name(&r.agent),
        })
        .collect();
    write_file(
        &dir.join("index.html"),
        &crate::report::agents::render(&columns),
    )
}

/// An agent name as a directory name.
pub fn safe_name(agent: &str) -> String {
    let s: String = agent
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("agent{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_names() {
        let (p, q) = parse_target("/runCase?case=3&agent=my%20client");
        assert_eq!(p, "/runCase");
        assert_eq!(q.get("case").map(String::as_str), Some("3"));
        assert_eq!(q.get("agent").map(String::as_str), Some("my client"));
        assert_eq!(safe_name("../x y"), "agent.._x_y");
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
