//! Negative training (paper, appendix B): maximise the in-distribution likelihood and
//! minimise the likelihood of OOD images, but only while it is above a hinge, so the
//! flow is not rewarded for pushing OOD likelihoods to minus infinity.
//!
//! The loss of a step with in-distribution log-likelihoods `l_in` (n images) and OOD
//! log-likelihoods `l_ood` (m images), in nats:
//!
//! ```text
//! A = { j : l_ood[j] > hinge }
//! loss = 0.5 * (mean(-l_in) + mean_{j in A} l_ood[j])   if A is not empty
//!      = mean(-l_in)                                     otherwise
//! ```
//!
//! as in the reference (`train_unsup_ood_negative.py`: the OOD mean is over the images
//! above the hinge only). Both batches go through the flow as one batch, so BatchNorm
//! in the st-networks sees both, as in the reference.

use burn::tensor::{ElementConversion, Tensor};
use flow_data::ImageDataset;
use flow_kernels::FlowBackend;
use serde::{Deserialize, Serialize};

/// The paper's hinge for FashionMNIST vs MNIST, in nats.
pub const FASHION_MNIST_HINGE_NATS: f64 = -30_000.0;

/// How a run pushes OOD likelihoods down.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegativeConfig {
    /// OOD images per step (the reference: as many as in-distribution images).
    pub batch_size: usize,
    /// OOD images whose log-likelihood (nats) is at or below this are left alone.
    pub hinge_nats: f64,
}

/// The OOD images of a negative-training run and how they are used.
#[derive(Debug, Clone, Copy)]
pub struct NegativeData<'a> {
    /// The objective's settings.
    pub config: &'a NegativeConfig,
    /// The OOD training images (keep a disjoint set for evaluation).
    pub images: &'a ImageDataset,
}

