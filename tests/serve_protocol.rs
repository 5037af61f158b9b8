//! `wsspec serve` speaks Autobahn's fuzzing-server URL protocol: every
//! endpoint a driver may call, exercised with a plain tungstenite client the
//! way a driver script would, and the exit code after shutdown.

#[path = "common/serve_proc.rs"]
mod serve_proc;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serve_proc::Serve;
use tokio_tungstenite::tungstenite::Message;

/// Opens `url`, returns the text messages received until the server closes
/// (`None` if the handshake failed). With `echo`, data messages are echoed.
async fn visit(url: &str, echo: bool) -> Option<Vec<String>> {
    let addr = url
        .trim_start_matches("ws://")
        .split('/')
        .next()?
        .to_string();
    let tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
    let (mut ws, _) = tokio_tungstenite::client_async(url, tcp).await.ok()?;
    let mut texts = Vec::new();
    while let Some(Ok(msg)) = ws.next().await {
        match msg {
            Message::Text(t) => {
                texts.push(t.to_string());
                if echo {
                    let _ = ws.send(Message::Text(t)).await;
                }
            }
            Message::Binary(b) if echo => {
                let _ = ws.send(Message::Binary(b)).await;
            }
            _ => {}
        }
    }
    Some(texts)
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn every_endpoint_of_the_fuzzing_server_protocol() {
    let mut serve = Serve::start("protocol", &["1.1.*", "7.1.1"], &[]);
    let base = serve.url();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        // getCaseCount: one text message with the number of selected cases.
        let count = visit(&format!("{base}/getCaseCount"), false).await;
        assert_eq!(count, Some(vec!["9".to_string()]));

        // getCaseInfo: id and description of case N (1-based, in order).
        let info = visit(&format!("{base}/getCaseInfo?case=9"), false)
            .await
            .expect("getCaseInfo");
        let info = json(&info[0]);
        assert_eq!(info["id"], "7.1.1");
        assert!(info["description"].as_str().is_some_and(|d| !d.is_empty()));

        // runCase by number and by casetuple; agents with spaces in the name.
        let texts = visit(&format!("{base}/runCase?case=1&agent=good%20one"), true)
            .await
            .expect("runCase");
        assert_eq!(
            texts,
            vec![String::new()],
            "1.1.1 sends one empty text message"
        );
        visit(
            &format!("{base}/runCase?casetuple=1.1.2&agent=good%20one"),
            true,
        )
        .await;
        // A client that does not echo fails 1.1.3.
        visit(&format!("{base}/runCase?casetuple=1.1.3&agent=lazy"), false).await;

        // getCaseStatus: the behaviour of a case an agent has run.
        let status = |q: String| {
            let url = format!("{base}/getCaseStatus?{q}");
            async move { visit(&url, false).await.unwrap_or_default() }
        };
        let ok = status("case=2&agent=good%20one".into()).await;
        assert_eq!(json(&ok[0])["behavior"], "OK");
        let failed = status("case=3&agent=lazy".into()).await;
        assert_eq!(json(&failed[0])["behavior"], "FAILED");
        assert!(
            status("case=4&agent=lazy".into()).await.is_empty(),
            "not run yet"
        );

        // Unknown endpoints and cases are refused, not crashed on.
        assert!(visit(&format!("{base}/nothing"), false).await.is_none());
        assert!(
            visit(&format!("{base}/runCase?case=99&agent=x"), false)
                .await
                .is_none(),
            "an unknown case number runs nothing"
        );

        // An agent name with markup in it.
        visit(
            &format!("{base}/runCase?case=1&agent=%3Cb%3Ebold%3C%2Fb%3E"),
            true,
        )
        .await;

        // updateReports without shutdown writes every agent's column and
        // keeps serving.
        visit(&format!("{base}/updateReports?agent=lazy"), false).await;
    });
    let index = serve
        .json("index.json")
        .expect("index.json after updateReports");
    assert_eq!(index["good one"]["1.1.1"]["behavior"], "OK");
    assert_eq!(index["lazy"]["1.1.3"]["behavior"], "FAILED");
    // A name with a space gets a folder of its own (`good_one-<hash>`, so
    // that it never shares one with an agent called `good_one`).
    let good = wsspec::report::agent_folder("good one");
    assert!(good.starts_with("good_one-"), "{good}");
    assert!(serve.json(format!("{good}/results.json")).is_some());
    // The overview page: a column per agent, cells linking into each
    // agent's own report, names escaped.
    let overview =
        std::fs::read_to_string(serve.report_dir.join("index.html")).expect("index.html overview");
    assert!(overview.contains(&format!("href=\"{good}/index.html#case-1.1.1\"")));
    assert!(overview.contains("href=\"lazy/index.html#case-1.1.3\""));
    assert!(overview.contains("&lt;b&gt;bold&lt;/b&gt;"));
    assert!(!overview.contains("<b>bold"), "agent names are escaped");
    assert_eq!(
        index.as_object().map(|m| m.len()),
        Some(3),
        "one key per agent"
    );
    // Each index entry's reportfile is there, Autobahn-shaped.
    let file = index["lazy"]["1.1.3"]["reportfile"]
        .as_str()
        .expect("reportfile");
    let case = serve.json(file).expect("the per-case report file");
    assert_eq!(case["behavior"], "FAILED");
    assert_eq!(
        case["isServer"], true,
        "serve tests clients: wsspec is the server"
    );
    assert!(case["httpRequest"]
        .as_str()
        .is_some_and(|r| r.starts_with("GET /runCase?casetuple=1.1.3")));
    rt.block_on(async {
        let count = visit(&format!("{base}/getCaseCount"), false).await;
        assert!(count.is_some(), "still serving after updateReports");
        visit(
            &format!("{base}/updateReports?agent=lazy&shutdownOnComplete=true"),
            false,
        )
        .await;
    });
    // A failed case makes the exit code 1, as for `run`.
    assert_eq!(serve.finish(Duration::from_secs(10)), Some(1));
    serve.remove_reports();
}

