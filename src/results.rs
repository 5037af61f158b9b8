//! The result model every report renders: one record per case (what it is,
//! what it expected, its verdict, its duration and its transcript) plus the run's
//! identity (tool and corpus versions, target, agent, wall time). `results.json`
//! is this model serialized, so it holds everything the other reports show.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::allow::{Allowance, DriftAllowance};
use crate::case::model::{Closer, EventPattern, Requirement, Role};
use crate::case::Case;
use crate::judge::{Outcome, Verdict};
use crate::snapshot::SnapshotStatus;
use crate::transcript::{CompressionTotals, Transcript};

/// One judged case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseResult {
    pub id: String,
    pub title: String,
    pub group: String,
    pub group_title: String,
    pub rfc: String,
    pub requirement: Requirement,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub autobahn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// The expectation in words.
    pub expectation: String,
    pub performance: bool,
    pub verdict: Verdict,
    pub duration_ms: f64,
    /// The snapshot comparison, when the run keeps snapshots.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub snapshot: Option<SnapshotStatus>,
    /// The permessage-deflate messages each way, when there were any:
    /// counted over the whole transcript, of which `transcript` may keep
    /// only the first and last events.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub compression: Option<CompressionTotals>,
    /// What the run's allow-list says of the case, when an entry names it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub allowed: Option<Allowance>,
    /// The allow-list entry that excuses the case's snapshot DRIFT, when it
    /// drifted and an entry with `drift` names it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub drift_allowed: Option<DriftAllowance>,
    pub transcript: Transcript,
}

impl CaseResult {
    pub fn new(
        case: &Case,
        verdict: Verdict,
        transcript: Transcript,
        snapshot: Option<SnapshotStatus>,
    ) -> CaseResult {
        CaseResult {
            id: case.spec.id.clone(),
            title: case.spec.title.clone(),
            group: case.group.clone(),
            group_title: case.group_title.clone(),
            rfc: case.rfc.clone(),
            requirement: case.spec.requirement,
            autobahn: case.spec.autobahn.clone(),
            description: case.spec.description.clone(),
            expectation: describe_expectation(case),
            performance: case.spec.performance,
            verdict,
            duration_ms: transcript.duration_us as f64 / 1000.0,
            snapshot,
            compression: transcript.compression_totals(),
            allowed: None,
            drift_allowed: None,
            transcript,
        }
    }

    /// Whether the case's snapshot is pending review and fails the run:
    /// NEW, or DRIFT that no allow-list entry excuses.
    pub fn snapshot_fails(&self) -> bool {
        self.snapshot
            .as_ref()
            .is_some_and(SnapshotStatus::is_change)
            && !self.is_drift_allowed()
    }

    /// Whether the snapshot drifted and an allow-list entry excuses it.
    pub fn is_drift_allowed(&self) -> bool {
        self.drift_allowed.is_some() && matches!(self.snapshot, Some(SnapshotStatus::Drift { .. }))
    }

    /// Whether the case deviated and an allow-list entry excuses it (ALLOWED).
    pub fn is_allowed(&self) -> bool {
        self.allowed.as_ref().is_some_and(|a| a.deviated)
    }

    /// Whether the case was named by one of the `stale` globs (see
    /// [`RunResults::stale_patterns`]).
    pub fn is_named_by_stale(&self, stale: &BTreeSet<&str>) -> bool {
        self.allowed
            .as_ref()
            .is_some_and(|a| !a.deviated && stale.contains(a.pattern.as_str()))
    }

    /// Whether the case's verdict fails a run under these rules (NON-STRICT
    /// only with `strict`), unless the allow-list excuses it.
    pub fn verdict_fails(&self, strict: bool) -> bool {
        self.verdict.outcome.fails(strict) && !self.is_allowed()
    }

    /// Whether the case fails the run `r`, whose stale allow-list globs are
    /// `stale`: its verdict, a snapshot pending review (NEW, or DRIFT the
    /// allow-list does not excuse), or under `--strict-allowlist` a stale
    /// glob naming it.
    pub fn fails_run(&self, r: &RunResults, stale: &BTreeSet<&str>) -> bool {
        self.verdict_fails(r.strict)
            || self.snapshot_fails()
            || (r.strict_allowlist && self.is_named_by_stale(stale))
    }

    /// The word reports show for the case: ALLOWED for an excused
    /// deviation, else its outcome.
    pub fn label(&self) -> &'static str {
        if self.is_allowed() {
            ALLOWED
        } else {
            self.verdict.outcome.as_str()
        }
    }
}

/// The word for a deviation the allow-list excuses.
pub const ALLOWED: &str = "ALLOWED";

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResults {
    /// Version of the results.json schema.
    pub schema: u32,
    pub tool_version: String,
    pub corpus_version: String,
    /// `server` when wsspec tested a server, `client` under `serve`.
    pub role: Role,
    pub target: String,
    pub agent: String,
    /// Seconds since the Unix epoch when the run started.
    pub started_unix: u64,
    pub wall_ms: f64,
    pub strict: bool,
    /// Whether an allow-list entry naming a case that passed fails the run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub strict_allowlist: bool,
    /// Cases per outcome.
    pub counts: BTreeMap<String, usize>,
    pub cases: Vec<CaseResult>,
}

