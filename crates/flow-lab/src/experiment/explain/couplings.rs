//! The coupling-layer figure (paper, section 6 and Fig. 1b-c): for every coupling, the
//! st-network's `s` and `t` and the layer's output, for one in-distribution and one OOD
//! image, all laid on the pixel grid.

use flow_kernels::FlowBackend;
use std::path::Path;

use burn::tensor::Tensor;
use flow_core::grid::{spread_over_channels, trace_places, GridOp};
use flow_core::{Flow, FlowNet, Trace};
use flow_plot::{Image, Normalise, Panel, PanelFigure, PanelRow};

use super::{
    abs_max, diverging_key, limit_label, tensor_images, value_range, write_figure, ExplainData,
};
use crate::experiment::ExperimentError;

/// Upscaling of 28x28 tiles.
const SCALE: usize = 3;

/// One coupling's maps on the pixel grid, for the batch's images.
pub(crate) struct CouplingMaps {
    /// The layer's name.
    pub name: String,
    /// `s` per image (zero where the layer leaves entries unchanged).
    pub s: Vec<Image>,
    /// `t` per image, likewise.
    pub t: Vec<Image>,
    /// The flow's whole state after the layer (what the layer wrote, plus the entries
    /// factored out before it), per image.
    pub output: Vec<Image>,
    /// The layer's input on the grid, per image.
    pub input: Vec<Image>,
}

/// Runs `x` through `model` keeping every coupling's internals, and lays them on the
/// pixel grid. Also returns the preprocessed input (logit space) on the grid.
pub(crate) fn coupling_maps<B: FlowBackend>(
    model: &FlowNet<B>,
    name: &str,
    x: Tensor<B, 4>,
) -> Result<Vec<CouplingMaps>, ExperimentError> {
    let mut trace = Trace::with_couplings();
    let first_input = match model.preprocess() {
        Some(pre) => pre.forward(x.clone(), None).0,
        None => x.clone(),
    };
    model
        .forward_traced(x, Some(&mut trace))
        .map_err(|source| ExperimentError::Model {
            model: name.to_string(),
            source,
        })?;
    let places = trace_places(model);
    let records = trace.into_layers();
    let mut maps = Vec::new();
    let mut factored: Vec<Tensor<B, 4>> = Vec::new();
    // Whether every factored part so far could be recovered (from a coupling's output).
    let mut complete = true;
    let mut previous_state = Some(first_input);
    let mut previous_output: Option<Tensor<B, 4>> = None;
    for (i, (record, place)) in records.into_iter().zip(&places).enumerate() {
        if i > 0 && place.factor_outs() > places[i - 1].factor_outs() {
            let last = place.ops().iter().rev().find_map(|op| match op {
                GridOp::FactorOut { kept, removed } => Some((*kept, *removed)),
                GridOp::Squeeze => None,
            });
            match (&previous_output, last) {
                (Some(out), Some((kept, removed))) => {
                    factored.push(out.clone().narrow(1, kept, removed));
                }
                _ => complete = false,
            }
        }
        if i == 0 && model.preprocess().is_some() {
            // The logit preprocessing: its output is `first_input` already.
            continue;
        }
        let parts: &[Tensor<B, 4>] = if complete { &factored } else { &[] };
        let Some(coupling) = record.coupling else {
            previous_output = None;
            previous_state = None;
            continue;
        };
        let channels = coupling.output.dims()[1];
        let split = coupling.channel_split.as_ref();
        let s = place.lay_on_grid(spread_over_channels(coupling.s, split, channels), &[]);
        let t = place.lay_on_grid(spread_over_channels(coupling.t, split, channels), &[]);
        let output = place.lay_on_grid(coupling.output.clone(), parts);
        let input = match previous_state.take() {
            Some(state) => tensor_images(state)?,
            None => Vec::new(),
        };
        previous_state = Some(output.clone());
        previous_output = Some(coupling.output);
        maps.push(CouplingMaps {
            name: record.name,
            s: tensor_images(s)?,
            t: tensor_images(t)?,
            output: tensor_images(output)?,
            input,
        });
    }
    Ok(maps)
}

