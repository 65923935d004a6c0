//! Global gradient-norm clipping for any module, as PyTorch's `clip_grad_norm_`.
//!
//! burn's built-in clipping clips each parameter's gradient on its own; clipping the
//! *global* norm (one scale for all gradients) keeps the direction of the step, which is
//! what the reference's training and the fits built on this crate want.
//!
//! [`clip_global_norm`] does the whole job; [`global_grad_norm`] and [`clip_scale`] are
//! its two halves, for a caller that folds the scale into its own pass over the
//! gradients (flow-train adds weight decay in the same pass).

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};

/// Sums the squares of every gradient `grads` holds for the visited parameters.
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

/// Multiplies every gradient of the visited parameters by `scale`.
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

/// The global L2 norm of all gradients of `module`'s parameters (0 when there are none).
pub fn global_grad_norm<B: AutodiffBackend, M: Module<B>>(
    module: &M,
    grads: &GradientsParams,
) -> f64 {
    let mut visitor = SquaredNorm::<B> { grads, total: None };
    module.visit(&mut visitor);
    visitor
        .total
        .map_or(0.0, |t| t.into_scalar().elem::<f64>().sqrt())
}

/// The factor that brings a global gradient norm `norm` down to at most `max_norm`:
/// PyTorch's coefficient `max_norm / (norm + 1e-6)`, capped at 1 so that it only ever
/// shrinks. It is 1 when `max_norm` is `None` or `norm` is not finite (a diverged step
/// is left for the caller to report, not rescaled into something that looks sane).
pub fn clip_scale(norm: f64, max_norm: Option<f64>) -> f64 {
    match max_norm {
        Some(max) if norm.is_finite() => (max / (norm + 1e-6)).min(1.0),
        _ => 1.0,
    }
}

/// Scales all gradients of `module` so that their global L2 norm is at most `max_norm`
/// (when given and the norm is finite); returns the norm before clipping.
///
/// Gradients are left untouched when no scaling is needed.
pub fn clip_global_norm<B: AutodiffBackend, M: Module<B>>(
    module: &M,
    grads: &mut GradientsParams,
    max_norm: Option<f64>,
) -> f64 {
    let norm = global_grad_norm::<B, M>(module, grads);
    let scale = clip_scale(norm, max_norm);
    if scale < 1.0 {
        module.visit(&mut Scale { grads, scale });
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, NdArray};
    use burn::module::Param;
    use burn::tensor::TensorData;

    type Ad = Autodiff<NdArray>;

    /// Two parameters, so the norm is global rather than per parameter.
    #[derive(Module, Debug)]
    struct Pair<B: burn::tensor::backend::Backend> {
        a: Param<Tensor<B, 1>>,
        b: Param<Tensor<B, 2>>,
    }

    /// A model and the gradients of `sum(3a) + sum(4b)`: 3 for each of `a`'s two
    /// entries and 4 for `b`'s two, a global norm of sqrt(2*9 + 2*16) = sqrt(50).
    fn pair_and_grads() -> (Pair<Ad>, GradientsParams) {
        let device = Default::default();
        let model = Pair::<Ad> {
            a: Param::from_tensor(Tensor::from_data(TensorData::from([1.0f32, 2.0]), &device)),
            b: Param::from_tensor(Tensor::from_data(
                TensorData::from([[0.5f32, -1.0]]),
                &device,
            )),
        };
        let loss = model.a.val().mul_scalar(3.0).sum() + model.b.val().mul_scalar(4.0).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        (model, grads)
    }

    fn grad_values(model: &Pair<Ad>, grads: &GradientsParams) -> Vec<f32> {
        let mut values: Vec<f32> = grads
            .get::<NdArray, 1>(model.a.id)
            .unwrap()
            .into_data()
            .to_vec()
            .unwrap();
        values.extend(
            grads
                .get::<NdArray, 2>(model.b.id)
                .unwrap()
                .into_data()
                .to_vec::<f32>()
                .unwrap(),
        );
        values
    }

    #[test]
    fn the_norm_is_global() {
        let (model, grads) = pair_and_grads();
        let norm = global_grad_norm::<Ad, _>(&model, &grads);
        assert!((norm - 50f64.sqrt()).abs() < 1e-6, "norm {norm}");
    }

    #[test]
    fn clipping_scales_every_gradient_by_one_factor() {
        let (model, mut grads) = pair_and_grads();
        let norm = clip_global_norm::<Ad, _>(&model, &mut grads, Some(1.0));
        assert!(
            (norm - 50f64.sqrt()).abs() < 1e-6,
            "returns the norm before"
        );
        let after = grad_values(&model, &grads);
        let scale = 1.0 / (50f64.sqrt() + 1e-6);
        for (got, raw) in after.iter().zip([3.0, 3.0, 4.0, 4.0]) {
            assert!((f64::from(*got) - raw * scale).abs() < 1e-6, "{after:?}");
        }
        assert!((global_grad_norm::<Ad, _>(&model, &grads) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn a_large_enough_bound_or_none_leaves_gradients_alone() {
        for max_norm in [None, Some(100.0)] {
            let (model, mut grads) = pair_and_grads();
            clip_global_norm::<Ad, _>(&model, &mut grads, max_norm);
            assert_eq!(grad_values(&model, &grads), vec![3.0, 3.0, 4.0, 4.0]);
        }
    }

    #[test]
    fn the_scale_follows_pytorch_and_only_shrinks() {
        assert_eq!(clip_scale(10.0, None), 1.0);
        assert_eq!(clip_scale(0.5, Some(1.0)), 1.0);
        assert_eq!(clip_scale(f64::INFINITY, Some(1.0)), 1.0);
        assert_eq!(clip_scale(f64::NAN, Some(1.0)), 1.0);
        assert_eq!(clip_scale(4.0, Some(2.0)), 2.0 / (4.0 + 1e-6));
    }
}
