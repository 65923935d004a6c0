//! Experiment configurations: which flows to train on which data, and how to evaluate
//! them. Presets are `smoke` (CI, minutes), `quick` (the default, under half an hour of a
//! 2-core CPU, build included), `explain`, `standard` (trained flows, a CPU) and `paper`
//! (the reference configurations, for a GPU); any other experiment is a TOML file of the
//! same shape.

use std::path::Path;

use flow_core::models::{Architecture, RealNvpStNet};
use flow_core::FlowConfig;
use flow_data::{Dataset, SyntheticOod};
use flow_masks::{Half, MaskSchedule};
use serde::{Deserialize, Serialize};

use super::data::DataConfig;
use super::scores::{ScoresStudyConfig, StudySize};
use super::ExperimentError;
use crate::embedding::EmbeddingStudyConfig;
use flow_train::{LrSchedule, OptimConfig};

/// Training steps of the `explain` preset's RealNVP (plain and negative).
const EXPLAIN_STEPS: u64 = 80;

/// st-network channels of `quick`'s headline RealNVP (claim 1).
const QUICK_MID_CHANNELS: usize = 16;
/// Steps of 64 images of `quick`'s headline RealNVP: about three and a half minutes on
/// the 2-core machine.
const QUICK_REALNVP_STEPS: u64 = 400;

/// Steps of 64 images of the MNIST twin of `quick`'s OOD-scores table (the RealNVP
/// trained with the datasets swapped): a quarter of the headline RealNVP's.
const QUICK_TWIN_STEPS: u64 = 100;
/// Steps of the MNIST twin of the `standard` preset's OOD-scores table: the budget of
/// the flow the table scores in the FashionMNIST direction (`realnvp_short`).
const STANDARD_TWIN_STEPS: u64 = STANDARD_COMPARISON_STEPS;

/// st-network channels of the `standard` preset's pixel flows.
const STANDARD_MID_CHANNELS: usize = 16;
/// Residual blocks per st-network of the `standard` preset's pixel flows.
const STANDARD_BLOCKS: usize = 1;
/// Steps of 64 images of the `standard` preset's main RealNVP (three epochs). The
/// budget was set from a calibration run of every `standard` model at a few steps on
/// the 2-core machine (about 0.53 s per step of this RealNVP, 3.5 s per step of all six
/// comparison flows together, 12 minutes of scoring, figures and embedding rows), so
/// that the whole preset stays under an hour.
const STANDARD_REALNVP_STEPS: u64 = 2800;
/// Steps of 64 images of every other `standard` pixel flow (the claim-3 pairs, the
/// negative and co-adaptation flows): one budget, so the pairs compare at equal budget.
const STANDARD_COMPARISON_STEPS: u64 = 300;
/// Peak learning rate of the `standard` preset's pixel flows.
const STANDARD_LEARNING_RATE: f64 = 4e-3;
/// Where the cosine schedule ends, as a fraction of the peak rate.
const STANDARD_FINAL_LR_FRACTION: f64 = 0.02;

/// The built-in experiment configurations, in order of size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// The whole pipeline in seconds, for CI.
    Smoke,
    /// The default: every claim in minutes of a 2-core CPU.
    Quick,
    /// Negative training and the co-adaptation flow of `quick`'s size.
    Explain,
    /// Every claim on flows trained in the reference's regime as far as an hour of a
    /// 2-core CPU allows, and the OOD-scores table on top (docs/reproduction.md gives
    /// the whole run's measured wall time).
    Standard,
    /// The reference configurations, for a GPU.
    Paper,
}

impl Preset {
    /// Every preset, in order of size.
    pub const ALL: [Preset; 5] = [
        Preset::Smoke,
        Preset::Quick,
        Preset::Explain,
        Preset::Standard,
        Preset::Paper,
    ];

    /// The name used on the command line and in run ids.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Smoke => "smoke",
            Preset::Quick => "quick",
            Preset::Explain => "explain",
            Preset::Standard => "standard",
            Preset::Paper => "paper",
        }
    }

    /// Its configuration.
    pub fn config(self) -> ExperimentConfig {
        match self {
            Preset::Smoke => ExperimentConfig::smoke(),
            Preset::Quick => ExperimentConfig::quick(),
            Preset::Explain => ExperimentConfig::explain(),
            Preset::Standard => ExperimentConfig::standard(),
            Preset::Paper => ExperimentConfig::paper(),
        }
    }
}

