//! Autobahn's spec files: wsspec selects cases exactly as wstest does.
//!
//! `tests/data/wstest_selection.json` was made by running the selection
//! functions of Autobahn's `autobahntestsuite/autobahntestsuite/caseset.py`
//! (`resolveCasePatternList`, `parseSpecCases`, `parseExcludeAgentCases`,
//! `checkAgentCaseExclude`; crossbario/autobahn-testsuite, copied into a
//! throwaway Python 3 script, not kept here) over the ids `wsspec list`
//! printed (`ids`). The one adaptation: wstest sorts by `int()` of each id
//! part, which raises on wsspec's own ids (`hs.1.1`), so the script sorted
//! numbers before names part by part, the same order for numeric ids. Each
//! row's `selected` is wstest's answer; this test asks wsspec the same.

use serde_json::Value;
use wsspec::case::wstest_pattern::{select, AgentExclusions};

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().expect("a string").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn selection_equals_wstest_on_the_table() {
    let data: Value = serde_json::from_str(include_str!("data/wstest_selection.json"))
        .expect("the table is JSON");
    let ids = strings(&data["ids"]);
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    // The ids wstest's logic saw are the corpus's (the corpus may grow).
    let corpus = wsspec::case::load::load_with_embedded(&[]).expect("the corpus loads");
    for id in &ids {
        assert!(
            corpus.iter().any(|c| c.spec.id == *id),
            "{id} is no longer in the corpus: regenerate the table"
        );
    }
    let table = data["table"].as_array().expect("a table");
    assert_eq!(table.len(), 20);
    for row in table {
        let spec = &row["spec"];
        let mut got = select(
            &strings(&spec["cases"]),
            &strings(&spec["exclude-cases"]),
            &ids,
        )
        .expect("selects");
        if let Some(agent) = row["agent"].as_str() {
            let rules: Vec<(String, Vec<String>)> = spec["exclude-agent-cases"]
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), strings(v))).collect())
                .unwrap_or_default();
            let ex = AgentExclusions::parse(&rules).expect("valid patterns");
            got.retain(|c| !ex.excludes(agent, c));
        }
        assert_eq!(
            got,
            strings(&row["selected"]),
            "spec {spec} agent {}",
            row["agent"]
        );
    }
}

#[test]
fn consequences_of_wstest_rules_named() {
    let data: Value = serde_json::from_str(include_str!("data/wstest_selection.json"))
        .expect("the table is JSON");
    let ids = strings(&data["ids"]);
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let sel = |c: &[&str], e: &[&str]| {
        let c: Vec<String> = c.iter().map(|s| s.to_string()).collect();
        let e: Vec<String> = e.iter().map(|s| s.to_string()).collect();
        select(&c, &e, &ids).expect("selects")
    };
    // `12.*.1` is a prefix match: 12.x.10..12.x.18 come along (5 × 10).
    let twelve = sel(&["12.*.1"], &[]);
    assert_eq!(twelve.len(), 50);
    assert!(twelve.contains(&"12.3.14".to_string()));
    // Without `*`, one exact id; `1.1.1*` would be a prefix.
    assert_eq!(sel(&["1.1.1"], &[]), ["1.1.1"]);
    assert_eq!(sel(&["2.1*"], &[]), ["2.1", "2.10", "2.11"]);
    // Excluding `7.1*` also drops 7.13.x.
    assert!(!sel(&["7.*"], &["7.1*"])
        .iter()
        .any(|c| c.starts_with("7.13.")));
    // `*.1` is "contains .1 after anything": 1.1.2 matches.
    assert!(sel(&["*.1"], &[]).contains(&"1.1.2".to_string()));
}

// ---------------------------------------------------------------------------
// The spec files on the command line
// ---------------------------------------------------------------------------

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn wsspec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(args)
        .env("CI", "1")
        .output()
        .expect("run wsspec")
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wsspec-abspec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("JSON")
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().expect("an object").keys().cloned().collect()
}

/// Two embedded reference servers on one runtime; their URLs.
fn reference_servers() -> (Vec<String>, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let urls = (0..2)
        .map(|_| {
            let (addr, _task) = rt
                .block_on(wsspec::reference::bind("127.0.0.1:0"))
                .expect("bind");
            format!("ws://{addr}/")
        })
        .collect();
    (urls, rt)
}

