//! Running the embedding study.

use flow_kernels::FlowAutodiffBackend;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::AutodiffModule;
use flow_data::ImageDataset;
use flow_embed::{
    accuracy, embed_images, fit_classifier, fit_flow, log_prob_embeddings,
    ClassConditionalGaussian, Classifier, ClassifierConfig, ClassifierTrainConfig, EmbedError,
    Embeddings, FitProgress, FlowFitConfig, GaussianFit, TabularFlowConfig,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

use super::cache::{classifier_cache_key, classifier_cache_path};
use super::{EmbeddingStudyConfig, EmbeddingStudyError};

/// The three detectors the study compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    /// The tabular flow's log-likelihood of the embedding, in nats.
    EmbeddingFlow,
    /// Minus the squared Mahalanobis distance to one Gaussian fitted to all training
    /// embeddings.
    Mahalanobis,
    /// Minus the squared Mahalanobis distance to the nearest class mean under a shared
    /// covariance (Lee et al. 2018).
    ClassConditionalMahalanobis,
}

impl Detector {
    /// All three, in report order.
    pub const ALL: [Detector; 3] = [
        Detector::EmbeddingFlow,
        Detector::Mahalanobis,
        Detector::ClassConditionalMahalanobis,
    ];

    /// A short name for tables and file names.
    pub fn name(self) -> &'static str {
        match self {
            Detector::EmbeddingFlow => "embedding-flow",
            Detector::Mahalanobis => "embedding-mahalanobis",
            Detector::ClassConditionalMahalanobis => "embedding-class-mahalanobis",
        }
    }

    /// What its score is, in one line.
    pub fn description(self) -> &'static str {
        match self {
            Detector::EmbeddingFlow => {
                "tabular RealNVP on classifier embeddings; score = log-likelihood (nats)"
            }
            Detector::Mahalanobis => {
                "one Gaussian on classifier embeddings; score = -Mahalanobis^2"
            }
            Detector::ClassConditionalMahalanobis => {
                "class-conditional Gaussians, shared covariance (Lee et al. 2018); score = -min over classes of Mahalanobis^2"
            }
        }
    }
}

/// One detector's scores on every set; higher always means more in-distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorScores {
    /// Which detector.
    pub detector: Detector,
    /// Scores of the scored subset of the training set.
    pub in_train: Vec<f64>,
    /// Scores of the in-distribution test set.
    pub in_test: Vec<f64>,
    /// Scores of each OOD set, by name, in the order given.
    pub ood: Vec<(String, Vec<f64>)>,
}

/// The feature extractor, as used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierSummary {
    /// Its architecture.
    pub config: ClassifierConfig,
    /// How it was trained.
    pub train: ClassifierTrainConfig,
    /// Trainable parameters.
    pub params: usize,
    /// Training images.
    pub train_images: usize,
    /// Accuracy on the in-distribution test set.
    pub test_accuracy: f64,
    /// Whether it was loaded from the cache rather than trained in this run.
    pub cached: bool,
    /// Its file in the cache.
    pub file: PathBuf,
    /// Training time in seconds (0 when cached).
    pub train_seconds: f64,
    /// Training images per second (0 when cached).
    pub train_images_per_sec: f64,
}

/// The tabular flow, as fitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowSummary {
    /// Its architecture.
    pub config: TabularFlowConfig,
    /// How it was fitted.
    pub fit: FlowFitConfig,
    /// Trainable parameters.
    pub params: usize,
    /// Training embeddings it was fitted on.
    pub fit_embeddings: usize,
    /// Mean training loss (nats per embedding) over the last tenth of the steps.
    pub final_loss_nats: f64,
    /// Mean log-likelihood (nats) of the in-distribution test embeddings.
    pub test_log_likelihood: f64,
}

/// Wall time per stage, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StageTimings {
    /// Training (or loading) the classifier and measuring its test accuracy.
    pub classifier: f64,
    /// Extracting and writing the embeddings.
    pub embed: f64,
    /// Fitting the tabular flow.
    pub flow_fit: f64,
    /// Fitting the two Gaussian baselines.
    pub baselines_fit: f64,
    /// Scoring every set with the three detectors.
    pub scoring: f64,
    /// The whole study.
    pub total: f64,
}