impl std::str::FromStr for Preset {
    type Err = ExperimentError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| ExperimentError::UnknownPreset(name.to_string()))
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A whole experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Name, used in the run id.
    pub name: String,
    /// Seed of everything random (initialisation, shuffling, dequantization, bootstrap).
    pub seed: u64,
    /// The in-distribution training and test sets and the named OOD sets (results
    /// written before sources existed name a built-in pair as `train_dataset`).
    #[serde(alias = "train_dataset")]
    pub data: DataConfig,
    /// The flows to train.
    pub models: Vec<ModelSpec>,
    /// How to evaluate them.
    pub eval: EvalSpec,
    /// The embedding rows (a flow and Gaussian baselines on the embeddings of a
    /// classifier trained with labels); `None` leaves them out.
    #[serde(default)]
    pub embedding: Option<EmbeddingStudyConfig>,
    /// The OOD-scores table (the scores beyond the likelihood, on one of the models);
    /// `None` leaves it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<ScoresStudyConfig>,
}

/// One flow to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Short name (file names, tables).
    pub name: String,
    /// What the model is, for the report (architecture and mask).
    pub description: String,
    /// The flow.
    pub flow: FlowConfig,
    /// How to train it.
    pub train: TrainSpec,
}

/// Training budget and optimiser of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    /// Optimiser steps.
    pub steps: u64,
    /// Batch size.
    pub batch_size: usize,
    /// Optimiser settings (the reference's by default).
    #[serde(default)]
    pub optim: OptimConfig,
    /// Negative training (paper, appendix B) against the training split of the OOD
    /// dataset; the model is then evaluated on the OOD test split, never seen in
    /// training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative: Option<NegativeSpec>,
}

/// Negative training of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegativeSpec {
    /// OOD images at or below this log-likelihood (nats) are no longer pushed down
    /// (the paper: -30000 for FashionMNIST vs MNIST).
    pub hinge_nats: f64,
    /// A model trained earlier in the same run by plain maximum likelihood, whose AUROC
    /// on the same held-out OOD images is reported beside this one's.
    #[serde(default)]
    pub baseline: Option<String>,
}

/// The synthetic OOD sets, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyntheticSet {
    /// Uniform noise.
    UniformNoise,
    /// Gaussian noise (mean 127.5, std 63.75, clipped).
    GaussianNoise,
    /// Constant images.
    Constant,
    /// 255 - x.
    Inverted,
    /// Left-right flips.
    FlipHorizontal,
    /// Up-down flips.
    FlipVertical,
}

impl SyntheticSet {
    /// Every set.
    pub const ALL: [SyntheticSet; 6] = [
        SyntheticSet::UniformNoise,
        SyntheticSet::GaussianNoise,
        SyntheticSet::Constant,
        SyntheticSet::Inverted,
        SyntheticSet::FlipHorizontal,
        SyntheticSet::FlipVertical,
    ];

    /// The generator in flow-data.
    pub fn generator(self) -> SyntheticOod {
        match self {
            SyntheticSet::UniformNoise => SyntheticOod::UniformNoise,
            SyntheticSet::GaussianNoise => SyntheticOod::GAUSSIAN_DEFAULT,
            SyntheticSet::Constant => SyntheticOod::Constant,
            SyntheticSet::Inverted => SyntheticOod::Inverted,
            SyntheticSet::FlipHorizontal => SyntheticOod::FlipHorizontal,
            SyntheticSet::FlipVertical => SyntheticOod::FlipVertical,
        }
    }

    /// Display name.
    pub fn label(self) -> &'static str {
        match self {
            SyntheticSet::UniformNoise => "uniform noise",
            SyntheticSet::GaussianNoise => "Gaussian noise",
            SyntheticSet::Constant => "constant",
            SyntheticSet::Inverted => "inverted",
            SyntheticSet::FlipHorizontal => "flipped left-right",
            SyntheticSet::FlipVertical => "flipped up-down",
        }
    }
}

