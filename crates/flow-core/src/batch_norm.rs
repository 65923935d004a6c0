//! 2-d batch normalisation for the st-networks.
//!
//! Semantics follow PyTorch's `BatchNorm2d` as the reference uses it: batch statistics
//! (biased variance) while training, running statistics (momentum 0.1, unbiased
//! variance) in evaluation; burn's convention decides which is which (training when the
//! backend records gradients, evaluation after `.valid()`).
//!
//! Written here rather than taken from `burn::nn` because burn's version transposes the
//! batch and channel axes before reducing, which the flex backend materialises element
//! by element; on the reference RealNVP that transpose took most of the forward pass.
//! Here the statistics are reductions over `[N, C, H*W]`, a free reshape.
//!
//! The layer runs through flow-kernels' fused operations ([`FlowBackend::batch_norm_train`]
//! while training, [`FlowBackend::channel_affine`] in evaluation), with the ReLU that
//! follows it in the st-networks folded in by [`BatchNorm2d::forward_relu`]: on flex
//! that is two passes over the batch where the composed operations took about
//! eighteen. `FLOWS_OOD_KERNELS=burn`, and gradients through the running statistics,
//! take the composed operations.
//!
//! [`with_running_statistics`] evaluates a model that records gradients (an autodiff
//! backend) in evaluation mode: what a per-input gradient of `log p(x)` needs, since the
//! statistics of a batch of one image are not the model's.

use std::cell::Cell;

use burn::module::{Module, Param, RunningState};
use burn::tensor::activation::relu;
use burn::tensor::Tensor;
use flow_kernels::{FlowBackend, NormOptions};

use crate::broadcast::{add_channels, affine_channels, channel_mean};
use crate::init::constant_param;

/// PyTorch's default momentum for the running statistics.
const MOMENTUM: f64 = 0.1;
/// PyTorch's default epsilon.
const EPSILON: f64 = 1e-5;

thread_local! {
    /// Set while [`with_running_statistics`] runs on this thread.
    static RUNNING_STATISTICS: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with every [`BatchNorm2d`] forward pass on this thread in evaluation mode
/// (running statistics, left unchanged), even on a backend that records gradients; the
/// gradients then flow through the running statistics' affine map, as they do in
/// PyTorch after `model.eval()`. The previous mode is restored when `f` returns or
/// panics.
pub fn with_running_statistics<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            RUNNING_STATISTICS.with(|mode| mode.set(self.0));
        }
    }
    let _restore = Restore(RUNNING_STATISTICS.with(|mode| mode.replace(true)));
    f()
}

/// Batch normalisation over the channels of `[N, C, H, W]`.
#[derive(Module, Debug)]
pub struct BatchNorm2d<B: FlowBackend> {
    /// Scale per channel.
    pub gamma: Param<Tensor<B, 1>>,
    /// Shift per channel.
    pub beta: Param<Tensor<B, 1>>,
    /// Running mean per channel.
    pub running_mean: RunningState<Tensor<B, 1>>,
    /// Running (unbiased) variance per channel.
    pub running_var: RunningState<Tensor<B, 1>>,
}

impl<B: FlowBackend> BatchNorm2d<B> {
    /// Identity-initialised batch normalisation over `channels`.
    pub fn new(channels: usize, device: &B::Device) -> Self {
        Self {
            gamma: constant_param([channels], 1.0, device),
            beta: constant_param([channels], 0.0, device),
            running_mean: RunningState::new(Tensor::zeros([channels], device)),
            running_var: RunningState::new(Tensor::ones([channels], device)),
        }
    }

