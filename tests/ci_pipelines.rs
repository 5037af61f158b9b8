//! The CI pipelines in `ci/` and the GitHub Action (`action.yml`) run for
//! real, not just parsed: `tests/common/ci_runner.rs` runs their shell steps
//! in order with bash as the CI would (expressions, `if:`, the
//! `GITHUB_PATH`/`GITHUB_OUTPUT`/`GITHUB_STEP_SUMMARY` files; the
//! third-party actions recorded and checked to be pinned). The server is
//! wsspec's reference server, started by the pipeline's own `SERVER_CMD`,
//! with `WS_CASES=1.*`; the faults are a server that answers the handshake
//! and then sends garbage, a port where nothing listens and a config file
//! that does not exist, each failing the job with its documented exit code
//! (1, 3, 2). Installing wsspec is a real `cargo install --locked --debug` of
//! this checkout into a temporary root on the warm target folder; the git
//! form (the action's default) runs through a `cargo` shim that records the
//! command line and installs this checkout with its other flags.

#[path = "common/ci_runner.rs"]
mod ci_runner;
#[path = "common/raw_server.rs"]
mod raw_server;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ci_runner::{cargo_shim, repo, run_github, run_gitlab};

/// A free loopback port (bound and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The reference server's command line for a port, as the README says to try
/// a pipeline with it.
fn reference_server(program: &str, port: u16) -> String {
    format!("{program} reference-server --listen 127.0.0.1:{port}")
}

/// A server that answers the upgrade right and then sends garbage: a frame
/// with reserved opcode 0x3 and RSV bits set, then closes.
fn garbage_server() -> String {
    raw_server::serve(Some(Duration::from_secs(5)), |stream, head| {
        if raw_server::switch(stream, head) {
            let _ = stream.write_all(b"\xf3\x05hello garbage \xff\xfe");
            let _ = stream.flush();
        }
    })
}

/// The `n cases: …` summary line's case count.
fn case_count(summary: &str) -> usize {
    summary
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no case count in `{summary}`"))
}

fn junit_testcases(path: &Path) -> (usize, usize) {
    let text = std::fs::read_to_string(path).expect("junit.xml");
    let doc = roxmltree::Document::parse(&text).expect("junit parses");
    let cases = doc.descendants().filter(|n| n.has_tag_name("testcase"));
    let (mut all, mut failing) = (0, 0);
    for c in cases {
        all += 1;
        if c.children()
            .any(|n| n.has_tag_name("failure") || n.has_tag_name("error"))
        {
            failing += 1;
        }
    }
    (all, failing)
}

