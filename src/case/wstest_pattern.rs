//! Case selection as Autobahn's `wstest` does it for a spec file
//! (`fuzzingclient.json`, `fuzzingserver.json`), kept apart from our own
//! globs (`filter.rs`, for `--cases`) because its rules differ. Read from
//! `autobahntestsuite/autobahntestsuite/caseset.py` (`resolveCasePatternList`,
//! `parseSpecCases`, `parseExcludeAgentCases`, `checkAgentCaseExclude`):
//! a case pattern with a `*` becomes a regular expression (`.` escaped, `*`
//! turned into `.*`, every other character left as regex syntax) matched with
//! Python's `re.match`, which anchors at the start only, so `12.*.1` also
//! selects `12.1.10` and `2.1*` selects `2.10`; a pattern without `*` is taken
//! verbatim as one id (wstest fails later on an id it does not have; so do
//! we). Excludes are resolved the same way and removed as a set, and the
//! result is sorted by id (numbers numerically, part by part). The agent
//! exclusions (`exclude-agent-cases`) anchor both ends, for the agent and for
//! the case: there `1.1.1` means exactly that case and `a.b` does not match
//! `axb`.

use std::collections::BTreeSet;

use regex_lite::Regex;

use super::filter::compare_ids;

/// What is wrong with a spec's case selection.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PatternError {
    /// A pattern is not a valid regular expression once translated (wstest
    /// would fail on it too).
    #[error("pattern `{pattern}` is not a valid expression after wstest's translation: {reason}")]
    Invalid { pattern: String, reason: String },
    /// A pattern without `*` names an id the corpus does not have.
    #[error("case `{0}` is not in the corpus (a pattern without `*` names one exact case)")]
    UnknownCase(String),
}

/// wstest's translation of a pattern into a regular expression.
fn translate(pattern: &str) -> String {
    pattern.replace('.', "\\.").replace('*', ".*")
}

fn compile(source: &str, pattern: &str) -> Result<Regex, PatternError> {
    Regex::new(source).map_err(|e| PatternError::Invalid {
        pattern: pattern.to_string(),
        reason: e.to_string(),
    })
}

/// `resolveCasePatternList`: every id a pattern list names, in the order of
/// the patterns (the ids of one wildcard pattern sorted), duplicates kept.
pub fn resolve(patterns: &[String], ids: &[&str]) -> Result<Vec<String>, PatternError> {
    let mut out = Vec::new();
    for p in patterns {
        if p.contains('*') {
            // `re.match`: anchored at the start, not at the end.
            let re = compile(&format!("^(?:{})", translate(p)), p)?;
            let mut hits: Vec<&str> = ids.iter().copied().filter(|id| re.is_match(id)).collect();
            hits.sort_by(|a, b| compare_ids(a, b));
            out.extend(hits.into_iter().map(String::from));
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// `parseSpecCases`: the included ids minus the excluded ones, sorted, each
/// once. An included id the corpus does not have is an error.
pub fn select(
    cases: &[String],
    exclude: &[String],
    ids: &[&str],
) -> Result<Vec<String>, PatternError> {
    let known: BTreeSet<&str> = ids.iter().copied().collect();
    let excluded: BTreeSet<String> = resolve(exclude, ids)?.into_iter().collect();
    let mut chosen: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    for id in resolve(cases, ids)? {
        if excluded.contains(&id) {
            continue;
        }
        if !known.contains(id.as_str()) {
            return Err(PatternError::UnknownCase(id));
        }
        if seen.insert(id.clone()) {
            chosen.push(id);
        }
    }
    chosen.sort_by(|a, b| compare_ids(a, b));
    Ok(chosen)
}

/// `exclude-agent-cases`, compiled: agent pattern → case patterns, both
/// anchored at both ends.
#[derive(Debug, Default)]
pub struct AgentExclusions {
    rules: Vec<(Regex, Vec<Regex>)>,
}

impl AgentExclusions {
    /// `parseExcludeAgentCases`.
    pub fn parse(rules: &[(String, Vec<String>)]) -> Result<AgentExclusions, PatternError> {
        let anchored = |p: &str| compile(&format!("^(?:{})$", translate(p)), p);
        let rules = rules
            .iter()
            .map(|(agent, cases)| {
                Ok((
                    anchored(agent)?,
                    cases
                        .iter()
                        .map(|c| anchored(c))
                        .collect::<Result<Vec<_>, _>>()?,
                ))
            })
            .collect::<Result<Vec<_>, PatternError>>()?;
        Ok(AgentExclusions { rules })
    }

    /// `checkAgentCaseExclude`: true when `agent` must not run `case`.
    pub fn excludes(&self, agent: &str, case: &str) -> bool {
        self.rules
            .iter()
            .any(|(a, cs)| a.is_match(agent) && cs.iter().any(|c| c.is_match(case)))
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn prefix_match_verbatim_ids_and_anchored_agents() {
        let ids = [
            "1.1.1", "1.1.10", "2.1", "2.10", "12.1.1", "12.1.10", "12.2.2",
        ];
        assert_eq!(
            select(&s(&["12.*.1"]), &[], &ids).unwrap(),
            s(&["12.1.1", "12.1.10"])
        );
        // No `*`: one exact id.
        assert_eq!(select(&s(&["1.1.1"]), &[], &ids).unwrap(), s(&["1.1.1"]));
        assert_eq!(
            select(&s(&["9.9.9"]), &[], &ids),
            Err(PatternError::UnknownCase("9.9.9".into()))
        );
        // Excluding `2.1*` removes 2.10 too; a verbatim exclude not in the
        // corpus is no error.
        assert_eq!(
            select(&s(&["2.*", "2.1"]), &s(&["2.1*", "7.7"]), &ids).unwrap(),
            Vec::<String>::new()
        );
        let ex = AgentExclusions::parse(&[("Auto*".into(), s(&["1.1.1"]))]).unwrap();
        assert!(ex.excludes("AutobahnServer", "1.1.1"));
        assert!(!ex.excludes("AutobahnServer", "1.1.10"));
        assert!(!ex.excludes("MyAutobahn", "1.1.1"));
        assert!(matches!(
            AgentExclusions::parse(&[("(".into(), vec![])]),
            Err(PatternError::Invalid { .. })
        ));
    }
}
