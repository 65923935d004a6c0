//! The plain layers the st-networks are made of: convolutions (plain, weight-normalised,
//! transposed) and linear maps.
//!
//! They are written here, on burn's functional ops, rather than taken from `burn::nn`,
//! for two reasons: weight normalisation (w = g v / ||v||, the reference's WNConv2d) is
//! not in burn, and every parameter must come from the seeded [`ParamInit`] so that a
//! seed means the same model on every backend. Initial values follow PyTorch's defaults
//! (uniform in ±1/sqrt(fan_in)), as the reference code does.

use burn::module::{Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::module::{conv2d, conv_transpose2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::Tensor;
use flow_kernels::FlowBackend;

use crate::init::ParamInit;

/// How the weights of a convolution start out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConvInit {
    /// PyTorch's default: uniform in ±1/sqrt(fan_in) for weight and bias.
    Default,
    /// Weights from N(0, std^2), bias zero (Glow's convolutions, std 0.05).
    Normal(f64),
    /// Weights and bias zero, so the layer starts as the zero map (Glow's last layer).
    Zeros,
}

/// A 2-d convolution with stride 1 and "same" zero padding.
#[derive(Module, Debug)]
pub struct Conv2d<B: FlowBackend> {
    /// Kernel, `[out, in, k, k]`.
    pub weight: Param<Tensor<B, 4>>,
    /// Bias, `[out]`.
    pub bias: Option<Param<Tensor<B, 1>>>,
    /// Zero padding on each side.
    pub padding: usize,
}

impl<B: FlowBackend> Conv2d<B> {
    /// A `kernel x kernel` convolution from `channels_in` to `channels_out` channels.
    pub fn new(
        channels_in: usize,
        channels_out: usize,
        kernel: usize,
        bias: bool,
        init: ConvInit,
        rng: &mut ParamInit,
        device: &B::Device,
    ) -> Self {
        let shape = [channels_out, channels_in, kernel, kernel];
        let bound = 1.0 / ((channels_in * kernel * kernel) as f64).sqrt();
        let (weight, bias) = match init {
            ConvInit::Default => (
                rng.uniform(shape, bound, device),
                bias.then(|| rng.uniform([channels_out], bound, device)),
            ),
            ConvInit::Normal(std) => (
                rng.normal(shape, std, device),
                bias.then(|| crate::init::constant_param([channels_out], 0.0, device)),
            ),
            ConvInit::Zeros => (
                crate::init::constant_param(shape, 0.0, device),
                bias.then(|| crate::init::constant_param([channels_out], 0.0, device)),
            ),
        };
        Self {
            weight,
            bias,
            padding: kernel / 2,
        }
    }

    /// Applies the convolution to `[N, in, H, W]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        flow_kernels::conv2d(
            x,
            self.weight.val(),
            self.bias.as_ref().map(|b| b.val()),
            self.padding,
        )
    }
}

/// A strided convolution without padding (the conv autoencoder's encoder).
#[derive(Module, Debug)]
pub struct StridedConv2d<B: Backend> {
    /// Kernel, `[out, in, k, k]`.
    pub weight: Param<Tensor<B, 4>>,
    /// Bias, `[out]`.
    pub bias: Param<Tensor<B, 1>>,
    /// Stride in both directions.
    pub stride: usize,
}

impl<B: Backend> StridedConv2d<B> {
    /// A `kernel x kernel` convolution with the given stride and no padding.
    pub fn new(
        channels_in: usize,
        channels_out: usize,
        kernel: usize,
        stride: usize,
        rng: &mut ParamInit,
        device: &B::Device,
    ) -> Self {
        let bound = 1.0 / ((channels_in * kernel * kernel) as f64).sqrt();
        Self {
            weight: rng.uniform([channels_out, channels_in, kernel, kernel], bound, device),
            bias: rng.uniform([channels_out], bound, device),
            stride,
        }
    }

    /// Applies the convolution.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let options = ConvOptions::new([self.stride, self.stride], [0, 0], [1, 1], 1);
        conv2d(x, self.weight.val(), Some(self.bias.val()), options)
    }
}

/// A transposed convolution without padding (the conv autoencoder's decoder).
#[derive(Module, Debug)]
pub struct ConvTranspose2d<B: Backend> {
    /// Kernel, `[in, out, k, k]` (burn's and PyTorch's layout for transposed kernels).
    pub weight: Param<Tensor<B, 4>>,
    /// Bias, `[out]`.
    pub bias: Param<Tensor<B, 1>>,
    /// Stride in both directions.
    pub stride: usize,
}

impl<B: Backend> ConvTranspose2d<B> {
    /// A `kernel x kernel` transposed convolution; `zero` starts it as the zero map.
    pub fn new(
        channels_in: usize,
        channels_out: usize,
        kernel: usize,
        stride: usize,
        zero: bool,
        rng: &mut ParamInit,
        device: &B::Device,
    ) -> Self {
        let shape = [channels_in, channels_out, kernel, kernel];
        let bound = 1.0 / ((channels_out * kernel * kernel) as f64).sqrt();
        if zero {
            Self {
                weight: crate::init::constant_param(shape, 0.0, device),
                bias: crate::init::constant_param([channels_out], 0.0, device),
                stride,
            }
        } else {
            Self {
                weight: rng.uniform(shape, bound, device),
                bias: rng.uniform([channels_out], bound, device),
                stride,
            }
        }
    }

    /// The same layer starting as the zero map.
    pub fn into_zero_map(self) -> Self {
        let device = self.weight.device();
        let weight_shape = self.weight.dims();
        Self {
            weight: crate::init::constant_param(weight_shape, 0.0, &device),
            bias: crate::init::constant_param([weight_shape[1]], 0.0, &device),
            ..self
        }
    }

