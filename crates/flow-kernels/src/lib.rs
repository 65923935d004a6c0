//! Fast paths for the operations normalizing flows spend their time in, behind burn's
//! backend-extension API.
//!
//! Model code calls [`conv2d`] on any backend that implements [`FlowBackend`]. Every
//! backend this workspace compiles in implements it:
//!
//! - **flex** (the default CPU backend) runs the convolution of the st-networks
//!   (stride 1, same zero padding, one group, `f32`/`f64`) and both of its gradients as
//!   `gemm` products per image ([`cpu_conv`]: one over an `im2col` column matrix, or,
//!   with `FLOWS_OOD_KERNELS=shifted`, one per kernel tap over the padded image read in
//!   place): one pass computes the kernel, bias and input gradients together,
//!   where burn's generic backward runs a transposed convolution and a
//!   dimension-swapped convolution with strided copies;
//!   Batch normalisation with the batch's statistics and the ReLU after it
//!   ([`FlowBackend::batch_norm_train`]), and the evaluation-mode affine map
//!   ([`FlowBackend::channel_affine`]), run as two passes over the batch ([`cpu_norm`]);
//! - **ndarray, wgpu, cuda** use burn's own operations (the trait's default methods);
//! - **`Autodiff<B>`** records one node per convolution and per training-mode norm,
//!   whose backward asks `B` for all wanted gradients at once
//!   ([`FlowBackend::conv2d_backward`], [`FlowBackend::batch_norm_train_backward`]).
//!
//! So the same model is written once, generic over `B: FlowBackend`, and a backend
//! without a fast path computes exactly what burn computes.
//!
//! The kernels are checked against burn's own operation, for values and for all three
//! gradients, over random shapes, paddings, batch sizes and odd channel counts
//! (`tests/against_burn.rs`).
//!
//! # Architecture invariant
//!
//! This crate depends on burn only (plus `gemm` and `rayon`, which burn's flex backend
//! already builds). Nothing in it knows about flows: it is the one place outside the
//! device-selection module that names concrete backends, and only to implement
//! [`FlowBackend`] for them.

pub mod cpu_conv;
pub mod cpu_norm;
pub mod cpu_sum;
pub mod norm;

mod autodiff;
mod backends;
mod real;
mod uninit;

pub use norm::{
    batch_norm_train, burn_batch_norm_backward, burn_batch_norm_train, burn_channel_affine,
    channel_affine, NormGrads, NormOptions, NormOutput, NormStatistics, WantedNormGrads,
};
pub use real::Real;

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::ops::{ConvOptions, FloatTensor};
use burn::tensor::{Tensor, TensorMetadata, TensorPrimitive};

/// The gradients [`FlowBackend::conv2d_backward`] returns, each present when asked for.
#[derive(Debug)]
pub struct ConvGrads<B: Backend> {
    /// Gradient of the input, `[N, C, H, W]`.
    pub x: Option<FloatTensor<B>>,
    /// Gradient of the kernel, `[Co, C, K, K]`.
    pub weight: Option<FloatTensor<B>>,
    /// Gradient of the bias, `[Co]`.
    pub bias: Option<FloatTensor<B>>,
}

/// Which gradients a backward pass needs (autodiff knows which inputs require them).
pub use cpu_conv::WantedGrads;

/// The environment variable that chooses the kernels, to compare numbers or speed in
/// one build: `FLOWS_OOD_KERNELS=burn` makes every backend run burn's own operations,
/// `FLOWS_OOD_KERNELS=shifted` keeps the fast path but lowers 3x3 convolutions to one
/// product per kernel tap ([`cpu_conv::Lowering::Shifted`]) instead of column matrices.
pub const KERNELS_ENV: &str = "FLOWS_OOD_KERNELS";

/// What [`KERNELS_ENV`] chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelChoice {
    /// The fast paths with column matrices (the default).
    Fast,
    /// The fast paths, each convolution lowered as [`cpu_conv::ConvShape::lowering`]
    /// says: shifted products where they apply.
    Shifted,
    /// burn's own operations.
    Burn,
}

/// The kernels in use (read once per process from [`KERNELS_ENV`]).
pub fn kernel_choice() -> KernelChoice {
    static CHOICE: std::sync::OnceLock<KernelChoice> = std::sync::OnceLock::new();
    *CHOICE.get_or_init(|| match std::env::var(KERNELS_ENV).as_deref() {
        Ok("burn") => KernelChoice::Burn,
        Ok("shifted") => KernelChoice::Shifted,
        _ => KernelChoice::Fast,
    })
}

/// Whether the fast paths run.
pub fn fast_paths_enabled() -> bool {
    kernel_choice() != KernelChoice::Burn
}

/// burn's options for a stride-1, dilation-1, one-group convolution with `padding`.
pub fn unit_stride_options(padding: usize) -> ConvOptions<2> {
    ConvOptions::new([1, 1], [padding, padding], [1, 1], 1)
}

