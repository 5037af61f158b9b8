//! Autobahn's spec files: wsspec selects cases exactly as wstest does.
//!
//! `tests/data/wstest_selection.json` was made by running the selection
//! functions of Autobahn's `autobahntestsuite/autobahntestsuite/caseset.py`
//! (`resolveCasePatternList`, `parseSpecCases`, `parseExcludeAgentCases`,
//! `checkAgentCaseExclude`; crossbario/autobahn-testsuite, copied into a
//! throwaway Python 3 script, not kept here) over the ids `wsspec list`
//! printed (`ids`). The one adaptation: wstest sorts by `int()` of each id
//! part, which raises on wsspec's own ids (`hs.1.1`), so the script sorted
//! numbers before names part by part, the same order for numeric ids. Each
//! row's `selected` is wstest's answer; this test asks wsspec the same.

use serde_json::Value;
use wsspec::case::wstest_pattern::{select, AgentExclusions};

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().expect("a string").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn selection_equals_wstest_on_the_table() {
    let data: Value = serde_json::from_str(include_str!("data/wstest_selection.json"))
        .expect("the table is JSON");
    let ids = strings(&data["ids"]);
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    // The ids wstest's logic saw are the corpus's (the corpus may grow).
    let corpus = wsspec::case::load::load_with_embedded(&[]).expect("the corpus loads");
    for id in &ids {
        assert!(
            corpus.iter().any(|c| c.spec.id == *id),
            "{id} is no longer in the corpus: regenerate the table"
        );
    }
    let table = data["table"].as_array().expect("a table");
    assert_eq!(table.len(), 20);
    for row in table {
        let spec = &row["spec"];
        let mut got = select(
            &strings(&spec["cases"]),
            &strings(&spec["exclude-cases"]),
            &ids,
        )
        .expect("selects");
        if let Some(agent) = row["agent"].as_str() {
            let rules: Vec<(String, Vec<String>)> = spec["exclude-agent-cases"]
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), strings(v))).collect())
                .unwrap_or_default();
            let ex = AgentExclusions::parse(&rules).expect("valid patterns");
            got.retain(|c| !ex.excludes(agent, c));
        }
        assert_eq!(got, strings(&row["selected"]), "spec {spec} agent {}", row["agent"]);
    }
}

#[test]
fn consequences_of_wstest_rules_named() {
    let data: Value = serde_json::from_str(include_str!("data/wstest_selection.json"))
        .expect("the table is JSON");
    let ids = strings(&data["ids"]);
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let sel = |c: &[&str], e: &[&str]| {
        let c: Vec<String> = c.iter().map(|s| s.to_string()).collect();
        let e: Vec<String> = e.iter().map(|s| s.to_string()).collect();
        select(&c, &e, &ids).expect("selects")
    };
    // `12.*.1` is a prefix match: 12.x.10..12.x.18 come along (5 × 10).
    let twelve = sel(&["12.*.1"], &[]);
    assert_eq!(twelve.len(), 50);
    assert!(twelve.contains(&"12.3.14".to_string()));
    // Without `*`, one exact id; `1.1.1*` would be a prefix.
    assert_eq!(sel(&["1.1.1"], &[]), ["1.1.1"]);
    assert_eq!(sel(&["2.1*"], &[]), ["2.1", "2.10", "2.11"]);
    // Excluding `7.1*` also drops 7.13.x.
    assert!(!sel(&["7.*"], &["7.1*"]).iter().any(|c| c.starts_with("7.13.")));
    // `*.1` is "contains .1 after anything": 1.1.2 matches.
    assert!(sel(&["*.1"], &[]).contains(&"1.1.2".to_string()));
}
