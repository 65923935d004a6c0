//! Per-image log-likelihoods of a dataset under a trained flow.

use burn::tensor::backend::Backend;
use flow_core::FlowNet;
use flow_data::{BatchPlan, Batcher, ImageDataset};
use flow_ood::scores::{LogLikelihood, Score};
use serde::Serialize;

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
}

impl ScoredSet {
    /// Mean bits/dim over finite values (`NaN` if there are none).
    pub fn mean_bits_per_dim(&self) -> f64 {
        let finite: Vec<f64> = self
            .bits_per_dim
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        if finite.is_empty() {
            f64::NAN
        } else {
            finite.iter().sum::<f64>() / finite.len() as f64
        }
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

/// Scores `data` with `model`: the log-likelihood of each image, averaged over `draws`
/// dequantization draws (seeded by `seed`), and its bits/dim.
pub fn score_set<B: Backend>(
    model: &FlowNet<B>,
    name: &str,
    data: &ImageDataset,
    batch_size: usize,
    draws: usize,
    seed: u64,
    device: &B::Device,
) -> Result<ScoredSet, ExperimentError> {
    let draws = draws.max(1);
    let plan = BatchPlan::sequential(data.len(), batch_size)?;
    let score = LogLikelihood::new(model);
    let mut total = vec![0.0; data.len()];
    for draw in 0..draws {
        let mut batcher = Batcher::dequantized(seed.wrapping_add(draw as u64));
        let mut offset = 0;
        for indices in plan.batches() {
            let batch = batcher.batch::<B>(data, indices, device)?;
            for (i, v) in score.score(batch.images)?.into_iter().enumerate() {
                total[offset + i] += v / draws as f64;
            }
            offset += indices.len();
        }
    }
    let dims = model.dims() as f64;
    let bits_per_dim = total
        .iter()
        .map(|ll| -ll / (dims * std::f64::consts::LN_2))
        .collect();
    Ok(ScoredSet {
        name: name.to_string(),
        log_likelihood: total,
        bits_per_dim,
    })
}

#[cfg(test)]
mod tests {
    use super::evenly_spaced;

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
