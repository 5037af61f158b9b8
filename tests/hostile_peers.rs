//! Hostile and broken servers: endless headers, a non-101 answer, a peer that
//! claims a 2^63-byte frame and stalls, one that hangs up without answering, one that sends
//! markup in its close reason. Each gets a verdict with a reason, nothing
//! hangs or panics, and the run goes on to the next case.

#[path = "common/harness.rs"]
mod harness;

#[path = "common/raw_server.rs"]
mod raw_server;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use wsspec::judge::Outcome;

/// Serves every connection with `behave` after reading the request head.
fn serve(behave: fn(&mut TcpStream, &str)) -> String {
    raw_server::serve(Some(Duration::from_secs(20)), behave)
}

/// Three cases against the hostile server; every one of them must be reported.
fn run_some(url: &str) -> wsspec::results::RunResults {
    let r = harness::run(url, &harness::corpus(&["1.1.1", "1.1.2", "2.1"]));
    let ids: Vec<&str> = r.cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        ["1.1.1", "1.1.2", "2.1"],
        "the run goes on after each case"
    );
    r
}

#[test]
fn endless_response_headers_are_cut_off() {
    let url = serve(|s, _| {
        let _ = s.write_all(b"HTTP/1.1 101 Switching Protocols\r\n");
        let line = b"X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        for _ in 0..100_000 {
            if s.write_all(line).is_err() {
                return;
            }
        }
    });
    let started = Instant::now();
    let r = run_some(&url);
    // wsspec's own limit (--max-header-size, 16 KiB by default) was reached:
    // ERROR with the option to raise, not FAILED.
    for c in &r.cases {
        assert_eq!(c.verdict.behavior, Outcome::Error);
        assert!(
            c.verdict.behavior_reason.contains("limit of 16384 bytes")
                && c.verdict
                    .behavior_reason
                    .contains("raise --max-header-size"),
            "{}",
            c.verdict.behavior_reason
        );
    }
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_non_101_answer_is_failed_with_its_status() {
    let url = serve(|s, _| {
        let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    });
    let r = run_some(&url);
    for c in &r.cases {
        assert_eq!(c.verdict.outcome, Outcome::Failed);
        assert!(
            c.verdict.behavior_reason.contains("answered 404"),
            "{}",
            c.verdict.behavior_reason
        );
    }
}

#[test]
fn a_lying_length_and_a_stall_end_at_the_wait_timeout() {
    let url = serve(|s, head| {
        raw_server::switch(s, head);
        // A binary frame claiming 2^63-1 bytes, a few of them, then silence.
        let _ = s.write_all(&[
            0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3,
        ]);
        std::thread::sleep(Duration::from_secs(15));
    });
    let started = Instant::now();
    let r = run_some(&url);
    assert!(
        started.elapsed() < Duration::from_secs(14),
        "waits are bounded"
    );
    for c in &r.cases {
        assert_eq!(
            c.verdict.outcome,
            Outcome::Failed,
            "{}: {}",
            c.id,
            c.verdict.behavior_reason
        );
        // The frame never completes: nothing was received, and the wait
        // that gave up says so.
        assert!(
            c.verdict.behavior_reason.contains("observed nothing")
                && c.verdict.behavior_reason.contains("gave up after"),
            "{}: {}",
            c.id,
            c.verdict.behavior_reason
        );
    }
}

#[test]
fn a_connection_closed_before_answering_is_a_verdict_not_an_error() {
    let url = serve(|s, _| {
        let _ = s.shutdown(std::net::Shutdown::Both);
    });
    let r = run_some(&url);
    for c in &r.cases {
        assert_eq!(c.verdict.behavior, Outcome::Failed);
        assert!(
            c.verdict
                .behavior_reason
                .contains("handshake never completed"),
            "{}",
            c.verdict.behavior_reason
        );
    }
}

#[test]
fn markup_and_control_bytes_in_a_close_reason_stay_inert_in_reports() {
    let url = serve(|s, head| {
        raw_server::switch(s, head);
        let reason = b"<script>alert(1)</script>]]>\x1b[31m";
        let mut frame = vec![0x88, (2 + reason.len()) as u8, 0x03, 0xe8];
        frame.extend_from_slice(reason);
        let _ = s.write_all(&frame);
        std::thread::sleep(Duration::from_millis(200));
    });
    let r = run_some(&url);
    let html = wsspec::report::html::render(&r);
    assert!(!html.contains("<script>alert"), "raw markup in HTML");
    let junit = wsspec::report::junit::render(&r);
    roxmltree::Document::parse(&junit).expect("JUnit stays well-formed");
    for c in &r.cases {
        assert_eq!(c.verdict.outcome, Outcome::Failed, "{}", c.id);
        assert!(
            c.verdict.close_reason.contains("the peer closed first"),
            "{}: {}",
            c.id,
            c.verdict.close_reason
        );
    }
    // A reason with control bytes is shown as hex in the wire log: data, not markup.
    assert!(
        html.contains("reason=hex 3c7363726970743e616c657274"),
        "the close reason is shown in the wire log as hex"
    );
}
