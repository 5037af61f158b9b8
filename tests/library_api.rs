//! wsspec as a library ([`wsspec::Runner`]): the corpus against an
//! in-process server from a `#[tokio::test]` (current-thread runtime) and
//! from a plain `#[test]`, with assertions on the results; selection, own
//! case files and errors behave as on the command line.

use wsspec::judge::Outcome;
use wsspec::{RunError, Runner};

#[tokio::test]
async fn the_corpus_against_an_in_process_server_on_the_current_thread_runtime() {
    let (addr, _server) = wsspec::reference::bind("127.0.0.1:0").await.expect("bind");
    let results = Runner::new(&format!("ws://{addr}/"))
        .expect("url")
        .cases(["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"])
        .agent("in-process reference")
        .run()
        .await
        .expect("run");
    assert!(!results.failed(), "{:?}", results.counts);
    assert!(results.cases.len() > 200, "{}", results.cases.len());
    assert_eq!(results.agent, "in-process reference");
    assert!(results
        .cases
        .iter()
        .all(|c| matches!(c.verdict.outcome, Outcome::Ok | Outcome::Informational)));
}

#[test]
fn a_plain_test_runs_blocking_and_sees_failures() {
    // A server that answers the handshake and then closes at once: every
    // echo case fails, and the results say so.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let key = wsspec::wire::handshake::request_key(&head).unwrap_or_default();
            let _ = write!(
                stream,
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                wsspec::wire::handshake::accept_for(&key)
            );
        }
    });
    let results = Runner::new(&format!("ws://{addr}/"))
        .expect("url")
        .cases(["1.1.1", "1.1.2"])
        .run_blocking()
        .expect("run");
    assert!(results.failed());
    assert_eq!(results.cases.len(), 2);
    assert!(results
        .cases
        .iter()
        .all(|c| c.verdict.outcome == Outcome::Failed));
}

#[test]
fn selection_and_errors_are_those_of_the_command_line() {
    assert!(matches!(Runner::new("http://x/"), Err(RunError::Target(_))));
    let runner = Runner::new("ws://127.0.0.1:1/").expect("url");
    assert!(matches!(
        runner.clone().cases(["no.such.case"]).selected(),
        Err(RunError::NothingSelected)
    ));
    let ids: Vec<String> = runner
        .clone()
        .cases(["2.*"])
        .exclude(["2.1*"])
        .selected()
        .expect("selected")
        .into_iter()
        .map(|c| c.spec.id)
        .collect();
    assert!(ids.contains(&"2.2".to_string()) && !ids.iter().any(|i| i.starts_with("2.1")));
    // A broken case file of one's own: every error, located.
    let dir = std::env::temp_dir().join(format!("wsspec-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("bad.yaml"), "cases: 7\n").expect("write");
    match runner.clone().cases_dir(&dir).selected() {
        Err(RunError::Cases(errors)) => {
            assert!(
                errors.iter().any(|e| e.contains("bad.yaml:1:")),
                "{errors:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    // Nothing listens on port 1: unreachable, as exit 3 would say.
    let unreachable = runner.cases(["1.1.1"]).run_blocking();
    assert!(
        matches!(unreachable, Err(RunError::Suite(_))),
        "{unreachable:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
