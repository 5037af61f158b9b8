//! The command line: argument parsing (clap), exit codes and the terminal.
//! Everything else is the library's; this file only wires flags to it.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use wsspec::case::{self, Case, Selection};
use wsspec::report::console::{self, Console};
use wsspec::run::{RunOptions, Target};
use wsspec::suite::{self, SuiteConfig};

const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (case corpus ",
    env!("WSSPEC_CORPUS_VERSION"),
    ")"
);

/// WebSocket protocol conformance harness: replays readable YAML cases against
/// a server and reports verdicts with the bytes that prove them.
#[derive(Parser)]
#[command(name = "wsspec", version = VERSION, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run cases against a WebSocket server (default: the embedded reference server).
    #[command(
        after_help = "Examples:\n  wsspec run                                  # test the embedded reference server\n  wsspec run ws://127.0.0.1:9001 --cases '5.*' --junit junit.xml\n  wsspec run ws://localhost:8080/ws --header 'Authorization: Bearer t' --timeout-scale 3"
    )]
    Run(Box<RunArgs>),
    /// List the cases (id, requirement, roles, title).
    #[command(after_help = "Example:\n  wsspec list --cases '2.*'")]
    List(ListArgs),
    /// Validate case files (default: the embedded corpus).
    #[command(after_help = "Example:\n  wsspec check my-cases/ extra.yaml")]
    Check {
        /// Case files or directories.
        paths: Vec<PathBuf>,
    },
    /// Test WebSocket clients: Autobahn's fuzzing-server protocol, for existing client drivers.
    #[command(
        after_help = "Example:\n  wsspec serve --listen 127.0.0.1:9001 --cases '1.*'\n  # then run your driver: /getCaseCount, /runCase?case=N&agent=A, /updateReports?agent=A&shutdownOnComplete=true"
    )]
    Serve(ServeArgs),
    /// Drive a fuzzing server (`wsspec serve` or Autobahn's) with the embedded reference client.
    #[command(
        name = "reference-client",
        after_help = "Example:\n  wsspec reference-client ws://127.0.0.1:9001 --agent wsspec-reference"
    )]
    ReferenceClient {
        /// The fuzzing server's URL.
        url: String,
        /// The agent name reported to the server.
        #[arg(long, default_value = "wsspec-reference-client")]
        agent: String,
        /// Ask the server to shut down after writing reports.
        #[arg(long)]
        shutdown: bool,
    },
    /// Review stored snapshots: review, accept, reject, prune.
    #[command(subcommand)]
    Snapshots(SnapshotsCommand),
    /// Run the embedded reference echo server on its own.
    #[command(
        name = "reference-server",
        after_help = "Example:\n  wsspec reference-server --listen 127.0.0.1:9001"
    )]
    ReferenceServer {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9001")]
        listen: String,
    },
}

#[derive(Subcommand)]
enum SnapshotsCommand {
    /// Show every pending change (`.snap.new`) with its diff.
    #[command(after_help = "Example:\n  wsspec snapshots review snapshots/myserver")]
    Review { dir: PathBuf },
    /// Apply pending changes (all, or the cases a glob selects).
    #[command(after_help = "Example:\n  wsspec snapshots accept snapshots/myserver --cases '7.*'")]
    Accept {
        dir: PathBuf,
        #[arg(long = "cases", value_name = "GLOB")]
        cases: Option<String>,
    },
    /// Drop pending changes (all, or the cases a glob selects).
    #[command(after_help = "Example:\n  wsspec snapshots reject snapshots/myserver")]
    Reject {
        dir: PathBuf,
        #[arg(long = "cases", value_name = "GLOB")]
        cases: Option<String>,
    },
    /// Remove snapshots of cases that no longer exist.
    #[command(
        after_help = "Example:\n  wsspec snapshots prune snapshots/myserver --cases-dir my-cases/"
    )]
    Prune {
        dir: PathBuf,
        /// Case files whose ids also count as existing; repeatable.
        #[arg(long = "cases-dir", value_name = "DIR")]
        cases_dir: Vec<PathBuf>,
    },
}