/// The negative-training loss (see the module docs) from per-image log-likelihoods,
/// and how many OOD images were above the hinge.
pub fn negative_loss<B: FlowBackend>(
    log_p_in: Tensor<B, 1>,
    log_p_ood: Tensor<B, 1>,
    hinge_nats: f64,
) -> (Tensor<B, 1>, usize) {
    let positive = log_p_in.mean().neg();
    // The mask is data, not a function of the parameters: it only selects.
    let active = log_p_ood.clone().greater_elem(hinge_nats).float().detach();
    let count: f64 = active.clone().sum().into_scalar().elem();
    let count = count.round() as usize;
    if count == 0 {
        return (positive, 0);
    }
    let negative = (log_p_ood * active).sum().div_scalar(count as f64);
    ((positive + negative).mul_scalar(0.5), count)
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, Flex};
    use burn::tensor::TensorData;

    use super::*;

    type B = Autodiff<Flex>;

    fn tensor(values: &[f32]) -> Tensor<B, 1> {
        Tensor::from_data(
            TensorData::new(values.to_vec(), [values.len()]),
            &Default::default(),
        )
        .require_grad()
    }

    fn host(t: Tensor<Flex, 1>) -> Vec<f32> {
        t.into_data().to_vec().unwrap()
    }

    #[test]
    fn loss_averages_the_in_distribution_nll_and_the_ood_log_likelihood_above_the_hinge() {
        let l_in = tensor(&[-100.0, -300.0]);
        let l_ood = tensor(&[-50.0, -40_000.0, -150.0]);
        let (loss, active) = negative_loss(l_in.clone(), l_ood.clone(), -30_000.0);
        assert_eq!(active, 2);
        // 0.5 * (200 + (-50 - 150) / 2) = 50.
        let value: f32 = loss.clone().into_scalar();
        assert!((value - 50.0).abs() < 1e-4, "{value}");
        let grads = loss.backward();
        // Raising an in-distribution likelihood lowers the loss; raising an OOD one
        // above the hinge raises it; one below the hinge does not matter.
        assert_eq!(host(l_in.grad(&grads).unwrap()), vec![-0.25, -0.25]);
        assert_eq!(host(l_ood.grad(&grads).unwrap()), vec![0.25, 0.0, 0.25]);
    }

    /// `n` 1x4x4 images: a horizontal ramp (`vertical` false) or a vertical one, with a
    /// small deterministic jitter.
    fn ramps(n: usize, vertical: bool) -> ImageDataset {
        let mut pixels = Vec::with_capacity(n * 16);
        for i in 0..n {
            for p in 0..16usize {
                let along = if vertical { p / 4 } else { p % 4 };
                pixels.push((along * 70 + (i * 7 + p * 3) % 9) as u8);
            }
        }
        ImageDataset::new(flow_data::ImageShape::new(1, 4, 4), pixels, vec![0; n]).unwrap()
    }

    fn mean_log_p(model: &flow_core::FlowNet<B>, data: &ImageDataset) -> f64 {
        let mut batcher = flow_data::Batcher::dequantized(99);
        let indices: Vec<usize> = (0..data.len()).collect();
        let x = batcher
            .batch::<B>(data, &indices, &Default::default())
            .unwrap()
            .images;
        let nats = model.log_likelihood(x).unwrap().nats();
        let v: Vec<f32> = nats.into_data().to_vec().unwrap();
        v.iter().map(|x| f64::from(*x)).sum::<f64>() / v.len() as f64
    }

    fn setup() -> (flow_core::FlowConfig, crate::TrainConfig, NegativeConfig) {
        let flow = flow_core::FlowConfig::single_scale(
            [1, 4, 4],
            flow_masks::MaskSchedule::checkerboard(2),
            1,
            4,
        );
        let train = crate::TrainConfig {
            seed: 5,
            batch_size: 8,
            epochs: None,
            max_steps: Some(30),
            optim: crate::OptimConfig {
                learning_rate: 3e-3,
                ..Default::default()
            },
        };
        let negative = NegativeConfig {
            batch_size: 8,
            hinge_nats: -200.0,
        };
        (flow, train, negative)
    }

    #[test]
    fn negative_training_separates_what_plain_training_does_not() {
        use crate::{RunOptions, Training};
        let (flow, train, negative) = setup();
        let (data, ood) = (ramps(32, false), ramps(24, true));
        let quiet = RunOptions {
            quiet: true,
            ..RunOptions::default()
        };
        let device = Default::default();
        let plain = Training::new(&flow, &train, &data)
            .options(quiet.clone())
            .start::<B>(&device)
            .unwrap()
            .model;
        let neg = NegativeData {
            config: &negative,
            images: &ood,
        };
        let pushed = Training::new(&flow, &train, &data)
            .negative(neg)
            .options(quiet)
            .start::<B>(&device)
            .unwrap()
            .model;
        let gap = |m: &flow_core::FlowNet<B>| mean_log_p(m, &data) - mean_log_p(m, &ood);
        let (plain_gap, pushed_gap) = (gap(&plain), gap(&pushed));
        assert!(
            pushed_gap > plain_gap + 5.0,
            "in - OOD log p: plain {plain_gap:.2}, negative {pushed_gap:.2}"
        );
    }

    #[test]
    fn an_interrupted_negative_run_resumes_to_the_same_model_and_refuses_other_ood_data() {
        use crate::{RunOptions, Training};
        let (flow, train, negative) = setup();
        let (data, ood) = (ramps(32, false), ramps(24, true));
        let device = Default::default();
        let neg = Some(NegativeData {
            config: &negative,
            images: &ood,
        });
        let whole = Training::new(&flow, &train, &data)
            .negative(neg)
            .options(RunOptions {
                quiet: true,
                ..RunOptions::default()
            })
            .start::<B>(&device)
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let stopped = RunOptions {
            quiet: true,
            checkpoint_dir: Some(dir.path().to_path_buf()),
            stop_after_steps: Some(11),
            ..RunOptions::default()
        };
        let first = Training::new(&flow, &train, &data)
            .negative(neg)
            .options(stopped)
            .start::<B>(&device)
            .unwrap();
        assert_eq!(first.steps, 11);
        let quiet = RunOptions {
            quiet: true,
            checkpoint_dir: Some(dir.path().to_path_buf()),
            ..RunOptions::default()
        };
        let resume = |negative: Option<NegativeData<'_>>| {
            Training::new(&flow, &train, &data)
                .negative(negative)
                .options(quiet.clone())
                .resume::<B>(&device)
        };
        let other = ramps(24, false);
        let wrong = NegativeData {
            config: &negative,
            images: &other,
        };
        assert!(resume(Some(wrong)).is_err());
        assert!(resume(None).is_err());
        let resumed = resume(neg).unwrap();
        assert_eq!(resumed.steps, 30);
        let curve = |h: &[crate::HistoryPoint]| {
            h.iter()
                .map(|p| p.bits_per_dim.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(curve(&resumed.history), curve(&whole.history));
        assert_eq!(
            mean_log_p(&resumed.model, &ood).to_bits(),
            mean_log_p(&whole.model, &ood).to_bits()
        );
    }

    #[test]
    fn below_the_hinge_only_the_in_distribution_term_remains() {
        let l_in = tensor(&[-100.0, -300.0]);
        let l_ood = tensor(&[-40_000.0, -31_000.0]);
        let (loss, active) = negative_loss(l_in.clone(), l_ood.clone(), -30_000.0);
        assert_eq!(active, 0);
        let value: f32 = loss.clone().into_scalar();
        assert!((value - 200.0).abs() < 1e-4);
        let grads = loss.backward();
        assert_eq!(host(l_in.grad(&grads).unwrap()), vec![-0.5, -0.5]);
        assert!(l_ood
            .grad(&grads)
            .is_none_or(|g| host(g).iter().all(|v| *v == 0.0)));
    }
}
