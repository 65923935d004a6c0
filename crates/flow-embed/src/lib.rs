//! Flows in embedding space (placeholder header; rewritten below).

mod classifier;
mod clip;
mod embeddings;
mod error;
mod fit;
mod gaussian;
mod linalg;
mod model_file;
mod progress;
mod standardize;
mod tabular;

pub use classifier::{
    accuracy, embed_images, fit_classifier, Classifier, ClassifierConfig, ClassifierTrainConfig,
    ConvBlock,
};
pub use clip::clip_global_norm;
pub use embeddings::Embeddings;
pub use error::{EmbedError, Result};
pub use fit::{fit_flow, log_prob_embeddings, FlowFitConfig};
pub use gaussian::{ClassConditionalGaussian, GaussianFit, DEFAULT_RIDGE};
pub use model_file::MODEL_FILE_VERSION;
pub use progress::FitProgress;
pub use standardize::{Standardizer, STD_FLOOR};
pub use tabular::{Permutation, TabularFlow, TabularFlowConfig, TabularStep};
