//! Comparison of a stored snapshot body with an observed one: equal is MATCH,
//! nothing stored is NEW, anything else is DRIFT with a unified diff (the
//! `similar` crate, three lines of context, headers `stored` and `observed`).

use serde::{Deserialize, Serialize};
use similar::TextDiff;

/// How an observed snapshot compares with the stored one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SnapshotStatus {
    /// The observed text equals the stored text.
    Match,
    /// No snapshot was stored for this case.
    New,
    /// The texts differ; `diff` is a unified diff from stored to observed.
    Drift { diff: String },
    /// (`--snapshots-update`) The observation was written as the accepted
    /// snapshot: none was stored before (`replaced` false), or a different
    /// one was (`replaced` true).
    Stored { replaced: bool },
}

impl SnapshotStatus {
    /// `MATCH`, `NEW` or `DRIFT`, for reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            SnapshotStatus::Match => "MATCH",
            SnapshotStatus::New => "NEW",
            SnapshotStatus::Drift { .. } => "DRIFT",
            SnapshotStatus::Stored { .. } => "STORED",
        }
    }

    /// NEW and DRIFT make a run fail (under `--snapshots-update` they are
    /// STORED instead, which does not).
    pub fn is_change(&self) -> bool {
        matches!(self, SnapshotStatus::New | SnapshotStatus::Drift { .. })
    }
}

/// Compares bodies. Like insta, trailing whitespace at the end of the text and
/// CRLF line ends do not count (a checkout with `autocrlf` must not drift).
pub fn compare(stored: Option<&str>, observed: &str) -> SnapshotStatus {
    let Some(stored) = stored else {
        return SnapshotStatus::New;
    };
    let (a, b) = (canonical(stored), canonical(observed));
    if a == b {
        SnapshotStatus::Match
    } else {
        SnapshotStatus::Drift {
            diff: unified_diff(&a, &b),
        }
    }
}

/// A unified diff from `stored` to `observed`, with `stored` / `observed` headers.
pub fn unified_diff(stored: &str, observed: &str) -> String {
    let (a, b) = (with_final_newline(stored), with_final_newline(observed));
    TextDiff::from_lines(a.as_str(), b.as_str())
        .unified_diff()
        .context_radius(3)
        .header("stored", "observed")
        .to_string()
}

/// The form bodies are compared in: LF line ends, no trailing whitespace at the end.
pub fn canonical(body: &str) -> String {
    body.replace("\r\n", "\n").trim_end().to_string()
}

fn with_final_newline(s: &str) -> String {
    let mut s = s.to_string();
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_match_drift() {
        assert_eq!(compare(None, "a\n"), SnapshotStatus::New);
        assert_eq!(compare(Some("a\nb\n"), "a\nb\n"), SnapshotStatus::Match);
        assert_eq!(compare(Some("a\r\nb"), "a\nb\n\n"), SnapshotStatus::Match);
        let SnapshotStatus::Drift { diff } = compare(Some("a\nb\nc\n"), "a\nB\nc\n") else {
            panic!("expected drift");
        };
        assert_eq!(
            diff,
            "--- stored\n+++ observed\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        );
    }

    #[test]
    fn context_is_three_lines() {
        let stored: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let observed = stored.replace("line 10\n", "line ten\n");
        let SnapshotStatus::Drift { diff } = compare(Some(&stored), &observed) else {
            panic!("expected drift");
        };
        assert!(diff.contains("@@ -7,7 +7,7 @@"), "{diff}");
        assert!(!diff.contains("line 6\n"), "{diff}");
        assert!(
            diff.contains(" line 7\n") && diff.contains(" line 13\n"),
            "{diff}"
        );
    }
}
