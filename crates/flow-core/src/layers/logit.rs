//! Logit preprocessing of dequantized pixels.

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::flow::{sum_per_sample, LayerRecord, Trace};

/// `p = alpha + (1 - 2 alpha) u`, `y = logit(p)`, for dequantized pixels
/// `u = (pixel + U[0,1)) / 256` in `[0, 1)`. With `alpha = 0.05`: `p = 0.05 + 0.9 u`,
/// the reference's constraint 0.9.
///
/// `log|det J| = sum(log(1 - 2 alpha) - log p - log(1 - p))`, exactly the Jacobian of
/// this map.
///
/// `reference_dequant_term` is a likelihood convention, not part of the map: the
/// reference code dequantizes inside the flow from `x = pixel / 255` and counts the
/// Jacobian `255/256` of that step, adding `D log(255/256)` to `log p(x)` (about 0.0056
/// bits/dim). It is on by default so that our numbers compare with the paper's; see
/// [`LogitPreprocess::likelihood_offset`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogitPreprocess {
    /// Margin kept from 0 and 1 before the logit.
    pub alpha: f64,
    /// Count the reference's extra `log(255/256)` per dimension.
    pub reference_dequant_term: bool,
}

impl Default for LogitPreprocess {
    fn default() -> Self {
        Self {
            alpha: 0.05,
            reference_dequant_term: true,
        }
    }
}

impl LogitPreprocess {
    /// Forward pass `u -> y`.
    pub fn forward<B: Backend>(
        &self,
        u: Tensor<B, 4>,
        trace: Option<&mut Trace<B>>,
    ) -> (Tensor<B, 4>, Tensor<B, 1>) {
        let p = u.mul_scalar(1.0 - 2.0 * self.alpha).add_scalar(self.alpha);
        let log_p = p.clone().log();
        let log_1mp = p.neg().add_scalar(1.0).log();
        let y = log_p.clone() - log_1mp.clone();
        let per_entry = (log_p + log_1mp)
            .neg()
            .add_scalar((1.0 - 2.0 * self.alpha).ln());
        let log_det = sum_per_sample(per_entry);
        if let Some(trace) = trace {
            trace.push(LayerRecord {
                name: "preprocess".into(),
                log_det: log_det.clone(),
                coupling: None,
            });
        }
        (y, log_det)
    }

    /// What this convention adds to `log p(x)` in nats for `dims` dimensions:
    /// `dims * log(255/256)` with `reference_dequant_term`, else 0.
    pub fn likelihood_offset(&self, dims: usize) -> f64 {
        if self.reference_dequant_term {
            dims as f64 * (255.0f64 / 256.0).ln()
        } else {
            0.0
        }
    }

    /// Inverse pass `y -> (u, log|det du/dy|)`.
    pub fn inverse<B: Backend>(&self, y: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 1>) {
        let p = burn::tensor::activation::sigmoid(y);
        let u = p
            .clone()
            .sub_scalar(self.alpha)
            .div_scalar(1.0 - 2.0 * self.alpha);
        (u.clone(), self.forward(u, None).1.neg())
    }
}
