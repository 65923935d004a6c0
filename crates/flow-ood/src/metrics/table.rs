//! The sorted, tie-grouped view of two score sets that every metric is computed from.
//!
//! Sorting once and grouping ties lets each metric run in one O(groups) pass, and lets the
//! bootstrap re-weight groups instead of re-sorting (see `bootstrap.rs`).

use super::error::MetricError;
use super::sort::{score_of_key, validated_sorted_keys};
use crate::orientation::{Orientation, OrientedScores, PositiveClass};

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
        let (a, b) = validated_sorted_keys(in_scores, ood_scores, orientation)?;
        let mut groups = Vec::with_capacity(a.len() + b.len());
        groups.extend(MergedGroups::new(&a, &b));
        Ok(ScoreTable {
            groups,
            n_in: a.len() as u64,
            n_ood: b.len() as u64,
            orientation,
        })
    }

    /// [`ScoreTable::new`] for scores that carry their orientation; both sets must have
    /// the same one ([`MetricError::OrientationMismatch`] otherwise).
    pub fn from_oriented(
        in_scores: &OrientedScores,
        ood_scores: &OrientedScores,
    ) -> Result<Self, MetricError> {
        if in_scores.orientation != ood_scores.orientation {
            return Err(MetricError::OrientationMismatch {
                in_distribution: in_scores.orientation,
                out_of_distribution: ood_scores.orientation,
            });
        }
        Self::new(&in_scores.values, &ood_scores.values, in_scores.orientation)
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

/// Runs of equal keys in a sorted key slice, as (key, count).
struct Runs<'a> {
    keys: &'a [u64],
    at: usize,
}

impl Iterator for Runs<'_> {
    type Item = (u64, u64);

    fn next(&mut self) -> Option<(u64, u64)> {
        let k = *self.keys.get(self.at)?;
        let start = self.at;
        self.at += 1;
        while self.at < self.keys.len() && self.keys[self.at] == k {
            self.at += 1;
        }
        Some((k, (self.at - start) as u64))
    }
}

/// The tie groups of two sorted key slices, most in-distribution first, produced lazily so
/// that a single metric (see `auroc`) need not store them.
pub(crate) struct MergedGroups<'a> {
    a: std::iter::Peekable<Runs<'a>>,
    b: std::iter::Peekable<Runs<'a>>,
}

impl<'a> MergedGroups<'a> {
    /// Merges in-distribution keys `a` with out-of-distribution keys `b`.
    pub(crate) fn new(a: &'a [u64], b: &'a [u64]) -> Self {
        MergedGroups {
            a: Runs { keys: a, at: 0 }.peekable(),
            b: Runs { keys: b, at: 0 }.peekable(),
        }
    }
}

impl Iterator for MergedGroups<'_> {
    type Item = TieGroup;

    fn next(&mut self) -> Option<TieGroup> {
        let group = |key, n_in, n_ood| TieGroup {
            score: score_of_key(key),
            n_in,
            n_ood,
        };
        // Smaller key = more in-distribution.
        Some(match (self.a.peek().copied(), self.b.peek().copied()) {
            (None, None) => return None,
            (Some((ka, na)), Some((kb, nb))) if ka == kb => {
                self.a.next();
                self.b.next();
                group(ka, na, nb)
            }
            (Some((ka, na)), Some((kb, _))) if ka < kb => {
                self.a.next();
                group(ka, na, 0)
            }
            (Some((ka, na)), None) => {
                self.a.next();
                group(ka, na, 0)
            }
            (_, Some((kb, nb))) => {
                self.b.next();
                group(kb, 0, nb)
            }
        })
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
