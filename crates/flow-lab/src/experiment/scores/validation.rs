//! The validation pair: whether the training set leaves room for it, how well a
//! hyper-parameter setting separates it, and which of two settings is better.
//!
//! AUROC alone cannot rank settings once the validation OOD set is easy: every setting
//! reaches 1.000 and the first one listed would win by default. Settings whose AUROCs
//! agree to within [`AUROC_TIE`] are therefore ranked by their separation, the gap
//! between the two sets' mean scores in units of their pooled standard deviation (it
//! keeps growing after the AUROC saturates). Neither measure looks at a test image.

use flow_ood::{auroc, Orientation};

/// AUROCs closer than this count as a tie (about the rounding the report prints).
pub(super) const AUROC_TIE: f64 = 1e-3;

/// Why the validation pair cannot be drawn from `train_len` training images when the
/// table scores `in_train_limit` of them (`None`: all), if it cannot: it needs at least
/// two that the table does not score.
pub(in crate::experiment) fn held_out_problem(
    train_len: usize,
    in_train_limit: Option<usize>,
) -> Option<String> {
    let scored = in_train_limit.unwrap_or(usize::MAX).min(train_len);
    (train_len - scored < 2).then(|| {
        format!(
            "scores: the validation pair needs training images the table does not score, \
             but all {train_len} are scored: set eval.in_train_limit below {}",
            train_len.saturating_sub(1)
        )
    })
}

/// How many of its `train_len` training images the swapped direction's table scores:
/// the run's `in_train_limit`, but never so many that fewer than `validation_size` stay
/// held out for the validation pair, and never fewer than half.
///
/// The twin's training set is the other built-in dataset, not one the user sized the
/// limit for: the `paper` preset scores 10,000 FashionMNIST training images, more than
/// MNIST's 7,996 (so its twin scores 5,996 and holds 2,000 out).
pub(super) fn twin_in_train_limit(
    train_len: usize,
    in_train_limit: Option<usize>,
    validation_size: usize,
) -> Option<usize> {
    let room = train_len.saturating_sub(validation_size).max(train_len / 2);
    Some(in_train_limit.unwrap_or(train_len).min(room))
}

/// AUROC of `in_values` against `ood_values` (NaN when the scores cannot be ranked, so
/// that such a setting never wins).
pub(super) fn auroc_or_nan(in_values: &[f64], ood_values: &[f64], orientation: Orientation) -> f64 {
    auroc(in_values, ood_values, orientation).unwrap_or(f64::NAN)
}

/// A setting's fit on the validation pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct ValidationFit {
    /// AUROC of the held-out in-distribution images against their transformed copies
    /// (NaN when the scores cannot be ranked).
    pub auroc: f64,
    /// Difference of the two sets' mean scores, oriented so that positive means the
    /// in-distribution images score as more in-distribution, over the pooled standard
    /// deviation (NaN when undefined).
    pub separation: f64,
}

impl ValidationFit {
    /// The fit of no setting at all (never beats anything).
    pub const UNRANKED: Self = Self {
        auroc: f64::NAN,
        separation: f64::NAN,
    };

    /// The fit of a score whose values on the held-out in-distribution images are
    /// `in_values` and on their transformed copies `ood_values`.
    pub fn of(in_values: &[f64], ood_values: &[f64], orientation: Orientation) -> Self {
        Self {
            auroc: auroc_or_nan(in_values, ood_values, orientation),
            separation: separation(in_values, ood_values, orientation),
        }
    }

    /// Whether this fit beats `other`: a higher AUROC, or a tied AUROC and a larger
    /// separation. A NaN never wins, so an unrankable setting is never chosen.
    pub fn beats(&self, other: &Self) -> bool {
        if self.auroc.is_nan() {
            return false;
        }
        if other.auroc.is_nan() || self.auroc > other.auroc + AUROC_TIE {
            return true;
        }
        let tied = (self.auroc - other.auroc).abs() <= AUROC_TIE;
        tied && !self.separation.is_nan()
            && (other.separation.is_nan() || self.separation > other.separation)
    }

    /// How the report names it: `validation AUROC 1.000, separation 4.21 sd`.
    pub fn describe(&self) -> String {
        format!(
            "validation AUROC {:.3}, separation {:.2} sd",
            self.auroc, self.separation
        )
    }
}

