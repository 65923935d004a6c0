//! Fisher's method for combining the p-values of several scores (Bergamin et al.,
//! "Model-agnostic out-of-distribution detection using combined statistical tests",
//! AISTATS 2022).

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use super::{Score, ScoreError};
use crate::Orientation;

/// The empirical upper-tail p-value of a score among calibration inputs (in-distribution
/// inputs the flow did not fit on): `(1 + #{calibration ≥ s}) / (n + 1)`, scores oriented
/// so that larger means more out-of-distribution; a NaN score counts as the most
/// extreme.
#[derive(Debug, Clone, PartialEq)]
pub struct EmpiricalPValue {
    orientation: Orientation,
    /// The calibration values, OOD-oriented and sorted ascending.
    sorted: Vec<f64>,
}

impl EmpiricalPValue {
    /// Calibrates on the finite values of `calibration`, scores of the given
    /// orientation.
    ///
    /// # Errors
    /// [`ScoreError::Fit`] when no calibration value is finite.
    pub fn fit(orientation: Orientation, calibration: &[f64]) -> Result<Self, ScoreError> {
        let mut sorted: Vec<f64> = calibration
            .iter()
            .filter(|v| v.is_finite())
            .map(|&v| ood_oriented(orientation, v))
            .collect();
        if sorted.is_empty() {
            return Err(ScoreError::Fit {
                score: "empirical p-value".into(),
                reason: "no finite calibration value".into(),
            });
        }
        sorted.sort_by(f64::total_cmp);
        Ok(Self {
            orientation,
            sorted,
        })
    }

    /// The p-value of score `value`.
    pub fn p_value(&self, value: f64) -> f64 {
        upper_tail_p_value(&self.sorted, ood_oriented(self.orientation, value))
    }
}

/// Fisher's statistic `-2 Σ ln p_j` of one input's p-values.
pub fn fisher_statistic(p_values: impl IntoIterator<Item = f64>) -> f64 {
    p_values.into_iter().map(|p| -2.0 * p.ln()).sum()
}

/// One component of a combination: a score and its calibration.
struct Component<'a, B: Backend> {
    score: Box<dyn Score<B> + 'a>,
    calibration: EmpiricalPValue,
}

/// `X(x) = -2 Σ_j ln p_j(x)`, `p_j` the empirical upper-tail p-value of score `j` among
/// training inputs: `(1 + #{train ≥ s_j(x)}) / (n + 1)`, each score oriented so that
/// larger means more out-of-distribution. Under the null (an in-distribution input,
/// independent scores) `X` follows χ² with `2J` degrees of freedom; the ranking needs
/// only `X`. Higher means more out-of-distribution. Bergamin et al. combine the
/// typicality, score-statistic and DoSE-like tests this way.
pub struct FisherCombination<'a, B: Backend> {
    components: Vec<Component<'a, B>>,
}

impl<'a, B: Backend> FisherCombination<'a, B> {
    /// Combines `scores`, each calibrated on its values on training inputs:
    /// `train_values[j]` are score `j`'s values (as the score returns them) on inputs
    /// the flow was trained on, ideally held out from the ones it fitted.
    ///
    /// # Errors
    /// [`ScoreError::Fit`] when there are no scores, the two lists differ in length, or
    /// a score has no finite training value.
    pub fn new(
        scores: Vec<Box<dyn Score<B> + 'a>>,
        train_values: Vec<Vec<f64>>,
    ) -> Result<Self, ScoreError> {
        let fail = |reason: String| ScoreError::Fit {
            score: "Fisher combination".into(),
            reason,
        };
        if scores.is_empty() || scores.len() != train_values.len() {
            return Err(fail(format!(
                "needs one list of training values per score and at least one score: {} \
                 scores, {} lists",
                scores.len(),
                train_values.len()
            )));
        }
        let components = scores
            .into_iter()
            .zip(train_values)
            .map(|(score, values)| {
                let calibration =
                    EmpiricalPValue::fit(score.orientation(), &values).map_err(|_| {
                        fail(format!("`{}` has no finite training value", score.name()))
                    })?;
                Ok(Component { score, calibration })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { components })
    }

    /// The names of the combined scores.
    pub fn component_names(&self) -> Vec<&str> {
        self.components.iter().map(|c| c.score.name()).collect()
    }
}

/// `value` oriented so that larger means more out-of-distribution.
fn ood_oriented(orientation: Orientation, value: f64) -> f64 {
    match orientation {
        Orientation::HigherIsOutOfDistribution => value,
        Orientation::HigherIsInDistribution => -value,
    }
}

/// `(1 + #{train ≥ s}) / (n + 1)` for `train` sorted ascending; a NaN score counts as
/// the most extreme (p = 1 / (n + 1)).
fn upper_tail_p_value(train_sorted: &[f64], s: f64) -> f64 {
    let n = train_sorted.len();
    let at_least = if s.is_nan() {
        0
    } else {
        n - train_sorted.partition_point(|&t| t < s)
    };
    (1 + at_least) as f64 / (n + 1) as f64
}

impl<B: Backend> Score<B> for FisherCombination<'_, B> {
    fn name(&self) -> &str {
        "Fisher combination"
    }

