//! The highway st-network used by the reference's Glow.

use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::Tensor;
use flow_kernels::FlowBackend;

use crate::init::ParamInit;
use crate::nn::{Conv2d, ConvInit};

/// Standard deviation of the reference's Glow convolutions at initialisation.
const GLOW_WEIGHT_STD: f64 = 0.05;

/// One highway layer: `h(x) * gate + x * (1 - gate)`, `gate = sigmoid(t(x))`.
#[derive(Module, Debug)]
pub struct HighwayLayer<B: FlowBackend> {
    conv_h: Conv2d<B>,
    conv_t: Conv2d<B>,
}

/// A 3x3 input convolution, highway layers of 3x3 convolutions, and a 1x1 output
/// convolution that starts at zero (so a fresh coupling is the identity, as in Glow).
#[derive(Module, Debug)]
pub struct HighwayStNet<B: FlowBackend> {
    in_conv: Conv2d<B>,
    layers: Vec<HighwayLayer<B>>,
    out_conv: Conv2d<B>,
}

impl<B: FlowBackend> HighwayStNet<B> {
    /// Builds the network from `channels_in` to `channels_out` with `layers` highway
    /// layers of `mid_channels`.
    pub fn new(
        channels_in: usize,
        channels_out: usize,
        mid_channels: usize,
        layers: usize,
        rng: &mut ParamInit,
        device: &B::Device,
    ) -> Self {
        let init = ConvInit::Normal(GLOW_WEIGHT_STD);
        let in_conv = Conv2d::new(channels_in, mid_channels, 3, true, init, rng, device);
        let layers = (0..layers)
            .map(|_| HighwayLayer {
                conv_h: Conv2d::new(mid_channels, mid_channels, 3, true, init, rng, device),
                conv_t: Conv2d::new(mid_channels, mid_channels, 3, true, init, rng, device),
            })
            .collect();
        let out_conv = Conv2d::new(
            mid_channels,
            channels_out,
            1,
            true,
            ConvInit::Zeros,
            rng,
            device,
        );
        Self {
            in_conv,
            layers,
            out_conv,
        }
    }

    /// Maps the conditioning input to the raw `[s; t]` output.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let mut x = self.in_conv.forward(x);
        for layer in &self.layers {
            let gate = sigmoid(layer.conv_t.forward(x.clone()));
            let carry = gate.clone().neg().add_scalar(1.0);
            x = layer.conv_h.forward(x.clone()) * gate + x * carry;
        }
        self.out_conv.forward(x)
    }
}
