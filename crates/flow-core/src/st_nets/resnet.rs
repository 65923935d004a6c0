//! The reference ResNet st-network (RealNVP as in Kirichenko et al.), with an optional
//! linear bottleneck in the middle (their `ResNetAE`).

use burn::module::Module;
use burn::tensor::activation::relu;
use burn::tensor::Tensor;
use flow_kernels::{add_same_shape, FlowBackend};

use crate::batch_norm::BatchNorm2d;
use crate::init::ParamInit;
use crate::nn::{Linear, WnConv2d};

/// Pre-activation residual block: BN, ReLU, 3x3 WN-conv (no bias), BN, ReLU, 3x3 WN-conv,
/// plus the input.
#[derive(Module, Debug)]
pub struct ResidualBlock<B: FlowBackend> {
    in_norm: Option<BatchNorm2d<B>>,
    in_conv: WnConv2d<B>,
    out_norm: Option<BatchNorm2d<B>>,
    out_conv: WnConv2d<B>,
}

impl<B: FlowBackend> ResidualBlock<B> {
    fn new(channels: usize, batch_norm: bool, rng: &mut ParamInit, device: &B::Device) -> Self {
        Self {
            in_norm: batch_norm.then(|| BatchNorm2d::new(channels, device)),
            in_conv: WnConv2d::new(channels, channels, 3, false, rng, device),
            out_norm: batch_norm.then(|| BatchNorm2d::new(channels, device)),
            out_conv: WnConv2d::new(channels, channels, 3, true, rng, device),
        }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let skip = x.clone();
        let x = self.in_conv.forward(normalise_relu(&self.in_norm, x));
        add_same_shape(
            self.out_conv.forward(normalise_relu(&self.out_norm, x)),
            skip,
        )
    }
}

/// `relu(norm(x))`, or `relu(x)` without a norm: one fused operation where the
/// backend has one.
fn normalise_relu<B: FlowBackend>(norm: &Option<BatchNorm2d<B>>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    match norm {
        Some(norm) => norm.forward_relu(x),
        None => relu(x),
    }
}

/// A linear bottleneck on the flattened feature map: `mid*H*W -> latent -> mid*H*W`,
/// without a non-linearity in between (as in the reference's `ResNetAE`).
#[derive(Module, Debug)]
pub struct LinearBottleneck<B: FlowBackend> {
    encode: Linear<B>,
    decode: Linear<B>,
}

impl<B: FlowBackend> LinearBottleneck<B> {
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [n, c, h, w] = x.dims();
        let flat = x.reshape([n, c * h * w]);
        self.decode
            .forward(self.encode.forward(flat))
            .reshape([n, c, h, w])
    }
}

/// The reference ResNet st-network.
///
/// Input BatchNorm (doubled after normalisation for checkerboard masks), then
/// `concat(x, -x)` and ReLU, a 3x3 WN-conv to `mid` channels, residual blocks whose
/// outputs accumulate through 1x1 WN-conv skips, output BatchNorm, ReLU and a 1x1
/// WN-conv to the `2 * C'` outputs (s then t). With a bottleneck, the skips are off and
/// the feature map passes a linear latent after the middle block, as in the reference.
///
/// BatchNorm ([`BatchNorm2d`]) follows burn's convention: batch statistics when the backend records
/// gradients (training), running statistics otherwise (evaluation, after `.valid()`).
/// Either way forward and inverse see the same conditioning input, so the coupling
/// stays exactly invertible.
#[derive(Module, Debug)]
pub struct ResNetStNet<B: FlowBackend> {
    in_norm: Option<BatchNorm2d<B>>,
    double_after_norm: bool,
    in_conv: WnConv2d<B>,
    in_skip: Option<WnConv2d<B>>,
    blocks: Vec<ResidualBlock<B>>,
    skips: Vec<WnConv2d<B>>,
    bottleneck: Option<LinearBottleneck<B>>,
    bottleneck_after: usize,
    out_norm: Option<BatchNorm2d<B>>,
    out_conv: WnConv2d<B>,
}

/// The shape of a [`ResNetStNet`].
#[derive(Debug, Clone, Copy)]
pub struct ResNetShape {
    /// Channels of the conditioning input.
    pub channels_in: usize,
    /// Channels of the output (twice the transformed channels).
    pub channels_out: usize,
    /// Channels inside the network.
    pub mid_channels: usize,
    /// Residual blocks.
    pub blocks: usize,
    /// Whether BatchNorm layers are used.
    pub batch_norm: bool,
    /// Whether the normalised input is doubled (checkerboard masks, as in the reference).
    pub double_after_norm: bool,
    /// A linear bottleneck of this size over a `height x width` map, if any.
    pub bottleneck: Option<(usize, usize, usize)>,
}

impl<B: FlowBackend> ResNetStNet<B> {
    /// Builds the network.
    pub fn new(shape: ResNetShape, rng: &mut ParamInit, device: &B::Device) -> Self {
        let mid = shape.mid_channels;
        let with_skips = shape.bottleneck.is_none();
        let in_conv = WnConv2d::new(2 * shape.channels_in, mid, 3, true, rng, device);
        let in_skip = with_skips.then(|| WnConv2d::new(mid, mid, 1, true, rng, device));
        let mut blocks = Vec::with_capacity(shape.blocks);
        let mut skips = Vec::new();
        for _ in 0..shape.blocks {
            blocks.push(ResidualBlock::new(mid, shape.batch_norm, rng, device));
            if with_skips {
                skips.push(WnConv2d::new(mid, mid, 1, true, rng, device));
            }
        }
        let bottleneck = shape.bottleneck.map(|(latent, h, w)| LinearBottleneck {
            encode: Linear::new(mid * h * w, latent, false, rng, device),
            decode: Linear::new(latent, mid * h * w, false, rng, device),
        });
        Self {
            in_norm: shape
                .batch_norm
                .then(|| BatchNorm2d::new(shape.channels_in, device)),
            double_after_norm: shape.double_after_norm,
            in_conv,
            in_skip,
            blocks,
            skips,
            bottleneck,
            // The reference places the bottleneck after block `blocks / 2 - 1`.
            bottleneck_after: (shape.blocks / 2).max(1) - 1,
            out_norm: shape.batch_norm.then(|| BatchNorm2d::new(mid, device)),
            out_conv: WnConv2d::new(mid, shape.channels_out, 1, true, rng, device),
        }
    }

    /// The same network with its output convolution starting as the zero map, so that
    /// its coupling starts as the identity (the reference's `--init_zeros`).
    pub fn into_zero_output(self) -> Self {
        Self {
            out_conv: self.out_conv.into_zero_map(),
            ..self
        }
    }

    /// Maps the conditioning input to the raw `[s; t]` output.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let mut x = x;
        if let Some(norm) = &self.in_norm {
            x = norm.forward(x);
            if self.double_after_norm {
                x = x.mul_scalar(2.0);
            }
        }
        let x = relu(Tensor::cat(vec![x.clone(), x.neg()], 1));
        let mut x = self.in_conv.forward(x);
        let mut acc = self.in_skip.as_ref().map(|skip| skip.forward(x.clone()));
        for (i, block) in self.blocks.iter().enumerate() {
            x = block.forward(x);
            if let Some(skip) = self.skips.get(i) {
                acc = acc.map(|acc| add_same_shape(acc, skip.forward(x.clone())));
            }
            if let Some(bottleneck) = &self.bottleneck {
                if i == self.bottleneck_after {
                    x = bottleneck.forward(x);
                }
            }
        }
        let x = acc.unwrap_or(x);
        self.out_conv.forward(normalise_relu(&self.out_norm, x))
    }
}
