//! `wsspec serve` driven by real client libraries through the unchanged kind
//! of driver script projects keep beside their code (tests/peers): Python's
//! `websockets` and Node's `ws`. Their verdicts for groups 1-7 and 10, and for
//! rows 1-5 of the compression groups 12 and 13, must agree with Autobahn's
//! fuzzing server on the same clients (tests/data), up to the cases Autobahn
//! itself flips from run to run; wsspec's own client cases (`cl.*`) and
//! permessage-deflate cases (`pmd.*`) are OK but for the named exceptions.

#[path = "common/harness.rs"]
mod harness;
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
        "1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*", "12.*", "13.*", "cl.*", "pmd.*",
    ];
    let excludes = harness::beyond_ci_args();
    let excludes: Vec<&str> = excludes.iter().map(String::as_str).collect();
    let mut serve = Serve::start(agent, &patterns, &excludes);
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

/// wsspec's permessage-deflate cases for clients (`pmd.*` with the client
/// role): OK, except the listed ones, which must have the given outcome.
fn deflate_cases(results: &serde_json::Value, exceptions: &[(&str, &str)]) {
    let cases = results["cases"].as_array().expect("cases");
    let pmd: Vec<&serde_json::Value> = cases
        .iter()
        .filter(|c| c["id"].as_str().is_some_and(|id| id.starts_with("pmd.")))
        .collect();
    let corpus = wsspec::case::load::load(&wsspec::case::embedded_sources()).expect("corpus");
    let selected = corpus
        .iter()
        .filter(|c| {
            c.spec.id.starts_with("pmd.") && c.spec.roles.contains(&wsspec::case::Role::Client)
        })
        .count();
    assert_eq!(pmd.len(), selected, "every client-role pmd case ran");
    let mut wrong = Vec::new();
    for c in pmd {
        let id = c["id"].as_str().unwrap_or("?");
        let outcome = c["verdict"]["outcome"].as_str().unwrap_or("?");
        let want = exceptions
            .iter()
            .find(|(i, _)| *i == id)
            .map_or("OK", |(_, o)| o);
        if outcome != want {
            let reason = c["verdict"]["behavior_reason"].as_str().unwrap_or("");
            wrong.push(format!("{id}: {outcome}, want {want}: {reason}"));
        }
    }
    assert!(wrong.is_empty(), "pmd cases:\n{}", wrong.join("\n"));
}

/// Whether a case id is one of the compression rows the tests leave out.
fn beyond_ci(id: &str) -> bool {
    harness::COMPRESSION_BEYOND_CI
        .iter()
        .any(|p| wsspec::case::filter::glob_match(p, id))
}

fn agree(index: &serde_json::Value, agent: &str, col: &str, timing: &[&str]) {
    let ours = &index[agent];
    let theirs: Vec<_> = peers::verdict_table("autobahn-client-verdicts.tsv", col)
        .into_iter()
        .filter(|(id, _)| !beyond_ci(id))
        .collect();
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
    // Groups 1-7 and 10 (247 cases) and rows 1-5 of 12 and 13 (60).
    assert_eq!(theirs.len(), 247 + 60);
    // docs/autobahn-differences.md: all agree, up to the timing-dependent
    // cases listed by the caller.
    assert!(
        differ.is_empty(),
        "{agent}: {} of {} differ:\n{}",
        differ.len(),
        theirs.len(),
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
    deflate_cases(&results, &DEFLATE_EXCEPTIONS_EVERY_CLIENT);
}

/// What no client here can be graded on: the 40 MiB message is recorded
/// (INFORMATIONAL by design), and both libraries offer client_max_window_bits,
/// which makes pmd.4.6's answer valid for them (nothing to refuse).
const DEFLATE_EXCEPTIONS_EVERY_CLIENT: [(&str, &str); 2] =
    [("pmd.3.13", "INFORMATIONAL"), ("pmd.4.6", "UNIMPLEMENTED")];

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
    // ws 8.23.0 accepts an answer with permessage-deflate twice and uses the
    // first (docs/known-peer-bugs.md; RFC 7692 5.1 says it MUST fail).
    let mut exceptions = DEFLATE_EXCEPTIONS_EVERY_CLIENT.to_vec();
    exceptions.push(("pmd.4.4", "FAILED"));
    deflate_cases(&results, &exceptions);
}
