//! The config file of `wsspec run` and `wsspec serve` (`wsspec.yaml` in the
//! working directory, or `--config FILE`): target and agent (`run`), cases,
//! any option of the command, and the allow-list of expected deviations. A setting becomes the command-line
//! arguments it stands for, placed before the user's own, and only where the
//! command line does not set it itself: the command line always wins, and
//! clap checks every value exactly as if it had been typed. Each setting is
//! checked on its own first, so a bad one is reported at its line and column
//! in the file, as case files are. The allow-list is read here and handed to
//! the run as data ([`crate::allow::AllowList`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgAction, CommandFactory, FromArgMatches};

use super::args::{Cli, Command};
use crate::allow::{AllowEntry, AllowList, Drift};
use crate::case::yaml::{self, Loc, Node, NodeKind};

/// The names looked for in the working directory, in order.
pub const DEFAULT_NAMES: [&str; 2] = ["wsspec.yaml", "wsspec.yml"];

/// Options a config file cannot set (they choose the file itself, or print and exit).
const NOT_SETTABLE: [&str; 4] = ["config", "no-config", "help", "version"];

/// A config file that cannot be used, located where possible.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{loc}: {message}")]
    At {
        path: String,
        loc: Loc,
        message: String,
    },
}

/// What a config file holds for one run.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The file it came from.
    pub path: PathBuf,
    /// Command-line arguments for the settings the file holds, target last.
    pub args: Vec<Setting>,
    pub allow: AllowList,
}

/// One setting as the arguments it stands for.
#[derive(Debug, Clone)]
pub struct Setting {
    /// The clap id of the argument (`timeout_scale`, `url`).
    pub id: String,
    /// `options.timeout-scale`, `target`: for messages.
    pub key: String,
    pub loc: Loc,
    pub args: Vec<String>,
}

/// Parses the process's command line, reading the config file for `run`:
/// the parsed command, or the exit code to leave with (usage errors, a bad
/// config file).
pub fn parse_command_line(argv: Vec<OsString>) -> Result<Cli, std::process::ExitCode> {
    let matches = match Cli::command().try_get_matches_from(&argv) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return Err(std::process::ExitCode::from(
                e.exit_code().clamp(0, 255) as u8
            ));
        }
    };
    let Some((command @ ("run" | "serve" | "browse"), run)) = matches.subcommand() else {
        return Cli::from_arg_matches(&matches).map_err(|e| {
            let _ = e.print();
            std::process::ExitCode::from(2)
        });
    };
    let explicit = run.get_one::<PathBuf>("config").cloned();
    let path = match explicit {
        Some(p) => Some(p),
        None if run.get_flag("no_config") => None,
        None => DEFAULT_NAMES
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file()),
    };
    let Some(path) = path else {
        return finish(&argv, command, &[], AllowList::default(), None);
    };
    let settings = match read(&path, command) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(std::process::ExitCode::from(2));
        }
    };
    let set_by_user = |id: &str| run.value_source(id) == Some(ValueSource::CommandLine);
    let wanted: Vec<&Setting> = settings
        .args
        .iter()
        .filter(|s| !set_by_user(&s.id))
        .collect();
    let injected: Vec<String> = wanted.iter().flat_map(|s| s.args.clone()).collect();
    finish(
        &argv,
        command,
        &injected,
        settings.allow,
        Some(settings.path),
    )
}

/// Parses `argv` with `injected` placed right after `command`, and hands
/// the allow-list to the command's arguments.
fn finish(
    argv: &[OsString],
    command: &str,
    injected: &[String],
    allow: AllowList,
    config: Option<PathBuf>,
) -> Result<Cli, std::process::ExitCode> {
    let at = argv
        .iter()
        .skip(1)
        .position(|a| a == command)
        .map_or(argv.len(), |i| i + 2);
    let mut all: Vec<OsString> = argv[..at].to_vec();
    all.extend(injected.iter().map(OsString::from));
    all.extend(argv[at..].iter().cloned());
    let mut cli = match Cli::try_parse_from_args(&all) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return Err(std::process::ExitCode::from(2));
        }
    };
    let conf = match &mut cli.command {
        Command::Run(args) => Some(&mut args.conf),
        Command::Serve(args) => Some(&mut args.conf),
        Command::Browse(args) => Some(&mut args.serve.conf),
        _ => None,
    };
    if let Some(conf) = conf {
        conf.allow = allow;
        conf.config_file = config;
    }
    Ok(cli)
}

impl Cli {
    fn try_parse_from_args(argv: &[OsString]) -> Result<Cli, clap::Error> {
        let matches = Cli::command().try_get_matches_from(argv)?;
        Cli::from_arg_matches(&matches)
    }
}