    fn orientation(&self) -> Orientation {
        Orientation::HigherIsOutOfDistribution
    }

    fn score(&self, x: Tensor<B, 4>) -> Result<Vec<f64>, ScoreError> {
        let mut total: Vec<f64> = Vec::new();
        for component in &self.components {
            let values = component.score.score(x.clone())?;
            total.resize(values.len(), 0.0);
            for (t, v) in total.iter_mut().zip(values) {
                *t += fisher_statistic([component.calibration.p_value(v)]);
            }
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scores::testing::{constant_images, B};
    use crate::scores::to_host;

    /// The mean pixel of each image, pointing either way.
    struct MeanPixel(Orientation);

    impl Score<B> for MeanPixel {
        fn name(&self) -> &str {
            "mean pixel"
        }
        fn orientation(&self) -> Orientation {
            self.0
        }
        fn score(&self, x: Tensor<B, 4>) -> Result<Vec<f64>, ScoreError> {
            let n = x.dims()[0];
            to_host(
                "mean pixel",
                x.reshape([n as i32, -1]).mean_dim(1).reshape([n]),
            )
        }
    }

    #[test]
    fn p_values_count_the_training_values_at_least_as_extreme() {
        let train = [1.0, 2.0, 3.0];
        assert_eq!(upper_tail_p_value(&train, 2.5), 0.5);
        assert_eq!(upper_tail_p_value(&train, 3.0), 0.5);
        assert_eq!(upper_tail_p_value(&train, 9.0), 0.25);
        assert_eq!(upper_tail_p_value(&train, 0.0), 1.0);
        assert_eq!(upper_tail_p_value(&train, f64::NAN), 0.25);
    }

    #[test]
    fn the_statistic_is_minus_twice_the_summed_log_p_values() {
        // Pixel 128 dequantized at its centre: every image's mean is v = 128.5 / 256.
        let scores: Vec<Box<dyn Score<B>>> = vec![
            Box::new(MeanPixel(Orientation::HigherIsOutOfDistribution)),
            Box::new(MeanPixel(Orientation::HigherIsInDistribution)),
        ];
        // Training values straddling v: one above, three below.
        let train = vec![0.1, 0.2, 0.3, 0.9];
        let combined = FisherCombination::new(scores, vec![train.clone(), train]).unwrap();
        assert_eq!(combined.component_names(), ["mean pixel", "mean pixel"]);
        let got = combined.score(constant_images(2, 128)).unwrap();
        // Pointing to OOD: one training value >= v, p = 2/5. Pointing in: -v against
        // {-0.1, -0.2, -0.3, -0.9}: three are >= -v, p = 4/5.
        let expected = -2.0 * ((2.0f64 / 5.0).ln() + (4.0f64 / 5.0).ln());
        assert!(
            got.iter().all(|g| (g - expected).abs() < 1e-6),
            "{got:?} {expected}"
        );
        let empty: Vec<Box<dyn Score<B>>> = Vec::new();
        assert!(FisherCombination::new(empty, vec![]).is_err());
    }
}
