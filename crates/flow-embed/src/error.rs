//! The one error type of the crate.

use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong building, fitting, saving, loading or scoring with this crate.
///
/// Every variant that concerns a file names it; every variant about a training run
/// names the step.
#[derive(Debug, Error)]
pub enum EmbedError {
    /// A configuration that cannot be built or run, with the reason.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Input whose shape does not fit (wrong dimension, too few rows, mismatched labels).
    #[error("bad input shape: {0}")]
    Shape(String),
    /// Input that holds NaN or an infinity.
    #[error("non-finite input: {0}")]
    NonFinite(String),
    /// A tensor could not be read back from the backend.
    #[error("reading values back from the backend failed: {0}")]
    Readback(String),
    /// The training loss (or its gradient) turned non-finite: the model diverged.
    #[error("{what} step {step}: the {quantity} is not finite ({value}); the model diverged (try a lower learning rate or stronger gradient clipping)")]
    Diverged {
        /// What was being trained.
        what: Trained,
        /// The 0-based step that failed.
        step: u64,
        /// Which quantity turned non-finite.
        quantity: DivergedQuantity,
        /// The non-finite value.
        value: f64,
    },
    /// A covariance matrix that is not positive definite even after the ridge.
    #[error("{what}: the covariance is singular (pivot {pivot} is {value:e} after a ridge of {ridge:e}); the embeddings may be constant in some direction")]
    Singular {
        /// Which fit failed (`"gaussian"`, `"class-conditional gaussian"`).
        what: &'static str,
        /// The index of the failed pivot.
        pivot: usize,
        /// Its value.
        value: f64,
        /// The ridge that was added to the diagonal.
        ridge: f64,
    },
    /// A flow-core layer could not be built or fed.
    #[error(transparent)]
    Flow(#[from] flow_core::FlowError),
    /// An image dataset or a `.npy` file could not be read or batched.
    #[error(transparent)]
    Data(#[from] flow_data::DataError),
    /// The optimisation step failed other than by diverging (which is [`Self::Diverged`]).
    #[error(transparent)]
    Train(Box<flow_train::TrainError>),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A model file that is not a complete, intact file of the expected kind.
    #[error("{}: not a loadable {kind} file: {reason}", path.display())]
    ModelFile {
        /// The file.
        path: PathBuf,
        /// What it should be (`"tabular flow"`, `"classifier"`).
        kind: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl From<flow_train::TrainError> for EmbedError {
    fn from(error: flow_train::TrainError) -> Self {
        // Boxed: a training error is large and rare, the crate's results are many.
        EmbedError::Train(Box::new(error))
    }
}

impl EmbedError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        EmbedError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = EmbedError> = std::result::Result<T, E>;

/// What a training loop of this crate trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trained {
    /// The tabular flow on embeddings.
    TabularFlow,
    /// The CNN classifier whose penultimate layer is the embedding.
    Classifier,
}

impl std::fmt::Display for Trained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Trained::TabularFlow => "tabular flow",
            Trained::Classifier => "classifier",
        })
    }
}

/// The quantity of a training step that turned non-finite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DivergedQuantity {
    /// The batch loss, after the forward pass.
    Loss,
    /// The global gradient norm, after the backward pass.
    GradientNorm,
}

impl std::fmt::Display for DivergedQuantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DivergedQuantity::Loss => "loss",
            DivergedQuantity::GradientNorm => "gradient norm",
        })
    }
}