/// The first in-distribution and the first OOD image ([`ExplainData::pair`]) as pixels,
/// and their coupling maps under `model` (called `name` in errors).
pub(crate) fn pair_coupling_maps<B: FlowBackend>(
    model: &FlowNet<B>,
    name: &str,
    data: &ExplainData<'_>,
    device: &B::Device,
) -> Result<(Vec<Image>, Vec<CouplingMaps>), ExperimentError> {
    let x = data.pair::<B>(device)?;
    let pixels = tensor_images(x.clone())?;
    let maps = coupling_maps(model, name, x)?;
    Ok((pixels, maps))
}

/// The top row of a figure on the image pair, three columns per image: each image in
/// its group's last column, over the layers' outputs.
pub(crate) fn pair_input_row(label: &str, pixels: &[Image]) -> PanelRow {
    let pixel = |k: usize| {
        pixels
            .get(k)
            .map(|p| Panel::new(p.clone(), Normalise::Fixed(0.0, 1.0)))
    };
    PanelRow {
        label: label.into(),
        panels: vec![None, None, pixel(0), None, None, pixel(1)],
    }
}

/// The column groups (one per image of the pair) and the column titles, `titles` under
/// each group, of a figure on the image pair.
pub(crate) fn pair_columns(
    data: &ExplainData<'_>,
    titles: [&str; 3],
) -> (Vec<(String, usize)>, Vec<String>) {
    let groups = vec![
        (format!("{} image", data.in_name), titles.len()),
        (format!("{} image", data.ood_name), titles.len()),
    ];
    let columns = titles
        .iter()
        .chain(&titles)
        .map(|c| c.to_string())
        .collect();
    (groups, columns)
}

/// Writes `<name>_couplings.png` for the first in-distribution test image and the first
/// OOD image; returns its file name.
pub fn write_coupling_figure<B: FlowBackend>(
    model: &FlowNet<B>,
    name: &str,
    data: &ExplainData<'_>,
    dir: &Path,
    device: &B::Device,
) -> Result<String, ExperimentError> {
    let (pixels, maps) = pair_coupling_maps(model, name, data, device)?;
    if maps.is_empty() {
        return Err(ExperimentError::Explain {
            model: name.to_string(),
            reason: "the flow has no coupling layers".into(),
        });
    }
    let mut rows = vec![pair_input_row("input x", &pixels)];
    for layer in &maps {
        // One scale per quantity and layer, shared by both images, so their
        // magnitudes compare; zero stays white.
        let s_limit = abs_max(&layer.s);
        let t_limit = abs_max(&layer.t);
        let (lo, hi) = value_range(&layer.output);
        let mut panels = Vec::with_capacity(6);
        for k in 0..2 {
            panels.push(
                layer
                    .s
                    .get(k)
                    .map(|img| Panel::new(img.clone(), Normalise::Diverging { limit: s_limit })),
            );
            panels.push(
                layer
                    .t
                    .get(k)
                    .map(|img| Panel::new(img.clone(), Normalise::Diverging { limit: t_limit })),
            );
            panels.push(
                layer
                    .output
                    .get(k)
                    .map(|img| Panel::new(img.clone(), Normalise::Fixed(lo, hi))),
            );
        }
        rows.push(PanelRow {
            label: format!(
                "{}  s {}  t {}",
                layer.name,
                limit_label(s_limit),
                limit_label(t_limit)
            ),
            panels,
        });
    }
    let (column_groups, columns) = pair_columns(data, ["s", "t", "output"]);
    let figure = PanelFigure {
        title: format!("{name}: coupling layers, s, t and output for an in- and an OOD image"),
        column_groups,
        columns,
        rows,
        notes: vec![
            "Each coupling computes y = (x + t) exp(s) on the entries it transforms; s and t \
             are zero (white) on the entries it leaves unchanged."
                .into(),
            "Later layers of a multi-scale flow work on squeezed, partly factored-out tensors; \
             everything is laid back on the pixel grid (factored-out entries: white in s and t)."
                .into(),
            "output: the flow's state after the layer, grey from its row's minimum (black) to \
             maximum (white)."
                .into(),
        ],
        key: diverging_key(
            "s and t: one scale per row and map, full colour at the |value| in the \
             row's label.",
        ),
        scale: SCALE,
    };
    write_figure(dir, format!("{name}_couplings.png"), &figure)
}
