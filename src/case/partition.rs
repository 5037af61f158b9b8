//! Sharding a selection across CI jobs (`--partition K/N`): shard K of N
//! takes every N-th case of the selection, counted separately for the
//! performance cases (which run one at a time and dominate the wall time)
//! and for the rest, so both spread evenly. The same selection always gives
//! the same shards, and the N shards together hold each case exactly once.

use super::Case;

/// Shard `k` of `n` (1-based), from `K/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub k: usize,
    pub n: usize,
}

impl std::str::FromStr for Partition {
    type Err = String;

    fn from_str(s: &str) -> Result<Partition, String> {
        let bad = || format!("`{s}` is not K/N with 1 <= K <= N (example: 2/4)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (usize, usize) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Partition { k, n })
    }
}

impl Partition {
    /// This shard's cases, in selection order.
    pub fn apply(&self, cases: Vec<Case>) -> Vec<Case> {
        let (mut perf, mut other) = (0usize, 0usize);
        cases
            .into_iter()
            .filter(|c| {
                let counter = if c.spec.performance {
                    &mut perf
                } else {
                    &mut other
                };
                let mine = *counter % self.n == self.k - 1;
                *counter += 1;
                mine
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n() {
        assert_eq!("2/4".parse(), Ok(Partition { k: 2, n: 4 }));
        for bad in ["0/4", "5/4", "1/0", "x/2", "2", "1/2/3", ""] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_cover_every_case_once_and_spread_performance_cases() {
        let all = crate::case::load::load(&crate::case::embedded_sources()).expect("corpus");
        let perf_total = all.iter().filter(|c| c.spec.performance).count();
        assert!(perf_total > 6);
        for n in [1, 2, 3, 7] {
            let mut seen = std::collections::BTreeMap::new();
            for k in 1..=n {
                let shard = Partition { k, n }.apply(all.clone());
                let perf = shard.iter().filter(|c| c.spec.performance).count();
                // Evenly: each shard within one of its fair share.
                assert!(perf.abs_diff(perf_total / n) <= 1, "{k}/{n}: {perf}");
                assert!(shard.len().abs_diff(all.len() / n) <= 2, "{k}/{n}");
                for c in shard {
                    *seen.entry(c.spec.id).or_insert(0) += 1;
                }
            }
            assert_eq!(seen.len(), all.len(), "every case in some shard ({n})");
            assert!(seen.values().all(|&v| v == 1), "once ({n})");
        }
    }
}
