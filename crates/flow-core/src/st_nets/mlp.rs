//! The MLP st-network for vectors (the tabular flow's couplings).

use burn::module::Module;
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::init::ParamInit;
use crate::nn::Linear;

/// `Linear(D, h)`, ReLU, then `layers` times `Linear(h, h)` and ReLU, then
/// `Linear(h, out)`. Works on any `[N, C, H, W]` by flattening, so vectors travel as
/// `[N, D, 1, 1]`.
#[derive(Module, Debug)]
pub struct MlpStNet<B: Backend> {
    input: Linear<B>,
    hidden: Vec<Linear<B>>,
    output: Linear<B>,
    channels_out: usize,
}

impl<B: Backend> MlpStNet<B> {
    /// Builds the network from `dim_in` flattened inputs to `channels_out` channels of
    /// the same spatial size (`dim_out = channels_out * H * W`).
    pub fn new(
        dim_in: usize,
        dim_out: usize,
        channels_out: usize,
        hidden: usize,
        layers: usize,
        rng: &mut ParamInit,
        device: &B::Device,
    ) -> Self {
        Self {
            input: Linear::new(dim_in, hidden, false, rng, device),
            hidden: (0..layers)
                .map(|_| Linear::new(hidden, hidden, false, rng, device))
                .collect(),
            output: Linear::new(hidden, dim_out, false, rng, device),
            channels_out,
        }
    }

    /// The same network with its output layer starting as the zero map.
    pub fn into_zero_output(self) -> Self {
        Self {
            output: self.output.into_zero_map(),
            ..self
        }
    }

    /// Maps the conditioning input to the raw `[s; t]` output.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [n, c, h, w] = x.dims();
        let mut y = relu(self.input.forward(x.reshape([n, c * h * w])));
        for layer in &self.hidden {
            y = relu(layer.forward(y));
        }
        self.output.forward(y).reshape([n, self.channels_out, h, w])
    }
}
