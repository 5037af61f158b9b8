//! The HTTP front door of `wsspec serve`: it reads each connection's request
//! head, decodes the request target and answers Autobahn's fuzzing-server
//! endpoints: `/getCaseCount`, `/runCase?case=N&agent=A` (or
//! `casetuple=X.Y.Z`), `/getCaseInfo?case=N`, `/getCaseStatus?case=N&agent=A`
//! and `/updateReports?agent=A[&shutdownOnComplete=true]`. Answers are
//! WebSocket text messages (tungstenite); a `runCase` connection is handed to
//! the session with wsspec as the server and its transcript to the ledger. A
//! plain `GET /` (no upgrade) gets the page that drives a browser's own
//! WebSocket through the cases ([`super::browser_page`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::ledger::{InFlight, Ledger};
use super::{browser_page, follow_up, report_reply};
use crate::case::wstest_pattern::AgentExclusions;
use crate::case::Case;
use crate::reference::gate::Replay;
use crate::run::session::run_case_accepted;
use crate::run::{RunOptions, Transport};
use crate::wire::handshake::{header_tokens, MAX_HEADERS};
use crate::wire::head::{read_head, HeadLimits};

/// How long `updateReports` waits for cases still running before it writes
/// what it has (and `getCaseStatus` for its case), times `--timeout-scale`.
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(60);

/// What the front door answers with.
pub struct FrontDoor {
    pub cases: Vec<Case>,
    pub options: RunOptions,
    pub ledger: Arc<Ledger>,
    pub shutdown: watch::Sender<bool>,
    pub agent_exclusions: Arc<AgentExclusions>,
    /// `serve --h2`: a connection that opens with the HTTP/2 preface is
    /// served as HTTP/2 with extended CONNECT ([`super::http2_door`]).
    pub http2: bool,
}

/// What a control endpoint (every one but `runCase`) answers.
pub(super) enum Control {
    /// A text message (or none), then a close.
    Text(Option<String>),
    /// `updateReports`'s reply, and whether serve stops once it is sent
    /// (`shutdownOnComplete`: [`FrontDoor::stop`]).
    Reply(report_reply::Reply, bool),
    /// An HTTP refusal with its reason.
    Refuse(u16, String),
}

impl FrontDoor {
    /// Serves one accepted connection.
    pub async fn connection(self: Arc<Self>, mut stream: Box<dyn Transport>) {
        let limits = HeadLimits {
            max_bytes: self.options.max_header_size,
            // How long a client may take to send its request head
            // (`--handshake-timeout` × `--timeout-scale`); a connection that
            // sends none is closed then. It holds nothing up meanwhile: only
            // a `runCase` whose request has arrived counts as in flight.
            timeout: self
                .options
                .handshake_timeout
                .scaled(self.options.timeout_scale.max(1.0)),
        };
        let Ok(read) = read_head(&mut stream, Vec::new(), limits).await else {
            return;
        };
        let (head, rest) = (read.head, read.rest);
        if self.http2 && head.starts_with(b"PRI * HTTP/2.0\r\n") {
            let mut replay = head;
            replay.extend_from_slice(&rest);
            return self.http2_connection(stream, replay).await;
        }
        let Some(target) = request_target(&head) else {
            refuse(
                stream,
                "?",
                400,
                "not an HTTP request line (expected `GET /path HTTP/1.1`)",
            )
            .await;
            return;
        };
        let (path, params) = parse_target(&target);
        let cases = &self.cases;
        let case_of = |params: &BTreeMap<String, String>| self.case_of(params);
        let method_get = head.starts_with(b"GET ");
        if method_get && !browser_page::is_upgrade(&head) {
            // A browser: the page that drives its own WebSocket.
            let page = match path.as_str() {
                "/" | "/browser" => Some(browser_page::response()),
                "/favicon.ico" => Some(browser_page::NO_CONTENT.to_vec()),
                _ => None,
            };
            if let Some(page) = page {
                let _ = stream.write_all(&page).await;
                let _ = stream.shutdown().await;
                return;
            }
        }
        let answer = match path.as_str() {
            "/runCase" => {
                let (number, index) = match case_of(&params) {
                    Ok(found) => found,
                    Err(why) => return refuse(stream, &target, 404, &why).await,
                };
                let Some(agent) = params.get("agent") else {
                    return refuse(stream, &target, 400, "runCase needs agent=NAME").await;
                };
                let case = &cases[index];
                if self.agent_exclusions.excludes(agent, &case.spec.id) {
                    // As wstest does: open, close, no result.
                    eprintln!(
                        "wsspec serve: case {} skipped for agent {} (exclude-agent-cases)",
                        crate::report::console::terminal_safe(&case.spec.id),
                        crate::report::console::terminal_safe(agent)
                    );
                    return reply_text(stream, &target, head, rest, None).await;
                }
                if follow_up::refuses_upgrade(case) {
                    if let Some(event) = follow_up::recognise(&head, &params) {
                        let mut stream = stream;
                        let _ = stream.write_all(follow_up::ANSWER).await;
                        let _ = stream.shutdown().await;
                        self.ledger.add_follow_up(case, agent, number, event);
                        return;
                    }
                }
                // In flight from here until its result is stored.
                let in_flight: InFlight = self.ledger.in_flight(agent, number);
                // The request is judged strictly here, whatever it lacks: the
                // case runs (or is refused with 400 when there is no key) and
                // the judge names the defect in the report.
                let reused = self.ledger.note_key(agent, &head, &case.spec.id);
                self.ledger.start_case(case, agent);
                let mut transcript =
                    run_case_accepted(case, stream, head, rest, &self.options).await;
                if let Some(event) = reused {
                    transcript.append(event);
                }
                self.ledger.finish_case(case, agent, number, transcript);
                drop(in_flight);
                return;
            }
            _ => self.control(&path, &params).await,
        };
        match answer {
            Control::Text(text) => reply_text(stream, &target, head, rest, text).await,
            Control::Reply(reply, shutdown) => {
                reply_ws(stream, &target, head, rest, reply).await;
                self.stop(shutdown);
            }
            Control::Refuse(status, why) => refuse(stream, &target, status, &why).await,
        }
    }
}

