//! Shards: `--shard I/N` runs a deterministic part of the selection, so N machines run
//! the whole of it between them, nothing twice, and `ft merge` makes one record of them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Part `index` (1-based) of `total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub total: usize,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `I/N` with 1 <= I <= N, as Playwright and nextest write it.
    fn from_str(s: &str) -> Result<Shard, String> {
        let hint = "write it as I/N, e.g. --shard 2/4 for the second of four parts";
        let (i, n) = s.trim().split_once('/').ok_or_else(|| format!("`{s}` is not a shard: {hint}"))?;
        let number = |part: &str| part.trim().parse::<usize>().map_err(|_| format!("`{s}` is not a shard: {hint}"));
        let (index, total) = (number(i)?, number(n)?);
        if total == 0 || index == 0 || index > total {
            return Err(format!("`{s}` is not a shard: I must be between 1 and N, and N at least 1 ({hint})"));
        }
        Ok(Shard { index, total })
    }
}

impl Shard {
    /// The positions (into the selection, in spec order) this shard runs: every N-th,
    /// starting at I. Round robin keeps neighbouring scenarios (often alike in length)
    /// apart, and depends on nothing but the selection, so every machine computes the
    /// same split.
    pub fn pick(&self, selected: usize) -> Vec<usize> {
        (self.index - 1..selected).step_by(self.total).collect()
    }

    /// Which shard (1-based) runs each position of the selection. With each scenario's
    /// last known time, longest first onto the least loaded shard (ties: fewer scenarios,
    /// then the lower index), so the shards end together; without, `pick`'s round robin.
    /// The same inputs give the same split on every machine.
    pub fn split(total: usize, selected: usize, weights: Option<&[f64]>) -> Vec<usize> {
        let Some(weights) = weights.filter(|w| w.len() == selected) else {
            return (0..selected).map(|i| i % total + 1).collect();
        };
        let mut order: Vec<usize> = (0..selected).collect();
        // A zero or unknown weight still costs something, so every shard gets a scenario.
        let weight = |i: usize| if weights[i].is_finite() && weights[i] > 0.001 { weights[i] } else { 0.001 };
        order.sort_by(|&a, &b| weight(b).total_cmp(&weight(a)).then(a.cmp(&b)));
        let mut load = vec![(0.0f64, 0usize); total];
        let mut owner = vec![0; selected];
        for i in order {
            let (best, _) = load
                .iter()
                .enumerate()
                .min_by(|(ia, a), (ib, b)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(ia.cmp(ib)))
                .expect("at least one shard");
            load[best].0 += weight(i);
            load[best].1 += 1;
            owner[i] = best + 1;
        }
        owner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shards_together_run_every_scenario_once() {
        for total in 1..=4 {
            for selected in [total, 5, 6, 7, 11] {
                let mut seen = vec![0; selected];
                for index in 1..=total {
                    let part = Shard { index, total }.pick(selected);
                    assert!(!part.is_empty() || selected < total, "{index}/{total} of {selected}");
                    for i in part {
                        seen[i] += 1;
                    }
                }
                assert!(seen.iter().all(|&n| n == 1), "{total} shards of {selected}: {seen:?}");
            }
        }
    }

    #[test]
    fn shards_differ_in_size_by_at_most_one() {
        let sizes: Vec<usize> = (1..=4).map(|index| Shard { index, total: 4 }.pick(7).len()).collect();
        assert_eq!(sizes, [2, 2, 2, 1]);
    }

    #[test]
    fn with_durations_the_shards_are_balanced_and_still_whole() {
        let weights = [10.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let owner = Shard::split(2, weights.len(), Some(&weights));
        assert_eq!(owner[0], 1, "the long one alone on a shard");
        assert!(owner[1..].iter().all(|&s| s == 2), "{owner:?}");
        for total in 1..=4 {
            for n in [total, 5, 7, 11] {
                let w: Vec<f64> = (0..n).map(|i| ((i * 7919) % 13) as f64).collect();
                let owner = Shard::split(total, n, Some(&w));
                for shard in 1..=total {
                    assert!(owner.contains(&shard), "shard {shard}/{total} of {n} got nothing: {owner:?}");
                }
                assert!(owner.iter().all(|&s| (1..=total).contains(&s)));
            }
        }
        assert_eq!(Shard::split(3, 7, None), [1, 2, 3, 1, 2, 3, 1], "without durations: round robin");
    }

    #[test]
    fn a_shard_is_written_i_of_n() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, total: 4 }));
        assert_eq!(" 1 / 1 ".parse::<Shard>(), Ok(Shard { index: 1, total: 1 }));
        for bad in ["", "2", "0/3", "4/3", "1/0", "a/b", "-1/3", "1/3/4"] {
            let err = bad.parse::<Shard>().expect_err(bad);
            assert!(err.contains("I/N"), "{bad}: {err}");
        }
    }
}
