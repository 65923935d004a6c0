//! Scoring a user's images with a trained flow through the library: a folder of PNGs and
//! a .npy array give the same rows as the flow's own log-likelihood, and every bad input
//! is an error naming what is wrong before anything is written.

// The training tests' fixtures, shared with flow-train.
#[path = "../../flow-train/tests/train_support/mod.rs"]
mod train_support;

use std::path::{Path, PathBuf};

use flow_data::formats::npy::{encode_npy, NpyArray, NpyData};
use flow_lab::device::BackendJob;
use flow_lab::device::BackendKind;
use flow_lab::score::{ScoreInputs, ScoreJob, ScoreModel};
use train_support::{trained_checkpoint, B};

fn job(checkpoint: &Path, images: &Path, out: Option<PathBuf>) -> ScoreJob {
    ScoreJob {
        model: ScoreModel::Checkpoint(checkpoint.to_path_buf()),
        images: ScoreInputs::Images(images.to_path_buf()),
        out,
        batch_size: 4,
        seed: 0,
        bootstrap_resamples: 50,
        quiet: true,
    }
}

/// `n` gray 4x4 images as a (N, H, W) uint8 array.
fn npy_images(dir: &Path, name: &str, n: usize, side: usize) -> PathBuf {
    let pixels = (0..n * side * side).map(|i| (i * 37 % 256) as u8).collect();
    let array = NpyArray::new(vec![n, side, side], NpyData::U8(pixels)).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, encode_npy(&array)).unwrap();
    path
}

#[test]
fn a_folder_and_an_array_of_the_same_images_score_the_same() {
    let (_run, checkpoint) = trained_checkpoint();
    let data = tempfile::tempdir().unwrap();
    let array = npy_images(data.path(), "images.npy", 5, 4);
    // The same five images as PNG files, named so that they sort in the same order.
    let folder = data.path().join("pngs");
    std::fs::create_dir(&folder).unwrap();
    let pixels: Vec<u8> = (0..5 * 16).map(|i| (i * 37 % 256) as u8).collect();
    for (i, image) in pixels.chunks(16).enumerate() {
        let gray = image::GrayImage::from_raw(4, 4, image.to_vec()).unwrap();
        gray.save(folder.join(format!("img{i}.png"))).unwrap();
    }
    let out = data.path().join("scores.csv");
    let from_array = job(&checkpoint, &array, Some(out.clone()))
        .run::<B>(BackendKind::Flex, Default::default())
        .unwrap();
    let from_folder = job(&checkpoint, &folder, None)
        .run::<B>(BackendKind::Flex, Default::default())
        .unwrap();
    assert_eq!(from_array.rows.len(), 5);
    for (a, f) in from_array.rows.iter().zip(&from_folder.rows) {
        assert_eq!(a.log_likelihood, f.log_likelihood);
        assert!(a.log_likelihood.is_finite());
        // bits/dim is -log p / (D ln 2), D = 16.
        let expected = -a.log_likelihood / (16.0 * std::f64::consts::LN_2);
        assert!((a.bits_per_dim - expected).abs() < 1e-9);
    }
    assert_eq!(from_folder.rows[2].name, "img2.png");
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_eq!(csv.lines().count(), 6, "{csv}");
    assert!(
        csv.starts_with(
            "image,log_likelihood_nats,bits_per_dim,input_complexity_png,\
             input_complexity_deflate\n\"#0\","
        ),
        "{csv}"
    );
    // Every other score of a bare checkpoint: input complexity, from the same
    // log-likelihood and the image's compressed length.
    assert_eq!(from_array.columns.len(), 4);
    assert!(from_array.rows.iter().all(|r| r.others.len() == 2));
}

#[test]
fn bad_inputs_are_errors_before_anything_is_written() {
    let (_run, checkpoint) = trained_checkpoint();
    let data = tempfile::tempdir().unwrap();
    let out = data.path().join("scores.csv");
    let fail = |job: ScoreJob| {
        job.run::<B>(BackendKind::Flex, Default::default())
            .expect_err("an error")
            .to_string()
    };
    // Images of another shape than the flow's (8x8 into a 4x4 flow).
    let wrong = npy_images(data.path(), "wrong.npy", 2, 8);
    let err = fail(job(&checkpoint, &wrong, Some(out.clone())));
    assert!(err.contains("1x8x8") && err.contains("1x4x4"), "{err}");
    // An output folder that does not exist, an output that is not .csv or .npy.
    let right = npy_images(data.path(), "right.npy", 2, 4);
    let err = fail(job(
        &checkpoint,
        &right,
        Some(data.path().join("no/such/out.csv")),
    ));
    assert!(err.contains("does not exist"), "{err}");
    let err = fail(job(&checkpoint, &right, Some(data.path().join("out.txt"))));
    assert!(err.contains(".csv or .npy"), "{err}");
    // A truncated checkpoint.
    let bytes = std::fs::read(&checkpoint).unwrap();
    let cut = data.path().join("cut.flowckpt");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = fail(job(&cut, &right, Some(out.clone())));
    assert!(err.contains("cut.flowckpt"), "{err}");
    // A file that is not images.
    let text = data.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let err = fail(job(&checkpoint, &text, Some(out.clone())));
    assert!(err.contains("notes.txt"), "{err}");
    assert!(!out.exists(), "a failed score left {}", out.display());
}

#[test]
fn in_and_ood_sets_give_every_scores_metrics() {
    let (_run, checkpoint) = trained_checkpoint();
    let data = tempfile::tempdir().unwrap();
    let in_images = npy_images(data.path(), "in.npy", 12, 4);
    // Constant images: far simpler than the in-distribution ramps.
    let flat = NpyArray::new(vec![10, 4, 4], NpyData::U8(vec![200; 160])).unwrap();
    let ood_images = data.path().join("ood.npy");
    std::fs::write(&ood_images, encode_npy(&flat)).unwrap();
    let out = data.path().join("both.csv");
    let mut both = job(&checkpoint, &in_images, Some(out.clone()));
    both.images = ScoreInputs::InAndOod {
        in_images: in_images.clone(),
        ood_images,
    };
    let output = both
        .run::<B>(BackendKind::Flex, Default::default())
        .unwrap();
    assert_eq!(output.rows.len(), 22);
    assert_eq!(output.rows[0].set, Some("in"));
    assert_eq!(output.rows[21].set, Some("ood"));
    // Every column but bits/dim, which ranks as the log-likelihood does.
    assert_eq!(output.detection.len(), output.columns.len() - 1);
    for d in &output.detection {
        assert_eq!((d.metrics.n_in, d.metrics.n_ood), (12, 10), "{}", d.score);
        let auroc = &d.metrics.auroc;
        assert!((0.0..=1.0).contains(&auroc.value), "{}", d.score);
        assert!(auroc.interval.is_some(), "{}", d.score);
    }
    // An OOD row's input complexity is its flow code length less its PNG length.
    let png = flow_ood::scores::Codec::Png
        .compressed_bits(&[200; 16], [1, 4, 4])
        .unwrap();
    let row = &output.rows[21];
    let expected = -row.log_likelihood / std::f64::consts::LN_2 - png.value();
    assert!((row.others[0] - expected).abs() < 1e-9, "{row:?}");
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(csv.starts_with("image,set,log_likelihood_nats"), "{csv}");
}