fn port_closed(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn base_env(port: u16, target: &str, program: &str) -> Vec<(&'static str, String)> {
    vec![
        ("SERVER_BUILD", "true".into()),
        ("SERVER_CMD", reference_server(program, port)),
        ("WS_URL", target.to_string()),
        ("WS_CASES", "1.*".into()),
        ("WS_WAIT", "20".into()),
    ]
}

#[test]
fn github_workflow_with_the_action_passes_against_the_reference_server() {
    let port = free_port();
    let url = format!("ws://127.0.0.1:{port}");
    let mut cargo_log = PathBuf::new();
    let (m, job) = run_github("gh-pass", &base_env(port, &url, "wsspec"), &[], |m| {
        cargo_log = cargo_shim(m);
    });
    assert_eq!(job.failed_with, None, "the job passes:\n{}", m.log);
    assert_eq!(job.outputs["exit-code"], "0", "{}", m.log);

    // The git form of the install: pinned to the ref after the @, cached by it.
    let args = std::fs::read_to_string(&cargo_log).expect("cargo was called");
    let args: Vec<&str> = args.lines().collect();
    let root = job
        .cache
        .first()
        .map(|c| c.0.clone())
        .expect("a cache step ran");
    assert_eq!(
        args,
        [
            "install",
            "--locked",
            "--root",
            root.as_str(),
            "--git",
            "https://github.com/your-org/wsspec",
            "--rev",
            "v0.1.0",
            "wsspec"
        ],
        "{}",
        m.log
    );
    assert!(
        job.cache[0].1.ends_with("-v0.1.0"),
        "cache key {:?}",
        job.cache
    );
    assert!(
        Path::new(&root).join("bin/wsspec").exists(),
        "installed into the cached root"
    );

    // The reports, where the outputs and the pipeline say.
    let summary_line = &job.outputs["summary"];
    let n = case_count(summary_line);
    assert!(
        summary_line.contains(&format!("{n} OK, 0 FAILED")),
        "{summary_line}"
    );
    assert!(n >= 10, "group 1 has more than 10 cases: {summary_line}");
    for (output, file) in [
        ("junit", "reports/junit.xml"),
        ("html", "reports/index.html"),
        ("results", "reports/results.json"),
    ] {
        assert_eq!(job.outputs[output], file);
        assert!(m.file(file).exists(), "{file} written:\n{}", m.log);
    }
    assert!(m.file("reports/console.txt").exists());
    assert!(m.file("reports/server.log").exists());
    assert_eq!(junit_testcases(&m.file("reports/junit.xml")), (n, 0));
    let junit = std::fs::read_to_string(m.file("reports/junit.xml")).expect("junit");
    let doc = roxmltree::Document::parse(&junit).expect("junit parses");
    for case in doc.descendants().filter(|n| n.has_tag_name("testcase")) {
        let name = case.attribute("name").unwrap_or_default();
        assert!(name.starts_with("1."), "only WS_CASES=1.* ran: {name}");
    }
    assert_eq!(job.published_junit, ["reports/junit.xml"]);
    assert_eq!(job.uploaded, ["reports/"]);
    let html = std::fs::read_to_string(m.file("reports/index.html")).expect("html");
    assert!(html.contains("1.1.1"), "the HTML report lists the cases");

    // The job summary has the counts; the server was stopped.
    assert!(
        job.summary.contains("exit code 0, passed"),
        "{}",
        job.summary
    );
    assert!(
        job.summary.contains(summary_line.as_str()),
        "{}",
        job.summary
    );
    assert!(
        !job.summary.contains("| case | outcome |"),
        "{}",
        job.summary
    );
    assert!(port_closed(port), "the action stopped the server");
}

#[test]
fn github_workflow_fails_with_wsspecs_exit_code_on_a_faulty_server() {
    let port = free_port();
    let garbage = garbage_server();
    // The reference server still starts (SERVER_CMD), but the target is the
    // garbage one; this time the action installs from a path, for real.
    let checkout = repo().display().to_string();
    let (m, job) = run_github(
        "gh-faulty",
        &base_env(port, &garbage, "wsspec"),
        &[("path", &checkout), ("install-args", "--debug")],
        |_| {},
    );
    assert_eq!(job.failed_with, Some(1), "{}", m.log);
    assert_eq!(job.outputs["exit-code"], "1");
    assert!(job.cache.is_empty(), "a path install is not cached");
    let n = case_count(&job.outputs["summary"]);
    let (all, failing) = junit_testcases(&m.file("reports/junit.xml"));
    assert_eq!(all, n);
    assert!(failing > 0, "{}", m.log);
    assert!(
        job.summary.contains("exit code 1, a case FAILED"),
        "{}",
        job.summary
    );
    assert!(
        job.summary.contains("| case | outcome | reason |")
            && job.summary.contains("| 1.1.1 | FAILED |"),
        "the summary lists the cases that did not pass:\n{}",
        job.summary
    );
    // Publishing and the upload still run after the failure.
    assert_eq!(job.published_junit, ["reports/junit.xml"]);
    assert_eq!(job.uploaded, ["reports/"]);
    assert!(port_closed(port), "the action stopped the server");
}

#[test]
fn github_workflow_fails_with_3_when_nothing_listens_and_2_on_a_bad_config() {
    let checkout = repo().display().to_string();
    let with = [("path", checkout.as_str()), ("install-args", "--debug")];
    let port = free_port();
    let nothing = format!("ws://127.0.0.1:{}", free_port());
    let mut env = base_env(port, &nothing, "wsspec");
    env.retain(|(k, _)| *k != "WS_WAIT");
    env.push(("WS_WAIT", "1".into()));
    let (m, job) = run_github("gh-unreachable", &env, &with, |_| {});
    assert_eq!(job.failed_with, Some(3), "{}", m.log);
    assert_eq!(job.outputs["exit-code"], "3");
    assert!(
        job.summary
            .contains("exit code 3, the target could not be reached"),
        "{}",
        job.summary
    );
    assert_eq!(
        job.uploaded,
        ["reports/"],
        "the server's log is still uploaded"
    );
    assert!(m.file("reports/server.log").exists());
    assert!(
        port_closed(port),
        "the action stopped the server after the failure"
    );

    // A config file is passed as --config only when set; a missing one is a
    // usage error.
    let port = free_port();
    let url = format!("ws://127.0.0.1:{port}");
    let mut env = base_env(port, &url, "wsspec");
    env.push(("WSSPEC_CONFIG", "no-such-wsspec.toml".into()));
    let (m, job) = run_github("gh-config", &env, &with, |_| {});
    assert_eq!(job.failed_with, Some(2), "{}", m.log);
    assert_eq!(job.outputs["exit-code"], "2");
    let console = std::fs::read_to_string(m.file("reports/console.txt")).expect("console");
    assert!(
        console.contains("--config") || console.contains("no-such-wsspec.toml"),
        "{console}"
    );
    assert!(m.log.contains("--config no-such-wsspec.toml"), "{}", m.log);
    assert!(
        port_closed(port),
        "the action stopped the server after the failure"
    );
}

#[test]
fn gitlab_pipeline_passes_against_the_reference_server_and_fails_on_a_faulty_one() {
    let checkout = repo().display().to_string();
    let install = [
        ("WSSPEC_PATH", checkout.clone()),
        ("WSSPEC_INSTALL_ARGS", "--debug".to_string()),
    ];
    let port = free_port();
    let url = format!("ws://127.0.0.1:{port}");
    let mut vars = base_env(port, &url, ".wsspec/bin/wsspec");
    vars.extend(install.iter().cloned());
    let run = run_gitlab("gl-pass", &vars);
    let m = &run.machine;
    assert_eq!((run.install, run.test), (0, 0), "{}", m.log);
    assert!(
        m.file(".wsspec/bin/wsspec").exists(),
        "the install job's artifact"
    );
    assert_eq!(run.junit, "reports/junit.xml");
    assert_eq!(run.artifacts, [".wsspec/bin/wsspec", "reports/"]);
    for f in [
        "reports/junit.xml",
        "reports/index.html",
        "reports/results.json",
        "reports/console.txt",
        "reports/server.log",
    ] {
        assert!(m.file(f).exists(), "{f}:\n{}", m.log);
    }
    let console = std::fs::read_to_string(m.file("reports/console.txt")).expect("console");
    let line = console
        .lines()
        .find(|l| l.contains(" cases: "))
        .unwrap_or_else(|| panic!("{console}"));
    let n = case_count(line);
    assert!(line.contains(&format!("{n} OK, 0 FAILED")), "{line}");
    assert_eq!(junit_testcases(&m.file("reports/junit.xml")), (n, 0));
    assert!(m.log.contains("wsspec exit code 0"), "{}", m.log);
    assert!(port_closed(port), "after_script stopped the server");

    let port = free_port();
    let garbage = garbage_server();
    let mut vars = base_env(port, &garbage, ".wsspec/bin/wsspec");
    vars.extend(install.iter().cloned());
    let run = run_gitlab("gl-faulty", &vars);
    let m = &run.machine;
    assert_eq!((run.install, run.test), (0, 1), "{}", m.log);
    let (all, failing) = junit_testcases(&m.file(&run.junit));
    assert!(all > 0 && failing > 0, "{}", m.log);
    assert!(port_closed(port), "after_script stopped the server");
}
