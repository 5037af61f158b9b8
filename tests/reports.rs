//! Integration tests for the file reports (JUnit, HTML, results.json, Autobahn
//! index.json) and the shared wire log, over a hand-built run full of hostile
//! content: markup and `]]>` in titles and close reasons, ANSI escapes and NUL
//! in strings and payloads, invalid UTF-8 in byte logs, a 1 MiB byte log and a
//! performance case with thousands of events. Each report must stay parseable,
//! escaped and bounded.

use std::collections::BTreeMap;

#[path = "common/faulty.rs"]
mod faulty;
mod common {
    pub mod harness;
}

use wsspec::case::model::Requirement;
use wsspec::case::model::WaitFor;
use wsspec::judge::{CloseVerdict, Outcome, Verdict};
use wsspec::report::{autobahn, html, json, junit, sanitize, wirelog};
use wsspec::results::{CaseResult, RunResults};
use wsspec::transcript::{
    ConnectFailure, Event, EventKind, HandshakeFailure, HarnessClose, SocketFailure, SocketOp,
    Transcript,
};
use wsspec::wire::bytelog::{hex, ByteLog};
use wsspec::wire::decode::{FrameHead, LengthForm};
use wsspec::wire::handshake::ResponseHead;
use wsspec::wire::message::{CloseBody, FrameRecord, MessageRecord};
use wsspec::wire::Opcode;

const HOSTILE: &str = "<script>alert(1)</script> ]]> \u{0}\u{1b}[31m & \"q\" 'a'";

fn ev(at_us: u64, kind: EventKind) -> Event {
    Event { at_us, kind }
}

