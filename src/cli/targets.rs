//! `wsspec run` with several targets (`run URL1 URL2 ...`, or the servers of
//! Autobahn's fuzzingclient.json with `--spec`): each target runs in turn
//! with the same options, its console summary as usual, then a line per
//! target; the reports are one set, as `serve` writes them — a folder per
//! agent under the report folder, Autobahn's index.json and an overview with
//! a column per target ("servers tested"). Snapshots, when kept, are one
//! store per agent, `DIR/<agent folder>/server/`. The exit code is the worst
//! of the targets' (3 unreachable over 1 failed over 0); Ctrl-C stops at the
//! target it interrupts, exit 130.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::args::RunArgs;
use super::cases::{cases_for, load_cases};
use super::run::{base_options, partitioned, stop_on_ctrl_c, INTERRUPTED};
use crate::case::{Case, Role};
use crate::report::agents::Tested;
use crate::report::console::{terminal_safe, Console, Door};
use crate::report::files::{agent_folder, agent_outputs, write_per_agent};
use crate::report::Reporters;
use crate::results::RunResults;
use crate::run::{Interrupt, RunOptions, Target};
use crate::snapshot::SnapshotConfig;
use crate::suite::{self, SuiteConfig, SuiteError};

/// One target to run: where, under which name, which cases, and the
/// handshake headers of its own (a spec's `origin` and `protocols`).
struct Planned {
    target: Target,
    agent: String,
    cases: Vec<Case>,
    headers: Vec<(String, String)>,
}

/// How one target's run ended.
enum Ended {
    Ran(Box<RunResults>),
    Unreachable(String),
}

pub fn run_several(args: RunArgs) -> anyhow::Result<ExitCode> {
    let (plans, report_dir) = match &args.spec {
        Some(path) => match from_spec(&args, path)? {
            Some(p) => p,
            None => return Ok(ExitCode::from(2)),
        },
        None => match from_urls(&args)? {
            Some(p) => (p, args.report_dir.clone()),
            None => return Ok(ExitCode::from(2)),
        },
    };
    for (flag, given) in [
        ("--junit", args.junit.is_some()),
        ("--html", args.html.is_some()),
        ("--json", args.json.is_some()),
        ("--autobahn-json", args.autobahn_json.is_some()),
    ] {
        if given {
            eprintln!(
                "error: {flag} names one run's file; with several targets (or --spec) every report is under the report folder, a folder per agent"
            );
            return Ok(ExitCode::from(2));
        }
    }
    let mut seen = BTreeSet::new();
    for p in &plans {
        if !seen.insert(p.agent.as_str()) {
            eprintln!(
                "error: two targets are named `{}`; give each its own with --agent (or `agent` in the spec)",
                terminal_safe(&p.agent)
            );
            return Ok(ExitCode::from(2));
        }
    }
    let (stop, interrupt) = Interrupt::new();
    let options = base_options(&args, interrupt)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        stop_on_ctrl_c(stop);
        let mut ended = Vec::new();
        for plan in &plans {
            let e = run_one(&args, plan, &options, &report_dir).await?;
            ended.push((plan, e));
            if options.interrupt.is_set() {
                break;
            }
        }
        // (agent, exit code, summary line) per target, and the results.
        let mut lines = Vec::new();
        let mut runs: Vec<RunResults> = Vec::new();
        let not_run = plans.len() - ended.len();
        for (plan, e) in ended {
            match e {
                Ended::Ran(r) => {
                    let code = u8::from(r.failed());
                    lines.push((&plan.agent, code, crate::report::console::summary(&r)));
                    runs.push(*r);
                }
                Ended::Unreachable(error) => {
                    lines.push((
                        &plan.agent,
                        3,
                        format!("unreachable: {}", terminal_safe(&error)),
                    ));
                }
            }
        }
        // Ctrl-C stopped the run before these targets.
        for plan in &plans[plans.len() - not_run..] {
            lines.push((
                &plan.agent,
                INTERRUPTED,
                "not run (interrupted)".to_string(),
            ));
        }
        let written = write_per_agent(&runs, &report_dir, Tested::Servers);
        // On stdout, after the summaries (which are there too).
        println!("\nTargets:");
        for (agent, code, what) in &lines {
            println!("  {:<24} exit {code}  {what}", terminal_safe(agent));
        }
        println!("Overview: {}", report_dir.join("index.html").display());
        written?;
        // The worst of the targets' codes: 3 unreachable, 1 failed, 0.
        let worst = lines
            .iter()
            .map(|(_, c, _)| *c)
            .filter(|c| *c != INTERRUPTED)
            .max()
            .unwrap_or(0);
        Ok(if options.interrupt.is_set() {
            ExitCode::from(INTERRUPTED)
        } else {
            ExitCode::from(worst)
        })
    })
}

