//! False positive rate at a fixed true positive rate (FPR@95TPR), under named conventions.
//!
//! Papers read "FPR at 95% TPR" in at least three incompatible ways. They differ in which
//! class is positive (so the FPR counts different samples) and in how a ROC curve with
//! no point exactly at 95% is read. The caller picks; reports record the pick.

use super::error::{check_unit_interval, MetricError};
use super::pass::{run_single, Accumulate};
use super::roc::{is_kept, CurvePoint};
use super::table::{ScoreTable, Step};
use crate::orientation::{Orientation, PositiveClass};
use serde::{Deserialize, Serialize};

/// The TPR level of the customary FPR@95TPR.
pub const DEFAULT_TPR_LEVEL: f64 = 0.95;

/// A way of reading the FPR at a TPR level off a ROC curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FprConvention {
    /// OpenOOD v1.5: out-of-distribution is positive (the score is negated); the ROC curve
    /// is scikit-learn's `roc_curve(is_ood, -score)` with its default
    /// `drop_intermediate=True` point dropping, origin included; the result is the FPR (the
    /// fraction of in-distribution samples flagged) at the *first* point whose TPR is
    /// `>= level`.
    OpenOodV15,
    /// Hendrycks & Gimpel / Outlier Exposure (`fpr_and_fdr_at_recall`): in-distribution is
    /// positive; the candidates are the points of every distinct threshold from the highest
    /// down to the first point with TPR 1 (origin excluded); the result is the FPR (the
    /// fraction of out-of-distribution samples accepted) at the candidate whose TPR is
    /// *nearest* to `level`. Ties go to the candidate with the lower threshold, as the
    /// reference scans from TPR 1 upwards and keeps the first minimum: among equal TPRs
    /// below 1 that is the one with the largest FPR.
    Hendrycks,
    /// In-distribution is positive; the FPR is linearly interpolated between the last ROC
    /// point with TPR below `level` and the first with TPR at or above it (the first point
    /// itself when its TPR equals `level` exactly). Full curve, origin included.
    Interpolated,
}

impl FprConvention {
    /// Every convention, in the order reports list them.
    pub const ALL: [FprConvention; 3] = [
        FprConvention::OpenOodV15,
        FprConvention::Hendrycks,
        FprConvention::Interpolated,
    ];

    /// The class whose detection rate the convention calls TPR.
    pub fn positive(self) -> PositiveClass {
        match self {
            FprConvention::OpenOodV15 => PositiveClass::OutOfDistribution,
            FprConvention::Hendrycks | FprConvention::Interpolated => PositiveClass::InDistribution,
        }
    }

    /// A short human-readable description, used in convention strings.
    pub fn label(self) -> &'static str {
        match self {
            FprConvention::OpenOodV15 => {
                "OpenOOD v1.5: OOD positive, first point with TPR >= level on scikit-learn's \
                 roc_curve(drop_intermediate=True)"
            }
            FprConvention::Hendrycks => {
                "Hendrycks: in-distribution positive, ROC point with TPR nearest to level"
            }
            FprConvention::Interpolated => {
                "interpolated: in-distribution positive, FPR linearly interpolated at TPR = level"
            }
        }
    }
}

impl ScoreTable {
    /// The FPR at TPR `level` (in (0, 1]; 0.95 for FPR@95TPR) under `convention`. Rates are
    /// `count as f64 / total as f64` and compared with `level` as floats, as the reference
    /// implementations do, so results match them bit for bit up to summation order.
    pub fn fpr_at_tpr(&self, convention: FprConvention, level: f64) -> Result<f64, MetricError> {
        check_unit_interval("tpr_level", level, true, false)?;
        let positive = convention.positive();
        let acc = FprAccumulator::new(
            convention,
            level,
            self.positives(positive),
            self.negatives(positive),
        );
        Ok(run_single(self, positive, acc))
    }
}

/// Reads the FPR off the curve of `convention.positive()` as the points go by.
pub(crate) struct FprAccumulator {
    convention: FprConvention,
    level: f64,
    total_positives: u64,
    positives: f64,
    negatives: f64,
    /// Whether the next point is the curve's first (for the OpenOOD point dropping).
    first: bool,
    /// The previous point's (TPR, FPR), for interpolation; the origin to begin with.
    previous: (f64, f64),
    /// Hendrycks: the nearest distance so far and its false positives.
    nearest: Option<(f64, u64)>,
    /// The answer, once a convention has found it; later points are ignored.
    result: Option<f64>,
}

