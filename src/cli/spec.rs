//! Autobahn's spec files as `--spec`: `fuzzingclient.json` for `run` (its
//! servers, each with `agent`, `url` and the rest) and `fuzzingserver.json`
//! for `serve` (its `url` is the listen address), both with `cases`,
//! `exclude-cases`, `exclude-agent-cases` and `outdir`. This module reads the
//! JSON (a syntax error as `file:line:column`), warns about keys wsspec does
//! not use instead of failing (files in the wild carry extra ones), and
//! selects the cases with wstest's own rules ([`crate::case::wstest_pattern`]).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::{Map, Value};

use crate::case::wstest_pattern::{self, AgentExclusions};
use crate::case::{Case, Role};

/// What both kinds of spec file share: the selection and the output folder.
pub struct Selection {
    pub cases: Vec<String>,
    pub exclude_cases: Vec<String>,
    pub exclude_agent_cases: AgentExclusions,
    pub outdir: Option<PathBuf>,
}

/// One entry of fuzzingclient.json's `servers`.
pub struct SpecServer {
    pub url: String,
    pub agent: Option<String>,
    pub origin: Option<String>,
    pub protocols: Vec<String>,
}

/// fuzzingclient.json.
pub struct ClientSpec {
    pub selection: Selection,
    pub servers: Vec<SpecServer>,
}

/// fuzzingserver.json.
pub struct ServerSpec {
    pub selection: Selection,
    /// `url`: `ws://host:port`, listened on as `host:port`.
    pub listen: Option<String>,
}

/// Reads the file as one JSON object; a syntax error names file:line:column.
fn read_object(path: &Path) -> anyhow::Result<Map<String, Value>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read spec file {}", path.display()))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        let msg = e.to_string();
        let msg = msg
            .rsplit_once(" at line ")
            .map_or(msg.as_str(), |(m, _)| m)
            .to_string();
        anyhow::anyhow!(
            "{}:{}:{}: invalid JSON: {msg}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    match value {
        Value::Object(m) => Ok(m),
        _ => bail!("{}: a spec file is one JSON object", path.display()),
    }
}

fn strings(path: &Path, key: &str, v: &Value) -> anyhow::Result<Vec<String>> {
    let bad = || anyhow::anyhow!("{}: `{key}` must be a list of strings", path.display());
    v.as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|x| x.as_str().map(String::from).ok_or_else(bad))
        .collect()
}

fn string(path: &Path, key: &str, v: &Value) -> anyhow::Result<String> {
    v.as_str()
        .map(String::from)
        .ok_or_else(|| anyhow::anyhow!("{}: `{key}` must be a string", path.display()))
}

fn note_unused(path: &Path, key: &str, why: &str) {
    eprintln!(
        "note: {}: `{}` ignored ({why})",
        path.display(),
        crate::report::console::terminal_safe(key)
    );
}

/// The keys both files share; the others are handed back.
fn selection(path: &Path, m: &Map<String, Value>) -> anyhow::Result<Selection> {
    let cases = match m.get("cases") {
        Some(v) => strings(path, "cases", v)?,
        // wstest fails without it too.
        None => bail!("{}: `cases` is missing (e.g. [\"*\"])", path.display()),
    };
    let exclude_cases = match m.get("exclude-cases") {
        Some(v) => strings(path, "exclude-cases", v)?,
        None => Vec::new(),
    };
    let rules = match m.get("exclude-agent-cases") {
        None => Vec::new(),
        Some(Value::Object(o)) => o
            .iter()
            .map(|(agent, cases)| {
                Ok((
                    agent.clone(),
                    strings(path, &format!("exclude-agent-cases.{agent}"), cases)?,
                ))
            })
            .collect::<anyhow::Result<Vec<_>>>()?,
        Some(_) => bail!(
            "{}: `exclude-agent-cases` must map agent patterns to lists of case patterns",
            path.display()
        ),
    };
    let exclude_agent_cases = AgentExclusions::parse(&rules)
        .with_context(|| format!("{}: exclude-agent-cases", path.display()))?;
    let outdir = match m.get("outdir") {
        Some(v) => Some(PathBuf::from(string(path, "outdir", v)?)),
        None => None,
    };
    Ok(Selection {
        cases,
        exclude_cases,
        exclude_agent_cases,
        outdir,
    })
}

const SHARED: [&str; 4] = ["cases", "exclude-cases", "exclude-agent-cases", "outdir"];

/// Reads fuzzingclient.json (`run --spec`).
pub fn read_client(path: &Path) -> anyhow::Result<ClientSpec> {
    let m = read_object(path)?;
    let selection = selection(path, &m)?;
    let mut servers = Vec::new();
    for (key, v) in &m {
        match key.as_str() {
            k if SHARED.contains(&k) => {}
            "servers" => {
                let list = v.as_array().ok_or_else(|| {
                    anyhow::anyhow!("{}: `servers` must be a list", path.display())
                })?;
                for (i, s) in list.iter().enumerate() {
                    servers.push(server(path, i, s)?);
                }
            }
            "options" => note_unused(path, key, "Autobahn's protocol options; use wsspec's flags"),
            _ => note_unused(path, key, "not a key wsspec reads"),
        }
    }
    if servers.is_empty() {
        bail!("{}: `servers` lists no server", path.display());
    }
    Ok(ClientSpec { selection, servers })
}

