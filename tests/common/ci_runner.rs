//! A small CI runner for tests/ci_pipelines.rs: runs the shell steps of
//! `action.yml`, `ci/github-actions.yml` and `ci/gitlab-ci.yml` as the CI
//! would. The files are parsed with `wsspec::case::yaml`; `${{ name }}`
//! expressions and `if:` conditions (`always()`, `success()`, `failure()`,
//! `==`, `!=`, `&&`) are evaluated from a table, and anything else fails the
//! test; `GITHUB_PATH`, `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` are files
//! read back after each step; steps run in order with bash (`--noprofile
//! --norc -eo pipefail`, as GitHub's runner; GitLab's script lines as one
//! such script, then `after_script:`), each in a process group of its own,
//! in a temporary work folder with a HOME of its own. A `uses:` of the
//! wsspec action runs the action's steps; the third-party actions are
//! recorded (what they would publish or cache), not run, and must be pinned.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wsspec::case::yaml::{self, Node, NodeKind};

/// How long one step may take before the test fails (a hung step).
pub const STEP_DEADLINE: Duration = Duration::from_secs(120);

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn load(rel: &str) -> Node {
    let text = std::fs::read_to_string(repo().join(rel)).expect(rel);
    yaml::parse(&text).unwrap_or_else(|e| panic!("{rel}:{}: {}", e.loc, e.message))
}

pub fn entries(n: &Node) -> &[(Node, Node)] {
    match &n.kind {
        NodeKind::Map(e) => e,
        _ => panic!("a mapping expected at {}", n.loc),
    }
}

pub fn items(n: &Node) -> &[Node] {
    match &n.kind {
        NodeKind::Seq(s) => s,
        _ => panic!("a list expected at {}", n.loc),
    }
}

pub fn text(n: &Node) -> String {
    n.as_str()
        .unwrap_or_else(|| panic!("a scalar expected at {}", n.loc))
        .to_string()
}

pub fn field(n: &Node, key: &str) -> Option<String> {
    n.get(key).map(text)
}

/// A mapping of scalars (`env:`, `with:`, `variables:`), in order.
pub fn strings(n: Option<&Node>) -> BTreeMap<String, String> {
    n.map(|n| entries(n).iter().map(|(k, v)| (text(k), text(v))).collect())
        .unwrap_or_default()
}

/// The values `${{ … }}` can name, by their dotted path (`inputs.target`,
/// `env.WS_URL`, `steps.run.outputs.junit`, `github.repository`).
pub type Vars = BTreeMap<String, String>;

pub fn lookup(vars: &Vars, path: &str) -> String {
    if let Some(v) = vars.get(path) {
        return v.clone();
    }
    // An output a step did not set reads as empty, as on GitHub.
    assert!(
        path.starts_with("steps.") && path.contains(".outputs."),
        "expression `{path}` names nothing this pipeline defines"
    );
    String::new()
}

/// Replaces every `${{ path }}` in `s`.
pub fn expand(s: &str, vars: &Vars) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed expression in {s}"))
            + start;
        let expr = rest[start + 3..end].trim();
        assert!(
            expr.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
            "expression `{expr}` is more than a name; this runner evaluates names only"
        );
        out.push_str(&lookup(vars, expr));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// An `if:` condition: terms joined by `&&`, each `always()`, `success()`,
/// `failure()`, or `name == 'text'` / `name != 'text'`; without a status
/// function the step runs only while nothing has failed, as on GitHub.
pub fn condition(expr: Option<&str>, vars: &Vars, failed: bool) -> bool {
    let Some(expr) = expr else { return !failed };
    let expr = expr.trim();
    let expr = expr
        .strip_prefix("${{")
        .and_then(|e| e.strip_suffix("}}"))
        .unwrap_or(expr);
    let mut status_named = false;
    let mut value = true;
    for term in expr.split("&&").map(str::trim) {
        let t = match term {
            "always()" => {
                status_named = true;
                true
            }
            "success()" => {
                status_named = true;
                !failed
            }
            "failure()" => {
                status_named = true;
                failed
            }
            _ => {
                let (left, right, equal) = if let Some((l, r)) = term.split_once("!=") {
                    (l, r, false)
                } else if let Some((l, r)) = term.split_once("==") {
                    (l, r, true)
                } else {
                    panic!("condition `{term}` is not one this runner evaluates");
                };
                let literal = right
                    .trim()
                    .strip_prefix('\'')
                    .and_then(|r| r.strip_suffix('\''))
                    .unwrap_or_else(|| panic!("`{term}`: a quoted literal on the right"));
                (lookup(vars, left.trim()) == literal) == equal
            }
        };
        value &= t;
    }
    if status_named {
        value
    } else {
        value && !failed
    }
}

