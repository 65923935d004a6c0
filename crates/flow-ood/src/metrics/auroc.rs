//! AUROC as the Mann-Whitney U statistic.

use super::error::MetricError;
use super::pass::{run_single, Accumulate};
use super::roc::{cumulative_steps, CurvePoint};
use super::sort::validated_sorted_keys;
use super::table::{MergedGroups, ScoreTable, Step};
use crate::orientation::{Orientation, PositiveClass};

impl ScoreTable {
    /// Area under the ROC curve with in-distribution positive: the probability that a random
    /// in-distribution sample scores as more in-distribution than a random
    /// out-of-distribution one, ties counting one half (the Mann-Whitney U statistic divided
    /// by `n_in * n_ood`). Taking out-of-distribution as positive (and negating the score)
    /// gives the same number, so this is also OpenOOD v1.5's AUROC.
    ///
    /// The pair count is exact integer arithmetic; only the final division rounds.
    pub fn auroc(&self) -> f64 {
        let acc = AurocAccumulator::new(self.n_in(), self.n_ood());
        run_single(self, PositiveClass::InDistribution, acc)
    }
}

/// Twice the U statistic, so that half-counted ties stay integral. Fed the in-distribution
/// positive curve.
pub(crate) struct AurocAccumulator {
    n_pos: u64,
    n_neg: u64,
    twice_u: u128,
}

impl AurocAccumulator {
    pub(crate) fn new(n_in: u64, n_ood: u64) -> Self {
        AurocAccumulator {
            n_pos: n_in,
            n_neg: n_ood,
            twice_u: 0,
        }
    }
}

impl Accumulate for AurocAccumulator {
    fn feed(&mut self, point: &CurvePoint, _next: Option<&Step>) {
        // Positives of this group beat every negative below it and tie with its own.
        let below = u128::from(self.n_neg - point.fps);
        self.twice_u += u128::from(point.step.pos) * (2 * below + u128::from(point.step.neg));
    }

    fn value(&self) -> f64 {
        let twice_pairs = 2 * u128::from(self.n_pos) * u128::from(self.n_neg);
        self.twice_u as f64 / twice_pairs as f64
    }
}

/// AUROC of in-distribution vs out-of-distribution scores, ties counting one half; see
/// [`ScoreTable::auroc`]. Sorting makes it O(n log n). Errors on empty or non-finite input.
pub fn auroc(
    in_scores: &[f64],
    ood_scores: &[f64],
    orientation: Orientation,
) -> Result<f64, MetricError> {
    // Streams the merged groups instead of storing a table: half the memory traffic.
    let (a, b) = validated_sorted_keys(in_scores, ood_scores, orientation)?;
    let mut acc = AurocAccumulator::new(a.len() as u64, b.len() as u64);
    let steps = MergedGroups::new(&a, &b).map(|g| Step {
        score: g.score,
        pos: g.n_in,
        neg: g.n_ood,
    });
    for point in cumulative_steps(steps) {
        acc.feed(&point, None);
    }
    Ok(acc.value())
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
        let t = ScoreTable::new(&[2.0, 1.0], &[1.0, 0.0], o).unwrap();
        assert_eq!(t.auroc(), 0.875);
    }
}
