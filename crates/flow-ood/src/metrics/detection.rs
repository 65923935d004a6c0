//! Detection error: the best balanced error over all thresholds.

use super::error::MetricError;
use super::roc::cumulative;
use super::table::ScoreTable;
use crate::orientation::{Orientation, PositiveClass};

impl ScoreTable {
    /// Minimum over all thresholds (every distinct score, plus "accept nothing") of
    /// `0.5 * ((1 - TPR) + FPR)` with in-distribution positive: the error of the best
    /// threshold when both classes are equally likely. Exact, not a grid search.
    pub fn detection_error(&self) -> f64 {
        let positive = PositiveClass::InDistribution;
        let (p, n) = (
            self.positives(positive) as f64,
            self.negatives(positive) as f64,
        );
        let at_origin = 0.5 * ((1.0 - 0.0) + 0.0);
        cumulative(self, positive)
            .map(|c| 0.5 * ((1.0 - c.tps as f64 / p) + c.fps as f64 / n))
            .fold(at_origin, f64::min)
    }
}

/// Detection error of in-distribution vs out-of-distribution scores; see
/// [`ScoreTable::detection_error`]. Errors on empty or non-finite input.
pub fn detection_error(
    in_scores: &[f64],
    ood_scores: &[f64],
    orientation: Orientation,
) -> Result<f64, MetricError> {
    Ok(ScoreTable::new(in_scores, ood_scores, orientation)?.detection_error())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_overlapping_and_reversed() {
        let o = Orientation::HigherIsInDistribution;
        assert_eq!(detection_error(&[2.0, 3.0], &[0.0, 1.0], o).unwrap(), 0.0);
        assert_eq!(detection_error(&[1.0], &[1.0], o).unwrap(), 0.5);
        assert_eq!(detection_error(&[0.0, 1.0], &[2.0, 3.0], o).unwrap(), 0.5);
        assert_eq!(detection_error(&[3.0, 1.0], &[2.0, 0.0], o).unwrap(), 0.25);
    }
}
