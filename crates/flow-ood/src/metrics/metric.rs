//! A metric named together with its convention, so reports and bootstrap loops can carry
//! "which number, computed how" as a value.

use super::aupr::AuprMethod;
use super::error::{check_unit_interval, MetricError};
use super::fpr::FprConvention;
use super::pass::compute_all;
use super::table::ScoreTable;
use crate::orientation::PositiveClass;
use serde::{Deserialize, Serialize};

/// One metric with every choice that changes its value fixed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Metric {
    /// Mann-Whitney AUROC, in-distribution positive, ties one half
    /// ([`ScoreTable::auroc`]).
    Auroc,
    /// Area under the precision-recall curve for `positive` ([`ScoreTable::aupr`]).
    Aupr {
        /// AUPR-In for in-distribution, AUPR-Out for out-of-distribution.
        positive: PositiveClass,
        /// Trapezoid or average precision.
        method: AuprMethod,
    },
    /// FPR at a TPR level under a convention ([`ScoreTable::fpr_at_tpr`]).
    FprAtTpr {
        /// How the curve is read.
        convention: FprConvention,
        /// The TPR level in (0, 1], usually 0.95.
        tpr_level: f64,
    },
    /// Minimum balanced error over thresholds ([`ScoreTable::detection_error`]).
    DetectionError,
}

impl Metric {
    /// Checks the metric's own parameters (the TPR level).
    pub fn validate(&self) -> Result<(), MetricError> {
        match self {
            Metric::FprAtTpr { tpr_level, .. } => {
                check_unit_interval("tpr_level", *tpr_level, true, false)
            }
            _ => Ok(()),
        }
    }

    /// The metric's value on `table`. To compute several, [`Metric::compute_all`] walks
    /// the table fewer times.
    pub fn compute(&self, table: &ScoreTable) -> Result<f64, MetricError> {
        Ok(Self::compute_all(std::slice::from_ref(self), table)?[0])
    }

    /// The values of all `metrics` on `table`, in order, from at most two walks along the
    /// table (one per positive class).
    pub fn compute_all(metrics: &[Metric], table: &ScoreTable) -> Result<Vec<f64>, MetricError> {
        compute_all(table, metrics)
    }

    /// A stable snake_case identifier, e.g. `aupr_out_average_precision` or
    /// `fpr_at_95_tpr_hendrycks`.
    pub fn name(&self) -> String {
        match self {
            Metric::Auroc => "auroc".into(),
            Metric::Aupr { positive, method } => {
                let side = match positive {
                    PositiveClass::InDistribution => "in",
                    PositiveClass::OutOfDistribution => "out",
                };
                let how = match method {
                    AuprMethod::Trapezoid => "trapezoid",
                    AuprMethod::AveragePrecision => "average_precision",
                };
                format!("aupr_{side}_{how}")
            }
            Metric::FprAtTpr {
                convention,
                tpr_level,
            } => {
                let tag = match convention {
                    FprConvention::OpenOodV15 => "openood_v1_5",
                    FprConvention::Hendrycks => "hendrycks",
                    FprConvention::Interpolated => "interpolated",
                };
                format!("fpr_at_{}_tpr_{tag}", percent(*tpr_level))
            }
            Metric::DetectionError => "detection_error".into(),
        }
    }

    /// A sentence stating the convention, for reports.
    pub fn convention(&self) -> String {
        match self {
            Metric::Auroc => "Mann-Whitney U / (n_in * n_ood); in-distribution positive; \
                              ties count 1/2 (equals AUROC with OOD positive)"
                .into(),
            Metric::Aupr { positive, method } => {
                format!("{} positive; {}", positive.label(), method.label())
            }
            Metric::FprAtTpr {
                convention,
                tpr_level,
            } => format!("{}; level = {tpr_level}", convention.label()),
            Metric::DetectionError => "min over thresholds of (FNR + FPR) / 2; in-distribution \
                                       positive; every distinct score is a threshold"
                .into(),
        }
    }
}

/// Formats a level as a percent without a trailing `.0` (0.95 -> "95", 0.995 -> "99.5").
fn percent(level: f64) -> String {
    let p = (level * 1e6).round() / 1e4;
    let s = format!("{p}");
    s.replace('.', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable() {
        let m = Metric::FprAtTpr {
            convention: FprConvention::OpenOodV15,
            tpr_level: 0.95,
        };
        assert_eq!(m.name(), "fpr_at_95_tpr_openood_v1_5");
        let m = Metric::FprAtTpr {
            convention: FprConvention::Hendrycks,
            tpr_level: 0.995,
        };
        assert_eq!(m.name(), "fpr_at_99_5_tpr_hendrycks");
        let m = Metric::Aupr {
            positive: PositiveClass::OutOfDistribution,
            method: AuprMethod::AveragePrecision,
        };
        assert_eq!(m.name(), "aupr_out_average_precision");
    }
}
