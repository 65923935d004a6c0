//! Negative training in the experiment (paper, appendix B): the OOD dataset's
//! training split is pushed down during training, and the model is evaluated on its
//! test split, which it never saw; a plain model of the same run is scored on the same
//! held-out images for comparison.

use crate::experiment::run::evaluation_seed;
use flow_kernels::FlowAutodiffBackend;
use std::path::Path;

use burn::module::AutodiffModule;
use flow_data::ImageDataset;
use flow_ood::{evaluate, BootstrapOptions, EvaluateOptions, Orientation};

use super::config::{ExperimentConfig, ModelSpec};
use super::eval::{evenly_spaced, score_set};
use super::report::NegativeResult;
use super::run::{EvalSets, RunData};
use super::sets::NamedSet;
use super::ExperimentError;
use flow_train::{checkpoint_path, read_checkpoint, NegativeConfig, NegativeData};

/// What a negative-training model needs beyond a plain one.
pub(super) struct NegativeSetup<'a> {
    /// The objective.
    pub config: NegativeConfig,
    /// The OOD images it trains against.
    pub train_images: &'a ImageDataset,
    /// Its evaluation sets: the plain ones with the natural OOD set replaced by the
    /// held-out OOD images.
    pub sets: EvalSets,
    /// The held-out set's display name.
    pub held_out_name: String,
}

impl<'a> NegativeSetup<'a> {
    /// The setup of `spec`, or `None` for a plain model.
    pub fn new(
        spec: &ModelSpec,
        config: &ExperimentConfig,
        data: &'a RunData,
        sets: &EvalSets,
    ) -> Result<Option<Self>, ExperimentError> {
        let Some(negative) = &spec.train.negative else {
            return Ok(None);
        };
        let (Some(train_images), Some(test_images)) = (&data.ood_train, &data.ood_test) else {
            return Err(ExperimentError::Explain {
                model: spec.name.clone(),
                reason: "negative training needs the OOD splits, which were not loaded".into(),
            });
        };
        let held_out_name = format!("{} (held out)", config.data.natural_ood_name());
        let held_out =
            test_images.select(&evenly_spaced(test_images.len(), config.eval.ood_limit))?;
        Ok(Some(Self {
            config: NegativeConfig {
                batch_size: spec.train.batch_size,
                hinge_nats: negative.hinge_nats,
            },
            train_images,
            // The natural OOD set becomes the held-out split this model never saw.
            sets: EvalSets {
                natural_ood: NamedSet {
                    name: held_out_name.clone(),
                    images: held_out,
                },
                ..sets.clone()
            },
            held_out_name,
        }))
    }

    /// The OOD data handed to the training loop.
    pub fn train_data(&self) -> NegativeData<'_> {
        NegativeData {
            config: &self.config,
            images: self.train_images,
        }
    }

    /// The result row: this model's setup, and the baseline's AUROC on the same
    /// held-out images. `earlier` holds the name, seed and in-distribution test scores
    /// of each model trained before in this run; the baseline's checkpoint is reloaded
    /// from `dir`.
    pub fn result<B: FlowAutodiffBackend>(
        &self,
        spec: &ModelSpec,
        config: &ExperimentConfig,
        earlier: &[(String, u64, Vec<f64>)],
        dir: &Path,
        device: &B::Device,
    ) -> Result<NegativeResult, ExperimentError> {
        let baseline_in_test = spec
            .train
            .negative
            .as_ref()
            .and_then(|n| n.baseline.as_deref())
            .and_then(|name| earlier.iter().find(|(n, _, _)| n == name))
            .map(|(n, s, scores)| (n.as_str(), *s, scores.as_slice()));
        let held_out = &self.sets.natural_ood.images;
        let mut result = NegativeResult {
            hinge_nats: self.config.hinge_nats,
            ood_train_images: self.train_images.len(),
            held_out_set: self.held_out_name.clone(),
            held_out_images: held_out.len(),
            baseline: None,
            baseline_auroc: None,
            baseline_held_out_bits_per_dim: None,
        };
        let Some((name, seed, in_test)) = baseline_in_test else {
            return Ok(result);
        };
        let path = checkpoint_path(&dir.join("checkpoints").join(name));
        let checkpoint =
            read_checkpoint::<B>(&path, device).map_err(|e| ExperimentError::Train {
                model: name.to_string(),
                source: e.into(),
            })?;
        let model = checkpoint.model.valid();
        let eval = &config.eval;
        // The baseline's own dequantization seed, as when it was scored.
        let scored = score_set::<B::InnerBackend>(
            &model,
            &self.held_out_name,
            held_out,
            eval.batch_size,
            eval.dequant_draws,
            evaluation_seed(seed),
            device,
        )?;
        let options = EvaluateOptions {
            bootstrap: Some(BootstrapOptions {
                resamples: eval.bootstrap_resamples,
                seed,
                ..BootstrapOptions::default()
            }),
            ..EvaluateOptions::default()
        };
        let metrics = evaluate(
            in_test,
            &scored.log_likelihood,
            Orientation::HigherIsInDistribution,
            &options,
        )
        .map_err(|source| ExperimentError::Metric {
            model: spec.name.clone(),
            set: format!("{} under {name}", self.held_out_name),
            source,
        })?;
        result.baseline = Some(name.to_string());
        result.baseline_auroc = Some(metrics.auroc);
        result.baseline_held_out_bits_per_dim = Some(scored.mean_bits_per_dim());
        Ok(result)
    }
}
