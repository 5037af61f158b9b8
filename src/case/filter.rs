//! Case selection by id: Autobahn-style globs (`5.*`, `1.1.*`, `6.4.?`), where
//! `*` matches any run of characters (dots included) and `?` one character. A
//! pattern matches the whole id. Ids sort numerically part by part, so 1.1.10
//! follows 1.1.9.

use std::cmp::Ordering;

/// True when `pattern` matches all of `id`.
pub fn glob_match(pattern: &str, id: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = id.chars().collect();
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Include/exclude globs; an empty include list selects everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl Selection {
    pub fn selects(&self, id: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| glob_match(p, id)))
            && !self.exclude.iter().any(|p| glob_match(p, id))
    }
}

/// Orders case ids part by part, numbers numerically.
pub fn compare_ids(a: &str, b: &str) -> Ordering {
    let mut pa = a.split('.');
    let mut pb = b.split('.');
    loop {
        match (pa.next(), pb.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    _ => x.cmp(y),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let table = [
            ("5.*", "5.19", true),
            ("5.*", "15.1", false),
            ("1.1.*", "1.1.8", true),
            ("1.1.*", "1.2.8", false),
            ("*", "x", true),
            ("6.4.?", "6.4.3", true),
            ("6.4.?", "6.4.10", false),
            ("2.1", "2.10", false),
            ("2.1", "2.1", true),
            ("12.*.1", "12.3.1", true),
            ("12.*.1", "12.3.10", false),
            // Trailing stars match nothing too.
            ("2.1*", "2.1", true),
            ("2.1**", "2.1", true),
            ("*", "", true),
            ("?", "", false),
            // A star that must give back what it took.
            ("*.1", "1.1.1", true),
            ("*1.1", "1.1.1", true),
            ("1*1*1", "1.1.1", true),
            ("1*2", "1.1.1", false),
        ];
        for (p, id, want) in table {
            assert_eq!(glob_match(p, id), want, "{p} vs {id}");
        }
    }

    #[test]
    fn selection_and_order() {
        let s = Selection {
            include: vec!["2.*".into()],
            exclude: vec!["2.1*".into()],
        };
        assert!(s.selects("2.9"));
        assert!(!s.selects("2.10"));
        assert!(!s.selects("3.1"));
        let mut ids = vec![
            "hs.1.1", "1.1.10", "cl.2.3", "1.1.9", "10.1.1", "2.1", "1.2.1", "1.1", "fr.1.x",
            "fr.1.2", "1.-x", "1._x",
        ];
        ids.sort_by(|a, b| compare_ids(a, b));
        // Both directions: a sort alone would not notice a comparison that
        // is not antisymmetric.
        for (a, b) in [("1.2", "1.-x"), ("2", "cl"), ("1.1", "1.1.1"), ("9", "10")] {
            assert_eq!(compare_ids(a, b), Ordering::Less, "{a} < {b}");
            assert_eq!(compare_ids(b, a), Ordering::Greater, "{b} > {a}");
        }
        assert_eq!(compare_ids("1.a", "1.a"), Ordering::Equal);
        // Numbers before names (even `-`, which sorts before digits as text),
        // part by part; a shorter id first.
        assert_eq!(
            ids,
            [
                "1.1", "1.1.9", "1.1.10", "1.2.1", "1.-x", "1._x", "2.1", "10.1.1", "cl.2.3",
                "fr.1.2", "fr.1.x", "hs.1.1"
            ]
        );
    }
}
