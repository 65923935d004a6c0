//! Flows in embedding space: the tabular flow, a feature extractor trained with labels,
//! Gaussian baselines, and embedding files in and out.
//!
//! A flow on raw pixels fails to detect OOD data; the same kind of flow on the
//! embeddings of a classifier trained with labels succeeds (Kirichenko, Izmailov &
//! Wilson, NeurIPS 2020). This crate holds everything that pipeline needs:
//!
//! - [`TabularFlow`] ([`TabularFlowConfig`]): RealNVP over vectors from flow-core's
//!   couplings with MLP st-networks, optional permutations and ActNorm, and a
//!   [`Standardizer`] fitted on the training embeddings that is part of the model (its
//!   log-determinant counted), so [`TabularFlow::log_prob`] is a density on the raw
//!   embeddings; it implements [`flow_core::Flow`].
//! - [`fit_flow`] ([`FlowFitConfig`]) and [`log_prob_embeddings`]: fitting and scoring.
//! - [`Classifier`] ([`ClassifierConfig`]), [`fit_classifier`], [`embed_images`],
//!   [`accuracy`]: the CNN feature extractor; its embedding is the penultimate layer.
//! - [`Embeddings`]: N vectors with optional labels, read from and written to `.npy`.
//! - [`GaussianFit`] and [`ClassConditionalGaussian`]: the Mahalanobis baselines.
//! - Saving and loading of fitted models ([`TabularFlow::save`], [`Classifier::save`]).
//!
//! Every score this crate returns is oriented so that **higher means more
//! in-distribution**, like a log-likelihood.
//!
//! Architecture invariant: no code here names a backend or depends on flow-lab or
//! flow-ood; fitting loops report through a callback ([`FitProgress`]) and never print.

#![warn(missing_docs)]

mod classifier;
mod embeddings;
mod error;
mod fit;
mod gaussian;
mod linalg;
mod model_file;
mod progress;
mod standardize;
mod tabular;
mod train_loop;

pub use classifier::{
    accuracy, embed_images, fit_classifier, Classifier, ClassifierConfig, ClassifierTrainConfig,
    ConvBlock,
};
pub use embeddings::Embeddings;
pub use error::{DivergedQuantity, EmbedError, Result, Trained};
pub use fit::{fit_flow, log_prob_embeddings, FlowFitConfig};
pub use gaussian::{ClassConditionalGaussian, GaussianFit, DEFAULT_RIDGE};
pub use model_file::MODEL_FILE_VERSION;
pub use progress::FitProgress;
pub use standardize::{Standardizer, STD_FLOOR};
pub use tabular::{TabularFlow, TabularFlowConfig};

// Runs the README's example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
