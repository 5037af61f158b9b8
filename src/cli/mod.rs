//! The command line, as library code: [`args`] is its shape (clap), the other
//! files carry out one command each ([`run`], [`serve`], [`cases`] for `list`
//! and `check`, [`snapshots`]). `main.rs` only parses the arguments and calls
//! [`execute`], which maps errors to exit code 2.

pub mod args;
pub mod browse;
pub mod cases;
pub mod config;
pub mod merge;
pub mod run;
pub mod serve;
pub mod snapshots;
pub mod spec;
pub mod targets;
pub mod tls;

use std::process::ExitCode;

use anyhow::Context;

pub use args::Cli;
use args::Command;

/// Carries out a parsed command line; the process's exit code.
pub fn execute(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Run(args) => run::run(*args),
        Command::List(args) => cases::list(args),
        Command::Merge(args) => merge::merge(args),
        Command::Check { paths } => cases::check(paths),
        Command::ReferenceServer { listen, tls } => reference_server(&listen, &tls),
        Command::Snapshots(cmd) => snapshots::snapshots(cmd),
        Command::Serve(args) => serve::serve(*args),
        Command::Browse(args) => browse::browse(*args),
        Command::ReferenceClient {
            url,
            agent,
            shutdown,
            tls,
        } => reference_client(&url, &agent, shutdown, &tls),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

pub fn reference_server(listen: &str, tls: &tls::ServerTlsArgs) -> anyhow::Result<ExitCode> {
    // HTTP/2 (h2:// over TLS, h2c:// with prior knowledge) on the same
    // listener: the server tells the two apart by the client's first bytes.
    let listening = tls.listening(
        listen,
        std::path::Path::new("wsspec-ca.pem"),
        &["h2", "http/1.1"],
    )?;
    let scheme = if listening.secure { "wss" } else { "ws" };
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async {
        let (addr, task) = crate::reference::bind_with(listen, listening.acceptor)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        println!("wsspec reference server listening on {scheme}://{addr}/");
        let _ = task.await;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn reference_client(
    url: &str,
    agent: &str,
    shutdown: bool,
    tls: &tls::ClientTlsArgs,
) -> anyhow::Result<ExitCode> {
    let target = crate::run::Target::parse(url)?;
    if target.http2 {
        anyhow::bail!("reference-client speaks HTTP/1.1 only: give it a ws:// or wss:// URL");
    }
    let connector = tls.connector_for(&target, 1)?;
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let n = rt.block_on(crate::reference::client::drive(
        url,
        agent,
        shutdown,
        connector.as_ref(),
    ))?;
    println!(
        "ran {n} cases as agent {}",
        crate::report::console::terminal_safe(agent)
    );
    Ok(ExitCode::SUCCESS)
}
