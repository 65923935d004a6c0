//! Training: the reference's optimiser step, the seeded training loop, checkpoints and
//! the NaN/Inf guard.
//!
//! - [`run`], [`resume`], [`run_or_resume`]: train a flow from a [`FlowConfig`] on an
//!   [`ImageDataset`](flow_data::ImageDataset) under a [`TrainConfig`], with
//!   [`RunOptions`] for checkpoints, output and early stops;
//! - [`checkpoint`]: the atomic, self-checking checkpoint file;
//! - [`guard`]: where a diverging step's non-finite values first appear;
//! - [`FlowTrainer`]: one optimiser step (Adam, global gradient-norm clip, weight decay
//!   on the weight-norm scales only).
//!
//! [`FlowConfig`]: flow_core::FlowConfig

pub mod checkpoint;
mod grads;
pub mod guard;
mod run;
mod step;

pub use checkpoint::{
    checkpoint_path, read_checkpoint, read_checkpoint_meta, write_checkpoint, Checkpoint,
    CheckpointError, CheckpointMeta, DataFingerprint, CHECKPOINT_FILE,
};
pub use grads::{clip_and_decay, global_grad_norm};
pub use guard::{locate_non_finite, NonFiniteSite};
pub use run::{resume, run, run_or_resume, HistoryPoint, RunOptions, TrainConfig, TrainOutcome};
pub use step::{FlowOptimizer, FlowTrainer, OptimConfig, OptimizerRecord, StepStats, TrainError};
