//! The overview at the top of the report, after Autobahn's: one row per case
//! group, one small cell per case coloured by its verdict and linking to the
//! case's details, so a run of hundreds of cases is read at a glance. A cell
//! whose snapshot is DRIFT has a solid outline, NEW a dotted one; its
//! tooltip names the case, its verdict and its snapshot state.

use std::fmt::Write as _;

use crate::report::sanitize;
use crate::results::{CaseResult, RunResults};
use crate::snapshot::SnapshotStatus;

use super::{anchor, shown};

/// The group × case matrix.
pub(super) fn render(h: &mut String, r: &RunResults) {
    let esc = sanitize::html;
    h.push_str("<table class=\"matrix\" aria-label=\"cases by group\">\n");
    let mut group: Option<&str> = None;
    for c in &r.cases {
        if group != Some(c.group.as_str()) {
            if group.is_some() {
                h.push_str("</td></tr>\n");
            }
            group = Some(&c.group);
            let _ = write!(
                h,
                "<tr><th><a href=\"#g-{}\" title=\"{}\">{}</a></th><td>",
                esc(&anchor_part(&c.group)),
                esc(&c.group_title),
                esc(&c.group)
            );
        }
        cell(h, c);
    }
    if group.is_some() {
        h.push_str("</td></tr>\n");
    }
    h.push_str("</table>\n");
}

fn cell(h: &mut String, c: &CaseResult) {
    let esc = sanitize::html;
    let s = shown(c);
    let (mark, note) = match &c.snapshot {
        Some(SnapshotStatus::Drift { .. }) => (" d", ", snapshot DRIFT"),
        Some(SnapshotStatus::New) => (" n", ", snapshot NEW"),
        _ => ("", ""),
    };
    let _ = write!(
        h,
        "<a class=\"o-{}{mark}\" href=\"#{}\" title=\"{} {}{note}\"></a>",
        s.slug,
        anchor(&c.id),
        esc(&c.id),
        s.label
    );
}

/// The anchor of a group's first table row: `g-` then [`anchor`]'s rule.
pub(super) fn anchor_part(group: &str) -> String {
    anchor(group)["case-".len()..].to_string()
}
