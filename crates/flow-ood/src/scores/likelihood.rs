//! The paper's score: the flow's own log-likelihood (and its bits/dim form).

use burn::tensor::Tensor;
use flow_core::FlowNet;
use flow_kernels::FlowBackend;

use super::{to_host, Score, ScoreError};
use crate::Orientation;

/// The likelihood terms of `x`, with errors attributed to the score `name`.
pub(super) fn likelihood_terms<B: FlowBackend>(
    model: &FlowNet<B>,
    name: &str,
    x: Tensor<B, 4>,
) -> Result<flow_core::likelihood::LogLikelihood<B>, ScoreError> {
    model.log_likelihood(x).map_err(|source| ScoreError::Flow {
        score: name.into(),
        source,
    })
}

/// `log p(x)` in nats per input of `x`, with errors attributed to the score `name`.
pub(super) fn log_likelihood_nats<B: FlowBackend>(
    model: &FlowNet<B>,
    name: &str,
    x: Tensor<B, 4>,
) -> Result<Vec<f64>, ScoreError> {
    to_host(name, likelihood_terms(model, name, x)?.nats())
}

/// `log p(x)` in nats; higher means more in-distribution (the paper's score).
#[derive(Debug, Clone, Copy)]
pub struct LogLikelihood<'a, B: FlowBackend> {
    model: &'a FlowNet<B>,
}

impl<'a, B: FlowBackend> LogLikelihood<'a, B> {
    /// The log-likelihood under `model`.
    pub fn new(model: &'a FlowNet<B>) -> Self {
        Self { model }
    }
}

impl<B: FlowBackend> Score<B> for LogLikelihood<'_, B> {
    fn name(&self) -> &str {
        "log-likelihood"
    }

    fn orientation(&self) -> Orientation {
        Orientation::HigherIsInDistribution
    }

    fn score(&self, x: Tensor<B, 4>) -> Result<Vec<f64>, ScoreError> {
        log_likelihood_nats(self.model, self.name(), x)
    }
}

/// Bits per dimension, `-log p(x) / (D ln 2)`; higher means more out-of-distribution.
#[derive(Debug, Clone, Copy)]
pub struct BitsPerDim<'a, B: FlowBackend> {
    model: &'a FlowNet<B>,
}

impl<'a, B: FlowBackend> BitsPerDim<'a, B> {
    /// Bits/dim under `model`.
    pub fn new(model: &'a FlowNet<B>) -> Self {
        Self { model }
    }
}

impl<B: FlowBackend> Score<B> for BitsPerDim<'_, B> {
    fn name(&self) -> &str {
        "bits/dim"
    }

    fn orientation(&self) -> Orientation {
        Orientation::HigherIsOutOfDistribution
    }

    fn score(&self, x: Tensor<B, 4>) -> Result<Vec<f64>, ScoreError> {
        let likelihood = likelihood_terms(self.model, self.name(), x)?;
        to_host(self.name(), likelihood.bits_per_dim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scores::score_all;
    use crate::{evaluate_oriented, EvaluateOptions};
    use burn::backend::Flex;
    use burn::tensor::TensorData;
    use flow_core::FlowConfig;
    use flow_masks::MaskSchedule;

    type B = Flex;

    fn batch(values: Vec<f32>, n: usize) -> Tensor<B, 4> {
        Tensor::from_data(TensorData::new(values, [n, 1, 4, 4]), &Default::default())
    }

    #[test]
    fn both_scores_rank_inputs_the_same_way_and_agree_on_auroc() {
        let device = Default::default();
        let config = FlowConfig::single_scale([1, 4, 4], MaskSchedule::checkerboard(2), 1, 4);
        let model = config.init::<B>(3, &device).unwrap();
        // Mid-grey images are far more likely under a fresh flow (logit of ~0.5 is ~0)
        // than near-saturated ones: a known ordering, not a trained model.
        let grey = batch(vec![0.5; 3 * 16], 3);
        let bright = batch(vec![0.99; 2 * 16], 2);
        let ll = LogLikelihood::new(&model);
        let bpd = BitsPerDim::new(&model);
        let ll_in = score_all(&ll, [grey.clone()]).unwrap();
        let ll_ood = score_all(&ll, [bright.clone()]).unwrap();
        let bpd_in = score_all(&bpd, [grey]).unwrap();
        let bpd_ood = score_all(&bpd, [bright]).unwrap();
        assert_eq!(ll_in.values.len(), 3);
        for (l, b) in ll_in.values.iter().zip(&bpd_in.values) {
            let expected = -l / (16.0 * std::f64::consts::LN_2);
            assert!(
                (b - expected).abs() < 1e-4 * expected.abs().max(1.0),
                "{b} vs {expected}"
            );
        }
        let options = EvaluateOptions::default();
        let by_ll = evaluate_oriented(&ll_in, &ll_ood, &options).unwrap();
        let by_bpd = evaluate_oriented(&bpd_in, &bpd_ood, &options).unwrap();
        assert_eq!(by_ll.auroc.value, 1.0);
        assert_eq!(by_bpd.auroc.value, by_ll.auroc.value);
    }

    #[test]
    fn a_wrong_shape_is_an_error_naming_the_score() {
        let device = Default::default();
        let config = FlowConfig::single_scale([1, 4, 4], MaskSchedule::checkerboard(2), 1, 4);
        let model = config.init::<B>(3, &device).unwrap();
        let x = Tensor::<B, 4>::zeros([2, 1, 8, 8], &device);
        let err = LogLikelihood::new(&model).score(x).unwrap_err().to_string();
        assert!(
            err.contains("log-likelihood") && err.contains("input shape"),
            "{err}"
        );
    }
}
