//! Detection error: the best balanced error over all thresholds.

use super::error::MetricError;
use super::pass::{run_single, Accumulate};
use super::roc::CurvePoint;
use super::table::{ScoreTable, Step};
use crate::orientation::{Orientation, PositiveClass};

impl ScoreTable {
    /// Minimum over all thresholds (every distinct score, plus "accept nothing") of
    /// `0.5 * ((1 - TPR) + FPR)` with in-distribution positive: the error of the best
    /// threshold when both classes are equally likely. Exact, not a grid search.
    pub fn detection_error(&self) -> f64 {
        let acc = DetectionAccumulator::new(self.n_in(), self.n_ood());
        run_single(self, PositiveClass::InDistribution, acc)
    }
}

/// The best balanced error so far, starting with the origin's 0.5.
pub(crate) struct DetectionAccumulator {
    positives: f64,
    negatives: f64,
    best: f64,
}

impl DetectionAccumulator {
    pub(crate) fn new(n_in: u64, n_ood: u64) -> Self {
        DetectionAccumulator {
            positives: n_in as f64,
            negatives: n_ood as f64,
            best: 0.5 * ((1.0 - 0.0) + 0.0),
        }
    }
}

impl Accumulate for DetectionAccumulator {
    fn feed(&mut self, c: &CurvePoint, _next: Option<&Step>) {
        let tpr = c.tps as f64 / self.positives;
        let fpr = c.fps as f64 / self.negatives;
        self.best = self.best.min(0.5 * ((1.0 - tpr) + fpr));
    }

    fn value(&self) -> f64 {
        self.best
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