    /// Applies the transposed convolution.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let options =
            ConvTransposeOptions::new([self.stride, self.stride], [0, 0], [0, 0], [1, 1], 1);
        conv_transpose2d(x, self.weight.val(), Some(self.bias.val()), options)
    }
}

/// A weight-normalised convolution, `w = g v / ||v||` with the norm taken per output
/// channel (PyTorch's `weight_norm(conv, dim=0)`, the reference's `WNConv2d`).
///
/// `g` is what the reference applies weight decay to; training code finds it by the
/// field name [`WEIGHT_NORM_SCALE`].
#[derive(Module, Debug)]
pub struct WnConv2d<B: FlowBackend> {
    /// Direction, `[out, in, k, k]`.
    pub v: Param<Tensor<B, 4>>,
    /// Norm per output channel, `[out]`; starts at ||v|| so that w = v at initialisation.
    pub g: Param<Tensor<B, 1>>,
    /// Bias, `[out]`.
    pub bias: Option<Param<Tensor<B, 1>>>,
    /// Zero padding on each side ("same" for odd kernels).
    pub padding: usize,
}

/// The field name under which every weight-norm scale is stored (in [`WnConv2d`] and in
/// the couplings' rescaling), so that training code can decay exactly these parameters.
pub const WEIGHT_NORM_SCALE: &str = "g";

impl<B: FlowBackend> WnConv2d<B> {
    /// A weight-normalised `kernel x kernel` convolution.
    pub fn new(
        channels_in: usize,
        channels_out: usize,
        kernel: usize,
        bias: bool,
        rng: &mut ParamInit,
        device: &B::Device,
    ) -> Self {
        let fan_in = channels_in * kernel * kernel;
        let bound = 1.0 / (fan_in as f64).sqrt();
        let v_values = rng.uniform_values(channels_out * fan_in, bound);
        let g_values: Vec<f32> = v_values
            .chunks(fan_in)
            .map(|row| row.iter().map(|v| v * v).sum::<f32>().sqrt())
            .collect();
        let v = crate::init::tensor_from_f32(
            v_values,
            [channels_out, channels_in, kernel, kernel],
            device,
        );
        let g = crate::init::tensor_from_f32(g_values, [channels_out], device);
        Self {
            v: Param::from_tensor(v),
            g: Param::from_tensor(g),
            bias: bias.then(|| rng.uniform([channels_out], bound, device)),
            padding: kernel / 2,
        }
    }

    /// The same convolution starting as the zero map: its scales `g` and its bias are
    /// zero, its directions `v` keep their random draw so that the gradient of `g` is
    /// not zero (the reference's `--init_zeros` on a weight-normalised layer).
    pub fn into_zero_map(self) -> Self {
        let [out, _, _, _] = self.v.dims();
        let device = self.v.device();
        Self {
            g: crate::init::constant_param([out], 0.0, &device),
            bias: self
                .bias
                .map(|_| crate::init::constant_param([out], 0.0, &device)),
            ..self
        }
    }

    /// The effective kernel `g v / ||v||`.
    ///
    /// Computed on `v` as `[out, in*k*k]` rows with a `[out, 1]` scale: the layout the
    /// flex backend broadcasts fast (see `crate::broadcast`); a `[out, 1, 1, 1]` scale on
    /// the 4-d kernel went element by element, forward and backward.
    pub fn weight(&self) -> Tensor<B, 4> {
        let v = self.v.val();
        let dims = v.dims();
        let rows = v.reshape([dims[0], dims[1] * dims[2] * dims[3]]);
        let norm = rows.clone().square().sum_dim(1).sqrt();
        (rows * (self.g.val().reshape([dims[0], 1]) / norm)).reshape(dims)
    }

    /// Applies the convolution to `[N, in, H, W]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        flow_kernels::conv2d(
            x,
            self.weight(),
            self.bias.as_ref().map(|b| b.val()),
            self.padding,
        )
    }
}

/// A linear map `y = x W^T + b` on `[N, in]`.
#[derive(Module, Debug)]
pub struct Linear<B: Backend> {
    /// Weight, `[in, out]` (stored transposed so the forward pass is one matmul).
    pub weight: Param<Tensor<B, 2>>,
    /// Bias, `[out]`.
    pub bias: Param<Tensor<B, 1>>,
}

impl<B: Backend> Linear<B> {
    /// A linear map from `dim_in` to `dim_out`; `zero` starts it as the zero map.
    pub fn new(
        dim_in: usize,
        dim_out: usize,
        zero: bool,
        rng: &mut ParamInit,
        device: &B::Device,
    ) -> Self {
        if zero {
            return Self {
                weight: crate::init::constant_param([dim_in, dim_out], 0.0, device),
                bias: crate::init::constant_param([dim_out], 0.0, device),
            };
        }
        let bound = 1.0 / (dim_in as f64).sqrt();
        Self {
            weight: rng.uniform([dim_in, dim_out], bound, device),
            bias: rng.uniform([dim_out], bound, device),
        }
    }

    /// The same map starting as the zero map.
    pub fn into_zero_map(self) -> Self {
        let device = self.weight.device();
        let [dim_in, dim_out] = self.weight.dims();
        Self {
            weight: crate::init::constant_param([dim_in, dim_out], 0.0, &device),
            bias: crate::init::constant_param([dim_out], 0.0, &device),
        }
    }

    /// Applies the map to `[N, in]`.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let [_, out] = self.weight.dims();
        x.matmul(self.weight.val()) + self.bias.val().reshape([1, out])
    }
}
