//! The single-file HTML report: one self-contained page (inline CSS, one
//! static inline script, no external resources) that works offline and
//! without scripts, and is better with them. From the top: a header naming
//! the tool and corpus versions, target, agent, start and wall time; a
//! summary counting cases per verdict and per snapshot state (NEW, DRIFT)
//! and how many fail the run; a group × case matrix coloured by verdict
//! ([`matrix`]); a table of contents by group; the filter bar ([`filters`],
//! shown only by its script) and a CSS-only "only cases that fail the run"
//! switch; the case table (id, title, requirement, RFC section, behaviour,
//! close verdict, snapshot, reason, remote close code, duration) grouped by
//! case group; then each case's `<details>` block ([`case`]) with its wire
//! log. A case's verdict maps to its label and CSS class in one place,
//! [`shown`]; whether it fails the run (verdict or snapshot change) in
//! another, [`fails_run`], which is what the "fail the run" switch filters
//! by, so a case failed by snapshot drift is never hidden as passing.
//! Everything taken from the model passes through [`sanitize::html`];
//! anchors are derived from case ids, so the same run always renders the
//! same page. Size is bounded: see [`case`].

use std::fmt::Write as _;

use crate::judge::{CloseVerdict, Outcome};
use crate::report::sanitize;
use crate::results::{CaseResult, RunResults};
use crate::snapshot::SnapshotStatus;

mod case;
mod filters;
mod matrix;
mod style;

pub use case::{MAX_WIRE_LINES, PASSING_EVENTS};
pub(crate) use style::STYLE;

/// Appends formatted text to a `String` (writing to a `String` cannot fail).
macro_rules! out {
    ($dst:expr, $($arg:tt)*) => {
        let _ = write!($dst, $($arg)*);
    };
}
pub(crate) use out;

/// Most characters of a reason shown in the case table (the case's
/// details hold all of it).
const MAX_REASON_SHOWN: usize = 200;

/// The anchor id for a case: `case-` then the id with `[A-Za-z0-9.-]` kept and
/// every other byte written `_hh`, so distinct ids give distinct anchors.
pub fn anchor(id: &str) -> String {
    let mut s = String::from("case-");
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
            s.push(b as char);
        } else {
            out!(s, "_{b:02x}");
        }
    }
    s
}

/// The CSS class suffix of an outcome.
pub(crate) fn slug(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::NonStrict => "non-strict",
        Outcome::Informational => "informational",
        Outcome::Unimplemented => "unimplemented",
        Outcome::Failed => "failed",
        Outcome::Error => "error",
    }
}

/// How a case's verdict is shown: its CSS class suffix (`o-…`, `row-…`)
/// and its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shown {
    pub slug: &'static str,
    pub label: &'static str,
}

/// The one mapping from a case to the verdict it shows. A new state of a
/// case (an allowed deviation, say) is one arm here, plus its colour in
/// [`STYLE`] and its place in [`rank`].
pub(crate) fn shown(c: &CaseResult) -> Shown {
    if c.is_allowed() {
        return Shown {
            slug: "allowed",
            label: crate::results::ALLOWED,
        };
    }
    let o = c.verdict.outcome;
    Shown {
        slug: slug(o),
        label: o.as_str(),
    }
}

/// Where a shown verdict stands in the summary and the filter (outcomes in
/// their order, anything else after them).
pub(crate) fn rank(slug_: &str) -> usize {
    Outcome::ALL
        .iter()
        .position(|o| slug(*o) == slug_)
        .unwrap_or(Outcome::ALL.len())
}

/// Whether a case fails the run `r`: a failing verdict the allow-list does
/// not excuse (NON-STRICT under `--strict`), a snapshot that is NEW or
/// DRIFT the allow-list does not excuse, or under `--strict-allowlist` a
/// stale allow-list entry naming it
/// ([`CaseResult::fails_run`]).
pub(crate) fn fails_run(c: &CaseResult, r: &RunResults) -> bool {
    let stale = if c.allowed.is_some() {
        r.stale_patterns()
    } else {
        std::collections::BTreeSet::new()
    };
    c.fails_run(r, &stale)
}

