//! Batch normalisation with the batch's statistics (training mode), optionally followed
//! by a ReLU, as one operation: what [`FlowBackend::batch_norm_train`] and its backward
//! pass take and return, burn's own operations for backends without a fast path, and
//! the tensor-level [`batch_norm_train`] model code calls.

use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{Tensor, TensorPrimitive};

use crate::FlowBackend;

pub use crate::cpu_norm::WantedNormGrads;

/// The layer's settings that are not tensors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormOptions {
    /// Added to the variance before its square root.
    pub epsilon: f64,
    /// Whether a ReLU follows the normalisation (fused into the same passes).
    pub relu: bool,
}

/// The statistics a training-mode batch normalisation took, per channel (`[C]` each).
#[derive(Debug, Clone)]
pub struct NormStatistics<B: Backend> {
    /// The batch mean.
    pub mean: FloatTensor<B>,
    /// The batch's biased variance (what normalises).
    pub variance: FloatTensor<B>,
}

/// What [`FlowBackend::batch_norm_train`] returns.
#[derive(Debug)]
pub struct NormOutput<B: Backend> {
    /// The normalised batch, `[N, C, H, W]`.
    pub output: FloatTensor<B>,
    /// The statistics it was normalised with (no gradient flows through these).
    pub statistics: NormStatistics<B>,
}

/// The gradients [`FlowBackend::batch_norm_train_backward`] returns, each present when
/// asked for.
#[derive(Debug)]
pub struct NormGrads<B: Backend> {
    /// Gradient of the input, `[N, C, H, W]`.
    pub x: Option<FloatTensor<B>>,
    /// Gradient of the scale, `[C]`.
    pub gamma: Option<FloatTensor<B>>,
    /// Gradient of the shift, `[C]`.
    pub beta: Option<FloatTensor<B>>,
}

fn float<B: Backend, const D: usize>(t: FloatTensor<B>) -> Tensor<B, D> {
    Tensor::from_primitive(TensorPrimitive::Float(t))
}

fn primitive<B: Backend, const D: usize>(t: Tensor<B, D>) -> FloatTensor<B> {
    t.into_primitive().tensor()
}

/// `[C]` as `[1, C, 1]`, to broadcast over `[N, C, H*W]`.
fn per_channel<B: Backend>(v: FloatTensor<B>) -> Tensor<B, 3> {
    let v = float::<B, 1>(v);
    let c = v.dims()[0];
    v.reshape([1, c, 1])
}

/// Sum over images and positions: `[N, C, P] -> [1, C, 1]`.
fn channel_sum<B: Backend>(t: Tensor<B, 3>) -> Tensor<B, 3> {
    t.sum_dim(2).sum_dim(0)
}

/// burn's own operations for [`FlowBackend::batch_norm_train`].
pub fn burn_batch_norm_train<B: Backend>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    options: NormOptions,
) -> NormOutput<B> {
    let x = float::<B, 4>(x);
    let [n, c, h, w] = x.dims();
    let rows = x.reshape([n, c, h * w]);
    let mean = rows.clone().mean_dim(2).mean_dim(0);
    let centred = rows - mean.clone();
    let variance = centred.clone().square().mean_dim(2).mean_dim(0);
    let scale = per_channel::<B>(gamma) / variance.clone().add_scalar(options.epsilon).sqrt();
    let y = centred * scale + per_channel::<B>(beta);
    let y = if options.relu { relu(y) } else { y };
    NormOutput {
        output: primitive(y.reshape([n, c, h, w])),
        statistics: NormStatistics {
            mean: primitive(mean.reshape([c])),
            variance: primitive(variance.reshape([c])),
        },
    }
}

/// burn's own operations for [`FlowBackend::batch_norm_train_backward`]: the formula of
/// [`crate::cpu_norm::batch_norm_backward`].
pub fn burn_batch_norm_backward<B: Backend>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    statistics: NormStatistics<B>,
    grad: FloatTensor<B>,
    options: NormOptions,
    wanted: WantedNormGrads,
) -> NormGrads<B> {
    let x = float::<B, 4>(x);
    let [n, c, h, w] = x.dims();
    let count = (n * h * w).max(1) as f64;
    let deviation = x.reshape([n, c, h * w]) - per_channel::<B>(statistics.mean);
    let inv_std = per_channel::<B>(statistics.variance)
        .add_scalar(options.epsilon)
        .sqrt()
        .recip();
    let gamma = per_channel::<B>(gamma);
    let a = gamma * inv_std.clone();
    let grad = float::<B, 4>(grad).reshape([n, c, h * w]);
    let grad = if options.relu {
        let pre = deviation.clone() * a.clone() + per_channel::<B>(beta);
        grad.mask_fill(pre.lower_equal_elem(0.0), 0.0)
    } else {
        grad
    };
    let sum_g = channel_sum(grad.clone());
    let sum_gd = channel_sum(grad.clone() * deviation.clone());
    let x_grad = wanted.x.then(|| {
        let b = a.clone() * inv_std.clone().square() * sum_gd.clone().div_scalar(-count);
        let offset = a.clone() * sum_g.clone().div_scalar(-count);
        primitive((grad * a + deviation * b + offset).reshape([n, c, h, w]))
    });
    NormGrads {
        x: x_grad,
        gamma: wanted
            .gamma
            .then(|| primitive((sum_gd * inv_std).reshape([c]))),
        beta: wanted.beta.then(|| primitive(sum_g.reshape([c]))),
    }
}

/// burn's own operations for [`FlowBackend::channel_affine`].
pub fn burn_channel_affine<B: Backend>(
    x: FloatTensor<B>,
    scale: FloatTensor<B>,
    shift: FloatTensor<B>,
    then_relu: bool,
) -> FloatTensor<B> {
    let x = float::<B, 4>(x);
    let [n, c, h, w] = x.dims();
    let y = x.reshape([n, c, h * w]) * per_channel::<B>(scale) + per_channel::<B>(shift);
    let y = if then_relu { relu(y) } else { y };
    primitive(y.reshape([n, c, h, w]))
}

/// [`FlowBackend::channel_affine`] on tensors: `relu?(x * scale + shift)` per channel
/// of `[N, C, H, W]` (a batch normalisation in evaluation mode, and the ReLU after it).
pub fn channel_affine<B: FlowBackend>(
    x: Tensor<B, 4>,
    scale: Tensor<B, 1>,
    shift: Tensor<B, 1>,
    then_relu: bool,
) -> Tensor<B, 4> {
    float(B::channel_affine(
        primitive(x),
        primitive(scale),
        primitive(shift),
        then_relu,
    ))
}

/// [`FlowBackend::batch_norm_train`] on tensors: `relu?(gamma (x - mean) / sqrt(var +
/// eps) + beta)` per channel of `[N, C, H, W]` with the batch's mean and biased
/// variance, which it returns too (detached) for the caller's running statistics.
pub fn batch_norm_train<B: FlowBackend>(
    x: Tensor<B, 4>,
    gamma: Tensor<B, 1>,
    beta: Tensor<B, 1>,
    options: NormOptions,
) -> (Tensor<B, 4>, Tensor<B, 1>, Tensor<B, 1>) {
    let out = B::batch_norm_train(primitive(x), primitive(gamma), primitive(beta), options);
    (
        float(out.output),
        float(out.statistics.mean),
        float(out.statistics.variance),
    )
}