/// Reads and checks a config file for `command` (`run` or `serve`).
pub fn read(path: &Path, command: &str) -> Result<Settings, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: shown.clone(),
        source,
    })?;
    parse(&text, path, command)
}

/// Checks a config file's text for `command` (`path` names it in messages).
pub fn parse(text: &str, path: &Path, command: &str) -> Result<Settings, ConfigError> {
    let shown = path.display().to_string();
    let at = |loc: Loc, message: String| ConfigError::At {
        path: shown.clone(),
        loc,
        message,
    };
    let mut settings = Settings {
        path: path.to_path_buf(),
        ..Settings::default()
    };
    let blank = |l: &str| l.trim().is_empty() || l.trim_start().starts_with('#');
    if text.lines().all(blank) {
        return Ok(settings);
    }
    let root = yaml::parse(text).map_err(|e| at(e.loc, e.message))?;
    let entries = match &root.kind {
        NodeKind::Map(entries) => entries.as_slice(),
        _ if root.is_null() => &[],
        _ => {
            return Err(at(
                root.loc,
                format!("expected a mapping of settings, found {}", root.kind_name()),
            ))
        }
    };
    let run = Cli::command()
        .find_subcommand(command)
        .cloned()
        .ok_or_else(|| at(root.loc, format!("no `{command}` command to configure")))?;
    for (key, value) in entries {
        let name = key.as_str().unwrap_or_default();
        match name {
            "target" | "agent" if command == "serve" || (name == "target" && command != "run") => {
                return Err(at(
                    key.loc,
                    format!(
                        "`{name}` is a setting of `wsspec run`; `wsspec {command}` listens (options.listen) and its agents name themselves"
                    ),
                ))
            }
            "target" => settings.args.push(Setting {
                id: run
                    .get_positionals()
                    .next()
                    .map_or_else(|| "urls".to_string(), |a| a.get_id().to_string()),
                key: "target".into(),
                loc: value.loc,
                args: strings(value).map_err(|m| at(value.loc, format!("target: {m}")))?,
            }),
            "agent" | "cases" | "exclude" => settings.args.push(
                option(&run, command, name, name, key, value).map_err(|(l, m)| at(l, m))?,
            ),
            "options" => {
                let NodeKind::Map(options) = &value.kind else {
                    return Err(at(
                        value.loc,
                        format!(
                            "options: expected a mapping of `{command}` options (`timeout-scale: 2`), found {}",
                            value.kind_name()
                        ),
                    ));
                };
                for (k, v) in options {
                    let long = k.as_str().unwrap_or_default();
                    let key = format!("options.{long}");
                    settings
                        .args
                        .push(option(&run, command, long, &key, k, v).map_err(|(l, m)| at(l, m))?);
                }
            }
            "allow" => settings.allow = allow_list(value).map_err(|(loc, m)| at(loc, m))?,
            _ => {
                return Err(at(
                    key.loc,
                    format!(
                        "unknown setting `{name}`; expected target, agent, cases, exclude, options or allow"
                    ),
                ))
            }
        }
    }
    // Each setting alone must parse as the command would take it from a user.
    for s in &settings.args {
        let mut argv = vec!["wsspec".to_string(), command.to_string()];
        argv.extend(s.args.iter().cloned());
        match Cli::command().try_get_matches_from(&argv) {
            // `browse` needs its browser; that is the command line's to give.
            Err(e) if e.kind() != clap::error::ErrorKind::MissingRequiredArgument => {
                return Err(at(s.loc, format!("{}: {}", s.key, clap_reason(&e))));
            }
            _ => {}
        }
    }
    Ok(settings)
}