/// The snapshot state a case is filtered by: `MATCH`, `NEW`, `DRIFT`,
/// `STORED`, or `none` when the run keeps no snapshot for it.
pub(crate) fn snapshot_key(c: &CaseResult) -> &'static str {
    c.snapshot.as_ref().map_or("none", SnapshotStatus::as_str)
}

/// The one sentence that says why a case got its verdict: the snapshot
/// change when that is what fails an otherwise passing case, else the
/// failing verdict's reason ([`crate::judge::Verdict::headline`]).
pub(crate) fn reason(c: &CaseResult, r: &RunResults) -> String {
    if let Some(a) = c.allowed.as_ref().filter(|a| a.deviated) {
        return format!(
            "allowed ({}): {}; {}",
            c.verdict.outcome.as_str(),
            a.reason,
            c.verdict.headline()
        );
    }
    if c.is_drift_allowed() && !c.verdict_fails(r.strict) {
        let why = c.drift_allowed.as_ref().map_or("", |a| a.reason.as_str());
        return format!(
            "snapshot DRIFT, allowed: {why}; the wire differs from the stored snapshot"
        );
    }
    let snap_only = c.snapshot_fails() && !c.verdict_fails(r.strict);
    if snap_only {
        return match &c.snapshot {
            Some(SnapshotStatus::New) => "snapshot NEW: no stored snapshot for this case".into(),
            _ => "snapshot DRIFT: the wire differs from the stored snapshot".into(),
        };
    }
    c.verdict.headline()
}

/// `2026-07-01 12:34:56 UTC` from Unix seconds.
pub(crate) fn utc(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// A duration in milliseconds for display.
pub(crate) fn ms(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else {
        "?".into()
    }
}

/// `s` cut to at most `max` characters, with `…` when cut.
fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Renders the whole report.
pub fn render(r: &RunResults) -> String {
    let esc = sanitize::html;
    let mut h = String::with_capacity(64 * 1024 + r.cases.len() * 2 * 1024);
    let failed = r.failed();
    out!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>wsspec report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&r.agent)
    );
    header(&mut h, r, failed);
    summary(&mut h, r);

    h.push_str("<main>\n<h2>Overview</h2>\n");
    matrix::render(&mut h, r);
    toc(&mut h, r);

    h.push_str("<h2 id=\"cases\">Cases</h2>\n");
    filters::bar(&mut h, r);
    h.push_str(
        "<input type=\"checkbox\" id=\"hide-ok\"> <label for=\"hide-ok\">only cases that fail the run \
         (verdict or snapshot)</label>\n",
    );
    table(&mut h, r);

    h.push_str("<section class=\"details\">\n<h2>Case details</h2>\n");
    for c in &r.cases {
        case::details(&mut h, c, fails_run(c, r));
    }
    h.push_str("</section>\n</main>\n");
    out!(
        h,
        "<footer>Generated by wsspec {}. Self-contained: no external resources. \
         Wire logs of passing cases are shortened and long ones capped; results.json holds every recorded event.</footer>\n\
         <script>{}</script>\n</body>\n</html>\n",
        esc(&r.tool_version),
        filters::SCRIPT
    );
    h
}

/// What the cases ran over, as their transcripts show it: HTTP/1.1 or
/// HTTP/2 streams (RFC 8441), over TCP or TLS (version and ALPN).
fn transport(r: &RunResults) -> String {
    use crate::transcript::EventKind;
    let mut http2 = 0;
    let mut tls = None;
    for c in &r.cases {
        if c.transcript.over_http2() {
            http2 += 1;
        }
        if tls.is_none() {
            tls = c.transcript.kinds().find_map(|k| match k {
                EventKind::TlsEstablished { session } => Some(session.clone()),
                _ => None,
            });
        }
    }
    let http = match http2 {
        0 => "HTTP/1.1".to_string(),
        n if n == r.cases.len() => "HTTP/2 streams (RFC 8441)".to_string(),
        n => format!(
            "HTTP/2 streams (RFC 8441) for {n} of {} cases, HTTP/1.1 for the rest",
            r.cases.len()
        ),
    };
    match tls {
        Some(session) => format!("{http} over TLS ({session})"),
        None if r.cases.is_empty() => http,
        None => format!("{http} over TCP"),
    }
}

