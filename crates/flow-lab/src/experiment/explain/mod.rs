//! Figures that show *why* a flow scores as it does (paper, sections 5 and 6): the
//! latent space on the pixel grid, the coupling layers' `s` and `t`, the per-layer
//! terms of `log p(x)`, co-adaptation in single-scale flows, and the mask schedules.
//!
//! Each figure costs one small forward pass (the per-layer terms none: they are
//! gathered while the sets are scored), so the experiment draws them for every model
//! it trains, and [`ExplainJob`] draws them for any saved checkpoint.

mod coadapt;
mod couplings;
mod job;
mod latent;
mod layers;
mod masks;

use flow_data::stream_seed;
use flow_kernels::FlowBackend;
use std::path::Path;
use std::time::Instant;

use burn::tensor::Tensor;
use flow_core::{FlowConfig, FlowNet};
use flow_data::{Batcher, ImageDataset};
use flow_plot::{ColourKey, Image, PanelFigure};

use super::eval::ScoredSet;
use super::run::{EvalSets, RunContext};
use super::sets::ScoredSets;
use super::{ExperimentError, ModelSpec};

pub use coadapt::{prediction_correlation, prediction_image, write_coadaptation_figure};
pub use couplings::write_coupling_figure;
pub use job::{ExplainJob, ExplainTarget};
pub use latent::write_latent_figure;
pub use layers::{layer_bars, layer_gain_bars, write_layer_figures, LayerBreakdown, LayerSums};
pub use masks::{mask_image, write_mask_figure};

/// The images the figures of one model are drawn for.
#[derive(Debug, Clone, Copy)]
pub struct ExplainData<'a> {
    /// Name of the in-distribution set (e.g. `FashionMNIST test`).
    pub in_name: &'a str,
    /// In-distribution test images.
    pub in_test: &'a ImageDataset,
    /// Name of the OOD set (e.g. `MNIST`).
    pub ood_name: &'a str,
    /// OOD images.
    pub ood: &'a ImageDataset,
    /// Seeds the dequantization noise.
    pub seed: u64,
}

impl ExplainData<'_> {
    /// The first in-distribution test image and the first OOD image, dequantized, as
    /// one batch of two.
    pub fn pair<B: FlowBackend>(
        &self,
        device: &B::Device,
    ) -> Result<Tensor<B, 4>, ExperimentError> {
        let mut batcher = Batcher::dequantized(stream_seed(self.seed, "explained pair"));
        let a = batcher.batch::<B>(self.in_test, &[0], device)?.images;
        let b = batcher.batch::<B>(self.ood, &[0], device)?.images;
        Ok(Tensor::cat(vec![a, b], 0))
    }
}

/// Draws every per-model explanation figure into `dir`: latent space, coupling layers,
/// the per-layer terms of `log p(x)` (from `layer_sets`, the in-distribution test set
/// first; none when empty) and, for single-scale flows, co-adaptation. Returns the
/// file names.
pub fn write_model_figures<B: FlowBackend>(
    model: &FlowNet<B>,
    config: &FlowConfig,
    name: &str,
    data: &ExplainData<'_>,
    layer_sets: &[(String, LayerBreakdown)],
    dir: &Path,
    device: &B::Device,
) -> Result<Vec<String>, ExperimentError> {
    let mut written = vec![
        write_latent_figure(model, name, data, dir, device)?,
        write_coupling_figure(model, name, data, dir, device)?,
    ];
    if !layer_sets.is_empty() {
        written.extend(write_layer_figures(dir, name, layer_sets)?);
    }
    written.extend(write_coadaptation_figure(
        model, config, name, data, dir, device,
    )?);
    Ok(written)
}