impl FrontDoor {
    /// The case a request names by `case=N` (1-based) or `casetuple=ID`:
    /// its number and index, or why there is none.
    pub(super) fn case_of(
        &self,
        params: &BTreeMap<String, String>,
    ) -> Result<(usize, usize), String> {
        let cases = &self.cases;
        find_case(cases, params).ok_or_else(|| {
            let asked = params
                .get("case")
                .or_else(|| params.get("casetuple"))
                .map_or("none".to_string(), |c| format!("`{c}`"));
            format!(
                "no such case ({asked}): the selection has {} cases, case=1..{} or casetuple=ID",
                cases.len(),
                cases.len()
            )
        })
    }

    /// The answer of every endpoint but `runCase`, the same over HTTP/1.1
    /// and HTTP/2.
    pub(super) async fn control(&self, path: &str, params: &BTreeMap<String, String>) -> Control {
        let cases = &self.cases;
        let answer = match path {
            "/getCaseCount" => Ok(Some(cases.len().to_string())),
            "/getCaseInfo" => self.case_of(params).map_err(|why| (404, why)).map(|(_, i)| {
                Some(
                    serde_json::json!({"id": cases[i].spec.id, "description": cases[i].spec.title})
                        .to_string(),
                )
            }),
            "/getCaseStatus" => match (self.case_of(params), params.get("agent")) {
                (Err(why), _) => Err((404, why)),
                (_, None) => Err((400, "getCaseStatus needs agent=NAME".to_string())),
                // Nothing yet for a case the agent has not run; a case whose
                // connection has just closed is waited for until it is stored.
                (Ok((n, _)), Some(agent)) => {
                    let settled = self.ledger.case_settled(agent, n);
                    let _ = tokio::time::timeout(self.grace(), settled).await;
                    Ok(self
                        .ledger
                        .behavior(agent, n)
                        .map(|b| serde_json::json!({ "behavior": b }).to_string()))
                }
            },
            "/updateReports" => {
                let _ = tokio::time::timeout(self.grace(), self.ledger.settled()).await;
                let written = self.ledger.reports_due();
                if let Err(e) = &written {
                    for f in &e.failures {
                        eprintln!(
                            "error: {}",
                            crate::report::console::terminal_safe(&f.to_string())
                        );
                    }
                }
                let reply = report_reply::reply(&written);
                let shutdown = params
                    .get("shutdownOnComplete")
                    .is_some_and(|v| matches!(v.as_str(), "true" | "yes" | "1"));
                return Control::Reply(reply, shutdown);
            }
            other => Err((
                404,
                format!(
                    "unknown endpoint `{other}`: serve answers /getCaseCount, /getCaseInfo, /runCase, /getCaseStatus and /updateReports"
                ),
            )),
        };
        match answer {
            Ok(text) => Control::Text(text),
            Err((status, why)) => Control::Refuse(status, why),
        }
    }

    /// Stops serving when `shutdown` (after `updateReports` has answered).
    pub(super) fn stop(&self, shutdown: bool) {
        if shutdown {
            let _ = self.shutdown.send(true);
        }
    }

    /// How long a control request waits for cases still running.
    fn grace(&self) -> Duration {
        IN_FLIGHT_GRACE.mul_f64(self.options.timeout_scale.max(1.0))
    }
}

