//! Area under the precision-recall curve, by trapezoid and by average precision.

use super::error::MetricError;
use super::pass::{run_single, Accumulate};
use super::roc::CurvePoint;
use super::sum::CompensatedSum;
use super::table::{ScoreTable, Step};
use crate::orientation::{Orientation, PositiveClass};
use serde::{Deserialize, Serialize};

/// How the area under a precision-recall curve is integrated. The two differ, sometimes by
/// several points, on the same curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuprMethod {
    /// Trapezoids between consecutive (recall, precision) points, one point per distinct
    /// score plus (recall 0, precision 1): `sklearn.metrics.auc(recall, precision)` on
    /// `precision_recall_curve`, as OpenOOD v1.5 and pytorch-ood report AUPR.
    Trapezoid,
    /// The step sum `sum_k (R_k - R_{k-1}) P_k` over the same points, as scikit-learn's
    /// `average_precision_score` computes it (no interpolation).
    AveragePrecision,
}

impl AuprMethod {
    /// A short human-readable name, used in convention strings.
    pub fn label(self) -> &'static str {
        match self {
            AuprMethod::Trapezoid => "trapezoid over the PR points (OpenOOD v1.5, pytorch-ood)",
            AuprMethod::AveragePrecision => {
                "average precision step sum (scikit-learn average_precision_score)"
            }
        }
    }
}

impl ScoreTable {
    /// Area under the precision-recall curve with `positive` as the positive class:
    /// AUPR-In for [`PositiveClass::InDistribution`], AUPR-Out for
    /// [`PositiveClass::OutOfDistribution`] (which ranks by the negated score, as OpenOOD
    /// v1.5 does). Precision at a threshold is `tps / (tps + fps)` and recall `tps / P`,
    /// each counting every sample whose score ties the threshold.
    pub fn aupr(&self, positive: PositiveClass, method: AuprMethod) -> f64 {
        let acc = AuprAccumulator::new(self.positives(positive), method);
        run_single(self, positive, acc)
    }
}

/// The area so far, starting from the point (recall 0, precision 1) that scikit-learn
/// appends to every precision-recall curve.
pub(crate) struct AuprAccumulator {
    method: AuprMethod,
    positives: f64,
    area: CompensatedSum,
    prev_recall: f64,
    prev_precision: f64,
}

impl AuprAccumulator {
    pub(crate) fn new(positives: u64, method: AuprMethod) -> Self {
        AuprAccumulator {
            method,
            positives: positives as f64,
            area: CompensatedSum::default(),
            prev_recall: 0.0,
            prev_precision: 1.0,
        }
    }
}

impl Accumulate for AuprAccumulator {
    fn feed(&mut self, c: &CurvePoint, _next: Option<&Step>) {
        let precision = c.tps as f64 / (c.tps + c.fps) as f64;
        let recall = c.tps as f64 / self.positives;
        let width = recall - self.prev_recall;
        self.area.add(match self.method {
            AuprMethod::Trapezoid => width * (precision + self.prev_precision) / 2.0,
            AuprMethod::AveragePrecision => width * precision,
        });
        self.prev_recall = recall;
        self.prev_precision = precision;
    }

    fn value(&self) -> f64 {
        // Both sums are of non-negative terms; the clamp only matters for rounding to -0.0.
        self.area.total().max(0.0)
    }
}

/// AUPR with `positive` as the positive class and the given integration `method`; see
/// [`ScoreTable::aupr`]. Errors on empty or non-finite input.
pub fn aupr(
    in_scores: &[f64],
    ood_scores: &[f64],
    orientation: Orientation,
    positive: PositiveClass,
    method: AuprMethod,
) -> Result<f64, MetricError> {
    Ok(ScoreTable::new(in_scores, ood_scores, orientation)?.aupr(positive, method))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_curve() {
        // ID positive, descending: 3(in) 2(ood) 1(in). PR points: (r .5, p 1), (r .5, p .5),
        // (r 1, p 2/3). AP = .5*1 + 0 + .5*(2/3); trapezoid = .5*1 + 0 + .5*(.5+2/3)/2.
        let o = Orientation::HigherIsInDistribution;
        let ap = aupr(
            &[3.0, 1.0],
            &[2.0],
            o,
            PositiveClass::InDistribution,
            AuprMethod::AveragePrecision,
        )
        .unwrap();
        assert!((ap - (0.5 + 1.0 / 3.0)).abs() < 1e-15);
        let tr = aupr(
            &[3.0, 1.0],
            &[2.0],
            o,
            PositiveClass::InDistribution,
            AuprMethod::Trapezoid,
        )
        .unwrap();
        assert!((tr - (0.5 + 0.25 * (0.5 + 2.0 / 3.0))).abs() < 1e-15);
    }
}