fn header(h: &mut String, r: &RunResults, failed: bool) {
    let esc = sanitize::html;
    out!(
        h,
        "<header>\n<h1>wsspec report <span class=\"badge {}\">{}</span></h1>\n<dl class=\"meta\">\n",
        if failed { "o-failed" } else { "o-ok" },
        if failed { "FAILED" } else { "PASSED" }
    );
    let meta = [
        ("Target", esc(&r.target)),
        ("Transport", esc(&transport(r))),
        ("Agent", esc(&r.agent)),
        ("Role under test", esc(r.role.as_str())),
        ("Started", esc(&utc(r.started_unix))),
        ("Wall time", format!("{} ms", ms(r.wall_ms))),
        (
            "Strict",
            (if r.strict {
                "yes (NON-STRICT fails the run)"
            } else {
                "no"
            })
            .to_string(),
        ),
        ("wsspec", esc(&r.tool_version)),
        ("Case corpus", esc(&r.corpus_version)),
        ("Results schema", r.schema.to_string()),
    ];
    for (k, v) in meta {
        out!(h, "<dt>{k}</dt><dd>{v}</dd>\n");
    }
    if let Some(t) = r.compression_totals() {
        out!(h, "<dt>Compression</dt><dd>{}</dd>\n", esc(&t.to_string()));
    }
    h.push_str("</dl>\n</header>\n");
}

/// Counts per shown verdict (every outcome, zero or not, then any other
/// state that occurs), per snapshot change, and of cases failing the run.
fn summary(h: &mut String, r: &RunResults) {
    out!(
        h,
        "<section class=\"summary\" id=\"summary\">\n<h2>Summary: {} cases</h2>\n<p>",
        r.cases.len()
    );
    let mut counts: Vec<(Shown, usize)> = Outcome::ALL
        .iter()
        .map(|o| {
            (
                Shown {
                    slug: slug(*o),
                    label: o.as_str(),
                },
                0,
            )
        })
        .collect();
    for c in &r.cases {
        let s = shown(c);
        match counts.iter_mut().find(|(k, _)| *k == s) {
            Some((_, n)) => *n += 1,
            None => counts.push((s, 1)),
        }
    }
    counts.sort_by_key(|(s, _)| rank(s.slug));
    for (s, n) in counts {
        out!(
            h,
            "<a class=\"badge o-{}\" data-count=\"{}\" href=\"?verdict={}#cases\">{n} {}</a>",
            s.slug,
            s.slug,
            s.slug,
            s.label
        );
    }
    h.push_str("</p>\n");
    if let Some((matched, new, drift)) = r.snapshot_counts() {
        out!(
            h,
            "<p>Snapshots: <a class=\"badge snap\" data-count=\"DRIFT\" href=\"?snapshot=DRIFT#cases\">{drift} DRIFT</a>\
             <a class=\"badge snap\" data-count=\"NEW\" href=\"?snapshot=NEW#cases\">{new} NEW</a>\
             <span class=\"badge snap\" data-count=\"MATCH\">{matched} MATCH</span>{}</p>\n",
            match r.allowed_drift_count() {
                0 => String::new(),
                n => format!(
                    " <span class=\"badge o-allowed\" data-count=\"DRIFT-allowed\">{n} DRIFT allowed</span>"
                ),
            }
        );
    }
    let failing = r.cases.iter().filter(|c| fails_run(c, r)).count();
    out!(
        h,
        "<p><b data-count=\"fail-run\">{failing}</b> of {} cases fail the run.</p>\n</section>\n",
        r.cases.len()
    );
}