/// Everything but the scores: small enough for a results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingStudySummary {
    /// The configuration that ran.
    pub config: EmbeddingStudyConfig,
    /// The feature extractor.
    pub classifier: ClassifierSummary,
    /// The tabular flow.
    pub flow: FlowSummary,
    /// Wall time per stage.
    pub timings: StageTimings,
    /// The `.npy` files written, relative to the output folder.
    pub embedding_files: Vec<String>,
}

/// The study's outcome: the summary and every detector's scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingStudy {
    /// Configuration, accuracy, sizes, timings, files.
    pub summary: EmbeddingStudySummary,
    /// One entry per detector, in [`Detector::ALL`] order.
    pub detectors: Vec<DetectorScores>,
}

impl EmbeddingStudy {
    /// The scores of `detector`.
    pub fn scores(&self, detector: Detector) -> Option<&DetectorScores> {
        self.detectors.iter().find(|d| d.detector == detector)
    }
}

/// The images of an embedding study.
#[derive(Debug, Clone, Copy)]
pub struct StudyData<'a> {
    /// The in-distribution training set (the classifier's and the flow's).
    pub train: &'a ImageDataset,
    /// The in-distribution test set.
    pub test: &'a ImageDataset,
    /// Named OOD sets.
    pub ood: &'a [(&'a str, &'a ImageDataset)],
}

