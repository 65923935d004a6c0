//! `evaluate`: every metric at once, each labelled with its convention.

use super::aupr::AuprMethod;
use super::bootstrap::{bootstrap_intervals, BootstrapOptions, ConfidenceInterval};
use super::error::{check_unit_interval, MetricError};
use super::fpr::{FprConvention, DEFAULT_TPR_LEVEL};
use super::metric::Metric;
use super::table::ScoreTable;
use crate::orientation::{Orientation, OrientedScores, PositiveClass};
use serde::{Deserialize, Serialize};

const FIXED_METRICS: usize = 6;

/// What [`evaluate`] computes beyond the fixed metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluateOptions {
    /// TPR level of the FPR metrics, in (0, 1]; 0.95 by default.
    pub tpr_level: f64,
    /// FPR conventions to report, in this order; all three by default.
    pub fpr_conventions: Vec<FprConvention>,
    /// Bootstrap intervals for every metric; `None` (the default) skips them.
    pub bootstrap: Option<BootstrapOptions>,
}

impl Default for EvaluateOptions {
    fn default() -> Self {
        EvaluateOptions {
            tpr_level: DEFAULT_TPR_LEVEL,
            fpr_conventions: FprConvention::ALL.to_vec(),
            bootstrap: None,
        }
    }
}

/// One metric's value with its name, its convention in words, and its bootstrap interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    /// Stable identifier, from [`Metric::name`].
    pub name: String,
    /// The metric and the choices fixing its value.
    pub metric: Metric,
    /// The convention in words, from [`Metric::convention`].
    pub convention: String,
    /// The value on the full data.
    pub value: f64,
    /// The percentile bootstrap interval, when requested.
    pub interval: Option<ConfidenceInterval>,
}

/// How the bootstrap intervals in a report were made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapSummary {
    /// The options used (resamples, level, seed).
    pub options: BootstrapOptions,
    /// The resampling scheme, in words.
    pub scheme: String,
}

/// Every metric of [`evaluate`], ready to serialize.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricReport {
    /// Orientation of the scores that were evaluated.
    pub orientation: Orientation,
    /// Number of in-distribution scores.
    pub n_in: u64,
    /// Number of out-of-distribution scores.
    pub n_ood: u64,
    /// Mann-Whitney AUROC (see [`ScoreTable::auroc`]).
    pub auroc: MetricValue,
    /// AUPR-In, trapezoid (OpenOOD v1.5).
    pub aupr_in: MetricValue,
    /// AUPR-In as average precision (scikit-learn).
    pub aupr_in_average_precision: MetricValue,
    /// AUPR-Out, trapezoid (OpenOOD v1.5).
    pub aupr_out: MetricValue,
    /// AUPR-Out as average precision (scikit-learn).
    pub aupr_out_average_precision: MetricValue,
    /// FPR at the TPR level, one entry per requested convention.
    pub fpr_at_tpr: Vec<MetricValue>,
    /// Detection error (see [`ScoreTable::detection_error`]).
    pub detection_error: MetricValue,
    /// How intervals were made; `None` when no bootstrap ran.
    pub bootstrap: Option<BootstrapSummary>,
}

impl MetricReport {
    /// Every metric in the report, in a fixed order.
    pub fn metrics(&self) -> impl Iterator<Item = &MetricValue> {
        [
            &self.auroc,
            &self.aupr_in,
            &self.aupr_in_average_precision,
            &self.aupr_out,
            &self.aupr_out_average_precision,
        ]
        .into_iter()
        .chain(self.fpr_at_tpr.iter())
        .chain(std::iter::once(&self.detection_error))
    }

    /// The FPR entry for `convention`, if it was requested.
    pub fn fpr(&self, convention: FprConvention) -> Option<&MetricValue> {
        self.fpr_at_tpr
            .iter()
            .find(|m| matches!(m.metric, Metric::FprAtTpr { convention: c, .. } if c == convention))
    }
}

/// Computes AUROC, AUPR-In/Out (trapezoid and average precision), FPR at
/// `options.tpr_level` under each requested convention, and detection error, plus bootstrap
/// intervals for all of them if asked. `orientation` says which way the scores point; for
/// log-likelihoods it is [`Orientation::HigherIsInDistribution`]. Sorts once: O(n log n),
/// then O(n) per bootstrap resample.
pub fn evaluate(
    in_scores: &[f64],
    ood_scores: &[f64],
    orientation: Orientation,
    options: &EvaluateOptions,
) -> Result<MetricReport, MetricError> {
    evaluate_table(
        &ScoreTable::new(in_scores, ood_scores, orientation)?,
        options,
    )
}