/// When a run started: the wall clock for reports, the monotonic clock for its length.
#[derive(Debug, Clone, Copy)]
pub struct RunClock {
    pub unix_secs: u64,
    pub at: std::time::Instant,
}

impl RunClock {
    pub fn start() -> RunClock {
        RunClock {
            unix_secs: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            at: std::time::Instant::now(),
        }
    }
}

/// Who was tested, and how the run counts.
#[derive(Debug, Clone)]
pub struct RunIdentity {
    pub role: Role,
    pub target: String,
    pub agent: String,
    pub strict: bool,
    /// `--strict-allowlist`: a stale allow-list entry fails the run.
    pub strict_allowlist: bool,
}

impl RunResults {
    /// The compressed messages of every case, each way; none when no case
    /// compressed anything.
    pub fn compression_totals(&self) -> Option<CompressionTotals> {
        let mut all: Option<CompressionTotals> = None;
        for c in self.cases.iter().filter_map(|c| c.compression.as_ref()) {
            let t = all.get_or_insert_with(CompressionTotals::default);
            t.add(c);
        }
        all
    }
}

/// Why shards cannot be merged into one run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    #[error("nothing to merge")]
    Empty,
    #[error("the shards differ in {what}: `{first}` and `{other}`")]
    Mismatch {
        what: &'static str,
        first: String,
        other: String,
    },
    #[error("case {0} is in more than one shard")]
    Duplicate(String),
}

impl RunResults {
    /// One run from the shards of a partitioned one (`wsspec merge`): the
    /// cases of all, ordered by `position` (their place in the corpus), the
    /// counts recounted; it started when the first shard did and took as
    /// long as the longest. The shards must come from the same tool, corpus,
    /// target, agent, role and `--strict`.
    pub fn merged(
        shards: Vec<RunResults>,
        position: impl Fn(&str) -> usize,
    ) -> Result<RunResults, MergeError> {
        let mut shards = shards.into_iter();
        let mut merged = shards.next().ok_or(MergeError::Empty)?;
        for shard in shards {
            let pairs: [(&'static str, String, String); 8] = [
                (
                    "schema",
                    merged.schema.to_string(),
                    shard.schema.to_string(),
                ),
                (
                    "tool version",
                    merged.tool_version.clone(),
                    shard.tool_version.clone(),
                ),
                (
                    "corpus version",
                    merged.corpus_version.clone(),
                    shard.corpus_version.clone(),
                ),
                (
                    "role",
                    format!("{:?}", merged.role),
                    format!("{:?}", shard.role),
                ),
                ("target", merged.target.clone(), shard.target.clone()),
                ("agent", merged.agent.clone(), shard.agent.clone()),
                (
                    "--strict",
                    merged.strict.to_string(),
                    shard.strict.to_string(),
                ),
                (
                    "--strict-allowlist",
                    merged.strict_allowlist.to_string(),
                    shard.strict_allowlist.to_string(),
                ),
            ];
            if let Some((what, first, other)) = pairs.into_iter().find(|(_, a, b)| a != b) {
                return Err(MergeError::Mismatch { what, first, other });
            }
            merged.started_unix = merged.started_unix.min(shard.started_unix);
            merged.wall_ms = merged.wall_ms.max(shard.wall_ms);
            merged.cases.extend(shard.cases);
        }
        let mut ids = std::collections::BTreeSet::new();
        if let Some(twice) = merged.cases.iter().find(|c| !ids.insert(c.id.as_str())) {
            return Err(MergeError::Duplicate(twice.id.clone()));
        }
        merged.cases.sort_by(|a, b| {
            position(&a.id)
                .cmp(&position(&b.id))
                .then_with(|| crate::case::filter::compare_ids(&a.id, &b.id))
        });
        merged.counts = RunResults::tally(&merged.cases);
        Ok(merged)
    }

    /// The results of a run that started at `clock` and ends now.
    pub fn new(identity: RunIdentity, clock: RunClock, cases: Vec<CaseResult>) -> RunResults {
        RunResults {
            schema: 1,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            corpus_version: crate::case::CORPUS_VERSION.to_string(),
            role: identity.role,
            target: identity.target,
            agent: identity.agent,
            started_unix: clock.unix_secs,
            wall_ms: clock.at.elapsed().as_secs_f64() * 1000.0,
            strict: identity.strict,
            strict_allowlist: identity.strict_allowlist,
            counts: RunResults::tally(&cases),
            cases,
        }
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.cases
            .iter()
            .filter(|c| c.verdict.outcome == outcome)
            .count()
    }

    pub fn tally(cases: &[CaseResult]) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for o in Outcome::ALL {
            m.insert(
                o.as_str().to_string(),
                cases.iter().filter(|c| c.verdict.outcome == o).count(),
            );
        }
        m
    }