/// Runs the embedding study (see the [module docs](super)) on `data`.
///
/// - `cache_dir`: where trained classifiers are kept (created if missing);
/// - `out_dir`: where `embeddings/*.npy` are written (created if missing);
/// - `quiet`: no progress bars or log lines.
///
/// # Errors
/// [`EmbeddingStudyError`] naming the stage that failed.
pub fn run_embedding_study<B: FlowAutodiffBackend>(
    config: &EmbeddingStudyConfig,
    data: StudyData<'_>,
    cache_dir: &Path,
    out_dir: &Path,
    quiet: bool,
    device: &B::Device,
) -> Result<EmbeddingStudy, EmbeddingStudyError> {
    let StudyData { train, test, ood } = data;
    config.validate()?;
    let started = Instant::now();
    let log = |line: String| {
        if !quiet {
            eprintln!("{line}");
        }
    };

    // Classifier: from the cache, or trained and cached.
    let classifier_subset;
    let classifier_train = match config.classifier_train_limit {
        Some(limit) => {
            classifier_subset = train.select(&evenly_spaced(train.len(), limit))?;
            &classifier_subset
        }
        None => train,
    };
    let key = classifier_cache_key(
        &config.classifier,
        &config.classifier_train,
        classifier_train,
    );
    let file = classifier_cache_path(cache_dir, &key);
    let (classifier, cached, train_seconds) =
        classifier_from_cache_or_training::<B>(config, classifier_train, &file, quiet, device)?;
    let test_accuracy = accuracy(&classifier, test, config.eval_batch_size, device)
        .map_err(EmbeddingStudyError::Classifier)?;
    log(format!(
        "    classifier: test accuracy {:.4}{}",
        test_accuracy,
        if cached {
            format!(" (cached: {})", file.display())
        } else {
            format!(", {train_seconds:.0} s training")
        }
    ));
    let classifier_done = started.elapsed().as_secs_f64();

    // Embeddings, written as .npy.
    let embed = |name: &str, data: &ImageDataset| {
        embed_images(&classifier, data, config.eval_batch_size, device).map_err(|source| {
            EmbeddingStudyError::Embeddings {
                set: name.to_string(),
                source,
            }
        })
    };
    let fit_subset;
    let fit_set = match config.fit_limit {
        Some(limit) => {
            fit_subset = train.select(&evenly_spaced(train.len(), limit))?;
            &fit_subset
        }
        None => train,
    };
    let fit_embeddings = embed("train", fit_set)?;
    let in_train = fit_embeddings
        .select(&evenly_spaced(fit_embeddings.len(), config.in_train_scored))
        .map_err(|source| EmbeddingStudyError::Embeddings {
            set: "train".into(),
            source,
        })?;
    let test_embeddings = embed("test", test)?;
    let mut ood_embeddings = Vec::with_capacity(ood.len());
    for (name, data) in ood {
        ood_embeddings.push((name.to_string(), embed(name, data)?));
    }
    let emb_dir = out_dir.join("embeddings");
    std::fs::create_dir_all(&emb_dir).map_err(|source| EmbeddingStudyError::Io {
        path: emb_dir.clone(),
        source,
    })?;
    let mut embedding_files = Vec::new();
    let named = [("train", &fit_embeddings), ("test", &test_embeddings)]
        .into_iter()
        .map(|(n, e)| (n.to_string(), e))
        .chain(ood_embeddings.iter().map(|(n, e)| (n.clone(), e)));
    for (name, emb) in named {
        let stem = file_stem(&name);
        let values = format!("embeddings/{stem}.npy");
        let labels = format!("embeddings/{stem}_labels.npy");
        emb.write_npy(&out_dir.join(&values), Some(&out_dir.join(&labels)))
            .map_err(|source| EmbeddingStudyError::Embeddings {
                set: name.clone(),
                source,
            })?;
        embedding_files.push(values);
        embedding_files.push(labels);
    }
    let embed_done = started.elapsed().as_secs_f64();

    // The tabular flow.
    let steps = fit_embeddings
        .len()
        .div_ceil(config.flow_fit.batch_size.max(1))
        * config.flow_fit.epochs;
    let bar = progress_bar(steps as u64, "embedding flow", quiet);
    let mut losses = Vec::with_capacity(steps);
    let flow = fit_flow::<B>(
        &config.flow,
        &config.flow_fit,
        &fit_embeddings,
        device,
        |p: &FitProgress| {
            losses.push(p.loss);
            bar.set_position(p.step);
            bar.set_message(format!(
                "{:.3} nats, {:.0} embeddings/s",
                p.loss, p.samples_per_sec
            ));
        },
    );
    bar.finish_and_clear();
    let flow = flow.map_err(EmbeddingStudyError::Flow)?.valid();
    let flow_done = started.elapsed().as_secs_f64();

    // The baselines.
    let baseline = |detector| move |source| EmbeddingStudyError::Baseline { detector, source };
    let gaussian =
        GaussianFit::fit(&fit_embeddings, config.ridge).map_err(baseline("mahalanobis"))?;
    let class_gaussian = ClassConditionalGaussian::fit(&fit_embeddings, config.ridge)
        .map_err(baseline("class-conditional mahalanobis"))?;
    let baselines_done = started.elapsed().as_secs_f64();

    // Scores.
    let score = |detector: Detector, emb: &Embeddings| -> Result<Vec<f64>, EmbedError> {
        match detector {
            Detector::EmbeddingFlow => {
                log_prob_embeddings(&flow, emb, config.eval_batch_size, device)
            }
            Detector::Mahalanobis => gaussian.scores(emb),
            Detector::ClassConditionalMahalanobis => class_gaussian.scores(emb),
        }
    };
    let mut detectors = Vec::with_capacity(3);
    for detector in Detector::ALL {
        let fail = |set: &str| {
            let set = set.to_string();
            move |source| EmbeddingStudyError::Embeddings { set, source }
        };
        let mut ood_scores = Vec::with_capacity(ood_embeddings.len());
        for (name, emb) in &ood_embeddings {
            ood_scores.push((name.clone(), score(detector, emb).map_err(fail(name))?));
        }
        detectors.push(DetectorScores {
            detector,
            in_train: score(detector, &in_train).map_err(fail("train"))?,
            in_test: score(detector, &test_embeddings).map_err(fail("test"))?,
            ood: ood_scores,
        });
    }
    let total = started.elapsed().as_secs_f64();

    let tail = (losses.len() / 10).max(1).min(losses.len().max(1));
    let final_loss_nats = losses.iter().rev().take(tail).sum::<f64>() / tail as f64;
    let test_log_likelihood =
        detectors[0].in_test.iter().sum::<f64>() / detectors[0].in_test.len().max(1) as f64;
    log(format!(
        "    embedding flow: {:.0} s fit on {} embeddings; test log-likelihood {:.1} nats",
        flow_done - embed_done,
        fit_embeddings.len(),
        test_log_likelihood
    ));
    let summary = EmbeddingStudySummary {
        config: config.clone(),
        classifier: ClassifierSummary {
            config: config.classifier.clone(),
            train: config.classifier_train.clone(),
            params: config.classifier.num_params(),
            train_images: classifier_train.len(),
            test_accuracy,
            cached,
            file,
            train_seconds,
            train_images_per_sec: if cached {
                0.0
            } else {
                (classifier_train.len() * config.classifier_train.epochs) as f64
                    / train_seconds.max(1e-9)
            },
        },
        flow: FlowSummary {
            config: config.flow.clone(),
            fit: config.flow_fit.clone(),
            params: config.flow.num_params(),
            fit_embeddings: fit_embeddings.len(),
            final_loss_nats,
            test_log_likelihood,
        },
        timings: StageTimings {
            classifier: classifier_done,
            embed: embed_done - classifier_done,
            flow_fit: flow_done - embed_done,
            baselines_fit: baselines_done - flow_done,
            scoring: total - baselines_done,
            total,
        },
        embedding_files,
    };
    Ok(EmbeddingStudy { summary, detectors })
}

