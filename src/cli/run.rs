//! `wsspec run`: the selected server-role cases against a target (or the
//! embedded reference server), with the console and the report files as
//! reporters; the exit code from the results.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;

use super::args::RunArgs;
use super::cases::{cases_for, positive};
use crate::case::Role;
use crate::report::console::{Console, Door};
use crate::report::{FileReports, Layout, Outputs, Reporters};
use crate::run::{Interrupt, RunOptions, Target};
use crate::snapshot::SnapshotConfig;
use crate::suite::{self, SuiteConfig, SuiteError};

/// The exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells do).
pub const INTERRUPTED: u8 = 130;

pub(super) fn parse_headers(raw: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    raw.iter()
        .map(|h| match h.split_once(':') {
            Some((n, v)) if !n.trim().is_empty() => {
                Ok((n.trim().to_string(), v.trim().to_string()))
            }
            _ => anyhow::bail!("--header expects `Name: value`, got `{h}`"),
        })
        .collect()
}

/// The shard `--partition` asks for (all the cases without it); None (the
/// error printed) when the shard is empty.
pub(super) fn partitioned(
    args: &RunArgs,
    cases: Vec<crate::case::Case>,
) -> Option<Vec<crate::case::Case>> {
    match args.partition {
        None => Some(cases),
        Some(p) => {
            let selected = cases.len();
            let shard = p.apply(cases);
            if shard.is_empty() {
                eprintln!(
                    "error: shard {}/{} holds no case (the selection has {selected})",
                    p.k, p.n
                );
                return None;
            }
            Some(shard)
        }
    }
}

/// The run options every target shares, from the flags (checked here).
pub(super) fn base_options(args: &RunArgs, interrupt: Interrupt) -> anyhow::Result<RunOptions> {
    positive(args.timeout_scale, "--timeout-scale")?;
    for (value, name) in [
        (args.case_timeout, "--case-timeout"),
        (args.connect_timeout, "--connect-timeout"),
        (args.handshake_timeout, "--handshake-timeout"),
        (args.stall_timeout, "--stall-timeout"),
        (args.run_timeout.unwrap_or(1.0), "--run-timeout"),
        (args.wait_for_target.unwrap_or(1.0), "--wait-for-target"),
    ] {
        if !(value.is_finite() && value > 0.0) {
            anyhow::bail!("{name} must be a positive number of seconds");
        }
    }
    if !(1024..=64 << 20).contains(&args.max_header_size) {
        anyhow::bail!("--max-header-size must be between 1K and 64M");
    }
    let millis = |secs: f64| crate::case::Millis((secs * 1000.0) as u64);
    let mut extra_headers = parse_headers(&args.headers)?;
    if let Some(origin) = &args.origin {
        extra_headers.push(("Origin".into(), origin.clone()));
    }
    if !args.subprotocols.is_empty() {
        extra_headers.push((
            "Sec-WebSocket-Protocol".into(),
            args.subprotocols.join(", "),
        ));
    }
    Ok(RunOptions {
        timeout_scale: args.timeout_scale,
        seed: args.seed,
        default_deadline: millis(args.case_timeout),
        connect_timeout: millis(args.connect_timeout),
        handshake_timeout: millis(args.handshake_timeout),
        max_header_size: args.max_header_size,
        run_timeout: args.run_timeout.map(millis),
        stall_timeout: millis(args.stall_timeout),
        give_up: !args.no_give_up,
        extra_headers,
        max_message_size: args.max_message_size,
        max_events: usize::try_from(args.max_events).unwrap_or(usize::MAX),
        interrupt,
        wait_for_target: args.wait_for_target.map(millis),
        ..RunOptions::default()
    })
}

/// The first Ctrl-C stops the run and still writes the reports; a second
/// one quits at once. Call inside the runtime.
pub(super) fn stop_on_ctrl_c(stop: tokio::sync::watch::Sender<bool>) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "\ninterrupted: the cases left are ERROR; writing the reports (Ctrl-C again to quit at once)"
            );
            let _ = stop.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(INTERRUPTED.into());
            }
        }
    });
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    // Several targets, or Autobahn's fuzzingclient.json: src/cli/targets.rs.
    if args.spec.is_some() || args.urls.len() > 1 || args.agents.len() > 1 {
        return super::targets::run_several(args);
    }
    let Some(cases) = cases_for(&args.select, Role::Server) else {
        return Ok(ExitCode::from(2));
    };
    let cases = super::cases::for_transport(cases, args.urls.first().map(String::as_str));
    if cases.is_empty() {
        eprintln!("error: no selected case runs over HTTP/2");
        return Ok(ExitCode::from(2));
    }
    let Some(cases) = partitioned(&args, cases) else {
        return Ok(ExitCode::from(2));
    };
    args.conf.note(&cases);
    let (stop, interrupt) = Interrupt::new();
    let options = base_options(&args, interrupt)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        stop_on_ctrl_c(stop);
        let (target, _server) = match args.urls.first() {
            Some(url) => (Target::parse(url)?, None),
            None => {
                let (addr, task) = crate::reference::bind("127.0.0.1:0")
                    .await
                    .context("starting the reference server")?;
                eprintln!("no URL given: testing the embedded reference server at ws://{addr}/");
                (Target::parse(&format!("ws://{addr}/"))?, Some(task))
            }
        };
        let options = RunOptions {
            connector: args.tls.connector_for(&target, usize::from(args.streams))?,
            ..options
        };
        let agent = args
            .agents
            .first()
            .cloned()
            .unwrap_or_else(|| target.authority());
        let snapshots = args.snap.snapshots.clone().map(|dir| SnapshotConfig {
            dir,
            role: "server".into(),
            update: args.snap.snapshots_update,
        });
        let note = args.snap.note();
        let config = SuiteConfig {
            target,
            agent,
            options,
            jobs: usize::from(args.jobs),
            strict: args.strict,
            snapshots,
            allow: args.conf.allow.clone(),
            strict_allowlist: args.conf.strict_allowlist,
        };
        let progress = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let outputs = Outputs {
            dir: args.report_dir.clone(),
            junit: args.junit.clone(),
            html: args.html.clone(),
            json: args.json.clone(),
            autobahn_dir: args.autobahn_json.clone(),
        };
        let mut reporters = Reporters::new()
            .with(
                Console::new(Door::Run, progress, args.verbose, args.strict, note)
                    .naming_reports(outputs.paths().all().into_iter().cloned().collect())
                    .coloured(crate::report::console::colour_wanted(
                        &args.color,
                        std::io::stderr().is_terminal() && std::io::stdout().is_terminal(),
                    )),
            )
            .with(FileReports {
                layout: Layout::Single(outputs),
            });
        let results = match suite::run(&cases, &config, &mut reporters).await {
            Ok(r) => r,
            Err(SuiteError::Unreachable { target, error }) => {
                if progress {
                    eprint!("\r\x1b[2K");
                }
                eprintln!("error: cannot reach {target}: {error}");
                return Ok(ExitCode::from(3));
            }
            Err(e) => return Err(e.into()),
        };
        Ok(if config.options.interrupt.is_set() {
            ExitCode::from(INTERRUPTED)
        } else if results.failed() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    })
}
