//! Expected deviations as data, end to end: a `wsspec.yaml` in the working
//! directory (or `--config FILE`) gives the target, the cases and options,
//! and an allow-list; against a server that never answers a ping, the cases
//! it names are ALLOWED with their reason while their original verdict stays
//! in every report (console, results.json, JUnit `<skipped>`, Autobahn's
//! index.json), and the run exits 0. An entry naming a case that passed is
//! reported as stale and fails the run only under `--strict-allowlist`. The
//! command line wins over the file, `--no-config` ignores it, and a bad
//! setting is an error at its line and column (exit 2). `wsspec serve`
//! takes the same file's allow-list for every client that connects. A
//! snapshot that drifted fails the run unless an entry with `drift` names
//! its case; then it is reported as allowed drift everywhere and the run
//! passes, while a NEW snapshot still fails it.

#[path = "common/faulty.rs"]
mod faulty;
#[path = "common/faulty_client.rs"]
mod faulty_client;
#[path = "common/serve_proc.rs"]
mod serve_proc;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use faulty::Fault;
use serde_json::Value;

fn wsspec(cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wsspec"));
    c.current_dir(cwd).env("CI", "1");
    c
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wsspec-allow-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A config for `url`: group 2 (pings) and 1.1.1, group 2 allowed, 1.1.1
/// named although it passes (a stale entry).
fn config(url: &str) -> String {
    format!(
        "# what a project keeps beside its server\n\
         target: {url}\n\
         cases: ['2.*', '1.1.1']\n\
         options:\n  jobs: 4\n  autobahn-json: autobahn\n\
         allow:\n\
         \x20 - cases: '2.*'\n    reason: 'pongs are not implemented yet <script>alert(1)</script> & \"q\"'\n\
         \x20 - cases: [1.1.1]\n    reason: an entry the server has outgrown\n"
    )
}

/// The reason the config gives group 2, markup and all.
const REASON: &str = "pongs are not implemented yet <script>alert(1)</script> & \"q\"";

fn results(dir: &Path) -> Value {
    let json = std::fs::read_to_string(dir.join("reports/results.json")).expect("results.json");
    serde_json::from_str(&json).expect("json")
}

fn case<'a>(results: &'a Value, id: &str) -> &'a Value {
    results["cases"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no case {id}"))
}

