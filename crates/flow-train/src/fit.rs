//! Fitting a model to rows held in memory: the loop of flow-embed's tabular flow and
//! classifier, on the same batch order ([`StepOrder`]) and optimisation step
//! ([`Trainer`]) as the pixel flows' [`Training`](crate::Training).

use burn::module::AutodiffModule;
use burn::tensor::Tensor;
use flow_kernels::FlowAutodiffBackend;

use crate::{GradientStep, OptimConfig, StepOrder, TrainError, Trainer};

/// A fit to `rows` rows: `epochs` passes in batches of `batch_size`, in the
/// [`StepOrder`] of `seed`, one [`Trainer`] step per batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowFit {
    /// Rows to fit (indices `0..rows`).
    pub rows: usize,
    /// Rows per step.
    pub batch_size: usize,
    /// Passes over the rows.
    pub epochs: u64,
    /// Seed of the batch order.
    pub seed: u64,
}

/// What one step of a [`RowFit`] did.
#[derive(Debug, Clone, Copy)]
pub struct RowStep<A> {
    /// Steps done, this one included.
    pub step: u64,
    /// Steps of the whole fit.
    pub total_steps: u64,
    /// The (0-based) epoch of this step.
    pub epoch: u64,
    /// Rows in this step's batch.
    pub batch_rows: usize,
    /// The loss, gradient norm and learning rate of the step.
    pub gradient: GradientStep,
    /// What the batch's loss function returned beside the loss (e.g. a classifier's
    /// count of correct predictions).
    pub aux: A,
}

impl RowFit {
    /// Steps of the whole fit (what a learning-rate schedule spans).
    pub fn total_steps(&self) -> u64 {
        self.rows.div_ceil(self.batch_size.max(1)) as u64 * self.epochs
    }

    /// Fits `model` under `optim`: each step hands its batch's row indices to
    /// `batch_loss`, which returns the loss to minimise and an `aux` value, and then
    /// tells `on_step` what the step did.
    ///
    /// # Errors
    /// What `batch_loss` returns; [`TrainError::Config`] (in the caller's error type)
    /// for no rows or a batch size of 0; [`TrainError::NonFinite`] for the step whose
    /// loss or gradient norm turned non-finite.
    pub fn run<B, M, A, E>(
        &self,
        model: M,
        optim: OptimConfig,
        mut batch_loss: impl FnMut(&M, &[usize]) -> Result<(Tensor<B, 1>, A), E>,
        mut on_step: impl FnMut(RowStep<A>),
    ) -> Result<M, E>
    where
        B: FlowAutodiffBackend,
        M: AutodiffModule<B>,
        E: From<TrainError>,
    {
        let mut order = StepOrder::new(self.rows, self.batch_size, self.seed)?;
        let total_steps = self.total_steps();
        let steps_per_epoch = order.steps_per_epoch();
        let mut trainer = Trainer::new(model, optim);
        for step in 0..total_steps {
            let indices = order.batch(step)?;
            let mut aux = None;
            let gradient = trainer.step_on::<E>(|model| {
                let (loss, extra) = batch_loss(model, indices)?;
                aux = Some(extra);
                Ok(loss)
            })?;
            let Some(aux) = aux else {
                unreachable!("a step that succeeded computed its loss");
            };
            on_step(RowStep {
                step: trainer.steps(),
                total_steps,
                epoch: step / steps_per_epoch,
                batch_rows: indices.len(),
                gradient,
                aux,
            });
        }
        Ok(trainer.into_model())
    }
}
