//! What the embedding study runs.

use flow_data::stream_seed;
use flow_embed::{ClassifierConfig, ClassifierTrainConfig, FlowFitConfig, TabularFlowConfig};
use serde::{Deserialize, Serialize};

use super::EmbeddingStudyError;

/// The embedding study's settings: the feature extractor, its training, the tabular flow
/// and its fit, and the baselines' ridge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingStudyConfig {
    /// The feature extractor's architecture.
    pub classifier: ClassifierConfig,
    /// How it is trained. In an experiment its seed picks a stream of the run's seed
    /// (see [`under_run_seed`](Self::under_run_seed)).
    pub classifier_train: ClassifierTrainConfig,
    /// Train the classifier on an evenly spaced subset of this many training images
    /// (`None`: all of them).
    pub classifier_train_limit: Option<usize>,
    /// The tabular flow; its `dim` must equal the classifier's `embedding_dim`.
    pub flow: TabularFlowConfig,
    /// How the flow is fitted. In an experiment its seed picks a stream of the run's
    /// seed (see [`under_run_seed`](Self::under_run_seed)).
    pub flow_fit: FlowFitConfig,
    /// Fit the flow and the baselines on an evenly spaced subset of this many training
    /// embeddings (`None`: all of them).
    pub fit_limit: Option<usize>,
    /// Score (and write) an evenly spaced subset of this many training embeddings, for
    /// histograms of the training set.
    pub in_train_scored: usize,
    /// The relative ridge of the Gaussian baselines' covariances.
    pub ridge: f64,
    /// Images or embeddings per batch when embedding and scoring.
    pub eval_batch_size: usize,
}

impl Default for EmbeddingStudyConfig {
    /// The `quick` preset's study (sized by measurement on a 2-core CPU; see
    /// `flow-embed`'s README): the FashionMNIST extractor trained three epochs on all
    /// 60,000 training images, a flow of 6 couplings fitted 8 epochs on the embeddings
    /// of 20,000 of them (evenly spaced), baselines fitted on the same 20,000.
    fn default() -> Self {
        let classifier = ClassifierConfig::fashion_mnist();
        let dim = classifier.embedding_dim;
        Self {
            classifier,
            classifier_train: ClassifierTrainConfig {
                seed: 0,
                batch_size: 128,
                epochs: 3,
                learning_rate: 3e-3,
                cosine_decay: true,
                grad_clip_norm: Some(10.0),
            },
            classifier_train_limit: None,
            flow: TabularFlowConfig {
                couplings: 6,
                hidden: 128,
                hidden_layers: 0,
                ..TabularFlowConfig::new(dim)
            },
            flow_fit: FlowFitConfig {
                seed: 0,
                batch_size: 256,
                epochs: 8,
                learning_rate: 1e-3,
                cosine_decay: true,
                grad_clip_norm: Some(10.0),
            },
            fit_limit: Some(20_000),
            in_train_scored: 1000,
            ridge: flow_embed::DEFAULT_RIDGE,
            eval_batch_size: 500,
        }
    }
}

impl EmbeddingStudyConfig {
    /// The study as an experiment runs it under its seed `run_seed`: the classifier's
    /// seed `c` becomes the stream `embedding classifier/c` of `run_seed`, the flow fit's
    /// seed `f` the stream `embedding flow fit/f` (by `flow_data::stream_seed`, the one
    /// derivation of every random stream of a run). So a run's `--seed` changes the
    /// classifier, its embeddings and the flow like everything else it draws, and the
    /// configured seeds still pick one stream among many.
    pub fn under_run_seed(&self, run_seed: u64) -> Self {
        let mut study = self.clone();
        study.classifier_train.seed = stream_seed(
            run_seed,
            &format!("embedding classifier/{}", self.classifier_train.seed),
        );
        study.flow_fit.seed = stream_seed(
            run_seed,
            &format!("embedding flow fit/{}", self.flow_fit.seed),
        );
        study
    }

    /// The `standard` preset's study: a wider extractor (blocks of 32 and 64 channels)
    /// trained six epochs, for the test accuracy of a classifier worth its name
    /// (FashionMNIST at 92% and above); flow and baselines as in the default study,
    /// fitted on the embeddings of all 60,000 training images.
    pub fn standard() -> Self {
        let quick = Self::default();
        Self {
            classifier: ClassifierConfig {
                channels: vec![32, 64],
                ..quick.classifier.clone()
            },
            classifier_train: ClassifierTrainConfig {
                epochs: 6,
                ..quick.classifier_train.clone()
            },
            fit_limit: None,
            in_train_scored: 2000,
            ..quick
        }
    }

    /// A study small enough for smoke tests (about 15 s on a 2-core CPU): the classifier
    /// trained one epoch on 10,000 images, the flow fitted 8 epochs on 5,000 embeddings.
    /// Its accuracy and AUROC are far from the `quick` study's.
    pub fn smoke() -> Self {
        let quick = Self::default();
        Self {
            classifier_train: ClassifierTrainConfig {
                epochs: 1,
                ..quick.classifier_train.clone()
            },
            classifier_train_limit: Some(10_000),
            flow: TabularFlowConfig {
                couplings: 4,
                hidden: 64,
                ..quick.flow.clone()
            },
            flow_fit: FlowFitConfig {
                epochs: 8,
                ..quick.flow_fit.clone()
            },
            fit_limit: Some(5_000),
            in_train_scored: 200,
            ..quick
        }
    }

    /// Checks what the libraries cannot: that the flow's dimension is the embedding's.
    ///
    /// # Errors
    /// [`EmbeddingStudyError::Config`] naming the mismatch.
    pub fn validate(&self) -> Result<(), EmbeddingStudyError> {
        if self.flow.dim != self.classifier.embedding_dim {
            return Err(EmbeddingStudyError::Config(format!(
                "the flow's dim {} is not the classifier's embedding_dim {}",
                self.flow.dim, self.classifier.embedding_dim
            )));
        }
        if self.eval_batch_size == 0 {
            return Err(EmbeddingStudyError::Config(
                "eval_batch_size must be positive".into(),
            ));
        }
        self.classifier
            .validate()
            .and_then(|()| self.flow.validate())
            .map_err(|e| EmbeddingStudyError::Config(e.to_string()))
    }
}

#[cfg(test)]
mod seed_tests {
    use super::EmbeddingStudyConfig;

    #[test]
    fn the_run_seed_and_the_configured_seeds_each_change_the_study_seeds() {
        let study = EmbeddingStudyConfig::smoke();
        let run_0 = study.under_run_seed(0);
        let run_1 = study.under_run_seed(1);
        assert_ne!(run_0.classifier_train.seed, run_1.classifier_train.seed);
        assert_ne!(run_0.flow_fit.seed, run_1.flow_fit.seed);
        assert_ne!(run_0.classifier_train.seed, run_0.flow_fit.seed);
        assert_eq!(
            run_0,
            study.under_run_seed(0),
            "a pure function of the run seed"
        );

        let mut other = study.clone();
        other.classifier_train.seed = 9;
        let other_0 = other.under_run_seed(0);
        assert_ne!(other_0.classifier_train.seed, run_0.classifier_train.seed);
        assert_eq!(other_0.flow_fit.seed, run_0.flow_fit.seed);
        // Only the seeds move.
        let mut reseeded = run_0.clone();
        reseeded.classifier_train.seed = study.classifier_train.seed;
        reseeded.flow_fit.seed = study.flow_fit.seed;
        assert_eq!(reseeded, study);
    }
}
