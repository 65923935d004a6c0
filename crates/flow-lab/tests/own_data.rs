//! A user's own images through the experiment: a run trains on a folder of PNGs, scores
//! a test folder and a `.npy` OOD set named in the configuration, and its flow then
//! scores another folder; bad data is an error naming the file before any run folder is
//! made.

use std::path::{Path, PathBuf};

use flow_core::FlowConfig;
use flow_data::formats::npy::{encode_npy, NpyArray, NpyData};
use flow_lab::device::{BackendJob, BackendKind};
use flow_lab::experiment::scores::{ScoreKind, ScoresStudyConfig, StudySize};
use flow_lab::experiment::{
    DataConfig, DataSource, ExperimentConfig, ExperimentJob, ExperimentOptions, ModelSpec,
    NamedSource, Preset, SyntheticSet,
};
use flow_lab::score::{ScoreInputs, ScoreJob, ScoreModel};

type B = burn::backend::Autodiff<burn::backend::Flex>;

const SIDE: u32 = 8;

/// Pixels of image `i`: one of two smooth ramps with a little deterministic jitter.
fn ramp(i: usize) -> Vec<u8> {
    (0..(SIDE * SIDE) as usize)
        .map(|p| {
            let ramp = (p * 4) as u8;
            let base = if i.is_multiple_of(2) {
                ramp
            } else {
                252 - ramp
            };
            base.saturating_add(((i * 7 + p * 3) % 9) as u8)
        })
        .collect()
}

/// A folder of `n` gray PNG ramps.
fn png_folder(root: &Path, name: &str, n: usize, offset: usize) -> PathBuf {
    let folder = root.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..n {
        let image = image::GrayImage::from_raw(SIDE, SIDE, ramp(i + offset)).unwrap();
        image.save(folder.join(format!("img{i:03}.png"))).unwrap();
    }
    folder
}

/// A folder of `n` RGB PNG ramps (red and blue the ramp, green its mirror).
fn rgb_folder(root: &Path, name: &str, n: usize) -> PathBuf {
    let folder = root.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..n {
        let (a, b) = (ramp(i), ramp(i + 1));
        let pixels = a.iter().zip(&b).flat_map(|(&x, &y)| [x, y, x]).collect();
        let image = image::RgbImage::from_raw(SIDE, SIDE, pixels).unwrap();
        image.save(folder.join(format!("img{i:03}.png"))).unwrap();
    }
    folder
}

/// `n` images of noise as an (N, H, W) uint8 array.
fn noise_npy(root: &Path, n: usize) -> PathBuf {
    let side = SIDE as usize;
    let pixels = (0..n * side * side)
        .map(|i| ((i * 2_654_435_761) >> 7) as u8)
        .collect();
    let array = NpyArray::new(vec![n, side, side], NpyData::U8(pixels)).unwrap();
    let path = root.join("noise.npy");
    std::fs::write(&path, encode_npy(&array)).unwrap();
    path
}

/// A tiny run on `data`: one RealNVP on 1x8x8 images, the flips as a synthetic set,
/// typicality and input complexity in one direction.
fn tiny_config(data: DataConfig) -> ExperimentConfig {
    let smoke = Preset::Smoke.config();
    let mut train = smoke.models[0].train.clone();
    train.steps = 4;
    train.batch_size = 8;
    let mut eval = smoke.eval.clone();
    // The rest of the 32 training images are the scores' validation pair.
    eval.in_train_limit = Some(16);
    eval.in_test_limit = None;
    eval.ood_limit = None;
    eval.synthetic = vec![SyntheticSet::FlipVertical];
    eval.batch_size = 8;
    eval.bootstrap_resamples = 20;
    eval.samples = 4;
    let mut scores = ScoresStudyConfig::every_score("tiny", None, StudySize::Tiny);
    scores.scores = vec![ScoreKind::Typicality, ScoreKind::InputComplexity];
    scores.both_directions = false;
    scores.validation_size = 4;
    ExperimentConfig {
        name: "own".into(),
        seed: 0,
        data,
        models: vec![ModelSpec {
            name: "tiny".into(),
            description: "RealNVP on 8x8 ramps".into(),
            flow: FlowConfig::realnvp([1, SIDE as usize, SIDE as usize], 2, 1, 4),
            train,
        }],
        eval,
        embedding: None,
        scores: Some(scores),
    }
}

/// The sources of a run on the folders and array under `root`.
fn own_sources(root: &Path) -> DataConfig {
    DataConfig {
        name: "ramps".into(),
        train: DataSource::ImageFolder {
            path: png_folder(root, "train", 32, 0),
            channels: None,
        },
        test: DataSource::ImageFolder {
            path: png_folder(root, "test", 8, 100),
            channels: None,
        },
        ood: vec![NamedSource {
            name: "noise".into(),
            source: DataSource::Npy {
                path: noise_npy(root, 8),
            },
        }],
    }
}

/// Runs `config`; a failure as its message.
fn run(config: ExperimentConfig, results: &Path) -> Result<PathBuf, String> {
    let job = ExperimentJob {
        config,
        options: ExperimentOptions {
            data_dir: None,
            results_dir: results.to_path_buf(),
            run_id: None,
            quiet: true,
        },
    };
    job.run::<B>(BackendKind::Flex, Default::default())
        .map(|(dir, _)| dir)
        .map_err(|e| e.to_string())
}

