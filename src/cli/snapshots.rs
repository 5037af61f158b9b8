//! `wsspec snapshots`: review, accept, reject and prune stored snapshots.

use std::io::IsTerminal;
use std::process::ExitCode;

use super::args::SnapshotsCommand;
use super::cases::load_cases;
use crate::report::console;

pub fn snapshots(cmd: SnapshotsCommand) -> anyhow::Result<ExitCode> {
    use crate::snapshot::Store;
    let (SnapshotsCommand::Review { dir }
    | SnapshotsCommand::Accept { dir, .. }
    | SnapshotsCommand::Reject { dir, .. }
    | SnapshotsCommand::Prune { dir, .. }) = &cmd;
    // A mistyped folder is a usage error, not "nothing pending".
    if !dir.is_dir() {
        anyhow::bail!(
            "no snapshot folder at {} (it is the folder given to `run --snapshots`)",
            dir.display()
        );
    }
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
                    crate::snapshot::SnapshotStatus::Drift { diff } => {
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
            let Some(cases) = load_cases(&cases_dir) else {
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
