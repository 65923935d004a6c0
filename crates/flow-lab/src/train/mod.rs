//! Training: the reference's optimiser step.

mod grads;
mod step;

pub use grads::{clip_and_decay, global_grad_norm};
pub use step::{FlowTrainer, OptimConfig, StepStats, TrainError};