/// The experiment's call: [`write_model_figures`] for a model just scored, with the
/// in-distribution test set and the natural OOD set as the pair shown, and the
/// per-layer terms of every scored set but the training one.
pub(in crate::experiment) fn write_scored_model_figures<B: FlowBackend>(
    model: &FlowNet<B>,
    spec: &ModelSpec,
    scored: &ScoredSets<ScoredSet>,
    sets: &EvalSets,
    seed: u64,
    context: &RunContext<'_, B::Device>,
) -> Result<Vec<String>, ExperimentError> {
    let RunContext { dir, quiet, device } = *context;
    let started = Instant::now();
    let data = ExplainData {
        in_name: &sets.in_test.name,
        in_test: &sets.in_test.images,
        ood_name: &sets.natural_ood.name,
        ood: &sets.natural_ood.images,
        seed,
    };
    let layer_sets: Vec<(String, LayerBreakdown)> = std::iter::once(&scored.in_test)
        .chain(scored.ood())
        .filter_map(|s| s.layers.clone().map(|l| (s.name.clone(), l)))
        .collect();
    let written = write_model_figures(
        model,
        &spec.flow,
        &spec.name,
        &data,
        &layer_sets,
        dir,
        device,
    )?;
    if !quiet {
        eprintln!(
            "    explanation figures: {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(written)
}

/// Writes `figure` into `dir` as `file`; returns the file name.
pub(crate) fn write_figure(
    dir: &Path,
    file: String,
    figure: &PanelFigure,
) -> Result<String, ExperimentError> {
    flow_plot::panel_figure_png(&dir.join(&file), figure)?;
    Ok(file)
}

/// The colour key of maps drawn [`Normalise::Diverging`](flow_plot::Normalise):
/// negative, white at zero, positive.
pub(crate) fn diverging_key(caption: &str) -> Option<ColourKey> {
    Some(ColourKey {
        caption: caption.into(),
        ends: ["-".into(), "0".into(), "+".into()],
    })
}

/// Splits a `[N, C, H, W]` tensor into N images.
pub(crate) fn tensor_images<B: FlowBackend>(
    x: Tensor<B, 4>,
) -> Result<Vec<Image>, ExperimentError> {
    let [n, c, h, w] = x.dims();
    let values: Vec<f32> =
        x.into_data()
            .convert::<f32>()
            .to_vec()
            .map_err(|e| ExperimentError::Explain {
                model: String::new(),
                reason: format!("cannot read a tensor back: {e:?}"),
            })?;
    let per = c * h * w;
    Ok((0..n)
        .map(|i| Image {
            width: w,
            height: h,
            channels: c,
            pixels: values[i * per..(i + 1) * per].to_vec(),
        })
        .collect())
}

/// The largest |value| over `images`, or 1 when they are all zero (a colour scale
/// needs a positive limit).
pub(crate) fn abs_max(images: &[Image]) -> f32 {
    let m = images
        .iter()
        .flat_map(|i| i.pixels.iter())
        .filter(|v| v.is_finite())
        .fold(0f32, |m, v| m.max(v.abs()));
    if m > 0.0 {
        m
    } else {
        1.0
    }
}

/// The `q`-quantile of |value| over `images` (for colour scales that a few outliers
/// should not flatten), or 1 when it is zero.
pub(crate) fn abs_quantile<'a>(images: impl Iterator<Item = &'a Image>, q: f64) -> f32 {
    let mut v: Vec<f32> = images
        .flat_map(|i| i.pixels.iter())
        .filter(|v| v.is_finite())
        .map(|v| v.abs())
        .collect();
    if v.is_empty() {
        return 1.0;
    }
    v.sort_by(f32::total_cmp);
    let k = ((v.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
    if v[k] > 0.0 {
        v[k]
    } else {
        1.0
    }
}

/// Minimum and maximum over `images`, widened when equal (a grey scale needs lo < hi).
pub(crate) fn value_range(images: &[Image]) -> (f32, f32) {
    value_quantiles(images.iter(), 0.0)
}

/// The `q` and `1 - q` quantiles of the values over `images`, widened when equal.
pub(crate) fn value_quantiles<'a>(images: impl Iterator<Item = &'a Image>, q: f64) -> (f32, f32) {
    let mut v: Vec<f32> = images
        .flat_map(|i| i.pixels.iter().copied())
        .filter(|v| v.is_finite())
        .collect();
    if v.is_empty() {
        return (0.0, 1.0);
    }
    v.sort_by(f32::total_cmp);
    let at = |p: f64| v[((v.len() - 1) as f64 * p.clamp(0.0, 1.0)).round() as usize];
    let (lo, hi) = (at(q), at(1.0 - q));
    if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, lo + 0.5)
    }
}