impl FprAccumulator {
    pub(crate) fn new(
        convention: FprConvention,
        level: f64,
        positives: u64,
        negatives: u64,
    ) -> Self {
        FprAccumulator {
            convention,
            level,
            total_positives: positives,
            positives: positives as f64,
            negatives: negatives as f64,
            first: true,
            previous: (0.0, 0.0),
            nearest: None,
            result: None,
        }
    }
}

impl Accumulate for FprAccumulator {
    fn feed(&mut self, c: &CurvePoint, next: Option<&Step>) {
        let first = std::mem::replace(&mut self.first, false);
        if self.result.is_some() {
            return;
        }
        let tpr = c.tps as f64 / self.positives;
        let fpr = c.fps as f64 / self.negatives;
        match self.convention {
            FprConvention::OpenOodV15 => {
                if is_kept(first, &c.step, next) && tpr >= self.level {
                    self.result = Some(fpr);
                }
            }
            FprConvention::Hendrycks => {
                // The reference walks from the first full-recall point back to the top and
                // keeps the first strict minimum; walking forward and keeping the last
                // minimum (`<=`) picks the same point without a buffer.
                let distance = (tpr - self.level).abs();
                if self.nearest.is_none_or(|(d, _)| distance <= d) {
                    self.nearest = Some((distance, c.fps));
                }
                if c.tps == self.total_positives {
                    self.result = self.nearest.map(|(_, fps)| fps as f64 / self.negatives);
                }
            }
            FprConvention::Interpolated => {
                if tpr >= self.level {
                    let (prev_tpr, prev_fpr) = self.previous;
                    self.result = Some(if tpr == self.level {
                        fpr
                    } else {
                        prev_fpr + (fpr - prev_fpr) * ((self.level - prev_tpr) / (tpr - prev_tpr))
                    });
                }
                self.previous = (tpr, fpr);
            }
        }
    }

    fn value(&self) -> f64 {
        // Every convention answers by the last point (TPR 1 >= level); 1 is the FPR there
        // should a curve ever end early.
        self.result.unwrap_or(1.0)
    }
}

/// FPR at TPR `level` under `convention`; see [`FprConvention`] and
/// [`ScoreTable::fpr_at_tpr`]. Errors on empty or non-finite input or a level outside (0, 1].
pub fn fpr_at_tpr(
    in_scores: &[f64],
    ood_scores: &[f64],
    orientation: Orientation,
    convention: FprConvention,
    level: f64,
) -> Result<f64, MetricError> {
    ScoreTable::new(in_scores, ood_scores, orientation)?.fpr_at_tpr(convention, level)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(in_s: &[f64], ood: &[f64], level: f64) -> [f64; 3] {
        let t = ScoreTable::new(in_s, ood, Orientation::HigherIsInDistribution).unwrap();
        FprConvention::ALL.map(|c| t.fpr_at_tpr(c, level).unwrap())
    }

    #[test]
    fn conventions_disagree_where_they_should() {
        // ID 10, 8, 8, 4 and OOD 9, 8, 3, 2 (higher = ID). With ID positive the curve is
        // (0,0) (0,.25) (.25,.25) (.5,.75) (.5,1) ...: at level .6 Hendrycks takes TPR .75
        // (FPR .5), interpolation runs along the tie's diagonal from (.25,.25) to (.5,.75):
        // .25 + .25 * .7 = .425. OpenOOD counts OOD as positive: ascending ID score gives
        // TPR/FPR (.25,0) (.5,0) (.5,.25) (.75,.75) (1,.75) ..., first TPR >= .6 at FPR .75.
        let r = all(&[10.0, 8.0, 8.0, 4.0], &[9.0, 8.0, 3.0, 2.0], 0.6);
        assert_eq!(r[0], 0.75);
        assert_eq!(r[1], 0.5);
        assert!((r[2] - 0.425).abs() < 1e-15, "{}", r[2]);
    }

    #[test]
    fn interpolates_inside_a_diagonal_tie() {
        // One tie group holding 2 ID and 2 OOD: the curve goes (0,0) -> (1,1) straight.
        let r = all(&[1.0, 1.0], &[1.0, 1.0], 0.95);
        assert_eq!(r[2], 0.95);
        assert_eq!(r[1], 1.0);
    }

    #[test]
    fn rejects_level_outside_unit_interval() {
        let t = ScoreTable::new(&[1.0], &[0.0], Orientation::default()).unwrap();
        assert!(t.fpr_at_tpr(FprConvention::Hendrycks, 0.0).is_err());
        assert!(t.fpr_at_tpr(FprConvention::Hendrycks, 1.5).is_err());
        assert!(t.fpr_at_tpr(FprConvention::Hendrycks, f64::NAN).is_err());
        assert_eq!(t.fpr_at_tpr(FprConvention::Hendrycks, 1.0).unwrap(), 0.0);
    }
}
