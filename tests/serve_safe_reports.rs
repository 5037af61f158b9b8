//! `wsspec serve` never loses a result: hostile agent names (300 characters,
//! `index.json`, `..`, `a/b`, and `a b` beside `a_b`) each get a complete
//! report of their own under a safe folder, with their real name inside; a
//! report that cannot be written is named in the driver's `updateReports`
//! reply, does not stop the other agents' reports, and makes serve exit 4;
//! idle connections that never send a request hold up neither
//! `updateReports` nor shutdown, while a case still running is waited for.

#[path = "common/serve_proc.rs"]
mod serve_proc;

use std::collections::BTreeSet;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serve_proc::Serve;
use tokio_tungstenite::tungstenite::Message;
use wsspec::report::agent_folder;

/// What a control or case connection got: its text messages and the close
/// code serve sent (`None` without a close frame or a code).
struct Visit {
    texts: Vec<String>,
    close_code: Option<u16>,
}

/// Opens `url` and reads until serve closes; with `echo`, data messages are
/// echoed (a conforming client for case 1.1.1). `None` if the handshake failed.
async fn visit(url: &str, echo: bool) -> Option<Visit> {
    let addr = url
        .trim_start_matches("ws://")
        .split('/')
        .next()?
        .to_string();
    let tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
    let (mut ws, _) = tokio_tungstenite::client_async(url, tcp).await.ok()?;
    let mut got = Visit {
        texts: Vec::new(),
        close_code: None,
    };
    while let Some(Ok(msg)) = ws.next().await {
        match msg {
            Message::Text(t) => {
                got.texts.push(t.to_string());
                if echo {
                    let _ = ws.send(Message::Text(t)).await;
                }
            }
            Message::Binary(b) if echo => {
                let _ = ws.send(Message::Binary(b)).await;
            }
            Message::Close(frame) => got.close_code = frame.map(|f| u16::from(f.code)),
            _ => {}
        }
    }
    Some(got)
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Runs case 1 (1.1.1) as `agent`, echoing as a good client does.
async fn run_case(base: &str, agent: &str) {
    let url = format!("{base}/runCase?case=1&agent={}", encode(agent));
    assert!(visit(&url, true).await.is_some(), "runCase as {agent:?}");
}

/// Every name a driver might send that the old folder names got wrong.
fn hostile_names() -> Vec<String> {
    vec![
        format!("long-{}", "é".repeat(295)),
        "index.json".into(),
        "..".into(),
        "a/b".into(),
        "a b".into(),
        "a_b".into(),
    ]
}

#[test]
fn hostile_agent_names_each_get_a_complete_report_of_their_own() {
    let mut serve = Serve::start("safe-names", &["1.1.1"], &[]);
    let base = serve.url();
    let names = hostile_names();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let reply = rt.block_on(async {
        for name in &names {
            run_case(&base, name).await;
        }
        visit(
            &format!("{base}/updateReports?agent=x&shutdownOnComplete=true"),
            false,
        )
        .await
        .expect("updateReports")
    });
    assert!(
        reply.texts.is_empty(),
        "nothing failed, nothing to say: {:?}\n{}",
        reply.texts,
        serve.stderr()
    );
    assert_ne!(reply.close_code, Some(1011));
    assert_eq!(
        serve.finish(Duration::from_secs(10)),
        Some(0),
        "{}",
        serve.stderr()
    );

    let folders: BTreeSet<String> = names.iter().map(|n| agent_folder(n)).collect();
    assert_eq!(
        folders.len(),
        names.len(),
        "one folder per name: {folders:?}"
    );
    for name in &names {
        let folder = agent_folder(name);
        assert!(folder.len() <= 64, "{folder}");
        let results = serve
            .json(format!("{folder}/results.json"))
            .unwrap_or_else(|| panic!("{name:?}: no {folder}/results.json\n{}", serve.stderr()));
        assert_eq!(results["agent"], name.as_str(), "the real name inside");
        let cases = results["cases"].as_array().expect("cases");
        assert_eq!(cases.len(), 1, "{name:?}");
        assert_eq!(cases[0]["id"], "1.1.1");
        for file in ["junit.xml", "index.html"] {
            assert!(
                serve.report_dir.join(&folder).join(file).is_file(),
                "{folder}/{file}"
            );
        }
    }
    // Nothing but the overview files and the agents' folders at the top:
    // `a/b` made no sub-folder, `..` and `index.json` took no one's place.
    let mut top: BTreeSet<String> = std::fs::read_dir(&serve.report_dir)
        .expect("report dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(top.remove("index.json") && top.remove("index.html"));
    assert_eq!(top, folders);

    // index.json: a key per real name, every reportfile there.
    let index = serve.json("index.json").expect("index.json parses");
    assert_eq!(index.as_object().map(|m| m.len()), Some(names.len()));
    let mut files = BTreeSet::new();
    for name in &names {
        let entry = &index[name.as_str()]["1.1.1"];
        assert_eq!(entry["behavior"], "OK", "{name:?}");
        let file = entry["reportfile"].as_str().expect("reportfile");
        let case = serve
            .json(file)
            .unwrap_or_else(|| panic!("{name:?}: {file} missing"));
        assert_eq!(case["agent"], name.as_str());
        files.insert(file.to_string());
    }
    assert_eq!(files.len(), names.len(), "one per-case file per agent");

    // The overview shows the real names, escaped, linking to the folders.
    let overview = std::fs::read_to_string(serve.report_dir.join("index.html")).expect("overview");
    for name in &names {
        let folder = agent_folder(name);
        assert!(
            overview.contains(&format!("href=\"{folder}/index.html\"")),
            "{folder}"
        );
        assert!(overview.contains(&format!(">{name}<")), "{name:?} shown");
    }
    serve.remove_reports();
}

#[test]
fn an_unwritable_agent_folder_is_told_to_the_driver_and_serve_exits_4() {
    let mut serve = Serve::start("unwritable", &["1.1.1"], &[]);
    let base = serve.url();
    // A file where the agent's folder would go: its reports cannot be written.
    let blocked = "blocked";
    std::fs::create_dir_all(&serve.report_dir).expect("report dir");
    std::fs::write(serve.report_dir.join(agent_folder(blocked)), "in the way\n").expect("a file");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (first, last) = rt.block_on(async {
        // Agents on both sides of it, in name order.
        for agent in ["a-fine", blocked, "z fine"] {
            run_case(&base, agent).await;
        }
        let first = visit(&format!("{base}/updateReports?agent={blocked}"), false)
            .await
            .expect("updateReports");
        let last = visit(
            &format!("{base}/updateReports?agent={blocked}&shutdownOnComplete=true"),
            false,
        )
        .await
        .expect("updateReports with shutdown");
        (first, last)
    });
    for reply in [&first, &last] {
        assert_eq!(reply.close_code, Some(1011), "the close says it failed");
        assert_eq!(reply.texts.len(), 1, "one message names the failures");
        let said: serde_json::Value = serde_json::from_str(&reply.texts[0]).expect("JSON");
        assert_eq!(said["error"], "reports not written");
        let failures = said["failures"].as_array().expect("failures");
        assert!(!failures.is_empty());
        for f in failures {
            assert_eq!(f["agent"], blocked, "only the blocked agent failed: {f}");
            let path = f["path"].as_str().expect("path");
            assert!(path.contains(&agent_folder(blocked)), "{path}");
            assert!(f["cause"].as_str().is_some_and(|c| !c.is_empty()), "{f}");
        }
    }
    assert_eq!(
        serve.finish(Duration::from_secs(10)),
        Some(4),
        "a report not written makes serve exit 4\n{}",
        serve.stderr()
    );
    assert!(serve.stderr().contains("blocked"), "{}", serve.stderr());
    // The other agents' reports and the overview files were written.
    for agent in ["a-fine", "z fine"] {
        let results = serve
            .json(format!("{}/results.json", agent_folder(agent)))
            .unwrap_or_else(|| panic!("{agent}: results.json"));
        assert_eq!(results["agent"], agent);
    }
    let index = serve.json("index.json").expect("index.json");
    assert_eq!(index.as_object().map(|m| m.len()), Some(3));
    assert!(serve.report_dir.join("index.html").is_file());
    serve.remove_reports();
}

/// Opens a TCP connection to `host` that never sends anything.
fn idle(host: &str) -> TcpStream {
    TcpStream::connect(host).expect("connect")
}

#[test]
fn idle_connections_hold_up_neither_update_reports_nor_shutdown() {
    let mut serve = Serve::start("idle", &["1.1.1"], &[]);
    let base = serve.url();
    let host = serve.host();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(run_case(&base, "busy"));

    // A burst of idle connections, then a trickle of new ones all along.
    let mut held: Vec<TcpStream> = (0..5).map(|_| idle(&host)).collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let trickle = {
        let (stop, host) = (stop.clone(), host.clone());
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                // Once serve has exited there is nothing to connect to.
                kept.extend(TcpStream::connect(&host).ok());
                std::thread::sleep(Duration::from_millis(300));
            }
            kept.len()
        })
    };
    std::thread::sleep(Duration::from_millis(1000));

    let timed = |path: String| {
        let url = format!("{base}{path}");
        let started = Instant::now();
        let reply = rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(20), visit(&url, false)).await
        });
        (started.elapsed(), reply)
    };
    let (took, reply) = timed("/updateReports?agent=busy".into());
    assert!(
        matches!(reply, Ok(Some(_))),
        "updateReports answered within 20 s"
    );
    assert!(took < Duration::from_secs(5), "updateReports took {took:?}");
    assert!(serve.json("busy/results.json").is_some());

    // A case still running is waited for: a client that does not echo keeps
    // 1.1.1 open until its wait gives up; updateReports, sent meanwhile,
    // still reports it.
    let lazy = format!("{base}/runCase?case=1&agent=slow");
    let running = rt.spawn(async move { visit(&lazy, false).await });
    std::thread::sleep(Duration::from_millis(500));
    let (_, reply) = timed("/updateReports?agent=slow".into());
    assert!(matches!(reply, Ok(Some(_))));
    let index = serve.json("index.json").expect("index.json");
    assert!(
        index["slow"]["1.1.1"]["behavior"].is_string(),
        "the running case was waited for: {index}"
    );
    let _ = rt.block_on(running);

    // Serve closes a connection that sends no request within a few seconds.
    let mut quiet = idle(&host);
    let opened = Instant::now();
    quiet
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut buf = [0u8; 16];
    let read = std::io::Read::read(&mut quiet, &mut buf);
    let closed_after = opened.elapsed();
    assert!(matches!(read, Ok(0)), "closed without a word: {read:?}");
    assert!(
        closed_after < Duration::from_secs(8),
        "an idle connection was kept {closed_after:?}"
    );

    // Shutdown with idle connections still open.
    held.push(idle(&host));
    let (took, reply) = timed("/updateReports?agent=busy&shutdownOnComplete=true".into());
    assert!(matches!(reply, Ok(Some(_))));
    assert!(took < Duration::from_secs(5), "updateReports took {took:?}");
    let exited = Instant::now();
    // `slow` failed 1.1.1 (it never echoed): exit 1, nothing worse.
    assert_eq!(
        serve.finish(Duration::from_secs(10)),
        Some(1),
        "{}",
        serve.stderr()
    );
    assert!(
        exited.elapsed() < Duration::from_secs(5),
        "serve took {:?} to exit",
        exited.elapsed()
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let opened = trickle.join().expect("trickle thread");
    assert!(opened >= 3, "the trickle went on throughout ({opened})");
    drop(held);
    serve.remove_reports();
}

