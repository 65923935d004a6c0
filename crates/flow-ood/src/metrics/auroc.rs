//! AUROC as the Mann-Whitney U statistic.

use super::error::{validate_sets, MetricError, ScoreSet};
use super::sort::sorted_descending_keys;
use super::table::{MergedGroups, ScoreTable, TieGroup};
use crate::orientation::Orientation;

impl ScoreTable {
    /// Area under the ROC curve with in-distribution positive: the probability that a random
    /// in-distribution sample scores as more in-distribution than a random
    /// out-of-distribution one, ties counting one half (the Mann-Whitney U statistic divided
    /// by `n_in * n_ood`). Taking out-of-distribution as positive (and negating the score)
    /// gives the same number, so this is also OpenOOD v1.5's AUROC.
    ///
    /// The pair count is exact integer arithmetic; only the final division rounds.
    pub fn auroc(&self) -> f64 {
        auroc_of_groups(self.groups().iter().copied(), self.n_in(), self.n_ood())
    }
}

/// AUROC from tie groups in decreasing score order.
fn auroc_of_groups(groups: impl Iterator<Item = TieGroup>, n_in: u64, n_ood: u64) -> f64 {
    // Twice the U statistic, so that half-counted ties stay integral.
    let mut twice_u: u128 = 0;
    let mut ood_seen: u64 = 0;
    for g in groups {
        let ood_below = n_ood - ood_seen - g.n_ood;
        twice_u += u128::from(g.n_in) * (2 * u128::from(ood_below) + u128::from(g.n_ood));
        ood_seen += g.n_ood;
    }
    let twice_pairs = 2 * u128::from(n_in) * u128::from(n_ood);
    twice_u as f64 / twice_pairs as f64
}

/// AUROC of in-distribution vs out-of-distribution scores, ties counting one half; see
/// [`ScoreTable::auroc`]. Sorting makes it O(n log n). Errors on empty or non-finite input.
pub fn auroc(
    in_scores: &[f64],
    ood_scores: &[f64],
    orientation: Orientation,
) -> Result<f64, MetricError> {
    validate_sets(&[
        (ScoreSet::InDistribution, in_scores),
        (ScoreSet::OutOfDistribution, ood_scores),
    ])?;
    // Streams the merged groups instead of storing a table: half the memory traffic.
    let a = sorted_descending_keys(in_scores, orientation);
    let b = sorted_descending_keys(ood_scores, orientation);
    Ok(auroc_of_groups(
        MergedGroups::new(&a, &b),
        a.len() as u64,
        b.len() as u64,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_ties_as_half() {
        let o = Orientation::HigherIsInDistribution;
        assert_eq!(auroc(&[1.0], &[1.0], o).unwrap(), 0.5);
        assert_eq!(auroc(&[2.0, 1.0], &[1.0, 0.0], o).unwrap(), 0.875);
        assert_eq!(auroc(&[0.0], &[1.0], o).unwrap(), 0.0);
        let r = Orientation::HigherIsOutOfDistribution;
        assert_eq!(auroc(&[0.0], &[1.0], r).unwrap(), 1.0);
    }
}