#[test]
fn fuzzingclient_json_runs_every_server_into_outdir() {
    let (urls, _rt) = reference_servers();
    let dir = temp("client");
    let outdir = dir.join("reports/servers");
    let spec = serde_json::json!({
        "options": {"failByDrop": false},
        "outdir": outdir,
        "servers": [
            {"agent": "ref-a", "url": urls[0], "options": {"version": 18}},
            {"agent": "AutobahnRef", "url": urls[1]}
        ],
        "cases": ["4.*", "cl.2.7"],
        "exclude-cases": ["4.1.5"],
        "exclude-agent-cases": {"Auto*": ["4.2.*"]},
        "comment": "files in the wild carry keys like this"
    });
    let file = dir.join("fuzzingclient.json");
    std::fs::write(&file, serde_json::to_string_pretty(&spec).expect("JSON")).expect("write");
    let out = wsspec(&["run", "--spec", file.to_str().expect("utf-8")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // Unknown and unused keys are notes, not errors.
    assert!(stderr.contains("`comment` ignored"), "{stderr}");
    assert!(stderr.contains("`options` ignored"), "{stderr}");
    assert!(stderr.contains("`servers[0].options` ignored"), "{stderr}");
    // An id named exactly that only exists for the other role is said.
    assert!(
        stderr.contains("left out, not server-role case(s): cl.2.7")
            && stderr.contains("serve --spec"),
        "{stderr}"
    );
    // Autobahn's index.json under outdir: both agents; the Auto* agent
    // without 4.2.x, neither with the excluded 4.1.5.
    let index = read_json(&outdir.join("index.json"));
    assert_eq!(keys(&index), ["AutobahnRef", "ref-a"]);
    assert_eq!(
        keys(&index["ref-a"]),
        ["4.1.1", "4.1.2", "4.1.3", "4.1.4", "4.2.1", "4.2.2", "4.2.3", "4.2.4", "4.2.5"]
    );
    assert_eq!(
        keys(&index["AutobahnRef"]),
        ["4.1.1", "4.1.2", "4.1.3", "4.1.4"]
    );
    // A folder per agent and the overview.
    assert_eq!(
        read_json(&outdir.join("ref-a/results.json"))["cases"]
            .as_array()
            .map(Vec::len),
        Some(9)
    );
    let overview = std::fs::read_to_string(outdir.join("index.html")).expect("overview");
    assert!(overview.contains("servers tested"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_or_wrong_spec_files_exit_2_with_where() {
    let dir = temp("malformed");
    let file = dir.join("fuzzingclient.json");
    std::fs::write(&file, "{\n  \"cases\": [\"*\"],\n  \"servers\": [\n}\n").expect("write");
    let path = file.to_str().expect("utf-8");
    let out = wsspec(&["run", "--spec", path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{path}:4:1: invalid JSON")),
        "{stderr}"
    );

    // An id without `*` must exist (wstest fails on it too).
    std::fs::write(
        &file,
        r#"{"servers": [{"url": "ws://127.0.0.1:1/"}], "cases": ["9.9.9"]}"#,
    )
    .expect("write");
    let out = wsspec(&["run", "--spec", path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("case `9.9.9` is not in the corpus"),
        "{stderr}"
    );

    // No servers; and --spec with a URL.
    std::fs::write(&file, r#"{"cases": ["*"]}"#).expect("write");
    let out = wsspec(&["run", "--spec", path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`servers` lists no server"));
    let out = wsspec(&["run", "--spec", path, "ws://127.0.0.1:1/"]);
    assert_eq!(out.status.code(), Some(2));
    // A key of the wrong type names the key.
    std::fs::write(&file, r#"{"cases": "1.*", "servers": []}"#).expect("write");
    let out = wsspec(&["run", "--spec", path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`cases` must be a list of strings"));
    // serve: malformed JSON, and a wss:// url.
    std::fs::write(&file, "{\"cases\": [\"*\"] \"url\": 1}").expect("write");
    let out = wsspec(&["serve", "--spec", path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{path}:1:17: invalid JSON")),
        "{stderr}"
    );
    std::fs::write(&file, r#"{"cases": ["*"], "url": "wss://127.0.0.1:9001"}"#).expect("write");
    let out = wsspec(&["serve", "--spec", path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use --listen with the TLS flags"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fuzzingserver_json_drives_serve_with_an_agent_excluded() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dir = temp("server");
    let outdir = dir.join("reports/clients");
    let spec = serde_json::json!({
        "url": format!("ws://127.0.0.1:{port}"),
        "options": {"failByDrop": false},
        "outdir": outdir,
        "webport": 8080,
        "cases": ["4.*"],
        "exclude-cases": ["4.1.5"],
        "exclude-agent-cases": {"skip*": ["4.2.*"]}
    });
    let file = dir.join("fuzzingserver.json");
    std::fs::write(&file, serde_json::to_string_pretty(&spec).expect("JSON")).expect("write");
    let log = std::fs::File::create(dir.join("serve.stderr")).expect("a log file");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(["serve", "--spec", file.to_str().expect("utf-8")])
        .env("CI", "1")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start wsspec serve");
    let up = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(25));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let url = format!("ws://127.0.0.1:{port}");
    let keeper = up.then(|| wsspec(&["reference-client", &url, "--agent", "keeper"]));
    let skipper =
        up.then(|| wsspec(&["reference-client", &url, "--agent", "skipper", "--shutdown"]));
    let exited = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        matches!(serve.try_wait(), Ok(Some(_)))
    });
    if !exited {
        let _ = serve.kill();
    }
    let _ = serve.wait();
    let stderr = std::fs::read_to_string(dir.join("serve.stderr")).unwrap_or_default();
    assert!(up, "serve did not listen on the spec's url: {stderr}");
    for (who, out) in [("keeper", keeper), ("skipper", skipper)] {
        let out = out.expect("ran");
        assert!(
            out.status.success(),
            "{who}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Every agent is told the same count: exclusions apply per case.
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("ran 9 cases"),
            "{who}"
        );
    }
    assert!(exited, "serve did not shut down: {stderr}");
    assert!(stderr.contains("`webport` ignored"), "{stderr}");
    assert!(
        stderr.contains("case 4.2.1 skipped for agent skipper"),
        "{stderr}"
    );
    let index = read_json(&outdir.join("index.json"));
    assert_eq!(
        keys(&index["keeper"]),
        ["4.1.1", "4.1.2", "4.1.3", "4.1.4", "4.2.1", "4.2.2", "4.2.3", "4.2.4", "4.2.5"]
    );
    assert_eq!(
        keys(&index["skipper"]),
        ["4.1.1", "4.1.2", "4.1.3", "4.1.4"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