/// `key=value` lines of a `GITHUB_OUTPUT` file.
pub fn read_outputs(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A third-party action must be pinned to a full commit.
pub fn assert_pinned(uses: &str) {
    let (_, rev) = uses.split_once('@').expect("uses: owner/name@ref");
    assert!(
        rev.len() == 40 && rev.chars().all(|c| c.is_ascii_hexdigit()),
        "{uses} is not pinned to a commit"
    );
}

/// One CI job's machine: a work folder (the checked-out repository of the
/// server under test), a HOME, the PATH additions steps asked for, and a
/// log of every step's output.
pub struct Machine {
    pub dir: PathBuf,
    pub work: PathBuf,
    pub path_added: Vec<String>,
    pub base_env: BTreeMap<String, String>,
    pub steps_run: usize,
    pub log: String,
}

impl Machine {
    pub fn new(name: &str) -> Machine {
        let dir = std::env::temp_dir().join(format!("wsspec-ci-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let work = dir.join("work");
        std::fs::create_dir_all(&work).expect("work dir");
        std::fs::create_dir_all(dir.join("home")).expect("home");
        std::fs::create_dir_all(dir.join("runner-temp")).expect("runner temp");
        let real_home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
        let target = PathBuf::from(env!("CARGO_BIN_EXE_wsspec"))
            .parent()
            .and_then(Path::parent)
            .expect("target dir")
            .to_path_buf();
        let mut base_env = BTreeMap::new();
        base_env.insert("HOME".into(), dir.join("home").display().to_string());
        // cargo and rustup keep their own homes; the warm target folder makes
        // `cargo install --debug` of this checkout a copy, not a build.
        base_env.insert(
            "CARGO_HOME".into(),
            std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{real_home}/.cargo")),
        );
        base_env.insert(
            "RUSTUP_HOME".into(),
            std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{real_home}/.rustup")),
        );
        base_env.insert("CARGO_TARGET_DIR".into(), target.display().to_string());
        base_env.insert(
            "PATH".into(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
        );
        base_env.insert("CI".into(), "true".into());
        Machine {
            dir,
            work,
            path_added: Vec::new(),
            base_env,
            steps_run: 0,
            log: String::new(),
        }
    }

    /// Runs one step's shell text with `shell` (program and flags) in the
    /// work folder; its exit code. The output is kept in `self.log`.
    pub fn shell(
        &mut self,
        name: &str,
        shell: &[&str],
        script: &str,
        env: &BTreeMap<String, String>,
    ) -> i32 {
        self.steps_run += 1;
        let file = self.dir.join(format!("step-{}.sh", self.steps_run));
        std::fs::write(&file, script).expect("script");
        let out_path = self.dir.join(format!("step-{}.out", self.steps_run));
        let out = std::fs::File::create(&out_path).expect("step output");
        let mut cmd = Command::new(shell[0]);
        // The test's own environment, less what cargo set for the test
        // (CARGO_MANIFEST_DIR, OUT_DIR and the rest: a build script that watches one
        // would make the nested `cargo install` rebuild, and the next `cargo
        // test` again) and whatever a CI running this test set for itself.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            let cargos = (k.starts_with("CARGO") || k.starts_with("__CARGO") || k == "OUT_DIR")
                && k != "CARGO_HOME"
                && k != "CARGO_TARGET_DIR";
            if cargos
                || k.starts_with("GITHUB_")
                || k.starts_with("RUNNER_")
                || k.starts_with("CI_")
            {
                cmd.env_remove(&*k);
            }
        }
        cmd.args(&shell[1..])
            .arg(&file)
            .current_dir(&self.work)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out)
            .process_group(0);
        let mut path = self.path_added.clone();
        path.push(self.base_env["PATH"].clone());
        for (k, v) in &self.base_env {
            cmd.env(k, v);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.env("PATH", path.join(":"));
        let started = Instant::now();
        let mut child = cmd.spawn().expect("bash");
        let deadline = Instant::now() + STEP_DEADLINE;
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            if Instant::now() > deadline {
                // The step and whatever it started (its own process group).
                // SAFETY: killpg only sends a signal.
                unsafe {
                    libc::killpg(child.id() as i32, libc::SIGKILL);
                }
                let _ = child.wait();
                panic!(
                    "step `{name}` ran past {STEP_DEADLINE:?}:\n{}",
                    std::fs::read_to_string(&out_path).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let output = std::fs::read_to_string(&out_path).unwrap_or_default();
        let code = status.code().unwrap_or(-1);
        self.log.push_str(&format!(
            "--- {name} (exit {code}, {:.1} s)\n{output}\n",
            started.elapsed().as_secs_f64()
        ));
        code
    }

    pub fn file(&self, rel: &str) -> PathBuf {
        self.work.join(rel)
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        // Shown with --nocapture (and by libtest for a failing test).
        println!("{}", self.log);
        if std::thread::panicking() {
            // A failed test may have left the server a pipeline started
            // running, in a session of its own (setsid): its pid file names
            // it. (A passing test has checked that the pipeline stopped it.)
            let pid_files = [
                self.dir.join("runner-temp/wsspec-server.pid"),
                self.work.join("server.pid"),
            ];
            for pid in pid_files
                .iter()
                .filter_map(|f| std::fs::read_to_string(f).ok())
                .filter_map(|p| p.trim().parse::<i32>().ok())
                .filter(|p| *p > 1)
            {
                // SAFETY: killpg only sends a signal.
                unsafe {
                    libc::killpg(pid, libc::SIGKILL);
                }
            }
        } else if std::env::var_os("WSSPEC_KEEP_CI_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub const GITHUB_BASH: &[&str] = &["bash", "--noprofile", "--norc", "-eo", "pipefail"];

/// What a GitHub job did.
#[derive(Default)]
pub struct GithubJob {
    /// The exit code of the first step that failed; `None` when the job passed.
    pub failed_with: Option<i32>,
    pub summary: String,
    /// The wsspec action step's outputs.
    pub outputs: BTreeMap<String, String>,
    /// `report_paths` of the JUnit publishing step, `path` of the upload.
    pub published_junit: Vec<String>,
    pub uploaded: Vec<String>,
    /// `(path, key)` of the action's cache step.
    pub cache: Vec<(String, String)>,
}

/// The GitHub-specific files of one step, and the env that names them.
pub fn github_files(
    m: &Machine,
    n: usize,
) -> (BTreeMap<String, String>, PathBuf, PathBuf, PathBuf) {
    let output = m.dir.join(format!("output-{n}"));
    let summary = m.dir.join(format!("summary-{n}"));
    let path = m.dir.join(format!("path-{n}"));
    for f in [&output, &summary, &path] {
        std::fs::write(f, "").expect("github file");
    }
    let env = BTreeMap::from([
        ("GITHUB_OUTPUT".to_string(), output.display().to_string()),
        (
            "GITHUB_STEP_SUMMARY".to_string(),
            summary.display().to_string(),
        ),
        ("GITHUB_PATH".to_string(), path.display().to_string()),
    ]);
    (env, output, summary, path)
}

/// Runs one `run:` step the way GitHub does; its exit code and outputs.
pub fn github_run_step(
    m: &mut Machine,
    step: &Node,
    vars: &Vars,
    env: &BTreeMap<String, String>,
    summary: &mut String,
) -> (i32, BTreeMap<String, String>) {
    let name = field(step, "name").unwrap_or_else(|| "run".into());
    assert_eq!(
        field(step, "shell").as_deref(),
        Some("bash"),
        "step `{name}` names its shell"
    );
    let script = expand(&field(step, "run").expect("run"), vars);
    let mut env = env.clone();
    for (k, v) in strings(step.get("env")) {
        env.insert(k, expand(&v, vars));
    }
    let (files, output, step_summary, path) = github_files(m, m.steps_run + 1);
    env.extend(files);
    let code = m.shell(&name, GITHUB_BASH, &script, &env);
    summary.push_str(&std::fs::read_to_string(step_summary).unwrap_or_default());
    // Each added folder goes to the front of PATH for the later steps.
    for line in std::fs::read_to_string(path).unwrap_or_default().lines() {
        m.path_added.insert(0, line.to_string());
    }
    (code, read_outputs(&output))
}

/// Runs the composite action (`action.yml`) as the step `uses` with `with`;
/// its exit code (of the first failing step) and its outputs.
pub fn run_action(
    m: &mut Machine,
    uses: &str,
    with: &BTreeMap<String, String>,
    wf_vars: &Vars,
    env: &BTreeMap<String, String>,
    job: &mut GithubJob,
) -> (Option<i32>, BTreeMap<String, String>) {
    let action = load("action.yml");
    assert_eq!(
        field(action.get("runs").expect("runs"), "using").as_deref(),
        Some("composite")
    );
    let declared = action.get("inputs").expect("inputs");
    let mut vars: Vars = wf_vars
        .iter()
        .filter(|(k, _)| !k.starts_with("steps."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (name, spec) in entries(declared) {
        let name = text(name);
        let default = field(spec, "default").unwrap_or_default();
        let value = with.get(&name).cloned().unwrap_or(default);
        if field(spec, "required").as_deref() == Some("true") {
            assert!(!value.is_empty(), "input `{name}` is required");
        }
        vars.insert(format!("inputs.{name}"), value);
    }
    for key in with.keys() {
        assert!(
            declared.get(key).is_some(),
            "`with: {key}` is not an input of action.yml"
        );
    }
    // As on GitHub, the action's repository and ref are in the expressions
    // but not in GITHUB_ACTION_REPOSITORY/GITHUB_ACTION_REF, which the runner
    // leaves empty inside composite actions (actions/runner#2473).
    let (repo_name, git_ref) = uses.split_once('@').expect("owner/name@ref");
    vars.insert("github.action_repository".into(), repo_name.into());
    vars.insert("github.action_ref".into(), git_ref.into());
    let mut env = env.clone();
    env.insert("GITHUB_ACTION_REPOSITORY".into(), String::new());
    env.insert("GITHUB_ACTION_REF".into(), String::new());
    let mut failed: Option<i32> = None;
    for step in items(
        action
            .get("runs")
            .and_then(|r| r.get("steps"))
            .expect("steps"),
    ) {
        if !condition(field(step, "if").as_deref(), &vars, failed.is_some()) {
            continue;
        }
        if let Some(uses) = field(step, "uses") {
            assert!(uses.starts_with("actions/cache@"), "unexpected {uses}");
            assert_pinned(&uses);
            let with = strings(step.get("with"));
            job.cache
                .push((expand(&with["path"], &vars), expand(&with["key"], &vars)));
            continue;
        }
        let (code, outputs) = github_run_step(m, step, &vars, &env, &mut job.summary);
        if let Some(id) = field(step, "id") {
            for (k, v) in outputs {
                vars.insert(format!("steps.{id}.outputs.{k}"), v);
            }
        }
        if code != 0 && failed.is_none() {
            failed = Some(code);
        }
    }
    let outputs = entries(action.get("outputs").expect("outputs"))
        .iter()
        .map(|(k, v)| (text(k), expand(&field(v, "value").expect("value"), &vars)))
        .collect();
    (failed, outputs)
}

/// Runs ci/github-actions.yml: the workflow's `env:` overridden by `env`
/// (what a user fills in), the wsspec step's `with:` extended by `with`.
pub fn run_github(
    name: &str,
    env: &[(&str, String)],
    with: &[(&str, &str)],
    setup: impl FnOnce(&mut Machine),
) -> (Machine, GithubJob) {
    let wf = load("ci/github-actions.yml");
    let mut wf_env = strings(wf.get("env"));
    for (k, v) in env {
        assert!(
            wf_env.contains_key(*k),
            "the workflow has no env {k} to fill in"
        );
        wf_env.insert(k.to_string(), v.clone());
    }
    let mut machine = Machine::new(name);
    setup(&mut machine);
    let mut vars: Vars = wf_env
        .iter()
        .map(|(k, v)| (format!("env.{k}"), v.clone()))
        .collect();
    vars.insert("github.repository".into(), "acme/server".into());
    vars.insert("runner.os".into(), "Linux".into());
    let mut process_env = wf_env.clone();
    process_env.insert("GITHUB_REPOSITORY".into(), "acme/server".into());
    process_env.insert("GITHUB_SERVER_URL".into(), "https://github.com".into());
    process_env.insert("RUNNER_OS".into(), "Linux".into());
    process_env.insert(
        "RUNNER_TEMP".into(),
        machine.dir.join("runner-temp").display().to_string(),
    );
    let mut job = GithubJob::default();
    let jobs = entries(wf.get("jobs").expect("jobs"));
    assert_eq!(jobs.len(), 1, "one job");
    for step in items(jobs[0].1.get("steps").expect("steps")) {
        if !condition(
            field(step, "if").as_deref(),
            &vars,
            job.failed_with.is_some(),
        ) {
            continue;
        }
        if let Some(uses) = field(step, "uses") {
            let mut step_with: BTreeMap<String, String> = strings(step.get("with"))
                .into_iter()
                .map(|(k, v)| (k, expand(&v, &vars)))
                .collect();
            if uses.contains("/wsspec@") {
                for (k, v) in with {
                    step_with.insert(k.to_string(), v.to_string());
                }
                let (failed, outputs) = run_action(
                    &mut machine,
                    &uses,
                    &step_with,
                    &vars,
                    &process_env,
                    &mut job,
                );
                let id = field(step, "id").expect("the wsspec step has an id");
                for (k, v) in &outputs {
                    vars.insert(format!("steps.{id}.outputs.{k}"), v.clone());
                }
                job.outputs = outputs;
                if job.failed_with.is_none() {
                    job.failed_with = failed;
                }
            } else if uses.starts_with("actions/checkout@") {
                assert_pinned(&uses);
            } else if uses.starts_with("mikepenz/action-junit-report@") {
                assert_pinned(&uses);
                job.published_junit.push(step_with["report_paths"].clone());
            } else if uses.starts_with("actions/upload-artifact@") {
                assert_pinned(&uses);
                job.uploaded.push(step_with["path"].clone());
            } else {
                panic!("a step uses {uses}, which this runner does not know");
            }
            continue;
        }
        let mut summary = String::new();
        let (code, _) = github_run_step(&mut machine, step, &vars, &process_env, &mut summary);
        job.summary.push_str(&summary);
        if code != 0 && job.failed_with.is_none() {
            job.failed_with = Some(code);
        }
    }
    (machine, job)
}

/// A `cargo` first on the PATH that records its arguments, then installs
/// this checkout with the same flags (`--git URL --rev V wsspec` replaced by
/// `--path <checkout> --debug`), so the git form of the install runs without
/// the network.
pub fn cargo_shim(m: &mut Machine) -> PathBuf {
    let bin = m.dir.join("shim");
    std::fs::create_dir_all(&bin).expect("shim dir");
    let log = m.dir.join("cargo-args");
    let real = real_cargo();
    let script = format!(
        r#"#!/usr/bin/env bash
printf '%s\n' "$@" > '{log}'
args=(); skip=0
for a in "$@"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$a" in --git|--rev) skip=1 ;; wsspec) ;; *) args+=("$a") ;; esac
done
exec '{real}' "${{args[@]}}" --path '{checkout}' --debug
"#,
        log = log.display(),
        checkout = repo().display()
    );
    let path = bin.join("cargo");
    std::fs::write(&path, script).expect("shim");
    let _ = Command::new("chmod").arg("+x").arg(&path).status();
    let p = m.base_env["PATH"].clone();
    m.base_env
        .insert("PATH".into(), format!("{}:{p}", bin.display()));
    log
}

/// The cargo that runs this test (`CARGO`), else the first on the PATH.
pub fn real_cargo() -> String {
    if let Ok(c) = std::env::var("CARGO") {
        return c;
    }
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|d| Path::new(d).join("cargo"))
        .find(|p| p.is_file())
        .expect("cargo on the PATH")
        .display()
        .to_string()
}

/// What a GitLab pipeline did: each job's script exit code.
pub struct GitlabRun {
    pub machine: Machine,
    pub install: i32,
    pub test: i32,
    pub junit: String,
    pub artifacts: Vec<String>,
}

/// Runs ci/gitlab-ci.yml's two jobs in one work folder (the install job's
/// artifact, `.wsspec/bin/wsspec`, is there for the test job, as `needs:`
/// brings it): `script:` lines as one bash script (`-eo pipefail`, as
/// GitLab's runner), then `after_script:`.
pub fn run_gitlab(name: &str, variables: &[(&str, String)]) -> GitlabRun {
    let ci = load("ci/gitlab-ci.yml");
    let mut machine = Machine::new(name);
    let mut codes = Vec::new();
    let mut junit = String::new();
    let mut artifacts = Vec::new();
    for (k, _) in variables {
        assert!(
            ["wsspec-install", "websocket-conformance"]
                .iter()
                .any(|j| ci
                    .get(j)
                    .and_then(|j| j.get("variables"))
                    .and_then(|v| v.get(k))
                    .is_some()),
            "the pipeline has no variable {k} to fill in"
        );
    }
    for job_name in ["wsspec-install", "websocket-conformance"] {
        let job = ci.get(job_name).unwrap_or_else(|| panic!("job {job_name}"));
        let mut vars = strings(job.get("variables"));
        for (k, v) in variables {
            if vars.contains_key(*k) {
                vars.insert(k.to_string(), v.clone());
            }
        }
        vars.insert("CI_PROJECT_PATH".into(), "acme/server".into());
        vars.insert("CI_COMMIT_SHORT_SHA".into(), "0123abcd".into());
        let lines: Vec<String> = items(job.get("script").expect("script"))
            .iter()
            .map(text)
            .collect();
        let code = machine.shell(
            job_name,
            &["bash", "--noprofile", "--norc", "-eo", "pipefail"],
            &lines.join("\n"),
            &vars,
        );
        if let Some(after) = job.get("after_script") {
            let lines: Vec<String> = items(after).iter().map(text).collect();
            machine.shell(
                &format!("{job_name} after_script"),
                &["bash", "--noprofile", "--norc"],
                &lines.join("\n"),
                &vars,
            );
        }
        codes.push(code);
        if let Some(a) = job.get("artifacts") {
            if let Some(paths) = a.get("paths") {
                artifacts.extend(items(paths).iter().map(text));
            }
            if let Some(j) = a.get("reports").and_then(|r| r.get("junit")) {
                junit = text(j);
                assert_eq!(
                    field(a, "when").as_deref(),
                    Some("always"),
                    "reports kept when the job fails"
                );
            }
        }
        if code != 0 {
            break;
        }
    }
    let cache_key = ci
        .get("wsspec-install")
        .and_then(|j| j.get("cache"))
        .and_then(|c| field(c, "key"))
        .expect("the install job is cached");
    assert!(
        cache_key.contains("$WSSPEC_VERSION"),
        "cached per version: {cache_key}"
    );
    GitlabRun {
        install: codes[0],
        test: codes.get(1).copied().unwrap_or(-1),
        machine,
        junit,
        artifacts,
    }
}
