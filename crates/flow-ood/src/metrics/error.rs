//! The one error type of the metrics: bad scores or bad options, said precisely.

use crate::orientation::Orientation;
use serde::Serialize;
use std::fmt;

/// How many leading indices of non-finite scores an error lists.
pub const MAX_REPORTED_INDICES: usize = 5;

/// Names a set of scores in an error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreSet {
    /// The in-distribution scores passed to a metric.
    InDistribution,
    /// The out-of-distribution scores passed to a metric.
    OutOfDistribution,
    /// The set at this position in the list given to a shared histogram.
    Histogram(usize),
}

impl fmt::Display for ScoreSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScoreSet::InDistribution => write!(f, "in-distribution set"),
            ScoreSet::OutOfDistribution => write!(f, "out-of-distribution set"),
            ScoreSet::Histogram(i) => write!(f, "histogram set {i}"),
        }
    }
}

/// The NaN or infinite scores found in one set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NonFiniteScores {
    /// Which set holds them.
    pub set: ScoreSet,
    /// How many scores in the set are NaN or infinite.
    pub count: usize,
    /// The first (at most [`MAX_REPORTED_INDICES`]) of their indices, in increasing order.
    pub first_indices: Vec<usize>,
}

impl fmt::Display for NonFiniteScores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} has {} NaN or infinite score(s), first at indices {:?}",
            self.set, self.count, self.first_indices
        )
    }
}

/// Everything that can go wrong when computing a metric.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricError {
    /// A set of scores is empty; no rate over it is defined.
    #[error("the {0} is empty; every metric needs at least one score per set")]
    EmptySet(ScoreSet),
    /// Some scores are NaN or infinite. One entry per affected set.
    #[error("non-finite scores would corrupt the ranking: {}", join(.0))]
    NonFinite(Vec<NonFiniteScores>),
    /// The two sets were scored with opposite orientations, so no ranking across them is
    /// meaningful.
    #[error(
        "orientation mismatch: in-distribution scores are {in_distribution:?}, \
         out-of-distribution scores are {out_of_distribution:?}"
    )]
    OrientationMismatch {
        /// Orientation of the in-distribution scores.
        in_distribution: Orientation,
        /// Orientation of the out-of-distribution scores.
        out_of_distribution: Orientation,
    },
    /// An option is outside its valid range.
    #[error("invalid option `{option}`: {reason}")]
    InvalidOption {
        /// The option's name.
        option: &'static str,
        /// Why the value is refused.
        reason: String,
    },
}

fn join(sets: &[NonFiniteScores]) -> String {
    sets.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Scans a set for NaN/infinite values and returns what it found, if anything.
pub(crate) fn find_non_finite(set: ScoreSet, scores: &[f64]) -> Option<NonFiniteScores> {
    let mut count = 0;
    let mut first_indices = Vec::new();
    for (i, s) in scores.iter().enumerate() {
        if !s.is_finite() {
            count += 1;
            if first_indices.len() < MAX_REPORTED_INDICES {
                first_indices.push(i);
            }
        }
    }
    (count > 0).then_some(NonFiniteScores {
        set,
        count,
        first_indices,
    })
}

/// Checks several sets at once so that one error reports every bad set, and empty sets
/// before non-finite ones.
pub(crate) fn validate_sets(sets: &[(ScoreSet, &[f64])]) -> Result<(), MetricError> {
    if let Some((set, _)) = sets.iter().find(|(_, s)| s.is_empty()) {
        return Err(MetricError::EmptySet(*set));
    }
    let bad: Vec<_> = sets
        .iter()
        .filter_map(|(set, s)| find_non_finite(*set, s))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(MetricError::NonFinite(bad))
    }
}

/// Checks that a rate such as a TPR level or confidence level lies in the given range.
pub(crate) fn check_unit_interval(
    option: &'static str,
    value: f64,
    open_low: bool,
    open_high: bool,
) -> Result<(), MetricError> {
    let low_ok = if open_low { value > 0.0 } else { value >= 0.0 };
    let high_ok = if open_high { value < 1.0 } else { value <= 1.0 };
    if low_ok && high_ok {
        Ok(())
    } else {
        let (l, h) = (
            if open_low { "(" } else { "[" },
            if open_high { ")" } else { "]" },
        );
        Err(MetricError::InvalidOption {
            option,
            reason: format!("{value} is not in {l}0, 1{h}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_count_and_first_indices_per_set() {
        let a = [1.0, f64::NAN, 2.0, f64::INFINITY];
        let mut b = vec![0.0; 10];
        for i in [1, 2, 3, 5, 7, 9] {
            b[i] = f64::NEG_INFINITY;
        }
        let err = validate_sets(&[
            (ScoreSet::InDistribution, &a),
            (ScoreSet::OutOfDistribution, &b),
        ])
        .unwrap_err();
        let MetricError::NonFinite(sets) = &err else {
            panic!("wrong error {err:?}")
        };
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[0].count, 2);
        assert_eq!(sets[0].first_indices, vec![1, 3]);
        assert_eq!(sets[1].count, 6);
        assert_eq!(sets[1].first_indices, vec![1, 2, 3, 5, 7]);
        let msg = err.to_string();
        assert!(msg.contains("in-distribution set has 2"), "{msg}");
        assert!(msg.contains("out-of-distribution set has 6"), "{msg}");
    }

    #[test]
    fn empty_set_is_named() {
        let err = validate_sets(&[
            (ScoreSet::InDistribution, &[1.0]),
            (ScoreSet::OutOfDistribution, &[]),
        ])
        .unwrap_err();
        assert_eq!(err, MetricError::EmptySet(ScoreSet::OutOfDistribution));
    }

    #[test]
    fn unit_interval_bounds() {
        assert!(check_unit_interval("x", 0.95, true, false).is_ok());
        assert!(check_unit_interval("x", 1.0, true, false).is_ok());
        assert!(check_unit_interval("x", 1.0, true, true).is_err());
        assert!(check_unit_interval("x", 0.0, true, true).is_err());
        assert!(check_unit_interval("x", f64::NAN, false, false).is_err());
    }
}
