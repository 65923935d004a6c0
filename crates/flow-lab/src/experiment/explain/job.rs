//! Explanation figures for saved checkpoints: every model of a finished run, or one
//! checkpoint file (`cargo xtask explain`).

use crate::experiment::run::evaluation_seed;
use flow_kernels::FlowAutodiffBackend;
use std::path::PathBuf;

use burn::module::AutodiffModule;

use super::{write_mask_figure, write_model_figures, ExplainData};
use crate::device::{BackendJob, BackendKind};
use crate::experiment::run::{eval_sets, load_data};
use crate::experiment::{score_set, DataConfig, ExperimentConfig, ExperimentError};
use flow_data::Dataset;
use flow_train::{checkpoint_path, read_checkpoint};

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
        train: Dataset,
    },
}

/// Draws the explanation figures of saved models.
#[derive(Debug, Clone)]
pub struct ExplainJob {
    /// Which models.
    pub target: ExplainTarget,
    /// The data folder (default: `<workspace>/data` or `$FLOWS_OOD_DATA`).
    pub data_dir: Option<PathBuf>,
    /// Where the figures go (default: `<run>/explain/`, never the run directory itself,
    /// or the checkpoint's folder).
    pub out_dir: Option<PathBuf>,
}

/// Where `explain --run DIR` writes by default: a folder of its own inside the run, so
/// that figures drawn later (with this build's seeds and sets) never replace the ones
/// the run itself wrote.
pub const EXPLAIN_SUBDIR: &str = "explain";

/// Whether two paths name the same folder (compared after resolving links and `..`;
/// a folder that does not exist yet is no existing folder).
fn same_folder(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
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
                let out = self
                    .out_dir
                    .clone()
                    .unwrap_or_else(|| dir.join(EXPLAIN_SUBDIR));
                if same_folder(&out, dir) {
                    return Err(bad(format!(
                        "--out {} is the run's own folder: its figures would be replaced; \
                         give another folder (the default is {})",
                        out.display(),
                        dir.join(EXPLAIN_SUBDIR).display()
                    )));
                }
                Ok((config, items, out))
            }
            ExplainTarget::Checkpoint { path, name, train } => {
                let mut config = ExperimentConfig::quick();
                config.data = DataConfig::builtin(*train);
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
        let explain = ExplainData {
            in_name: &sets.in_test.name,
            in_test: &sets.in_test.images,
            ood_name: &sets.natural_ood.name,
            ood: &sets.natural_ood.images,
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
            for set in std::iter::once(&sets.in_test).chain(sets.ood()) {
                let scored = score_set::<B::InnerBackend>(
                    &model,
                    &set.name,
                    &set.images,
                    eval.batch_size,
                    1,
                    evaluation_seed(config.seed),
                    &inner,
                )?;
                if let Some(layers) = scored.layers {
                    layer_sets.push((set.name.clone(), layers));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_run_never_writes_into_the_run_folder() {
        let run = tempfile::tempdir().unwrap();
        let results = serde_json::json!({ "config": ExperimentConfig::smoke() });
        std::fs::write(run.path().join("results.json"), results.to_string()).unwrap();
        let job = |out_dir: Option<PathBuf>| ExplainJob {
            target: ExplainTarget::Run {
                dir: run.path().to_path_buf(),
                model: None,
            },
            data_dir: None,
            out_dir,
        };
        let (_, items, out) = job(None).plan().unwrap();
        assert_eq!(out, run.path().join(EXPLAIN_SUBDIR));
        assert!(!items.is_empty());
        // The run folder itself, however it is spelled, is refused.
        std::fs::create_dir(run.path().join(EXPLAIN_SUBDIR)).unwrap();
        for spelled in [
            run.path().to_path_buf(),
            run.path().join(EXPLAIN_SUBDIR).join(".."),
        ] {
            let err = job(Some(spelled)).plan().err().unwrap();
            assert!(err.to_string().contains("the run's own folder"), "{err}");
        }
        let elsewhere = tempfile::tempdir().unwrap();
        let (_, _, out) = job(Some(elsewhere.path().to_path_buf())).plan().unwrap();
        assert_eq!(out, elsewhere.path());
    }
}