    /// Whether the run fails (exit code 1): a failing verdict the allow-list
    /// does not excuse, a snapshot that is NEW or DRIFT (pending review)
    /// unless the allow-list excuses the drift, or
    /// under `--strict-allowlist` a stale allow-list entry.
    pub fn failed(&self) -> bool {
        let stale = self.stale_patterns();
        self.cases.iter().any(|c| c.fails_run(self, &stale))
    }

    /// Cases the allow-list excuses (ALLOWED).
    pub fn allowed_count(&self) -> usize {
        self.cases.iter().filter(|c| c.is_allowed()).count()
    }

    /// Cases whose snapshot DRIFT the allow-list excuses.
    pub fn allowed_drift_count(&self) -> usize {
        self.cases.iter().filter(|c| c.is_drift_allowed()).count()
    }

    /// The allow-list globs that named cases of this run of which none
    /// deviated: entries the target has outgrown.
    pub fn stale_patterns(&self) -> BTreeSet<&str> {
        let mut named: BTreeMap<&str, bool> = BTreeMap::new();
        for a in self.cases.iter().filter_map(|c| c.allowed.as_ref()) {
            *named.entry(a.pattern.as_str()).or_default() |= a.deviated;
        }
        named
            .into_iter()
            .filter(|(_, deviated)| !deviated)
            .map(|(p, _)| p)
            .collect()
    }

    /// Cases per snapshot status (match, new, drift), when snapshots are kept.
    pub fn snapshot_counts(&self) -> Option<(usize, usize, usize)> {
        let with: Vec<&SnapshotStatus> = self
            .cases
            .iter()
            .filter_map(|c| c.snapshot.as_ref())
            .collect();
        if with.is_empty() {
            return None;
        }
        let count = |f: fn(&SnapshotStatus) -> bool| with.iter().filter(|s| f(s)).count();
        Some((
            count(|s| matches!(s, SnapshotStatus::Match)),
            count(|s| {
                matches!(
                    s,
                    SnapshotStatus::New | SnapshotStatus::Stored { replaced: false }
                )
            }),
            count(|s| {
                matches!(
                    s,
                    SnapshotStatus::Drift { .. } | SnapshotStatus::Stored { replaced: true }
                )
            }),
        ))
    }
}

/// The case's expectation as a sentence for reports.
pub fn describe_expectation(case: &Case) -> String {
    let e = &case.spec.expect;
    let list = |ps: &[EventPattern]| -> String {
        if ps.is_empty() {
            return "nothing".into();
        }
        ps.iter()
            .map(|p| match p {
                EventPattern::Echo => "echo".to_string(),
                EventPattern::Echoes(n) => format!("{n} echoes"),
                EventPattern::Pong => "pong".to_string(),
                EventPattern::Pongs(n) => format!("{n} pongs"),
                EventPattern::Text(p) => format!("text message ({} bytes)", p.len()),
                EventPattern::Binary(p) => format!("binary message ({} bytes)", p.len()),
                EventPattern::PongOf(p) => format!("pong ({} bytes)", p.len()),
                EventPattern::Marker(m) => format!("marker {m}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut s = String::new();
    if case.spec.informational {
        s.push_str("INFORMATIONAL (recorded, not graded). ");
    }
    if !e.handshake.allows_upgrade() || e.handshake.status.0.len() > 1 {
        s.push_str(&format!("HTTP status {}", e.handshake.status));
        if e.handshake.or_close {
            s.push_str(" (or a close without response)");
        }
        s.push_str(". ");
    }
    for h in &e.handshake.headers {
        if let Some(t) = &h.has_token {
            s.push_str(&format!("{} lists `{t}`. ", h.name));
        }
        if let Some(t) = &h.lacks_token {
            s.push_str(&format!("{} does not list `{t}`. ", h.name));
        }
        if h.absent {
            s.push_str(&format!("no {} header. ", h.name));
        }
    }
    s.push_str(&format!("OK: {}", list(&e.ok)));
    if let Some(ns) = &e.non_strict {
        s.push_str(&format!("; NON-STRICT: {}", list(ns)));
    }
    let c = &e.close;
    let codes = if c.codes.is_empty() {
        "any code".to_string()
    } else {
        c.codes
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join("/")
    };
    let who = match c.by {
        Closer::Harness => "wsspec closes; the peer answers",
        Closer::Peer => "the peer fails the connection",
    };
    s.push_str(&format!(
        ". Close: {who}, code {codes} or none{}",
        if c.clean {
            ", clean handshake required"
        } else {
            ""
        }
    ));
    s
}

#[cfg(test)]
mod float_tests {
    /// Durations read back from results.json are the numbers written (serde_json's
    /// default float parser is not always correctly rounded; `wsspec merge`
    /// rewrites shards' numbers and must not change them).
    #[test]
    fn durations_survive_a_round_trip_through_json() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let ms = (x % 100_000_000) as f64 / 1000.0 + (x % 7) as f64 / 3.0;
            let text = serde_json::to_string(&ms).expect("serialize");
            let back: f64 = serde_json::from_str(&text).expect("parse");
            assert_eq!(back.to_bits(), ms.to_bits(), "{text}");
        }
    }
}
