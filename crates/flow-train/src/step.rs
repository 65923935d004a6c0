//! One optimiser step on any model ([`Trainer`]; for flows [`FlowTrainer`], whose loss is
//! the likelihood), and the error type of training.

use flow_kernels::FlowAutodiffBackend;
use std::path::PathBuf;

use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{Adam, AdamConfig, GradientsParams, Optimizer, RmsProp, RmsPropConfig};
use burn::tensor::{ElementConversion, Tensor};
use flow_core::likelihood::bits_per_dim;
use flow_core::FlowNet;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use flow_core::schedule::LrSchedule;

use crate::checkpoint::CheckpointError;
use crate::grads::{clip_and_decay, ClipScope, DecayScope, GradientRule};
use crate::guard::{first_non_finite_gradient, NonFiniteSite};
use crate::negative::negative_loss;

/// burn's Adam adapted to a model (a [`FlowNet`] unless named).
pub type AdamOptimizer<B, M = FlowNet<B>> = OptimizerAdaptor<Adam, M, B>;

/// burn's RMSprop adapted to a model (a [`FlowNet`] unless named).
pub type RmsPropOptimizer<B, M = FlowNet<B>> = OptimizerAdaptor<RmsProp, M, B>;

/// RMSprop's smoothing constant: PyTorch's default, which the reference's Glow keeps.
pub const RMSPROP_ALPHA: f64 = 0.99;

/// Which update rule a [`Trainer`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// Adam (the reference's RealNVP).
    #[default]
    Adam,
    /// RMSprop as PyTorch defines it with its defaults: not centred, no momentum,
    /// smoothing [`RMSPROP_ALPHA`] (the reference's Glow on FashionMNIST and MNIST).
    RmsProp,
}

impl OptimizerKind {
    /// Whether this is the default, Adam (configurations leave it out then).
    pub fn is_adam(&self) -> bool {
        *self == Self::Adam
    }

    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Adam => "Adam",
            Self::RmsProp => "RMSprop",
        }
    }
}

/// The optimiser a [`Trainer`] runs, one of [`OptimizerKind`].
pub enum ModelOptimizer<B: FlowAutodiffBackend, M: AutodiffModule<B> = FlowNet<B>> {
    /// Adam.
    Adam(AdamOptimizer<B, M>),
    /// RMSprop.
    RmsProp(RmsPropOptimizer<B, M>),
}

/// The optimiser's state (moments and step count per parameter), as saved in
/// checkpoints; which variant a checkpoint holds follows the `optimizer` of its
/// configuration.
#[derive(Clone)]
pub enum OptimizerRecord<B: FlowAutodiffBackend, M: AutodiffModule<B> = FlowNet<B>> {
    /// Adam's first and second moments.
    Adam(<AdamOptimizer<B, M> as Optimizer<M, B>>::Record),
    /// RMSprop's running mean of squared gradients.
    RmsProp(<RmsPropOptimizer<B, M> as Optimizer<M, B>>::Record),
}

impl<B: FlowAutodiffBackend, M: AutodiffModule<B>> ModelOptimizer<B, M> {
    /// A fresh optimiser as `config` describes it.
    fn new(config: &OptimConfig) -> Self {
        match config.optimizer {
            OptimizerKind::Adam => Self::Adam(
                AdamConfig::new()
                    .with_beta_1(config.beta_1 as f32)
                    .with_beta_2(config.beta_2 as f32)
                    .with_epsilon(config.epsilon as f32)
                    .init(),
            ),
            // burn's RMSprop defaults to momentum 0.9 and epsilon 1e-5; PyTorch's (and
            // the reference's) to no momentum and 1e-8.
            OptimizerKind::RmsProp => Self::RmsProp(
                RmsPropConfig::new()
                    .with_alpha(RMSPROP_ALPHA as f32)
                    .with_momentum(0.0)
                    .with_centered(false)
                    .with_epsilon(config.epsilon as f32)
                    .init(),
            ),
        }
    }

    /// Its state.
    fn to_record(&self) -> OptimizerRecord<B, M> {
        match self {
            Self::Adam(o) => OptimizerRecord::Adam(o.to_record()),
            Self::RmsProp(o) => OptimizerRecord::RmsProp(o.to_record()),
        }
    }

    /// The same optimiser continuing from `record`, which must be of its kind.
    fn load_record(self, record: OptimizerRecord<B, M>) -> Result<Self, TrainError> {
        match (self, record) {
            (Self::Adam(o), OptimizerRecord::Adam(r)) => Ok(Self::Adam(o.load_record(r))),
            (Self::RmsProp(o), OptimizerRecord::RmsProp(r)) => Ok(Self::RmsProp(o.load_record(r))),
            (optimizer, record) => Err(TrainError::Config(format!(
                "the saved optimiser state is {}'s but the configuration asks for {}",
                record.kind().name(),
                optimizer.kind().name()
            ))),
        }
    }

