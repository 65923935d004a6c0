//! Fitting the tabular flow by maximum likelihood, and scoring with it.

use burn::tensor::{Tensor, TensorData};
use flow_data::BatchPlan;
use flow_kernels::{FlowAutodiffBackend, FlowBackend};
use serde::{Deserialize, Serialize};

use crate::embeddings::Embeddings;
use crate::error::{EmbedError, Result, Trained};
use crate::progress::FitProgress;
use crate::standardize::Standardizer;
use crate::tabular::{TabularFlow, TabularFlowConfig};
use crate::train_loop::{self, BatchLoss, Schedule};

/// Rows used for ActNorm's data-dependent initialisation.
const ACTNORM_INIT_ROWS: usize = 4096;

/// How [`fit_flow`] trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowFitConfig {
    /// Seed of the parameters and the batch order.
    pub seed: u64,
    /// Embeddings per step.
    pub batch_size: usize,
    /// Passes over the embeddings.
    pub epochs: usize,
    /// Adam's peak learning rate.
    pub learning_rate: f64,
    /// Whether the learning rate decays along a half cosine to zero over the run.
    pub cosine_decay: bool,
    /// Largest global gradient norm; `None` disables clipping.
    pub grad_clip_norm: Option<f64>,
}

impl Default for FlowFitConfig {
    /// 10 epochs of batch 256 at learning rate 1e-3 with cosine decay, clip 10.
    fn default() -> Self {
        Self {
            seed: 0,
            batch_size: 256,
            epochs: 10,
            learning_rate: 1e-3,
            cosine_decay: true,
            grad_clip_norm: Some(10.0),
        }
    }
}

impl FlowFitConfig {
    fn schedule(&self) -> Schedule {
        Schedule {
            seed: self.seed,
            batch_size: self.batch_size,
            epochs: self.epochs,
            learning_rate: self.learning_rate,
            cosine_decay: self.cosine_decay,
            grad_clip_norm: self.grad_clip_norm,
        }
    }
}

/// The rows `indices` of `data` as a `[n, D]` tensor.
fn gather<B: FlowBackend>(
    data: &Embeddings,
    indices: &[usize],
    device: &B::Device,
) -> Tensor<B, 2> {
    let d = data.dim();
    let mut values = Vec::with_capacity(indices.len() * d);
    for &i in indices {
        if let Some(row) = data.row(i) {
            values.extend_from_slice(row);
        }
    }
    let n = values.len() / d;
    Tensor::from_data(TensorData::new(values, [n, d]), device)
}

/// Fits a tabular flow of architecture `config` to `data` by maximum likelihood,
/// calling `progress` after every step.
///
/// The standardisation is fitted on `data` first and becomes part of the model; then
/// ActNorm (if on) is initialised from the first rows, and Adam (PyTorch's epsilon
/// 1e-8) runs with optional cosine decay and global gradient-norm clipping; the batch
/// order of epoch `e` is `BatchPlan::shuffled(seed, e)`, so a seed fixes the run.
/// Returns the model with gradients still tracked; call `.valid()` to score.
///
/// # Errors
/// [`EmbedError::Config`] for a bad configuration or embeddings of another dimension,
/// [`EmbedError::Shape`] for fewer than 2 embeddings, [`EmbedError::Diverged`] naming the
/// step where the loss or gradient turned non-finite.
pub fn fit_flow<B: FlowAutodiffBackend>(
    config: &TabularFlowConfig,
    fit: &FlowFitConfig,
    data: &Embeddings,
    device: &B::Device,
    progress: impl FnMut(&FitProgress),
) -> Result<TabularFlow<B>> {
    let schedule = fit.schedule();
    schedule.validate("flow fit")?;
    if data.dim() != config.dim {
        return Err(EmbedError::Config(format!(
            "embeddings of dimension {} for a flow of dimension {}",
            data.dim(),
            config.dim
        )));
    }
    let standardizer = Standardizer::fit(data)?;
    let mut model = config.init::<B>(fit.seed, standardizer, device)?;
    if config.actnorm {
        let first: Vec<usize> = (0..data.len().min(ACTNORM_INIT_ROWS)).collect();
        model = model.initialize_actnorm(gather::<B>(data, &first, device))?;
    }
    train_loop::train(
        Trained::TabularFlow,
        model,
        &schedule,
        data.len(),
        |model: &TabularFlow<B>, indices| {
            let x = gather::<B>(data, indices, device);
            Ok(BatchLoss {
                loss: model.log_prob(x)?.mean().neg(),
                correct: None,
            })
        },
        progress,
    )
}

/// `log p(x)` in nats of every embedding of `data` under `flow`, in batches of
/// `batch_size` (use an inference model: `.valid()` of a fitted one). Higher means more
/// in-distribution.
///
/// # Errors
/// [`EmbedError::Shape`] for embeddings of another dimension; [`EmbedError::Config`] for
/// a zero batch size.
pub fn log_prob_embeddings<B: FlowBackend>(
    flow: &TabularFlow<B>,
    data: &Embeddings,
    batch_size: usize,
    device: &B::Device,
) -> Result<Vec<f64>> {
    if batch_size == 0 {
        return Err(EmbedError::Config("batch size must be positive".into()));
    }
    if data.dim() != flow.dim() {
        return Err(EmbedError::Shape(format!(
            "embeddings of dimension {}, but the flow has dimension {}",
            data.dim(),
            flow.dim()
        )));
    }
    let mut out = Vec::with_capacity(data.len());
    let plan = BatchPlan::sequential(data.len(), batch_size)?;
    for indices in plan.batches() {
        let log_prob = flow.log_prob(gather::<B>(data, indices, device))?;
        out.extend(
            log_prob
                .into_data()
                .convert::<f64>()
                .to_vec::<f64>()
                .map_err(|e| EmbedError::Readback(format!("log-densities: {e:?}")))?,
        );
    }
    Ok(out)
}
