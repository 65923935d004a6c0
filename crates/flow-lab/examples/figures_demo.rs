//! Writes one of each figure kind from synthetic data, to look at them:
//! `cargo run -p flow-lab --example figures_demo -- /tmp/figs`
//! (the directory defaults to `figures-demo` and is created if missing).

use std::path::PathBuf;

use flow_lab::figures::{
    bar_png, histogram_png, image_grid_png, labelled_grid_png, labelled_grid_with_header_png,
    line_png, roc_png, Curve, Image, Normalise, Series,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "figures-demo".into()),
    );
    std::fs::create_dir_all(&dir)?;
    let mut rng = StdRng::seed_from_u64(7);

    // Bits/dim of a flow trained on FashionMNIST: OOD digits look *more* likely.
    let train = gaussian(&mut rng, 20_000, 2.95, 0.28);
    let test = gaussian(&mut rng, 10_000, 3.02, 0.30);
    let mut mnist = gaussian(&mut rng, 10_000, 2.10, 0.35);
    mnist[..5].copy_from_slice(&[f64::NAN, f64::NAN, f64::INFINITY, 40.0, 55.0]);
    histogram_png(
        &dir.join("histogram.png"),
        "RealNVP trained on FashionMNIST",
        "bits/dim (lower = more likely)",
        &[
            Series::new("FashionMNIST train", train),
            Series::new("FashionMNIST test", test.clone()),
            Series::new("MNIST", mnist.clone()),
        ],
        80,
    )?;

    // Log-likelihood scores, in-distribution positive: one OOD set scored higher than the
    // in-distribution test set (AUROC near 0.3), one far lower (near 0.9).
    let in_dist = gaussian(&mut rng, 5_000, 0.0, 1.0);
    let mut curves = Vec::new();
    for (name, mean) in [("MNIST", 0.75), ("noise", -1.8)] {
        let ood = gaussian(&mut rng, 5_000, mean, 1.0);
        let (points, auroc) = roc(&in_dist, &ood);
        curves.push(Curve::new(format!("{name} (AUROC {auroc:.3})"), points));
    }
    roc_png(&dir.join("roc.png"), "FashionMNIST test vs OOD", &curves)?;

    let mut level = 6.0;
    let mut train_curve = Vec::new();
    let mut test_curve = Vec::new();
    for step in 0..=3000 {
        level = 3.0 + (level - 3.0) * 0.9985;
        let noisy = level + rng.random_range(-0.15..0.15);
        train_curve.push((step as f64, noisy));
        if step % 250 == 0 {
            test_curve.push((step as f64, level + 0.08));
        }
    }
    line_png(
        &dir.join("training.png"),
        "Training curve",
        "step",
        "bits/dim",
        &[
            Curve::new("train (per batch)", train_curve),
            Curve::new("test", test_curve),
        ],
    )?;

    let layers: Vec<String> = (1..=3)
        .map(|i| format!("coupling {i} (checkerboard)"))
        .chain((4..=6).map(|i| format!("coupling {i} (channel)")))
        .chain(["logit".to_string(), "prior".to_string()])
        .collect();
    let fashion: Vec<f64> = vec![310.0, 280.0, 190.0, 420.0, 150.0, 90.0, -1250.0, -2430.0];
    let digits: Vec<f64> = vec![520.0, 470.0, 300.0, 610.0, 260.0, 140.0, -1580.0, -1900.0];
    bar_png(
        &dir.join("bars_layers.png"),
        "Mean contribution to log p(x) per layer",
        "nats",
        &layers,
        &[
            Series::new("FashionMNIST test", fashion),
            Series::new("MNIST", digits),
        ],
    )?;
    let short: Vec<String> = ["AUROC", "AUPR-In", "AUPR-Out", "FPR@95"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    bar_png(
        &dir.join("bars_short.png"),
        "Metric change against the baseline",
        "difference",
        &short,
        &[
            Series::new("cycle mask", vec![0.12, 0.08, 0.15, -0.21]),
            Series::new("bottleneck", vec![0.05, -0.02, 0.04, -0.07]),
            Series::new("embeddings", vec![0.55, 0.47, 0.51, -0.88]),
        ],
    )?;

    let samples: Vec<Image> = (0..16).map(|_| blob_image(&mut rng)).collect();
    image_grid_png(
        &dir.join("samples.png"),
        &samples,
        8,
        3,
        Normalise::Fixed(0.0, 1.0),
    )?;
    image_grid_png(
        &dir.join("latents.png"),
        &samples
            .iter()
            .map(|img| noisy_latent(&mut rng, img))
            .collect::<Vec<_>>(),
        8,
        3,
        Normalise::PerImage,
    )?;
    let rows: Vec<(String, Vec<Image>)> = ["FashionMNIST", "MNIST"]
        .iter()
        .zip(samples.chunks(4))
        .map(|(name, imgs)| {
            let maps = imgs
                .iter()
                .enumerate()
                .map(|(layer, img)| checkerboard_s(img, layer % 2))
                .collect();
            (name.to_string(), maps)
        })
        .collect();
    labelled_grid_png(&dir.join("s_maps.png"), &rows, 4, Normalise::Symmetric)?;
    let layers: Vec<String> = (1..=4).map(|l| format!("coupling {l}")).collect();
    labelled_grid_with_header_png(
        &dir.join("s_maps_header.png"),
        &layers,
        &rows,
        3,
        Normalise::Symmetric,
    )?;
    println!("wrote figures to {}", dir.display());
    Ok(())
}

