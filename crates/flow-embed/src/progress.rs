//! What the fitting loops report after each step.

use serde::{Deserialize, Serialize};

/// One step's report from [`fit_flow`](crate::fit_flow) or
/// [`fit_classifier`](crate::fit_classifier), handed to the caller's progress callback
/// (a progress bar, a log line, a loss curve).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitProgress {
    /// Steps completed, counting this one (1-based).
    pub step: u64,
    /// Steps the fit will take in total.
    pub total_steps: u64,
    /// The epoch this step belongs to (0-based).
    pub epoch: u64,
    /// The batch's loss: mean negative log-likelihood in nats per sample for a flow,
    /// mean cross-entropy in nats for a classifier.
    pub loss: f64,
    /// For a classifier, the fraction of the batch it classified correctly.
    pub batch_accuracy: Option<f64>,
    /// The learning rate the step used.
    pub learning_rate: f64,
    /// The global gradient norm before clipping.
    pub grad_norm: f64,
    /// Samples per second over the fit so far.
    pub samples_per_sec: f64,
}