fn frame(opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> FrameRecord {
    FrameRecord {
        head: FrameHead {
            fin: true,
            rsv: 0,
            opcode: Opcode(opcode),
            mask,
            len: payload.len() as u64,
            length_form: LengthForm::minimal(payload.len() as u64),
        },
        payload: ByteLog::of(payload),
        close: (opcode == 8).then(|| CloseBody::parse(payload)),
    }
}

/// A ByteLog claiming 1 MiB with only a few recorded bytes.
fn mib_summary() -> ByteLog {
    ByteLog {
        len: 1 << 20,
        head: b"\xff\xfe<script>".to_vec(),
        sha256: "ab".repeat(32),
    }
}

/// A small, realistic transcript: handshake, one echoed message, close.
fn echo_transcript() -> Transcript {
    let request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let response = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    Transcript {
        case_id: "1.1.2".into(),
        events: vec![
            ev(0, EventKind::Connected),
            ev(
                120,
                EventKind::RequestSent {
                    raw: ByteLog::of(request),
                },
            ),
            ev(
                380,
                EventKind::ResponseReceived {
                    head: ResponseHead {
                        status: 101,
                        reason: "Switching Protocols".into(),
                        headers: vec![("Upgrade".into(), "websocket".into())],
                        http2: false,
                    },
                    raw: ByteLog::of(response),
                },
            ),
            ev(
                412,
                EventKind::FrameSent {
                    frame: frame(1, Some([0x1a, 0x2b, 0x3c, 0x4d]), b"Hello, world!"),
                },
            ),
            ev(
                413,
                EventKind::MessageSent {
                    message: MessageRecord {
                        opcode: Opcode(1),
                        frames: 1,
                        payload: ByteLog::of(b"Hello, world!"),
                        utf8_valid: Some(true),
                        compressed: None,
                    },
                },
            ),
            ev(
                900,
                EventKind::FrameReceived {
                    frame: frame(1, None, b"Hello, world!"),
                },
            ),
            ev(
                901,
                EventKind::MessageReceived {
                    message: MessageRecord {
                        opcode: Opcode(1),
                        frames: 1,
                        payload: ByteLog::of(b"Hello, world!"),
                        utf8_valid: Some(true),
                        compressed: None,
                    },
                },
            ),
            ev(
                950,
                EventKind::WaitMet {
                    what: WaitFor::Echo,
                },
            ),
            ev(
                1000,
                EventKind::FrameSent {
                    frame: frame(8, Some([1, 2, 3, 4]), b"\x03\xe8"),
                },
            ),
            ev(
                1400,
                EventKind::FrameReceived {
                    frame: frame(8, None, b"\x03\xe8"),
                },
            ),
            ev(1500, EventKind::PeerEof),
            ev(
                1501,
                EventKind::HarnessClosed {
                    reason: HarnessClose::Other("closing handshake complete".into()),
                },
            ),
        ],
        duration_us: 1502,
        detailed: true,
        omitted: None,
    }
}

/// A transcript full of hostile peer content.
fn hostile_transcript() -> Transcript {
    let mut close_payload = vec![0x03, 0xea];
    close_payload.extend_from_slice(HOSTILE.as_bytes());
    close_payload.extend_from_slice(b"\xff\xfe]]>");
    let big_head = ByteLog {
        len: 1 << 20,
        head: vec![b'<'; 1 << 20],
        sha256: "cd".repeat(32),
    };
    Transcript {
        case_id: "9.9.9".into(),
        events: vec![
            ev(0, EventKind::Connected),
            ev(
                10,
                EventKind::RequestSent {
                    raw: ByteLog::of(
                        format!("GET /{HOSTILE} HTTP/1.1\r\nX: \u{202e}evil\r\n\r\n").as_bytes(),
                    ),
                },
            ),
            ev(
                20,
                EventKind::ResponseReceived {
                    head: ResponseHead {
                        status: 101,
                        reason: HOSTILE.into(),
                        headers: vec![("Server".into(), HOSTILE.into())],
                        http2: false,
                    },
                    raw: ByteLog::of(
                        &[
                            format!("HTTP/1.1 101 {HOSTILE}\r\nServer: \u{0}\u{1b}[2J").as_bytes(),
                            b"\xff\r\n\r\n",
                        ]
                        .concat(),
                    ),
                },
            ),
            ev(
                30,
                EventKind::FrameReceived {
                    frame: frame(
                        1,
                        None,
                        b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80",
                    ),
                },
            ),
            ev(
                31,
                EventKind::MessageReceived {
                    message: MessageRecord {
                        opcode: Opcode(1),
                        frames: 1,
                        payload: mib_summary(),
                        utf8_valid: Some(false),
                        compressed: None,
                    },
                },
            ),
            ev(
                32,
                EventKind::MessageReceived {
                    message: MessageRecord {
                        opcode: Opcode(2),
                        frames: 3,
                        payload: big_head,
                        utf8_valid: None,
                        compressed: None,
                    },
                },
            ),
            ev(
                40,
                EventKind::BytesSent {
                    bytes: ByteLog::of(b"\x81\x85\x00\x00\x00\x00]]><x>"),
                    writes: 9,
                },
            ),
            ev(
                50,
                EventKind::Marker {
                    name: HOSTILE.into(),
                },
            ),
            ev(
                60,
                EventKind::WaitTimedOut {
                    what: WaitFor::Silence,
                    after_ms: 1000,
                    stalled: false,
                },
            ),
            ev(
                70,
                EventKind::FrameReceived {
                    frame: frame(8, None, &close_payload),
                },
            ),
            ev(
                80,
                EventKind::FrameReceived {
                    frame: FrameRecord {
                        head: FrameHead {
                            fin: false,
                            rsv: 7,
                            opcode: Opcode(3),
                            mask: Some([0xff; 4]),
                            len: 0x7fff_ffff_ffff_ffff,
                            length_form: LengthForm::Long,
                        },
                        payload: ByteLog::of(b"\x00\x1b[31m"),
                        close: None,
                    },
                },
            ),
            ev(
                90,
                EventKind::SocketError {
                    error: SocketFailure::new(SocketOp::Unknown, HOSTILE),
                },
            ),
            ev(100, EventKind::TruncatedFrame),
            ev(
                110,
                EventKind::HandshakeFailed {
                    reason: HandshakeFailure::Other(HOSTILE.into()),
                    raw: ByteLog::of(b"HTTP/1.1 200 OK\r\n<script>\x00"),
                },
            ),
            ev(120, EventKind::Deadline { after_ms: 2000 }),
        ],
        duration_us: 123_456,
        detailed: true,
        omitted: None,
    }
}

/// A performance transcript: thousands of summarized frames.
fn perf_transcript(n: usize) -> Transcript {
    let mut events = vec![ev(0, EventKind::Connected)];
    for i in 0..n {
        let mut f = frame(2, Some([9, 9, 9, 9]), &[]);
        f.head.len = 1 << 20;
        f.head.length_form = LengthForm::Long;
        f.payload = mib_summary();
        events.push(ev(i as u64 * 10, EventKind::FrameSent { frame: f }));
    }
    Transcript {
        case_id: "9.1.6".into(),
        events,
        duration_us: 9_000_000,
        detailed: false,
        omitted: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn case(
    id: &str,
    title: &str,
    group: &str,
    autobahn: Option<&str>,
    behavior: Outcome,
    close: CloseVerdict,
    code: Option<u16>,
    transcript: Transcript,
) -> CaseResult {
    CaseResult {
        id: id.into(),
        title: title.into(),
        group: group.into(),
        group_title: format!("group title {group} {HOSTILE}"),
        rfc: "RFC 6455 5.2".into(),
        requirement: Requirement::Must,
        autobahn: autobahn.map(String::from),
        description: Some(format!("description with {HOSTILE}\nsecond line")),
        expectation: format!("OK: echo; {HOSTILE}"),
        performance: !transcript.detailed,
        verdict: Verdict {
            behavior,
            behavior_reason: format!("behaviour reason {HOSTILE}"),
            close,
            close_reason: format!("close reason {HOSTILE}"),
            remote_close_code: code,
            outcome: Verdict::outcome_of(behavior, close),
        },
        duration_ms: transcript.duration_us as f64 / 1000.0,
        snapshot: None,
        compression: transcript.compression_totals(),
        allowed: None,
        drift_allowed: None,
        transcript,
    }
}

fn run(strict: bool) -> RunResults {
    let cases = vec![
        case(
            "1.1.2",
            "text message of 125 bytes is echoed",
            "1",
            Some("1.1.2"),
            Outcome::Ok,
            CloseVerdict::Ok,
            Some(1000),
            echo_transcript(),
        ),
        case(
            "1.1.10",
            HOSTILE,
            "1",
            Some("1.1.10"),
            Outcome::Failed,
            CloseVerdict::Unclean,
            Some(1002),
            hostile_transcript(),
        ),
        case(
            "2.1",
            "non-strict one",
            "2",
            Some("2.1"),
            Outcome::NonStrict,
            CloseVerdict::Ok,
            None,
            echo_transcript(),
        ),
        case(
            "2.2",
            "cannot connect",
            "2",
            None,
            Outcome::Error,
            CloseVerdict::None,
            None,
            Transcript {
                case_id: "2.2".into(),
                events: vec![ev(
                    0,
                    EventKind::ConnectFailed {
                        error: ConnectFailure::Io(format!("refused {HOSTILE}")),
                    },
                )],
                duration_us: 5,
                detailed: true,
                omitted: None,
            },
        ),
        case(
            "3.1",
            "informational",
            "3",
            Some("3.1"),
            Outcome::Informational,
            CloseVerdict::WrongCode,
            Some(4000),
            echo_transcript(),
        ),
        case(
            "3.2",
            "unimplemented",
            "3",
            Some("3.2"),
            Outcome::Unimplemented,
            CloseVerdict::Ok,
            None,
            echo_transcript(),
        ),
        case(
            "9.1.6",
            "1 MiB binary messages",
            "9",
            Some("9.1.6"),
            Outcome::Ok,
            CloseVerdict::FailedByClient,
            Some(1000),
            perf_transcript(5000),
        ),
        case(
            "wsspec-only",
            "not an Autobahn case",
            "9",
            None,
            Outcome::Ok,
            CloseVerdict::Ok,
            Some(1000),
            echo_transcript(),
        ),
    ];
    RunResults {
        schema: 1,
        tool_version: format!("0.1.0 {HOSTILE}"),
        corpus_version: "corpus-1".into(),
        role: wsspec::case::Role::Server,
        target: format!("ws://127.0.0.1:9001/{HOSTILE}"),
        agent: format!("My Server/1.2 {HOSTILE}"),
        started_unix: 1_700_000_000,
        wall_ms: 12_345.6,
        strict,
        strict_allowlist: false,
        counts: RunResults::tally(&cases),
        cases,
    }
}

fn has_raw_controls(s: &str) -> bool {
    s.chars().any(|c| {
        (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{fffe}' || c == '\u{ffff}'
    })
}

// ---------------------------------------------------------------------------
// Sanitizing and wire log
// ---------------------------------------------------------------------------

#[test]
fn sanitizers_neutralize_hostile_text() {
    let x = sanitize::xml_text(HOSTILE);
    assert!(!has_raw_controls(&x));
    assert!(x.contains("\\x00\\x1b[31m"));
    // CDATA text is split at every `]]>` and reads back exactly.
    let c = sanitize::cdata_text(HOSTILE);
    let doc = format!("<x><![CDATA[{c}]]></x>");
    let parsed = roxmltree::Document::parse(&doc).expect("parses");
    let text: String = parsed
        .root_element()
        .children()
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(text, x);
    assert!(HOSTILE.contains("]]>") && text.contains("]]>"));
    let h = sanitize::html(HOSTILE);
    assert!(!h.contains('<') && !h.contains('>') && !h.contains('"') && !h.contains('\''));
    assert!(h.starts_with("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!has_raw_controls(&h));
}

#[test]
fn wire_log_of_small_transcript() {
    insta::assert_yaml_snapshot!("wirelog_echo", wirelog::lines(&echo_transcript()));
}

#[test]
fn wire_log_of_hostile_transcript() {
    insta::assert_yaml_snapshot!("wirelog_hostile", wirelog::lines(&hostile_transcript()));
}

#[test]
fn wire_log_lines_are_bounded_and_plain() {
    for t in [echo_transcript(), hostile_transcript(), perf_transcript(50)] {
        for line in wirelog::lines(&t) {
            assert!(line.chars().count() <= wirelog::MAX_LINE, "{line}");
            assert!(!has_raw_controls(&line), "{line:?}");
            assert!(!line.contains('\n'), "{line:?}");
        }
    }
    let lines = wirelog::lines(&echo_transcript());
    let first = lines
        .iter()
        .find(|l| l.contains("FrameSent"))
        .expect("a sent frame");
    assert_eq!(
        first,
        "+   0.412 ms  → FrameSent text fin=1 rsv=0 mask=1a2b3c4d len=13 (7-bit) \"Hello, world!\""
    );
    let capped = wirelog::lines_capped(&perf_transcript(5000), 100);
    assert!(capped.len() <= 102);
    assert!(capped
        .last()
        .is_some_and(|l| l.contains("more events not shown")));
}

#[test]
fn hex_dump_shape() {
    let dump = wirelog::hex_dump(b"Hello, world!\x00\xff<>and more", 1024);
    assert_eq!(dump.len(), 2);
    assert_eq!(
        dump[0],
        "0000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 00 ff 3c  |Hello, world!..<|"
    );
    let capped = wirelog::hex_dump(&[0u8; 100], 32);
    assert_eq!(capped.len(), 3);
    assert!(capped[2].contains("68 more bytes"));
}

// ---------------------------------------------------------------------------
// JUnit
// ---------------------------------------------------------------------------

fn junit_counts(xml: &str) -> (usize, usize, usize, usize, usize) {
    let doc =
        roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("JUnit does not parse: {e}"));
    let count = |name: &str| doc.descendants().filter(|n| n.has_tag_name(name)).count();
    (
        count("testsuite"),
        count("testcase"),
        count("failure"),
        count("error"),
        count("skipped"),
    )
}

#[test]
fn junit_parses_and_counts() {
    let xml = junit::render(&run(false));
    assert_eq!(junit_counts(&xml), (4, 8, 1, 1, 1));
    let strict = junit::render(&run(true));
    // Under --strict NON-STRICT (2.1, and 9.1.6 through FAILED BY CLIENT)
    // becomes a failure too.
    assert_eq!(junit_counts(&strict), (4, 8, 3, 1, 1));
    assert!(!has_raw_controls(&xml));
}

#[test]
fn junit_keeps_hostile_strings_as_data() {
    let xml = junit::render(&run(false));
    let doc = roxmltree::Document::parse(&xml).expect("parses");
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|n| n.attribute("name").unwrap_or_default().to_string())
        .collect();
    assert!(suites[0].starts_with("group 1: group title 1 <script>alert(1)</script>"));
    assert_eq!(suites.len(), 4);

    let hostile = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("testcase")
                && n.attribute("name")
                    .is_some_and(|a| a.starts_with("1.1.10 "))
        })
        .expect("hostile case present");
    let name = hostile.attribute("name").unwrap_or_default();
    assert!(name.contains("<script>alert(1)</script>"));
    assert!(name.contains("\\x00\\x1b[31m"));
    assert_eq!(hostile.attribute("classname"), Some("wsspec.1"));
    // Whole milliseconds: at most three decimals (Jenkins xunit 2018, 2022).
    assert_eq!(hostile.attribute("time"), Some("0.123"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("8"));
    assert_eq!(root.attribute("failures"), Some("1"));
    assert_eq!(root.attribute("errors"), Some("1"));
    assert!(root
        .attribute("name")
        .is_some_and(|n| n.starts_with("wsspec ")));
    assert!(root.attribute("time").is_some());
    let failure = hostile
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("failure element");
    assert_eq!(failure.attribute("type"), Some("FAILED / UNCLEAN"));
    assert!(failure
        .attribute("message")
        .is_some_and(|m| m.starts_with("behaviour reason <script>")));
    let body = failure.text().unwrap_or_default();
    assert!(body.contains("Wire log:"), "{body}");
    assert!(body.contains("FrameReceived close fin=1"));
    let out = hostile
        .children()
        .find(|n| n.has_tag_name("system-out"))
        .and_then(|n| n.text())
        .unwrap_or_default();
    assert!(out.contains("Expected: OK: echo; <script>"));
    // The `]]>` in the peer's text comes back as it was, not altered.
    assert!(out.contains("</script> ]]> \\x00"), "{out}");
    assert!(out.contains("Closing behaviour: UNCLEAN: close reason"));
    assert!(out.contains("HandshakeResponse 101"));

    let skipped = doc
        .descendants()
        .find(|n| n.has_tag_name("skipped"))
        .expect("skipped element");
    assert_eq!(skipped.attribute("type"), Some("UNIMPLEMENTED / OK"));
}

#[test]
fn junit_wire_logs_are_bounded() {
    let xml = junit::render(&run(false));
    let doc = roxmltree::Document::parse(&xml).expect("parses");
    let perf = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("testcase")
                && n.attribute("name").is_some_and(|a| a.starts_with("9.1.6 "))
        })
        .expect("perf case present");
    let out = perf
        .children()
        .find(|n| n.has_tag_name("system-out"))
        .and_then(|n| n.text())
        .unwrap_or_default();
    assert!(
        out.lines().count() <= wirelog::PERF_LINES + 30,
        "{}",
        out.lines().count()
    );
    assert!(out.contains("not shown (wire log capped"));
    assert!(out.contains("performance case"));
    assert!(xml.len() < 2 * 1024 * 1024, "{}", xml.len());
}

#[test]
fn junit_of_a_huge_run_stays_under_the_budget() {
    let mut r = run(false);
    let perf = r.cases[6].clone();
    let failing = r.cases[1].clone();
    r.cases.clear();
    for i in 0..300 {
        let mut c = if i % 2 == 0 {
            perf.clone()
        } else {
            failing.clone()
        };
        c.id = format!("{}.{i}", c.id);
        r.cases.push(c);
    }
    let xml = junit::render(&r);
    assert!(xml.len() < 30 * 1024 * 1024, "{}", xml.len());
    let (suites, cases, failures, _, _) = junit_counts(&xml);
    assert_eq!((suites, cases, failures), (2, 300, 150));
    // Failing cases are served first: every one keeps its wire log.
    let doc = roxmltree::Document::parse(&xml).expect("parses");
    for f in doc.descendants().filter(|n| n.has_tag_name("failure")) {
        assert!(f.text().unwrap_or_default().contains("FrameReceived"));
    }
}

#[test]
fn junit_of_an_empty_run_parses() {
    let mut r = run(false);
    r.cases.clear();
    let xml = junit::render(&r);
    assert_eq!(junit_counts(&xml), (0, 0, 0, 0, 0));
}

// ---------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------

#[test]
fn html_escapes_everything_from_the_model() {
    let page = html::render(&run(false));
    assert!(!page.contains("<script>alert"));
    assert!(!page.contains("]]>"));
    // Only the report's own static script tag.
    assert_eq!(page.matches("<script>").count(), 1);
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!has_raw_controls(&page));
    assert!(!page.contains('\u{202e}'));
    // No external resources.
    assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("src="));
}