fn server(path: &Path, i: usize, v: &Value) -> anyhow::Result<SpecServer> {
    let Some(o) = v.as_object() else {
        bail!("{}: servers[{i}] must be an object", path.display());
    };
    let mut url = None;
    let mut out = SpecServer {
        url: String::new(),
        agent: None,
        origin: None,
        protocols: Vec::new(),
    };
    for (key, v) in o {
        let name = format!("servers[{i}].{key}");
        match key.as_str() {
            "url" => url = Some(string(path, &name, v)?),
            "agent" => out.agent = Some(string(path, &name, v)?),
            "origin" => out.origin = Some(string(path, &name, v)?),
            "protocols" => out.protocols = strings(path, &name, v)?,
            "options" => note_unused(
                path,
                &name,
                "Autobahn's protocol options; use wsspec's flags",
            ),
            "hostname" => note_unused(path, &name, "for TLS, use --servername"),
            _ => note_unused(path, &name, "not a key wsspec reads"),
        }
    }
    match url {
        Some(u) => out.url = u,
        None => bail!("{}: servers[{i}] has no `url`", path.display()),
    }
    Ok(out)
}

/// Reads fuzzingserver.json (`serve --spec`).
pub fn read_server(path: &Path) -> anyhow::Result<ServerSpec> {
    let m = read_object(path)?;
    let selection = selection(path, &m)?;
    let mut listen = None;
    for (key, v) in &m {
        match key.as_str() {
            k if SHARED.contains(&k) => {}
            "url" => listen = Some(listen_address(path, &string(path, "url", v)?)?),
            "options" => note_unused(path, key, "Autobahn's protocol options; use wsspec's flags"),
            "webport" => note_unused(path, key, "wsspec serves no web page for browser clients"),
            _ => note_unused(path, key, "not a key wsspec reads"),
        }
    }
    Ok(ServerSpec { selection, listen })
}

/// `ws://host:port` → `host:port` (Autobahn's default port 80 when none).
fn listen_address(path: &Path, url: &str) -> anyhow::Result<String> {
    let Some(rest) = url.strip_prefix("ws://") else {
        bail!(
            "{}: `url` must be ws://host:port (for wss://, use --listen with the TLS flags), got `{url}`",
            path.display()
        );
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    if authority.is_empty() {
        bail!("{}: `url` has no host: `{url}`", path.display());
    }
    let has_port = match authority.rsplit_once(':') {
        Some((_, port)) => !port.contains(']'),
        None => false,
    };
    Ok(if has_port {
        authority.to_string()
    } else {
        format!("{authority}:80")
    })
}

impl Selection {
    /// The cases wstest would select from `corpus`, for `role`, in wstest's
    /// order (before any agent exclusion).
    pub fn select(&self, corpus: Vec<Case>, role: Role) -> anyhow::Result<Vec<Case>> {
        let ids: Vec<&str> = corpus.iter().map(|c| c.spec.id.as_str()).collect();
        let chosen = wstest_pattern::select(&self.cases, &self.exclude_cases, &ids)?;
        let mut by_id: std::collections::HashMap<String, Case> =
            corpus.into_iter().map(|c| (c.spec.id.clone(), c)).collect();
        let (cases, other_role): (Vec<Case>, Vec<Case>) = chosen
            .iter()
            .filter_map(|id| by_id.remove(id))
            .partition(|c| c.spec.roles.contains(&role));
        // A glob reaching the other role's cases is how wstest specs are
        // written ("*"); an id named exactly for the wrong file is a mistake
        // worth a word.
        let named: Vec<&str> = other_role
            .iter()
            .map(|c| c.spec.id.as_str())
            .filter(|id| self.cases.iter().any(|p| p == id))
            .collect();
        if !named.is_empty() {
            eprintln!(
                "note: left out, not {} case(s): {} (they are run by `{}`)",
                role_name(role),
                crate::report::console::terminal_safe(&named.join(", ")),
                match role {
                    Role::Server => "wsspec serve --spec fuzzingserver.json",
                    Role::Client => "wsspec run --spec fuzzingclient.json",
                }
            );
        }
        if cases.is_empty() {
            bail!("the spec's cases select no {} case", role_name(role));
        }
        Ok(cases)
    }

    /// `cases` without those `exclude-agent-cases` excludes for `agent`.
    pub fn for_agent(&self, cases: &[Case], agent: &str) -> Vec<Case> {
        cases
            .iter()
            .filter(|c| !self.exclude_agent_cases.excludes(agent, &c.spec.id))
            .cloned()
            .collect()
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Server => "server-role",
        Role::Client => "client-role",
    }
}

#[cfg(test)]
mod tests {
    use super::listen_address;
    use std::path::Path;

    #[test]
    fn listen_addresses() {
        let p = Path::new("s.json");
        assert_eq!(
            listen_address(p, "ws://127.0.0.1:9001").unwrap(),
            "127.0.0.1:9001"
        );
        assert_eq!(
            listen_address(p, "ws://localhost/").unwrap(),
            "localhost:80"
        );
        assert_eq!(listen_address(p, "ws://[::1]:9").unwrap(), "[::1]:9");
        assert_eq!(listen_address(p, "ws://[::1]").unwrap(), "[::1]:80");
        assert!(listen_address(p, "wss://x:1").is_err());
    }
}
