//! A deliberately faulty HTTP/2 WebSocket client against `wsspec serve
//! --h2`: wsspec's own raw HTTP/2 client (`http2::raw::conn::RawClient`)
//! over TCP speaks Autobahn's fuzzing-server protocol correctly, as an echo
//! client, but adds `connection: Upgrade` and `upgrade: websocket` to its
//! extended CONNECT for the cases it is aimed at. `h2` under serve resets
//! those streams (RST_STREAM PROTOCOL_ERROR) before serve could see the
//! request; the tap under `h2` saw it, so those cases are FAILED, the reason
//! naming RFC 9113 8.2.2 and the fields, the request as sent in the
//! transcript, while the same client's correct request for another case
//! runs and passes. A real client (yawc on hyper's HTTP/2) gets no such
//! failure.

#[path = "common/serve_proc.rs"]
mod serve_proc;
#[path = "common/yawc_peer.rs"]
mod yawc_peer;

use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpStream;
use wsspec::http2::raw::conn::RawClient;
use wsspec::http2::raw::frame::{ErrorCode, Frame};
use wsspec::http2::raw::hpack::Field;

const WAIT: Duration = Duration::from_secs(10);

/// What serve answered an extended CONNECT with.
enum Answer {
    /// A 200 and the WebSocket's bytes until the stream ended.
    Opened(Vec<Vec<u8>>),
    /// RST_STREAM on the request's stream, with its code.
    Reset(ErrorCode),
    /// GOAWAY, with its code: the whole connection ended.
    Ended(ErrorCode),
    /// An answer other than 200, with its status, taken as a refusal.
    Refused(String),
}

/// How the faulty client spoils a request.
#[derive(Clone, Copy, PartialEq)]
enum Fault {
    None,
    /// `connection: Upgrade` and `upgrade: websocket` added.
    UpgradeFields,
    /// The same with the names as HTTP/1.1 writes them, `Connection` and
    /// `Upgrade` (uppercase is malformed in HTTP/2 too).
    UpgradeFieldsCapitalised,
    /// No `:scheme` (RFC 8441 4 requires it on an extended CONNECT).
    NoScheme,
    /// No `:path`: serve cannot tell which case was asked for.
    NoPath,
    /// `sec-websocket-version` before `:path` (RFC 9113 8.3).
    PathAfterRegular,
    /// `Sec-WebSocket-Version` as HTTP/1.1 writes it (RFC 9113 8.2.1).
    UppercaseName,
}

/// The faulty client: one HTTP/2 connection per request, as many drivers
/// open one WebSocket per connection.
struct FaultyClient {
    port: u16,
    /// The fault of `h2.3.*`'s client: any answer opens the WebSocket (a
    /// greeting is sent on it), whatever its status and fields say.
    takes_any_answer: bool,
}

impl FaultyClient {
    fn request(&self, path: &str, fault: Fault) -> Vec<Field> {
        let mut fields = vec![
            Field::new(":method", "CONNECT"),
            Field::new(":protocol", "websocket"),
            Field::new(":scheme", "http"),
            Field::new(":authority", format!("127.0.0.1:{}", self.port)),
            Field::new(":path", path),
            Field::new("sec-websocket-version", "13"),
        ];
        // What an HTTP/1.1 upgrade carries, and RFC 9113 8.2.2 forbids.
        match fault {
            Fault::None => {}
            Fault::UpgradeFields => {
                fields.push(Field::new("connection", "Upgrade"));
                fields.push(Field::new("upgrade", "websocket"));
            }
            Fault::UpgradeFieldsCapitalised => {
                fields.push(Field::new("Connection", "Upgrade"));
                fields.push(Field::new("Upgrade", "websocket"));
            }
            Fault::NoScheme => fields.retain(|f| f.name != b":scheme"),
            Fault::NoPath => fields.retain(|f| f.name != b":path"),
            Fault::PathAfterRegular => fields.swap(4, 5),
            Fault::UppercaseName => fields[5].name = b"Sec-WebSocket-Version".to_vec(),
        }
        fields
    }

