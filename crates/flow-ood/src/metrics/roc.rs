//! ROC curve points, for plots and for the FPR/detection-error conventions built on them.

use super::error::MetricError;
use super::table::{ScoreTable, Step};
use crate::orientation::{Orientation, PositiveClass};
use serde::Serialize;

/// One operating point of a ROC curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RocPoint {
    /// The score, in the caller's units, at which the point is taken: every sample whose
    /// score is at least as "positive-like" as this value is called positive. `None` for
    /// the origin (0, 0), where nothing is called positive (scikit-learn writes `inf`).
    pub threshold: Option<f64>,
    /// False positive rate: negatives called positive / all negatives.
    pub fpr: f64,
    /// True positive rate: positives called positive / all positives.
    pub tpr: f64,
}

/// A ROC curve from the origin to (1, 1), thresholds decreasing in "positiveness".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RocCurve {
    /// The class counted by the true positive rate.
    pub positive: PositiveClass,
    /// Whether collinear interior points were dropped (scikit-learn's
    /// `drop_intermediate=True` rule, see [`RocOptions::drop_intermediate`]).
    pub drop_intermediate: bool,
    /// The points, starting at the origin. One per distinct score unless dropped.
    pub points: Vec<RocPoint>,
}

/// How to build a ROC curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RocOptions {
    /// The class whose detection rate is the TPR. Default: in-distribution (the paper's).
    pub positive: PositiveClass,
    /// Drop each interior point whose incoming and outgoing steps have exactly the same
    /// (positives, negatives) counts, as scikit-learn's `roc_curve(drop_intermediate=True)`
    /// does; such points lie on a straight segment and change no area. Default: `false`.
    pub drop_intermediate: bool,
}

impl Default for RocOptions {
    fn default() -> Self {
        RocOptions {
            positive: PositiveClass::InDistribution,
            drop_intermediate: false,
        }
    }
}

/// A step together with the cumulative counts through it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CurvePoint {
    pub step: Step,
    /// True positives at this threshold (cumulative positives).
    pub tps: u64,
    /// False positives at this threshold (cumulative negatives).
    pub fps: u64,
}

/// The cumulative counts at each distinct threshold, origin excluded, for `positive`.
pub(crate) fn cumulative(
    table: &ScoreTable,
    positive: PositiveClass,
) -> impl Iterator<Item = CurvePoint> + '_ {
    cumulative_steps(table.steps(positive))
}

/// Running totals of positives and negatives over steps.
pub(crate) fn cumulative_steps(
    steps: impl Iterator<Item = Step>,
) -> impl Iterator<Item = CurvePoint> {
    steps.scan((0u64, 0u64), |acc, step| {
        acc.0 += step.pos;
        acc.1 += step.neg;
        Some(CurvePoint {
            step,
            tps: acc.0,
            fps: acc.1,
        })
    })
}

/// scikit-learn's `drop_intermediate=True` rule: a point is kept if it is the first, the
/// last, or its step differs from the next step (scikit-learn tests the second differences
/// of the cumulative counts, which are exactly these step differences).
pub(crate) fn is_kept(first: bool, step: &Step, next: Option<&Step>) -> bool {
    first || next.is_none_or(|n| n.pos != step.pos || n.neg != step.neg)
}

/// The cumulative points kept by [`is_kept`], origin excluded. Streams: no buffer.
pub(crate) fn kept_points(
    table: &ScoreTable,
    positive: PositiveClass,
) -> impl Iterator<Item = CurvePoint> + '_ {
    let mut points = cumulative(table, positive).peekable();
    let mut first = true;
    std::iter::from_fn(move || loop {
        let c = points.next()?;
        let keep = is_kept(first, &c.step, points.peek().map(|n| &n.step));
        first = false;
        if keep {
            return Some(c);
        }
    })
}

impl ScoreTable {
    /// The ROC curve for [`RocOptions::positive`], starting at the origin. Rates are
    /// computed as `count as f64 / total as f64`, as scikit-learn does.
    pub fn roc_curve(&self, options: RocOptions) -> RocCurve {
        let positive = options.positive;
        let (p, n) = (
            self.positives(positive) as f64,
            self.negatives(positive) as f64,
        );
        let orientation = self.orientation();
        let to_point = |c: &CurvePoint| RocPoint {
            threshold: Some(orientation.caller_units_of(c.step.score)),
            fpr: c.fps as f64 / n,
            tpr: c.tps as f64 / p,
        };
        let mut points = vec![RocPoint {
            threshold: None,
            fpr: 0.0,
            tpr: 0.0,
        }];
        if options.drop_intermediate {
            points.extend(kept_points(self, positive).map(|c| to_point(&c)));
        } else {
            points.extend(cumulative(self, positive).map(|c| to_point(&c)));
        }
        RocCurve {
            positive,
            drop_intermediate: options.drop_intermediate,
            points,
        }
    }
}

/// The ROC curve of in-distribution vs out-of-distribution scores (see [`RocOptions`] for
/// the positive class and point dropping). Errors on empty or non-finite inputs.
pub fn roc_curve(
    in_scores: &[f64],
    ood_scores: &[f64],
    orientation: Orientation,
    options: RocOptions,
) -> Result<RocCurve, MetricError> {
    Ok(ScoreTable::new(in_scores, ood_scores, orientation)?.roc_curve(options))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_runs_from_origin_to_one_one() {
        let c = roc_curve(
            &[3.0, 2.0],
            &[1.0, 2.0],
            Orientation::HigherIsInDistribution,
            RocOptions::default(),
        )
        .unwrap();
        let pts: Vec<_> = c.points.iter().map(|p| (p.fpr, p.tpr)).collect();
        assert_eq!(pts, vec![(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 1.0)]);
        assert_eq!(c.points[1].threshold, Some(3.0));
    }

    #[test]
    fn drops_only_equal_steps() {
        // Steps (pos, neg): (1,0) (1,0) (1,0) (0,1): the middle (1,0) points are interior
        // to a straight run and go; the corner stays.
        let c = roc_curve(
            &[4.0, 3.0, 2.0],
            &[1.0],
            Orientation::HigherIsInDistribution,
            RocOptions {
                positive: PositiveClass::InDistribution,
                drop_intermediate: true,
            },
        )
        .unwrap();
        let th: Vec<_> = c.points.iter().map(|p| p.threshold).collect();
        assert_eq!(th, vec![None, Some(4.0), Some(2.0), Some(1.0)]);
    }
}
