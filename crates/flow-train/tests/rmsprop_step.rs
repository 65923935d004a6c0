//! One RMSprop step of `FlowTrainer` is PyTorch's RMSprop update (the reference's Glow
//! optimiser): with the running mean of squared gradients starting at zero, the first
//! step moves every parameter by `-lr * g / (sqrt((1 - alpha) g^2) + eps)`.

mod train_support;

use std::collections::BTreeMap;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Tensor;
use flow_data::{BatchPlan, Batcher};
use flow_train::{FlowTrainer, OptimConfig, OptimizerKind, RMSPROP_ALPHA};
use train_support::{synthetic_images, B};

/// Every float parameter's values, and its gradient's where `grads` has one, by id.
struct Collect<'a> {
    grads: Option<&'a GradientsParams>,
    values: BTreeMap<String, Vec<f32>>,
    gradients: BTreeMap<String, Vec<f32>>,
}

impl ModuleVisitor<B> for Collect<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let id = param.id.serialize();
        let values = param.val().into_data().convert::<f32>().to_vec().unwrap();
        self.values.insert(id.clone(), values);
        if let Some(grad) = self
            .grads
            .and_then(|g| g.get::<<B as AutodiffBackend>::InnerBackend, D>(param.id))
        {
            let grad = grad.into_data().convert::<f32>().to_vec().unwrap();
            self.gradients.insert(id, grad);
        }
    }
}

#[test]
fn the_first_rmsprop_step_is_pytorchs_update() {
    let device = Default::default();
    let flow = flow_core::FlowConfig::realnvp([1, 4, 4], 2, 1, 4);
    let model = flow.init::<B>(3, &device).unwrap();
    let data = synthetic_images(8);
    let plan = BatchPlan::sequential(data.len(), 8).unwrap();
    let batch = Batcher::dequantized(5)
        .batch::<B>(&data, plan.batches().next().unwrap(), &device)
        .unwrap()
        .images;

    // The gradient of the loss the trainer minimises, at the start.
    let loss = model
        .log_likelihood(batch.clone())
        .unwrap()
        .nats()
        .mean()
        .neg();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let mut before = Collect {
        grads: Some(&grads),
        values: BTreeMap::new(),
        gradients: BTreeMap::new(),
    };
    model.visit(&mut before);

    let (lr, eps) = (1e-3, 1e-8);
    let config = OptimConfig {
        optimizer: OptimizerKind::RmsProp,
        learning_rate: lr,
        grad_clip_norm: None,
        weight_decay: 0.0,
        epsilon: eps,
        ..OptimConfig::default()
    };
    let mut trainer = FlowTrainer::new(model, config);
    trainer.step(batch).unwrap();
    let mut after = Collect {
        grads: None,
        values: BTreeMap::new(),
        gradients: BTreeMap::new(),
    };
    trainer.model().visit(&mut after);

    let mut moved = 0;
    for (id, grad) in &before.gradients {
        let (old, new) = (&before.values[id], &after.values[id]);
        for ((g, x0), x1) in grad.iter().zip(old).zip(new) {
            let g = f64::from(*g);
            let expected = f64::from(*x0) - lr * g / (((1.0 - RMSPROP_ALPHA) * g * g).sqrt() + eps);
            let tolerance = 1e-6 * (1.0 + expected.abs());
            assert!(
                (f64::from(*x1) - expected).abs() <= tolerance,
                "parameter {id}: {x0} -> {x1}, expected {expected} (gradient {g})"
            );
            if g.abs() > 1e-6 {
                moved += 1;
            }
        }
    }
    // With a gradient well above epsilon the step is lr / sqrt(1 - alpha) = 10 lr: the
    // check above would fail for Adam (lr) and for burn's default RMSprop (momentum,
    // epsilon 1e-5) alike.
    assert!(moved > 10, "only {moved} entries had a gradient");
}
