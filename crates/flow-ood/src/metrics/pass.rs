//! One walk along a curve feeds many metrics.
//!
//! Each metric is an accumulator that sees the curve's points (cumulative counts at each
//! distinct threshold, origin excluded) in order. `compute_all` walks the table once per
//! positive class, feeding every accumulator of that class, instead of once per metric:
//! on 10^6 + 10^6 scores the walk is bound by memory traffic, not arithmetic.

use super::aupr::AuprAccumulator;
use super::auroc::AurocAccumulator;
use super::detection::DetectionAccumulator;
use super::error::MetricError;
use super::fpr::FprAccumulator;
use super::metric::Metric;
use super::roc::{cumulative, CurvePoint};
use super::table::{ScoreTable, Step};
use crate::orientation::PositiveClass;

/// A metric computed in one pass over a curve's points.
pub(crate) trait Accumulate {
    /// Sees the next point; `next` is the step after it (`None` at the last point).
    fn feed(&mut self, point: &CurvePoint, next: Option<&Step>);
    /// The metric's value after the last point.
    fn value(&self) -> f64;
}

/// Runs one accumulator over the curve of `positive`.
pub(crate) fn run_single<A: Accumulate>(
    table: &ScoreTable,
    positive: PositiveClass,
    mut acc: A,
) -> f64 {
    walk(table, positive, |point, next| acc.feed(point, next));
    acc.value()
}

/// Values of all `metrics` on `table`, in order, with at most two walks.
pub(crate) fn compute_all(table: &ScoreTable, metrics: &[Metric]) -> Result<Vec<f64>, MetricError> {
    let mut accs = Vec::with_capacity(metrics.len());
    for m in metrics {
        m.validate()?;
        accs.push(AnyAccumulator::for_metric(m, table));
    }
    for positive in [
        PositiveClass::InDistribution,
        PositiveClass::OutOfDistribution,
    ] {
        if accs.iter().any(|(p, _)| *p == positive) {
            walk(table, positive, |point, next| {
                for (p, acc) in accs.iter_mut() {
                    if *p == positive {
                        acc.feed(point, next);
                    }
                }
            });
        }
    }
    Ok(accs.iter().map(|(_, a)| a.value()).collect())
}

fn walk(
    table: &ScoreTable,
    positive: PositiveClass,
    mut visit: impl FnMut(&CurvePoint, Option<&Step>),
) {
    let mut points = cumulative(table, positive).peekable();
    while let Some(point) = points.next() {
        let next = points.peek().map(|c| c.step);
        visit(&point, next.as_ref());
    }
}

/// The accumulators behind [`Metric`], dispatched by `match` rather than `dyn` so the
/// per-point calls inline.
enum AnyAccumulator {
    Auroc(AurocAccumulator),
    Aupr(AuprAccumulator),
    Fpr(FprAccumulator),
    Detection(DetectionAccumulator),
}

impl AnyAccumulator {
    fn for_metric(metric: &Metric, table: &ScoreTable) -> (PositiveClass, AnyAccumulator) {
        match *metric {
            Metric::Auroc => (
                PositiveClass::InDistribution,
                AnyAccumulator::Auroc(AurocAccumulator::new(table.n_in(), table.n_ood())),
            ),
            Metric::Aupr { positive, method } => (
                positive,
                AnyAccumulator::Aupr(AuprAccumulator::new(table.positives(positive), method)),
            ),
            Metric::FprAtTpr {
                convention,
                tpr_level,
            } => {
                let positive = convention.positive();
                let acc = FprAccumulator::new(
                    convention,
                    tpr_level,
                    table.positives(positive),
                    table.negatives(positive),
                );
                (positive, AnyAccumulator::Fpr(acc))
            }
            Metric::DetectionError => (
                PositiveClass::InDistribution,
                AnyAccumulator::Detection(DetectionAccumulator::new(table.n_in(), table.n_ood())),
            ),
        }
    }
}

impl Accumulate for AnyAccumulator {
    fn feed(&mut self, point: &CurvePoint, next: Option<&Step>) {
        match self {
            AnyAccumulator::Auroc(a) => a.feed(point, next),
            AnyAccumulator::Aupr(a) => a.feed(point, next),
            AnyAccumulator::Fpr(a) => a.feed(point, next),
            AnyAccumulator::Detection(a) => a.feed(point, next),
        }
    }

    fn value(&self) -> f64 {
        match self {
            AnyAccumulator::Auroc(a) => a.value(),
            AnyAccumulator::Aupr(a) => a.value(),
            AnyAccumulator::Fpr(a) => a.value(),
            AnyAccumulator::Detection(a) => a.value(),
        }
    }
}
