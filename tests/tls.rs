//! wss:// in both roles: the whole corpus against the reference peer behind
//! TLS gives the stored cleartext snapshots (wsspec as the client) and the
//! cleartext verdicts and snapshots (wsspec as the server, driven by the
//! reference client); Node's `ws` and Python's `websockets` give the same
//! verdicts and snapshots behind TLS as in cleartext, in both roles; an
//! untrusted or mismatched certificate exits 3 with the option to pass; a
//! client certificate is presented when asked; and the transcript tells a
//! TLS connection that ended without close_notify from one that was reset.

#[path = "common/harness.rs"]
mod harness;
#[path = "common/peers.rs"]
mod peers;
#[path = "common/serve_proc.rs"]
mod serve_proc;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;
use wsspec::case::Case;
use wsspec::judge::Outcome;
use wsspec::run::{Acceptor, RunOptions};
use wsspec::tls::self_signed::SelfSigned;
use wsspec::tls::{ClientTlsOptions, TlsAcceptor, TlsConnector};
use wsspec::transcript::EventKind;

use peers::PeerName;
use serve_proc::Serve;

fn wsspec() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsspec"))
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wsspec-tls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// A throwaway CA and a leaf for localhost / 127.0.0.1, on disk.
struct Certs {
    made: SelfSigned,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn certs(dir: &Path) -> Certs {
    let made = SelfSigned::generate(&[]).expect("generate");
    let (ca, cert, key) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    made.write_ca(&ca).expect("write ca");
    made.write_server_files(&cert, &key).expect("write cert");
    Certs {
        made,
        ca,
        cert,
        key,
    }
}

/// The reference server behind TLS on its own runtime; its port.
fn tls_reference_server(acceptor: Arc<dyn Acceptor>) -> (u16, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (addr, _task) = rt
        .block_on(wsspec::reference::bind_with("127.0.0.1:0", acceptor))
        .expect("bind");
    (addr.port(), rt)
}

fn acceptor(c: &Certs) -> Arc<dyn Acceptor> {
    Arc::new(TlsAcceptor::new(c.made.chain.clone(), c.made.key.clone_key()).expect("acceptor"))
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_reference_server_behind_tls_matches_the_stored_cleartext_snapshots() {
    // A whole corpus beside the other whole-corpus runs of this file starved
    // a 2-core CI machine until a handshake outlived its 5 s timeout; one
    // whole run at a time, as for a user.
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp("refsnap");
    let c = certs(&dir);
    let (port, _rt) = tls_reference_server(acceptor(&c));
    let snaps = dir.join("snapshots");
    harness::copy_dir(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots/reference"),
        &snaps,
    );
    let out = wsspec()
        .args(["run", &format!("wss://127.0.0.1:{port}/"), "--ca-cert"])
        .arg(&c.ca)
        .arg("--snapshots")
        .arg(&snaps)
        .arg("--report-dir")
        .arg(dir.join("reports"))
        .args(harness::beyond_ci_args())
        .env("CI", "1")
        .output()
        .expect("run");
    let (stdout, stderr) = text(&out);
    assert!(
        stdout.contains(" 0 new, 0 drift") && stdout.contains(" 0 FAILED"),
        "over TLS the reference server differs from its cleartext snapshots:\n{stdout}\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    // What TLS agreed is in the reports, next to the wire log.
    let json = std::fs::read_to_string(dir.join("reports/results.json")).expect("results.json");
    let results: serde_json::Value = serde_json::from_str(&json).expect("json");
    let first = &results["cases"][0]["transcript"]["events"];
    let tls = first
        .as_array()
        .and_then(|events| events.iter().find(|e| e["event"] == "tls_established"))
        .unwrap_or_else(|| panic!("no tls_established event in {first}"));
    assert_eq!(tls["session"]["protocol"], "TLS 1.3");
    assert!(tls["session"]["cipher"]
        .as_str()
        .is_some_and(|c| c.starts_with("TLS13_")));
    let html = std::fs::read_to_string(dir.join("reports/index.html")).expect("index.html");
    assert!(html.contains("TLS established: TLS 1.3, TLS13_"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every verdict in an agent's results.json, by case id.
fn verdicts_in(results: &serde_json::Value) -> BTreeMap<String, String> {
    results["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or("?").to_string(),
                format!("{}/{}", c["verdict"]["behavior"], c["verdict"]["close"]),
            )
        })
        .collect()
}

/// What a client driver got from `wsspec serve` in cleartext and behind TLS.
struct Twice {
    plain: BTreeMap<String, String>,
    tls: BTreeMap<String, String>,
    /// Cases whose stored snapshot differs between the two runs.
    snapshot_drift: Vec<String>,
    snapshots: usize,
}

/// Runs a client driver against two `wsspec serve`s at once, one in
/// cleartext and one behind TLS, each storing its snapshots; both runs'
/// verdicts and the snapshots that differ.
fn serve_twice(
    name: &str,
    patterns: &[&str],
    excludes: &[String],
    driver: impl Fn(&str, &Path) -> Output + Sync,
) -> Twice {
    let dir = temp(name);
    let ca = dir.join("serve-ca.pem");
    let agent = "tls-agent";
    let snaps = |secure: bool| dir.join(format!("snapshots-{secure}"));
    let run = |secure: bool| {
        let mut extra: Vec<String> = excludes.to_vec();
        extra.extend([
            "--snapshots".into(),
            snaps(secure).display().to_string(),
            "--snapshots-update".into(),
        ]);
        if secure {
            extra.extend([
                "--tls-self-signed".into(),
                "--tls-ca-out".into(),
                ca.display().to_string(),
            ]);
        }
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let mut serve = Serve::start(&format!("{name}-{secure}"), patterns, &extra);
        let scheme = if secure { "wss" } else { "ws" };
        let out = driver(&format!("{scheme}://{}", serve.host()), &ca);
        let code = serve.finish(Duration::from_secs(30));
        let (o, e) = text(&out);
        assert!(out.status.success(), "driver failed ({scheme}):\n{o}\n{e}");
        // 1 when the client failed a case (real peers have known faults).
        assert!(
            matches!(code, Some(0 | 1)),
            "serve ({scheme}) exit {code:?}:\n{}\n{}",
            serve.stdout(),
            serve.stderr()
        );
        let results = serve
            .json(PathBuf::from(agent).join("results.json"))
            .expect("the agent's results.json");
        serve.remove_reports();
        verdicts_in(&results)
    };
    let (plain, tls) = std::thread::scope(|s| {
        let plain = s.spawn(|| run(false));
        // The TLS serve writes its CA before it listens.
        let tls = run(true);
        (plain.join().expect("cleartext run"), tls)
    });
    let stored = |secure: bool| -> BTreeMap<String, String> {
        let folder = snaps(secure).join(agent).join("client");
        std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
            .flatten()
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read_to_string(e.path()).expect("snapshot"),
                )
            })
            .collect()
    };
    let (a, b) = (stored(false), stored(true));
    let snapshot_drift = a
        .iter()
        .filter(|(file, body)| b.get(*file) != Some(*body))
        .map(|(file, body)| format!("{file}:\n--- cleartext\n{body}\n--- TLS\n{:?}", b.get(file)))
        .collect();
    assert_eq!(a.len(), b.len(), "snapshot counts differ");
    let _ = std::fs::remove_dir_all(&dir);
    Twice {
        plain,
        tls,
        snapshot_drift,
        snapshots: a.len(),
    }
}

/// The cases whose verdict depends on timing (`timing_dependent`): their
/// snapshots, which are compared, name the verdicts they allow.
fn timing_dependent() -> std::collections::BTreeSet<String> {
    wsspec::case::load::load(&wsspec::case::embedded_sources())
        .expect("corpus")
        .into_iter()
        .filter(|c| c.spec.timing_dependent)
        .map(|c| c.spec.id)
        .collect()
}

fn assert_no_drift(what: &str, twice: &Twice) {
    assert_eq!(
        twice.snapshots,
        twice.plain.len(),
        "{what}: a snapshot per case"
    );
    assert!(
        twice.snapshot_drift.is_empty(),
        "{what}: snapshots differ behind TLS:\n{}",
        twice.snapshot_drift.join("\n")
    );
}

fn assert_same(what: &str, plain: &BTreeMap<String, String>, tls: &BTreeMap<String, String>) {
    let timing = timing_dependent();
    let differ: Vec<String> = plain
        .iter()
        .filter(|(id, v)| !timing.contains(*id) && tls.get(*id) != Some(*v))
        .map(|(id, v)| format!("{id}: cleartext {v}, TLS {:?}", tls.get(id)))
        .collect();
    assert_eq!(plain.len(), tls.len(), "{what}: case counts differ");
    assert!(
        differ.is_empty(),
        "{what}: verdicts differ behind TLS:\n{}",
        differ.join("\n")
    );
}

#[test]
fn serve_behind_tls_gives_the_reference_client_its_cleartext_verdicts_and_snapshots() {
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let excludes = harness::beyond_ci_args();
    let twice = serve_twice("refclient", &["*"], &excludes, |url, ca| {
        let mut c = wsspec();
        c.args([
            "reference-client",
            url,
            "--agent",
            "tls-agent",
            "--shutdown",
        ]);
        if url.starts_with("wss:") {
            c.arg("--ca-cert").arg(ca);
        }
        c.stdin(Stdio::null()).output().expect("reference-client")
    });
    let Twice { plain, tls, .. } = &twice;
    assert!(
        plain.len() > 400,
        "the whole client corpus: {}",
        plain.len()
    );
    assert_same("reference client", plain, tls);
    assert_no_drift("reference client", &twice);
    let bad: Vec<&String> = tls
        .iter()
        .filter(|(_, v)| v.contains("FAILED") || v.contains("ERROR"))
        .map(|(id, _)| id)
        .collect();
    assert!(bad.is_empty(), "reference client over TLS: {bad:?}");
}

/// The cases compared with real peers in both roles: everything but the
/// performance group and all but the first row of each compression subgroup
/// (their cost is the peer's compression, not TLS), and pmd.3.13 (40 MiB).
fn peer_selection() -> Vec<String> {
    let mut patterns = vec!["9.*".to_string(), "pmd.3.13".to_string()];
    for group in ["12", "13"] {
        patterns.push(format!("{group}.*.1?"));
        patterns.extend((2..=9).map(|row| format!("{group}.*.{row}")));
    }
    patterns
        .into_iter()
        .flat_map(|p| ["--exclude".to_string(), p])
        .collect()
}

fn selected_cases() -> Vec<Case> {
    harness::corpus(&[])
        .into_iter()
        .filter(|c| {
            let id = c.spec.id.as_str();
            let compression = id.starts_with("12.") || id.starts_with("13.");
            !id.starts_with("9.") && (!compression || id.ends_with(".1")) && id != "pmd.3.13"
        })
        .collect()
}

/// A real server peer started twice, in cleartext and behind TLS (the same
/// script with TLS_CERT and TLS_KEY): the selected cases give the same
/// verdicts and the same snapshot bodies.
fn server_peer_agrees(name: PeerName, program: &str, script: &str, installed: Result<(), String>) {
    if peers::available(name, installed).is_err() {
        return;
    }
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp(name.as_str());
    let c = certs(&dir);
    let plain = peers::spawn(program, &[script, "0"], &[]).expect("cleartext peer");
    let env = [
        ("TLS_CERT", c.cert.display().to_string()),
        ("TLS_KEY", c.key.display().to_string()),
    ];
    let secure = peers::spawn(program, &[script, "0"], &env).expect("TLS peer");
    let secure_url = secure.url.replacen("ws://", "wss://", 1);
    let cases = selected_cases();
    let options = RunOptions {
        connector: Arc::new(
            TlsConnector::new(&ClientTlsOptions {
                ca_certs: vec![c.ca.clone()],
                ..ClientTlsOptions::default()
            })
            .expect("connector"),
        ),
        ..RunOptions::default()
    };
    // Both at once: each peer is a process of its own.
    let (cleartext, tls) = std::thread::scope(|s| {
        let cleartext = s.spawn(|| harness::run(&plain.url, &cases));
        let tls = harness::run_with(&secure_url, &cases, options);
        (cleartext.join().expect("cleartext run"), tls)
    });
    let to_map = |r: &wsspec::results::RunResults| -> BTreeMap<String, String> {
        harness::verdicts(r)
            .into_iter()
            .map(|(id, (b, c))| (id, format!("{b}/{c}")))
            .collect()
    };
    assert_same(name.as_str(), &to_map(&cleartext), &to_map(&tls));
    let (a, b) = (
        harness::snapshot_bodies(&cleartext, &cases),
        harness::snapshot_bodies(&tls, &cases),
    );
    let drift: Vec<String> = a
        .iter()
        .filter(|(id, body)| b.get(*id) != Some(*body))
        .map(|(id, body)| format!("{id}:\n--- cleartext\n{body}\n--- TLS\n{:?}", b.get(id)))
        .collect();
    assert!(
        drift.is_empty(),
        "{}: snapshots differ behind TLS:\n{}",
        name.as_str(),
        drift.join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn node_ws_server_behind_tls_gives_its_cleartext_verdicts_and_snapshots() {
    server_peer_agrees(
        PeerName::Ws,
        "node",
        "ws-echo-server.js",
        peers::node_ws_installed(),
    );
}

#[test]
fn python_websockets_server_behind_tls_gives_its_cleartext_verdicts_and_snapshots() {
    server_peer_agrees(
        PeerName::Websockets,
        &peers::python(),
        "websockets_echo_server.py",
        peers::python_websockets_installed(),
    );
}

/// A real client driver against serve, in cleartext and behind TLS (the
/// driver trusts the throwaway CA through TLS_CA).
fn client_peer_agrees(name: PeerName, program: &str, script: &str, installed: Result<(), String>) {
    if peers::available(name, installed).is_err() {
        return;
    }
    let _serial = peers::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let twice = serve_twice(
        &format!("client-{}", name.as_str()),
        &["*"],
        &peer_selection(),
        |url, ca| {
            let mut c = Command::new(program);
            c.args([script, url, "tls-agent"]);
            if url.starts_with("wss:") {
                c.env("TLS_CA", ca);
            }
            c.current_dir(peers::peers_dir())
                .stdin(Stdio::null())
                .output()
                .expect("driver")
        },
    );
    let n = twice.plain.len();
    assert!(n > 300, "{}: {n} cases", name.as_str());
    assert_same(name.as_str(), &twice.plain, &twice.tls);
    assert_no_drift(name.as_str(), &twice);
}

#[test]
fn node_ws_client_behind_tls_gives_its_cleartext_verdicts_and_snapshots() {
    client_peer_agrees(
        PeerName::Ws,
        "node",
        "ws_fuzz_client.js",
        peers::node_ws_installed(),
    );
}

#[test]
fn python_websockets_client_behind_tls_gives_its_cleartext_verdicts_and_snapshots() {
    client_peer_agrees(
        PeerName::Websockets,
        &peers::python(),
        "websockets_fuzz_client.py",
        peers::python_websockets_installed(),
    );
}

#[test]
fn certificate_problems_exit_3_and_name_the_option_to_pass() {
    let dir = temp("certerr");
    let c = certs(&dir);
    let (port, _rt) = tls_reference_server(acceptor(&c));
    let run = |url: String, extra: &[&str]| {
        let out = wsspec()
            .args(["run", &url, "--cases", "1.1.1", "--report-dir"])
            .arg(dir.join("reports"))
            .args(extra)
            .env("CI", "1")
            .output()
            .expect("run");
        let (o, e) = text(&out);
        (out.status.code(), format!("{o}{e}"))
    };
    let ca = c.ca.display().to_string();
    let url = format!("wss://127.0.0.1:{port}/");

    // Trusted: OK.
    let (code, said) = run(url.clone(), &["--ca-cert", &ca]);
    assert_eq!(code, Some(0), "{said}");
    // An unknown CA (the system's roots do not hold the throwaway one).
    let (code, said) = run(url.clone(), &[]);
    assert_eq!(code, Some(3), "{said}");
    assert!(
        said.contains("not trusted") && said.contains("--ca-cert FILE"),
        "{said}"
    );
    // A name the certificate does not hold.
    let (code, said) = run(
        url.clone(),
        &["--ca-cert", &ca, "--servername", "other.example"],
    );
    assert_eq!(code, Some(3), "{said}");
    assert!(
        said.contains("not valid for `other.example`") && said.contains("--servername NAME"),
        "{said}"
    );
    // --insecure accepts it anyway.
    let (code, said) = run(
        url.clone(),
        &["--insecure", "--servername", "other.example"],
    );
    assert_eq!(code, Some(0), "{said}");
    // Usage errors exit 2, with what is wrong.
    let (code, said) = run(url.clone(), &["--ca-cert", "/nonexistent/ca.pem"]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("/nonexistent/ca.pem"), "{said}");
    let (code, said) = run(url.clone(), &["--ca-cert", &c.key.display().to_string()]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("no CA certificate in PEM form"), "{said}");
    let (code, said) = run(url.clone(), &["--client-cert", &ca]);
    assert_eq!(code, Some(2), "{said}");
    let (code, said) = run(format!("ws://127.0.0.1:{port}/"), &["--insecure"]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("need a wss:// or h2:// URL"), "{said}");
    // TLS to a server that speaks none: exit 3, no panic.
    let (plain_url, _plain_rt) = harness::reference_server();
    let (code, said) = run(plain_url.replacen("ws://", "wss://", 1), &["--insecure"]);
    assert_eq!(code, Some(3), "{said}");
    assert!(!said.contains("panicked"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_client_certificate_is_presented_when_the_server_asks() {
    let dir = temp("clientcert");
    let server = certs(&dir.join("server"));
    let client = certs(&dir.join("client"));
    // A server that wants a certificate signed by the client CA.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(client.made.chain[1].clone()).expect("client CA");
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .expect("verifier");
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(server.made.chain.clone(), server.made.key.clone_key())
        .expect("config");
    let (port, _rt) = tls_reference_server(Arc::new(ClientAuth(Arc::new(config))));
    let url = format!("wss://127.0.0.1:{port}/");
    let cases = harness::corpus(&["1.1.1", "2.2"]);
    let with = |identity: Option<&Certs>| {
        let options = ClientTlsOptions {
            ca_certs: vec![server.ca.clone()],
            client_cert: identity.map(|c| c.cert.clone()),
            client_key: identity.map(|c| c.key.clone()),
            ..ClientTlsOptions::default()
        };
        let options = RunOptions {
            connector: Arc::new(TlsConnector::new(&options).expect("connector")),
            ..RunOptions::default()
        };
        harness::run_with(&url, &cases, options)
    };
    let presented = with(Some(&client));
    assert!(
        presented
            .cases
            .iter()
            .all(|c| c.verdict.outcome == Outcome::Ok),
        "{:?}",
        harness::verdicts(&presented)
    );
    // Without one, the server ends every connection: nothing is OK.
    let refused = with(None);
    assert!(
        refused
            .cases
            .iter()
            .all(|c| c.verdict.outcome != Outcome::Ok),
        "{:?}",
        harness::verdicts(&refused)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A TLS acceptor with a server configuration of the test's own.
#[derive(Debug)]
struct ClientAuth(Arc<rustls::ServerConfig>);

impl Acceptor for ClientAuth {
    fn accept(
        &self,
        tcp: tokio::net::TcpStream,
    ) -> futures_util::future::BoxFuture<'_, std::io::Result<Box<dyn wsspec::run::Transport>>> {
        Box::pin(async move {
            let tls = tokio_rustls::TlsAcceptor::from(self.0.clone())
                .accept(tcp)
                .await?;
            Ok(Box::new(tls) as Box<dyn wsspec::run::Transport>)
        })
    }
}

/// How the raw TLS peer below ends each connection after its 101.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// close_notify, then FIN.
    CloseNotify,
    /// FIN without close_notify.
    TcpClose,
    /// RST.
    Reset,
}

/// A TLS server that answers the opening handshake and then ends the
/// connection as `ending` says, without a WebSocket close.
fn ending_server(c: &Certs, ending: Ending) -> (u16, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(c.made.chain.clone(), c.made.key.clone_key())
            .expect("config"),
    ));
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let key = wsspec::wire::handshake::request_key(&head).unwrap_or_default();
                let answer = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                    wsspec::wire::handshake::accept_for(&key)
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.flush().await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                match ending {
                    Ending::CloseNotify => {
                        let _ = tls.shutdown().await;
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    Ending::TcpClose => {
                        let (mut tcp, _) = tls.into_inner();
                        let _ = tcp.shutdown().await;
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    Ending::Reset => {
                        let (tcp, _) = tls.into_inner();
                        let _ = tcp.set_zero_linger();
                    }
                }
            });
        }
    });
    (port, rt)
}

#[test]
fn the_transcript_tells_a_missing_close_notify_from_a_reset() {
    let dir = temp("endings");
    let c = certs(&dir);
    let cases = harness::corpus(&["1.1.1"]);
    let ends = |ending: Ending| -> Vec<EventKind> {
        let (port, _rt) = ending_server(&c, ending);
        let options = RunOptions {
            connector: Arc::new(
                TlsConnector::new(&ClientTlsOptions {
                    ca_certs: vec![c.ca.clone()],
                    ..ClientTlsOptions::default()
                })
                .expect("connector"),
            ),
            ..RunOptions::default()
        };
        let r = harness::run_with(&format!("wss://127.0.0.1:{port}/"), &cases, options);
        r.cases[0]
            .transcript
            .events
            .iter()
            .map(|e| e.kind.clone())
            .filter(|k| {
                matches!(
                    k,
                    EventKind::PeerEof | EventKind::NoCloseNotify | EventKind::SocketError { .. }
                )
            })
            .collect()
    };
    let graceful = ends(Ending::CloseNotify);
    assert_eq!(graceful, vec![EventKind::PeerEof], "close_notify then FIN");
    let unclean = ends(Ending::TcpClose);
    assert_eq!(
        unclean,
        vec![EventKind::NoCloseNotify, EventKind::PeerEof],
        "FIN without close_notify"
    );
    let reset = ends(Ending::Reset);
    assert!(
        matches!(reset.as_slice(), [EventKind::SocketError { .. }]),
        "a reset: {reset:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn alpn_is_offered_and_what_was_agreed_is_recorded() {
    let dir = temp("alpn");
    let c = certs(&dir);
    let server = TlsAcceptor::new(c.made.chain.clone(), c.made.key.clone_key())
        .expect("acceptor")
        .with_alpn(&["http/1.1"]);
    let (port, _rt) = tls_reference_server(Arc::new(server));
    let cases = harness::corpus(&["1.1.1"]);
    let agreed = |alpn: &[&str]| {
        let options = RunOptions {
            connector: Arc::new(
                TlsConnector::new(&ClientTlsOptions {
                    ca_certs: vec![c.ca.clone()],
                    alpn: alpn.iter().map(|p| p.to_string()).collect(),
                    ..ClientTlsOptions::default()
                })
                .expect("connector"),
            ),
            ..RunOptions::default()
        };
        let r = harness::run_with(&format!("wss://localhost:{port}/"), &cases, options);
        assert_eq!(r.cases[0].verdict.outcome, Outcome::Ok);
        r.cases[0]
            .transcript
            .events
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::TlsEstablished { session } => Some(session.alpn.clone()),
                _ => None,
            })
    };
    assert_eq!(agreed(&["h2", "http/1.1"]), Some(Some("http/1.1".into())));
    assert_eq!(agreed(&[]), Some(None), "nothing offered, nothing agreed");
    let _ = std::fs::remove_dir_all(&dir);
}
