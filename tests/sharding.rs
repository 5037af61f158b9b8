//! Sharding across CI jobs: `run --partition K/N` runs a stable share of the
//! selection (performance cases spread evenly), and `wsspec merge` joins
//! the shards into reports identical to an unsharded run's except for the
//! timing fields: the run's `started_unix` and `wall_ms`, each case's
//! `duration_ms` and its events' `at_us` and `duration_us` in results.json;
//! `time` and `timestamp` in JUnit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wsspec-shard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn wsspec(args: &[&str], report_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(args)
        .arg("--report-dir")
        .arg(report_dir)
        .env("CI", "1")
        .output()
        .expect("wsspec")
}

/// results.json without its timing fields.
fn untimed_results(dir: &Path) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for key in [
                    "started_unix",
                    "wall_ms",
                    "duration_ms",
                    "at_us",
                    "duration_us",
                ] {
                    map.remove(key);
                }
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let text = std::fs::read_to_string(dir.join("results.json")).expect("results.json");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    strip(&mut v);
    v
}

/// junit.xml as its consumers see it, without the timing: every element
/// with its attributes but `time` and `timestamp`, and its text with the
/// wire log's times (`12.345 ms`) masked.
fn untimed_junit(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("junit.xml")).expect("junit.xml");
    let doc = roxmltree::Document::parse(&text).expect("junit.xml parses");
    doc.descendants()
        .filter(|n| n.is_element())
        .map(|n| {
            let attrs: Vec<String> = n
                .attributes()
                .filter(|a| !matches!(a.name(), "time" | "timestamp"))
                .map(|a| format!("{}={}", a.name(), a.value()))
                .collect();
            let body: String = n
                .children()
                .filter_map(|c| c.text())
                .collect::<String>()
                .split_whitespace()
                .map(|w| {
                    if w.chars().all(|c| c.is_ascii_digit() || c == '.') && w.contains('.') {
                        "#"
                    } else {
                        w
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            format!("<{} {}> {body}", n.tag_name().name(), attrs.join(" "))
        })
        .collect()
}

#[test]
fn shards_merge_into_the_unsharded_runs_reports() {
    let dir = temp("merge");
    // One server for every run, so the target is the same.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(["reference-server", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("reference-server");
    let url = format!("ws://127.0.0.1:{port}/");
    let up = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(25));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up);
    // Deterministic cases, performance ones among them (9.1.x, 9.7.x).
    let selection = [
        "--cases", "1.*", "--cases", "2.*", "--cases", "3.*", "--cases", "5.*", "--cases", "7.1.*",
        "--cases", "9.1.*", "--cases", "9.7.*",
    ];
    let whole = dir.join("whole");
    let mut args = vec!["run", url.as_str()];
    args.extend(selection);
    let out = wsspec(&args, &whole);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let n = 3;
    let mut shard_dirs = Vec::new();
    let mut perf_per_shard = Vec::new();
    for k in 1..=n {
        let shard = dir.join(format!("shard-{k}"));
        let part = format!("{k}/{n}");
        let mut args = vec!["run", url.as_str(), "--partition", part.as_str()];
        args.extend(selection);
        let out = wsspec(&args, &shard);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let results = untimed_results(&shard);
        let perf = results["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .filter(|c| c["performance"] == true)
            .count();
        perf_per_shard.push(perf);
        shard_dirs.push(shard);
    }
    let _ = server.kill();
    let _ = server.wait();
    // 9.1.1–9.1.6 and 9.7.1–9.7.6: four performance cases per shard.
    assert_eq!(perf_per_shard, vec![4, 4, 4]);

    let merged = dir.join("merged");
    let mut args: Vec<&str> = vec!["merge"];
    let names: Vec<String> = shard_dirs.iter().map(|d| d.display().to_string()).collect();
    // Shards given in any order.
    args.extend(names.iter().rev().map(String::as_str));
    let out = wsspec(&args, &merged);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains(" 0 FAILED"), "{said}");

    // Real runs differ in their timing-dependent transcripts, so here the
    // verdicts, in order, and the counts must agree.
    let verdicts = |dir: &Path| -> Vec<(String, String)> {
        untimed_results(dir)["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .map(|c| (c["id"].to_string(), c["verdict"]["outcome"].to_string()))
            .collect()
    };
    assert_eq!(verdicts(&merged), verdicts(&whole));
    assert_eq!(
        untimed_results(&merged)["counts"],
        untimed_results(&whole)["counts"]
    );
    let (a, b) = (untimed_junit(&merged), untimed_junit(&whole));
    assert_eq!(a.len(), b.len(), "JUnit elements");

    // Merge itself loses nothing: the unsharded run's own results, dealt
    // into shards, merge back into byte-identical reports.
    let text = std::fs::read_to_string(whole.join("results.json")).expect("results.json");
    let all: serde_json::Value = serde_json::from_str(&text).expect("json");
    let mut dealt = Vec::new();
    for k in 0..n {
        let mut shard = all.clone();
        let cases: Vec<serde_json::Value> = all["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .enumerate()
            .filter(|(i, _)| i % n == k)
            .map(|(_, c)| c.clone())
            .collect();
        shard["cases"] = serde_json::Value::Array(cases);
        shard["counts"] = serde_json::json!({});
        if k > 0 {
            // Later and shorter than the first: the merged run keeps the
            // earliest start and the longest wall time.
            shard["started_unix"] =
                serde_json::json!(all["started_unix"].as_u64().unwrap_or(0) + 5);
            shard["wall_ms"] = serde_json::json!(all["wall_ms"].as_f64().unwrap_or(0.0) / 2.0);
        }
        let file = dir.join(format!("dealt-{k}.json"));
        std::fs::write(&file, serde_json::to_string(&shard).expect("json")).expect("write");
        dealt.push(file.display().to_string());
    }
    let remerged = dir.join("remerged");
    let mut args: Vec<&str> = vec!["merge"];
    args.extend(dealt.iter().map(String::as_str));
    let out = wsspec(&args, &remerged);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in ["results.json", "junit.xml", "index.html"] {
        let (x, y) = (
            std::fs::read_to_string(remerged.join(file)).expect("merged file"),
            std::fs::read_to_string(whole.join(file)).expect("whole file"),
        );
        if x != y {
            let at = x
                .bytes()
                .zip(y.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(x.len().min(y.len()));
            let from = at.saturating_sub(300);
            panic!(
                "{file}: merged reports differ from the unsharded run's at byte {at}:\nmerged: …{}\nwhole:  …{}",
                String::from_utf8_lossy(&x.as_bytes()[from..(at + 200).min(x.len())]),
                String::from_utf8_lossy(&y.as_bytes()[from..(at + 200).min(y.len())])
            );
        }
    }

    // A shard twice, or shards of different runs, are refused.
    let twice = wsspec(&["merge", &names[0], &names[0]], &dir.join("x"));
    assert_eq!(twice.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("more than one shard"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn partition_is_checked() {
    let dir = temp("bad");
    for bad in ["0/2", "3/2", "x"] {
        let out = wsspec(&["run", "--partition", bad, "--cases", "1.1.1"], &dir);
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
    // More shards than cases: an empty shard says so.
    let out = wsspec(&["run", "--partition", "3/3", "--cases", "1.1.1"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shard 3/3 holds no case"));
    let _ = std::fs::remove_dir_all(&dir);
}