#[test]
fn a_run_trains_on_a_folder_and_its_flow_scores_another() {
    let root = tempfile::tempdir().unwrap();
    let data = own_sources(root.path());
    let results = root.path().join("results");
    let dir = run(tiny_config(data), &results).unwrap();

    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("ramps"), "the report names the data");
    assert!(report.contains("noise"), "and the OOD set");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["in_distribution"], "ramps");
    assert_eq!(json["config"]["data"]["train"]["kind"], "image_folder");
    let sets = json["models"][0]["sets"].as_array().unwrap();
    // Train, test, the natural OOD set and the flips.
    assert_eq!(sets.len(), 4);
    assert_eq!(sets[2]["name"], "noise");
    assert!(sets[1]["mean_bits_per_dim"].as_f64().unwrap().is_finite());
    let scores = json["scores"]["directions"].as_array().unwrap();
    assert_eq!(scores.len(), 1, "one direction on the user's data");

    // The run's flow scores a folder it never saw.
    let unseen = png_folder(root.path(), "unseen", 5, 200);
    let out = root.path().join("unseen.csv");
    let scored = ScoreJob {
        model: ScoreModel::Run {
            dir: dir.clone(),
            model: "tiny".into(),
        },
        images: ScoreInputs::Images(unseen),
        out: Some(out.clone()),
        batch_size: 4,
        seed: 0,
        bootstrap_resamples: 20,
        quiet: true,
    }
    .run::<B>(BackendKind::Flex, Default::default())
    .unwrap();
    assert_eq!(scored.rows.len(), 5);
    assert!(scored.rows.iter().all(|r| r.log_likelihood.is_finite()));
    let csv = std::fs::read_to_string(out).unwrap();
    assert_eq!(csv.lines().count(), 6, "a header and one row per image");
    assert!(csv.lines().nth(1).unwrap().starts_with("\"img000.png\""));
    let header = csv.lines().next().unwrap();
    assert!(
        header.contains("typicality") && header.contains("input_complexity_png"),
        "the run's scores: {header}"
    );
}

/// What `results` holds after a failed run (nothing, when the error came first).
fn entries(results: &Path) -> usize {
    std::fs::read_dir(results).map_or(0, |d| d.count())
}

#[test]
fn images_that_do_not_fit_the_flow_fail_before_a_run_folder_exists() {
    let root = tempfile::tempdir().unwrap();
    let mut config = tiny_config(own_sources(root.path()));
    config.models[0].flow = FlowConfig::realnvp([1, 28, 28], 2, 1, 4);
    let results = root.path().join("results");
    let error = run(config, &results).unwrap_err().to_string();
    assert!(
        error.contains("holds 1x8x8 images but model `tiny` takes [1, 28, 28]"),
        "{error}"
    );
    assert!(error.contains("train"), "names the set: {error}");
    assert_eq!(entries(&results), 0);
}

#[test]
fn a_missing_empty_or_misdeclared_source_is_named() {
    let root = tempfile::tempdir().unwrap();
    let results = root.path().join("results");

    let mut empty = own_sources(root.path());
    let hollow = root.path().join("hollow");
    std::fs::create_dir(&hollow).unwrap();
    empty.test = DataSource::ImageFolder {
        path: hollow.clone(),
        channels: None,
    };
    let error = run(tiny_config(empty), &results).unwrap_err().to_string();
    assert!(error.contains("hollow"), "{error}");

    let mut misdeclared = own_sources(root.path());
    let folder = root.path().join("train");
    misdeclared.ood[0].source = DataSource::Npy {
        path: folder.clone(),
    };
    let error = run(tiny_config(misdeclared), &results)
        .unwrap_err()
        .to_string();
    assert!(error.contains(&folder.display().to_string()), "{error}");

    let mut not_a_folder = own_sources(root.path());
    let npy = root.path().join("noise.npy");
    not_a_folder.train = DataSource::ImageFolder {
        path: npy,
        channels: None,
    };
    let error = run(tiny_config(not_a_folder), &results)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("expected a folder of PNG or JPEG images"),
        "{error}"
    );
    assert_eq!(entries(&results), 0);
}

#[test]
fn a_scores_table_without_held_out_training_images_is_refused_by_name() {
    let root = tempfile::tempdir().unwrap();
    let mut config = tiny_config(own_sources(root.path()));
    config.eval.in_train_limit = None;
    let results = root.path().join("results");
    let error = run(config, &results).unwrap_err().to_string();
    assert!(error.contains("eval.in_train_limit below 31"), "{error}");
    assert_eq!(entries(&results), 0, "refused before anything is trained");
}

#[test]
fn studies_that_need_the_builtin_pair_are_refused_on_other_data() {
    let root = tempfile::tempdir().unwrap();
    let mut config = tiny_config(own_sources(root.path()));
    if let Some(scores) = config.scores.as_mut() {
        scores.both_directions = true;
    }
    let error = run(config, &root.path().join("results"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("scores.both_directions"), "{error}");
}

#[test]
fn colour_images_train_a_three_channel_flow_and_draw_its_figures() {
    let root = tempfile::tempdir().unwrap();
    let data = DataConfig {
        name: "colour ramps".into(),
        train: DataSource::ImageFolder {
            path: rgb_folder(root.path(), "train", 16),
            channels: None,
        },
        test: DataSource::ImageFolder {
            path: rgb_folder(root.path(), "test", 8),
            channels: None,
        },
        ood: vec![NamedSource {
            name: "gray ramps as colour".into(),
            source: DataSource::ImageFolder {
                path: png_folder(root.path(), "gray", 8, 50),
                channels: Some(3),
            },
        }],
    };
    let mut config = tiny_config(data);
    config.models[0].flow = FlowConfig::realnvp([3, SIDE as usize, SIDE as usize], 2, 1, 4);
    config.scores = None;
    let dir = run(config, &root.path().join("results")).unwrap();
    let figures: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".png"))
        .collect();
    assert!(
        figures.iter().any(|f| f.contains("samples")),
        "the samples grid is drawn in colour too: {figures:?}"
    );
}
