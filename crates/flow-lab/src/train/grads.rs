//! Gradient post-processing in the reference's order: clip the *global* norm, then add
//! weight decay to the weight-norm scales only (PyTorch's Adam adds `wd * p` to the
//! gradient inside its step, after `clip_grad_norm_`).
//!
//! The global norm and the clip coefficient come from [`flow_core::grads`]; the scaling
//! is folded into the weight-decay pass here, so the gradients are walked once.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use flow_core::grads::clip_scale;
pub use flow_core::grads::global_grad_norm;
use flow_core::nn::WEIGHT_NORM_SCALE;
use flow_kernels::FlowAutodiffBackend;

struct ClipAndDecay<'a> {
    grads: &'a mut GradientsParams,
    scale: f64,
    weight_decay: f64,
    path: Vec<String>,
}

impl<B: FlowAutodiffBackend> ModuleVisitor<B> for ClipAndDecay<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let Some(grad) = self.grads.remove::<B::InnerBackend, D>(param.id) else {
            return;
        };
        let mut grad = grad.mul_scalar(self.scale);
        let is_scale = self.path.last().is_some_and(|n| n == WEIGHT_NORM_SCALE);
        if is_scale && self.weight_decay > 0.0 {
            grad = grad + param.val().inner().mul_scalar(self.weight_decay);
        }
        self.grads.register::<B::InnerBackend, D>(param.id, grad);
    }
}

/// Scales every gradient so that the global norm is at most `max_norm` (when given),
/// then adds `weight_decay * g` to the gradient of every weight-norm scale `g`.
/// Returns the global norm before clipping.
pub fn clip_and_decay<B: FlowAutodiffBackend, M: Module<B>>(
    module: &M,
    grads: &mut GradientsParams,
    max_norm: Option<f64>,
    weight_decay: f64,
) -> f64 {
    let norm = global_grad_norm::<B, M>(module, grads);
    let scale = clip_scale(norm, max_norm);
    let mut visitor = ClipAndDecay {
        grads,
        scale,
        weight_decay,
        path: Vec::new(),
    };
    module.visit(&mut visitor);
    norm
}
