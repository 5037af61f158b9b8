//! The overview page `wsspec serve` writes beside its per-agent reports: one
//! table with a row per case and a column per agent, as Autobahn's master
//! report has, each cell the case's outcome linking to that case in the
//! agent's own report (`<agent>/index.html#case-…`). A cell is empty where an
//! agent has not run the case. Like the per-run report it is one static file;
//! everything from the model is escaped with [`sanitize::html`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::case::filter::compare_ids;
use crate::judge::Outcome;
use crate::report::html::{anchor, rank, shown, utc, Shown, STYLE};
use crate::report::sanitize;
use crate::results::{CaseResult, RunResults};

/// One agent's column: its results and the folder its report is in, relative
/// to the overview page.
pub struct Column<'a> {
    pub results: &'a RunResults,
    pub folder: String,
}

fn esc(s: &str) -> String {
    sanitize::html(s)
}

/// Who the columns are: the clients `serve` tested, or the servers one `run`
/// tested (several targets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tested {
    Clients,
    Servers,
}

/// Renders the overview of several clients' runs (`serve`).
pub fn render(columns: &[Column<'_>]) -> String {
    render_tested(columns, Tested::Clients)
}

/// Renders the overview of several agents' runs, headed by who was tested.
/// Under `run` every column has its own server, so the page names none.
pub fn render_tested(columns: &[Column<'_>], tested: Tested) -> String {
    let mut h = String::new();
    let first = columns.first().map(|c| c.results);
    let who = match tested {
        Tested::Clients => "clients",
        Tested::Servers => "servers",
    };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>wsspec: {} agents</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header>\n<h1>wsspec: {who} tested</h1>\n<dl class=\"meta\">\n",
        columns.len()
    );
    if let Some(r) = first {
        let server = match tested {
            Tested::Clients => esc(&r.target),
            Tested::Servers => columns
                .iter()
                .map(|c| esc(&c.results.target))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let meta = [
            (
                if tested == Tested::Clients {
                    "Server"
                } else {
                    "Servers"
                },
                server,
            ),
            ("Started", esc(&utc(r.started_unix))),
            ("wsspec", esc(&r.tool_version)),
            ("Case corpus", esc(&r.corpus_version)),
        ];
        for (k, v) in meta {
            let _ = writeln!(h, "<dt>{k}</dt><dd>{v}</dd>");
        }
    }
    h.push_str("</dl>\n</header>\n");

    // Every case any agent ran, in id order, with its title.
    let mut titles: BTreeMap<String, String> = BTreeMap::new();
    let mut by_agent: Vec<BTreeMap<&str, &CaseResult>> = Vec::new();
    for col in columns {
        let mut cases = BTreeMap::new();
        for c in &col.results.cases {
            titles
                .entry(c.id.clone())
                .or_insert_with(|| c.title.clone());
            cases.insert(c.id.as_str(), c);
        }
        by_agent.push(cases);
    }
    let mut ids: Vec<&String> = titles.keys().collect();
    ids.sort_by(|a, b| compare_ids(a, b));

    // Every outcome, then any other state a case shows, in summary order.
    let mut states: Vec<Shown> = Outcome::ALL
        .iter()
        .map(|o| Shown {
            slug: crate::report::html::slug(*o),
            label: o.as_str(),
        })
        .collect();
    for c in columns.iter().flat_map(|col| &col.results.cases) {
        let s = shown(c);
        if !states.contains(&s) {
            states.push(s);
        }
    }
    states.sort_by_key(|s| rank(s.slug));
    h.push_str("<h2>Summary</h2>\n<table class=\"cases\">\n<thead><tr><th>Agent</th>");
    for s in &states {
        // Right-aligned over the right-aligned counts beneath.
        let _ = write!(h, "<th class=\"num\">{}</th>", s.label);
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for col in columns {
        let _ = write!(
            h,
            "<tr><td><a href=\"{}/index.html\">{}</a></td>",
            esc(&col.folder),
            esc(&col.results.agent)
        );
        for s in &states {
            let n = col.results.cases.iter().filter(|c| shown(c) == *s).count();
            let _ = write!(h, "<td class=\"num\">{n}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");

    h.push_str("<h2>Cases</h2>\n<table class=\"cases\">\n<thead><tr><th>Case</th><th>Title</th>");
    for col in columns {
        let _ = write!(h, "<th>{}</th>", esc(&col.results.agent));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    let mut groups_seen = BTreeSet::new();
    for id in ids {
        let group = id.split('.').next().unwrap_or("");
        if groups_seen.insert(group.to_string()) {
            let _ = writeln!(
                h,
                "<tr class=\"group\"><th colspan=\"{}\">Group {}</th></tr>",
                columns.len() + 2,
                esc(group)
            );
        }
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td>",
            esc(id),
            esc(titles.get(id).map(String::as_str).unwrap_or(""))
        );
        for (col, cases) in columns.iter().zip(&by_agent) {
            match cases.get(id.as_str()) {
                Some(c) => {
                    let s = shown(c);
                    let _ = write!(
                        h,
                        "<td><a class=\"badge o-{}\" href=\"{}/index.html#{}\" title=\"{}\">{}</a></td>",
                        s.slug,
                        esc(&col.folder),
                        anchor(&c.id),
                        esc(&c.verdict.behavior_reason),
                        s.label
                    );
                }
                None => h.push_str("<td></td>"),
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n<footer>Generated by wsspec.</footer>\n</body>\n</html>\n");
    h
}