#[test]
fn a_clean_session_exits_0() {
    let mut serve = Serve::start("clean-exit", &["1.1.1"], &[]);
    let base = serve.url();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        visit(&format!("{base}/runCase?case=1&agent=a"), true).await;
        visit(
            &format!("{base}/updateReports?agent=a&shutdownOnComplete=true"),
            false,
        )
        .await;
    });
    assert_eq!(serve.finish(Duration::from_secs(10)), Some(0));
    serve.remove_reports();
}

/// Sends `request` as it is and returns serve's status line and body.
fn raw(host: &str, request: &str) -> (String, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(request.as_bytes()).expect("write");
    // Nothing more from us: a WebSocket answer ends at once instead of
    // waiting for our close.
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let end = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(got.len(), |p| p + 4);
    let head = String::from_utf8_lossy(&got[..end]);
    let status = head.lines().next().unwrap_or("").to_string();
    (status, got[end..].to_vec())
}

fn get(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

#[test]
fn every_refusal_has_a_status_and_a_reason_and_control_requests_are_lenient() {
    let mut serve = Serve::start("refusals", &["1.1.1", "1.1.2"], &[]);
    let host = serve.host();
    // Each refusal: an HTTP status, a one-line reason in the body, and the
    // same line on serve's stderr.
    let refusals = [
        (get("/nothing", ""), "404", "unknown endpoint `/nothing`"),
        (
            get("/runCase?case=99&agent=a", ""),
            "404",
            "no such case (`99`)",
        ),
        (
            get("/runCase?casetuple=9.9.9&agent=a", ""),
            "404",
            "no such case (`9.9.9`)",
        ),
        (
            get("/runCase?case=1", ""),
            "400",
            "runCase needs agent=NAME",
        ),
        (get("/getCaseInfo?case=3", ""), "404", "no such case (`3`)"),
        (get("/getCaseInfo", ""), "404", "no such case (none)"),
        (
            get("/getCaseStatus?case=1", ""),
            "400",
            "getCaseStatus needs agent=NAME",
        ),
        (
            get("/getCaseStatus?case=7&agent=a", ""),
            "404",
            "no such case (`7`)",
        ),
        (
            "POST /getCaseCount HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
            "405",
            "control endpoints take GET, not `POST`",
        ),
        (
            "GET /getCaseCount HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
            "426",
            "control endpoints speak WebSocket",
        ),
        (
            "HELLO\r\n\r\n".to_string(),
            "400",
            "not an HTTP request line",
        ),
    ];
    for (request, status, reason) in &refusals {
        let (line, body) = raw(&host, request);
        let body = String::from_utf8_lossy(&body);
        assert!(line.contains(status), "{request:?}: {line}");
        assert!(body.starts_with(reason), "{request:?}: {body}");
        assert_eq!(body.lines().count(), 1, "one line: {body:?}");
    }
    std::thread::sleep(Duration::from_millis(200));
    let log = serve.stderr();
    for (_, status, reason) in &refusals {
        assert!(
            log.lines()
                .any(|l| l.contains(&format!("-> {status}")) && l.contains(reason)),
            "serve did not print `{status} {reason}`:\n{log}"
        );
    }
    // The control endpoints accept what a broken driver sends (a draft
    // version, a short key, no Host, no key); runCase judges it.
    for (name, request) in [
        (
            "version 8",
            get("/getCaseCount", "").replace("Version: 13", "Version: 8"),
        ),
        (
            "a 12-byte key",
            get("/getCaseCount", "").replace("dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAA"),
        ),
        (
            "no Host",
            get("/getCaseCount", "").replace("Host: x\r\n", ""),
        ),
        (
            "no key",
            get("/getCaseCount", "").replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
        ),
    ] {
        let (line, body) = raw(&host, &request);
        assert!(line.contains("101"), "{name}: {line}");
        // The count arrives as an unmasked text frame: 0x81, length 1, "2".
        assert!(body.starts_with(&[0x81, 1, b'2']), "{name}: {body:?}");
    }
    // A runCase request too broken to run the case (not HTTP, no key) still
    // gets its row: FAILED, with what is wrong as the reason.
    let (line, _) = raw(
        &host,
        "BREW /runCase?case=2&agent=teapot HTCPCP/1.0\r\n\r\n",
    );
    assert!(line.contains("400"), "{line}");
    let (line, _) = raw(&host, &get("/updateReports?agent=teapot", ""));
    assert!(line.contains("101"), "{line}");
    let report = serve
        .json("teapot/results.json")
        .expect("a report for the broken client");
    let case = &report["cases"][0];
    assert_eq!(case["id"], "1.1.2");
    assert_eq!(case["verdict"]["behavior"], "FAILED");
    assert!(
        case["verdict"]["behavior_reason"]
            .as_str()
            .is_some_and(|r| r.contains("not a valid HTTP request")),
        "{case}"
    );
    serve.remove_reports();
    let _ = serve.finish(Duration::from_millis(10));
}
