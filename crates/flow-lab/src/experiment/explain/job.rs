//! Explanation figures for saved checkpoints: every model of a finished run, or one
//! checkpoint file (`cargo xtask explain`).

use flow_kernels::FlowAutodiffBackend;
use std::path::PathBuf;

use burn::module::AutodiffModule;

use super::{write_mask_figure, write_model_figures, ExplainData};
use crate::device::{BackendJob, BackendKind};
use crate::experiment::run::{eval_sets, load_data};
use crate::experiment::{score_set, ExperimentConfig, ExperimentError, TrainDataset};
use crate::train::{checkpoint_path, read_checkpoint};

/// What to draw the figures for.
#[derive(Debug, Clone)]
pub enum ExplainTarget {
    /// A run directory (`results/<run-id>`): its `results.json` names the models and
    /// the data; each model's checkpoint is under `checkpoints/<model>/`.
    Run {
        /// The run directory.
        dir: PathBuf,
        /// Only this model (all when `None`).
        model: Option<String>,
    },
    /// One checkpoint file, scored against `train`'s natural OOD set and the
    /// synthetic sets of the `quick` preset.
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// The name used in titles and file names.
        name: String,
        /// The in-distribution dataset the checkpoint was trained on.
        train: TrainDataset,
    },
}

/// Draws the explanation figures of saved models.
#[derive(Debug, Clone)]
pub struct ExplainJob {
    /// Which models.
    pub target: ExplainTarget,
    /// The data folder (default: `<workspace>/data` or `$FLOWS_OOD_DATA`).
    pub data_dir: Option<PathBuf>,
    /// Where the figures go (default: the run directory, or the checkpoint's folder).
    pub out_dir: Option<PathBuf>,
}

/// One model to explain.
struct Item {
    name: String,
    checkpoint: PathBuf,
}

impl ExplainJob {
    /// The experiment configuration and the models the target names.
    fn plan(&self) -> Result<(ExperimentConfig, Vec<Item>, PathBuf), ExperimentError> {
        match &self.target {
            ExplainTarget::Run { dir, model } => {
                let path = dir.join("results.json");
                let text =
                    std::fs::read_to_string(&path).map_err(|source| ExperimentError::Io {
                        path: path.clone(),
                        source,
                    })?;
                let bad = |message: String| ExperimentError::Config {
                    path: path.clone(),
                    message,
                };
                let value: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
                let config: ExperimentConfig = value
                    .get("config")
                    .cloned()
                    .ok_or_else(|| bad("no `config` field".into()))
                    .and_then(|c| serde_json::from_value(c).map_err(|e| bad(e.to_string())))?;
                let items: Vec<Item> = config
                    .models
                    .iter()
                    .filter(|m| model.as_ref().is_none_or(|want| &m.name == want))
                    .map(|m| Item {
                        name: m.name.clone(),
                        checkpoint: checkpoint_path(&dir.join("checkpoints").join(&m.name)),
                    })
                    .collect();
                if items.is_empty() {
                    return Err(bad(format!(
                        "no model named `{}` in this run",
                        model.as_deref().unwrap_or("")
                    )));
                }
                let out = self.out_dir.clone().unwrap_or_else(|| dir.clone());
                Ok((config, items, out))
            }
            ExplainTarget::Checkpoint { path, name, train } => {
                let mut config = ExperimentConfig::quick();
                config.train_dataset = *train;
                let out = self.out_dir.clone().unwrap_or_else(|| {
                    path.parent()
                        .map_or_else(|| PathBuf::from("."), PathBuf::from)
                });
                Ok((
                    config,
                    vec![Item {
                        name: name.clone(),
                        checkpoint: path.clone(),
                    }],
                    out,
                ))
            }
        }
    }
}

impl BackendJob for ExplainJob {
    /// The folder written to and the figure files.
    type Output = Result<(PathBuf, Vec<String>), ExperimentError>;

    fn run<B: FlowAutodiffBackend>(self, _backend: BackendKind, device: B::Device) -> Self::Output {
        let (config, items, out) = self.plan()?;
        std::fs::create_dir_all(&out).map_err(|source| ExperimentError::Io {
            path: out.clone(),
            source,
        })?;
        let data = load_data(&config, self.data_dir.as_deref())?;
        let sets = eval_sets(&config, &data)?;
        let in_name = format!("{} test", config.train_dataset.in_name());
        let ood_name = config.train_dataset.ood_name();
        let natural = &sets.ood[0].1;
        let explain = ExplainData {
            in_name: &in_name,
            in_test: &sets.in_test,
            ood_name,
            ood: natural,
            seed: config.seed,
        };
        let mut written = vec![write_mask_figure(&out)?];
        let inner = device.clone();
        for item in items {
            let checkpoint = read_checkpoint::<B>(&item.checkpoint, &device).map_err(|e| {
                ExperimentError::Train {
                    model: item.name.clone(),
                    source: e.into(),
                }
            })?;
            let flow = checkpoint.meta.flow.clone();
            let model = checkpoint.model.valid();
            let eval = &config.eval;
            let mut layer_sets = Vec::new();
            for (name, set) in std::iter::once((in_name.clone(), &sets.in_test))
                .chain(sets.ood.iter().map(|(n, s)| (n.clone(), s)))
            {
                let scored = score_set::<B::InnerBackend>(
                    &model,
                    &name,
                    set,
                    eval.batch_size,
                    1,
                    config.seed ^ 0xE7A1,
                    &inner,
                )?;
                if let Some(layers) = scored.layers {
                    layer_sets.push((name, layers));
                }
            }
            eprintln!("{}: drawing figures into {}", item.name, out.display());
            written.extend(write_model_figures::<B::InnerBackend>(
                &model,
                &flow,
                &item.name,
                &explain,
                &layer_sets,
                &out,
                &inner,
            )?);
        }
        Ok((out, written))
    }
}
