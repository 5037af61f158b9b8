//! `wsspec serve`: the selected client-role cases served over Autobahn's
//! fuzzing-server protocol, with the console and the report files as reporters.

use std::process::ExitCode;

use anyhow::Context;

use super::args::ServeArgs;
use super::cases::{cases_for, positive};
use crate::case::wstest_pattern::AgentExclusions;
use crate::case::Role;
use crate::report::console::{Console, Door};
use crate::report::{FileReports, Layout, Reporters};
use crate::run::RunOptions;
use crate::serve::{ServeConfig, SnapshotsPerAgent};

/// The exit code when some report could not be written.
pub const REPORTS_NOT_WRITTEN: u8 = 4;

/// What `serve` (and `browse`) run: the listen address, the configuration,
/// the reporters, and for the first line the number of cases and the scheme.
pub(super) struct Prepared {
    pub listen: String,
    pub config: ServeConfig,
    pub reporters: Reporters,
    pub total: usize,
    pub scheme: &'static str,
    /// The CA certificate --tls-self-signed wrote (browse has a browser trust it).
    pub ca: Option<std::path::PathBuf>,
}

pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let p = match prepare(args)? {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let (total, scheme) = (p.total, p.scheme);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let served = rt
        .block_on(crate::serve::serve(&p.listen, p.config, p.reporters, |addr| {
            println!(
                "wsspec serve: {total} cases on {scheme}://{addr}/ (Autobahn fuzzing-server protocol)"
            );
        }))
        .with_context(|| format!("cannot listen on {}", p.listen))?;
    Ok(exit_code(&served))
}

/// Checks serve's arguments and builds what it runs; the exit code instead
/// when the selection or a spec file is wrong (the error printed).
pub(super) fn prepare(args: ServeArgs) -> anyhow::Result<Result<Prepared, ExitCode>> {
    let (args, from_spec) = match with_spec(args)? {
        Some(found) => found,
        None => return Ok(Err(ExitCode::from(2))),
    };
    let (cases, agent_exclusions) = match from_spec {
        Some(found) => found,
        None => match cases_for(&args.select, Role::Client) {
            Some(cases) => (cases, AgentExclusions::default()),
            None => return Ok(Err(ExitCode::from(2))),
        },
    };
    let cases = if args.h2 {
        let cases = super::cases::without_http1_only(cases, "HTTP/2 (--h2)");
        if cases.is_empty() {
            eprintln!("error: no selected case runs over HTTP/2");
            return Ok(Err(ExitCode::from(2)));
        }
        cases
    } else {
        let cases = super::cases::without_http2_only(cases, "serve --h2 to include them");
        if cases.is_empty() {
            eprintln!("error: every selected case runs over HTTP/2 only (serve --h2)");
            return Ok(Err(ExitCode::from(2)));
        }
        cases
    };
    args.conf.note(&cases);
    positive(args.timeout_scale, "--timeout-scale")?;
    positive(args.stall_timeout, "--stall-timeout")?;
    positive(args.handshake_timeout, "--handshake-timeout")?;
    if !(1024..=64 << 20).contains(&args.max_header_size) {
        anyhow::bail!("--max-header-size must be between 1K and 64M");
    }
    let snapshots = args.snap.snapshots.clone().map(|dir| SnapshotsPerAgent {
        dir,
        update: args.snap.snapshots_update,
    });
    let note = args.snap.note();
    let alpn: &[&str] = if args.h2 { &["h2", "http/1.1"] } else { &[] };
    let listening =
        args.tls
            .listening(&args.listen, &args.report_dir.join("wsspec-ca.pem"), alpn)?;
    let scheme = if listening.secure { "wss" } else { "ws" };
    let config = ServeConfig {
        cases,
        options: RunOptions {
            timeout_scale: args.timeout_scale,
            max_message_size: args.max_message_size,
            max_events: usize::try_from(args.max_events).unwrap_or(usize::MAX),
            stall_timeout: crate::case::Millis((args.stall_timeout * 1000.0) as u64),
            max_header_size: args.max_header_size,
            handshake_timeout: crate::case::Millis((args.handshake_timeout * 1000.0) as u64),
            ..RunOptions::default()
        },
        strict: args.strict,
        snapshots,
        acceptor: listening.acceptor,
        secure: listening.secure,
        agent_exclusions: std::sync::Arc::new(agent_exclusions),
        allow: args.conf.allow.clone(),
        strict_allowlist: args.conf.strict_allowlist,
        stop: None,
        http2: args.h2,
    };
    let reporters = Reporters::new()
        .with(FileReports {
            layout: Layout::PerAgent {
                dir: args.report_dir.clone(),
            },
        })
        .with(
            Console::new(Door::Serve, false, args.verbose, args.strict, note)
                .naming_reports_under(args.report_dir.clone())
                .coloured(crate::report::console::colour_wanted(
                    &args.color,
                    std::io::IsTerminal::is_terminal(&std::io::stdout()),
                )),
        );
    let total = config.cases.len();
    Ok(Ok(Prepared {
        listen: args.listen,
        config,
        reporters,
        total,
        scheme,
        ca: listening.ca,
    }))
}

/// The cases of a spec file and its agent exclusions, when `--spec`.
type FromSpec = Option<(Vec<crate::case::Case>, AgentExclusions)>;

/// `serve --spec fuzzingserver.json`: its `url` becomes the listen address
/// and its `outdir` the report folder (each overriding the flag), its cases
/// are selected as wstest selects them. None (the error printed) when the
/// corpus does not load.
fn with_spec(mut args: ServeArgs) -> anyhow::Result<Option<(ServeArgs, FromSpec)>> {
    let Some(path) = args.spec.clone() else {
        return Ok(Some((args, None)));
    };
    let spec = super::spec::read_server(&path)?;
    let Some(corpus) = super::cases::load_cases(&args.select.cases_dir) else {
        return Ok(None);
    };
    let cases = spec
        .selection
        .select(corpus, Role::Client)
        .with_context(|| format!("{}", path.display()))?;
    if let Some(listen) = spec.listen {
        args.listen = listen;
    }
    if let Some(dir) = spec.selection.outdir.clone() {
        args.report_dir = dir;
    }
    Ok(Some((
        args,
        Some((cases, spec.selection.exclude_agent_cases)),
    )))
}

/// 4 when a report could not be written (results were lost, which matters
/// more than any verdict), else 1 when a case failed, else 0.
pub(super) fn exit_code(served: &crate::serve::Served) -> ExitCode {
    if served.reports_failed {
        eprintln!("error: some reports could not be written (see above); exit 4");
        ExitCode::from(REPORTS_NOT_WRITTEN)
    } else if served.runs.iter().any(|r| r.failed()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
