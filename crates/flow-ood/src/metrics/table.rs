//! The sorted, tie-grouped view of two score sets that every metric is computed from.
//!
//! Sorting once and grouping ties lets each metric run in one O(groups) pass, and lets the
//! bootstrap re-weight groups instead of re-sorting (see `bootstrap.rs`).

use super::error::{validate_sets, MetricError, ScoreSet};
use super::sort::sorted_descending;
use crate::orientation::{Orientation, PositiveClass};

/// One distinct score value and how many samples of each set have exactly that score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TieGroup {
    /// The score on the internal scale, where larger means more in-distribution (the
    /// caller's score for [`Orientation::HigherIsInDistribution`], its negation otherwise).
    pub score: f64,
    /// In-distribution samples with this score.
    pub n_in: u64,
    /// Out-of-distribution samples with this score.
    pub n_ood: u64,
}

/// Both score sets sorted together, most in-distribution first, with ties grouped.
///
/// Build it once with [`ScoreTable::new`] and ask it for several metrics; each costs one
/// linear pass. All metrics follow the conventions stated on the metric's own method.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreTable {
    groups: Vec<TieGroup>,
    n_in: u64,
    n_ood: u64,
    orientation: Orientation,
}

/// One step of a curve seen from a chosen positive class: a tie group's counts, visited in
/// the order of decreasing "positiveness".
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    /// The group's score on the internal (in-distribution) scale.
    pub score: f64,
    /// Positives in the group.
    pub pos: u64,
    /// Negatives in the group.
    pub neg: u64,
}

impl ScoreTable {
    /// Validates and sorts the two sets.
    ///
    /// `orientation` says which way the caller's scores point. Errors: an empty set
    /// ([`MetricError::EmptySet`]) or NaN/infinite scores ([`MetricError::NonFinite`], with
    /// the count and first indices for each affected set). `-0.0` and `0.0` are one tie.
    pub fn new(
        in_scores: &[f64],
        ood_scores: &[f64],
        orientation: Orientation,
    ) -> Result<Self, MetricError> {
        validate_sets(&[
            (ScoreSet::InDistribution, in_scores),
            (ScoreSet::OutOfDistribution, ood_scores),
        ])?;
        let a = sorted_descending(in_scores, orientation);
        let b = sorted_descending(ood_scores, orientation);
        let mut groups = Vec::with_capacity(a.len() + b.len());
        merge_runs(Runs::new(&a), Runs::new(&b), &mut groups);
        Ok(ScoreTable {
            groups,
            n_in: a.len() as u64,
            n_ood: b.len() as u64,
            orientation,
        })
    }

    /// Builds a table from groups already sorted by strictly decreasing score with at least
    /// one sample each (the bootstrap's re-weighted copies).
    pub(crate) fn from_sorted_groups(groups: Vec<TieGroup>, orientation: Orientation) -> Self {
        let n_in = groups.iter().map(|g| g.n_in).sum();
        let n_ood = groups.iter().map(|g| g.n_ood).sum();
        ScoreTable {
            groups,
            n_in,
            n_ood,
            orientation,
        }
    }

    /// Gives the group buffer back for reuse.
    pub(crate) fn into_groups(self) -> Vec<TieGroup> {
        self.groups
    }

    /// Number of in-distribution scores.
    pub fn n_in(&self) -> u64 {
        self.n_in
    }

    /// Number of out-of-distribution scores.
    pub fn n_ood(&self) -> u64 {
        self.n_ood
    }

    /// The orientation the table was built with.
    pub fn orientation(&self) -> Orientation {
        self.orientation
    }

    /// The tie groups, most in-distribution first (see [`TieGroup::score`] for the scale).
    pub fn groups(&self) -> &[TieGroup] {
        &self.groups
    }

    /// Positives in the table when `positive` is the positive class.
    pub(crate) fn positives(&self, positive: PositiveClass) -> u64 {
        match positive {
            PositiveClass::InDistribution => self.n_in,
            PositiveClass::OutOfDistribution => self.n_ood,
        }
    }