    /// Normalises `x`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        self.forward_then(x, false)
    }

    /// `relu(self.forward(x))`, in one operation where the backend fuses the two
    /// ([`FlowBackend::batch_norm_train`]).
    pub fn forward_relu(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        self.forward_then(x, true)
    }

    fn forward_then(&self, x: Tensor<B, 4>, then_relu: bool) -> Tensor<B, 4> {
        let device = x.device();
        let training = B::ad_enabled(&device) && !RUNNING_STATISTICS.with(Cell::get);
        if !training {
            let mean = self.running_mean.value().to_device(&device);
            let var = self.running_var.value().to_device(&device);
            if B::ad_enabled(&device) || !flow_kernels::fast_paths_enabled() {
                // Gradients through the running statistics (flow-ood's gradient
                // scores), or burn's own operations: the composed map.
                let y = self.affine(x, mean, var);
                return if then_relu { relu(y) } else { y };
            }
            let (scale, shift) = self.affine_terms(mean, var);
            return flow_kernels::channel_affine(x, scale, shift, then_relu);
        }
        let [n, _, h, w] = x.dims();
        let (y, batch_mean, batch_var) = if flow_kernels::fast_paths_enabled() {
            let options = NormOptions {
                epsilon: EPSILON,
                relu: then_relu,
            };
            flow_kernels::batch_norm_train(x, self.gamma.val(), self.beta.val(), options)
        } else {
            // burn's own operations end to end (FLOWS_OOD_KERNELS=burn), the graph
            // autodiff records from them.
            let mean = channel_mean(x.clone());
            let var = channel_mean(add_channels(x.clone(), mean.clone().neg()).square());
            let y = self.affine(x, mean.clone(), var.clone());
            let y = if then_relu { relu(y) } else { y };
            (y, mean.detach(), var.detach())
        };
        self.update_running_statistics(batch_mean, batch_var, n * h * w);
        y
    }

    /// `(x - mean) * gamma / std + beta` as one per-channel affine map.
    fn affine(&self, x: Tensor<B, 4>, mean: Tensor<B, 1>, var: Tensor<B, 1>) -> Tensor<B, 4> {
        let (scale, shift) = self.affine_terms(mean, var);
        affine_channels(x, scale, shift)
    }

    /// The per-channel `(scale, shift)` that normalises with `mean`, `var` and applies
    /// gamma and beta.
    fn affine_terms(&self, mean: Tensor<B, 1>, var: Tensor<B, 1>) -> (Tensor<B, 1>, Tensor<B, 1>) {
        let scale = self.gamma.val() / var.add_scalar(EPSILON).sqrt();
        let shift = self.beta.val() - mean * scale.clone();
        (scale, shift)
    }

    /// Folds a batch's mean and biased variance, taken over `count` values per
    /// channel, into the running estimates (the variance made unbiased, as PyTorch's).
    fn update_running_statistics(&self, mean: Tensor<B, 1>, var: Tensor<B, 1>, count: usize) {
        let device = mean.device();
        let unbiased = if count > 1 {
            count as f64 / (count as f64 - 1.0)
        } else {
            1.0
        };
        let batch_var = var.detach().mul_scalar(unbiased);
        let running_mean = self.running_mean.value_sync().to_device(&device);
        let running_var = self.running_var.value_sync().to_device(&device);
        self.running_mean.update(
            (running_mean.mul_scalar(1.0 - MOMENTUM) + mean.detach().mul_scalar(MOMENTUM)).detach(),
        );
        self.running_var.update(
            (running_var.mul_scalar(1.0 - MOMENTUM) + batch_var.mul_scalar(MOMENTUM)).detach(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, NdArray};
    use burn::module::AutodiffModule;
    use burn::tensor::TensorData;

    type Ad = Autodiff<NdArray>;

    fn values<B: burn::tensor::backend::Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
        t.into_data().convert::<f32>().to_vec().unwrap()
    }

    /// One training step: the output is the batch-normalised input (with the ReLU when
    /// asked), and the running estimates move a tenth of the way to the batch's mean
    /// and unbiased variance.
    #[test]
    fn training_normalises_with_the_batch_and_updates_the_running_statistics() {
        let device = Default::default();
        let x = Tensor::<Ad, 4>::from_data(
            TensorData::new((0..8).map(|v| v as f32).collect::<Vec<_>>(), [1, 2, 2, 2]),
            &device,
        );
        for relu in [false, true] {
            let bn = BatchNorm2d::<Ad>::new(2, &device);
            let y = if relu {
                bn.forward_relu(x.clone())
            } else {
                bn.forward(x.clone())
            };
            // Each channel holds four consecutive values: mean +1.5 from its first,
            // biased variance 1.25, unbiased 5/3.
            let std = (1.25f32 + 1e-5).sqrt();
            let expected: Vec<f32> = [-1.5f32, -0.5, 0.5, 1.5, -1.5, -0.5, 0.5, 1.5]
                .iter()
                .map(|d| if relu { (d / std).max(0.0) } else { d / std })
                .collect();
            for (got, want) in values(y).iter().zip(&expected) {
                assert!(
                    (got - want).abs() < 1e-5,
                    "{got} against {want} (relu {relu})"
                );
            }
            for (got, want) in values(bn.running_mean.value_sync())
                .iter()
                .zip([0.15, 0.55])
            {
                assert!((got - want).abs() < 1e-6);
            }
            for got in values(bn.running_var.value_sync()) {
                assert!((got - (0.9 + 0.1 * 5.0 / 3.0)).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn running_statistics_on_an_autodiff_backend_match_evaluation_mode() {
        let device = Default::default();
        let mut bn = BatchNorm2d::<Ad>::new(2, &device);
        bn.running_mean = RunningState::new(Tensor::from_floats([0.5, -1.0], &device));
        bn.running_var = RunningState::new(Tensor::from_floats([4.0, 0.25], &device));
        let x = Tensor::<Ad, 4>::from_data(
            TensorData::new((0..8).map(|v| v as f32).collect::<Vec<_>>(), [1, 2, 2, 2]),
            &device,
        );
        let evaluated = with_running_statistics(|| bn.forward(x.clone()));
        let inference = bn.valid().forward(x.clone().inner());
        assert_eq!(values(evaluated), values(inference));
        // The running statistics were read, not updated, and the mode is restored.
        assert_eq!(values(bn.running_mean.value()), [0.5, -1.0]);
        assert_eq!(values(bn.forward(x)).len(), 8);
        assert_ne!(values(bn.running_mean.value_sync()), [0.5, -1.0]);
    }
}
