//! ActNorm (Glow): a per-channel affine map with data-dependent initialisation.

use burn::module::{Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::broadcast::affine_channels;
use crate::flow::{LayerRecord, Trace};
use crate::init::constant_param;

/// Small constant that keeps the initial log-scale finite on constant channels.
const INIT_EPS: f64 = 1e-6;

/// `y = (x + bias) * exp(log_scale)` per channel; `log|det J| = H W sum(log_scale)`.
///
/// A fresh layer is the identity; [`ActNorm::initialize`] sets it from a batch so that
/// its output has zero mean and unit variance per channel, as Glow does before training.
#[derive(Module, Debug)]
pub struct ActNorm<B: Backend> {
    bias: Param<Tensor<B, 1>>,
    log_scale: Param<Tensor<B, 1>>,
    name: String,
}

impl<B: Backend> ActNorm<B> {
    /// An identity ActNorm over `channels` channels.
    pub fn new(name: impl Into<String>, channels: usize, device: &B::Device) -> Self {
        Self {
            bias: constant_param([channels], 0.0, device),
            log_scale: constant_param([channels], 0.0, device),
            name: name.into(),
        }
    }

    /// Sets bias and scale from `x` so that the output is standardised per channel.
    pub fn initialize(self, x: &Tensor<B, 4>) -> Self {
        let [n, c, h, w] = x.dims();
        let per_channel = x.clone().detach().swap_dims(0, 1).reshape([c, n * h * w]);
        let mean = per_channel.clone().mean_dim(1).reshape([c]);
        let var = per_channel
            .sub(mean.clone().reshape([c, 1]))
            .square()
            .mean_dim(1)
            .reshape([c]);
        let log_scale = var.sqrt().add_scalar(INIT_EPS).log().neg();
        Self {
            bias: Param::from_tensor(mean.neg()),
            log_scale: Param::from_tensor(log_scale),
            name: self.name,
        }
    }

    fn log_det(&self, n: usize, h: usize, w: usize) -> Tensor<B, 1> {
        let per_sample = self.log_scale.val().sum().mul_scalar((h * w) as f64);
        per_sample.reshape([1]).repeat_dim(0, n)
    }

    /// Forward pass.
    pub fn forward(
        &self,
        x: Tensor<B, 4>,
        trace: Option<&mut Trace<B>>,
    ) -> (Tensor<B, 4>, Tensor<B, 1>) {
        let [n, _, h, w] = x.dims();
        // (x + bias) * exp(log_scale) as one per-channel affine map.
        let scale = self.log_scale.val().exp();
        let y = affine_channels(x, scale.clone(), self.bias.val() * scale);
        let log_det = self.log_det(n, h, w);
        if let Some(trace) = trace {
            trace.push(LayerRecord {
                name: self.name.clone(),
                log_det: log_det.clone(),
                coupling: None,
            });
        }
        (y, log_det)
    }

    /// Inverse pass: `(x, log|det dx/dy|)`.
    pub fn inverse(&self, y: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 1>) {
        let [n, _, h, w] = y.dims();
        let x = affine_channels(y, self.log_scale.val().neg().exp(), self.bias.val().neg());
        (x, self.log_det(n, h, w).neg())
    }
}