    /// Negatives in the table when `positive` is the positive class.
    pub(crate) fn negatives(&self, positive: PositiveClass) -> u64 {
        match positive {
            PositiveClass::InDistribution => self.n_ood,
            PositiveClass::OutOfDistribution => self.n_in,
        }
    }

    /// The groups as seen by a detector of `positive`: for out-of-distribution positives the
    /// order is reversed (the detector thresholds the negated score), exactly as
    /// scikit-learn sees `roc_curve(is_ood, -score)`.
    pub(crate) fn steps(&self, positive: PositiveClass) -> impl Iterator<Item = Step> + '_ {
        let n = self.groups.len();
        (0..n).map(move |k| match positive {
            PositiveClass::InDistribution => {
                let g = &self.groups[k];
                Step {
                    score: g.score,
                    pos: g.n_in,
                    neg: g.n_ood,
                }
            }
            PositiveClass::OutOfDistribution => {
                let g = &self.groups[n - 1 - k];
                Step {
                    score: g.score,
                    pos: g.n_ood,
                    neg: g.n_in,
                }
            }
        })
    }
}

/// Runs of equal values in a descending slice, as (value, count).
struct Runs<'a> {
    values: &'a [f64],
    at: usize,
}

impl<'a> Runs<'a> {
    fn new(values: &'a [f64]) -> Self {
        Runs { values, at: 0 }
    }
}

impl Iterator for Runs<'_> {
    type Item = (f64, u64);

    fn next(&mut self) -> Option<(f64, u64)> {
        let v = *self.values.get(self.at)?;
        let start = self.at;
        self.at += 1;
        while self.at < self.values.len() && self.values[self.at] == v {
            self.at += 1;
        }
        Some((v, (self.at - start) as u64))
    }
}

/// Merges two descending (value, count) sequences into tie groups.
fn merge_runs(
    a: impl Iterator<Item = (f64, u64)>,
    b: impl Iterator<Item = (f64, u64)>,
    out: &mut Vec<TieGroup>,
) {
    let mut a = a.peekable();
    let mut b = b.peekable();
    loop {
        let group = match (a.peek().copied(), b.peek().copied()) {
            (None, None) => break,
            (Some((v, n)), None) => {
                a.next();
                TieGroup {
                    score: v,
                    n_in: n,
                    n_ood: 0,
                }
            }
            (None, Some((v, n))) => {
                b.next();
                TieGroup {
                    score: v,
                    n_in: 0,
                    n_ood: n,
                }
            }
            (Some((va, na)), Some((vb, nb))) => {
                if va > vb {
                    a.next();
                    TieGroup {
                        score: va,
                        n_in: na,
                        n_ood: 0,
                    }
                } else if vb > va {
                    b.next();
                    TieGroup {
                        score: vb,
                        n_in: 0,
                        n_ood: nb,
                    }
                } else {
                    a.next();
                    b.next();
                    TieGroup {
                        score: va,
                        n_in: na,
                        n_ood: nb,
                    }
                }
            }
        };
        out.push(group);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_ties_across_sets_and_orientations() {
        let t = ScoreTable::new(
            &[1.0, 3.0, 3.0, -0.0],
            &[3.0, 0.0, 2.0],
            Orientation::HigherIsInDistribution,
        )
        .unwrap();
        let g: Vec<_> = t
            .groups()
            .iter()
            .map(|g| (g.score, g.n_in, g.n_ood))
            .collect();
        assert_eq!(g, vec![(3.0, 2, 1), (2.0, 0, 1), (1.0, 1, 0), (0.0, 1, 1)]);
        let r =
            ScoreTable::new(&[1.0, 3.0], &[2.0], Orientation::HigherIsOutOfDistribution).unwrap();
        let g: Vec<_> = r
            .groups()
            .iter()
            .map(|g| (g.score, g.n_in, g.n_ood))
            .collect();
        assert_eq!(g, vec![(-1.0, 1, 0), (-2.0, 0, 1), (-3.0, 1, 0)]);
        let ood_view: Vec<_> = r
            .steps(PositiveClass::OutOfDistribution)
            .map(|s| (s.pos, s.neg))
            .collect();
        assert_eq!(ood_view, vec![(0, 1), (1, 0), (0, 1)]);
    }
}
