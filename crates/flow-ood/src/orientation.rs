//! Which way a score points, and which class a metric treats as positive.
//!
//! Every metric in this crate takes an [`Orientation`] so that no number is ever computed
//! with the sign of a score silently flipped. The crate's default follows Kirichenko et al.
//! (2020): the score is a log-likelihood, so a *higher* score means *more in-distribution*,
//! and in-distribution is the positive class of the ROC curve.

use serde::{Deserialize, Serialize};

/// Whether a larger score means "more in-distribution" or "more out-of-distribution".
///
/// Log-likelihood, log-likelihood ratio and softmax confidence are
/// [`Orientation::HigherIsInDistribution`] (the default); bits/dim, negative log-likelihood,
/// energy and distance-based novelty scores are [`Orientation::HigherIsOutOfDistribution`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    /// A larger score means the sample looks more in-distribution (e.g. log-likelihood).
    #[default]
    HigherIsInDistribution,
    /// A larger score means the sample looks more out-of-distribution (e.g. bits/dim).
    HigherIsOutOfDistribution,
}

impl Orientation {
    /// Maps a caller's score to the internal scale on which larger means more
    /// in-distribution. Negation is exact in IEEE arithmetic, so ties are preserved; adding
    /// `0.0` folds `-0.0` into `+0.0` so the two zeros form one tie group, as in NumPy.
    pub(crate) fn to_in_distribution_scale(self, score: f64) -> f64 {
        match self {
            Orientation::HigherIsInDistribution => score + 0.0,
            Orientation::HigherIsOutOfDistribution => -score + 0.0,
        }
    }

    /// Inverse of [`Self::to_in_distribution_scale`]: maps an internal value back to the
    /// caller's units (used to report thresholds).
    pub(crate) fn caller_units_of(self, value: f64) -> f64 {
        self.to_in_distribution_scale(value)
    }
}

/// Per-sample scores together with the orientation they were produced with, so that the
/// orientation travels with the numbers from whatever computed them (a score over a
/// trained flow, a file) to the metrics. See `evaluate_oriented`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OrientedScores {
    /// One score per sample, in sample order.
    pub values: Vec<f64>,
    /// Which way the scores point.
    pub orientation: Orientation,
}

impl OrientedScores {
    /// Wraps `values` with their `orientation`.
    pub fn new(values: Vec<f64>, orientation: Orientation) -> Self {
        OrientedScores {
            values,
            orientation,
        }
    }
}

/// The class a curve or rate treats as "positive" (the class the detector is meant to find).
///
/// The paper and the Hendrycks & Gimpel convention treat in-distribution as positive;
/// OpenOOD v1.5 treats out-of-distribution as positive. AUROC is the same number under
/// both choices; AUPR and FPR@95TPR are not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositiveClass {
    /// In-distribution samples are positives (the paper's default).
    #[default]
    InDistribution,
    /// Out-of-distribution samples are positives (OpenOOD v1.5's choice).
    OutOfDistribution,
}

impl PositiveClass {
    /// A short human-readable name, used in convention strings.
    pub fn label(self) -> &'static str {
        match self {
            PositiveClass::InDistribution => "in-distribution",
            PositiveClass::OutOfDistribution => "out-of-distribution",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_zero_joins_positive_zero() {
        let o = Orientation::HigherIsInDistribution;
        assert_eq!(o.to_in_distribution_scale(-0.0).to_bits(), 0.0f64.to_bits());
        let r = Orientation::HigherIsOutOfDistribution;
        assert_eq!(r.to_in_distribution_scale(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(r.to_in_distribution_scale(2.5), -2.5);
        assert_eq!(r.caller_units_of(-2.5), 2.5);
    }
}