#[test]
fn allowed_deviations_pass_the_run_and_keep_their_verdicts_in_every_report() {
    let server = faulty::start(Fault::NoPong);
    let dir = temp("allowed");
    std::fs::write(dir.join("wsspec.yaml"), config(&server.url())).expect("write config");
    let out = wsspec(&dir).arg("run").output().expect("run");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("config: wsspec.yaml"), "{all}");

    let r = results(&dir);
    let ids: Vec<&str> = r["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert!(ids.contains(&"1.1.1") && ids.iter().all(|i| *i == "1.1.1" || i.starts_with("2.")));
    // The server's failures are still FAILED in results.json, each ALLOWED
    // with the reason; the counts are the verdicts'.
    let failed: Vec<&Value> = r["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["verdict"]["outcome"] == "FAILED")
        .collect();
    assert!(
        failed.len() >= 3,
        "a server without pongs fails the ping cases: {all}"
    );
    for c in &failed {
        assert_eq!(c["allowed"]["deviated"], true, "{c}");
        assert_eq!(c["allowed"]["pattern"], "2.*");
        assert_eq!(c["allowed"]["reason"], REASON);
    }
    assert_eq!(r["counts"]["FAILED"].as_u64(), Some(failed.len() as u64));
    let stale = case(&r, "1.1.1");
    assert_eq!(stale["verdict"]["outcome"], "OK");
    assert_eq!(stale["allowed"]["deviated"], false);

    // Console: ALLOWED lines with the original outcome and the reason, the
    // stale entry named, ALLOWED in the summary.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first = failed[0]["id"].as_str().expect("id");
    assert!(
        stdout.contains("ALLOWED")
            && stdout.contains(&format!("{} ALLOWED", failed.len()))
            && stdout.contains(" 0 FAILED"),
        "{all}"
    );
    assert!(
        all.lines().any(|l| l.starts_with("ALLOWED")
            && l.contains(first)
            && l.contains("FAILED, ")
            && l.contains("[allowed: pongs are not implemented yet")),
        "{all}"
    );
    // 1.1.1's entry is stale; `2.*` is not, though some ping cases passed.
    assert!(
        stdout.contains("stale allow-list entries: none of the cases they name deviated")
            && stdout.contains("  `1.1.1` (an entry the server has outgrown): 1 case passed")
            && !stdout.contains("`2.*`"),
        "{all}"
    );

    // JUnit: an ALLOWED case is <skipped> with the original outcome and the
    // reason; nothing fails.
    let junit = std::fs::read_to_string(dir.join("reports/junit.xml")).expect("junit");
    let doc = roxmltree::Document::parse(&junit).expect("junit parses");
    let root = doc.root_element();
    assert_eq!(root.attribute("failures"), Some("0"), "{junit}");
    assert_eq!(root.attribute("errors"), Some("0"));
    let testcase = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("testcase")
                && n.attribute("name")
                    .is_some_and(|a| a.starts_with(&format!("{first} ")))
        })
        .expect("testcase");
    let skipped = testcase
        .children()
        .find(|n| n.has_tag_name("skipped"))
        .unwrap_or_else(|| panic!("{first} is not <skipped>: {junit}"));
    let message = skipped.attribute("message").unwrap_or_default();
    assert!(
        message.starts_with(&format!("ALLOWED (FAILED): {REASON}")),
        "{message}"
    );
    assert!(!doc.descendants().any(|n| n.has_tag_name("failure")));

    // HTML: ALLOWED badges, counted in the summary, the reason escaped
    // and the original verdict in the case's details.
    let html = std::fs::read_to_string(dir.join("reports/index.html")).expect("index.html");
    assert!(
        html.contains("badge o-allowed\">ALLOWED"),
        "no ALLOWED badge"
    );
    assert!(
        !html.contains("<script>alert(1)"),
        "the reason became markup"
    );
    assert!(
        html.contains("pongs are not implemented yet &lt;script&gt;alert(1)&lt;/script&gt; &amp;")
    );
    assert!(html.contains("<dt>Allow-list</dt><dd><b>FAILED</b>, allowed by <code>2.*</code>"));

    // Autobahn's index.json keeps the original verdict.
    let index = std::fs::read_to_string(dir.join("autobahn/index.json")).expect("index.json");
    let index: Value = serde_json::from_str(&index).expect("index json");
    let agent = index
        .as_object()
        .and_then(|o| o.values().next())
        .expect("one agent");
    let autobahn_id = failed[0]["autobahn"].as_str().unwrap_or(first);
    assert_eq!(agent[autobahn_id]["behavior"], "FAILED", "{agent}");
}

/// The `<testcase>` of case `id` in a JUnit file.
fn junit_case<'a>(doc: &'a roxmltree::Document<'a>, id: &str) -> roxmltree::Node<'a, 'a> {
    doc.descendants()
        .find(|n| {
            n.has_tag_name("testcase")
                && n.attribute("name")
                    .is_some_and(|a| a.starts_with(&format!("{id} ")))
        })
        .unwrap_or_else(|| panic!("no testcase {id}"))
}

