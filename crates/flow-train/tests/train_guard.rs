//! The NaN/Inf guard names the step and the layer where training turns non-finite,
//! and leaves the last good checkpoint loadable.

mod train_support;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Tensor;
use flow_core::{Flow, Trace};
use flow_train::guard::first_non_finite_gradient;
use flow_train::{
    locate_non_finite, read_checkpoint, FlowTrainer, NonFiniteSite, OptimConfig, RunOptions,
    TrainConfig, TrainError, Training,
};
use train_support::{synthetic_images, tiny_flow, train_config, B};

/// Multiplies the coupling scale `g` of the coupling at `index` by `factor`, a huge
/// value of the sign that makes the layer's `s` large and positive, so that `exp(s)`
/// overflows in that layer and nowhere before it.
struct BlowUpScale {
    index: String,
    factor: f32,
    path: Vec<String>,
}

impl ModuleMapper<B> for BlowUpScale {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        // The coupling's own scale: `...pre.<index>.Coupling.g`, not the st-network's.
        let n = self.path.len();
        let is_target = n >= 3
            && self.path[n - 1] == "g"
            && self.path[n - 2] == "Coupling"
            && self.path[n - 3] == self.index;
        if !is_target {
            return param;
        }
        let (id, tensor, mapper) = param.consume();
        let huge = tensor.mul_scalar(self.factor).detach().require_grad();
        Param::from_mapped_value(id, huge, mapper)
    }
}

fn batch(values: f32) -> Tensor<B, 4> {
    Tensor::<B, 4>::full([4, 1, 4, 4], values, &Default::default())
}

#[test]
fn the_guard_names_the_layer_whose_output_overflows() {
    let device = Default::default();
    let model = tiny_flow().init::<B>(0, &device).unwrap();
    // A healthy model on a healthy batch: nothing to report.
    assert_eq!(
        locate_non_finite(&model, batch(0.3)),
        NonFiniteSite::Unlocated
    );
    // Scaling `g` scales `s`: the sign of coupling1's `s` on this batch decides which
    // sign of the factor makes `exp(s)` overflow rather than vanish.
    let mut trace = Trace::with_couplings();
    model.forward_traced(batch(0.3), Some(&mut trace)).unwrap();
    let s = trace
        .layers()
        .iter()
        .find(|l| l.name.starts_with("coupling1"))
        .and_then(|l| l.coupling.as_ref())
        .map(|c| c.s.clone().sum().into_scalar())
        .expect("coupling1 is traced");
    assert!(s != 0.0, "coupling1 moves the batch");
    let model = model.map(&mut BlowUpScale {
        index: "1".into(),
        factor: 1e30 * s.signum(),
        path: Vec::new(),
    });
    let site = locate_non_finite(&model, batch(0.3));
    match &site {
        NonFiniteSite::Output { layer } => {
            assert!(layer.starts_with("coupling1"), "{site}")
        }
        other => panic!("expected the output of coupling1, got {other}"),
    }

    // Through a training step: the step fails at step 0 on the loss, and the model is
    // kept for the guard.
    let mut trainer = FlowTrainer::new(model, OptimConfig::default());
    let err = trainer.step(batch(0.3)).err().unwrap();
    match err {
        TrainError::NonFinite { step, what, .. } => {
            assert_eq!(step, 0);
            assert_eq!(what, flow_train::NonFiniteQuantity::Loss);
        }
        other => panic!("expected a non-finite loss, got {other}"),
    }
    assert_eq!(trainer.steps(), 0);
    assert_eq!(locate_non_finite(trainer.model(), batch(0.3)), site);
}

#[test]
fn a_non_finite_input_is_reported_as_the_input() {
    let device = Default::default();
    let model = tiny_flow().init::<B>(0, &device).unwrap();
    let mut values = vec![0.5f32; 16];
    values[5] = f32::NAN;
    let x = Tensor::<B, 1>::from_floats(values.as_slice(), &device).reshape([1, 1, 4, 4]);
    assert_eq!(locate_non_finite(&model, x), NonFiniteSite::Input);
    // An input outside [0, 1) makes the logit preprocessing non-finite.
    assert_eq!(
        locate_non_finite(&model, batch(1.5)),
        NonFiniteSite::LogDet {
            layer: "preprocess".into()
        }
    );
}

#[test]
fn a_diverging_run_stops_naming_step_and_layer_and_keeps_the_last_checkpoint() {
    let device = Default::default();
    let dir = tempfile::tempdir().unwrap();
    let mut train: TrainConfig = train_config(4, None, Some(50));
    // A learning rate so large that Adam's first update (about the learning rate per
    // parameter) makes products of weights overflow f32 in the st-networks, whatever the
    // signs the initialisation drew.
    train.optim.learning_rate = 1e30;
    train.optim.grad_clip_norm = None;
    let options = RunOptions {
        checkpoint_dir: Some(dir.path().to_path_buf()),
        checkpoint_every: Some(1),
        quiet: true,
        ..RunOptions::default()
    };
    let err = Training::new(&tiny_flow(), &train, &synthetic_images(16))
        .options(options.clone())
        .start::<B>(&device)
        .err()
        .expect("a learning rate of 1e30 diverges");
    let message = err.to_string();
    let TrainError::NonFinite {
        step,
        site,
        checkpoint,
        ..
    } = err
    else {
        panic!("expected a divergence, got {message}");
    };
    assert!(step >= 1, "{message}");
    assert!(message.contains(&format!("step {step}")), "{message}");
    // The site names a layer of the model (or, for a gradient, a parameter path).
    let named = match &site {
        NonFiniteSite::Gradient { param } => param.clone(),
        other => other
            .layer()
            .unwrap_or_else(|| panic!("no layer named: {message}"))
            .to_string(),
    };
    assert!(message.contains(&named), "{message}");
    // The last good checkpoint is the one written after the last finite step.
    let path = checkpoint.expect("the run wrote checkpoints");
    assert!(message.contains(&path.display().to_string()), "{message}");
    let saved = read_checkpoint::<B>(&path, &device).unwrap();
    assert_eq!(saved.meta.step, step);
    assert!(saved
        .history
        .iter()
        .all(|p| p.bits_per_dim.is_finite() && p.grad_norm.is_finite()));
}

/// Gives every parameter a zero gradient, except those whose path contains `poisoned`,
/// which get NaN.
struct FakeGradients {
    poisoned: &'static str,
    path: Vec<String>,
    grads: GradientsParams,
}

impl ModuleVisitor<B> for FakeGradients {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let zero = param.val().inner().zeros_like();
        let grad = if self.path.join(".").contains(self.poisoned) {
            zero.add_scalar(f32::NAN)
        } else {
            zero
        };
        self.grads
            .register::<<B as AutodiffBackend>::InnerBackend, D>(param.id, grad);
    }
}

#[test]
fn a_non_finite_gradient_is_traced_to_its_parameter() {
    let model = tiny_flow().init::<B>(0, &Default::default()).unwrap();
    let mut fake = FakeGradients {
        poisoned: "pre.1.Coupling.g",
        path: Vec::new(),
        grads: GradientsParams::new(),
    };
    model.visit(&mut fake);
    let param = first_non_finite_gradient(&model, &fake.grads).expect("a NaN gradient");
    assert!(param.ends_with("pre.1.Coupling.g"), "{param}");

    let mut clean = FakeGradients {
        poisoned: "no such parameter",
        path: Vec::new(),
        grads: GradientsParams::new(),
    };
    model.visit(&mut clean);
    assert_eq!(first_non_finite_gradient(&model, &clean.grads), None);
}
