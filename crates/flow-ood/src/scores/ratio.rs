//! The likelihood ratio of Ren et al., "Likelihood Ratios for Out-of-Distribution
//! Detection" (NeurIPS 2019).

use burn::tensor::Tensor;
use flow_core::FlowNet;
use flow_kernels::FlowBackend;

use super::likelihood::log_likelihood_nats;
use super::{Score, ScoreError};
use crate::Orientation;

/// `log p_θ(x) - log p_θ0(x)` in nats, `θ` the flow trained on the in-distribution
/// images and `θ0` a *background* flow of the same architecture and preprocessing
/// trained on the same images with each pixel, with probability `μ`, replaced by a
/// uniform draw from `0..=255` (`flow_data::mutate_pixels`), with an L2 penalty `λ` on
/// its weights. The background term cancels what both flows explain by low-level pixel
/// statistics (smoothness, the share of background pixels), the part that makes MNIST
/// look likely under a FashionMNIST flow, and leaves the semantic part.
///
/// Higher means more in-distribution. Ren et al. choose `μ` in {0.1, 0.2, 0.3} and `λ`
/// in {0, 10, 100} on a validation OOD set.
#[derive(Debug, Clone, Copy)]
pub struct LikelihoodRatio<'a, B: FlowBackend> {
    foreground: &'a FlowNet<B>,
    background: &'a FlowNet<B>,
}

impl<'a, B: FlowBackend> LikelihoodRatio<'a, B> {
    /// The ratio of `foreground` to `background`.
    pub fn new(foreground: &'a FlowNet<B>, background: &'a FlowNet<B>) -> Self {
        Self {
            foreground,
            background,
        }
    }
}

impl<B: FlowBackend> Score<B> for LikelihoodRatio<'_, B> {
    fn name(&self) -> &str {
        "likelihood ratio"
    }

    fn orientation(&self) -> Orientation {
        Orientation::HigherIsInDistribution
    }

    fn score(&self, x: Tensor<B, 4>) -> Result<Vec<f64>, ScoreError> {
        let foreground = log_likelihood_nats(self.foreground, self.name(), x.clone())?;
        let background = log_likelihood_nats(self.background, self.name(), x)?;
        Ok(foreground
            .iter()
            .zip(&background)
            .map(|(f, b)| f - b)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scores::testing::{random_images, tiny_flow, B};

    #[test]
    fn identical_foreground_and_background_give_a_ratio_of_zero() {
        let model = tiny_flow(5);
        let ratio = LikelihoodRatio::new(&model, &model);
        let scores = ratio.score(random_images(6, 1)).unwrap();
        assert_eq!(scores.len(), 6);
        assert!(scores.iter().all(|&s| s == 0.0), "{scores:?}");
    }

    #[test]
    fn the_ratio_is_the_difference_of_the_two_log_likelihoods() {
        let (fg, bg) = (tiny_flow(1), tiny_flow(2));
        let x = random_images(4, 3);
        let ratio = LikelihoodRatio::new(&fg, &bg).score(x.clone()).unwrap();
        let f = log_likelihood_nats::<B>(&fg, "f", x.clone()).unwrap();
        let b = log_likelihood_nats::<B>(&bg, "b", x).unwrap();
        for i in 0..4 {
            assert!((ratio[i] - (f[i] - b[i])).abs() < 1e-9);
        }
        assert!(ratio.iter().any(|&r| r != 0.0));
    }
}
