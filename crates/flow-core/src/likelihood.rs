//! The standard normal prior, log-likelihood in nats and bits per dimension.

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::flow::{sum_per_sample, FlowOutput};

/// `log N(z; 0, I)` per sample: `-0.5 sum(z^2) - 0.5 D log(2 pi)`.
pub fn standard_normal_log_prob<B: Backend>(z: Tensor<B, 4>) -> Tensor<B, 1> {
    let [_, c, h, w] = z.dims();
    let dims = (c * h * w) as f64;
    sum_per_sample(z.square())
        .mul_scalar(-0.5)
        .sub_scalar(0.5 * dims * (2.0 * std::f64::consts::PI).ln())
}

/// The parts of a log-likelihood, per sample, in nats.
#[derive(Debug, Clone)]
pub struct LogLikelihood<B: Backend> {
    /// `log p_Z(z)`.
    pub prior: Tensor<B, 1>,
    /// `log|det dz/dx|`, preprocessing included.
    pub log_det: Tensor<B, 1>,
    /// Constant terms: `-D log(bins)` for data with `bins` levels, plus any
    /// preprocessing convention (the reference's `D log(255/256)`), else 0.
    pub constant: f64,
    /// Dimensions per sample, `D`.
    pub dims: usize,
}

impl<B: Backend> LogLikelihood<B> {
    /// Splits a forward pass into its likelihood terms; `bins` is the number of levels
    /// of the data (256 for 8-bit images) or `None` for continuous data; `offset` is any
    /// further constant in nats (a preprocessing convention).
    pub fn from_output(output: &FlowOutput<B>, bins: Option<u32>, offset: f64) -> Self {
        let [_, c, h, w] = output.z.dims();
        let dims = c * h * w;
        Self {
            prior: standard_normal_log_prob(output.z.clone()),
            log_det: output.log_det.clone(),
            constant: bins.map_or(0.0, |b| -(dims as f64) * f64::from(b).ln()) + offset,
            dims,
        }
    }

    /// `log p(x)` in nats per sample: prior + log-det + constant.
    pub fn nats(&self) -> Tensor<B, 1> {
        (self.prior.clone() + self.log_det.clone()).add_scalar(self.constant)
    }

    /// Bits per dimension per sample: `-log p(x) / (D ln 2)`.
    pub fn bits_per_dim(&self) -> Tensor<B, 1> {
        nats_to_bits_per_dim(self.nats(), self.dims)
    }
}

/// Bits per dimension of one log-likelihood of `log_p` nats over `dims` dimensions:
/// `-log_p / (D ln 2)` (the loss as bits/dim is `bits_per_dim(-loss, dims)`).
pub fn bits_per_dim(log_p: f64, dims: usize) -> f64 {
    -log_p / (dims as f64 * std::f64::consts::LN_2)
}

/// `-log_p / (D ln 2)` per sample ([`bits_per_dim`] on tensors).
pub fn nats_to_bits_per_dim<B: Backend>(log_p: Tensor<B, 1>, dims: usize) -> Tensor<B, 1> {
    log_p.div_scalar(-(dims as f64) * std::f64::consts::LN_2)
}
