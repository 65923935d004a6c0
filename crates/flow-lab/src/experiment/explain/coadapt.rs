//! The co-adaptation figure (paper, section 6): in a single-scale flow, what each
//! coupling predicts for the part it transforms, layer by layer, for an
//! in-distribution image and an OOD one.
//!
//! A coupling maps its transformed entries to `y = (x + t) exp(s)`, which is zero at
//! `x = -t`: `-t` is the value the layer expects there given the entries it conditions
//! on, its prediction. The first layer predicts pixels from pixels; later layers see
//! entries earlier layers already transformed, and the paper's point is that they
//! co-adapt: they learn to undo each other's transformations, which needs no knowledge
//! of what a clothing item looks like, so they predict an OOD digit just as well.

use flow_kernels::FlowBackend;
use std::path::Path;

use flow_core::models::Architecture;
use flow_core::{FlowConfig, FlowNet};
use flow_masks::MaskShape;
use flow_plot::{Image, Normalise, Panel, PanelFigure, PanelRow};

use super::couplings::{pair_columns, pair_coupling_maps, pair_input_row};
use super::{value_quantiles, write_figure, ExplainData};
use crate::experiment::ExperimentError;

/// Upscaling of 28x28 tiles.
const SCALE: usize = 3;

/// `input` with the entries `transform` marks replaced by `-t`: the layer's prediction
/// of its transformed part, shown in place of what it predicts.
pub fn prediction_image(input: &Image, t: &Image, transform: &[bool]) -> Option<Image> {
    let n = input.pixels.len();
    if t.pixels.len() != n || transform.len() != n {
        return None;
    }
    let pixels = (0..n)
        .map(|i| {
            if transform[i] {
                -t.pixels[i]
            } else {
                input.pixels[i]
            }
        })
        .collect();
    Some(Image {
        pixels,
        ..input.clone()
    })
}

/// Pearson's correlation between `prediction` and `input` over the entries `transform`
/// marks: how well the layer predicts what it transforms (`None` when either is
/// constant there or the sizes differ).
pub fn prediction_correlation(
    input: &Image,
    prediction: &Image,
    transform: &[bool],
) -> Option<f64> {
    let n = input.pixels.len();
    if prediction.pixels.len() != n || transform.len() != n {
        return None;
    }
    let pairs: Vec<(f64, f64)> = (0..n)
        .filter(|&i| transform[i])
        .map(|i| (f64::from(input.pixels[i]), f64::from(prediction.pixels[i])))
        .collect();
    let m = pairs.len() as f64;
    if pairs.len() < 2 {
        return None;
    }
    let (ma, mb) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / m, b + y / m));
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in &pairs {
        cov += (x - ma) * (y - mb);
        va += (x - ma) * (x - ma);
        vb += (y - mb) * (y - mb);
    }
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