/// `±0.42` for a colour-scale limit, with two significant digits.
pub(crate) fn limit_label(limit: f32) -> String {
    if limit >= 10.0 {
        format!("±{limit:.0}")
    } else if limit >= 1.0 {
        format!("±{limit:.1}")
    } else {
        format!("±{limit:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_figure_is_written_for_multi_and_single_scale_flows() {
        use burn::backend::Flex;
        use flow_data::ImageShape;
        use flow_masks::MaskSchedule;

        let images = |n: usize, shift: usize| {
            let pixels = (0..n * 64)
                .map(|i| ((i * 37 + shift) % 256) as u8)
                .collect();
            ImageDataset::new(ImageShape::new(1, 8, 8), pixels, vec![0; n]).unwrap()
        };
        let (fashion, digits) = (images(10, 0), images(10, 100));
        let data = ExplainData {
            in_name: "in test",
            in_test: &fashion,
            ood_name: "OOD",
            ood: &digits,
            seed: 1,
        };
        let breakdown = |prior| LayerBreakdown {
            layers: vec!["preprocess".into()],
            log_det: vec![1.0],
            prior,
            constant: -10.0,
            samples: 1,
        };
        let layer_sets = vec![
            ("in test".to_string(), breakdown(-5.0)),
            ("OOD".to_string(), breakdown(-3.0)),
        ];
        let dir = tempfile::tempdir().unwrap();
        let device = Default::default();
        for (name, config) in [
            ("multi", FlowConfig::realnvp([1, 8, 8], 2, 1, 4)),
            (
                "single",
                FlowConfig::single_scale([1, 8, 8], MaskSchedule::horizontal(3), 1, 4),
            ),
        ] {
            let model = config.init::<Flex>(0, &device).unwrap();
            let written = write_model_figures(
                &model,
                &config,
                name,
                &data,
                &layer_sets,
                dir.path(),
                &device,
            )
            .unwrap();
            let mut expected: Vec<String> = ["latent", "couplings", "layers", "layer_gain"]
                .iter()
                .map(|k| format!("{name}_{k}.png"))
                .collect();
            if name == "single" {
                expected.push(format!("{name}_coadaptation.png"));
            }
            assert_eq!(written, expected);
            for file in &written {
                assert!(image::open(dir.path().join(file)).is_ok(), "{file}");
            }
        }
        // The coupling figure has a row per coupling: RealNVP on 8x8 with 2 scales has
        // 3 + 3 + 4 couplings; the single-scale flow 3, so its figure is shorter.
        let height = |f: &str| image::open(dir.path().join(f)).unwrap().height();
        assert!(height("multi_couplings.png") > height("single_couplings.png") + 100);
    }

    #[test]
    fn colour_limits_are_positive_and_ignore_outliers_when_asked() {
        let img = Image::grey(5, 1, vec![0.0, -1.0, 0.5, 0.25, 40.0]);
        assert_eq!(abs_max(std::slice::from_ref(&img)), 40.0);
        assert_eq!(abs_quantile([&img].into_iter(), 0.75), 1.0);
        let zero = Image::grey(2, 1, vec![0.0, 0.0]);
        assert_eq!(abs_max(std::slice::from_ref(&zero)), 1.0);
        assert_eq!(abs_quantile([&zero].into_iter(), 0.5), 1.0);
        assert_eq!(value_range(std::slice::from_ref(&img)), (-1.0, 40.0));
        assert_eq!(value_quantiles([&img].into_iter(), 0.25), (0.0, 0.5));
        assert_eq!(value_range(std::slice::from_ref(&zero)), (-0.5, 0.5));
        assert_eq!(limit_label(0.4213), "±0.42");
        assert_eq!(limit_label(3.21), "±3.2");
    }
}