#[test]
fn html_structure() {
    let r = run(false);
    let page = html::render(&r);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</html>"));
    assert_eq!(page.matches("<details class=\"case").count(), r.cases.len());
    assert_eq!(
        page.matches("<details").count(),
        page.matches("</details>").count()
    );
    assert_eq!(page.matches("<tr").count(), page.matches("</tr>").count());
    assert_eq!(page.matches("<div").count(), page.matches("</div>").count());
    for c in &r.cases {
        let a = html::anchor(&c.id);
        assert!(page.contains(&format!("id=\"{a}\"")), "{a}");
        assert!(page.contains(&format!("href=\"#{a}\"")), "{a}");
    }
    for o in Outcome::ALL {
        assert!(page.contains(&format!("{} {}</a>", r.count(o), o.as_str())));
    }
    // The hex view shows the frame header as written, in a case that fails
    // the run (2.1 is NON-STRICT, failing under --strict), and none in the
    // passing cases (2.1 passes without --strict; the others with frames pass).
    assert!(html::render(&run(true)).contains("header  81 8d 1a 2b 3c 4d"));
    assert!(!page.contains("header  81 8d 1a 2b 3c 4d"));
    assert!(
        page.contains("<summary>hex</summary>"),
        "the failing case's frames"
    );
    // Deterministic.
    assert_eq!(page, html::render(&r));
    // Bounded despite 5000 events and a 1 MiB recorded head.
    assert!(page.len() < 4 * 1024 * 1024, "{}", page.len());
}