/// Writes `<name>_coadaptation.png` for a single-scale flow (`None` for other
/// architectures, which transform squeezed tensors).
pub fn write_coadaptation_figure<B: FlowBackend>(
    model: &FlowNet<B>,
    config: &FlowConfig,
    name: &str,
    data: &ExplainData<'_>,
    dir: &Path,
    device: &B::Device,
) -> Result<Option<String>, ExperimentError> {
    let Architecture::SingleScale(single) = &config.architecture else {
        return Ok(None);
    };
    let explain_error = |reason: String| ExperimentError::Explain {
        model: name.to_string(),
        reason,
    };
    let [c, h, w] = config.input_shape;
    let masks = single
        .schedule
        .masks(MaskShape::image(c, h, w))
        .map_err(|e| explain_error(e.to_string()))?;
    let (pixels, maps) = pair_coupling_maps(model, name, data, device)?;
    if maps.len() != masks.len() {
        return Err(explain_error(format!(
            "{} coupling layers traced for {} masks",
            maps.len(),
            masks.len()
        )));
    }
    let mut rows = vec![pair_input_row("input x (pixels)", &pixels)];
    for (i, (layer, mask)) in maps.iter().zip(&masks).enumerate() {
        let transform = mask.transform().as_slice();
        let mut predictions = Vec::with_capacity(2);
        for (input, t) in layer.input.iter().zip(&layer.t) {
            predictions.push(prediction_image(input, t, transform).ok_or_else(|| {
                explain_error(format!("layer {i}: maps and mask differ in size"))
            })?);
        }
        // Inputs and predictions share one grey scale per row, so a prediction reads
        // as the value it predicts; the outputs get their own.
        let (lo, hi) = value_quantiles(layer.input.iter().chain(&predictions), 0.01);
        let (out_lo, out_hi) = value_quantiles(layer.output.iter(), 0.01);
        let mut panels = Vec::with_capacity(6);
        for k in 0..2 {
            let fixed = |img: Option<&Image>, lo: f32, hi: f32| {
                img.map(|img| Panel::new(img.clone(), Normalise::Fixed(lo, hi)))
            };
            panels.push(fixed(layer.input.get(k), lo, hi));
            panels.push(fixed(predictions.get(k), lo, hi));
            panels.push(fixed(layer.output.get(k), out_lo, out_hi));
        }
        let r: Vec<String> = layer
            .input
            .iter()
            .zip(&predictions)
            .map(|(input, p)| {
                prediction_correlation(input, p, transform)
                    .map_or_else(|| "n/a".into(), |r| format!("{r:.2}"))
            })
            .collect();
        rows.push(PanelRow {
            label: format!("layer {i}: {}; r = {}", mask.kind(), r.join(" / ")),
            panels,
        });
    }
    let (column_groups, columns) = pair_columns(data, ["input", "prediction", "output"]);
    let figure = PanelFigure {
        title: format!("{name}: what each coupling predicts for the part it transforms"),
        column_groups,
        columns,
        rows,
        notes: vec![
            "prediction: the layer's input with its transformed part replaced by -t, the value \
             the layer maps to 0 there (y = (x + t) exp(s))."
                .into(),
            "Layer 0 sees logit pixels; later layers see parts earlier layers already \
             transformed. Input and prediction share a grey scale per row (1st to 99th \
             percentile)."
                .into(),
            "r: correlation of prediction and input over the transformed entries (in / OOD \
             image). A layer that predicts the OOD image as well as the in-distribution one"
                .into(),
            "has learned nothing specific to the training data.".into(),
        ],
        key: None,
        scale: SCALE,
    };
    Ok(Some(write_figure(
        dir,
        format!("{name}_coadaptation.png"),
        &figure,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prediction_replaces_only_the_transformed_entries_by_minus_t() {
        let input = Image::grey(2, 2, vec![1.0, 2.0, 3.0, 4.0]);
        let t = Image::grey(2, 2, vec![0.0, 0.0, 0.5, -1.5]);
        let top_kept = [false, false, true, true];
        let p = prediction_image(&input, &t, &top_kept).unwrap();
        assert_eq!(p.pixels, vec![1.0, 2.0, -0.5, 1.5]);
        assert!(prediction_image(&input, &t, &[true]).is_none());
    }

    #[test]
    fn correlation_is_taken_over_the_transformed_entries_only() {
        let input = Image::grey(4, 1, vec![1.0, 2.0, 3.0, 100.0]);
        let same = Image::grey(4, 1, vec![-7.0, 4.0, 6.0, 0.0]);
        let mask = [false, true, true, false];
        let r = prediction_correlation(&input, &same, &mask).unwrap();
        assert!((r - 1.0).abs() < 1e-12);
        let flipped = Image::grey(4, 1, vec![0.0, 6.0, 4.0, 0.0]);
        let r = prediction_correlation(&input, &flipped, &mask).unwrap();
        assert!((r + 1.0).abs() < 1e-12);
        let flat = Image::grey(4, 1, vec![0.0, 5.0, 5.0, 0.0]);
        assert!(prediction_correlation(&input, &flat, &mask).is_none());
        assert!(prediction_correlation(&input, &flat, &[true]).is_none());
    }
}
