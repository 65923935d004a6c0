//! The user's-own-data path through the command line itself: `cargo xtask experiment
//! --config` trains on `.npy` arrays named in the configuration's `[data]`, `cargo xtask
//! score` scores another array with the run's flow and prints the metrics, and images of
//! the wrong shape stop the command with a message naming the file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use flow_data::formats::npy::{encode_npy, NpyArray, NpyData};

const SIDE: usize = 8;

/// `n` gray 8x8 images: smooth ramps (`noisy` false) or hashed noise.
fn write_images(dir: &Path, name: &str, n: usize, noisy: bool) -> PathBuf {
    let pixels = (0..n * SIDE * SIDE)
        .map(|k| {
            let (i, p) = (k / (SIDE * SIDE), k % (SIDE * SIDE));
            if noisy {
                ((k * 2_654_435_761) >> 7) as u8
            } else {
                ((p * 4) as u8).saturating_add(((i * 7 + p * 3) % 9) as u8)
            }
        })
        .collect();
    let array = NpyArray::new(vec![n, SIDE, SIDE], NpyData::U8(pixels)).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, encode_npy(&array)).unwrap();
    path
}

fn xtask(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The three arrays of a run, in `root`.
fn write_data(root: &Path) {
    write_images(root, "train.npy", 32, false);
    write_images(root, "test.npy", 8, false);
    write_images(root, "noise.npy", 8, true);
}

/// A tiny configuration: one RealNVP on 1x8x8 images, paths relative to the folder the
/// command runs in.
const CONFIG: &str = r#"
name = "tiny"
seed = 0

[data]
name = "ramps"
train = { kind = "npy", path = "train.npy" }
test = { kind = "npy", path = "test.npy" }
ood = [{ name = "noise", kind = "npy", path = "noise.npy" }]

[[models]]
name = "realnvp"
description = "RealNVP on 8x8 ramps"

[models.flow]
input_shape = [1, 8, 8]

[models.flow.architecture]
type = "real_nvp"
scales = 2
blocks = 1
mid_channels = 4
batch_norm = true

[models.flow.architecture.st_net]
type = "resnet"

[models.train]
steps = 4
batch_size = 8

[models.train.optim]
learning_rate = 0.002
grad_clip_norm = 100.0
weight_decay = 0.00005
epsilon = 0.00000001
beta_1 = 0.9
beta_2 = 0.999

[eval]
batch_size = 8
in_train_limit = 16
synthetic = ["flip_vertical"]
synthetic_limit = 8
dequant_draws = 1
bootstrap_resamples = 20
samples = 4
temperature = 0.7
"#;

#[test]
fn the_command_trains_on_arrays_and_scores_another() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_data(root);
    std::fs::write(root.join("tiny.toml"), CONFIG).unwrap();

    let experiment = [
        "experiment",
        "--config",
        "tiny.toml",
        "--results-dir",
        "results",
        "--quiet",
    ];
    let trained = xtask(&experiment, root);
    assert!(trained.status.success(), "{}", text(&trained));
    let runs: Vec<PathBuf> = std::fs::read_dir(root.join("results"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("report.md").is_file())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = runs[0].to_str().unwrap();

    let score = [
        "score",
        "--run",
        run,
        "--model",
        "realnvp",
        "--images",
        "noise.npy",
        "--out",
        "noise.csv",
        "--quiet",
    ];
    let scored = xtask(&score, root);
    assert!(scored.status.success(), "{}", text(&scored));
    let csv = std::fs::read_to_string(root.join("noise.csv")).unwrap();
    assert_eq!(csv.lines().count(), 9, "a header and 8 rows: {csv}");

    let detect = [
        "score",
        "--run",
        run,
        "--model",
        "realnvp",
        "--in",
        "test.npy",
        "--ood",
        "noise.npy",
        "--bootstrap",
        "20",
        "--quiet",
    ];
    let metrics = xtask(&detect, root);
    assert!(metrics.status.success(), "{}", text(&metrics));
    assert!(text(&metrics).contains("AUROC"), "{}", text(&metrics));
}

#[test]
fn images_of_another_shape_stop_the_command_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_data(root);
    let wrong = CONFIG.replace("input_shape = [1, 8, 8]", "input_shape = [1, 28, 28]");
    std::fs::write(root.join("wrong.toml"), wrong).unwrap();
    let experiment = [
        "experiment",
        "--config",
        "wrong.toml",
        "--results-dir",
        "results",
        "--quiet",
    ];
    let failed = xtask(&experiment, root);
    assert!(!failed.status.success());
    let message = text(&failed);
    assert!(
        message.contains("train.npy") && message.contains("[1, 28, 28]"),
        "{message}"
    );
    let left = std::fs::read_dir(root.join("results")).map_or(0, |d| d.count());
    assert_eq!(left, 0, "no run folder is left behind");
}