    /// Which optimiser this is.
    fn kind(&self) -> OptimizerKind {
        match self {
            Self::Adam(_) => OptimizerKind::Adam,
            Self::RmsProp(_) => OptimizerKind::RmsProp,
        }
    }

    fn step(&mut self, learning_rate: f64, model: M, grads: GradientsParams) -> M {
        match self {
            Self::Adam(o) => o.step(learning_rate, model, grads),
            Self::RmsProp(o) => o.step(learning_rate, model, grads),
        }
    }
}

impl<B: FlowAutodiffBackend, M: AutodiffModule<B>> OptimizerRecord<B, M> {
    /// The optimiser this state belongs to.
    pub fn kind(&self) -> OptimizerKind {
        match self {
            Self::Adam(_) => OptimizerKind::Adam,
            Self::RmsProp(_) => OptimizerKind::RmsProp,
        }
    }
}

/// The optimiser of the reference's RealNVP by default: Adam, lr 5e-5, gradient-norm
/// clip 100 per parameter group, weight decay 5e-5 on the weight-norm scales only,
/// PyTorch's epsilon 1e-8 ([`OptimConfig::reference_glow`] gives its Glow's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimConfig {
    /// The update rule (Adam unless set).
    #[serde(default, skip_serializing_if = "OptimizerKind::is_adam")]
    pub optimizer: OptimizerKind,
    /// Learning rate (the peak of the schedule).
    pub learning_rate: f64,
    /// How the learning rate moves over the steps (constant by default, as in the
    /// reference).
    #[serde(default, skip_serializing_if = "LrSchedule::is_constant")]
    pub schedule: LrSchedule,
    /// Largest gradient norm; `None` disables clipping.
    pub grad_clip_norm: Option<f64>,
    /// Which gradients one norm bounds: the reference clips the weight-norm scales and
    /// the other parameters separately.
    #[serde(default)]
    pub grad_clip_scope: ClipScope,
    /// L2 weight decay (as PyTorch's optimisers apply it: added to the gradient).
    pub weight_decay: f64,
    /// Which parameters are decayed: the reference's RealNVP decays the weight-norm
    /// scales only, its Glow every parameter.
    #[serde(default)]
    pub decay_scope: DecayScope,
    /// The optimiser's epsilon (burn defaults to 1e-5; PyTorch and the reference use
    /// 1e-8).
    #[serde(alias = "adam_epsilon")]
    pub epsilon: f64,
    /// Adam's beta 1.
    pub beta_1: f64,
    /// Adam's beta 2.
    pub beta_2: f64,
}

impl OptimConfig {
    /// The optimiser of the reference's Glow on FashionMNIST and MNIST: RMSprop, lr
    /// 5e-5, weight decay 5e-5 on every parameter, gradient clipping at 100 per group.
    pub fn reference_glow() -> Self {
        Self {
            optimizer: OptimizerKind::RmsProp,
            decay_scope: DecayScope::All,
            ..Self::default()
        }
    }

    /// The learning rate of 0-based `step`.
    pub fn learning_rate_at(&self, step: u64) -> f64 {
        self.learning_rate * self.schedule.factor(step)
    }

    /// How the gradients are clipped and decayed before the optimiser's step.
    pub fn gradient_rule(&self) -> GradientRule {
        GradientRule {
            max_norm: self.grad_clip_norm,
            clip: self.grad_clip_scope,
            weight_decay: self.weight_decay,
            decay: self.decay_scope,
        }
    }
}

impl Default for OptimConfig {
    fn default() -> Self {
        Self {
            optimizer: OptimizerKind::Adam,
            learning_rate: 5e-5,
            schedule: LrSchedule::Constant,
            grad_clip_norm: Some(100.0),
            grad_clip_scope: ClipScope::PerGroup,
            weight_decay: 5e-5,
            decay_scope: DecayScope::WeightNormScales,
            epsilon: 1e-8,
            beta_1: 0.9,
            beta_2: 0.999,
        }
    }
}

/// What one step measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepStats {
    /// Mean negative log-likelihood of the (in-distribution) batch, in nats per image;
    /// under negative training, not the loss optimised but its in-distribution part.
    pub loss_nats: f64,
    /// The same in bits per dimension.
    pub loss_bits_per_dim: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
}