    /// Sends the request; on a 200 runs an echo client on the stream (text
    /// and binary echoed, a close answered, END_STREAM after it) and returns
    /// the messages it got.
    async fn open(&self, path: &str, fault: Fault) -> Answer {
        let tcp = TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect to serve");
        let mut client = RawClient::handshake(tcp, &[], WAIT)
            .await
            .expect("HTTP/2 handshake");
        assert!(client.extended_connect(), "serve --h2 enables RFC 8441");
        client
            .send_headers(1, &self.request(path, fault), false)
            .await
            .expect("send the request");
        let first = loop {
            match client.next_frame(WAIT).await.expect("an answer") {
                Some(r) if r.frame.stream_id() == 1 => break r,
                Some(r) => match r.frame {
                    Frame::GoAway { code, .. } => return Answer::Ended(code),
                    _ => continue,
                },
                None => panic!("{path}: the connection closed without an answer"),
            }
        };
        match first.frame {
            Frame::RstStream { code, .. } => return Answer::Reset(code),
            Frame::Headers { .. } => {
                let fields = first.headers.expect("a block").expect("decoded").fields;
                let status = fields[0].value_str().into_owned();
                assert_eq!(fields[0].name, b":status", "{fields:?}");
                if status != "200" {
                    if !self.takes_any_answer {
                        return Answer::Refused(status);
                    }
                    self.send_ws(&mut client, 0x1, b"hello anyway").await;
                }
            }
            other => panic!("{path}: {other:?}"),
        }
        let mut bytes = Vec::new();
        let mut messages = Vec::new();
        let mut fragments: Vec<u8> = Vec::new();
        loop {
            let Ok(Some(received)) = client.next_on_stream(1, WAIT).await else {
                break;
            };
            let (data, end) = match received.frame {
                Frame::Data {
                    data, end_stream, ..
                } => (data, end_stream),
                _ => break,
            };
            bytes.extend_from_slice(&data);
            while let Some((fin, opcode, payload, used)) = ws_frame(&bytes) {
                bytes.drain(..used);
                match opcode {
                    0x0..=0x2 => {
                        fragments.extend_from_slice(&payload);
                        if fin {
                            let message = std::mem::take(&mut fragments);
                            let echo_op = if opcode == 0 { 0x1 } else { opcode };
                            self.send_ws(&mut client, echo_op, &message).await;
                            messages.push(message);
                        }
                    }
                    0x9 => self.send_ws(&mut client, 0xa, &payload).await,
                    0x8 => {
                        self.send_ws(&mut client, 0x8, &payload).await;
                        let _ = client
                            .send(&[Frame::Data {
                                stream_id: 1,
                                end_stream: true,
                                data: Vec::new(),
                                padding: None,
                            }])
                            .await;
                    }
                    _ => {}
                }
            }
            if end {
                break;
            }
        }
        Answer::Opened(messages)
    }

    /// A masked WebSocket frame in a DATA frame.
    async fn send_ws(&self, client: &mut RawClient<TcpStream>, opcode: u8, payload: &[u8]) {
        let mask = [0x12, 0x34, 0x56, 0x78];
        let mut frame = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= 0xffff => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        let _ = client
            .send(&[Frame::Data {
                stream_id: 1,
                end_stream: false,
                data: frame,
                padding: None,
            }])
            .await;
    }

    /// The text of a control endpoint's reply.
    async fn text(&self, path: &str) -> String {
        match self.open(path, Fault::None).await {
            Answer::Opened(messages) => messages
                .first()
                .map(|m| String::from_utf8_lossy(m).into_owned())
                .unwrap_or_default(),
            Answer::Reset(code) | Answer::Ended(code) => panic!("{path}: {code:?}"),
            Answer::Refused(status) => panic!("{path}: {status}"),
        }
    }
}

/// One whole unmasked WebSocket frame at the start of `bytes`: FIN, opcode,
/// payload and the bytes it took.
fn ws_frame(bytes: &[u8]) -> Option<(bool, u8, Vec<u8>, usize)> {
    let (&b0, rest) = bytes.split_first()?;
    let (&b1, rest) = rest.split_first()?;
    let (len, head) = match b1 & 0x7f {
        126 => (
            u16::from_be_bytes(rest.get(..2)?.try_into().ok()?) as usize,
            4,
        ),
        127 => (
            u64::from_be_bytes(rest.get(..8)?.try_into().ok()?) as usize,
            10,
        ),
        n => (n as usize, 2),
    };
    let payload = bytes.get(head..head + len)?.to_vec();
    Some((b0 & 0x80 != 0, b0 & 0x0f, payload, head + len))
}

