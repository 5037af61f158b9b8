//! Shared helpers for integration tests: run the embedded corpus (or part of
//! it) against a URL through the library, and summarise outcomes by case id.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::BoxFuture;
use wsspec::case::{self, Case, Selection};
use wsspec::judge::Outcome;
use wsspec::results::RunResults;
use wsspec::run::{Connector, RunOptions, Target, Transport};
use wsspec::suite::{self, SuiteConfig};

/// The embedded corpus's server-role cases that run over HTTP/1.1, filtered
/// by globs (empty = all).
pub fn corpus(include: &[&str]) -> Vec<Case> {
    let all = case::load::load(&case::embedded_sources()).expect("embedded corpus loads");
    let sel = Selection {
        include: include.iter().map(|s| s.to_string()).collect(),
        exclude: COMPRESSION_BEYOND_CI
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };
    all.into_iter()
        .filter(|c| c.spec.roles.contains(&wsspec::case::Role::Server) && sel.selects(&c.spec.id))
        // The RFC 8441 group runs over HTTP/2 only (tests/http2_group.rs).
        .filter(|c| !c.spec.http2_only())
        .collect()
}

/// The rows of Autobahn's compression groups (12, 13) that `cargo test`
/// leaves to the benchmark (docs/benchmarks.md): rows 6-18 of every
/// subgroup, each 1000 messages of 8 KiB to 128 KiB. The tests keep rows 1-5
/// (1000 messages of 16 B to 4 KiB): 60 cases per role.
pub const COMPRESSION_BEYOND_CI: [&str; 10] = [
    "12.*.6", "12.*.7", "12.*.8", "12.*.9", "12.*.1?", "13.*.6", "13.*.7", "13.*.8", "13.*.9",
    "13.*.1?",
];

/// `--exclude` arguments for [`COMPRESSION_BEYOND_CI`], for tests that run
/// the binary.
pub fn beyond_ci_args() -> Vec<String> {
    COMPRESSION_BEYOND_CI
        .iter()
        .flat_map(|p| ["--exclude".to_string(), p.to_string()])
        .collect()
}

/// Runs cases against `url` with default options.
pub fn run(url: &str, cases: &[Case]) -> RunResults {
    run_with(url, cases, RunOptions::default())
}

/// Runs cases against `url` with `options`.
pub fn run_with(url: &str, cases: &[Case], options: RunOptions) -> RunResults {
    run_as(url, cases, options, "test")
}

/// Runs cases against `url` with `options`, naming the target `agent`.
pub fn run_as(url: &str, cases: &[Case], options: RunOptions, agent: &str) -> RunResults {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let config = SuiteConfig {
            target: Target::parse(url).expect("url"),
            agent: agent.into(),
            options,
            jobs: 16,
            strict: false,
            snapshots: None,
            allow: Default::default(),
            strict_allowlist: false,
        };
        suite::run(cases, &config, &mut wsspec::report::Reporters::new())
            .await
            .expect("target reachable")
    })
}

/// Connects every case to a fresh embedded reference server over an
/// in-memory stream (`tokio::io::duplex`) instead of TCP: the transport seam.
#[derive(Debug)]
pub struct InMemoryReference;

impl Connector for InMemoryReference {
    fn connect<'a>(
        &'a self,
        _target: &'a Target,
    ) -> BoxFuture<'a, std::io::Result<Box<dyn Transport>>> {
        Box::pin(async {
            let (client, server) = tokio::io::duplex(256 * 1024);
            tokio::spawn(wsspec::reference::serve_connection(server));
            Ok(Box::new(client) as Box<dyn Transport>)
        })
    }
}

/// Runs cases against the reference server over in-memory streams. The
/// target names a port where nothing listens, so a case that reached for
/// TCP would fail.
pub fn run_in_memory(cases: &[Case]) -> RunResults {
    let options = RunOptions {
        connector: std::sync::Arc::new(InMemoryReference),
        ..RunOptions::default()
    };
    run_with("ws://127.0.0.1:1/", cases, options)
}

/// Starts the embedded reference server on its own runtime thread; returns its URL.
pub fn reference_server() -> (String, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (addr, _task) = rt
        .block_on(wsspec::reference::bind("127.0.0.1:0"))
        .expect("bind");
    (format!("ws://{addr}/"), rt)
}

/// Ids of the cases with the given outcome.
pub fn ids_with(r: &RunResults, outcome: Outcome) -> BTreeSet<String> {
    r.cases
        .iter()
        .filter(|c| c.verdict.outcome == outcome)
        .map(|c| c.id.clone())
        .collect()
}

/// Case id → (behaviour, close verdict) as Autobahn's words.
pub fn verdicts(r: &RunResults) -> BTreeMap<String, (String, String)> {
    r.cases
        .iter()
        .map(|c| {
            (
                c.id.clone(),
                (
                    c.verdict.behavior.as_str().to_string(),
                    c.verdict.close.as_str().to_string(),
                ),
            )
        })
        .collect()
}

/// A readable dump of the cases whose outcome is in `outcomes`, for failure messages.
pub fn explain(r: &RunResults, ids: &BTreeSet<String>) -> String {
    r.cases
        .iter()
        .filter(|c| ids.contains(&c.id))
        .map(|c| {
            format!(
                "  {} {} / {}: {} | close: {}\n",
                c.id,
                c.verdict.behavior.as_str(),
                c.verdict.close.as_str(),
                c.verdict.behavior_reason,
                c.verdict.close_reason
            )
        })
        .collect()
}

/// The ids of the cases `keep` accepts.
pub fn ids(cases: &[Case], keep: impl Fn(&Case) -> bool) -> BTreeSet<String> {
    cases
        .iter()
        .filter(|c| keep(c))
        .map(|c| c.spec.id.clone())
        .collect()
}

/// Each result's snapshot text, by case id, normalized as the CLI does (the
/// case's `timing_dependent` flag looked up in `cases`).
pub fn snapshot_bodies(r: &RunResults, cases: &[Case]) -> BTreeMap<String, String> {
    r.cases
        .iter()
        .map(|c| {
            let timing = cases
                .iter()
                .any(|k| k.spec.id == c.id && k.spec.timing_dependent);
            (
                c.id.clone(),
                wsspec::snapshot::normalize_with(&c.transcript, &c.verdict, timing),
            )
        })
        .collect()
}

/// Copies a folder tree (a stored snapshot folder, say) to `to`.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}
