//! `wsspec serve --h2`: the front door over HTTP/2 (RFC 8441). A connection
//! that opens with the HTTP/2 preface (h2c with prior knowledge, or TLS whose
//! ALPN agreed `h2`) is served with extended CONNECT enabled, and every
//! request on it is routed as its HTTP/1.1 twin would be: a `GET /` gets the
//! browser page; an extended CONNECT with `:protocol websocket` to one of
//! Autobahn's endpoints gets the same answer as over HTTP/1.1 (the control
//! endpoints' text and close on a WebSocket over the stream; `runCase` runs
//! the case on the stream, its request judged by RFC 8441's rules). The
//! connection is served with a tap ([`crate::http2::tap`]), so each request
//! is recorded exactly as the client sent it, and a `runCase` that `h2`
//! drops as malformed (RST_STREAM or GOAWAY, PROTOCOL_ERROR) still becomes
//! its case's result: the request as received, judged by the same judge.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::front_door::{log_refusal, parse_target, say, Control, FrontDoor};
use super::{browser_page, report_reply};
use crate::http2::server::{as_sent_head, serve_connection_tapped, Handler, Incoming};
use crate::http2::tap::{DroppedBy, Rejected, RejectedHook};
use crate::reference::gate::Replay;
use crate::run::session::{request_dropped, run_case_tunneled};
use crate::run::Transport;
use crate::transcript::HarnessClose;

impl FrontDoor {
    /// Serves one HTTP/2 connection; `start` is what was read of it already
    /// (the preface, at least).
    pub(super) async fn http2_connection(
        self: Arc<Self>,
        stream: Box<dyn Transport>,
        start: Vec<u8>,
    ) {
        let (peer, tls) = (stream.peer_addr(), stream.tls());
        let door = self.clone();
        let handler: Handler = Arc::new(move |incoming| {
            let door = door.clone();
            Box::pin(async move { door.http2_request(incoming).await })
        });
        let door = self.clone();
        let rejected: RejectedHook = Arc::new(move |rejected| door.http2_rejected(rejected));
        let io = Replay::new(start, stream);
        let max_block = self.options.max_header_size;
        let _ = serve_connection_tapped(io, peer, tls, handler, max_block, rejected).await;
    }