/// The request target's path and its query parameters.
pub fn parse_target(target: &str) -> (String, BTreeMap<String, String>) {
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

/// The request target: httparse's reading, or, for a request it cannot
/// parse, the second word of the first line (a broken client's `runCase`
/// still names its case and agent, and gets a report).
pub fn request_target(head: &[u8]) -> Option<String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    if req.parse(head).is_ok() {
        if let Some(path) = req.path {
            return Some(path.to_string());
        }
    }
    let line = head.split(|b| *b == b'\n').next()?;
    let target = String::from_utf8_lossy(line)
        .split_whitespace()
        .nth(1)?
        .to_string();
    target.starts_with('/').then_some(target)
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

/// Refuses a request with an HTTP status and a one-line reason, which serve
/// also prints.
async fn refuse(mut stream: Box<dyn Transport>, target: &str, status: u16, why: &str) {
    let phrase = match status {
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        _ => "Error",
    };
    log_refusal(target, status, phrase, why);
    let body = format!("{why}\n");
    let response = format!(
        "HTTP/1.1 {status} {phrase}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Says on stderr what serve refused, and why.
pub(super) fn log_refusal(target: &str, status: u16, phrase: &str, why: &str) {
    eprintln!(
        "wsspec serve: {} -> {status} {phrase}: {}",
        crate::report::console::terminal_safe(target),
        crate::report::console::terminal_safe(why)
    );
}

/// The control endpoints' opening handshake, as lenient as Autobahn's
/// fuzzing server: any GET that asks for a WebSocket upgrade is accepted,
/// whatever its version, key length or Host (those are judged in `runCase`,
/// not here); without a key there is simply no Sec-WebSocket-Accept.
pub fn control_handshake(head: &[u8]) -> Result<Vec<u8>, (u16, String)> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let parsed = req.parse(head).is_ok();
    let method = req.method.unwrap_or("");
    if method != "GET" {
        return Err((405, format!("control endpoints take GET, not `{method}`")));
    }
    let upgrade = parsed
        && header_tokens(req.headers, "upgrade")
            .iter()
            .any(|t| t == "websocket");
    if !upgrade {
        return Err((
            426,
            "control endpoints speak WebSocket: send `Upgrade: websocket`".to_string(),
        ));
    }
    let accept = crate::wire::handshake::request_key(head)
        .map(|key| {
            format!(
                "Sec-WebSocket-Accept: {}\r\n",
                crate::wire::handshake::accept_for(&key)
            )
        })
        .unwrap_or_default();
    Ok(format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{accept}\r\n"
    )
    .into_bytes())
}

/// Answers a control request: the lenient handshake, `text` if any, a close.
async fn reply_text(
    stream: Box<dyn Transport>,
    target: &str,
    head: Vec<u8>,
    rest: Vec<u8>,
    text: Option<String>,
) {
    let reply = report_reply::Reply { text, close: None };
    reply_ws(stream, target, head, rest, reply).await
}

/// Answers a control request: the lenient handshake, the reply's text if
/// any, and its close frame (a plain close if none).
async fn reply_ws(
    mut stream: Box<dyn Transport>,
    target: &str,
    head: Vec<u8>,
    rest: Vec<u8>,
    reply: report_reply::Reply,
) {
    let response = match control_handshake(&head) {
        Ok(r) => r,
        Err((status, why)) => return refuse(stream, target, status, &why).await,
    };
    if stream.write_all(&response).await.is_err() {
        return;
    }
    let ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
        Replay::new(rest, stream),
        tokio_tungstenite::tungstenite::protocol::Role::Server,
        None,
    )
    .await;
    say(ws, reply).await;
}

/// Sends a control reply on an open WebSocket: its text if any, then its
/// close frame (a plain close if none), and reads what the client still
/// sends (its close) for up to 2 s. The WebSocket is handed back.
pub(super) async fn say<S>(
    mut ws: tokio_tungstenite::WebSocketStream<S>,
    reply: report_reply::Reply,
) -> tokio_tungstenite::WebSocketStream<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if let Some(t) = reply.text {
        let _ = ws.send(Message::Text(t.into())).await;
    }
    let _ = ws.close(reply.close).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        use futures_util::StreamExt;
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    ws
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
        assert_eq!(percent_decode("a%2"), "a%2");
    }

    #[test]
    fn a_right_request_with_many_headers_is_read_whole() {
        // 75 header lines: more than the 64 the front door once read, within
        // the 128 the judge reads (found by fuzz/checks/request_head.rs).
        let mut head = "GET /getCaseCount?x=1 HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\
                        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                        Sec-WebSocket-Version: 13\r\n"
            .to_string();
        for i in 0..70 {
            head.push_str(&format!("X-{i}: {i}\r\n"));
        }
        head.push_str("\r\n");
        assert_eq!(crate::judge::request::check_request(head.as_bytes()), None);
        let response = control_handshake(head.as_bytes()).expect("a 101");
        assert!(response.starts_with(b"HTTP/1.1 101 "));
        assert_eq!(
            request_target(head.as_bytes()).as_deref(),
            Some("/getCaseCount?x=1")
        );
    }
}