/// Why a step or a training run failed.
#[derive(Debug, Error)]
pub enum TrainError {
    /// The loss or the gradient turned non-finite: the model diverged. `site` names
    /// where the non-finite values first appear (see [`NonFiniteSite`]); `checkpoint`,
    /// when a run was writing checkpoints, is the last good one, left untouched.
    #[error(
        "step {step}: {what} is not finite ({value}); the model diverged; first non-finite: {site}{}",
        kept_checkpoint(checkpoint)
    )]
    NonFinite {
        /// The step that failed (0-based: the number of steps completed before it).
        step: u64,
        /// What was non-finite.
        what: NonFiniteQuantity,
        /// Its value.
        value: f64,
        /// Where the non-finite values first appear.
        site: NonFiniteSite,
        /// The last good checkpoint, if the run wrote one.
        checkpoint: Option<PathBuf>,
    },
    /// A batch the model cannot take, or a configuration that cannot be built.
    #[error(transparent)]
    Flow(#[from] flow_core::FlowError),
    /// The dataset could not be batched.
    #[error(transparent)]
    Data(#[from] flow_data::DataError),
    /// A checkpoint could not be written or read.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A training configuration that cannot run, with the reason.
    #[error("invalid training configuration: {0}")]
    Config(String),
}

/// The quantity of a step that turned non-finite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonFiniteQuantity {
    /// The loss, after the forward pass.
    Loss,
    /// The global norm of the gradients, after the backward pass.
    GradientNorm,
}

impl std::fmt::Display for NonFiniteQuantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Loss => "loss",
            Self::GradientNorm => "gradient norm",
        })
    }
}

fn kept_checkpoint(checkpoint: &Option<PathBuf>) -> String {
    match checkpoint {
        Some(path) => format!("; the last good checkpoint is {}", path.display()),
        None => String::new(),
    }
}

/// A model with its optimiser: the one optimisation step of every training in the
/// workspace (pixel flows here, the tabular flow and the classifier in flow-embed). A
/// step takes the model's loss and then, in the reference's order, backpropagates,
/// checks the gradient norm, clips and decays ([`OptimConfig::gradient_rule`]) and
/// updates at the scheduled learning rate; a non-finite loss or gradient norm stops it
/// with [`TrainError::NonFinite`] and leaves the model as it was.
pub struct Trainer<B: FlowAutodiffBackend, M: AutodiffModule<B>> {
    model: Option<M>,
    optimizer: ModelOptimizer<B, M>,
    config: OptimConfig,
    step: u64,
}

/// A flow with its optimiser; its steps are maximum likelihood (or negative training).
pub type FlowTrainer<B> = Trainer<B, FlowNet<B>>;

/// What a [`Trainer::step_on`] step measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradientStep {
    /// The loss that was minimised.
    pub loss: f64,
    /// The global gradient norm before clipping.
    pub grad_norm: f64,
    /// The learning rate of the update.
    pub learning_rate: f64,
}

impl<B: FlowAutodiffBackend, M: AutodiffModule<B>> Trainer<B, M> {
    /// A trainer for `model` with a fresh optimiser.
    pub fn new(model: M, config: OptimConfig) -> Self {
        let optimizer = ModelOptimizer::new(&config);
        Self {
            model: Some(model),
            optimizer,
            config,
            step: 0,
        }
    }

    /// A trainer that continues from saved state: `model` (with its parameters loaded),
    /// the optimiser's `record` and the number of `steps` already taken.
    ///
    /// # Errors
    /// [`TrainError::Config`] when `record` is another optimiser's state than the one
    /// `config` asks for.
    pub fn with_state(
        model: M,
        config: OptimConfig,
        record: OptimizerRecord<B, M>,
        steps: u64,
    ) -> Result<Self, TrainError> {
        let optimizer = ModelOptimizer::new(&config).load_record(record)?;
        Ok(Self {
            model: Some(model),
            optimizer,
            config,
            step: steps,
        })
    }

    /// The optimiser's state, for checkpoints.
    pub fn optimizer_record(&self) -> OptimizerRecord<B, M> {
        self.optimizer.to_record()
    }

    /// The optimiser settings.
    pub fn config(&self) -> &OptimConfig {
        &self.config
    }

