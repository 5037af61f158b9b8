//! `wsspec merge`: the results of `run --partition K/N` shards joined into
//! the reports one unsharded run would have written: the cases in corpus
//! order, the counts recounted; only the timing fields differ (the run's
//! start is the earliest shard's, its wall time the longest shard's; each
//! case keeps its own duration and event times).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::args::MergeArgs;
use super::cases::load_cases;
use crate::report::console::{Console, Door};
use crate::report::{FileReports, Layout, Outputs, Reporters, RunEvent};
use crate::results::RunResults;

pub fn merge(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let Some(corpus) = load_cases(&args.cases_dir) else {
        return Ok(ExitCode::from(2));
    };
    let position: std::collections::HashMap<String, usize> = corpus
        .into_iter()
        .enumerate()
        .map(|(i, c)| (c.spec.id, i))
        .collect();
    let mut shards = Vec::new();
    for path in &args.shards {
        let file = if path.is_dir() {
            path.join("results.json")
        } else {
            path.clone()
        };
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let shard: RunResults = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a wsspec results.json", file.display()))?;
        shards.push(shard);
    }
    let merged = RunResults::merged(shards, |id| position.get(id).copied().unwrap_or(usize::MAX))?;
    let outputs = Outputs {
        dir: args.report_dir.clone(),
        junit: None,
        html: None,
        json: None,
        autobahn_dir: args.autobahn_json.clone(),
    };
    let paths: Vec<PathBuf> = outputs.paths().all().into_iter().cloned().collect();
    let mut reporters = Reporters::new()
        .with(Console::new(Door::Run, false, false, merged.strict, None).naming_reports(paths))
        .with(FileReports {
            layout: Layout::Single(outputs),
        });
    let runs = [merged];
    reporters.emit(RunEvent::ReportsDue { runs: &runs })?;
    reporters.emit(RunEvent::RunFinished { runs: &runs })?;
    Ok(if runs[0].failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