/// The groups, each a plain link to its first row in the case table: the
/// way around the page without scripts.
fn toc(h: &mut String, r: &RunResults) {
    let esc = sanitize::html;
    h.push_str("<nav class=\"toc\" aria-label=\"groups\">\n");
    let mut group: Option<&str> = None;
    for c in &r.cases {
        if group != Some(c.group.as_str()) {
            group = Some(&c.group);
            out!(
                h,
                "<a href=\"#g-{}\">{} {}</a>\n",
                esc(&matrix::anchor_part(&c.group)),
                esc(&c.group),
                esc(&c.group_title)
            );
        }
    }
    h.push_str("</nav>\n");
}

fn table(h: &mut String, r: &RunResults) {
    let esc = sanitize::html;
    out!(
        h,
        "<table class=\"cases\" data-r=\"{}\">\n<thead><tr><th>Id</th><th>Title</th><th>Req.</th><th>RFC</th>\
         <th>Verdict</th><th>Behaviour</th><th>Close</th><th>Snapshot</th><th>Reason</th><th class=\"num\">Remote code</th>\
         <th class=\"num\">ms</th></tr></thead>\n<tbody>\n",
        esc(r.role.as_str())
    );
    let mut group: Option<&str> = None;
    for c in &r.cases {
        if group != Some(c.group.as_str()) {
            group = Some(&c.group);
            out!(
                h,
                "<tr class=\"group\" id=\"g-{}\" data-g=\"{}\"><th colspan=\"11\">group {}: {}</th></tr>\n",
                esc(&matrix::anchor_part(&c.group)),
                esc(&c.group),
                esc(&c.group),
                esc(&c.group_title)
            );
        }
        let v = &c.verdict;
        let s = shown(c);
        let close_class = match v.close {
            CloseVerdict::Ok | CloseVerdict::None | CloseVerdict::Informational => "c",
            CloseVerdict::FailedByClient => "c cns",
            _ => "c cbad",
        };
        let code = v
            .remote_close_code
            .map_or_else(|| "–".to_string(), |c| c.to_string());
        let fails = fails_run(c, r);
        let snap = snapshot_key(c);
        let snap_attr = if c.snapshot.is_some() {
            format!(" data-s=\"{snap}\"")
        } else {
            String::new()
        };
        let (snap_class, snap_text) = match &c.snapshot {
            Some(_) if c.is_drift_allowed() => (" class=\"sa\"", "DRIFT (allowed)"),
            Some(st) if st.is_change() => (" class=\"sn\"", snap),
            Some(_) => ("", snap),
            None => ("", ""),
        };
        let why = if v.outcome == Outcome::Ok && !fails {
            String::new()
        } else {
            esc(&cut(&reason(c, r), MAX_REASON_SHOWN))
        };
        out!(
            h,
            "<tr class=\"row-{} {}\"{snap_attr}>\
             <td><a href=\"#{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"v\">{}</td><td>{}</td><td class=\"{close_class}\">{}</td><td{snap_class}>{snap_text}</td>\
             <td class=\"why\">{why}</td><td class=\"num\">{code}</td><td class=\"num\">{}</td></tr>\n",
            s.slug,
            if fails { "f" } else { "p" },
            esc(&anchor(&c.id)),
            esc(&c.id),
            esc(&c.title),
            c.requirement.as_str(),
            esc(&c.rfc),
            s.label,
            v.behavior.as_str(),
            v.close.as_str(),
            ms(c.duration_ms)
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_injective_and_safe() {
        assert_eq!(anchor("1.1.1"), "case-1.1.1");
        assert_ne!(anchor("a_b"), anchor("a b"));
        assert_eq!(anchor("<x>"), "case-_3cx_3e");
    }

    #[test]
    fn reasons_are_cut_on_character_boundaries() {
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("ééééé", 2), "éé…");
    }

    #[test]
    fn unknown_states_rank_after_the_outcomes() {
        assert_eq!(rank("ok"), 0);
        assert_eq!(rank("error"), 5);
        assert_eq!(rank("allowed"), Outcome::ALL.len());
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }
}
