//! Global gradient-norm clipping for any module.
//!
//! burn's built-in clipping clips each parameter's gradient on its own; clipping the
//! global norm (one scale for all gradients, as PyTorch's `clip_grad_norm_`) keeps the
//! direction of the step, which is what the fits here want.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};

struct SquaredNorm<'a, B: AutodiffBackend> {
    grads: &'a GradientsParams,
    total: Option<Tensor<B::InnerBackend, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for SquaredNorm<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.get::<B::InnerBackend, D>(param.id) {
            let sq = grad.square().sum();
            self.total = Some(match self.total.take() {
                Some(total) => total + sq,
                None => sq,
            });
        }
    }
}

struct Scale<'a> {
    grads: &'a mut GradientsParams,
    scale: f64,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            self.grads
                .register::<B::InnerBackend, D>(param.id, grad.mul_scalar(self.scale));
        }
    }
}

/// Scales all gradients of `module` so that their global L2 norm is at most `max_norm`
/// (when given and the norm is finite); returns the norm before clipping.
pub fn clip_global_norm<B: AutodiffBackend, M: Module<B>>(
    module: &M,
    grads: &mut GradientsParams,
    max_norm: Option<f64>,
) -> f64 {
    let mut visitor = SquaredNorm::<B> { grads, total: None };
    module.visit(&mut visitor);
    let norm = visitor
        .total
        .map_or(0.0, |t| t.into_scalar().elem::<f64>().sqrt());
    if let Some(max) = max_norm {
        // PyTorch's coefficient max / (norm + 1e-6), applied only when it shrinks.
        let scale = max / (norm + 1e-6);
        if norm.is_finite() && scale < 1.0 {
            module.visit(&mut Scale { grads, scale });
        }
    }
    norm
}