    /// The model.
    pub fn model(&self) -> &M {
        match &self.model {
            Some(model) => model,
            None => unreachable!("the model is only taken out during a step"),
        }
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// One step on the loss `loss_of` computes from the model (a scalar tensor to
    /// minimise). An error of `loss_of` (of the caller's error type) passes through and
    /// leaves the model as it was.
    ///
    /// # Errors
    /// What `loss_of` returns, or [`TrainError::NonFinite`] for a non-finite loss or
    /// gradient norm (a gradient's parameter is named in its `site`).
    pub fn step_on<E: From<TrainError>>(
        &mut self,
        loss_of: impl FnOnce(&M) -> Result<Tensor<B, 1>, E>,
    ) -> Result<GradientStep, E> {
        let model = self
            .model
            .take()
            .unwrap_or_else(|| unreachable!("model present between steps"));
        let loss = match loss_of(&model) {
            Ok(loss) => loss,
            Err(e) => {
                self.model = Some(model);
                return Err(e);
            }
        };
        let loss_value: f64 = loss.clone().into_scalar().elem();
        if !loss_value.is_finite() {
            self.model = Some(model);
            return Err(TrainError::NonFinite {
                step: self.step,
                what: NonFiniteQuantity::Loss,
                value: loss_value,
                site: NonFiniteSite::Unlocated,
                checkpoint: None,
            }
            .into());
        }
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        let grad_norm = clip_and_decay(&model, &mut grads, self.config.gradient_rule());
        if !grad_norm.is_finite() {
            let site = first_non_finite_gradient(&model, &grads)
                .map_or(NonFiniteSite::Unlocated, |param| NonFiniteSite::Gradient {
                    param,
                });
            self.model = Some(model);
            return Err(TrainError::NonFinite {
                step: self.step,
                what: NonFiniteQuantity::GradientNorm,
                value: grad_norm,
                site,
                checkpoint: None,
            }
            .into());
        }
        let learning_rate = self.config.learning_rate_at(self.step);
        self.model = Some(self.optimizer.step(learning_rate, model, grads));
        self.step += 1;
        Ok(GradientStep {
            loss: loss_value,
            grad_norm,
            learning_rate,
        })
    }

    /// Gives the model and the optimiser's state back.
    pub fn into_parts(self) -> (M, OptimizerRecord<B, M>) {
        let record = self.optimizer.to_record();
        (self.into_model(), record)
    }

    /// Gives the model back.
    pub fn into_model(self) -> M {
        match self.model {
            Some(model) => model,
            None => unreachable!("the model is only taken out during a step"),
        }
    }
}

impl<B: FlowAutodiffBackend> FlowTrainer<B> {
    /// One step of maximum likelihood on the batch `x` (dequantized, `[0, 1)`).
    pub fn step(&mut self, x: Tensor<B, 4>) -> Result<StepStats, TrainError> {
        self.step_with(x, None)
    }

    /// One step of negative training (see [`negative_loss`]): maximum likelihood on
    /// `x`, and the likelihood of the OOD batch `ood` pushed down while above
    /// `hinge_nats`. The two batches go through the flow together.
    pub fn step_negative(
        &mut self,
        x: Tensor<B, 4>,
        ood: Tensor<B, 4>,
        hinge_nats: f64,
    ) -> Result<StepStats, TrainError> {
        self.step_with(x, Some((ood, hinge_nats)))
    }

    fn step_with(
        &mut self,
        x: Tensor<B, 4>,
        ood: Option<(Tensor<B, 4>, f64)>,
    ) -> Result<StepStats, TrainError> {
        let n = x.dims()[0];
        let (input, hinge) = match ood {
            Some((ood, hinge)) => (Tensor::cat(vec![x, ood], 0), Some(hinge)),
            None => (x, None),
        };
        // The in-distribution part of the loss, reported whatever is optimised.
        let mut reported = None;
        let step = self.step_on(|model| -> Result<_, TrainError> {
            let likelihood = model.log_likelihood(input)?;
            let dims = likelihood.dims;
            let nats = likelihood.nats();
            let (loss, in_loss) = match hinge {
                Some(hinge) => {
                    let total = nats.dims()[0];
                    let in_nats = nats.clone().narrow(0, 0, n);
                    let (loss, _) =
                        negative_loss(in_nats.clone(), nats.narrow(0, n, total - n), hinge);
                    (loss, in_nats.mean().neg())
                }
                None => {
                    let loss = nats.mean().neg();
                    (loss.clone(), loss)
                }
            };
            reported = Some((in_loss, dims));
            Ok(loss)
        })?;
        let Some((in_loss, dims)) = reported else {
            unreachable!("a step that succeeded computed its loss")
        };
        let loss_nats: f64 = in_loss.into_scalar().elem();
        Ok(StepStats {
            loss_nats,
            loss_bits_per_dim: bits_per_dim(-loss_nats, dims),
            grad_norm: step.grad_norm,
        })
    }
}
