//! The HTML report in a real browser: `wsspec run` against a hostile server
//! (its 101 response carries a header and its close frames a reason that
//! try to break out of the page: `</textarea>`, `<script>` setting
//! `document.title` and a global, an `<img onerror>`), then headless
//! Chromium loads the report and dumps the DOM after its scripts ran. The
//! test checks the counts in the rendered DOM against results.json, that the
//! page's script ran (it marks `<html data-ready>` and fills in "showing N
//! of M cases"), a filter given in the URL (`?verdict=failed`: only failing
//! rows and their case blocks are shown) and a search (`?q=`), that a
//! failing case's details open from the fragment and show the hostile bytes
//! as text, and that no injected script ran (the title and the marker stay
//! unchanged, no injected element exists). It saves screenshots under
//! `reports/browser/` (light and dark) with the report beside them.
//!
//! Needs Debian's `chromium` (`.ci/run` installs it), through
//! `tests/common/peers.rs`: without it the test fails under
//! `WSSPEC_REQUIRE_PEERS=1` (scripts/test.sh) and is skipped, saying so on the
//! terminal, under plain `cargo test`. `WSSPEC_CHROMIUM` names another binary.

#[path = "common/peers.rs"]
mod peers;
#[path = "common/raw_server.rs"]
mod raw_server;

use peers::PeerName;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// What the hostile peer says; each part tries to end the markup around it.
const INJECTION: &str = "</textarea></pre><script>document.title='PWNED';window.pwned=1</script><img src=x onerror=\"document.title='PWNED'\">";

const CASES: [&str; 7] = ["1.1.1", "1.1.2", "1.2.1", "2.5", "3.1", "3.2", "4.1.1"];

fn chromium() -> String {
    peers::chromium()
}

/// A WebSocket echo server that is hostile in its words: its 101 carries
/// `X-Inject: <INJECTION>`, and every close it sends has code 1000 and the
/// injection as its reason. It echoes data frames, answers pings, and
/// closes (1000, not the 1002 due) on a frame with RSV bits, a reserved
/// opcode or a control payload over 125 bytes, so some cases pass and some
/// fail.
fn hostile_server() -> String {
    raw_server::serve(Some(Duration::from_secs(10)), |s, head| {
        let extra = format!("X-Inject: {INJECTION}\r\n");
        if s.write_all(raw_server::switching_protocols(head, &extra).as_bytes())
            .is_err()
        {
            return;
        }
        while let Some((b0, payload)) = read_frame(s) {
            let opcode = b0 & 0x0f;
            let bad = b0 & 0x70 != 0
                || matches!(opcode, 3..=7 | 0xb..=0xf)
                || (opcode >= 8 && payload.len() > 125);
            if bad || opcode == 8 {
                let mut body = 1000u16.to_be_bytes().to_vec();
                body.extend_from_slice(INJECTION.as_bytes());
                let _ = write_frame(s, 0x88, &body);
                let _ = s.shutdown(std::net::Shutdown::Both);
                return;
            }
            let reply = if opcode == 9 { 0x8a } else { b0 };
            if opcode != 0xa && write_frame(s, reply, &payload).is_err() {
                return;
            }
        }
    })
}

/// One masked client frame: its first byte and unmasked payload.
fn read_frame(s: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut h = [0u8; 2];
    s.read_exact(&mut h).ok()?;
    let len = match h[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            s.read_exact(&mut b).ok()?;
            u64::from(u16::from_be_bytes(b))
        }
        127 => {
            let mut b = [0u8; 8];
            s.read_exact(&mut b).ok()?;
            u64::from_be_bytes(b)
        }
        n => u64::from(n),
    };
    if len > 1 << 20 {
        return None;
    }
    let mut mask = [0u8; 4];
    if h[1] & 0x80 != 0 {
        s.read_exact(&mut mask).ok()?;
    }
    let mut payload = vec![0u8; len as usize];
    s.read_exact(&mut payload).ok()?;
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
    Some((h[0], payload))
}

