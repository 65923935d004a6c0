//! Gradient post-processing in the reference's order: clip the gradient norm, then add
//! weight decay (PyTorch's optimisers add `wd * p` to the gradient inside their step,
//! after `clip_grad_norm_`).
//!
//! The reference clips two parameter groups separately, each to the same maximum norm:
//! the weight-norm scales `g`, and everything else ([`ClipScope::PerGroup`]); clipping
//! one global norm is the option ([`ClipScope::Global`]). The clip coefficient comes
//! from [`flow_core::grads::clip_scale`]; the scaling is folded into the weight-decay
//! pass, so the gradients are walked twice: once for the norms, once to rewrite them.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{ElementConversion, Tensor};
use flow_core::grads::clip_scale;
pub use flow_core::grads::global_grad_norm;
use flow_core::nn::WEIGHT_NORM_SCALE;
use flow_kernels::FlowAutodiffBackend;
use serde::{Deserialize, Serialize};

/// Which gradients one clip norm bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipScope {
    /// The reference's: the weight-norm scales and all other parameters are two groups,
    /// each clipped to the maximum norm on its own.
    #[default]
    PerGroup,
    /// One norm over every gradient.
    Global,
}

/// Which parameters weight decay applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecayScope {
    /// The weight-norm scales `g` only (the reference's RealNVP).
    #[default]
    WeightNormScales,
    /// Every parameter (the reference's Glow).
    All,
}

/// The parameter group of the parameter at `path`.
fn is_weight_norm_scale(path: &[String]) -> bool {
    path.last().is_some_and(|n| n == WEIGHT_NORM_SCALE)
}

/// Sums the squared gradients of the two groups: `[weight-norm scales, the rest]`.
struct GroupSquares<'a, B: FlowAutodiffBackend> {
    grads: &'a GradientsParams,
    path: Vec<String>,
    squares: [Option<Tensor<B::InnerBackend, 1>>; 2],
}

impl<B: FlowAutodiffBackend> ModuleVisitor<B> for GroupSquares<'_, B> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let Some(grad) = self.grads.get::<B::InnerBackend, D>(param.id) else {
            return;
        };
        let group = usize::from(!is_weight_norm_scale(&self.path));
        let square = grad.square().sum();
        self.squares[group] = Some(match self.squares[group].take() {
            Some(total) => total + square,
            None => square,
        });
    }
}

/// The gradient norms of the two groups, `[weight-norm scales, the rest]`.
fn group_norms<B: FlowAutodiffBackend, M: Module<B>>(
    module: &M,
    grads: &GradientsParams,
) -> [f64; 2] {
    let mut visitor = GroupSquares::<B> {
        grads,
        path: Vec::new(),
        squares: [None, None],
    };
    module.visit(&mut visitor);
    visitor
        .squares
        .map(|sq| sq.map_or(0.0, |t| t.into_scalar().elem::<f64>().sqrt()))
}

struct ClipAndDecay<'a> {
    grads: &'a mut GradientsParams,
    /// The clip coefficient of each group, `[weight-norm scales, the rest]`.
    scales: [f64; 2],
    weight_decay: f64,
    decay: DecayScope,
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
        let is_scale = is_weight_norm_scale(&self.path);
        let mut grad = grad.mul_scalar(self.scales[usize::from(!is_scale)]);
        let decays = match self.decay {
            DecayScope::WeightNormScales => is_scale,
            DecayScope::All => true,
        };
        if decays && self.weight_decay > 0.0 {
            grad = grad + param.val().inner().mul_scalar(self.weight_decay);
        }
        self.grads.register::<B::InnerBackend, D>(param.id, grad);
    }
}

/// How [`clip_and_decay`] rewrites the gradients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradientRule {
    /// The largest gradient norm; `None` disables clipping.
    pub max_norm: Option<f64>,
    /// Which gradients one norm bounds.
    pub clip: ClipScope,
    /// L2 weight decay, added to the clipped gradient.
    pub weight_decay: f64,
    /// Which parameters weight decay applies to.
    pub decay: DecayScope,
}

/// Scales the gradients so that the norm of each clip group is at most `max_norm` (when
/// given), then adds `weight_decay * p` to the gradient of every decayed parameter `p`.
/// Returns the global norm before clipping (the norm over both groups).
pub fn clip_and_decay<B: FlowAutodiffBackend, M: Module<B>>(
    module: &M,
    grads: &mut GradientsParams,
    rule: GradientRule,
) -> f64 {
    let norms = group_norms::<B, M>(module, grads);
    let global = norms[0].hypot(norms[1]);
    let scales = match rule.clip {
        ClipScope::PerGroup => norms.map(|norm| clip_scale(norm, rule.max_norm)),
        ClipScope::Global => [clip_scale(global, rule.max_norm); 2],
    };
    let mut visitor = ClipAndDecay {
        grads,
        scales,
        weight_decay: rule.weight_decay,
        decay: rule.decay,
        path: Vec::new(),
    };
    module.visit(&mut visitor);
    global
}
