//! `wsspec serve` against deliberately faulty clients (tests/common/
//! faulty_client.rs, an in-process raw-socket echo client). With no fault
//! nothing fails; each fault fails exactly the cases it breaks, derived from
//! the fault's meaning and the cases' own expectations.

#[path = "common/faulty_client.rs"]
mod faulty_client;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use faulty_client::{drive, ClientFault};
use wsspec::case::{Case, Closer, Role};

const GROUPS: [&str; 8] = ["1", "2", "3", "4", "5", "6", "7", "10"];

/// The client-role cases `serve` selects with the groups above.
fn selected() -> Vec<Case> {
    let cases = wsspec::case::load::load(&wsspec::case::embedded_sources()).expect("corpus");
    cases
        .into_iter()
        .filter(|c| {
            c.spec.roles.contains(&Role::Client)
                && GROUPS.contains(&c.spec.id.split('.').next().unwrap_or(""))
        })
        .collect()
}

fn ids(cases: &[Case], keep: impl Fn(&Case) -> bool) -> BTreeSet<String> {
    cases
        .iter()
        .filter(|c| keep(c))
        .map(|c| c.spec.id.clone())
        .collect()
}

/// Starts `wsspec serve` on a free port, drives it with the faulty client,
/// returns the ids of the failed cases (behavior FAILED, or behaviorClose
/// FAILED / WRONG CODE / UNCLEAN) and how many cases were reported.
fn failed_with(fault: ClientFault, agent: &str) -> (BTreeSet<String>, usize) {
    let started = std::time::Instant::now();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let dir = std::env::temp_dir().join(format!("wsspec-faulty-{agent}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut serve = Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--report-dir",
        ])
        .arg(&dir)
        .args(
            GROUPS
                .iter()
                .flat_map(|g| ["--cases".to_string(), format!("{g}.*")]),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let up = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "wsspec serve did not start listening");
    let host = format!("127.0.0.1:{port}");
    let agent_name = agent.to_string();
    let driver = std::thread::spawn(move || drive(&host, &agent_name, fault));
    let drove = driver.join();
    let finished = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        matches!(serve.try_wait(), Ok(Some(_)))
    });
    if !finished {
        let _ = serve.kill();
    }
    let _ = serve.wait();
    assert!(drove.is_ok(), "the client driver panicked");
    let text = std::fs::read_to_string(dir.join("index.json"))
        .expect("serve wrote index.json after updateReports");
    let index: serde_json::Value = serde_json::from_str(&text).expect("index.json");
    let cases = index[agent].as_object().expect("agent in index.json");
    let bad_close = ["FAILED", "WRONG CODE", "UNCLEAN"];
    let mut failed: BTreeSet<String> = cases
        .iter()
        .filter(|(_, v)| {
            v["behavior"] == "FAILED"
                || bad_close.contains(&v["behaviorClose"].as_str().unwrap_or(""))
        })
        .map(|(id, _)| id.clone())
        .collect();
    // Cases without an Autobahn id (wsspec's own) are not in index.json; the
    // agent's results.json has them all.
    let results = std::fs::read_to_string(dir.join(agent).join("results.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
    let mut reported = cases.len();
    if let Some(all) = results.as_ref().and_then(|r| r["cases"].as_array()) {
        reported = all.len();
        for c in all {
            let v = &c["verdict"];
            if v["behavior"] == "FAILED" || bad_close.contains(&v["close"].as_str().unwrap_or("")) {
                failed.insert(c["id"].as_str().unwrap_or("?").to_string());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "{fault:?}: {} of {reported} failed in {:.1} s: {failed:?}",
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    (failed, reported)
}

fn assert_same(fault: &str, got: &BTreeSet<String>, want: &BTreeSet<String>) {
    let extra: Vec<_> = got.difference(want).collect();
    let missing: Vec<_> = want.difference(got).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{fault}: failed but not expected {extra:?}; expected but not failed {missing:?}"
    );
}

#[test]
fn correct_client_fails_nothing() {
    let all = selected();
    let (failed, reported) = failed_with(ClientFault::None, "fc-none");
    assert_eq!(reported, all.len(), "every selected case ran");
    // A correct client fails nothing. (6.4.x: this client validates UTF-8 per
    // whole frame, which those cases grade NON-STRICT, not FAILED.)
    assert_same("None", &failed, &BTreeSet::new());
}

#[test]
fn unmasked_client_frames_fail_every_case() {
    let all = selected();
    let (failed, _) = failed_with(ClientFault::UnmaskedFrames, "fc-unmasked");
    // Every case ends with the client sending at least a close frame (an
    // answer to wsspec's close or its own), and wsspec fails any unmasked
    // client frame (RFC 6455 5.1).
    assert_same("UnmaskedFrames", &failed, &ids(&all, |_| true));
}

#[test]
fn no_utf8_check_fails_the_invalid_utf8_cases() {
    let all = selected();
    let (failed, _) = failed_with(ClientFault::NoUtf8Check, "fc-noutf8");
    // The group-6 cases that expect the client to fail with 1007: it echoes
    // the invalid text instead (RFC 6455 8.1). Close reasons (7.5.1) are still
    // checked by this client, so group 7 is unaffected.
    let want = ids(&all, |c| {
        c.spec.id.starts_with("6.") && c.spec.expect.close.codes.contains(&1007)
    });
    assert_eq!(want.len(), 75, "the invalid-UTF-8 cases of group 6");
    assert_same("NoUtf8Check", &failed, &want);
}

#[test]
fn never_echoing_close_fails_the_clean_close_cases() {
    let all = selected();
    let (failed, _) = failed_with(ClientFault::NeverEchoClose, "fc-noclose");
    // Where wsspec starts the close and requires a clean closing handshake,
    // a client that never answers leaves it UNCLEAN (RFC 6455 5.5.1: the
    // endpoint MUST send a close frame in response). Where wsspec closes with
    // a bad close frame (7.3.2, 7.3.6, 7.5.1, 7.9.x, 7.13.x) no clean close is
    // required and "no close frame" is an accepted answer, so silence passes;
    // where the client must fail the connection itself, it closes first and
    // never needs to answer a close. Informational cases (7.1.6: a close
    // queued behind a 256 KiB message) record the missing close but do not
    // grade it.
    let want = ids(&all, |c| {
        c.spec.expect.close.by == Closer::Harness
            && c.spec.expect.close.clean
            && !c.spec.informational
    });
    assert!(!want.is_empty());
    assert_same("NeverEchoClose", &failed, &want);
}

#[test]
fn fixed_mask_key_is_caught() {
    let (failed, _) = failed_with(ClientFault::FixedMaskKey, "fc-fixedkey");
    // RFC 6455 5.3: the masking key MUST be a fresh, unpredictable value for
    // every frame. wsspec flags one key reused for all of a client's frames
    // once there are at least 8 of them: 2.10 and 2.11 (10 pings answered
    // with 10 pongs, then the close) are such cases. Every other case has the
    // client send too few frames to tell a fixed key from chance.
    assert!(
        !failed.is_empty(),
        "no case noticed a client that masks every frame with the same key"
    );
    for id in ["2.10", "2.11"] {
        assert!(
            failed.contains(id),
            "{id} did not catch the fixed key: {failed:?}"
        );
    }
}
