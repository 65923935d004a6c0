//! How both fits train: flow-train's [`RowFit`] (shuffled batches of rows, the
//! optimisation step with Adam, an optional cosine decay, global gradient-norm clipping
//! and the divergence check on the loss and the gradient norm), with a [`FitProgress`]
//! report after every step.
//!
//! [`fit_flow`](crate::fit_flow) and [`fit_classifier`](crate::fit_classifier) differ only
//! in how a batch becomes a loss, which they hand in as a closure.

use flow_kernels::FlowAutodiffBackend;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::{ElementConversion, Int, Tensor};
use flow_core::schedule::LrSchedule;
use flow_train::{
    ClipScope, DecayScope, NonFiniteQuantity, OptimConfig, OptimizerKind, RowFit, RowStep,
    TrainError,
};

use crate::error::{DivergedQuantity, EmbedError, Result, Trained};
use crate::progress::FitProgress;

/// The optimisation settings both fit configurations hold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    /// Seed of the batch order.
    pub seed: u64,
    /// Rows per step.
    pub batch_size: usize,
    /// Passes over the rows.
    pub epochs: usize,
    /// Adam's peak learning rate.
    pub learning_rate: f64,
    /// Half-cosine decay of the learning rate to zero over the run.
    pub cosine_decay: bool,
    /// Largest global gradient norm; `None` disables clipping.
    pub grad_clip_norm: Option<f64>,
}

impl Schedule {
    /// The optimiser of `total` steps: Adam with PyTorch's epsilon 1e-8 (so that the fits
    /// match a PyTorch reference), no weight decay, one global gradient-norm clip, and
    /// the learning rate constant or along a half cosine to zero.
    pub fn optim_config(&self, total: u64) -> OptimConfig {
        OptimConfig {
            optimizer: OptimizerKind::Adam,
            learning_rate: self.learning_rate,
            schedule: if self.cosine_decay {
                LrSchedule::Cosine {
                    steps: total,
                    final_fraction: 0.0,
                }
            } else {
                LrSchedule::Constant
            },
            grad_clip_norm: self.grad_clip_norm,
            grad_clip_scope: ClipScope::Global,
            weight_decay: 0.0,
            decay_scope: DecayScope::All,
            epsilon: 1e-8,
            beta_1: 0.9,
            beta_2: 0.999,
        }
    }

    /// Checks the settings; `context` opens the error message ("flow fit").
    pub fn validate(&self, context: &str) -> Result<()> {
        if self.batch_size == 0 || self.epochs == 0 {
            return Err(EmbedError::Config(format!(
                "{context}: batch size and epochs must be positive"
            )));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(EmbedError::Config(format!(
                "{context}: learning rate {} is not a positive number",
                self.learning_rate
            )));
        }
        Ok(())
    }
}

/// What one batch gave: the loss to minimise and, for a classifier, how many of the
/// batch it got right (read only after the step, as a count for the report).
pub(crate) struct BatchLoss<B: FlowAutodiffBackend> {
    pub loss: Tensor<B, 1>,
    pub correct: Option<Tensor<B, 1, Int>>,
}

/// Trains `model` on `rows` rows under `schedule` with flow-train's [`RowFit`] (the
/// batch order and optimisation step the pixel flows train with): the batch order of
/// epoch `e` is `BatchPlan::shuffled(rows, batch_size, seed, e)`, `batch_loss` turns a
/// batch's row indices into its loss, and `progress` hears after every step. `what`
/// names the model in a divergence error.
///
/// # Errors
/// What `batch_loss` returns, or [`EmbedError::Diverged`] naming the step where the
/// loss or gradient norm turned non-finite.
pub(crate) fn train<B, M>(
    what: Trained,
    model: M,
    schedule: &Schedule,
    rows: usize,
    mut batch_loss: impl FnMut(&M, &[usize]) -> Result<BatchLoss<B>>,
    mut progress: impl FnMut(&FitProgress),
) -> Result<M>
where
    B: FlowAutodiffBackend,
    M: AutodiffModule<B>,
{
    let fit = RowFit {
        rows,
        batch_size: schedule.batch_size,
        epochs: schedule.epochs as u64,
        seed: schedule.seed,
    };
    let started = Instant::now();
    let mut seen = 0usize;
    fit.run(
        model,
        schedule.optim_config(fit.total_steps()),
        |model, indices| {
            let batch = batch_loss(model, indices)?;
            Ok((batch.loss, batch.correct))
        },
        |step: RowStep<Option<Tensor<B, 1, Int>>>| {
            seen += step.batch_rows;
            let batch_accuracy = step.aux.map(|correct| {
                let correct: i64 = correct.into_scalar().elem();
                correct as f64 / step.batch_rows as f64
            });
            progress(&FitProgress {
                step: step.step,
                total_steps: step.total_steps,
                epoch: step.epoch,
                loss: step.gradient.loss,
                batch_accuracy,
                learning_rate: step.gradient.learning_rate,
                grad_norm: step.gradient.grad_norm,
                samples_per_sec: seen as f64 / started.elapsed().as_secs_f64().max(1e-9),
            });
        },
    )
    .map_err(|e| diverged(what, e))
}

/// A step's divergence as this crate reports it, naming what was trained; other
/// errors unchanged.
fn diverged(what: Trained, error: EmbedError) -> EmbedError {
    let EmbedError::Train(train) = error else {
        return error;
    };
    match *train {
        TrainError::NonFinite {
            step,
            what: quantity,
            value,
            ..
        } => EmbedError::Diverged {
            what,
            step,
            quantity: match quantity {
                NonFiniteQuantity::Loss => DivergedQuantity::Loss,
                NonFiniteQuantity::GradientNorm => DivergedQuantity::GradientNorm,
            },
            value,
        },
        other => other.into(),
    }
}