/// `n` draws of N(mean, sd) by the Box–Muller transform.
fn gaussian(rng: &mut StdRng, n: usize, mean: f64, sd: f64) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let u: f64 = rng.random_range(f64::EPSILON..1.0);
            let v: f64 = rng.random();
            mean + sd * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        })
        .collect()
}

/// ROC points (FPR, TPR) and AUROC with `pos` the in-distribution scores (higher = more
/// in-distribution), sweeping the threshold down through every score.
fn roc(pos: &[f64], neg: &[f64]) -> (Vec<(f64, f64)>, f64) {
    let mut all: Vec<(f64, bool)> = pos
        .iter()
        .map(|&s| (s, true))
        .chain(neg.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (p, n) = (pos.len() as f64, neg.len() as f64);
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut points = vec![(0.0, 0.0)];
    let mut area = 0.0;
    for (_, is_pos) in all {
        if is_pos {
            tp += 1.0;
        } else {
            fp += 1.0;
            area += tp / p / n;
        }
        points.push((fp / n, tp / p));
    }
    (points, area)
}

/// A 28x28 grey image of a few soft blobs with noise, in 0..1.
fn blob_image(rng: &mut StdRng) -> Image {
    let blobs: Vec<(f32, f32, f32)> = (0..3)
        .map(|_| {
            (
                rng.random_range(6.0..22.0),
                rng.random_range(6.0..22.0),
                rng.random_range(2.0..6.0),
            )
        })
        .collect();
    let mut px = Vec::with_capacity(28 * 28);
    for y in 0..28 {
        for x in 0..28 {
            let v: f32 = blobs
                .iter()
                .map(|&(bx, by, r)| {
                    (-((x as f32 - bx).powi(2) + (y as f32 - by).powi(2)) / (2.0 * r * r)).exp()
                })
                .sum::<f32>()
                + rng.random_range(-0.05..0.05);
            px.push(v.clamp(0.0, 1.0));
        }
    }
    Image::grey(28, 28, px)
}

/// A latent-like map: the image's edges plus Gaussian-ish noise, on an arbitrary scale.
fn noisy_latent(rng: &mut StdRng, img: &Image) -> Image {
    let w = img.width;
    let px = (0..img.pixels.len())
        .map(|i| {
            let right = if (i + 1) % w != 0 {
                img.pixels[i + 1]
            } else {
                img.pixels[i]
            };
            (right - img.pixels[i]) * 12.0 + rng.random_range(-1.0..1.0)
        })
        .collect();
    Image::grey(w, img.height, px)
}

/// An s map of a checkerboard coupling: zero on the conditioning half, signed elsewhere.
fn checkerboard_s(img: &Image, parity: usize) -> Image {
    let w = img.width;
    let px = img
        .pixels
        .iter()
        .enumerate()
        .map(|(i, v)| {
            if (i / w + i % w) % 2 == parity {
                0.0
            } else {
                (v - 0.3) * 2.0
            }
        })
        .collect();
    Image::grey(w, img.height, px)
}