#[derive(Args, Clone)]
struct Selecting {
    /// Select cases by id glob (`5.*`, `1.1.*`); repeatable.
    #[arg(long = "cases", value_name = "GLOB")]
    cases: Vec<String>,
    /// Leave out cases by id glob; repeatable.
    #[arg(long = "exclude", value_name = "GLOB")]
    exclude: Vec<String>,
    /// Add the case files in DIR to the embedded corpus; repeatable.
    #[arg(long = "cases-dir", value_name = "DIR")]
    cases_dir: Vec<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9001")]
    listen: String,
    #[command(flatten)]
    select: Selecting,
    /// Folder for the reports: one subfolder per agent, an overview
    /// index.html, and Autobahn's index.json with its per-case files.
    #[arg(long, default_value = "reports/clients")]
    report_dir: PathBuf,
    /// Multiply every wait and deadline.
    #[arg(long, default_value_t = 1.0)]
    timeout_scale: f64,
    /// Count NON-STRICT as failure.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    snap: SnapshotArgs,
    /// Print a line for every case as it completes, not only the failures.
    #[arg(long, short)]
    verbose: bool,
}

/// Snapshot options, the same for `run` and `serve`.
#[derive(Args)]
struct SnapshotArgs {
    /// Compare every case with its stored snapshot under DIR (`server/` for
    /// run, `<agent>/client/` for serve); NEW and DRIFT fail the run.
    #[arg(long, value_name = "DIR")]
    snapshots: Option<PathBuf>,
    /// With --snapshots: store what was observed as the new baseline.
    #[arg(long, requires = "snapshots")]
    snapshots_update: bool,
}

#[derive(Args)]
struct ListArgs {
    #[command(flatten)]
    select: Selecting,
    /// Only the cases for this role: `server` (what `run` selects) or
    /// `client` (what `serve` selects). Default: every case.
    #[arg(long, value_parser = ["server", "client"])]
    role: Option<String>,
}

#[derive(Args)]
struct RunArgs {
    /// Server URL (ws://host:port/path); none starts the reference server.
    url: Option<String>,
    #[command(flatten)]
    select: Selecting,
    /// Cases run at once (I/O-bound waiting, so more than cores).
    #[arg(long, default_value_t = 16)]
    jobs: usize,
    /// Multiply every wait and deadline (slow or remote targets).
    #[arg(long, default_value_t = 1.0)]
    timeout_scale: f64,
    /// Deadline of a case that sets none, in seconds (scaled by --timeout-scale).
    #[arg(long, default_value_t = 15.0, value_name = "SECONDS")]
    case_timeout: f64,
    /// Seed for keys and masks (same seed, same bytes).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Count NON-STRICT as failure.
    #[arg(long)]
    strict: bool,
    /// Name of the target in reports (default: host:port).
    #[arg(long)]
    agent: Option<String>,
    /// Extra handshake header `Name: value` (e.g. for auth); repeatable.
    /// Raw requests in cases receive it through their {headers} placeholder.
    #[arg(long = "header", value_name = "NAME:VALUE")]
    headers: Vec<String>,
    /// Origin header sent with every handshake.
    #[arg(long)]
    origin: Option<String>,
    /// Subprotocol offered in every handshake (Sec-WebSocket-Protocol); repeatable.
    #[arg(long = "subprotocol", value_name = "NAME")]
    subprotocols: Vec<String>,
    /// Folder for junit.xml, index.html and results.json.
    #[arg(long, default_value = "reports")]
    report_dir: PathBuf,
    /// Write JUnit XML here instead.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write the HTML report here instead.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Write results.json here instead.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write Autobahn's index.json into DIR.
    #[arg(long, value_name = "DIR")]
    autobahn_json: Option<PathBuf>,
    #[command(flatten)]
    snap: SnapshotArgs,
    /// Print a line for every case, not only the ones that did not pass.
    #[arg(long, short)]
    verbose: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(*args),
        Command::List(args) => list(args),
        Command::Check { paths } => check(paths),
        Command::ReferenceServer { listen } => reference_server(&listen),
        Command::Snapshots(cmd) => snapshots(cmd),
        Command::Serve(args) => serve(args),
        Command::ReferenceClient {
            url,
            agent,
            shutdown,
        } => reference_client(&url, &agent, shutdown),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Loads the embedded corpus plus extra paths; prints errors and returns None on
/// failure. A given file that is a copy of an embedded one (the same path under
/// `cases/`, as when checking the project's own corpus) replaces it.
fn load_cases(extra: &[PathBuf], builtin: bool) -> Option<Vec<Case>> {
    let mine = match case::load::read_sources(extra) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return None;
        }
    };
    let mut sources: Vec<case::Source> = if builtin {
        case::embedded_sources()
            .into_iter()
            .filter(|b| {
                !mine
                    .iter()
                    .any(|m| m.name.replace('\\', "/").ends_with(&b.name))
            })
            .collect()
    } else {
        Vec::new()
    };
    sources.extend(mine);
    match case::load::load(&sources) {
        Ok(cases) => Some(cases),
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            eprintln!("{} error(s) in case files", errors.len());
            None
        }
    }
}