fn write_frame(s: &mut TcpStream, b0: u8, payload: &[u8]) -> std::io::Result<()> {
    let mut f = vec![b0];
    match payload.len() {
        n if n < 126 => f.push(n as u8),
        n if n <= 0xffff => {
            f.push(126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(payload);
    s.write_all(&f)
}

/// Chromium's flags for one headless page load with a profile of its own.
fn headless(profile: &Path) -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless=new",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        "--disable-extensions",
        "--allow-file-access-from-files",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// The DOM of `url` after its scripts ran.
fn dom(profile: &Path, url: &str) -> String {
    let out = headless(profile)
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium --dump-dom {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("DOM is UTF-8")
}

fn screenshot(profile: &Path, url: &str, png: &Path, dark: bool) {
    let mut c = headless(profile);
    if dark {
        c.arg("--force-dark-mode");
    }
    let out = c
        .arg("--window-size=1280,2000")
        .arg(format!("--screenshot={}", png.display()))
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success() && png.metadata().is_ok_and(|m| m.len() > 10_000),
        "screenshot {}: {}",
        png.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `<tr>` of case `id` in the DOM's case table.
fn row<'a>(dom: &'a str, id: &str) -> &'a str {
    let link = format!("<a href=\"#{}\">", wsspec::report::html::anchor(id));
    let at = dom.find(&link).unwrap_or_else(|| panic!("no row for {id}"));
    let start = dom[..at].rfind("<tr").expect("row start");
    &dom[start..at]
}

/// The opening tag of the case block of `id`.
fn block<'a>(dom: &'a str, id: &str) -> &'a str {
    let key = format!(" id=\"{}\"", wsspec::report::html::anchor(id));
    dom.match_indices("<details class=\"case")
        .map(|(at, _)| &dom[at..at + dom[at..].find('>').expect("tag end") + 1])
        .find(|tag| tag.contains(&key))
        .unwrap_or_else(|| panic!("no block for {id}"))
}

/// "showing N of M cases" as (N, M).
fn showing(dom: &str) -> (usize, usize) {
    let text = dom
        .split("id=\"shown\"")
        .nth(1)
        .and_then(|s| s.split('>').nth(1))
        .and_then(|s| s.split('<').next())
        .unwrap_or_else(|| panic!("no #shown in the DOM"));
    let words: Vec<&str> = text.split_whitespace().collect();
    assert!(
        words.len() == 5 && words[0] == "showing" && words[2] == "of",
        "{text:?}: the script did not fill it in"
    );
    (
        words[1].parse().expect("number"),
        words[3].parse().expect("number"),
    )
}

/// The injection never ran and never became an element.
fn no_injection_ran(dom: &str, what: &str) {
    let title = dom
        .split("<title>")
        .nth(1)
        .and_then(|t| t.split("</title>").next())
        .expect("title");
    assert!(
        title.starts_with("wsspec report: "),
        "{what}: title {title:?}"
    );
    assert!(
        !dom.contains("PWNED</title>") && !title.contains("PWNED"),
        "{what}"
    );
    assert_eq!(
        dom.matches("<script").count(),
        1,
        "{what}: only the report's script"
    );
    assert!(!dom.contains("<img"), "{what}: an injected element");
    assert!(!dom.contains("<textarea"), "{what}");
    // In a serialized DOM every `<` of text is `&lt;`: each `<` opens a tag.
    let tags = dom
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap_or(""));
    assert!(
        !tags.clone().any(|t| t.contains("onerror")),
        "{what}: an injected attribute"
    );
    assert!(tags.count() > 100, "{what}: a whole page");
    assert!(
        dom.contains("data-ready=\"1\""),
        "{what}: the page's script ran"
    );
}

