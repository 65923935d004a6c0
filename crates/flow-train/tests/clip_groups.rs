//! Gradient clipping and weight decay by parameter group: the reference clips the
//! weight-norm scales and the other parameters separately, each to the same norm, and
//! decays either the scales only (RealNVP) or every parameter (Glow).

mod train_support;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{ElementConversion, Tensor};
use flow_core::nn::WEIGHT_NORM_SCALE;
use flow_train::{clip_and_decay, ClipScope, DecayScope, GradientRule};
use train_support::{synthetic_images, tiny_flow, B};

/// The squared gradient norms of `[weight-norm scales, the rest]`, computed here
/// independently of the code under test.
struct Norms<'a> {
    grads: &'a GradientsParams,
    path: Vec<String>,
    squares: [f64; 2],
}

impl ModuleVisitor<B> for Norms<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        type Inner = <B as burn::tensor::backend::AutodiffBackend>::InnerBackend;
        if let Some(grad) = self.grads.get::<Inner, D>(param.id) {
            let group =
                usize::from(self.path.last().map(String::as_str) != Some(WEIGHT_NORM_SCALE));
            self.squares[group] += grad.square().sum().into_scalar().elem::<f64>();
        }
    }
}

fn norms(model: &flow_core::FlowNet<B>, grads: &GradientsParams) -> [f64; 2] {
    let mut visitor = Norms {
        grads,
        path: Vec::new(),
        squares: [0.0; 2],
    };
    model.visit(&mut visitor);
    visitor.squares.map(f64::sqrt)
}

/// A model and the gradients of its negative log-likelihood on a batch.
fn model_and_grads() -> (flow_core::FlowNet<B>, GradientsParams) {
    let device = Default::default();
    let model = tiny_flow().init::<B>(1, &device).unwrap();
    let images = synthetic_images(8);
    let pixels: Vec<f32> = images
        .pixels()
        .iter()
        .map(|p| (f32::from(*p) + 0.5) / 256.0)
        .collect();
    let x = Tensor::<B, 1>::from_floats(pixels.as_slice(), &device).reshape([8, 1, 4, 4]);
    let loss = model.log_likelihood(x).unwrap().nats().mean().neg();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    (model, grads)
}

fn rule(max_norm: f64, clip: ClipScope) -> GradientRule {
    GradientRule {
        max_norm: Some(max_norm),
        clip,
        weight_decay: 0.0,
        decay: DecayScope::WeightNormScales,
    }
}

#[test]
fn per_group_clipping_bounds_each_group_on_its_own() {
    let (model, mut grads) = model_and_grads();
    let before = norms(&model, &grads);
    assert!(before[0] > 0.0 && before[1] > 0.0, "{before:?}");
    // A bound between the two group norms clips only the larger group.
    let max = before[0].min(before[1]) * 1.5;
    assert!(
        max < before[0].max(before[1]),
        "groups too close: {before:?}"
    );
    let global = clip_and_decay(&model, &mut grads, rule(max, ClipScope::PerGroup));
    assert!((global - before[0].hypot(before[1])).abs() < 1e-6 * global);
    let after = norms(&model, &grads);
    for (b, a) in before.iter().zip(after) {
        let expected = b.min(max);
        assert!(
            (a - expected).abs() < 1e-4 * expected,
            "{before:?} -> {after:?}"
        );
    }
}

#[test]
fn global_clipping_keeps_the_direction() {
    let (model, mut grads) = model_and_grads();
    let before = norms(&model, &grads);
    let global = before[0].hypot(before[1]);
    let max = global / 4.0;
    clip_and_decay(&model, &mut grads, rule(max, ClipScope::Global));
    let after = norms(&model, &grads);
    for (b, a) in before.iter().zip(after) {
        assert!((a - b / 4.0).abs() < 1e-4 * b, "{before:?} -> {after:?}");
    }
}

#[test]
fn decay_reaches_the_scopes_it_names() {
    // With zero gradients after clipping to a tiny norm, what remains is the decay term:
    // non-zero exactly on the decayed group.
    for (decay, decayed) in [
        (DecayScope::WeightNormScales, [true, false]),
        (DecayScope::All, [true, true]),
    ] {
        let (model, mut grads) = model_and_grads();
        let rule = GradientRule {
            max_norm: Some(1e-30),
            clip: ClipScope::PerGroup,
            weight_decay: 1.0,
            decay,
        };
        clip_and_decay(&model, &mut grads, rule);
        let after = norms(&model, &grads);
        for (group, (norm, on)) in after.iter().zip(decayed).enumerate() {
            assert_eq!(*norm > 1e-6, on, "{decay:?}: group {group} norm {norm}");
        }
    }
}
