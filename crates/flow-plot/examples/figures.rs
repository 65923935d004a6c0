//! Writes one of each figure kind from synthetic data, to look at them:
//! `cargo run -p flow-plot --example figures -- /tmp/figs`
//! (the directory defaults to `figures-demo` and is created if missing).

use std::path::PathBuf;

use flow_plot::{
    bar_png, bar_png_from_colour, histogram_png, image_grid_png, labelled_grid_png,
    labelled_grid_with_header_png, line_png, panel_figure_png, roc_png, ColourKey, Curve, Image,
    Normalise, Panel, PanelFigure, PanelRow, Series,
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
            Series::new("FashionMNIST train", train.clone()),
            Series::new("FashionMNIST test", test.clone()),
            Series::new("MNIST", mnist.clone()),
        ],
        80,
    )?;

    // Negative training: MNIST pushed out to hundreds of bits/dim, nine sets in all.
    let far = gaussian(&mut rng, 1_000, 480.0, 160.0);
    let mut sets = vec![
        Series::new("FashionMNIST train", train[..400].to_vec()),
        Series::new("FashionMNIST test", test[..1000].to_vec()),
        Series::new(
            "MNIST (held out)",
            far.iter().map(|v| v.abs() + 20.0).collect(),
        ),
    ];
    for (name, mean, sd) in [
        ("uniform noise", 5.4, 0.05),
        ("Gaussian noise", 4.9, 0.08),
        ("constant", 1.2, 0.4),
        ("inverted", 3.9, 0.3),
        ("flipped left-right", 3.0, 0.3),
        ("flipped up-down", 3.05, 0.3),
    ] {
        sets.push(Series::new(name, gaussian(&mut rng, 200, mean, sd)));
    }
    histogram_png(
        &dir.join("histogram_far_tail.png"),
        "realnvp_negative: bits/dim per image",
        "bits/dim (lower = more likely)",
        &sets,
        60,
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
    many_layers(&dir, &mut rng)?;
    palette(&dir)?;
    panels(&dir, &samples)?;
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

/// The layers chart of a RealNVP: 22 long layer names, nine sets, and the gain chart
/// that leaves out the first set but keeps the colours of the others.
fn many_layers(dir: &std::path::Path, rng: &mut StdRng) -> Result<(), Box<dyn std::error::Error>> {
    let names: Vec<String> = (0..2)
        .flat_map(|s| {
            (0..3)
                .map(move |i| format!("scale{s}.checkerboard{i}"))
                .chain((0..3).map(move |i| format!("scale{s}.channel{i}")))
        })
        .chain((0..4).map(|i| format!("scale2.checkerboard{i}")))
        .chain(["preprocess".to_string(), "prior".to_string()])
        .collect();
    let sets = [
        "FashionMNIST test",
        "MNIST (held out)",
        "uniform noise",
        "Gaussian noise",
        "constant",
        "inverted",
        "flipped left-right",
        "flipped up-down",
        "a set with a rather long name",
    ];
    let groups: Vec<Series> = sets
        .iter()
        .map(|name| {
            Series::new(
                *name,
                names
                    .iter()
                    .map(|_| rng.random_range(-400.0..900.0))
                    .collect(),
            )
        })
        .collect();
    bar_png(
        &dir.join("bars_layers_many.png"),
        "realnvp: mean contribution of each layer's log-det and of the prior to log p(x) \
         (constant -2174 nats not shown)",
        "nats per image",
        &names,
        &groups,
    )?;
    bar_png_from_colour(
        &dir.join("bars_layer_gain.png"),
        "realnvp: per-layer gain in log p(x) of each OOD set over FashionMNIST test",
        "nats per image (> 0: the OOD set gains here)",
        &names,
        &groups[1..],
        1,
    )?;
    Ok(())
}

/// Twelve curves, one per palette colour, to see that none repeats.
fn palette(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let curves: Vec<Curve> = (0..12)
        .map(|k| {
            Curve::new(
                format!("series {k}"),
                (0..50)
                    .map(|i| (i as f64, k as f64 + (i as f64 / 8.0).sin()))
                    .collect(),
            )
        })
        .collect();
    line_png(
        &dir.join("palette.png"),
        "Twelve series, twelve colours",
        "x",
        "y",
        &curves,
    )?;
    Ok(())
}

/// A coupling-layer figure and a mask figure, as the explanation figures draw them.
fn panels(dir: &std::path::Path, samples: &[Image]) -> Result<(), Box<dyn std::error::Error>> {
    let div = Normalise::Diverging { limit: 1.0 };
    let mut rows = vec![PanelRow {
        label: "input x".into(),
        panels: vec![
            None,
            None,
            Some(Panel::new(samples[0].clone(), Normalise::Fixed(0.0, 1.0))),
            None,
            None,
            Some(Panel::new(samples[1].clone(), Normalise::Fixed(0.0, 1.0))),
        ],
    }];
    for layer in 0..4 {
        let s0 = checkerboard_s(&samples[0], layer % 2);
        let s1 = checkerboard_s(&samples[1], layer % 2);
        rows.push(PanelRow {
            label: format!("scale0.checkerboard{layer}  s ±0.7  t ±1.6"),
            panels: vec![
                Some(Panel::new(s0.clone(), div)),
                Some(Panel::new(s1.clone(), div)),
                Some(Panel::new(samples[0].clone(), Normalise::PerImage)),
                Some(Panel::new(s1, div)),
                Some(Panel::new(s0, div)),
                Some(Panel::new(samples[1].clone(), Normalise::PerImage)),
            ],
        });
    }
    let cols: Vec<String> = ["s", "t", "output", "s", "t", "output"]
        .iter()
        .map(|c| c.to_string())
        .collect();
    panel_figure_png(
        &dir.join("panel_couplings.png"),
        &PanelFigure {
            title: "realnvp: coupling layers, s, t and output for an in- and an OOD image".into(),
            column_groups: vec![
                ("FashionMNIST test image".into(), 3),
                ("MNIST image".into(), 3),
            ],
            columns: cols,
            rows,
            notes: vec![
                "Each coupling computes y = (x + t) exp(s) on the entries it transforms.".into(),
                "output: the flow's state after the layer, grey from its minimum to its maximum."
                    .into(),
            ],
            key: Some(ColourKey {
                caption: "s and t: one scale per row and map, full colour at the |value| in the row's label.".into(),
                ends: ["\u{2212}".into(), "0".into(), "+".into()],
            }),
            scale: 4,
        },
    )?;
    let mask = |q: usize| {
        Image::grey(
            8,
            8,
            (0..64)
                .map(|i| {
                    let (y, x) = (i / 8, i % 8);
                    if (y / 4) * 2 + (x / 4) == q {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect(),
        )
    };
    panel_figure_png(
        &dir.join("panel_masks.png"),
        &PanelFigure {
            title: "Masks".into(),
            columns: (0..4).map(|q| format!("layer {q}")).collect(),
            rows: vec![PanelRow {
                label: "cycle".into(),
                panels: (0..4)
                    .map(|q| Some(Panel::new(mask(q), Normalise::Fixed(0.0, 1.0))))
                    .collect(),
            }],
            notes: vec!["white: conditioned on; black: transformed".into()],
            scale: 8,
            ..PanelFigure::default()
        },
    )?;
    Ok(())
}