#[test]
fn the_report_in_headless_chromium() {
    if peers::available(PeerName::Chromium, peers::chromium_installed()).is_err() {
        return;
    }
    let started = Instant::now();
    let url = hostile_server();
    let dir = std::env::temp_dir().join(format!("wsspec-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let reports = dir.join("reports");
    let mut run = Command::new(env!("CARGO_BIN_EXE_wsspec"));
    run.arg("run").arg(&url).args(["--agent", "hostile"]);
    for c in CASES {
        run.args(["--cases", c]);
    }
    let out = run
        .arg("--report-dir")
        .arg(&reports)
        .env("CI", "1")
        .output()
        .expect("wsspec runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "some cases fail:\n{stdout}");

    // What the DOM must show, from results.json.
    let results: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reports.join("results.json")).expect("results.json"),
    )
    .expect("results.json parses");
    let cases = results["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), CASES.len());
    let outcome =
        |c: &serde_json::Value| c["verdict"]["outcome"].as_str().unwrap_or("").to_string();
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| outcome(c) == "FAILED")
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    let ok: Vec<&str> = cases
        .iter()
        .filter(|c| outcome(c) == "OK")
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert!(
        failed.len() >= 3 && ok.len() >= 3,
        "the hostile peer passes some cases and fails others: {failed:?} {ok:?}\n{stdout}"
    );

    let profile = dir.join("profile");
    let page = format!("file://{}", reports.join("index.html").display());

    // Unfiltered: every case shown, the counts as results.json has them.
    let all = dom(&profile, &page);
    no_injection_ran(&all, "unfiltered");
    assert_eq!(showing(&all), (CASES.len(), CASES.len()));
    for (slug, label) in [("ok", "OK"), ("failed", "FAILED")] {
        let n = cases.iter().filter(|c| outcome(c) == label).count();
        assert!(
            all.contains(&format!(
                "data-count=\"{slug}\" href=\"?verdict={slug}#cases\">{n} {label}</a>"
            )),
            "summary count {n} {label}"
        );
    }
    assert!(all.contains(&format!(
        "<b data-count=\"fail-run\">{}</b> of {} cases fail the run",
        failed.len(),
        CASES.len()
    )));
    assert!(
        !all.contains("<div class=\"filters\" id=\"filters\" hidden"),
        "the script shows the filter bar"
    );

    // Filtered by verdict, with a failing case's details opened by the fragment.
    let target = failed[0];
    let filtered = dom(
        &profile,
        &format!(
            "{page}?verdict=failed#{}",
            wsspec::report::html::anchor(target)
        ),
    );
    no_injection_ran(&filtered, "filtered");
    assert_eq!(showing(&filtered), (failed.len(), CASES.len()));
    for id in &failed {
        assert!(!row(&filtered, id).contains("hidden"), "{id} shown");
        assert!(
            !block(&filtered, id).contains("hidden"),
            "{id} details shown"
        );
    }
    for id in &ok {
        assert!(row(&filtered, id).contains("hidden=\"\""), "{id} hidden");
        assert!(
            block(&filtered, id).contains("hidden=\"\""),
            "{id} details hidden"
        );
    }
    let opened = block(&filtered, target);
    assert!(opened.contains("open=\"\""), "{target} opened: {opened}");
    // The hostile bytes are in the opened case as text: the close reason
    // and the response header, markup escaped.
    let details = filtered
        .split(opened)
        .nth(1)
        .and_then(|d| d.split("</details>\n<details").next())
        .expect("details");
    assert!(
        details.contains("&lt;/textarea&gt;&lt;/pre&gt;&lt;script&gt;document.title="),
        "the injection shown as text in {target}'s details"
    );
    assert!(
        details.contains("X-Inject: &lt;/textarea&gt;"),
        "the header shown"
    );

    // A search.
    let searched = dom(&profile, &format!("{page}?q={}", ok[0]));
    no_injection_ran(&searched, "searched");
    let (n, m) = showing(&searched);
    assert!(n >= 1 && n < m, "search {} shows {n} of {m}", ok[0]);
    assert!(!row(&searched, ok[0]).contains("hidden"));

    // Screenshots for a person, with the report they show.
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/browser");
    std::fs::create_dir_all(&shots).expect("reports/browser");
    std::fs::copy(reports.join("index.html"), shots.join("index.html")).expect("copy report");
    let shown: PathBuf = shots.join("index.html");
    let local = format!("file://{}", shown.display());
    screenshot(
        &profile,
        &format!("{local}?verdict=failed"),
        &shots.join("report.png"),
        false,
    );
    screenshot(&profile, &local, &shots.join("report-dark.png"), true);

    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}
