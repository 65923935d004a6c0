//! The loop both fits run: Adam over shuffled batches with an optional cosine decay and
//! global gradient-norm clipping, a divergence check on the loss and the gradient norm,
//! and a [`FitProgress`] report after every step.
//!
//! [`fit_flow`](crate::fit_flow) and [`fit_classifier`](crate::fit_classifier) differ only
//! in how a batch becomes a loss, which they hand in as a closure.

use flow_kernels::FlowAutodiffBackend;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::{ElementConversion, Int, Tensor};
use flow_core::grads::clip_global_norm;
use flow_core::schedule::LrSchedule;
use flow_data::BatchPlan;

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

/// The learning rate of step `step` of `total`: `peak`, or `peak` along a half cosine
/// to zero when `cosine` is set.
fn scheduled_lr(peak: f64, cosine: bool, step: u64, total: u64) -> f64 {
    if !cosine || total == 0 {
        return peak;
    }
    let decay = LrSchedule::Cosine {
        steps: total,
        final_fraction: 0.0,
    };
    peak * decay.factor(step)
}

/// Trains `model` on `rows` rows under `schedule`: the batch order of epoch `e` is
/// `BatchPlan::shuffled(rows, batch_size, seed, e)`, `batch_loss` turns a batch's row
/// indices into its loss, and `progress` hears after every step. `what` names the
/// model in a divergence error.
///
/// # Errors
/// What `batch_loss` returns, a bad batch plan, or [`EmbedError::Diverged`] naming the
/// step where the loss or gradient norm turned non-finite.
pub(crate) fn train<B, M>(
    what: Trained,
    mut model: M,
    schedule: &Schedule,
    rows: usize,
    mut batch_loss: impl FnMut(&M, &[usize]) -> Result<BatchLoss<B>>,
    mut progress: impl FnMut(&FitProgress),
) -> Result<M>
where
    B: FlowAutodiffBackend,
    M: AutodiffModule<B>,
{
    // PyTorch's epsilon, so that the fits match a PyTorch reference.
    let mut optimizer = AdamConfig::new().with_epsilon(1e-8).init::<B, M>();
    let steps_per_epoch = rows.div_ceil(schedule.batch_size) as u64;
    let total = steps_per_epoch * schedule.epochs as u64;
    let started = Instant::now();
    let (mut step, mut seen) = (0u64, 0usize);
    for epoch in 0..schedule.epochs as u64 {
        let plan = BatchPlan::shuffled(rows, schedule.batch_size, schedule.seed, epoch)?;
        for indices in plan.batches() {
            let BatchLoss { loss, correct } = batch_loss(&model, indices)?;
            let loss_value: f64 = loss.clone().into_scalar().elem();
            let diverged = |quantity, value| EmbedError::Diverged {
                what,
                step,
                quantity,
                value,
            };
            if !loss_value.is_finite() {
                return Err(diverged(DivergedQuantity::Loss, loss_value));
            }
            let mut grads = GradientsParams::from_grads(loss.backward(), &model);
            let grad_norm = clip_global_norm(&model, &mut grads, schedule.grad_clip_norm);
            if !grad_norm.is_finite() {
                return Err(diverged(DivergedQuantity::GradientNorm, grad_norm));
            }
            let lr = scheduled_lr(schedule.learning_rate, schedule.cosine_decay, step, total);
            model = optimizer.step(lr, model, grads);
            step += 1;
            seen += indices.len();
            let batch_accuracy = correct.map(|correct| {
                let correct: i64 = correct.into_scalar().elem();
                correct as f64 / indices.len() as f64
            });
            progress(&FitProgress {
                step,
                total_steps: total,
                epoch,
                loss: loss_value,
                batch_accuracy,
                learning_rate: lr,
                grad_norm,
                samples_per_sec: seen as f64 / started.elapsed().as_secs_f64().max(1e-9),
            });
        }
    }
    Ok(model)
}
