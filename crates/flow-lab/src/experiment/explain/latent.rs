//! The latent-space figure (paper, section 5): `z` laid on the pixel grid for
//! in-distribution and OOD images side by side, from one dequantization draw and
//! averaged over many draws (the noise averages out and the structure the flow keeps
//! from the input shows clearly).

use flow_data::stream_seed;
use flow_kernels::FlowBackend;
use std::path::Path;

use flow_core::{Flow, FlowNet};
use flow_data::Batcher;
use flow_plot::{Image, Normalise, Panel, PanelFigure, PanelRow};

use super::{abs_quantile, diverging_key, limit_label, tensor_images, write_figure, ExplainData};
use crate::experiment::{evenly_spaced, ExperimentError};

/// Images per side.
const IMAGES: usize = 6;
/// Dequantization draws averaged.
const DRAWS: usize = 16;
/// Upscaling of 28x28 tiles.
const SCALE: usize = 3;
/// The share of |z| values drawn below full colour.
const QUANTILE: f64 = 0.99;

/// Writes `<name>_latent.png` and returns its file name.
pub fn write_latent_figure<B: FlowBackend>(
    model: &FlowNet<B>,
    name: &str,
    data: &ExplainData<'_>,
    dir: &Path,
    device: &B::Device,
) -> Result<String, ExperimentError> {
    let sides = [(data.in_name, data.in_test), (data.ood_name, data.ood)];
    let mut xs = Vec::new();
    let mut zs = Vec::new();
    let mut means = Vec::new();
    for (k, (_, set)) in sides.iter().enumerate() {
        let picks = evenly_spaced(set.len(), Some(IMAGES));
        let n = picks.len();
        // Draw d of image i sits at d * n + i; draw 0 is the one shown alone.
        let indices: Vec<usize> = (0..DRAWS).flat_map(|_| picks.iter().copied()).collect();
        let mut batcher =
            Batcher::dequantized(stream_seed(data.seed, &format!("latent draws/{k}")));
        let x = batcher.batch::<B>(set, &indices, device)?.images;
        let z = model
            .forward(x.clone())
            .map_err(|source| ExperimentError::Model {
                model: name.to_string(),
                source,
            })?
            .z;
        let [_, c, h, w] = z.dims();
        let mean = z
            .clone()
            .reshape([DRAWS, n, c, h, w])
            .mean_dim(0)
            .reshape([n, c, h, w]);
        xs.push(tensor_images(x.narrow(0, 0, n))?);
        zs.push(tensor_images(z.narrow(0, 0, n))?);
        means.push(tensor_images(mean)?);
    }
    let z_limit = abs_quantile(zs.iter().flatten(), QUANTILE);
    let mean_limit = abs_quantile(means.iter().flatten(), QUANTILE);
    let row = |label: String, sets: &[Vec<Image>], normalise: Normalise| PanelRow {
        label,
        panels: sets
            .iter()
            .flatten()
            .map(|img| Some(Panel::new(img.clone(), normalise)))
            .collect(),
    };
    let figure = PanelFigure {
        title: format!("{name}: latent z on the pixel grid, in-distribution vs OOD"),
        column_groups: sides
            .iter()
            .zip(&xs)
            .map(|((label, _), imgs)| (label.to_string(), imgs.len()))
            .collect(),
        columns: Vec::new(),
        rows: vec![
            row("input x".into(), &xs, Normalise::Fixed(0.0, 1.0)),
            row(
                format!("z, one draw ({})", limit_label(z_limit)),
                &zs,
                Normalise::Diverging { limit: z_limit },
            ),
            row(
                format!("z, mean of {DRAWS} draws ({})", limit_label(mean_limit)),
                &means,
                Normalise::Diverging { limit: mean_limit },
            ),
        ],
        notes: vec![
            "z = f(x) with the squeezes and factor-outs undone (not the couplings), so each \
             entry sits where its pixel was."
                .into(),
            format!(
                "The mean over {DRAWS} dequantization draws (u = (pixel + U[0,1)) / 256) \
                 averages out the noise the flow passes through, leaving what z keeps of the \
                 input (edges, strokes)."
            ),
        ],
        key: diverging_key(
            "Each z row shares one scale: full colour at the stated |z| (its 99th percentile), \
             white = 0.",
        ),
        scale: SCALE,
    };
    write_figure(dir, format!("{name}_latent.png"), &figure)
}