/// How to evaluate the trained flows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSpec {
    /// Scoring batch size.
    pub batch_size: usize,
    /// In-distribution test images scored (evenly spread over the split; all if unset).
    pub in_test_limit: Option<usize>,
    /// In-distribution training images scored.
    pub in_train_limit: Option<usize>,
    /// Natural OOD images scored.
    pub ood_limit: Option<usize>,
    /// Synthetic OOD sets, each made from the in-distribution test images scored.
    pub synthetic: Vec<SyntheticSet>,
    /// Images per synthetic set.
    pub synthetic_limit: usize,
    /// Dequantization draws averaged per image (log-likelihoods averaged).
    pub dequant_draws: usize,
    /// Bootstrap resamples for the intervals.
    pub bootstrap_resamples: usize,
    /// Samples drawn from each flow for the sample grid.
    pub samples: usize,
    /// Sampling temperature.
    pub temperature: f64,
}

impl ExperimentConfig {
    /// The preset called `name` (see [`Preset`]).
    ///
    /// # Errors
    /// [`ExperimentError::UnknownPreset`] for a name that is no preset.
    pub fn preset(name: &str) -> Result<Self, ExperimentError> {
        Ok(name.parse::<Preset>()?.config())
    }

    /// Reads an experiment from a TOML file.
    pub fn from_toml_file(path: &Path) -> Result<Self, ExperimentError> {
        let text = std::fs::read_to_string(path).map_err(|source| ExperimentError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ExperimentError::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// The four models of the default preset, at a given size and budget.
    fn four_models(mid: usize, blocks: usize, steps: u64, batch: usize, lr: f64) -> Vec<ModelSpec> {
        let train = TrainSpec {
            steps,
            batch_size: batch,
            optim: OptimConfig {
                learning_rate: lr,
                ..OptimConfig::default()
            },
            negative: None,
        };
        let shape = [1, 28, 28];
        // The bottleneck flow has the RealNVP's blocks and width, so the two differ in
        // the bottleneck alone (claim 3 at equal depth and width). No `init_zeros`: at
        // these budgets a flow that starts as the identity ends higher (see
        // docs/reproduction.md).
        let realnvp = FlowConfig::realnvp(shape, 2, blocks, mid);
        let bottleneck = with_bottleneck(realnvp.clone());
        let single_scale = |schedule| FlowConfig::single_scale(shape, schedule, blocks, mid);
        vec![
            ModelSpec {
                name: "realnvp".into(),
                description: "RealNVP, 2 scales (checkerboard + channel-wise masks)".into(),
                flow: realnvp,
                train: train.clone(),
            },
            ModelSpec {
                name: "cycle8".into(),
                description: "8 single-scale couplings, cycle mask".into(),
                flow: single_scale(MaskSchedule::cycle(8)),
                train: train.clone(),
            },
            ModelSpec {
                name: "checker8".into(),
                description: "8 single-scale couplings, checkerboard mask (baseline for cycle8)"
                    .into(),
                flow: single_scale(MaskSchedule::checkerboard(8)),
                train: train.clone(),
            },
            ModelSpec {
                name: "realnvp_bottleneck".into(),
                description: "RealNVP, 2 scales, st-networks with a linear bottleneck of 16".into(),
                flow: bottleneck,
                train,
            },
        ]
    }

    /// The paper's co-adaptation flow (section 6): 3 single-scale couplings with
    /// horizontal masks, the bottom half transformed first as in the reference.
    fn coadaptation_model(train: TrainSpec, blocks: usize, mid: usize) -> ModelSpec {
        let schedule = MaskSchedule::horizontal_from(3, Half::Second);
        ModelSpec {
            name: "horizontal3".into(),
            description: "3 single-scale couplings, horizontal masks, bottom half first \
                          (co-adaptation)"
                .into(),
            flow: FlowConfig::single_scale([1, 28, 28], schedule, blocks, mid),
            train,
        }
    }

    /// `base` trained by negative training (appendix B) with the paper's hinge,
    /// compared with `base` itself.
    fn negative_model(base: &ModelSpec) -> ModelSpec {
        let mut train = base.train.clone();
        train.negative = Some(NegativeSpec {
            hinge_nats: flow_train::FASHION_MNIST_HINGE_NATS,
            baseline: Some(base.name.clone()),
        });
        ModelSpec {
            name: format!("{}_negative", base.name),
            // The OOD set follows `data` (`--train mnist` swaps it), so the
            // description does not name it; the report does.
            description: format!(
                "{}, negative training against the OOD set",
                base.description
            ),
            flow: base.flow.clone(),
            train,
        }
    }

    /// `explain`: the models behind the paper's explanations that `quick` leaves out:
    /// the small RealNVP of `quick` (`realnvp_short`) trained 80 steps, the same trained by negative training
    /// (appendix B), and the 3-layer horizontal-mask flow of the co-adaptation figure
    /// trained longer.
    pub fn explain() -> Self {
        let models: Vec<ModelSpec> = Self::four_models(8, 1, EXPLAIN_STEPS, 32, 2e-3)
            .into_iter()
            .take(1)
            .collect();
        let mut models = models;
        if let Some(base) = models.first() {
            let negative = Self::negative_model(base);
            let mut train = base.train.clone();
            train.steps = 300;
            models.push(negative);
            models.push(Self::coadaptation_model(train, 1, 8));
        }
        Self {
            name: "explain".into(),
            models,
            embedding: None,
            scores: None,
            ..Self::quick()
        }
    }

    /// `smoke`: the whole pipeline in a few minutes, for CI: the four models of `quick`
    /// and the two of `explain`, tiny and briefly trained.
    pub fn smoke() -> Self {
        let mut models = Self::four_models(4, 1, 8, 16, 2e-3);
        // The `explain` rows at the same tiny size, so CI runs their code paths too.
        if let Some(base) = models.first() {
            let negative = Self::negative_model(base);
            let coadaptation = Self::coadaptation_model(base.train.clone(), 1, 4);
            models.push(negative);
            models.push(coadaptation);
        }
        Self {
            name: "smoke".into(),
            seed: 0,
            data: DataConfig::builtin(Dataset::FashionMnist),
            models,
            eval: EvalSpec {
                batch_size: 100,
                in_test_limit: Some(200),
                in_train_limit: Some(100),
                ood_limit: Some(200),
                synthetic: SyntheticSet::ALL.to_vec(),
                synthetic_limit: 50,
                dequant_draws: 1,
                bootstrap_resamples: 100,
                samples: 16,
                temperature: 0.7,
            },
            embedding: Some(EmbeddingStudyConfig::smoke()),
            scores: Some(ScoresStudyConfig::every_score(
                "realnvp",
                Some(8),
                StudySize::Tiny,
            )),
        }
    }

    /// `quick`: the default, sized so that build, data and run fit in half an hour of a
    /// 2-core CPU. A RealNVP of 16 channels trained 400 steps of 64 images with a
    /// cosine-decayed rate (claim 1; under half an epoch); the claim-3 pairs at a
    /// smaller size and budget (st-networks of 8 channels and 1 block, 40 steps of 32
    /// images at lr 2e-3), the bottleneck's baseline `realnvp_short` among them; and the
    /// embedding rows (a classifier trained three epochs, a tabular flow and the
    /// Gaussian baselines on its embeddings); the OOD-scores table on the RealNVP, with
    /// one background flow and one more ensemble member as long-trained as it, and its
    /// MNIST twin trained 100 steps.
    pub fn quick() -> Self {
        let mut models = Self::four_models(8, 1, 40, 32, 2e-3);
        if let Some(small) = models.first_mut() {
            small.name = "realnvp_short".into();
            small.description = "RealNVP at the comparison flows' width and budget \
                                 (the bottleneck's baseline)"
                .into();
        }
        models.insert(
            0,
            ModelSpec {
                name: "realnvp".into(),
                description: format!(
                    "RealNVP, 2 scales (checkerboard + channel-wise masks), 1 block of \
                     {QUICK_MID_CHANNELS} channels"
                ),
                flow: FlowConfig::realnvp([1, 28, 28], 2, 1, QUICK_MID_CHANNELS),
                train: cosine_train(QUICK_REALNVP_STEPS, 64, STANDARD_LEARNING_RATE),
            },
        );
        Self {
            name: "quick".into(),
            seed: 0,
            data: DataConfig::builtin(Dataset::FashionMnist),
            models,
            eval: EvalSpec {
                batch_size: 200,
                in_test_limit: Some(1000),
                in_train_limit: Some(400),
                ood_limit: Some(1000),
                synthetic: SyntheticSet::ALL.to_vec(),
                synthetic_limit: 200,
                dequant_draws: 1,
                bootstrap_resamples: 500,
                samples: 36,
                temperature: 0.7,
            },
            embedding: Some(EmbeddingStudyConfig::default()),
            scores: Some(ScoresStudyConfig::every_score(
                "realnvp",
                Some(QUICK_TWIN_STEPS),
                StudySize::Quick,
            )),
        }
    }

    /// `standard`: the paper's claims on flows trained in the reference's regime within
    /// an hour of a 2-core CPU (checkpoints every few minutes; `--resume` continues).
    ///
    /// The RealNVP has the reference layout at the width and depth the budget allows,
    /// trained with Adam and a cosine-decayed rate; the claim-3 comparisons run at equal
    /// depth, width and budget (8 cycle-mask against 8 checkerboard couplings with the
    /// same st-networks; the RealNVP with against without a bottleneck, same blocks);
    /// negative training and the co-adaptation flow are included, and the embedding
    /// rows use a wider classifier. Evaluation covers all 10,000 FashionMNIST test
    /// images and every MNIST digit the flows never trained on.
    ///
    /// The OOD-scores table scores `realnvp_short` (the RealNVP on the comparisons'
    /// budget): its background flows and ensemble member train as long as the flow they
    /// accompany, which the main RealNVP's three epochs would multiply past the CPU
    /// budget. It adds its own flows' training to the run's wall time.
    pub fn standard() -> Self {
        let shape = [1, 28, 28];
        let train = cosine_train;
        let (mid, blocks) = (STANDARD_MID_CHANNELS, STANDARD_BLOCKS);
        let realnvp = ModelSpec {
            name: "realnvp".into(),
            description: format!(
                "RealNVP, 2 scales (checkerboard + channel-wise masks), {blocks} blocks of \
                 {mid} channels"
            ),
            flow: FlowConfig::realnvp(shape, 2, blocks, mid),
            train: train(STANDARD_REALNVP_STEPS, 64, STANDARD_LEARNING_RATE),
        };
        let mut bottleneck = realnvp.clone();
        bottleneck.name = "realnvp_bottleneck".into();
        bottleneck.description = format!(
            "RealNVP as above with a linear bottleneck of 16 in every st-network ({blocks} \
             blocks of {mid} channels)"
        );
        bottleneck.flow = with_bottleneck(bottleneck.flow);
        bottleneck.train = train(STANDARD_COMPARISON_STEPS, 64, STANDARD_LEARNING_RATE);
        let mut realnvp_baseline = realnvp.clone();
        realnvp_baseline.name = "realnvp_short".into();
        realnvp_baseline.description =
            "RealNVP as above, trained on the bottleneck flow's budget (its baseline)".into();
        realnvp_baseline.train = bottleneck.train.clone();
        let single = |name: &str, description: &str, schedule| ModelSpec {
            name: name.into(),
            description: description.into(),
            flow: FlowConfig::single_scale(shape, schedule, blocks, mid),
            train: train(STANDARD_COMPARISON_STEPS, 64, STANDARD_LEARNING_RATE),
        };
        let negative = Self::negative_model(&realnvp_baseline);
        let coadaptation = Self::coadaptation_model(
            train(STANDARD_COMPARISON_STEPS, 64, STANDARD_LEARNING_RATE),
            blocks,
            mid,
        );
        Self {
            name: "standard".into(),
            seed: 0,
            data: DataConfig::builtin(Dataset::FashionMnist),
            models: vec![
                realnvp,
                realnvp_baseline,
                bottleneck,
                single(
                    "cycle8",
                    "8 single-scale couplings, cycle mask",
                    MaskSchedule::cycle(8),
                ),
                single(
                    "checker8",
                    "8 single-scale couplings, checkerboard mask (baseline for cycle8)",
                    MaskSchedule::checkerboard(8),
                ),
                negative,
                coadaptation,
            ],
            eval: EvalSpec {
                batch_size: 250,
                in_test_limit: None,
                in_train_limit: Some(2000),
                ood_limit: None,
                synthetic: SyntheticSet::ALL.to_vec(),
                synthetic_limit: 1000,
                dequant_draws: 1,
                bootstrap_resamples: 500,
                samples: 36,
                temperature: 0.7,
            },
            embedding: Some(EmbeddingStudyConfig::standard()),
            scores: Some(ScoresStudyConfig::every_score(
                "realnvp_short",
                Some(STANDARD_TWIN_STEPS),
                StudySize::Cpu,
            )),
        }
    }

    /// `paper`: the reference configurations (RealNVP 2 scales, 6 blocks, 64 channels,
    /// Adam 5e-5, batch 32, 81 epochs; Glow 2 scales, 16 steps, highway 3 x 200, RMSprop
    /// 5e-5 with weight decay on every parameter), for a GPU.
    pub fn paper() -> Self {
        let epochs81 = 81 * 60_000 / 32;
        Self {
            name: "paper".into(),
            seed: 0,
            data: DataConfig::builtin(Dataset::FashionMnist),
            models: vec![
                ModelSpec {
                    name: "realnvp".into(),
                    description: "RealNVP, 2 scales, 6 blocks, 64 channels (reference)".into(),
                    flow: FlowConfig::paper_realnvp(),
                    train: TrainSpec {
                        steps: epochs81,
                        batch_size: 32,
                        optim: OptimConfig::default(),
                        negative: None,
                    },
                },
                ModelSpec {
                    name: "glow".into(),
                    description: "Glow, 2 scales, 16 steps per scale, highway 3 x 200".into(),
                    flow: FlowConfig::paper_glow(),
                    train: TrainSpec {
                        steps: epochs81,
                        batch_size: 32,
                        optim: OptimConfig::reference_glow(),
                        negative: None,
                    },
                },
            ],
            eval: EvalSpec {
                batch_size: 256,
                in_test_limit: None,
                in_train_limit: Some(10_000),
                ood_limit: None,
                synthetic: SyntheticSet::ALL.to_vec(),
                synthetic_limit: 2000,
                dequant_draws: 1,
                bootstrap_resamples: 1000,
                samples: 64,
                temperature: 0.7,
            },
            embedding: Some(EmbeddingStudyConfig::default()),
            scores: Some(ScoresStudyConfig::every_score(
                "realnvp",
                None,
                StudySize::Reference,
            )),
        }
    }
}

/// Training by maximum likelihood for `steps` steps of `batch_size` images, the rate
/// decaying from `learning_rate` along a cosine to [`STANDARD_FINAL_LR_FRACTION`] of it.
fn cosine_train(steps: u64, batch_size: usize, learning_rate: f64) -> TrainSpec {
    TrainSpec {
        steps,
        batch_size,
        optim: OptimConfig {
            learning_rate,
            schedule: LrSchedule::Cosine {
                steps,
                final_fraction: STANDARD_FINAL_LR_FRACTION,
            },
            ..OptimConfig::default()
        },
        negative: None,
    }
}

/// `flow`, a RealNVP, with a linear bottleneck of 16 in every st-network (claim 3);
/// other architectures unchanged.
fn with_bottleneck(mut flow: FlowConfig) -> FlowConfig {
    if let Architecture::RealNvp(arch) = &mut flow.architecture {
        arch.st_net = RealNvpStNet::ResnetBottleneck { latent: 16 };
    }
    flow
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_round_trip_through_toml() {
        for preset in Preset::ALL {
            let config = preset.config();
            assert_eq!(config.name, preset.name());
            let name = preset.name();
            let text = toml::to_string(&config).unwrap();
            let back: ExperimentConfig = toml::from_str(&text).unwrap();
            assert_eq!(back, config, "{name}");
        }
        assert!(ExperimentConfig::preset("huge").is_err());
    }
}
