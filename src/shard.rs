//! Shards: `--shard I/N` runs a deterministic part of the selection, so N machines run
//! the whole of it between them, nothing twice, and `ft merge` makes one record of them.
//! `--shard auto` takes I and N from the variables the CI sets on its parallel jobs.

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

    /// `I/N` with 1 <= I <= N, as Playwright and nextest write it; or `auto` (`auto/N`),
    /// this machine's part as its CI's variables say (`Shard::from_ci`).
    fn from_str(s: &str) -> Result<Shard, String> {
        let hint = "write it as I/N, e.g. --shard 2/4 for the second of four parts, or auto";
        if let Some(rest) = s.trim().strip_prefix("auto") {
            let total = match rest.trim() {
                "" => None,
                n => match n.strip_prefix('/').map(|n| n.trim().parse::<usize>()) {
                    Some(Ok(n)) if n > 0 => Some(n),
                    _ => return Err(format!("`{s}` is not a shard: after auto, only /N with N at least 1 ({hint})")),
                },
            };
            return Shard::from_ci(total, |name| std::env::var(name).ok());
        }
        let (i, n) = s.trim().split_once('/').ok_or_else(|| format!("`{s}` is not a shard: {hint}"))?;
        let number = |part: &str| part.trim().parse::<usize>().map_err(|_| format!("`{s}` is not a shard: {hint}"));
        let (index, total) = (number(i)?, number(n)?);
        if total == 0 || index == 0 || index > total {
            return Err(format!("`{s}` is not a shard: I must be between 1 and N, and N at least 1 ({hint})"));
        }
        Ok(Shard { index, total })
    }
}

/// A CI's variables for its parallel jobs: which one this is, and how many there are.
struct Ci {
    name: &'static str,
    index: &'static str,
    /// None: the CI says no total (a Kubernetes Indexed Job): `--shard auto/N` gives it.
    total: Option<&'static str>,
    /// The index of the first job: GitLab counts from 1, the others from 0.
    first: usize,
}

/// Read in this order; the first CI whose variables are set decides.
const CIS: [Ci; 4] = [
    Ci { name: "GitLab", index: "CI_NODE_INDEX", total: Some("CI_NODE_TOTAL"), first: 1 },
    Ci { name: "CircleCI", index: "CIRCLE_NODE_INDEX", total: Some("CIRCLE_NODE_TOTAL"), first: 0 },
    Ci { name: "Buildkite", index: "BUILDKITE_PARALLEL_JOB", total: Some("BUILDKITE_PARALLEL_JOB_COUNT"), first: 0 },
    Ci { name: "a Kubernetes Indexed Job", index: "JOB_COMPLETION_INDEX", total: None, first: 0 },
];

impl Shard {
    /// `--shard auto` (`given`: the N of `auto/N`): this machine's part from the first CI
    /// in `CIS` whose variables `env` finds. A CI's total and a given N must agree. An
    /// error names every variable it read, so a job missing them says what to set.
    pub fn from_ci(given: Option<usize>, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let var = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let number = |name: &str, value: &str| {
            value.parse::<usize>().map_err(|_| format!("{name}={value} is not a whole number"))
        };
        for ci in &CIS {
            let index = var(ci.index);
            let total = ci.total.and_then(|name| var(name).map(|value| (name, value)));
            // The total, and where it came from (for the messages).
            let (index, (said, total)) = match (index, total) {
                (None, None) => continue,
                // GitLab sets CI_NODE_TOTAL=1, and no index, on a job without `parallel:`.
                (None, Some((name, n))) if number(name, &n)? == 1 && given.is_none_or(|g| g == 1) => {
                    return Ok(Shard { index: 1, total: 1 });
                }
                (None, Some((name, n))) => {
                    return Err(format!("{name}={n} is set but {} is not ({})", ci.index, ci.name));
                }
                (Some(i), Some((name, n))) => {
                    let total = number(name, &n)?;
                    if let Some(g) = given.filter(|&g| g != total) {
                        return Err(format!(
                            "auto/{g} says {g} jobs, but {name}={n} ({}): give auto, or the same N",
                            ci.name
                        ));
                    }
                    (number(ci.index, &i)?, (format!("{name}={n}"), total))
                }
                (Some(i), None) => match (ci.total, given) {
                    (Some(name), _) => {
                        return Err(format!("{}={i} is set but {name} is not ({})", ci.index, ci.name));
                    }
                    (None, Some(g)) => (number(ci.index, &i)?, (format!("auto/{g}"), g)),
                    (None, None) => {
                        return Err(format!(
                            "{}={i} is set ({}), which has no total: give it as --shard auto/N",
                            ci.index, ci.name
                        ));
                    }
                },
            };
            if total == 0 {
                return Err(format!("{said}: there must be at least one job ({})", ci.name));
            }
            let last = ci.first + total - 1;
            if !(ci.first..=last).contains(&index) {
                return Err(format!(
                    "{}={index} is out of range for {said} ({} counts from {}: {} to {last})",
                    ci.index, ci.name, ci.first, ci.first
                ));
            }
            return Ok(Shard { index: index - ci.first + 1, total });
        }
        let read: Vec<String> = CIS
            .iter()
            .map(|ci| match ci.total {
                Some(total) => format!("{} and {total} ({})", ci.index, ci.name),
                None => format!("{} ({}, with --shard auto/N)", ci.index, ci.name),
            })
            .collect();
        Err(format!("none of the CI variables it reads is set: {}", read.join("; ")))
    }

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

