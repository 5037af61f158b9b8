//! Expected deviations: the allow-list a project keeps of cases its target is
//! known to fail (each entry a set of case-id globs and the reason), and what
//! it does to a case's result. A case whose outcome deviates (FAILED, ERROR
//! or NON-STRICT) and that an entry names is ALLOWED: its verdict is kept
//! as judged, the entry's reason is added, and it no longer fails the run. A
//! case an entry names that no longer deviates is *stale*: it is reported,
//! and fails the run only under `--strict-allowlist`, so that entries are
//! removed once the target is fixed. An entry may also excuse *snapshot
//! drift* of its cases (`drift: true`, or `drift: only` for drift alone): a
//! case whose snapshot drifted is then reported as allowed drift, its
//! `.snap.new` still written for review, and the drift no longer fails the
//! run (a NEW snapshot still does; so does drift no entry excuses). Browsers
//! need this: a distribution's browser update changes what they do without
//! anyone here changing anything. A drift excuse is a standing policy: a
//! `drift: only` entry is never stale (a `drift: true` one is, when none of
//! its cases deviated). The list is applied where a case is concluded
//! ([`crate::conclude`]); reporters only render the result.

use serde::{Deserialize, Serialize};

use crate::case::filter::glob_match;
use crate::judge::Outcome;

/// One allow-list entry: the cases it names and why their deviation is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    /// Case-id globs (`6.4.*`, `7.5.1`), as `--cases` takes them.
    pub cases: Vec<String>,
    pub reason: String,
    /// Whether the entry excuses snapshot drift (`drift:` in the config).
    pub drift: Drift,
}

/// What an entry excuses besides, or instead of, a deviating verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Drift {
    /// `drift: false` (the default): deviating verdicts only.
    #[default]
    No,
    /// `drift: true`: deviating verdicts and snapshot drift.
    Also,
    /// `drift: only`: snapshot drift only; its cases' verdicts count as judged.
    Only,
}

/// Snapshot drift an allow-list entry excuses, kept in the case's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftAllowance {
    /// The glob of the entry that named the case.
    pub pattern: String,
    pub reason: String,
}

/// The expected deviations of a run, first matching entry wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    pub entries: Vec<AllowEntry>,
}

/// What the allow-list said about one case, kept in its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allowance {
    /// The glob of the entry that named the case.
    pub pattern: String,
    pub reason: String,
    /// True when the case deviated and is excused (ALLOWED); false when it
    /// passed although the entry expects it to deviate (a stale entry).
    pub deviated: bool,
}

/// Whether an outcome is a deviation an allow-list entry can excuse: one
/// that fails a run, with or without `--strict`.
pub fn deviates(outcome: Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Failed | Outcome::Error | Outcome::NonStrict
    )
}

impl AllowList {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first entry naming `id` that excuses deviating verdicts, with
    /// the glob that matched.
    pub fn lookup(&self, id: &str) -> Option<(&str, &AllowEntry)> {
        self.first(id, |e| e.drift != Drift::Only)
    }

    /// The first entry naming `id` for which `wanted` holds, with the glob.
    fn first(&self, id: &str, wanted: impl Fn(&AllowEntry) -> bool) -> Option<(&str, &AllowEntry)> {
        self.entries.iter().filter(|e| wanted(e)).find_map(|e| {
            e.cases
                .iter()
                .find(|p| glob_match(p, id))
                .map(|p| (p.as_str(), e))
        })
    }

    /// What the list says of case `id` that ended with `outcome`: nothing
    /// when no entry excusing verdicts names it.
    pub fn allowance(&self, id: &str, outcome: Outcome) -> Option<Allowance> {
        self.lookup(id).map(|(pattern, entry)| Allowance {
            pattern: pattern.to_string(),
            reason: entry.reason.clone(),
            deviated: deviates(outcome),
        })
    }

