//! Per-image log-likelihoods of a dataset under a trained flow.

use flow_core::likelihood::bits_per_dim;
use flow_core::FlowNet;
use flow_data::stream_seed;
use flow_data::{BatchPlan, Batcher, ImageDataset};
use flow_kernels::FlowBackend;
use flow_ood::scores::FlowStatistics;
use serde::Serialize;

use super::explain::{LayerBreakdown, LayerSums};
use super::ExperimentError;

/// The scores of one set of images.
#[derive(Debug, Clone, Serialize)]
pub struct ScoredSet {
    /// Display name (e.g. `MNIST`).
    pub name: String,
    /// `log p(x)` in nats per image (averaged over dequantization draws).
    pub log_likelihood: Vec<f64>,
    /// Bits per dimension per image.
    pub bits_per_dim: Vec<f64>,
    /// The mean contribution of each layer and of the prior to `log p(x)`.
    pub layers: Option<LayerBreakdown>,
}

impl ScoredSet {
    /// Mean bits/dim over finite values (`NaN` if there are none); how many were left
    /// out is [`non_finite`](Self::non_finite).
    pub fn mean_bits_per_dim(&self) -> f64 {
        finite_mean(&self.bits_per_dim)
    }

    /// Mean log-likelihood in nats over finite values (`NaN` if there are none).
    pub fn mean_log_likelihood(&self) -> f64 {
        finite_mean(&self.log_likelihood)
    }

    /// Images whose log-likelihood is NaN or infinite: left out of both means.
    pub fn non_finite(&self) -> usize {
        self.log_likelihood
            .iter()
            .filter(|v| !v.is_finite())
            .count()
    }
}

/// The mean of the finite values (`NaN` if there are none).
fn finite_mean(values: &[f64]) -> f64 {
    let (sum, count) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((0.0, 0usize), |(sum, count), v| (sum + v, count + 1));
    if count == 0 {
        f64::NAN
    } else {
        sum / count as f64
    }
}

/// `limit` indices spread evenly over `0..len` (all of them when `limit` is unset or not
/// smaller): a deterministic subset that keeps the class balance of class-sorted data.
pub fn evenly_spaced(len: usize, limit: Option<usize>) -> Vec<usize> {
    match limit {
        Some(limit) if limit < len => (0..limit).map(|i| i * len / limit).collect(),
        _ => (0..len).collect(),
    }
}

/// The traced statistics (flow-ood's [`FlowStatistics`], log-likelihood first) of every
/// image of `data`, dequantized with the noise of `seed`, in batches of `batch_size`.
pub fn dequantized_statistics<B: FlowBackend>(
    model: &FlowNet<B>,
    data: &ImageDataset,
    batch_size: usize,
    seed: u64,
    device: &B::Device,
) -> Result<FlowStatistics, ExperimentError> {
    let plan = BatchPlan::sequential(data.len(), batch_size)?;
    let mut batcher = Batcher::dequantized(seed);
    let batches = batcher
        .iter::<B>(data, &plan, device)
        .map(|batch| batch.map(|b| b.images).map_err(ExperimentError::from));
    FlowStatistics::of_batches(model, batches)
}

/// Scores `data` with `model`: the log-likelihood of each image, averaged over `draws`
/// dequantization draws (seeded by `seed`), and its bits/dim; the same forward passes
/// are traced, giving the mean contribution of each layer and of the prior.
pub fn score_set<B: FlowBackend>(
    model: &FlowNet<B>,
    name: &str,
    data: &ImageDataset,
    batch_size: usize,
    draws: usize,
    seed: u64,
    device: &B::Device,
) -> Result<ScoredSet, ExperimentError> {
    let draws = draws.max(1);
    let mut total = vec![0.0; data.len()];
    let mut layers = LayerSums::default();
    for draw in 0..draws {
        let draw_seed = stream_seed(seed, &format!("draw/{draw}"));
        let stats = dequantized_statistics(model, data, batch_size, draw_seed, device)?;
        for (sum, v) in total.iter_mut().zip(stats.log_likelihood()) {
            *sum += v / draws as f64;
        }
        layers
            .add(&stats)
            .map_err(|reason| ExperimentError::Explain {
                model: name.to_string(),
                reason,
            })?;
    }
    let dims = model.dims();
    let bits_per_dim = total.iter().map(|&ll| bits_per_dim(ll, dims)).collect();
    Ok(ScoredSet {
        name: name.to_string(),
        log_likelihood: total,
        bits_per_dim,
        layers: layers.finish(),
    })
}

#[cfg(test)]
mod tests {
    use super::{evenly_spaced, ScoredSet};

    #[test]
    fn means_leave_out_non_finite_images_and_count_them() {
        let set = ScoredSet {
            name: "x".into(),
            log_likelihood: vec![-1.0, f64::NEG_INFINITY, -3.0, f64::NAN],
            bits_per_dim: vec![1.0, f64::INFINITY, 3.0, f64::NAN],
            layers: None,
        };
        assert_eq!(set.mean_bits_per_dim(), 2.0);
        assert_eq!(set.mean_log_likelihood(), -2.0);
        assert_eq!(set.non_finite(), 2);
        let empty = ScoredSet {
            log_likelihood: vec![f64::NAN],
            bits_per_dim: vec![f64::NAN],
            ..set
        };
        assert!(empty.mean_bits_per_dim().is_nan());
        assert_eq!(empty.non_finite(), 1);
    }

    #[test]
    fn evenly_spaced_subsets_are_spread_and_bounded() {
        assert_eq!(evenly_spaced(10, Some(5)), vec![0, 2, 4, 6, 8]);
        assert_eq!(evenly_spaced(3, Some(5)), vec![0, 1, 2]);
        assert_eq!(evenly_spaced(4, None), vec![0, 1, 2, 3]);
        let picked = evenly_spaced(10_000, Some(2000));
        assert_eq!(picked.len(), 2000);
        assert!(picked.windows(2).all(|w| w[0] < w[1]));
    }
}
