//! The HTTP front door of `wsspec serve`: it reads each connection's request
//! head, decodes the request target and answers Autobahn's fuzzing-server
//! endpoints: `/getCaseCount`, `/runCase?case=N&agent=A` (or
//! `casetuple=X.Y.Z`), `/getCaseInfo?case=N`, `/getCaseStatus?case=N&agent=A`
//! and `/updateReports?agent=A[&shutdownOnComplete=true]`. Answers are
//! WebSocket text messages (tungstenite); a `runCase` connection is handed to
//! the session with wsspec as the server and its transcript to the ledger.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::follow_up;
use super::ledger::{InFlight, Ledger};
use crate::case::Case;
use crate::reference::gate::Replay;
use crate::run::session::run_case_accepted;
use crate::run::RunOptions;
use crate::wire::head::{read_head, HeadLimits};

/// How long `updateReports` waits for cases still running before it writes
/// what it has.
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(60);

/// How long a client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// What the front door answers with.
pub struct FrontDoor {
    pub cases: Vec<Case>,
    pub options: RunOptions,
    pub ledger: Arc<Ledger>,
    pub shutdown: watch::Sender<bool>,
}

impl FrontDoor {
    /// Serves one accepted connection.
    pub async fn connection(self: Arc<Self>, mut stream: TcpStream, in_flight: InFlight) {
        let _ = stream.set_nodelay(true);
        let limits = HeadLimits {
            max_bytes: crate::wire::handshake::MAX_HEAD_BYTES,
            timeout: HEAD_TIMEOUT,
        };
        let Ok(read) = read_head(&mut stream, Vec::new(), limits).await else {
            return;
        };
        let (head, rest) = (read.head, read.rest);
        let Some(target) = request_target(&head) else {
            let _ = stream
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
            return;
        };
        let (path, params) = parse_target(&target);
        // Only a runCase stays in flight past this point.
        let in_flight = (path == "/runCase").then_some(in_flight);
        let cases = &self.cases;
        match path.as_str() {
            "/runCase" => {
                let (Some((number, index)), Some(agent)) =
                    (find_case(cases, &params), params.get("agent"))
                else {
                    reply_text(stream, head, rest, None).await;
                    return;
                };
                let case = &cases[index];
                if follow_up::refuses_upgrade(case) {
                    if let Some(event) = follow_up::recognise(&head, &params) {
                        let mut stream = stream;
                        let _ = stream.write_all(follow_up::ANSWER).await;
                        let _ = stream.shutdown().await;
                        self.ledger.add_follow_up(case, agent, number, event);
                        return;
                    }
                }
                let reused = self.ledger.note_key(agent, &head, &case.spec.id);
                let mut transcript =
                    run_case_accepted(case, Box::new(stream), head, rest, &self.options).await;
                if let Some(event) = reused {
                    let at_us = transcript.duration_us;
                    transcript
                        .events
                        .push(crate::transcript::Event { at_us, kind: event });
                }
                self.ledger.finish_case(case, agent, number, transcript);
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
                    (Some((n, _)), Some(agent)) => self
                        .ledger
                        .behavior(agent, n)
                        .map(|b| serde_json::json!({ "behavior": b }).to_string()),
                    _ => None,
                };
                reply_text(stream, head, rest, status).await
            }
            "/updateReports" => {
                let grace = IN_FLIGHT_GRACE.mul_f64(self.options.timeout_scale.max(1.0));
                let _ = tokio::time::timeout(grace, self.ledger.settled()).await;
                if let Err(e) = self.ledger.reports_due() {
                    eprintln!("error: {e}");
                }
                reply_text(stream, head, rest, None).await;
                let shutdown = params
                    .get("shutdownOnComplete")
                    .is_some_and(|v| matches!(v.as_str(), "true" | "yes" | "1"));
                if shutdown {
                    let _ = self.shutdown.send(true);
                }
            }
            _ => {
                let _ = stream
                    .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    .await;
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_names() {
        let (p, q) = parse_target("/runCase?case=3&agent=my%20client");
        assert_eq!(p, "/runCase");
        assert_eq!(q.get("case").map(String::as_str), Some("3"));
        assert_eq!(q.get("agent").map(String::as_str), Some("my client"));
        assert_eq!(crate::report::agent_folder("../x y"), "agent.._x_y");
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