#[test]
fn snapshot_drift_fails_the_run_unless_an_entry_excuses_it_and_new_still_fails() {
    let server = faulty::start(Fault::None);
    let dir = temp("drift");
    let url = server.url();
    let run = |extra: &[&str]| {
        wsspec(&dir)
            .args(["run", &url, "--cases", "1.1.1", "--cases", "1.1.2"])
            .args(["--snapshots", "snaps"])
            .args(extra)
            .output()
            .expect("run")
    };
    let out = run(&["--no-config", "--snapshots-update"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A baseline the server no longer matches on 1.1.1.
    let snap = dir.join("snaps/server/1.1.1.snap");
    let stored = std::fs::read_to_string(&snap).expect("snap");
    std::fs::write(
        &snap,
        stored.replace("verdict:", "doctored: once\nverdict:"),
    )
    .expect("doctor");

    // No entry: the drift fails the run.
    let out = run(&["--no-config"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("DRIFT         1.1.1") && all.contains("-doctored: once"),
        "{all}"
    );
    assert!(
        all.contains("snapshots compared: 1 match, 0 new, 1 drift\n"),
        "{all}"
    );
    let junit = std::fs::read_to_string(dir.join("reports/junit.xml")).expect("junit");
    let doc = roxmltree::Document::parse(&junit).expect("junit parses");
    let failure = junit_case(&doc, "1.1.1")
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("a <failure>");
    assert_eq!(failure.attribute("type"), Some("snapshot drift"));

    // An entry excusing drift (alone) on the cases it names.
    std::fs::write(
        dir.join("wsspec.yaml"),
        "allow:\n  - cases: ['1.1.1']\n    reason: a browser update may change this\n    drift: only\n",
    )
    .expect("config");
    let out = run(&[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("DRIFT ALLOWED 1.1.1")
            && all.contains("[allowed drift: a browser update may change this]")
            && all.contains("-doctored: once"),
        "{all}"
    );
    assert!(
        all.contains("snapshots compared: 1 match, 0 new, 1 drift (1 allowed)"),
        "{all}"
    );
    assert!(
        !all.contains("stale allow-list"),
        "a drift excuse is never stale: {all}"
    );
    let r = results(&dir);
    let c = case(&r, "1.1.1");
    assert_eq!(c["snapshot"]["status"], "drift", "{c}");
    assert_eq!(c["drift_allowed"]["pattern"], "1.1.1");
    assert_eq!(
        c["drift_allowed"]["reason"],
        "a browser update may change this"
    );
    assert!(c.get("allowed").is_none(), "no verdict was excused: {c}");
    assert!(case(&r, "1.1.2").get("drift_allowed").is_none());
    let junit = std::fs::read_to_string(dir.join("reports/junit.xml")).expect("junit");
    let doc = roxmltree::Document::parse(&junit).expect("junit parses");
    let skipped = junit_case(&doc, "1.1.1")
        .children()
        .find(|n| n.has_tag_name("skipped"))
        .expect("a <skipped>");
    assert_eq!(skipped.attribute("type"), Some("allowed snapshot drift"));
    assert!(
        skipped
            .attribute("message")
            .is_some_and(|m| m.starts_with("ALLOWED (DRIFT): a browser update may change this")),
        "{junit}"
    );
    assert_eq!(doc.root_element().attribute("failures"), Some("0"));
    let html = std::fs::read_to_string(dir.join("reports/index.html")).expect("html");
    for want in [
        "DRIFT (allowed)",
        "1 DRIFT allowed",
        "snapshot DRIFT, allowed",
        "<b data-count=\"fail-run\">0</b>",
    ] {
        assert!(html.contains(want), "{want} not in the HTML report");
    }
    // The pending change is still there for review.
    assert!(dir.join("snaps/server/1.1.1.snap.new").exists());

    // A NEW snapshot is not drift: it fails the run whatever the entry says.
    std::fs::write(
        dir.join("wsspec.yaml"),
        "allow:\n  - cases: '*'\n    reason: a browser update may change this\n    drift: only\n",
    )
    .expect("config");
    std::fs::remove_file(dir.join("snaps/server/1.1.2.snap")).expect("remove");
    let out = run(&[]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("snapshots compared: 0 match, 1 new, 1 drift (1 allowed)"),
        "{all}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_stale_entry_fails_the_run_only_under_strict_allowlist() {
    let server = faulty::start(Fault::None);
    let dir = temp("stale");
    let other = dir.join("elsewhere.yaml");
    std::fs::write(
        &other,
        format!(
            "target: {}\ncases: '1.1.*'\nallow:\n  - cases: '1.1.2'\n    reason: was broken once\n",
            server.url()
        ),
    )
    .expect("write config");
    let out = wsspec(&dir)
        .args(["run", "--config", "elsewhere.yaml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("pass --strict-allowlist to fail on them"));

    let out = wsspec(&dir)
        .args(["run", "--config", "elsewhere.yaml", "--strict-allowlist"])
        .output()
        .expect("run");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("failing the run (--strict-allowlist)"),
        "{all}"
    );
    let junit = std::fs::read_to_string(dir.join("reports/junit.xml")).expect("junit");
    let doc = roxmltree::Document::parse(&junit).expect("junit parses");
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("a <failure>");
    assert_eq!(failure.attribute("type"), Some("stale allow-list entry"));
    assert_eq!(doc.root_element().attribute("failures"), Some("1"));
    assert_eq!(results(&dir)["strict_allowlist"], true);
}

#[test]
fn the_command_line_wins_over_the_file_and_no_config_ignores_it() {
    let server = faulty::start(Fault::NoPong);
    let dir = temp("precedence");
    std::fs::write(dir.join("wsspec.yaml"), config(&server.url())).expect("write config");
    // --cases on the command line replaces the file's cases.
    let out = wsspec(&dir)
        .args(["run", "--cases", "1.1.2"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = results(&dir);
    let ids: Vec<&str> = r["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, ["1.1.2"]);
    // Without the file the ping cases fail the run.
    let out = wsspec(&dir)
        .args(["run", &server.url(), "--no-config", "--cases", "2.*"])
        .output()
        .expect("run");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        !all.contains("ALLOWED") && !all.contains("config:"),
        "{all}"
    );
}

#[test]
fn a_bad_config_is_an_error_at_its_line_and_column() {
    let dir = temp("bad");
    for (body, want) in [
        (
            "cases: '1.*'\noptions:\n  jobs: many\n",
            "wsspec.yaml:3:9: options.jobs: invalid value 'many'",
        ),
        (
            "allow:\n  - cases: '2.*'\n",
            "wsspec.yaml:2:5: allow: the entry has no `reason`",
        ),
        ("target: [\n", "wsspec.yaml:"),
    ] {
        std::fs::write(dir.join("wsspec.yaml"), body).expect("write config");
        let out = wsspec(&dir).arg("run").output().expect("run");
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{all}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with(&format!("error: {want}")), "{all}");
    }
    let out = wsspec(&dir)
        .args(["run", "--config", "missing.yaml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read config file missing.yaml"));
}

#[test]
fn serve_takes_the_allow_list_for_every_agent() {
    let dir = temp("serve");
    let config = dir.join("clients.yaml");
    std::fs::write(
        &config,
        "allow:\n  - cases: '6.3.*'\n    reason: the client echoes invalid UTF-8 (known)\n  - cases: '1.1.1'\n    reason: outgrown\n",
    )
    .expect("write config");
    let config = config.display().to_string();
    let mut serve = serve_proc::Serve::start("allow", &["6.3.*", "1.1.1"], &["--config", &config]);
    let host = serve.host();
    let driver = std::thread::spawn(move || {
        faulty_client::drive(&host, "noutf8", faulty_client::ClientFault::NoUtf8Check)
    });
    let code = serve.finish(std::time::Duration::from_secs(30));
    assert!(driver.join().is_ok(), "the client driver panicked");
    let stdout = serve.stdout();
    let stderr = serve.stderr();
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains(&format!("config: {config}")), "{stderr}");
    let results = serve.json("noutf8/results.json").expect("results.json");
    let failed: Vec<&Value> = results["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["verdict"]["outcome"] == "FAILED")
        .collect();
    assert!(
        !failed.is_empty(),
        "a client without UTF-8 checks fails 6.3.x: {stdout}"
    );
    for c in &failed {
        assert_eq!(
            c["allowed"]["reason"], "the client echoes invalid UTF-8 (known)",
            "{c}"
        );
    }
    assert!(
        stdout.contains(&format!("0 failed, {} allowed", failed.len()))
            && stdout.contains("stale allow-list entries (none of their cases deviated): `1.1.1`"),
        "{stdout}"
    );
    serve.remove_reports();
}