/// The `<tr>` of case `id` in the case table.
fn table_row<'a>(page: &'a str, id: &str) -> &'a str {
    let link = format!("<td><a href=\"#{}\">", html::anchor(id));
    let at = page
        .find(&link)
        .unwrap_or_else(|| panic!("no row for {id}"));
    let start = page[..at].rfind("<tr").expect("row start");
    let end = at + page[at..].find("</tr>").expect("row end");
    &page[start..end]
}

#[test]
fn html_shows_snapshot_drift_at_the_top_and_never_as_passing() {
    use wsspec::snapshot::SnapshotStatus;
    let mut r = run(false);
    // 1.1.2 passes by its verdict but drifted; wsspec-only is NEW.
    r.cases[0].snapshot = Some(SnapshotStatus::Drift {
        diff: format!("-stored\n+observed {HOSTILE}\n"),
    });
    r.cases[7].snapshot = Some(SnapshotStatus::New);
    for c in &mut r.cases[1..7] {
        c.snapshot = Some(SnapshotStatus::Match);
    }
    let page = html::render(&r);
    // Summary: the snapshot counts and the cases failing the run (1.1.10,
    // 2.2 by verdict; 1.1.2, wsspec-only by snapshot).
    assert!(page.contains("data-count=\"DRIFT\" href=\"?snapshot=DRIFT#cases\">1 DRIFT</a>"));
    assert!(page.contains(">1 NEW</a>"));
    assert!(page.contains("<b data-count=\"fail-run\">4</b> of 8 cases fail the run"));
    // The row fails the run (so "only cases that fail the run" keeps it),
    // its snapshot column and reason say why, and its matrix cell is marked.
    let row = table_row(&page, "1.1.2");
    assert!(
        row.starts_with("<tr class=\"row-ok f\" data-s=\"DRIFT\">"),
        "{row}"
    );
    assert!(row.contains("<td class=\"sn\">DRIFT</td>"), "{row}");
    assert!(row.contains("snapshot DRIFT: the wire differs"), "{row}");
    assert!(page
        .contains("<a class=\"o-ok d\" href=\"#case-1.1.2\" title=\"1.1.2 OK, snapshot DRIFT\">"));
    assert!(page.contains("<a class=\"o-ok n\" href=\"#case-wsspec-only\""));
    assert!(table_row(&page, "wsspec-only").starts_with("<tr class=\"row-ok f\" data-s=\"NEW\">"));
    // A passing case with a matching snapshot is one the switch may hide.
    assert!(
        table_row(&page, "3.2").starts_with("<tr class=\"row-unimplemented p\" data-s=\"MATCH\">")
    );
    // The case block of the drifted case fails the run too and shows the diff, escaped.
    assert!(page.contains("<details class=\"case row-ok f\" id=\"case-1.1.2\">"));
    assert!(page.contains("+observed &lt;script&gt;"));
    // The CSS-only switch hides passing rows and blocks only.
    assert!(page.contains("#hide-ok:checked~table .p,#hide-ok:checked~section .p{display:none}"));
    // The snapshot filter offers the states present.
    for s in ["DRIFT", "NEW", "MATCH"] {
        assert!(
            page.contains(&format!("<option value=\"{s}\">{s}</option>")),
            "{s}"
        );
    }
}

