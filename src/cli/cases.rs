//! The corpus as the commands see it: the embedded cases plus the user's
//! files, the one selection by id globs and role that `run`, `serve` and
//! `list` share, and the `list` and `check` commands.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::args::{ListArgs, Selecting};
use crate::case::{self, Case, Role, Selection};

/// Loads the embedded corpus plus extra paths
/// ([`case::load::load_with_embedded`]); prints every error and returns None
/// on failure.
pub fn load_cases(extra: &[PathBuf]) -> Option<Vec<Case>> {
    match case::load::load_with_embedded(extra) {
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

/// The cases the globs select, for `role` (every case when None), in order.
pub fn select(cases: Vec<Case>, s: &Selecting, role: Option<Role>) -> Vec<Case> {
    let sel = Selection {
        include: s.cases.clone(),
        exclude: s.exclude.clone(),
    };
    cases
        .into_iter()
        .filter(|c| sel.selects(&c.spec.id) && role.is_none_or(|r| c.spec.roles.contains(&r)))
        .collect()
}

/// What `run` (servers) or `serve` (clients) selects: None (and the error
/// printed) when a case file is broken or nothing matches, exit code 2.
pub fn cases_for(s: &Selecting, role: Role) -> Option<Vec<Case>> {
    let cases = select(load_cases(&s.cases_dir)?, s, Some(role));
    if cases.is_empty() {
        match role {
            Role::Server => eprintln!("error: no case matches the selection"),
            Role::Client => eprintln!("error: no client-role case matches the selection"),
        }
        return None;
    }
    Some(cases)
}

/// The cases that can run against `url`: over HTTP/2 (`h2c://`, `h2://`),
/// those whose handshake only exists as HTTP/1.1 bytes are left out; over
/// HTTP/1.1 (no URL: the embedded reference server), those that only exist
/// over HTTP/2 (the RFC 8441 group). Either is said on stderr. An unparsable
/// URL leaves the selection alone (the run reports the URL).
pub fn for_transport(cases: Vec<Case>, url: Option<&str>) -> Vec<Case> {
    let target = url.map(crate::run::Target::parse);
    if let Some(Err(_)) = target {
        return cases;
    }
    if target.is_some_and(|t| t.is_ok_and(|t| t.http2)) {
        return without_http1_only(cases, "HTTP/2");
    }
    without_http2_only(cases, "run against h2c:// or h2:// to include them")
}

/// The cases that can run over HTTP/1.1: those that only exist over HTTP/2
/// (the RFC 8441 group) are left out, counted on stderr with `how` to run
/// them.
pub fn without_http2_only(cases: Vec<Case>, how: &str) -> Vec<Case> {
    let (http2, runnable): (Vec<Case>, Vec<Case>) =
        cases.into_iter().partition(|c| c.spec.http2_only());
    if let Some(first) = http2.first() {
        eprintln!(
            "note: {} HTTP/2-only case(s) left out over HTTP/1.1 (first: {}); {how}",
            http2.len(),
            first.spec.id
        );
    }
    runnable
}

/// The cases that can run over HTTP/2: those whose handshake only exists as
/// HTTP/1.1 bytes are left out and named on stderr, as `what` leaving them.
pub fn without_http1_only(cases: Vec<Case>, what: &str) -> Vec<Case> {
    let (http1, runnable): (Vec<Case>, Vec<Case>) =
        cases.into_iter().partition(|c| c.spec.http1_only());
    if !http1.is_empty() {
        let ids: Vec<&str> = http1.iter().map(|c| c.spec.id.as_str()).collect();
        eprintln!(
            "note: {} case(s) left out over {what}: their handshake is HTTP/1.1 bytes ({})",
            ids.len(),
            ids.join(", ")
        );
    }
    runnable
}

/// A flag that must be a positive, finite number.
pub fn positive(value: f64, what: &str) -> anyhow::Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        anyhow::bail!("{what} must be a positive number")
    }
}

pub fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let Some(cases) = load_cases(&args.select.cases_dir) else {
        return Ok(ExitCode::from(2));
    };
    let wanted = match args.role.as_deref() {
        Some("server") => Some(Role::Server),
        Some("client") => Some(Role::Client),
        _ => None,
    };
    let selected = select(cases, &args.select, wanted);
    if selected.is_empty() {
        // As `run` and `serve` say it: a selection that matches nothing is
        // a mistake, not an empty answer.
        eprintln!("error: no case matches the selection");
        return Ok(ExitCode::from(2));
    }
    let mut out = std::io::stdout().lock();
    for c in selected {
        let roles = match (
            c.spec.roles.contains(&Role::Server),
            c.spec.roles.contains(&Role::Client),
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

pub fn check(paths: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    // The user's files are checked together with the embedded corpus, so that
    // id collisions show up here rather than at `run`.
    let Some(cases) = load_cases(&paths) else {
        return Ok(ExitCode::from(2));
    };
    // The given files' cases, including copies of embedded files (checking
    // the project's own corpus), which replace the embedded ones.
    let given: std::collections::BTreeSet<String> = case::load::read_sources(&paths)
        .map(|sources| sources.into_iter().map(|s| s.name).collect())
        .unwrap_or_default();
    let mine = cases.iter().filter(|c| given.contains(&c.file)).count();
    if paths.is_empty() {
        println!(
            "{} OK (the embedded corpus)",
            crate::report::console::cases(cases.len())
        );
    } else if mine == 0 {
        eprintln!("error: no case files (*.yaml, *.yml) with cases found in the given paths");
        return Ok(ExitCode::from(2));
    } else {
        println!(
            "{} OK in the given files ({} with the embedded corpus)",
            crate::report::console::cases(mine),
            cases.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