#[test]
fn snapshot_stores_use_the_same_safe_folder() {
    let snaps = std::env::temp_dir().join(format!("wsspec-safe-snaps-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&snaps);
    // `..` and `a/b` would store outside the snapshot folder, or in a
    // folder of a folder, were their names used as they are.
    let names = ["..", "a/b", "a b", "a_b"];
    for round in ["--snapshots-update", "--snapshots-check"] {
        let mut args = vec!["--snapshots", snaps.to_str().expect("utf-8 temp path")];
        if round == "--snapshots-update" {
            args.push(round);
        }
        let mut serve = Serve::start("safe-snaps", &["1.1.1"], &args);
        let base = serve.url();
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            for name in names {
                run_case(&base, name).await;
            }
            visit(
                &format!("{base}/updateReports?agent=x&shutdownOnComplete=true"),
                false,
            )
            .await
        });
        // The second round compares with the first: every agent matches
        // its own store (a shared or missing store would be NEW: exit 1).
        assert_eq!(
            serve.finish(Duration::from_secs(10)),
            Some(0),
            "{round}\n{}",
            serve.stderr()
        );
        serve.remove_reports();
    }
    let mut stored: BTreeSet<String> = std::fs::read_dir(&snaps)
        .expect("snapshot dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let folders: BTreeSet<String> = names.iter().map(|n| agent_folder(n)).collect();
    assert_eq!(folders.len(), names.len());
    for folder in &folders {
        let snap = snaps.join(folder).join("client").join("1.1.1.snap");
        assert!(snap.is_file(), "{snap:?}");
    }
    stored.retain(|f| !folders.contains(f));
    assert!(stored.is_empty(), "nothing else stored: {stored:?}");
    let _ = std::fs::remove_dir_all(&snaps);
}