    /// The entry excusing snapshot drift of case `id`, when one names it
    /// (the first with `drift: true` or `drift: only`).
    pub fn drift_allowance(&self, id: &str) -> Option<DriftAllowance> {
        self.first(id, |e| e.drift != Drift::No)
            .map(|(pattern, entry)| DriftAllowance {
                pattern: pattern.to_string(),
                reason: entry.reason.clone(),
            })
    }

    /// Globs of the list that name none of `ids` (likely typos).
    pub fn unmatched<'a>(&'a self, ids: &[&str]) -> Vec<&'a str> {
        self.entries
            .iter()
            .flat_map(|e| e.cases.iter())
            .filter(|p| !ids.iter().any(|id| glob_match(p, id)))
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> AllowList {
        AllowList {
            entries: vec![
                AllowEntry {
                    cases: vec!["6.4.*".into(), "7.5.1".into()],
                    reason: "UTF-8 checked at message end".into(),
                    drift: Drift::No,
                },
                AllowEntry {
                    cases: vec!["6.*".into()],
                    reason: "second".into(),
                    drift: Drift::No,
                },
            ],
        }
    }

    #[test]
    fn the_first_entry_naming_a_case_wins_with_the_glob_that_matched() {
        let l = list();
        let a = l.allowance("6.4.2", Outcome::Failed).expect("named");
        assert_eq!(a.pattern, "6.4.*");
        assert_eq!(a.reason, "UTF-8 checked at message end");
        assert!(a.deviated);
        assert_eq!(
            l.allowance("6.2.1", Outcome::Failed).expect("named").reason,
            "second"
        );
        assert_eq!(
            l.allowance("7.5.1", Outcome::Ok).map(|a| a.deviated),
            Some(false)
        );
        assert!(l.allowance("7.5.10", Outcome::Failed).is_none());
        assert!(l.allowance("1.1.1", Outcome::Failed).is_none());
    }

    #[test]
    fn drift_is_excused_only_by_entries_that_say_so_and_drift_only_excuses_no_verdict() {
        let mut l = list();
        assert!(l.drift_allowance("6.4.2").is_none());
        l.entries.insert(
            0,
            AllowEntry {
                cases: vec!["*".into()],
                reason: "browser updates".into(),
                drift: Drift::Only,
            },
        );
        l.entries.push(AllowEntry {
            cases: vec!["7.*".into()],
            reason: "close codes".into(),
            drift: Drift::Also,
        });
        // The drift-only entry comes first but excuses no verdict.
        assert_eq!(
            l.allowance("6.4.2", Outcome::Failed).expect("named").reason,
            "UTF-8 checked at message end"
        );
        assert!(l.allowance("1.1.1", Outcome::Failed).is_none());
        assert_eq!(
            l.allowance("7.9.1", Outcome::Failed).expect("named").reason,
            "close codes"
        );
        let d = l.drift_allowance("1.1.1").expect("drift excused");
        assert_eq!(
            (d.pattern.as_str(), d.reason.as_str()),
            ("*", "browser updates")
        );
        l.entries.remove(0);
        assert_eq!(
            l.drift_allowance("7.9.1").map(|d| d.reason),
            Some("close codes".to_string())
        );
        assert!(l.drift_allowance("1.1.1").is_none());
        assert!(l.drift_allowance("6.4.2").is_none());
    }

    #[test]
    fn only_outcomes_that_can_fail_a_run_deviate() {
        for (o, d) in [
            (Outcome::Ok, false),
            (Outcome::Informational, false),
            (Outcome::Unimplemented, false),
            (Outcome::NonStrict, true),
            (Outcome::Failed, true),
            (Outcome::Error, true),
        ] {
            assert_eq!(deviates(o), d, "{o:?}");
        }
    }

    #[test]
    fn globs_naming_no_case_are_listed() {
        assert_eq!(list().unmatched(&["6.4.1", "6.1.1"]), vec!["7.5.1"]);
        assert!(list().unmatched(&["6.4.1", "7.5.1"]).is_empty());
    }
}