/// The server-role cases the globs select.
fn select(cases: Vec<Case>, s: &Selecting) -> Vec<Case> {
    let sel = Selection {
        include: s.cases.clone(),
        exclude: s.exclude.clone(),
    };
    cases
        .into_iter()
        .filter(|c| c.spec.roles.contains(&case::Role::Server) && sel.selects(&c.spec.id))
        .collect()
}

fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let Some(cases) = load_cases(&args.select.cases_dir, true) else {
        return Ok(ExitCode::from(2));
    };
    let sel = Selection {
        include: args.select.cases.clone(),
        exclude: args.select.exclude.clone(),
    };
    let wanted = match args.role.as_deref() {
        Some("server") => Some(case::Role::Server),
        Some("client") => Some(case::Role::Client),
        _ => None,
    };
    let mut out = std::io::stdout().lock();
    for c in cases
        .into_iter()
        .filter(|c| sel.selects(&c.spec.id) && wanted.is_none_or(|r| c.spec.roles.contains(&r)))
    {
        let roles = match (
            c.spec.roles.contains(&case::Role::Server),
            c.spec.roles.contains(&case::Role::Client),
        ) {
            (true, true) => "both",
            (false, true) => "client",
            _ => "server",
        };
        let line = format!(
            "{:<10} {:<6} {:<6} {}",
            c.spec.id,
            c.spec.requirement.as_str(),
            roles,
            c.spec.title
        );
        if writeln!(out, "{line}").is_err() {
            break; // reader went away (e.g. `| head`)
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check(paths: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    // The user's files are checked together with the embedded corpus, so that
    // id collisions show up here rather than at `run`.
    let Some(cases) = load_cases(&paths, true) else {
        return Ok(ExitCode::from(2));
    };
    // The given files' cases, including copies of embedded files (checking
    // the project's own corpus), which replace the embedded ones.
    let given: std::collections::BTreeSet<String> = case::load::read_sources(&paths)
        .map(|sources| sources.into_iter().map(|s| s.name).collect())
        .unwrap_or_default();
    let mine = cases.iter().filter(|c| given.contains(&c.file)).count();
    if paths.is_empty() {
        println!("{} cases OK (the embedded corpus)", cases.len());
    } else if mine == 0 {
        eprintln!("error: no case files (*.yaml, *.yml) with cases found in the given paths");
        return Ok(ExitCode::from(2));
    } else {
        println!(
            "{mine} cases OK in the given files ({} with the embedded corpus)",
            cases.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn reference_server(listen: &str) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async {
        let (addr, task) = wsspec::reference::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        println!("wsspec reference server listening on ws://{addr}/");
        let _ = task.await;
        Ok(ExitCode::SUCCESS)
    })
}

fn reference_client(url: &str, agent: &str, shutdown: bool) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let n = rt.block_on(wsspec::reference::client::drive(url, agent, shutdown))?;
    println!("ran {n} cases as agent {}", console::terminal_safe(agent));
    Ok(ExitCode::SUCCESS)
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let Some(cases) = load_cases(&args.select.cases_dir, true) else {
        return Ok(ExitCode::from(2));
    };
    let sel = Selection {
        include: args.select.cases.clone(),
        exclude: args.select.exclude.clone(),
    };
    let cases: Vec<Case> = cases
        .into_iter()
        .filter(|c| c.spec.roles.contains(&case::Role::Client) && sel.selects(&c.spec.id))
        .collect();
    if cases.is_empty() {
        eprintln!("error: no client-role case matches the selection");
        return Ok(ExitCode::from(2));
    }
    if !(args.timeout_scale.is_finite() && args.timeout_scale > 0.0) {
        anyhow::bail!("--timeout-scale must be a positive number");
    }
    let config = wsspec::serve::ServeConfig {
        cases,
        options: RunOptions {
            timeout_scale: args.timeout_scale,
            ..RunOptions::default()
        },
        report_dir: args.report_dir.clone(),
        strict: args.strict,
        verbose: args.verbose,
        snapshots: args
            .snap
            .snapshots
            .clone()
            .map(|dir| wsspec::serve::SnapshotsPerAgent {
                dir,
                update: args.snap.snapshots_update,
            }),
    };
    let total = config.cases.len();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let results = rt
        .block_on(wsspec::serve::serve(&args.listen, config, |addr| {
            println!(
                "wsspec serve: {total} cases on ws://{addr}/ (Autobahn fuzzing-server protocol)"
            );
        }))
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let mut failed = false;
    for (agent, by_case) in &results {
        let cases: Vec<&wsspec::results::CaseResult> = by_case.values().collect();
        let bad = cases
            .iter()
            .filter(|c| c.verdict.outcome.fails(args.strict))
            .count();
        failed |= bad > 0;
        println!(
            "agent {}: {} of {total} cases run, {bad} failed",
            console::terminal_safe(agent),
            cases.len()
        );
        let statuses: Vec<_> = cases.iter().filter_map(|c| c.snapshot.as_ref()).collect();
        if let Some(dir) = args
            .snap
            .snapshots
            .as_ref()
            .filter(|_| !statuses.is_empty())
        {
            let changed = statuses.iter().filter(|s| s.is_change()).count();
            let store = dir.join(wsspec::serve::safe_name(agent)).join("client");
            if args.snap.snapshots_update {
                println!("  snapshots stored in {}", store.display());
            } else {
                println!(
                    "  snapshots: {} match, {changed} new or drifted",
                    statuses.len() - changed
                );
                if changed > 0 {
                    failed = true;
                    println!("  review with `wsspec snapshots review {}`", dir.display());
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn snapshots(cmd: SnapshotsCommand) -> anyhow::Result<ExitCode> {
    use wsspec::snapshot::Store;
    match cmd {
        SnapshotsCommand::Review { dir } => {
            let pending = Store::new(&dir).pending()?;
            if pending.is_empty() {
                println!("no pending snapshot changes in {}", dir.display());
                return Ok(ExitCode::SUCCESS);
            }
            let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
            for (i, p) in pending.iter().enumerate() {
                println!(
                    "── {}/{} {} {} ({}) ──",
                    i + 1,
                    pending.len(),
                    p.role,
                    console::terminal_safe(&p.case_id),
                    p.status.as_str()
                );
                match &p.status {
                    wsspec::snapshot::SnapshotStatus::Drift { diff } => {
                        println!("{}", console::terminal_safe_lines(diff))
                    }
                    _ => println!("{}", console::terminal_safe_lines(&p.new.body)),
                }
                if interactive && i + 1 < pending.len() {
                    println!("[Enter] next case");
                    let mut line = String::new();
                    let _ = std::io::stdin().read_line(&mut line);
                }
            }
            println!(
                "{} pending; apply with `wsspec snapshots accept {}` or drop with `reject`",
                pending.len(),
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        SnapshotsCommand::Accept { dir, cases } => {
            let done = Store::new(&dir).accept(cases.as_deref())?;
            println!("accepted {} snapshot change(s)", done.len());
            Ok(ExitCode::SUCCESS)
        }
        SnapshotsCommand::Reject { dir, cases } => {
            let done = Store::new(&dir).reject(cases.as_deref())?;
            println!("rejected {} snapshot change(s)", done.len());
            Ok(ExitCode::SUCCESS)
        }
        SnapshotsCommand::Prune { dir, cases_dir } => {
            let Some(cases) = load_cases(&cases_dir, true) else {
                return Ok(ExitCode::from(2));
            };
            let ids: Vec<String> = cases.into_iter().map(|c| c.spec.id).collect();
            let removed = Store::new(&dir).prune(&ids)?;
            for r in &removed {
                println!("removed {}", r.display());
            }
            println!("pruned {} file(s)", removed.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_headers(raw: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    raw.iter()
        .map(|h| match h.split_once(':') {
            Some((n, v)) if !n.trim().is_empty() => {
                Ok((n.trim().to_string(), v.trim().to_string()))
            }
            _ => anyhow::bail!("--header expects `Name: value`, got `{h}`"),
        })
        .collect()
}

fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let Some(cases) = load_cases(&args.select.cases_dir, true) else {
        return Ok(ExitCode::from(2));
    };
    let cases = select(cases, &args.select);
    if cases.is_empty() {
        eprintln!("error: no case matches the selection");
        return Ok(ExitCode::from(2));
    }
    if !(args.timeout_scale.is_finite() && args.timeout_scale > 0.0) {
        anyhow::bail!("--timeout-scale must be a positive number");
    }
    if !(args.case_timeout.is_finite() && args.case_timeout > 0.0) {
        anyhow::bail!("--case-timeout must be a positive number of seconds");
    }
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
    let options = RunOptions {
        timeout_scale: args.timeout_scale,
        seed: args.seed,
        default_deadline: wsspec::case::Millis((args.case_timeout * 1000.0) as u64),
        extra_headers,
        ..RunOptions::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let (target, _server) = match &args.url {
            Some(url) => (Target::parse(url)?, None),
            None => {
                let (addr, task) = wsspec::reference::bind("127.0.0.1:0")
                    .await
                    .context("starting the reference server")?;
                eprintln!("no URL given: testing the embedded reference server at ws://{addr}/");
                (Target::parse(&format!("ws://{addr}/"))?, Some(task))
            }
        };
        let agent = args.agent.clone().unwrap_or_else(|| target.authority());
        let config =
            SuiteConfig {
                target,
                agent,
                options,
                jobs: args.jobs,
                strict: args.strict,
                snapshots: args.snap.snapshots.clone().map(|dir| {
                    wsspec::snapshot::SnapshotConfig {
                        dir,
                        role: "server".into(),
                        update: args.snap.snapshots_update,
                    }
                }),
            };
        let progress = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let console = Console::new(progress, args.verbose, args.strict);
        let results = match suite::run(&cases, &config, |r, done, total| {
            console.case_done(r, done, total)
        })
        .await
        {
            Ok(r) => r,
            Err(e) => {
                console.finish();
                eprintln!("error: {e}");
                return Ok(ExitCode::from(3));
            }
        };
        console.finish();
        wsspec::report::write_reports(
            &results,
            &wsspec::report::Outputs {
                dir: args.report_dir.clone(),
                junit: args.junit.clone(),
                html: args.html.clone(),
                json: args.json.clone(),
                autobahn_dir: args.autobahn_json.clone(),
            },
        )?;
        println!("{}", console::summary(&results));
        if let Some((same, new, drift)) = results.snapshot_counts() {
            let verb = if args.snap.snapshots_update {
                "stored"
            } else {
                "compared"
            };
            println!("snapshots {verb}: {same} match, {new} new, {drift} drift");
            if !args.snap.snapshots_update && new + drift > 0 {
                if let Some(dir) = &args.snap.snapshots {
                    println!("review with `wsspec snapshots review {}`", dir.display());
                }
            }
        }
        Ok(if results.failed() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    })
}