/// The first line of clap's message, without its `error: ` prefix.
fn clap_reason(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// A scalar or a list of scalars, as strings.
fn strings(node: &Node) -> Result<Vec<String>, String> {
    match &node.kind {
        NodeKind::Scalar { value, .. } => Ok(vec![value.clone()]),
        NodeKind::Seq(items) => items
            .iter()
            .map(|i| {
                i.as_str().map(str::to_string).ok_or_else(|| {
                    format!(
                        "expected a single value in the list, found {}",
                        i.kind_name()
                    )
                })
            })
            .collect(),
        NodeKind::Map(_) => Err("expected a value or a list of values, found a mapping".into()),
    }
}

/// The arguments for `command`'s option `--long` set to `value` (`name` is
/// its key in the file); an error at the key or at the value.
fn option(
    run: &clap::Command,
    command: &str,
    long: &str,
    key: &str,
    name: &Node,
    value: &Node,
) -> Result<Setting, (Loc, String)> {
    if NOT_SETTABLE.contains(&long) {
        return Err((
            name.loc,
            format!("{key}: `--{long}` cannot be set in a config file"),
        ));
    }
    let Some(arg) = run.get_arguments().find(|a| a.get_long() == Some(long)) else {
        return Err((
            name.loc,
            format!(
                "{key}: `wsspec {command}` has no option `--{long}` (see `wsspec {command} --help`)"
            ),
        ));
    };
    let bad = |m: String| (value.loc, m);
    let flag = format!("--{long}");
    let args = match arg.get_action() {
        ArgAction::SetTrue => match value.as_str() {
            Some("true") => vec![flag],
            Some("false") => vec![],
            _ => return Err(bad(format!("{key}: expected true or false"))),
        },
        ArgAction::Append => strings(value)
            .map_err(|m| bad(format!("{key}: {m}")))?
            .into_iter()
            .flat_map(|v| [flag.clone(), v])
            .collect(),
        _ => match value.as_str() {
            Some(v) => vec![flag, v.to_string()],
            None => {
                return Err(bad(format!(
                    "{key}: expected a single value, found {}",
                    value.kind_name()
                )))
            }
        },
    };
    Ok(Setting {
        id: arg.get_id().to_string(),
        key: key.to_string(),
        loc: value.loc,
        args,
    })
}

/// The `allow:` list: entries of `cases` (a glob or a list of them), a
/// `reason`, and optionally `drift` (`true`, `false` or `only`).
fn allow_list(node: &Node) -> Result<AllowList, (Loc, String)> {
    let NodeKind::Seq(items) = &node.kind else {
        return Err((
            node.loc,
            format!(
                "allow: expected a list of entries (`- cases: \"6.4.*\"` with a `reason`), found {}",
                node.kind_name()
            ),
        ));
    };
    let mut list = AllowList::default();
    for item in items {
        let NodeKind::Map(fields) = &item.kind else {
            return Err((
                item.loc,
                format!(
                    "allow: expected an entry with `cases` and `reason`, found {}",
                    item.kind_name()
                ),
            ));
        };
        for (k, _) in fields {
            let name = k.as_str().unwrap_or_default();
            if !matches!(name, "cases" | "reason" | "drift") {
                return Err((
                    k.loc,
                    format!(
                        "allow: unknown field `{name}`; an entry has `cases`, `reason` and optionally `drift`"
                    ),
                ));
            }
        }
        let cases = match item.get("cases") {
            Some(c) => strings(c).map_err(|m| (c.loc, format!("allow: cases: {m}")))?,
            None => return Err((item.loc, "allow: the entry has no `cases`".into())),
        };
        if cases.is_empty() || cases.iter().any(|c| c.trim().is_empty()) {
            return Err((item.loc, "allow: cases: an empty glob names no case".into()));
        }
        let reason = match item.get("reason") {
            Some(r) => match r.as_str() {
                Some(s) if !s.trim().is_empty() => s.trim().to_string(),
                _ => {
                    return Err((
                        r.loc,
                        "allow: reason: say why the deviation is expected (a non-empty text)"
                            .into(),
                    ))
                }
            },
            None => {
                return Err((
                    item.loc,
                    "allow: the entry has no `reason`; every expected deviation needs one".into(),
                ))
            }
        };
        let drift = match item.get("drift") {
            None => Drift::No,
            Some(d) => match (d.as_str(), &d.kind) {
                (Some("false"), NodeKind::Scalar { plain: true, .. }) => Drift::No,
                (Some("true"), NodeKind::Scalar { plain: true, .. }) => Drift::Also,
                (Some("only"), _) => Drift::Only,
                _ => {
                    return Err((
                        d.loc,
                        "allow: drift: expected true (deviations and snapshot drift), false, or only (snapshot drift alone)"
                            .into(),
                    ))
                }
            },
        };
        list.entries.push(AllowEntry {
            cases,
            reason,
            drift,
        });
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Settings, String> {
        parse(text, Path::new("wsspec.yaml"), "run").map_err(|e| e.to_string())
    }

    #[test]
    fn settings_become_the_arguments_they_stand_for() {
        let s = parsed(
            "target: ws://127.0.0.1:9001/\nagent: mine\ncases: ['1.*', '2.*']\nexclude: 2.10\n\
             options:\n  timeout-scale: 2\n  strict: true\n  no-give-up: false\n  header: ['A: b']\n",
        )
        .expect("valid");
        let args: Vec<(&str, Vec<String>)> = s
            .args
            .iter()
            .map(|a| (a.id.as_str(), a.args.clone()))
            .collect();
        let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            args,
            vec![
                ("urls", v(&["ws://127.0.0.1:9001/"])),
                ("agents", v(&["--agent", "mine"])),
                ("cases", v(&["--cases", "1.*", "--cases", "2.*"])),
                ("exclude", v(&["--exclude", "2.10"])),
                ("timeout_scale", v(&["--timeout-scale", "2"])),
                ("strict", v(&["--strict"])),
                ("no_give_up", v(&[])),
                ("headers", v(&["--header", "A: b"])),
            ]
        );
    }

    #[test]
    fn a_bad_setting_is_reported_at_its_line_and_column() {
        for (text, want) in [
            (
                "options:\n  timeout-scale: fast\n",
                "wsspec.yaml:2:18: options.timeout-scale: invalid value 'fast'",
            ),
            (
                "options:\n  no-such: 1\n",
                "wsspec.yaml:2:3: options.no-such: `wsspec run` has no option `--no-such`",
            ),
            (
                "options:\n  strict: yes please\n",
                "wsspec.yaml:2:11: options.strict: expected true or false",
            ),
            (
                "options:\n  config: x.yaml\n",
                "wsspec.yaml:2:3: options.config: `--config` cannot be set",
            ),
            ("targets: x\n", "wsspec.yaml:1:1: unknown setting `targets`"),
            (
                "options:\n  jobs: [1, 2]\n",
                "wsspec.yaml:2:9: options.jobs: expected a single value",
            ),
            (
                "allow:\n  - cases: '6.4.*'\n",
                "wsspec.yaml:2:5: allow: the entry has no `reason`",
            ),
            (
                "allow:\n  - cases: '6.4.*'\n    reason: ''\n",
                "wsspec.yaml:3:13: allow: reason: say why",
            ),
            (
                "allow:\n  - case: '6.4.*'\n    reason: x\n",
                "wsspec.yaml:2:5: allow: unknown field `case`",
            ),
            (
                "allow: 6.4.*\n",
                "wsspec.yaml:1:8: allow: expected a list of entries",
            ),
            (
                "allow:\n  - cases: '*'\n    reason: x\n    drift: sometimes\n",
                "wsspec.yaml:4:12: allow: drift: expected true",
            ),
            (
                "allow:\n  - cases: '*'\n    reason: x\n    drift: 'true'\n",
                "wsspec.yaml:4:12: allow: drift: expected true",
            ),
            (
                "options: {jobs: 4\n",
                "wsspec.yaml:2:1: while parsing a flow mapping",
            ),
            ("- 1\n", "wsspec.yaml:1:1: expected a mapping of settings"),
        ] {
            let got = parsed(text).expect_err(text);
            assert!(
                got.starts_with(want),
                "for {text:?}:\n got  {got}\n want {want}…"
            );
        }
    }

    #[test]
    fn an_entry_may_excuse_snapshot_drift_too_or_alone() {
        let s = parsed(
            "allow:\n  - cases: '*'\n    reason: browser updates\n    drift: only\n  - cases: 7.9.*\n    reason: echoes\n    drift: true\n  - cases: 6.*\n    reason: codes\n    drift: false\n",
        )
        .expect("valid");
        let drifts: Vec<Drift> = s.allow.entries.iter().map(|e| e.drift).collect();
        assert_eq!(drifts, [Drift::Only, Drift::Also, Drift::No]);
    }

    #[test]
    fn the_allow_list_keeps_its_entries_in_order() {
        let s = parsed(
            "allow:\n  - cases: '6.4.*'\n    reason: checks UTF-8 at the end\n  - cases: [7.5.1, '12.*']\n    reason: no compression\n",
        )
        .expect("valid");
        assert_eq!(
            s.allow.entries,
            vec![
                AllowEntry {
                    cases: vec!["6.4.*".into()],
                    reason: "checks UTF-8 at the end".into(),
                    drift: Drift::No,
                },
                AllowEntry {
                    cases: vec!["7.5.1".into(), "12.*".into()],
                    reason: "no compression".into(),
                    drift: Drift::No,
                },
            ]
        );
    }

    #[test]
    fn serve_takes_its_own_options_and_no_target() {
        let serve =
            |t: &str| parse(t, Path::new("wsspec.yaml"), "serve").map_err(|e| e.to_string());
        let s = serve("cases: '1.*'\noptions:\n  listen: 127.0.0.1:9002\n").expect("valid");
        assert_eq!(s.args[1].args, ["--listen", "127.0.0.1:9002"]);
        let e = serve("target: ws://x/\n").expect_err("run's");
        assert!(
            e.starts_with("wsspec.yaml:1:1: `target` is a setting of `wsspec run`"),
            "{e}"
        );
        let e = serve("options:\n  jobs: 4\n").expect_err("run's");
        assert!(
            e.starts_with("wsspec.yaml:2:3: options.jobs: `wsspec serve` has no option `--jobs`"),
            "{e}"
        );
    }

    #[test]
    fn an_empty_file_sets_nothing() {
        let s = parsed("# nothing yet\n").expect("valid");
        assert!(s.args.is_empty() && s.allow.is_empty());
    }
}
