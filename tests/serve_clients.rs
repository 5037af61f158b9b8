//! `wsspec serve` driven by real client libraries through the unchanged kind
//! of driver script projects keep beside their code (tests/peers): Python's
//! `websockets` and Node's `ws`. Their verdicts for groups 1-7 and 10 must
//! agree with Autobahn's fuzzing server on the same clients (tests/data), up to
//! the cases Autobahn itself flips from run to run.

#[path = "common/peers.rs"]
mod peers;
#[path = "common/serve_proc.rs"]
mod serve_proc;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use peers::PeerName;
use serve_proc::Serve;

/// Starts `wsspec serve` on a free port, runs the driver, returns index.json
/// and the agent's results.json. The caller has checked that the peer is
/// installed: a driver that fails now fails the test with its output.
fn serve_with(driver: &[&str], agent: &str) -> (serde_json::Value, serde_json::Value) {
    let patterns = [
        "1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*", "cl.*",
    ];
    let mut serve = Serve::start(agent, &patterns, &[]);
    let out = Command::new(driver[0])
        .args(&driver[1..])
        .args([serve.url().as_str(), agent])
        .current_dir(peers::peers_dir())
        .stdin(Stdio::null())
        .output();
    serve.finish(Duration::from_secs(10));
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "client driver {driver:?} failed ({}):\n{}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("client driver {driver:?} could not start: {e}"),
    }
    let index = serve
        .json("index.json")
        .expect("serve wrote index.json after updateReports");
    let results = serve
        .json(PathBuf::from(agent).join("results.json"))
        .expect("serve wrote the agent's results.json");
    serve.remove_reports();
    (index, results)
}

/// wsspec's own client cases (`cl.*`): a correct client is OK on each, except
/// the listed ones, which must be INFORMATIONAL with a reason containing the
/// given words (e.g. a redirect the client followed).
fn client_cases_ok(results: &serde_json::Value, informational: &[(&str, &str)]) {
    let cases = results["cases"].as_array().expect("cases");
    let cl: Vec<&serde_json::Value> = cases
        .iter()
        .filter(|c| c["id"].as_str().is_some_and(|id| id.starts_with("cl.")))
        .collect();
    let corpus = wsspec::case::load::load(&wsspec::case::embedded_sources()).expect("corpus");
    let selected = corpus
        .iter()
        .filter(|c| {
            c.spec.id.starts_with("cl.") && c.spec.roles.contains(&wsspec::case::Role::Client)
        })
        .count();
    assert_eq!(cl.len(), selected, "every cl case ran");
    let mut wrong = Vec::new();
    for c in cl {
        let id = c["id"].as_str().unwrap_or("?");
        let v = &c["verdict"];
        let outcome = v["outcome"].as_str().unwrap_or("?");
        let reason = v["behavior_reason"].as_str().unwrap_or("");
        let fine = match informational.iter().find(|(i, _)| *i == id) {
            Some((_, words)) => outcome == "INFORMATIONAL" && reason.contains(words),
            None => outcome == "OK",
        };
        if !fine {
            wrong.push(format!("{id}: {outcome}: {reason}"));
        }
    }
    assert!(wrong.is_empty(), "client cases:\n{}", wrong.join("\n"));
}

fn agree(index: &serde_json::Value, agent: &str, col: &str, timing: &[&str]) {
    let ours = &index[agent];
    let theirs = peers::verdict_table("autobahn-client-verdicts.tsv", col);
    let mut differ = Vec::new();
    for (id, (b, c)) in &theirs {
        let o = &ours[id.as_str()];
        let (ob, oc) = (
            o["behavior"].as_str().unwrap_or("missing"),
            o["behaviorClose"].as_str().unwrap_or("missing"),
        );
        let flip = timing.contains(&id.as_str()) && oc == c && ["OK", "NON-STRICT"].contains(&ob);
        if (ob, oc) != (b.as_str(), c.as_str()) && !flip {
            differ.push(format!("{id}: wsspec {ob}/{oc}, Autobahn {b}/{c}"));
        }
    }
    assert_eq!(theirs.len(), 247);
    // docs/autobahn-differences.md: all 247 agree, up to the timing-dependent
    // cases listed by the caller.
    assert!(
        differ.is_empty(),
        "{agent}: {} of 247 differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
}

#[test]
fn python_websockets_client_agrees_with_autobahn() {
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if peers::available(PeerName::Websockets, peers::python_websockets_installed()).is_err() {
        return;
    }
    let python = peers::python();
    let (index, results) = serve_with(&[&python, "websockets_fuzz_client.py"], "py-client");
    agree(
        &index,
        "py-client",
        "py-websockets-client",
        &["3.3", "3.4", "4.1.5", "4.2.5"],
    );
    // websockets follows redirects (RFC 6455 4.1 allows it).
    client_cases_ok(
        &results,
        &[
            ("cl.2.12", "followed the redirect"),
            ("cl.2.26", "followed the redirect"),
        ],
    );
}

#[test]
fn node_ws_client_agrees_with_autobahn() {
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if peers::available(PeerName::Ws, peers::node_ws_installed()).is_err() {
        return;
    }
    let (index, results) = serve_with(&["node", "ws_fuzz_client.js"], "node-client");
    agree(&index, "node-client", "ws-node-client", &[]);
    // ws does not follow redirects unless asked to.
    client_cases_ok(&results, &[]);
}