    /// A request `h2` dropped as malformed: said on stderr, and for a
    /// `runCase` its case's result, with the request as the client sent it
    /// (judged as every request is). Called as `h2` writes the frame that
    /// drops it, so the case is in flight before the client can have seen
    /// that and asked for reports.
    fn http2_rejected(self: &Arc<Self>, rejected: Rejected) {
        let head = as_sent_head(&rejected.fields);
        let field = |name: &str| {
            rejected
                .fields
                .iter()
                .find(|f| f.name == name.as_bytes())
                .map(|f| f.value_str().into_owned())
        };
        let target = field(":path").unwrap_or_else(|| "(no :path)".to_string());
        let (ended, frame) = match rejected.by {
            DroppedBy::StreamReset => (HarnessClose::MalformedRequestReset, "RST_STREAM"),
            DroppedBy::ConnectionEnded => (HarnessClose::MalformedRequestGoaway, "GOAWAY"),
        };
        let why = crate::judge::request::check_http2_request(&head)
            .unwrap_or_else(|| "a request h2 found malformed".to_string());
        eprintln!(
            "wsspec serve: {} -> dropped by HTTP/2 ({frame} PROTOCOL_ERROR): {}",
            crate::report::console::terminal_safe(&target),
            crate::report::console::terminal_safe(&why)
        );
        let (path, params) = parse_target(&target);
        if path != "/runCase" || field(":method").as_deref() != Some("CONNECT") {
            return;
        }
        let (Ok((number, index)), Some(agent)) = (self.case_of(&params), params.get("agent"))
        else {
            return;
        };
        let case = &self.cases[index];
        if self.agent_exclusions.excludes(agent, &case.spec.id) {
            return;
        }
        let in_flight = self.ledger.in_flight(agent, number);
        let user_agent = field("user-agent");
        self.ledger
            .remember_user_agent(agent, user_agent.as_deref());
        self.ledger.start_case(case, agent);
        let transcript = request_dropped(case, rejected.stream_id, &head, ended);
        let (door, agent) = (self.clone(), agent.clone());
        let finish = move || {
            let case = &door.cases[index];
            door.ledger.finish_case(case, &agent, number, transcript);
            drop(in_flight);
        };
        // Concluding writes snapshots and tells the reporters: not inside
        // `h2`'s write.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(async move { finish() })),
            Err(_) => finish(),
        }
    }

    async fn http2_request(self: Arc<Self>, incoming: Incoming) {
        let target = incoming.path().to_string();
        let (path, params) = parse_target(&target);
        if !incoming.is_websocket() {
            return self.http2_plain(incoming, &target, &path).await;
        }
        if path != "/runCase" {
            match self.control(&path, &params).await {
                Control::Text(text) => {
                    reply(incoming, report_reply::Reply { text, close: None }).await
                }
                Control::Reply(answer, shutdown) => {
                    reply(incoming, answer).await;
                    self.stop(shutdown);
                }
                Control::Refuse(status, why) => refuse(incoming, &target, status, &why),
            }
            return;
        }
        self.http2_run_case(incoming, &target, &params).await;
    }

    /// A request that is not a WebSocket: the browser page, or a refusal.
    async fn http2_plain(&self, incoming: Incoming, target: &str, path: &str) {
        let method = incoming.request.method.clone();
        match (method.as_str(), path) {
            ("GET", "/" | "/browser") => {
                let headers: Vec<(&str, String)> = browser_page::HEADERS
                    .iter()
                    .map(|(n, v)| (*n, v.to_string()))
                    .collect();
                incoming.answer(200, &headers, browser_page::body()).await;
            }
            ("GET", "/favicon.ico") => incoming.answer(204, &[], b"").await,
            ("CONNECT", _) => refuse(
                incoming,
                target,
                400,
                "a CONNECT without `:protocol websocket` (RFC 8441 4)",
            ),
            _ => refuse(
                incoming,
                target,
                404,
                "serve answers GET / (the browser page) and WebSockets (extended CONNECT) to its endpoints",
            ),
        }
    }

    async fn http2_run_case(
        &self,
        incoming: Incoming,
        target: &str,
        params: &BTreeMap<String, String>,
    ) {
        let (number, index) = match self.case_of(params) {
            Ok(found) => found,
            Err(why) => return refuse(incoming, target, 404, &why),
        };
        let Some(agent) = params.get("agent") else {
            return refuse(incoming, target, 400, "runCase needs agent=NAME");
        };
        let case = &self.cases[index];
        if self.agent_exclusions.excludes(agent, &case.spec.id) {
            eprintln!(
                "wsspec serve: case {} skipped for agent {} (exclude-agent-cases)",
                crate::report::console::terminal_safe(&case.spec.id),
                crate::report::console::terminal_safe(agent)
            );
            return reply(
                incoming,
                report_reply::Reply {
                    text: None,
                    close: None,
                },
            )
            .await;
        }
        let in_flight = self.ledger.in_flight(agent, number);
        self.ledger
            .remember_user_agent(agent, incoming.values("user-agent").next());
        self.ledger.start_case(case, agent);
        let transcript = run_case_tunneled(case, Box::new(incoming), &self.options).await;
        self.ledger.finish_case(case, agent, number, transcript);
        drop(in_flight);
    }
}

/// Refuses a request with an HTTP status, which serve also prints.
fn refuse(incoming: Incoming, target: &str, status: u16, why: &str) {
    log_refusal(target, status, "over HTTP/2", why);
    let _ = incoming.refuse(status);
}

/// Accepts a control request and answers on a WebSocket over its stream:
/// the reply's text if any, its close, then END_STREAM.
async fn reply(incoming: Incoming, reply: report_reply::Reply) {
    let Ok(stream) = incoming.accept(200, &[]) else {
        return;
    };
    let ws = tokio_tungstenite::WebSocketStream::from_raw_socket(stream, Role::Server, None).await;
    let _ = say(ws, reply).await.into_inner().shutdown().await;
}
