//! Computes the OOD-scores table of one direction: every chosen score from one trained
//! flow, the flows the scores need trained through the same loop (with checkpoints, so
//! `--resume` continues them), hyper-parameters chosen on the validation pair only.

use crate::experiment::run::evaluation_seed;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::AutodiffModule;
use flow_core::FlowNet;
use flow_data::{mutate_pixels, BatchPlan, Batcher, ImageDataset};
use flow_kernels::FlowAutodiffBackend;
use flow_ood::scores::{
    entropy_estimate, fisher_statistic, input_complexity, per_input_gradients, typicality_distance,
    waic_of, Bandwidth, BatchTypicality, Codec, Dose, EmpiricalPValue, FisherAccumulator,
    FlowStatistics,
};
use flow_ood::units::Nats;
use flow_ood::Orientation;

use super::config::{ScoreKind, ScoresStudyConfig, ValidationOod};
use super::result::{DirectionScores, GridPoint, ScoreRow, ScoresResults};
use super::validation::{auroc_or_nan, held_out_problem, twin_in_train_limit, ValidationFit};
use crate::experiment::config::{ExperimentConfig, ModelSpec};
use crate::experiment::data::DataConfig;
use crate::experiment::detect::detect;
use crate::experiment::eval::{dequantized_statistics, evenly_spaced};
use crate::experiment::run::{
    eval_sets, load_data, model_seed, train_model, EvalSets, RunContext, RunData,
};
use crate::experiment::sets::{NamedSet, ScoredSets};
use crate::experiment::ExperimentError;
use flow_data::stream_seed;
use flow_train::{DecayScope, RunOptions, TrainConfig, Training};

/// Where and how the study runs: shared by both directions.
pub(in crate::experiment) struct StudyContext<'a, B: FlowAutodiffBackend> {
    /// The table's configuration.
    pub study: &'a ScoresStudyConfig,
    /// The run's configuration (evaluation batch size, bootstrap).
    pub config: &'a ExperimentConfig,
    /// The run's checkpoint folder.
    pub checkpoints: PathBuf,
    /// No progress bars.
    pub quiet: bool,
    /// The device.
    pub device: &'a B::Device,
}

/// One direction: a trained flow, its training data and the sets to score.
pub(in crate::experiment) struct Direction<'a, B: FlowAutodiffBackend> {
    /// The flow the scores use.
    pub flow: FlowNet<B>,
    /// Its specification (the extra flows copy it).
    pub spec: ModelSpec,
    /// Prefix of the extra flows' checkpoint folders (the model's name, or its twin's).
    pub name: String,
    /// Its seed.
    pub seed: u64,
    /// The in-distribution training split.
    pub train: &'a ImageDataset,
    /// The in-distribution training images the table's training set scored.
    pub in_train_indices: Vec<usize>,
    /// The table's sets.
    pub sets: &'a ScoredSets<NamedSet>,
    /// In-distribution and natural OOD dataset names.
    pub names: (String, String),
}

/// Per-set values of one score, by role.
type Values = ScoredSets<Vec<f64>>;

/// A row's name, kind and cost, before its metrics.
struct RowHead {
    score: String,
    single_sample: bool,
    orientation: Orientation,
    extra_seconds: f64,
}

impl RowHead {
    fn new(score: &str, orientation: Orientation, extra_seconds: f64) -> Self {
        Self {
            score: score.to_string(),
            single_sample: true,
            orientation,
            extra_seconds,
        }
    }
}

/// A score's values on the validation pair, to choose its hyper-parameters.
struct Calibration {
    /// On the held-out in-distribution training images.
    in_values: Vec<f64>,
    /// On their transformed copies.
    ood_values: Vec<f64>,
}