/// The cached classifier at `file` if it loads; otherwise one trained now and cached
/// there. Returns the inference model, whether it came from the cache, and the
/// training time.
fn classifier_from_cache_or_training<B: FlowAutodiffBackend>(
    config: &EmbeddingStudyConfig,
    data: &ImageDataset,
    file: &Path,
    quiet: bool,
    device: &B::Device,
) -> Result<(Classifier<B::InnerBackend>, bool, f64), EmbeddingStudyError> {
    if file.exists() {
        match Classifier::<B::InnerBackend>::load(file, device) {
            // The key covers the configuration; comparing it guards against a hash collision.
            Ok(model) if model.config() == &config.classifier => return Ok((model, true, 0.0)),
            Ok(_) => {
                if !quiet {
                    eprintln!(
                        "    {}: a different classifier under this key; training anew",
                        file.display()
                    );
                }
            }
            Err(e) => {
                if !quiet {
                    eprintln!("    cached classifier unusable ({e}); training anew");
                }
            }
        }
    }
    let steps = data
        .len()
        .div_ceil(config.classifier_train.batch_size.max(1))
        * config.classifier_train.epochs;
    let bar = progress_bar(steps as u64, "classifier", quiet);
    let started = Instant::now();
    let model = fit_classifier::<B>(
        &config.classifier,
        &config.classifier_train,
        data,
        device,
        |p: &FitProgress| {
            bar.set_position(p.step);
            bar.set_message(format!(
                "loss {:.3}, batch accuracy {:.2}, {:.0} images/s",
                p.loss,
                p.batch_accuracy.unwrap_or(f64::NAN),
                p.samples_per_sec
            ));
        },
    );
    bar.finish_and_clear();
    let model = model.map_err(EmbeddingStudyError::Classifier)?.valid();
    let seconds = started.elapsed().as_secs_f64();
    model.save(file).map_err(EmbeddingStudyError::Classifier)?;
    Ok((model, false, seconds))
}

/// A bar on stderr, hidden when quiet or when stderr is not a terminal.
fn progress_bar(total: u64, label: &str, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{prefix}[{elapsed_precise}] {bar:30} step {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix(format!("{label} "));
    bar
}

/// `count` indices spread evenly over `0..len` (all of them when `count >= len`).
fn evenly_spaced(len: usize, count: usize) -> Vec<usize> {
    if count >= len {
        return (0..len).collect();
    }
    (0..count).map(|i| i * len / count).collect()
}

/// A file-name-safe version of a set's name: lower case, runs of anything but letters
/// and digits turned into one `-`.
fn file_stem(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "set".into()
    } else {
        trimmed.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(file_stem("MNIST"), "mnist");
        assert_eq!(
            file_stem("FashionMNIST test / flipped"),
            "fashionmnist-test-flipped"
        );
        assert_eq!(file_stem("../"), "set");
    }

    #[test]
    fn evenly_spaced_covers_the_range() {
        assert_eq!(evenly_spaced(10, 5), vec![0, 2, 4, 6, 8]);
        assert_eq!(evenly_spaced(3, 5), vec![0, 1, 2]);
    }
}