#[test]
fn html_works_without_scripts() {
    let r = run(false);
    let page = html::render(&r);
    // The filter bar is shown only by the script; nothing else starts hidden.
    assert!(page.contains("<div class=\"filters\" id=\"filters\" hidden>"));
    assert_eq!(page.matches(" hidden>").count(), 1);
    assert_eq!(page.matches("<details class=\"case").count(), r.cases.len());
    // Every link inside the page leads to an id on it: the table of contents
    // (groups), the matrix (cases), the table (cases).
    let ids: std::collections::BTreeSet<&str> = page
        .split(" id=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    let mut links = 0;
    for target in page.split("href=\"#").skip(1) {
        let target = target.split('"').next().expect("closing quote");
        assert!(ids.contains(target), "link to #{target} has no target");
        links += 1;
    }
    // Per case: a matrix cell and a table link; per group: a toc and a matrix link.
    assert_eq!(links, 2 * r.cases.len() + 2 * 4, "{links}");
    // Matrix: one row per group, one cell per case, coloured by verdict.
    let matrix = page
        .split("<table class=\"matrix\"")
        .nth(1)
        .and_then(|m| m.split("</table>").next())
        .expect("matrix");
    assert_eq!(matrix.matches("<tr>").count(), 4);
    assert_eq!(matrix.matches("<a class=\"o-").count(), r.cases.len());
    assert!(matrix.contains("<a class=\"o-failed\" href=\"#case-1.1.10\""));
    // The reason column holds the failing verdict's reason, escaped.
    assert!(table_row(&page, "1.1.10")
        .contains("<td class=\"why\">behaviour reason &lt;script&gt;alert(1)&lt;/script&gt;"));
    // Light and dark.
    assert!(page.contains("@media (prefers-color-scheme:dark)"));
}

#[test]
fn html_escapes_hostile_groups_and_ids_in_attributes() {
    let mut r = run(false);
    let mut c = r.cases[1].clone();
    c.id = format!("x{HOSTILE}");
    c.group = format!("g{HOSTILE}");
    r.cases.push(c);
    let page = html::render(&r);
    assert!(!page.contains("<script>alert"));
    assert_eq!(page.matches("<script>").count(), 1);
    assert!(
        !page.contains("\"q\" 'a'"),
        "a raw quote would end an attribute"
    );
    assert!(page.contains("<option value=\"g&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("data-g=\"g&lt;script&gt;"));
}

/// The whole server corpus against a server that fails about a third of it
/// (it closes with 1000 where 1002 or 1007 is due): the page stays under
/// 1 MB. Passing cases' wire logs are cut to their first events, failing
/// ones are capped, and markup is not repeated per line.
#[test]
fn html_of_the_whole_corpus_failing_a_third_stays_under_1_mb() {
    let server = faulty::start(faulty::Fault::WrongCloseCode);
    let cases = common::harness::corpus(&[]);
    let r = common::harness::run(&server.url(), &cases);
    assert_eq!(r.cases.len(), cases.len());
    let failing = r
        .cases
        .iter()
        .filter(|c| c.verdict.outcome.fails(false))
        .count();
    let third = r.cases.len() / 3;
    assert!(
        failing * 4 >= r.cases.len() && failing <= third + r.cases.len() / 10,
        "{failing} of {} failing: not about a third",
        r.cases.len()
    );
    let page = html::render(&r);
    let json = json::render(&r);
    eprintln!(
        "{} cases, {failing} failing: HTML {} bytes, results.json {} bytes",
        r.cases.len(),
        page.len(),
        json.len()
    );
    assert!(page.len() < 1_000_000, "HTML of {} bytes", page.len());
    // Still every case, and each failing one with its reason and wire log.
    assert_eq!(page.matches("<details class=\"case").count(), r.cases.len());
    for c in r.cases.iter().filter(|c| c.verdict.outcome.fails(false)) {
        let row = table_row(&page, &c.id);
        assert!(
            row.contains(
                &sanitize::html(&c.verdict.headline())
                    .chars()
                    .take(60)
                    .collect::<String>()
            ),
            "{row}"
        );
    }
}

// ---------------------------------------------------------------------------
// results.json
// ---------------------------------------------------------------------------

#[test]
fn results_json_round_trips() {
    let mut r = run(true);
    r.cases.truncate(6);
    let text = json::render(&r);
    let back: RunResults = serde_json::from_str(&text).expect("results.json deserializes");
    assert_eq!(back.cases.len(), r.cases.len());
    assert_eq!(back.agent, r.agent);
    assert!(back.strict);
    for (a, b) in back.cases.iter().zip(&r.cases) {
        assert_eq!(a.id, b.id);
        assert_eq!(a.title, b.title);
        assert_eq!(a.verdict, b.verdict);
        assert_eq!(a.transcript, b.transcript);
    }
    assert_eq!(json::render(&back), text);
    // What files.rs streams to results.json is the same text.
    let mut streamed = Vec::new();
    json::write_to(&r, &mut streamed).expect("write to memory");
    assert_eq!(String::from_utf8(streamed).expect("UTF-8"), text);
    // Invalid UTF-8 in byte logs survives as hex.
    assert!(text.contains(&hex(b"\xff\xfe]]>")));
}

// ---------------------------------------------------------------------------
// Autobahn index.json
// ---------------------------------------------------------------------------

#[test]
fn autobahn_index_shape() {
    let r = run(false);
    let text = autobahn::render_index(&r);
    let v: serde_json::Value = serde_json::from_str(&text).expect("index.json parses");
    let agents = v.as_object().expect("object of agents");
    assert_eq!(agents.len(), 1);
    let cases = agents[&r.agent].as_object().expect("object of cases");
    let ids: Vec<&str> = cases.keys().map(String::as_str).collect();
    // Sorted as strings, like Autobahn; cases without an Autobahn id left out.
    assert_eq!(ids, ["1.1.10", "1.1.2", "2.1", "3.1", "3.2", "9.1.6"]);
    let mut expected = BTreeMap::new();
    expected.insert("behavior", serde_json::json!("FAILED"));
    expected.insert("behaviorClose", serde_json::json!("UNCLEAN"));
    expected.insert("duration", serde_json::json!(123));
    expected.insert("remoteCloseCode", serde_json::json!(1002));
    let entry = cases["1.1.10"].as_object().expect("entry");
    let mut got: BTreeMap<&str, serde_json::Value> =
        entry.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let file = got.remove("reportfile").expect("reportfile");
    assert_eq!(got, expected);
    let file = file.as_str().expect("reportfile is a string");
    assert!(
        file.starts_with("my_server_1_2__script_alert_1___script_"),
        "{file}"
    );
    assert!(file.ends_with("_a_case_1_1_10.json"), "{file}");
    assert!(file
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'));
    assert_eq!(cases["2.1"]["remoteCloseCode"], serde_json::Value::Null);
    assert_eq!(cases["2.1"]["behavior"], "NON-STRICT");
    assert_eq!(cases["9.1.6"]["behaviorClose"], "FAILED BY CLIENT");
    assert_eq!(cases["9.1.6"]["duration"], 9000);
    // Autobahn's three-space indent and key order.
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "{");
    assert!(lines[1].starts_with("   \"My Server"));
    assert_eq!(lines[2], "      \"1.1.10\": {");
    assert_eq!(lines[3], "         \"behavior\": \"FAILED\",");
    assert_eq!(lines[4], "         \"behaviorClose\": \"UNCLEAN\",");
}

#[test]
fn autobahn_report_file_names() {
    assert_eq!(
        autobahn::report_file("AutobahnPython/0.6.0", "1.2.3"),
        "autobahnpython_0_6_0_case_1_2_3.json"
    );
    assert_eq!(autobahn::clean_for_filename("  -Node ws- "), "node_ws");
}

#[test]
fn autobahn_report_files_exist_for_every_index_entry() {
    let r = run(false);
    let dir = std::env::temp_dir().join(format!("wsspec-abfiles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    wsspec::report::write_reports(
        &r,
        &wsspec::report::Outputs {
            dir: dir.join("reports"),
            junit: None,
            html: None,
            json: None,
            autobahn_dir: Some(dir.join("autobahn")),
        },
    )
    .expect("reports written");
    let index: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("autobahn/index.json")).expect("index.json"),
    )
    .expect("index parses");
    let cases = index[&r.agent].as_object().expect("cases");
    assert!(!cases.is_empty());
    for (id, entry) in cases {
        let file = dir
            .join("autobahn")
            .join(entry["reportfile"].as_str().expect("reportfile"));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        let case: serde_json::Value = serde_json::from_str(&text).expect("case file parses");
        assert_eq!(case["id"], id.as_str());
        assert_eq!(case["agent"], r.agent.as_str());
        assert_eq!(case["behavior"], entry["behavior"]);
        assert_eq!(case["behaviorClose"], entry["behaviorClose"]);
        assert_eq!(case["duration"], entry["duration"]);
        assert_eq!(case["remoteCloseCode"], entry["remoteCloseCode"]);
        assert!(case["result"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(case["case"].as_u64().is_some_and(|n| n >= 1));
        assert_eq!(
            case["isServer"], false,
            "run tests servers: wsspec is the client"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The cells of the first header row and of the first body row (not a group
/// row) of the `n`th `<table class="cases">`: whether each is right-aligned.
fn column_alignment(html: &str, n: usize) -> (Vec<bool>, Vec<bool>) {
    let table = html
        .split("<table class=\"cases\"")
        .nth(n + 1)
        .and_then(|t| t.split("</table>").next())
        .expect("table");
    let cells = |row: &str, tag: &str| -> Vec<bool> {
        row.split(&format!("<{tag}"))
            .skip(1)
            .map(|cell| cell.starts_with(" class=\"num\""))
            .collect()
    };
    let head = table
        .split("<thead><tr>")
        .nth(1)
        .and_then(|t| t.split("</tr>").next())
        .expect("header row");
    let body = table
        .split("<tbody>")
        .nth(1)
        .expect("body")
        .split("<tr")
        .skip(1)
        .find(|row| !row.starts_with(" class=\"group\""))
        .expect("a body row");
    (cells(head, "th"), cells(body, "td"))
}

#[test]
fn number_columns_are_aligned_with_their_headers() {
    let r = run(false);
    let per_run = html::render(&r);
    let columns = [wsspec::report::agents::Column {
        results: &r,
        folder: "agent".into(),
    }];
    let overview = wsspec::report::agents::render(&columns);
    for (what, page, table) in [
        ("per-run cases", &per_run, 0),
        ("overview summary", &overview, 0),
    ] {
        let (head, body) = column_alignment(page, table);
        assert_eq!(head.len(), body.len(), "{what}: header and row widths");
        assert!(body.iter().any(|n| *n), "{what}: some numeric column");
        assert_eq!(
            head, body,
            "{what}: a right-aligned column has a right-aligned header"
        );
    }
}