/// Oriented difference of means over the pooled standard deviation.
fn separation(in_values: &[f64], ood_values: &[f64], orientation: Orientation) -> f64 {
    let (Some((in_mean, in_var)), Some((ood_mean, ood_var))) =
        (moments(in_values), moments(ood_values))
    else {
        return f64::NAN;
    };
    let pooled = ((in_var + ood_var) / 2.0).sqrt();
    let gap = match orientation {
        Orientation::HigherIsInDistribution => in_mean - ood_mean,
        Orientation::HigherIsOutOfDistribution => ood_mean - in_mean,
    };
    if pooled > 0.0 && gap.is_finite() {
        gap / pooled
    } else {
        f64::NAN
    }
}

/// Mean and unbiased variance of finite `values` (None for fewer than two, or any
/// non-finite value).
fn moments(values: &[f64]) -> Option<(f64, f64)> {
    if values.len() < 2 || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some((mean, var))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HIGHER: Orientation = Orientation::HigherIsInDistribution;

    #[test]
    fn separation_is_the_gap_in_pooled_standard_deviations() {
        // Means 2 and 0, both variances 1 (unbiased): two pooled deviations apart. Of
        // the 9 pairs, 8 rank right and one (1 against 1) ties.
        let fit = ValidationFit::of(&[1.0, 2.0, 3.0], &[-1.0, 0.0, 1.0], HIGHER);
        assert_eq!(fit.auroc, 8.5 / 9.0);
        assert!((fit.separation - 2.0).abs() < 1e-12);
        let flipped = ValidationFit::of(
            &[1.0, 2.0, 3.0],
            &[-1.0, 0.0, 1.0],
            Orientation::HigherIsOutOfDistribution,
        );
        assert!((flipped.separation + 2.0).abs() < 1e-12);
    }

    #[test]
    fn a_saturated_auroc_is_broken_by_the_separation() {
        let near = ValidationFit::of(&[1.0, 1.5], &[0.0, 0.5], HIGHER);
        let far = ValidationFit::of(&[10.0, 10.5], &[0.0, 0.5], HIGHER);
        assert_eq!((near.auroc, far.auroc), (1.0, 1.0));
        assert!(far.beats(&near));
        assert!(!near.beats(&far));
    }

    #[test]
    fn a_clearly_higher_auroc_wins_whatever_the_separation() {
        let ranked = ValidationFit {
            auroc: 0.9,
            separation: 0.1,
        };
        let wide = ValidationFit {
            auroc: 0.8,
            separation: 5.0,
        };
        assert!(ranked.beats(&wide));
        assert!(!wide.beats(&ranked));
    }

    #[test]
    fn the_held_out_pool_needs_two_unscored_training_images() {
        assert_eq!(held_out_problem(32, Some(30)), None);
        let all = held_out_problem(32, Some(31)).unwrap();
        assert!(
            all.contains("all 32 are scored: set eval.in_train_limit below 31"),
            "{all}"
        );
        assert!(held_out_problem(32, None).is_some());
        assert!(held_out_problem(7996, Some(10_000)).is_some());
    }

    #[test]
    fn the_twin_keeps_the_validation_pair_held_out() {
        // The paper preset: 10,000 scored, 2,000 for validation, MNIST has 7,996.
        assert_eq!(twin_in_train_limit(7996, Some(10_000), 2000), Some(5996));
        assert_eq!(held_out_problem(7996, Some(5996)), None);
        // The CPU presets' limits leave room already and stay as they are.
        assert_eq!(twin_in_train_limit(7996, Some(2000), 1000), Some(2000));
        assert_eq!(twin_in_train_limit(60_000, Some(400), 500), Some(400));
        // No limit: all but the validation pair.
        assert_eq!(twin_in_train_limit(60_000, None, 2000), Some(58_000));
        // A validation set larger than the data: half is scored, half held out.
        assert_eq!(twin_in_train_limit(100, Some(100), 500), Some(50));
    }

    #[test]
    fn nan_never_wins() {
        let nan = ValidationFit::of(&[1.0, f64::NAN], &[0.0, 0.5], HIGHER);
        assert!(nan.separation.is_nan());
        let real = ValidationFit {
            auroc: 0.5,
            separation: 0.0,
        };
        let unrankable = ValidationFit {
            auroc: f64::NAN,
            separation: f64::NAN,
        };
        assert!(real.beats(&unrankable));
        assert!(!unrankable.beats(&real));
    }
}