/// A burn backend extended with the operations flows need fast.
///
/// The default methods are burn's own operations, so implementing the trait for a
/// backend without a fast path is one line.
pub trait FlowBackend: Backend {
    /// Convolution with stride 1, dilation 1, one group and `padding` zeros on every
    /// side: `x` `[N, C, H, W]`, `weight` `[Co, C, K, K]`, `bias` `[Co]`.
    fn conv2d_unit_stride(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        padding: usize,
    ) -> FloatTensor<Self> {
        Self::conv2d(x, weight, bias, unit_stride_options(padding))
    }

    /// The gradients of [`conv2d_unit_stride`](FlowBackend::conv2d_unit_stride) given
    /// the output gradient `grad`; only the `wanted` ones are computed.
    fn conv2d_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        padding: usize,
        wanted: WantedGrads,
    ) -> ConvGrads<Self> {
        burn_conv2d_backward::<Self>(x, weight, grad, padding, wanted)
    }

    /// `lhs + rhs` for two tensors of one shape (a residual connection's sum).
    /// Tensors of different shapes get burn's broadcasting addition.
    fn add_same_shape(lhs: FloatTensor<Self>, rhs: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::float_add(lhs, rhs)
    }

    /// `relu?(x * scale + shift)` per channel of `x` `[N, C, H, W]` (`scale`, `shift`:
    /// `[C]`): a batch normalisation in evaluation mode and the ReLU after it.
    fn channel_affine(
        x: FloatTensor<Self>,
        scale: FloatTensor<Self>,
        shift: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self> {
        burn_channel_affine::<Self>(x, scale, shift, relu)
    }

    /// Batch normalisation of `x` `[N, C, H, W]` with the batch's own statistics (the
    /// training mode), scale `gamma` and shift `beta` (`[C]`), followed by a ReLU when
    /// `options.relu`; returns the statistics with the output.
    fn batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        options: NormOptions,
    ) -> NormOutput<Self> {
        burn_batch_norm_train::<Self>(x, gamma, beta, options)
    }

    /// The gradients of [`batch_norm_train`](FlowBackend::batch_norm_train) given the
    /// output gradient `grad` and the statistics the forward pass returned; only the
    /// `wanted` ones are computed.
    fn batch_norm_train_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        statistics: NormStatistics<Self>,
        grad: FloatTensor<Self>,
        options: NormOptions,
        wanted: WantedNormGrads,
    ) -> NormGrads<Self> {
        burn_batch_norm_backward::<Self>(x, gamma, beta, statistics, grad, options, wanted)
    }
}

/// burn's own gradients of a unit-stride convolution (what every backend without a
/// fast path computes, and what the fast paths are tested against).
pub fn burn_conv2d_backward<B: Backend>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    grad: FloatTensor<B>,
    padding: usize,
    wanted: WantedGrads,
) -> ConvGrads<B> {
    let options = unit_stride_options(padding);
    let bias = wanted.bias.then(|| {
        let channels_out = weight.shape()[0];
        let device = B::float_device(&weight);
        let zeros = B::float_zeros([channels_out].into(), &device, weight.dtype().into());
        B::conv2d_bias_backward(x.clone(), zeros, grad.clone())
    });
    ConvGrads {
        x: wanted.x.then(|| {
            B::conv2d_x_backward(x.clone(), weight.clone(), grad.clone(), options.clone())
        }),
        weight: wanted
            .weight
            .then(|| B::conv2d_weight_backward(x, weight, grad, options)),
        bias,
    }
}

/// A [`FlowBackend`] with autodiff whose inner backend is a [`FlowBackend`] too, so
/// that a trained model's `.valid()` copy runs the same fast paths.
pub trait FlowAutodiffBackend: FlowBackend + AutodiffBackend<InnerBackend: FlowBackend> {}

impl<B> FlowAutodiffBackend for B where B: FlowBackend + AutodiffBackend<InnerBackend: FlowBackend> {}

/// [`FlowBackend::add_same_shape`] on tensors: `lhs + rhs` (split over threads on
/// flex, where burn's addition runs on the calling thread).
pub fn add_same_shape<B: FlowBackend, const D: usize>(
    lhs: Tensor<B, D>,
    rhs: Tensor<B, D>,
) -> Tensor<B, D> {
    let out = B::add_same_shape(lhs.into_primitive().tensor(), rhs.into_primitive().tensor());
    Tensor::from_primitive(TensorPrimitive::Float(out))
}

/// [`FlowBackend::conv2d_unit_stride`] on tensors: the convolution every st-network
/// layer calls.
pub fn conv2d<B: FlowBackend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    bias: Option<Tensor<B, 1>>,
    padding: usize,
) -> Tensor<B, 4> {
    let out = B::conv2d_unit_stride(
        x.into_primitive().tensor(),
        weight.into_primitive().tensor(),
        bias.map(|b| b.into_primitive().tensor()),
        padding,
    );
    Tensor::from_primitive(TensorPrimitive::Float(out))
}