/// `run URL1 URL2 ... [--agent A --agent B ...]`.
fn from_urls(args: &RunArgs) -> anyhow::Result<Option<Vec<Planned>>> {
    if !args.agents.is_empty() && args.agents.len() != args.urls.len().max(1) {
        eprintln!(
            "error: {} --agent for {} URL(s): give one --agent per URL, in the same order, or none (each target is then named host:port)",
            args.agents.len(),
            args.urls.len()
        );
        return Ok(None);
    }
    let Some(cases) = cases_for(&args.select, Role::Server) else {
        return Ok(None);
    };
    let Some(cases) = partitioned(args, cases) else {
        return Ok(None);
    };
    args.conf.note(&cases);
    let mut plans = Vec::new();
    for (i, url) in args.urls.iter().enumerate() {
        let target = Target::parse(url)?;
        let agent = args
            .agents
            .get(i)
            .cloned()
            .unwrap_or_else(|| target.authority());
        // Over HTTP/2 the cases whose handshake is HTTP/1.1 bytes are left
        // out (and named); the overview shows their cells empty.
        let cases = super::cases::for_transport(cases.clone(), Some(url));
        plans.push(Planned {
            target,
            agent,
            cases,
            headers: Vec::new(),
        });
    }
    Ok(Some(plans))
}

/// `run --spec fuzzingclient.json`: its servers, its selection per agent,
/// its outdir as the report folder.
fn from_spec(
    args: &RunArgs,
    path: &std::path::Path,
) -> anyhow::Result<Option<(Vec<Planned>, PathBuf)>> {
    let spec = super::spec::read_client(path)?;
    let Some(corpus) = load_cases(&args.select.cases_dir) else {
        return Ok(None);
    };
    let selected = spec
        .selection
        .select(corpus, Role::Server)
        .with_context(|| format!("{}", path.display()))?;
    let Some(selected) = partitioned(args, selected) else {
        return Ok(None);
    };
    args.conf.note(&selected);
    let mut plans = Vec::new();
    for s in &spec.servers {
        let target = Target::parse(&s.url).with_context(|| format!("{}", path.display()))?;
        let agent = s.agent.clone().unwrap_or_else(|| target.authority());
        let mut headers = Vec::new();
        if let Some(origin) = &s.origin {
            headers.push(("Origin".to_string(), origin.clone()));
        }
        if !s.protocols.is_empty() {
            headers.push(("Sec-WebSocket-Protocol".to_string(), s.protocols.join(", ")));
        }
        let cases =
            super::cases::for_transport(spec.selection.for_agent(&selected, &agent), Some(&s.url));
        if cases.is_empty() {
            // wstest leaves such a server out of its reports as well.
            eprintln!(
                "note: exclude-agent-cases leaves no case for `{}`; it is not run",
                terminal_safe(&agent)
            );
            continue;
        }
        plans.push(Planned {
            target,
            agent,
            cases,
            headers,
        });
    }
    let dir = spec
        .selection
        .outdir
        .clone()
        .unwrap_or_else(|| args.report_dir.clone());
    Ok(Some((plans, dir)))
}

async fn run_one(
    args: &RunArgs,
    plan: &Planned,
    base: &RunOptions,
    report_dir: &std::path::Path,
) -> anyhow::Result<Ended> {
    let mut options = RunOptions {
        connector: args
            .tls
            .connector_for(&plan.target, usize::from(args.streams))?,
        ..base.clone()
    };
    options.extra_headers.extend(plan.headers.iter().cloned());
    let folder = agent_folder(&plan.agent);
    let snapshots = args.snap.snapshots.clone().map(|dir| SnapshotConfig {
        dir: dir.join(&folder),
        role: "server".into(),
        update: args.snap.snapshots_update,
    });
    let note = args
        .snap
        .note()
        .map(|n| crate::report::console::SnapshotNote {
            dir: n.dir.join(&folder),
            ..n
        });
    let config = SuiteConfig {
        target: plan.target.clone(),
        agent: plan.agent.clone(),
        options,
        jobs: usize::from(args.jobs),
        strict: args.strict,
        snapshots,
        allow: args.conf.allow.clone(),
        strict_allowlist: args.conf.strict_allowlist,
    };
    let progress = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
    let paths = agent_outputs(report_dir, &plan.agent).paths();
    println!(
        "== {} ({})",
        terminal_safe(&plan.agent),
        terminal_safe(&plan.target.url())
    );
    let mut reporters = Reporters::new().with(
        Console::new(Door::Run, progress, args.verbose, args.strict, note)
            .naming_reports(paths.all().into_iter().cloned().collect())
            .coloured(crate::report::console::colour_wanted(
                &args.color,
                std::io::stderr().is_terminal() && std::io::stdout().is_terminal(),
            )),
    );
    match suite::run(&plan.cases, &config, &mut reporters).await {
        Ok(r) => Ok(Ended::Ran(Box::new(r))),
        Err(SuiteError::Unreachable { target, error }) => {
            if progress {
                eprint!("\r\x1b[2K");
            }
            eprintln!("error: cannot reach {target}: {error}");
            Ok(Ended::Unreachable(error))
        }
        Err(e) => Err(e.into()),
    }
}
