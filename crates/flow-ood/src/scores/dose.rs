//! DoSE, Morningstar et al., "Density of States Estimation for Out-of-Distribution
//! Detection" (AISTATS 2021).

use burn::tensor::Tensor;
use flow_core::FlowNet;
use flow_kernels::FlowBackend;

use super::kde::{Bandwidth, GaussianKde};
use super::statistics::FlowStatistics;
use super::{Score, ScoreError};
use crate::Orientation;

/// The score's name in reports and errors.
const NAME: &str = "DoSE";

/// `Σ_j log p̂_j(T_j(x))`: one Gaussian kernel density estimate per statistic `T_j` of
/// [`FlowStatistics`] (the log-likelihood, the prior term, each layer's log-det), fitted
/// on training inputs, and the input scored by the sum of its log densities (the
/// statistics treated as independent, Morningstar et al.'s "DoSE_KDE"). An input whose
/// log-likelihood is typical but reached through atypical layer contributions (the
/// large log-dets a flow gives to smooth images) is found out. Statistics that do not
/// vary over the training inputs (a layer with a constant log-det) carry no
/// information and are left out. Higher means more in-distribution.
#[derive(Debug, Clone)]
pub struct Dose<'a, B: FlowBackend> {
    model: &'a FlowNet<B>,
    densities: Vec<(usize, GaussianKde)>,
}

impl<'a, B: FlowBackend> Dose<'a, B> {
    /// Fits the densities to `train`, the statistics of training inputs under `model`.
    ///
    /// # Errors
    /// [`ScoreError::Fit`] when no statistic varies over the training inputs.
    pub fn fit(
        model: &'a FlowNet<B>,
        train: &FlowStatistics,
        bandwidth: Bandwidth,
    ) -> Result<Self, ScoreError> {
        let densities: Vec<(usize, GaussianKde)> = train
            .values
            .iter()
            .enumerate()
            .filter_map(|(j, column)| GaussianKde::fit(column, bandwidth).ok().map(|k| (j, k)))
            .collect();
        if densities.is_empty() {
            return Err(ScoreError::Fit {
                score: NAME.into(),
                reason: "no statistic varies over the training inputs".into(),
            });
        }
        Ok(Self { model, densities })
    }

    /// How many statistics the score sums over.
    pub fn statistics_used(&self) -> usize {
        self.densities.len()
    }

    /// The score of inputs whose statistics are already known.
    pub fn score_statistics(&self, stats: &FlowStatistics) -> Vec<f64> {
        let n = stats.values.first().map_or(0, Vec::len);
        (0..n)
            .map(|i| {
                self.densities
                    .iter()
                    .map(|(j, kde)| kde.log_density(stats.values[*j][i]))
                    .sum()
            })
            .collect()
    }
}

impl<B: FlowBackend> Score<B> for Dose<'_, B> {
    fn name(&self) -> &str {
        NAME
    }

    fn orientation(&self) -> Orientation {
        Orientation::HigherIsInDistribution
    }

    fn score(&self, x: Tensor<B, 4>) -> Result<Vec<f64>, ScoreError> {
        Ok(self.score_statistics(&FlowStatistics::of(self.model, x)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scores::testing::{constant_images, random_images, tiny_flow};

    #[test]
    fn statistics_hold_the_likelihood_the_prior_and_every_layer() {
        let model = tiny_flow(3);
        let stats = FlowStatistics::of(&model, random_images(5, 1)).unwrap();
        assert_eq!(stats.names.len(), stats.values.len());
        assert!(stats.names.len() >= 4, "{:?}", stats.names);
        assert!(stats.values.iter().all(|column| column.len() == 5));
        let mut both = stats.clone();
        both.extend(stats.clone()).unwrap();
        assert_eq!(both.values[0].len(), 10);
    }

    #[test]
    fn training_like_inputs_score_higher_than_far_ones() {
        let model = tiny_flow(3);
        let mut train = FlowStatistics::default();
        for seed in 0..4 {
            train
                .extend(FlowStatistics::of(&model, random_images(50, seed)).unwrap())
                .unwrap();
        }
        let dose = Dose::fit(&model, &train, Bandwidth::Scott(1.0)).unwrap();
        assert!(dose.statistics_used() >= 2);
        let near = dose.score(random_images(20, 99)).unwrap();
        let far = dose.score(constant_images(20, 255)).unwrap();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!(
            mean(&near) > mean(&far),
            "{} vs {}",
            mean(&near),
            mean(&far)
        );
    }
}