fn case<'a>(results: &'a Value, id: &str) -> &'a Value {
    results["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no result for {id}"))
}

/// The request serve recorded for a case, as text.
fn request_received(case: &Value) -> String {
    let events = case["transcript"]["events"].as_array().expect("events");
    let raw = events
        .iter()
        .find(|e| e["event"] == "request_received")
        .map(|e| e["raw"]["head"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    let bytes: Vec<u8> = (0..raw.len() / 2)
        .filter_map(|i| u8::from_str_radix(&raw[2 * i..2 * i + 2], 16).ok())
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn a_client_sending_connection_and_upgrade_over_http2_fails_those_cases_by_rfc_9113_8_2_2() {
    let mut serve = serve_proc::Serve::start(
        "h2-faulty",
        &["1.1.1", "1.1.2", "1.1.3", "1.1.4"],
        &["--h2"],
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let agent = "faulty-h2";
    rt.block_on(async {
        let client = FaultyClient {
            port: serve.port,
            takes_any_answer: false,
        };
        assert_eq!(client.text("/getCaseCount").await, "4");
        // Cases 1 and 3 with the HTTP/1.1 upgrade's fields: reset by h2.
        for n in [1, 3] {
            let path = format!("/runCase?case={n}&agent={agent}");
            match client.open(&path, Fault::UpgradeFields).await {
                Answer::Reset(code) => assert_eq!(code, ErrorCode::ProtocolError),
                _ => panic!("case {n}: not reset"),
            }
        }
        // Case 4 with them capitalised: h2 ends the whole connection.
        let path = format!("/runCase?case=4&agent={agent}");
        match client.open(&path, Fault::UpgradeFieldsCapitalised).await {
            Answer::Ended(code) => assert_eq!(code, ErrorCode::ProtocolError),
            _ => panic!("case 4: the connection did not end with GOAWAY"),
        }
        // Case 2 asked correctly: it runs, and the client echoes.
        let path = format!("/runCase?case=2&agent={agent}");
        match client.open(&path, Fault::None).await {
            Answer::Opened(messages) => assert_eq!(messages.len(), 1, "1.1.2 sends one message"),
            _ => panic!("a well-formed request was refused"),
        }
        client
            .open(
                &format!("/updateReports?agent={agent}&shutdownOnComplete=true"),
                Fault::None,
            )
            .await;
    });
    let code = serve.finish(Duration::from_secs(30));
    assert_eq!(code, Some(1), "three cases FAILED\n{}", serve.stderr());
    let results = serve
        .json(format!("{agent}/results.json"))
        .unwrap_or_else(|| panic!("no results\n{}", serve.stderr()));
    for id in ["1.1.1", "1.1.3"] {
        let c = case(&results, id);
        assert_eq!(c["verdict"]["outcome"], "FAILED", "{id}: {c}");
        let reason = c["verdict"]["behavior_reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains("RFC 9113 8.2.2")
                && reason.contains("`connection: Upgrade` and `upgrade: websocket`"),
            "{id}: {reason}"
        );
        // The request as the client sent it, in its order, is in the
        // transcript; the stream reset is recorded as why nothing ran.
        let request = request_received(c);
        assert!(
            request.starts_with(":method: CONNECT\r\n:protocol: websocket\r\n")
                && request.ends_with("connection: Upgrade\r\nupgrade: websocket\r\n\r\n"),
            "{id}: {request:?}"
        );
        let events = c["transcript"]["events"].to_string();
        assert!(
            events.contains("RST_STREAM PROTOCOL_ERROR"),
            "{id}: {events}"
        );
    }
    let capitalised = case(&results, "1.1.4");
    assert_eq!(capitalised["verdict"]["outcome"], "FAILED", "{capitalised}");
    let reason = capitalised["verdict"]["behavior_reason"].to_string();
    assert!(
        reason.contains("RFC 9113 8.2.2")
            && reason.contains("`Connection: Upgrade` and `Upgrade: websocket`"),
        "{reason}"
    );
    assert!(request_received(capitalised)
        .ends_with("Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"));
    let events = capitalised["transcript"]["events"].to_string();
    assert!(events.contains("GOAWAY PROTOCOL_ERROR"), "{events}");
    let good = case(&results, "1.1.2");
    assert_eq!(good["verdict"]["outcome"], "OK", "{good}");
    assert!(!good.to_string().contains("RFC 9113"), "{good}");
    assert!(request_received(good).starts_with(":method: CONNECT\r\n"));
    let said = serve.stderr();
    assert!(
        said.contains("dropped by HTTP/2 (RST_STREAM PROTOCOL_ERROR)") && said.contains("8.2.2"),
        "{said}"
    );
    serve.remove_reports();
}

#[test]
fn yawc_over_http2_gets_no_malformed_request_failure() {
    let mut serve = serve_proc::Serve::start("h2-yawc-wellformed", &["1.1.*", "1.2.1"], &["--h2"]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let ran = rt.block_on(yawc_peer::drive(&serve.url(), "yawc", true));
    assert_eq!(ran, 9, "{}", serve.stderr());
    let code = serve.finish(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{}", serve.stderr());
    let results = serve.json("yawc/results.json").expect("results");
    let cases = results["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 9);
    for c in cases {
        assert_eq!(c["verdict"]["outcome"], "OK", "{c}");
        // Recorded as yawc sent it: pseudo-header fields first, lowercase.
        let request = request_received(c);
        assert!(request.starts_with(":method: CONNECT\r\n"), "{request:?}");
        assert!(!request.contains("connection:"), "{request:?}");
    }
    assert!(!serve.stderr().contains("dropped by HTTP/2"));
    serve.remove_reports();
}

#[test]
fn other_malformed_extended_connects_fail_their_cases_with_the_rule_they_break() {
    let mut serve = serve_proc::Serve::start("h2-malformed", &["1.1.*"], &["--h2"]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let agent = "malformed-h2";
    // (case number, fault, whether h2 ends the whole connection, the words
    // the reason must have)
    let rows = [
        (1, Fault::NoScheme, false, "has no :scheme (RFC 8441 4"),
        (
            2,
            Fault::PathAfterRegular,
            false,
            "`:path` after the regular field `sec-websocket-version`: RFC 9113 8.3",
        ),
        (
            3,
            Fault::UppercaseName,
            true,
            "field name `Sec-WebSocket-Version`: RFC 9113 8.2.1",
        ),
    ];
    rt.block_on(async {
        let client = FaultyClient {
            port: serve.port,
            takes_any_answer: false,
        };
        for (n, fault, goaway, _) in rows {
            let path = format!("/runCase?case={n}&agent={agent}");
            match (client.open(&path, fault).await, goaway) {
                (Answer::Reset(ErrorCode::ProtocolError), false)
                | (Answer::Ended(ErrorCode::ProtocolError), true) => {}
                _ => panic!("case {n}: not dropped as expected"),
            }
        }
        // Without :path the case is unknown: said on stderr, no result.
        let path = format!("/runCase?case=4&agent={agent}");
        assert!(matches!(
            client.open(&path, Fault::NoPath).await,
            Answer::Reset(ErrorCode::ProtocolError)
        ));
        client
            .open(
                &format!("/updateReports?agent={agent}&shutdownOnComplete=true"),
                Fault::None,
            )
            .await;
    });
    assert_eq!(serve.finish(Duration::from_secs(30)), Some(1));
    let results = serve
        .json(format!("{agent}/results.json"))
        .unwrap_or_else(|| panic!("no results\n{}", serve.stderr()));
    for (n, _, _, words) in rows {
        let c = case(&results, &format!("1.1.{n}"));
        assert_eq!(c["verdict"]["outcome"], "FAILED", "{c}");
        let reason = c["verdict"]["behavior_reason"].to_string();
        assert!(reason.contains(words), "case {n}: {reason}");
        assert!(request_received(c).contains(":method: CONNECT\r\n"));
    }
    assert_eq!(results["cases"].as_array().map(Vec::len), Some(3));
    let said = serve.stderr();
    assert!(
        said.contains("(no :path) -> dropped by HTTP/2 (RST_STREAM PROTOCOL_ERROR): the client's extended CONNECT has no :path"),
        "{said}"
    );
    serve.remove_reports();
}

/// Runs the client-role RFC 8441 cases (`h2.3.*`: answers a client must
/// not take as an open WebSocket) with the faulty client; each case's
/// outcome.
fn answers_with(takes_any_answer: bool) -> Vec<(String, String)> {
    let name = format!("h2-answers-{takes_any_answer}");
    let mut serve = serve_proc::Serve::start(&name, &["h2.3.*"], &["--h2"]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let agent = "answers";
    rt.block_on(async {
        let client = FaultyClient {
            port: serve.port,
            takes_any_answer,
        };
        let count: usize = client.text("/getCaseCount").await.parse().expect("a count");
        assert_eq!(count, 4);
        for n in 1..=count {
            let path = format!("/runCase?case={n}&agent={agent}");
            let _ = client.open(&path, Fault::None).await;
        }
        client
            .open(
                &format!("/updateReports?agent={agent}&shutdownOnComplete=true"),
                Fault::None,
            )
            .await;
    });
    serve.finish(Duration::from_secs(30));
    let results = serve
        .json(format!("{agent}/results.json"))
        .unwrap_or_else(|| panic!("no results\n{}", serve.stderr()));
    let outcomes = outcomes_of(&results);
    serve.remove_reports();
    outcomes
}

#[test]
fn a_client_that_ignores_the_answers_fields_fails_h2_3_1_2_4_and_one_that_ignores_its_status_h2_3_3(
) {
    // Ignoring the fields of a 200 (it echoes on a WebSocket it should have
    // failed), but refusing a 403.
    let outcomes = answers_with(false);
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|(_, o)| o == "FAILED")
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(failed, ["h2.3.1", "h2.3.2", "h2.3.4"], "{outcomes:?}");
    // Taking the 403 as an open WebSocket as well.
    let outcomes = answers_with(true);
    assert!(outcomes.iter().all(|(_, o)| o == "FAILED"), "{outcomes:?}");
    assert_eq!(outcomes.len(), 4);
}

/// Each case's id and verdict outcome in a results.json.
fn outcomes_of(results: &Value) -> Vec<(String, String)> {
    results["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (text(&c["id"]), text(&c["verdict"]["outcome"]))
        })
        .collect()
}

/// Each case's outcome when yawc's client drives `serve` through
/// `patterns`, over HTTP/2 or HTTP/1.1.
fn yawc_outcomes(name: &str, patterns: &[&str], http2: bool) -> Vec<(String, String)> {
    let extra: &[&str] = if http2 { &["--h2"] } else { &[] };
    let mut serve = serve_proc::Serve::start(name, patterns, extra);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let ran = rt.block_on(yawc_peer::drive(&serve.url(), "yawc", http2));
    assert!(ran > 0, "{}", serve.stderr());
    serve.finish(Duration::from_secs(30));
    let results = serve.json("yawc/results.json").expect("results");
    let outcomes = outcomes_of(&results);
    serve.remove_reports();
    outcomes
}

#[test]
fn yawc_reads_the_answers_over_http2_as_it_reads_them_over_http1() {
    let h2 = yawc_outcomes("h2-answers-yawc", &["h2.3.*"], true);
    let h1 = yawc_outcomes("h1-answers-yawc", &["cl.2.7", "cl.2.8"], false);
    let outcome = |list: &[(String, String)], id: &str| {
        list.iter()
            .find(|(i, _)| i == id)
            .map(|(_, o)| o.clone())
            .unwrap_or_else(|| panic!("no {id} in {list:?}"))
    };
    // The same faults over both transports (docs/http2.md): yawc 0.5 takes
    // an answer naming a subprotocol, or an extension, it did not offer
    // (FAILED both ways), and opens nothing on a 403.
    assert_eq!(
        outcome(&h2, "h2.3.1"),
        outcome(&h1, "cl.2.7"),
        "{h2:?} {h1:?}"
    );
    assert_eq!(
        outcome(&h2, "h2.3.2"),
        outcome(&h1, "cl.2.8"),
        "{h2:?} {h1:?}"
    );
    assert_eq!(outcome(&h2, "h2.3.3"), "OK", "a 403 opens nothing: {h2:?}");
}