impl<B: FlowAutodiffBackend> StudyContext<'_, B> {
    /// The tables of the run: on the study's model as the run trained it, then (with
    /// `both_directions`) on its twin trained with the datasets swapped.
    pub(in crate::experiment) fn run_all(
        &self,
        data: &RunData,
        sets: &EvalSets,
        data_dir: Option<&Path>,
        dir: &Path,
    ) -> Result<ScoresResults, ExperimentError> {
        let config = self.config;
        let Some(spec) = config.models.iter().find(|m| m.name == self.study.model) else {
            return Err(ExperimentError::InvalidConfig(vec![format!(
                "scores.model `{}` is not one of the models",
                self.study.model
            )]));
        };
        let seed = model_seed(config.seed, &spec.name);
        // The run trained it already: this loads its finished checkpoint.
        let context = RunContext {
            dir,
            quiet: true,
            device: self.device,
        };
        let flow = train_model::<B>(spec, seed, &data.train, None, &context)?.model;
        let in_train_indices = evenly_spaced(data.train.len(), config.eval.in_train_limit);
        let mut directions = vec![self.run(Direction {
            flow,
            spec: spec.clone(),
            name: spec.name.clone(),
            seed,
            train: &data.train,
            in_train_indices,
            sets,
            names: (
                config.data.name.clone(),
                config.data.natural_ood_name().to_string(),
            ),
        })?];
        if self.study.both_directions {
            let Some(in_set) = config.data.builtin_pair() else {
                return Err(ExperimentError::InvalidConfig(vec![
                    "scores.both_directions: the swapped direction needs a built-in pair".into(),
                ]));
            };
            let swapped = in_set.other();
            let mut reverse = ExperimentConfig {
                data: DataConfig::builtin(swapped),
                models: Vec::new(),
                embedding: None,
                scores: None,
                ..config.clone()
            };
            let reverse_data = load_data(&reverse, data_dir)?;
            reverse.eval.in_train_limit = twin_in_train_limit(
                reverse_data.train.len(),
                config.eval.in_train_limit,
                self.study.validation_size,
            );
            // Before the twin trains: its table needs held-out images too.
            if let Some(problem) =
                held_out_problem(reverse_data.train.len(), reverse.eval.in_train_limit)
            {
                return Err(ExperimentError::InvalidConfig(vec![problem]));
            }
            let reverse_sets = eval_sets(&reverse, &reverse_data)?;
            let mut twin = spec.clone();
            // `realnvp_mnist`: the dataset's configuration name.
            twin.name = format!("{}_{}", spec.name, swapped.name().replace('-', "_"));
            twin.train.steps = self.study.twin_steps.unwrap_or(spec.train.steps);
            if let flow_train::LrSchedule::Cosine { steps, .. } = &mut twin.train.optim.schedule {
                *steps = twin.train.steps;
            }
            let twin_seed = model_seed(config.seed, &twin.name);
            eprintln!(
                "[scores] {}: the same flow trained on {} ({} steps)",
                twin.name,
                swapped.display_name(),
                twin.train.steps
            );
            let context = RunContext {
                quiet: self.quiet,
                ..context
            };
            let flow =
                train_model::<B>(&twin, twin_seed, &reverse_data.train, None, &context)?.model;
            let in_train_indices =
                evenly_spaced(reverse_data.train.len(), reverse.eval.in_train_limit);
            directions.push(self.run(Direction {
                flow,
                name: twin.name.clone(),
                spec: twin,
                seed: twin_seed,
                train: &reverse_data.train,
                in_train_indices,
                sets: &reverse_sets,
                names: (
                    swapped.display_name().to_string(),
                    swapped.other().display_name().to_string(),
                ),
            })?);
        }
        Ok(ScoresResults { directions })
    }

    /// The table of one direction.
    pub(in crate::experiment) fn run(
        &self,
        direction: Direction<'_, B>,
    ) -> Result<DirectionScores, ExperimentError> {
        let study = self.study;
        let flow = direction.flow.valid();
        let started = Instant::now();
        let (val_in, val_ood) = self.validation_pair(&direction)?;
        let score_seed = evaluation_seed(direction.seed);
        let stats = direction
            .sets
            .try_map(|set| self.statistics(&flow, &set.images, score_seed))?;
        let val_stats = (
            self.statistics(&flow, &val_in, score_seed)?,
            self.statistics(&flow, &val_ood, score_seed)?,
        );
        let base_seconds = started.elapsed().as_secs_f64();
        let log_p: Values = stats.map(|s| s.values[0].clone());
        let val_log_p = Calibration {
            in_values: val_stats.0.values[0].clone(),
            ood_values: val_stats.1.values[0].clone(),
        };
        let in_orientation = Orientation::HigherIsInDistribution;
        let ood_orientation = Orientation::HigherIsOutOfDistribution;
        let mut rows = vec![self.row(
            RowHead::new("log-likelihood", in_orientation, 0.0),
            &log_p,
            &direction,
        )?];

        let entropy = entropy_estimate(&log_p.in_train)?;
        let distance = |v: &Vec<f64>| -> Vec<f64> {
            v.iter().map(|&l| typicality_distance(l, entropy)).collect()
        };
        let typicality = log_p.map(distance);
        if study.has(ScoreKind::Typicality) {
            let head = RowHead::new("typicality", ood_orientation, 0.0);
            rows.push(self.row(head, &typicality, &direction)?);
        }
        if study.has(ScoreKind::TypicalityBatch) {
            for &m in &study.typicality_batch_sizes {
                let started = Instant::now();
                let test = BatchTypicality {
                    entropy,
                    batch_size: m,
                };
                let seed = stream_seed(direction.seed, &format!("typicality batches of {m}"));
                let batched = log_p.try_map(|v| test.statistics(v, (v.len() / m).max(50), seed))?;
                // The test as a test: a threshold bootstrapped from held-out training
                // images at a 5% false-rejection level.
                let threshold = test.threshold(&val_log_p.in_values, 1000, 0.05, seed)?;
                let rejected = |v: &[f64]| {
                    v.iter().filter(|&&s| s > threshold).count() as f64 / v.len().max(1) as f64
                };
                let chosen = format!(
                    "threshold from {} held-out training images at alpha 0.05 rejects {:.1}% \
                     of {} batches and {:.1}% of {} test batches",
                    val_log_p.in_values.len(),
                    100.0 * rejected(&batched.natural_ood),
                    direction.names.1,
                    100.0 * rejected(&batched.in_test),
                    direction.names.0
                );
                let mut head = RowHead::new(
                    &format!("typicality (batch test, M = {m})"),
                    ood_orientation,
                    started.elapsed().as_secs_f64(),
                );
                head.single_sample = false;
                let mut row = self.row(head, &batched, &direction)?;
                row.chosen = Some(chosen);
                rows.push(row);
            }
        }
        if study.has(ScoreKind::InputComplexity) {
            for codec in [Codec::Png, Codec::Deflate] {
                let started = Instant::now();
                let lengths = direction
                    .sets
                    .try_map(|set| compressed_lengths(&set.images, codec))?;
                let complexity = log_p.zip_with(&lengths, |l, c| {
                    l.iter()
                        .zip(c)
                        .map(|(&nats, &bits)| {
                            input_complexity(Nats(nats), flow_ood::units::Bits(bits)).value()
                        })
                        .collect()
                });
                let head = RowHead::new(
                    &format!("input complexity ({})", codec.name()),
                    ood_orientation,
                    started.elapsed().as_secs_f64(),
                );
                rows.push(self.row(head, &complexity, &direction)?);
            }
        }
        let dose = if study.has(ScoreKind::Dose) || study.has(ScoreKind::FisherCombination) {
            let (row, values) = self.dose(&flow, &stats, &val_stats, &direction)?;
            if study.has(ScoreKind::Dose) {
                rows.push(row.clone());
            }
            Some((row, values))
        } else {
            None
        };
        let mut background_grid = Vec::new();
        let mut background = None;
        if study.has(ScoreKind::LikelihoodRatio) {
            let (row, grid, chosen) =
                self.likelihood_ratio(&direction, &log_p, (&val_in, &val_ood), &val_log_p)?;
            rows.push(row);
            background_grid = grid;
            background = Some(chosen);
        }
        let mut ensemble = Vec::new();
        if study.has(ScoreKind::Waic) {
            let (row, members) = self.waic(&direction, &log_p)?;
            rows.push(row);
            ensemble = members;
        }
        let wants_gradients = [
            ScoreKind::GradientNorm,
            ScoreKind::ScoreStatistic,
            ScoreKind::FisherCombination,
        ]
        .iter()
        .any(|&k| study.has(k));
        if wants_gradients {
            let typicality_calibration = distance(&val_log_p.in_values);
            let tests = CombinationInputs {
                typicality: (&typicality, typicality_calibration),
                dose: dose
                    .as_ref()
                    .map(|(row, values)| (row.extra_seconds, values)),
            };
            rows.extend(self.gradient_rows(&direction, &val_in, tests)?);
        }
        Ok(DirectionScores {
            in_distribution: direction.names.0.clone(),
            out_of_distribution: direction.names.1.clone(),
            model: direction.name.clone(),
            steps: direction.spec.train.steps,
            base_seconds,
            validation: format!(
                "{} {} training images not among the scored training images, against the \
                 same images {}",
                val_in.len(),
                direction.names.0,
                study.validation.label()
            ),
            entropy_nats: entropy,
            background,
            ensemble,
            rows,
            background_grid,
        })
    }

    /// The validation pair: held-out in-distribution training images (not among the
    /// ones the table scores) and their transformed copies.
    fn validation_pair(
        &self,
        direction: &Direction<'_, B>,
    ) -> Result<(ImageDataset, ImageDataset), ExperimentError> {
        let scored: std::collections::HashSet<usize> =
            direction.in_train_indices.iter().copied().collect();
        let free: Vec<usize> = (0..direction.train.len())
            .filter(|i| !scored.contains(i))
            .collect();
        if let Some(problem) = held_out_problem(direction.train.len(), Some(scored.len())) {
            return Err(ExperimentError::InvalidConfig(vec![problem]));
        }
        let picked: Vec<usize> = evenly_spaced(free.len(), Some(self.study.validation_size))
            .into_iter()
            .map(|i| free[i])
            .collect();
        let val_in = direction.train.select(&picked)?;
        let seed = stream_seed(direction.seed, "validation set");
        let val_ood = match self.study.validation {
            ValidationOod::Synthetic(set) => set.generator().generate(&val_in, seed)?,
            ValidationOod::Mutated { mutation_rate } => {
                mutate_pixels(&val_in, mutation_rate, seed)?
            }
        };
        Ok((val_in, val_ood))
    }

    /// The traced statistics (log-likelihood first) of every image of `images`.
    fn statistics(
        &self,
        flow: &FlowNet<B::InnerBackend>,
        images: &ImageDataset,
        seed: u64,
    ) -> Result<FlowStatistics, ExperimentError> {
        dequantized_statistics(flow, images, self.config.eval.batch_size, seed, self.device)
    }

    /// The log-likelihood of every image of `images`.
    fn log_likelihoods(
        &self,
        flow: &FlowNet<B::InnerBackend>,
        images: &ImageDataset,
        seed: u64,
    ) -> Result<Vec<f64>, ExperimentError> {
        Ok(self.statistics(flow, images, seed)?.into_log_likelihood())
    }

    /// A row: the metrics of `values` on every OOD set against the in-distribution test
    /// set.
    fn row(
        &self,
        head: RowHead,
        values: &Values,
        direction: &Direction<'_, B>,
    ) -> Result<ScoreRow, ExperimentError> {
        let names = direction.sets.map(|set| set.name.clone());
        let ood_sets = names
            .ood()
            .zip(values.ood())
            .map(|(name, v)| (name.as_str(), v.as_slice()));
        let detection = detect(
            &head.score,
            &values.in_test,
            ood_sets,
            head.orientation,
            self.config,
            direction.seed,
        )?;
        Ok(ScoreRow {
            score: head.score,
            single_sample: head.single_sample,
            chosen: None,
            images_per_set: None,
            extra_seconds: head.extra_seconds,
            ood: detection.ood,
        })
    }

    /// DoSE with the bandwidth chosen on the validation pair: its row and its values
    /// (the table's sets, then the held-out in-distribution images for calibration).
    fn dose(
        &self,
        flow: &FlowNet<B::InnerBackend>,
        stats: &ScoredSets<FlowStatistics>,
        val_stats: &(FlowStatistics, FlowStatistics),
        direction: &Direction<'_, B>,
    ) -> Result<(ScoreRow, (Values, Vec<f64>)), ExperimentError> {
        let started = Instant::now();
        let orientation = Orientation::HigherIsInDistribution;
        let mut best: Option<(f64, ValidationFit)> = None;
        for &factor in &self.study.kde_bandwidth_factors {
            let dose = Dose::fit(flow, &stats.in_train, Bandwidth::Scott(factor))?;
            let fit = ValidationFit::of(
                &dose.score_statistics(&val_stats.0),
                &dose.score_statistics(&val_stats.1),
                orientation,
            );
            if best.is_none_or(|(_, b)| fit.beats(&b)) {
                best = Some((factor, fit));
            }
        }
        let (factor, fit) = best.unwrap_or((1.0, ValidationFit::UNRANKED));
        let dose = Dose::fit(flow, &stats.in_train, Bandwidth::Scott(factor))?;
        let values = stats.map(|s| dose.score_statistics(s));
        let calibration = dose.score_statistics(&val_stats.0);
        let head = RowHead::new("DoSE (KDE)", orientation, started.elapsed().as_secs_f64());
        let mut row = self.row(head, &values, direction)?;
        row.chosen = Some(format!(
            "bandwidth {factor} x Scott's rule, {} statistics ({})",
            dose.statistics_used(),
            fit.describe()
        ));
        Ok((row, (values, calibration)))
    }

    /// Trains (or resumes, or loads when finished) an extra flow of the direction's
    /// architecture on `data`, with `decay` weight decay on every parameter when given.
    fn extra_flow(
        &self,
        direction: &Direction<'_, B>,
        name: &str,
        data: &ImageDataset,
        decay: Option<f64>,
    ) -> Result<FlowNet<B>, ExperimentError> {
        let spec = &direction.spec;
        let mut optim = spec.train.optim.clone();
        if let Some(decay) = decay {
            optim.weight_decay = decay;
            optim.decay_scope = DecayScope::All;
        }
        let steps = spec.train.steps;
        let train = TrainConfig {
            seed: stream_seed(direction.seed, name),
            batch_size: spec.train.batch_size,
            epochs: None,
            max_steps: Some(steps),
            optim,
        };
        let options = RunOptions {
            checkpoint_dir: Some(self.checkpoints.join(name)),
            checkpoint_every: Some((steps / 10).clamp(1, 500)),
            quiet: self.quiet,
            label: Some(name.to_string()),
            ..RunOptions::default()
        };
        let outcome = Training::new(&spec.flow, &train, data)
            .options(options)
            .start_or_resume::<B>(self.device)
            .map_err(|source| ExperimentError::Train {
                model: name.to_string(),
                source,
            })?;
        Ok(outcome.model)
    }

    /// The likelihood ratio against the background flow chosen on the validation pair,
    /// and every background's validation and oracle AUROC.
    fn likelihood_ratio(
        &self,
        direction: &Direction<'_, B>,
        log_p: &Values,
        (val_in, val_ood): (&ImageDataset, &ImageDataset),
        val_log_p: &Calibration,
    ) -> Result<(ScoreRow, Vec<GridPoint>, String), ExperimentError> {
        let started = Instant::now();
        let orientation = Orientation::HigherIsInDistribution;
        let seed = evaluation_seed(direction.seed);
        let oracle_in = evenly_spaced(log_p.in_test.len(), Some(self.study.gradient_limit));
        let natural = &direction.sets.natural_ood.images;
        let oracle_ood = evenly_spaced(natural.len(), Some(self.study.gradient_limit));
        let oracle_sets = (
            direction.sets.in_test.images.select(&oracle_in)?,
            natural.select(&oracle_ood)?,
        );
        let mut grid = Vec::new();
        let mut best: Option<(usize, ValidationFit, FlowNet<B::InnerBackend>, String)> = None;
        for &rate in &self.study.mutation_rates {
            for &decay in &self.study.weight_decays {
                let name = format!("{}_background_mu{rate}_wd{decay}", direction.name);
                let mutated =
                    mutate_pixels(direction.train, rate, stream_seed(direction.seed, &name))?;
                let background = self
                    .extra_flow(direction, &name, &mutated, Some(decay))?
                    .valid();
                let ratio = |fg: &[f64], bg: Vec<f64>| -> Vec<f64> {
                    fg.iter().zip(bg).map(|(f, b)| f - b).collect()
                };
                let validation = ValidationFit::of(
                    &ratio(
                        &val_log_p.in_values,
                        self.log_likelihoods(&background, val_in, seed)?,
                    ),
                    &ratio(
                        &val_log_p.ood_values,
                        self.log_likelihoods(&background, val_ood, seed)?,
                    ),
                    orientation,
                );
                let pick =
                    |v: &[f64], idx: &[usize]| -> Vec<f64> { idx.iter().map(|&i| v[i]).collect() };
                let oracle = auroc_or_nan(
                    &ratio(
                        &pick(&log_p.in_test, &oracle_in),
                        self.log_likelihoods(&background, &oracle_sets.0, seed)?,
                    ),
                    &ratio(
                        &pick(&log_p.natural_ood, &oracle_ood),
                        self.log_likelihoods(&background, &oracle_sets.1, seed)?,
                    ),
                    orientation,
                );
                grid.push(GridPoint {
                    setting: format!("mu {rate}, weight decay {decay}"),
                    validation_auroc: validation.auroc,
                    validation_separation: Some(validation.separation).filter(|s| s.is_finite()),
                    oracle_natural_auroc: oracle,
                });
                if best.as_ref().is_none_or(|(_, b, _, _)| validation.beats(b)) {
                    best = Some((grid.len() - 1, validation, background, name));
                }
            }
        }
        let Some((chosen, validation, background, background_name)) = best else {
            return Err(ExperimentError::InvalidConfig(vec![
                "scores: the likelihood ratio needs at least one background setting".into(),
            ]));
        };
        let background_log_p = direction
            .sets
            .try_map(|set| self.log_likelihoods(&background, &set.images, seed))?;
        let values = log_p.zip_with(&background_log_p, |f, b| {
            f.iter().zip(b).map(|(f, b)| f - b).collect()
        });
        let head = RowHead::new(
            "likelihood ratio",
            orientation,
            started.elapsed().as_secs_f64(),
        );
        let mut row = self.row(head, &values, direction)?;
        row.chosen = Some(format!(
            "{} of {} background flows ({})",
            grid[chosen].setting,
            grid.len(),
            validation.describe()
        ));
        Ok((row, grid, background_name))
    }

    /// WAIC over the direction's flow (whose log-likelihoods are `log_p`) and
    /// `ensemble_size - 1` more trained from their own seeds.
    fn waic(
        &self,
        direction: &Direction<'_, B>,
        log_p: &Values,
    ) -> Result<(ScoreRow, Vec<String>), ExperimentError> {
        let started = Instant::now();
        let seed = evaluation_seed(direction.seed);
        // The direction's own flow is the first member.
        let mut per_member: ScoredSets<Vec<Vec<f64>>> = log_p.map(|v| vec![v.clone()]);
        let mut names = vec![direction.name.clone()];
        for k in 1..self.study.ensemble_size {
            let name = format!("{}_member{k}", direction.name);
            names.push(name.clone());
            let member = self
                .extra_flow(direction, &name, direction.train, None)?
                .valid();
            let log_p = direction
                .sets
                .try_map(|set| self.log_likelihoods(&member, &set.images, seed))?;
            per_member = per_member.zip_with(&log_p, |members, values| {
                let mut members = members.clone();
                members.push(values.clone());
                members
            });
        }
        let values = per_member.map(|members| waic_of(members));
        let head = RowHead::new(
            "WAIC",
            Orientation::HigherIsInDistribution,
            started.elapsed().as_secs_f64(),
        );
        let mut row = self.row(head, &values, direction)?;
        row.chosen = Some(format!(
            "the flow and {} more of {} steps, each from its own seed",
            self.study.ensemble_size.saturating_sub(1),
            direction.spec.train.steps
        ));
        Ok((row, names))
    }

    /// The gradient norm, the score statistic and Fisher's combination, on the first
    /// `gradient_limit` images of each set (evenly spread).
    fn gradient_rows(
        &self,
        direction: &Direction<'_, B>,
        val_in: &ImageDataset,
        tests: CombinationInputs<'_>,
    ) -> Result<Vec<ScoreRow>, ExperimentError> {
        let started = Instant::now();
        let limit = self.study.gradient_limit;
        let subsets = direction
            .sets
            .map(|set| evenly_spaced(set.images.len(), Some(limit)));
        let calibration_subset = evenly_spaced(val_in.len(), Some(limit));
        // The Fisher diagonal from the scored training images, streamed: a gradient is
        // as long as the flow has parameters.
        let mut fisher = FisherAccumulator::default();
        let train_norms = self.gradients(
            direction,
            &direction.sets.in_train.images,
            &subsets.in_train,
            |g| Ok(fisher.add(g).map(|()| norm(g))?),
        )?;
        let fisher = fisher.finish()?;
        let score_stats = |images: &ImageDataset, subset: &[usize]| {
            self.gradients(direction, images, subset, |g| {
                Ok((norm(g), fisher.quadratic_form(g)))
            })
        };
        let measured = direction
            .sets
            .try_zip_with(&subsets, |set, subset| score_stats(&set.images, subset))?;
        let calibration = score_stats(val_in, &calibration_subset)?;
        let gradient_seconds = started.elapsed().as_secs_f64();
        let mut norms = measured.map(|v| v.iter().map(|(n, _)| *n).collect::<Vec<f64>>());
        norms.in_train = train_norms;
        let stats = measured.map(|v| v.iter().map(|(_, s)| *s).collect::<Vec<f64>>());
        let ood = Orientation::HigherIsOutOfDistribution;
        let mut rows = Vec::new();
        let images = Some(limit);
        if self.study.has(ScoreKind::GradientNorm) {
            let mut row = self.row(
                RowHead::new("gradient norm", ood, gradient_seconds),
                &norms,
                direction,
            )?;
            row.images_per_set = images;
            rows.push(row);
        }
        if self.study.has(ScoreKind::ScoreStatistic) {
            let head = RowHead::new("score statistic (diagonal Fisher)", ood, gradient_seconds);
            let mut row = self.row(head, &stats, direction)?;
            row.images_per_set = images;
            row.chosen = Some(format!(
                "Fisher diagonal from {} training images",
                subsets.in_train.len()
            ));
            rows.push(row);
        }
        if let (true, Some((dose_seconds, dose))) =
            (self.study.has(ScoreKind::FisherCombination), tests.dose)
        {
            let pick =
                |v: &[f64], idx: &[usize]| -> Vec<f64> { idx.iter().map(|&i| v[i]).collect() };
            let components = [
                (
                    Orientation::HigherIsOutOfDistribution,
                    tests.typicality.0.zip_with(&subsets, |v, idx| pick(v, idx)),
                    pick(&tests.typicality.1, &calibration_subset),
                ),
                (
                    Orientation::HigherIsOutOfDistribution,
                    stats.clone(),
                    calibration.iter().map(|(_, s)| *s).collect(),
                ),
                (
                    Orientation::HigherIsInDistribution,
                    dose.0.zip_with(&subsets, |v, idx| pick(v, idx)),
                    pick(&dose.1, &calibration_subset),
                ),
            ];
            let mut combined: Values = subsets.map(|idx| vec![0.0; idx.len()]);
            for (orientation, values, calibration) in &components {
                let p = EmpiricalPValue::fit(*orientation, calibration)?;
                combined = combined.zip_with(values, |total, v| {
                    total
                        .iter()
                        .zip(v)
                        .map(|(t, &v)| t + fisher_statistic([p.p_value(v)]))
                        .collect()
                });
            }
            let head = RowHead::new(
                "Fisher combination (typicality, score statistic, DoSE)",
                ood,
                gradient_seconds + dose_seconds,
            );
            let mut row = self.row(head, &combined, direction)?;
            row.images_per_set = images;
            row.chosen = Some(format!(
                "p-values calibrated on {} held-out training images",
                calibration_subset.len()
            ));
            rows.push(row);
        }
        Ok(rows)
    }

    /// `measure` of the gradient of `log p` of each image `subset` of `images` picks,
    /// in small batches (one backward pass per image).
    fn gradients<T>(
        &self,
        direction: &Direction<'_, B>,
        images: &ImageDataset,
        subset: &[usize],
        mut measure: impl FnMut(&[f64]) -> Result<T, ExperimentError>,
    ) -> Result<Vec<T>, ExperimentError> {
        let picked = images.select(subset)?;
        let plan = BatchPlan::sequential(picked.len(), GRADIENT_BATCH)?;
        let mut batcher = Batcher::dequantized(evaluation_seed(direction.seed));
        let mut out = Vec::with_capacity(picked.len());
        for indices in plan.batches() {
            let batch = batcher.batch::<B>(&picked, indices, self.device)?;
            for g in per_input_gradients(&direction.flow, "gradient", batch.images)? {
                out.push(measure(&g)?);
            }
        }
        Ok(out)
    }
}

/// Images per gradient call: each holds a full gradient per image until measured.
const GRADIENT_BATCH: usize = 8;

/// What Fisher's combination combines: each test's values on the table's sets and on
/// the held-out calibration images.
struct CombinationInputs<'a> {
    /// Typicality distances: on the sets, and on the held-out images.
    typicality: (&'a Values, Vec<f64>),
    /// DoSE, when computed: its cost, and its values on the sets and the held-out
    /// images.
    dose: Option<(f64, &'a (Values, Vec<f64>))>,
}

/// The L2 norm of `g`.
fn norm(g: &[f64]) -> f64 {
    g.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// The compressed length in bits of every image of `images`.
fn compressed_lengths(images: &ImageDataset, codec: Codec) -> Result<Vec<f64>, ExperimentError> {
    let shape = images.shape();
    let dims = [shape.channels, shape.height, shape.width];
    images
        .pixels()
        .chunks_exact(shape.len().max(1))
        .map(|pixels| Ok(codec.compressed_bits(pixels, dims)?.value()))
        .collect()
}