/// [`evaluate`] for scores that carry their orientation (for example the output of a score
/// over a trained flow). Errors with [`MetricError::OrientationMismatch`] when the two sets
/// disagree.
pub fn evaluate_oriented(
    in_scores: &OrientedScores,
    ood_scores: &OrientedScores,
    options: &EvaluateOptions,
) -> Result<MetricReport, MetricError> {
    evaluate_table(&ScoreTable::from_oriented(in_scores, ood_scores)?, options)
}

/// [`evaluate`] on an already built table.
pub fn evaluate_table(
    table: &ScoreTable,
    options: &EvaluateOptions,
) -> Result<MetricReport, MetricError> {
    check_unit_interval("tpr_level", options.tpr_level, true, false)?;
    if let Some(b) = &options.bootstrap {
        b.validate()?;
    }
    let aupr = |positive, method| Metric::Aupr { positive, method };
    let (id, ood) = (
        PositiveClass::InDistribution,
        PositiveClass::OutOfDistribution,
    );
    let (trap, ap) = (AuprMethod::Trapezoid, AuprMethod::AveragePrecision);
    // The first FIXED_METRICS entries fill the report's named fields, in this order.
    let mut metrics = vec![
        Metric::Auroc,
        aupr(id, trap),
        aupr(id, ap),
        aupr(ood, trap),
        aupr(ood, ap),
        Metric::DetectionError,
    ];
    metrics.extend(
        options
            .fpr_conventions
            .iter()
            .map(|&convention| Metric::FprAtTpr {
                convention,
                tpr_level: options.tpr_level,
            }),
    );
    let intervals = match &options.bootstrap {
        Some(b) => Some(bootstrap_intervals(table, &metrics, b)?),
        None => None,
    };
    let point_values = Metric::compute_all(&metrics, table)?;
    let value_of = |i: usize| -> MetricValue {
        let metric = metrics[i];
        MetricValue {
            name: metric.name(),
            metric,
            convention: metric.convention(),
            value: point_values[i],
            interval: intervals.as_ref().map(|v| v[i]),
        }
    };
    Ok(MetricReport {
        orientation: table.orientation(),
        n_in: table.n_in(),
        n_ood: table.n_ood(),
        auroc: value_of(0),
        aupr_in: value_of(1),
        aupr_in_average_precision: value_of(2),
        aupr_out: value_of(3),
        aupr_out_average_precision: value_of(4),
        detection_error: value_of(5),
        fpr_at_tpr: (FIXED_METRICS..metrics.len()).map(value_of).collect(),
        bootstrap: options.bootstrap.map(|o| BootstrapSummary {
            options: o,
            scheme: "stratified percentile bootstrap: n_in and n_ood drawn with replacement \
                     from their own sets; xoshiro256++ seeded by SplitMix64; Lemire bounded \
                     draws; quantiles by linear interpolation (NumPy default)"
                .to_string(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oriented_scores_must_agree() {
        let a = OrientedScores::new(vec![1.0, 2.0], Orientation::HigherIsInDistribution);
        let b = OrientedScores::new(vec![0.0], Orientation::HigherIsOutOfDistribution);
        let err = evaluate_oriented(&a, &b, &EvaluateOptions::default()).unwrap_err();
        assert!(matches!(err, MetricError::OrientationMismatch { .. }));
        let b = OrientedScores::new(vec![0.0], Orientation::HigherIsInDistribution);
        let r = evaluate_oriented(&a, &b, &EvaluateOptions::default()).unwrap();
        assert_eq!(r.auroc.value, 1.0);
        assert_eq!(r.fpr_at_tpr.len(), 3);
    }

    #[test]
    fn report_names_conventions_and_serializes() {
        let o = EvaluateOptions {
            bootstrap: Some(BootstrapOptions {
                resamples: 20,
                ..BootstrapOptions::default()
            }),
            ..EvaluateOptions::default()
        };
        let r = evaluate(&[3.0, 2.0, 1.0], &[2.0, 0.0], Orientation::default(), &o).unwrap();
        let names: Vec<&str> = r.metrics().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "auroc",
                "aupr_in_trapezoid",
                "aupr_in_average_precision",
                "aupr_out_trapezoid",
                "aupr_out_average_precision",
                "fpr_at_95_tpr_openood_v1_5",
                "fpr_at_95_tpr_hendrycks",
                "fpr_at_95_tpr_interpolated",
                "detection_error",
            ]
        );
        assert!(r.metrics().all(|m| m.interval.is_some()));
        assert!(r
            .fpr(FprConvention::OpenOodV15)
            .unwrap()
            .convention
            .contains("OOD positive"));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["orientation"], "higher_is_in_distribution");
        assert_eq!(
            json["aupr_out"]["metric"]["positive"],
            "out_of_distribution"
        );
        assert_eq!(json["bootstrap"]["options"]["resamples"], 20);
    }
}