    /// The CI variables set for one case.
    type Vars = &'static [(&'static str, &'static str)];

    /// `Shard::from_ci` with these variables set (and no others).
    fn auto(given: Option<usize>, vars: &[(&str, &str)]) -> Result<Shard, String> {
        Shard::from_ci(given, |name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn auto_maps_each_cis_own_numbering_to_i_of_n() {
        let two_of_three = Ok(Shard { index: 2, total: 3 });
        assert_eq!(auto(None, &[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "3")]), two_of_three, "GitLab: from 1");
        assert_eq!(auto(None, &[("CIRCLE_NODE_INDEX", "1"), ("CIRCLE_NODE_TOTAL", "3")]), two_of_three, "from 0");
        let buildkite = [("BUILDKITE_PARALLEL_JOB", "1"), ("BUILDKITE_PARALLEL_JOB_COUNT", "3")];
        assert_eq!(auto(None, &buildkite), two_of_three, "Buildkite: from 0");
        assert_eq!(auto(Some(3), &[("JOB_COMPLETION_INDEX", "1")]), two_of_three, "Kubernetes: from 0, N given");
        assert_eq!(auto(Some(3), &[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "3")]), two_of_three, "N agrees");
        assert_eq!(auto(None, &[("CI_NODE_INDEX", "3"), ("CI_NODE_TOTAL", "3")]), Ok(Shard { index: 3, total: 3 }));
        assert_eq!(
            auto(None, &[("CIRCLE_NODE_INDEX", "0"), ("CIRCLE_NODE_TOTAL", "1")]),
            Ok(Shard { index: 1, total: 1 })
        );
        // A GitLab job without `parallel:` has CI_NODE_TOTAL=1 and no index: the whole run.
        assert_eq!(auto(None, &[("CI_NODE_TOTAL", "1")]), Ok(Shard { index: 1, total: 1 }));
        // Blank is unset, and surrounding spaces do not matter.
        let spaced =
            [("CI_NODE_INDEX", ""), ("CI_NODE_TOTAL", ""), ("CIRCLE_NODE_INDEX", " 1 "), ("CIRCLE_NODE_TOTAL", "3")];
        assert_eq!(auto(None, &spaced), two_of_three);
    }

    #[test]
    fn auto_without_the_variables_or_with_values_out_of_range_says_which_it_read() {
        let none = auto(None, &[]).expect_err("nothing set");
        for name in [
            "CI_NODE_INDEX",
            "CI_NODE_TOTAL",
            "CIRCLE_NODE_INDEX",
            "CIRCLE_NODE_TOTAL",
            "BUILDKITE_PARALLEL_JOB",
            "BUILDKITE_PARALLEL_JOB_COUNT",
            "JOB_COMPLETION_INDEX",
        ] {
            assert!(none.contains(name), "{name}: {none}");
        }
        let cases: [(Option<usize>, Vars, &str); 9] = [
            (None, &[("CI_NODE_INDEX", "0"), ("CI_NODE_TOTAL", "3")], "CI_NODE_INDEX=0 is out of range for CI_NODE_TOTAL=3 (GitLab counts from 1: 1 to 3)"),
            (None, &[("CI_NODE_INDEX", "4"), ("CI_NODE_TOTAL", "3")], "CI_NODE_INDEX=4 is out of range"),
            (None, &[("CIRCLE_NODE_INDEX", "3"), ("CIRCLE_NODE_TOTAL", "3")], "CIRCLE_NODE_INDEX=3 is out of range for CIRCLE_NODE_TOTAL=3 (CircleCI counts from 0: 0 to 2)"),
            (None, &[("BUILDKITE_PARALLEL_JOB", "1"), ("BUILDKITE_PARALLEL_JOB_COUNT", "0")], "BUILDKITE_PARALLEL_JOB_COUNT=0: there must be at least one job"),
            (Some(4), &[("JOB_COMPLETION_INDEX", "4")], "JOB_COMPLETION_INDEX=4 is out of range for auto/4 (a Kubernetes Indexed Job counts from 0: 0 to 3)"),
            (None, &[("JOB_COMPLETION_INDEX", "1")], "JOB_COMPLETION_INDEX=1 is set (a Kubernetes Indexed Job), which has no total: give it as --shard auto/N"),
            (None, &[("CIRCLE_NODE_INDEX", "1")], "CIRCLE_NODE_INDEX=1 is set but CIRCLE_NODE_TOTAL is not"),
            (None, &[("CI_NODE_INDEX", "two"), ("CI_NODE_TOTAL", "3")], "CI_NODE_INDEX=two is not a whole number"),
            (Some(4), &[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "3")], "auto/4 says 4 jobs, but CI_NODE_TOTAL=3 (GitLab)"),
        ];
        for (given, vars, want) in cases {
            let err = auto(given, vars).expect_err(want);
            assert!(err.contains(want), "{vars:?}: {err}");
        }
        assert!(auto(None, &[("CI_NODE_TOTAL", "4")]).is_err_and(|e| e.contains("CI_NODE_INDEX is not")));
    }

    #[test]
    fn a_shard_is_written_i_of_n() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, total: 4 }));
        assert_eq!(" 1 / 1 ".parse::<Shard>(), Ok(Shard { index: 1, total: 1 }));
        for bad in ["", "2", "0/3", "4/3", "1/0", "a/b", "-1/3", "1/3/4", "auto/0", "auto/x", "auto4", "automatic"] {
            let err = bad.parse::<Shard>().expect_err(bad);
            assert!(err.contains("I/N"), "{bad}: {err}");
        }
    }
}
