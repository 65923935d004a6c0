//! A picture of every mask schedule in flow-masks: which entries each layer conditions
//! on, transforms, or leaves alone.

use std::path::Path;

use flow_masks::{CouplingMask, MaskSchedule, MaskShape, Role};
use flow_plot::{Image, Normalise, Panel, PanelFigure, PanelRow};

use super::write_figure;
use crate::experiment::ExperimentError;

/// Layers shown per schedule (the cycle needs four to come round).
const LAYERS: usize = 4;
const SCALE: usize = 4;

/// The colour of each role (Okabe-Ito blue and orange; light grey).
fn role_rgb(role: Role) -> [f32; 3] {
    match role {
        Role::Condition => [0.0, 114.0 / 255.0, 178.0 / 255.0],
        Role::Transform => [230.0 / 255.0, 159.0 / 255.0, 0.0],
        Role::Neither => [0.85, 0.85, 0.85],
    }
}

/// The mask as an RGB image on the pixel grid. Masks over several channels of a
/// squeezed tensor (`[4C, H/2, W/2]`) are laid back on the `[C, H, W]` grid with the
/// squeeze's order (channel `c*4 + dy*2 + dx` holds offset `(dy, dx)`); a vector mask
/// is a one-row strip.
pub fn mask_image(mask: &CouplingMask, squeezed: bool) -> Image {
    let shape = mask.shape();
    let (c, h, w) = (shape.channels, shape.height, shape.width);
    let (height, width) = if squeezed { (2 * h, 2 * w) } else { (h, c * w) };
    let mut planes = vec![0f32; 3 * height * width];
    let mut put = |row: usize, col: usize, role: Role| {
        let rgb = role_rgb(role);
        for (k, v) in rgb.iter().enumerate() {
            planes[k * height * width + row * width + col] = *v;
        }
    };
    for ch in 0..c {
        for y in 0..h {
            for x in 0..w {
                let role = mask.role(ch, y, x);
                if squeezed {
                    // Only the first input channel is drawn: every input channel of a
                    // squeeze gets the same pattern.
                    if ch < 4 {
                        put(2 * y + ch / 2 % 2, 2 * x + ch % 2, role);
                    }
                } else {
                    put(y, ch * w + x, role);
                }
            }
        }
    }
    Image {
        width,
        height,
        channels: 3,
        pixels: planes,
    }
}

/// Writes `masks.png`: one row per schedule, one column per layer; returns its name.
pub fn write_mask_figure(dir: &Path) -> Result<String, ExperimentError> {
    let image = MaskShape::image(1, 28, 28);
    let squeezed = MaskShape::image(4, 14, 14);
    let schedules: [(&str, MaskSchedule, MaskShape, bool); 6] = [
        (
            "checkerboard",
            MaskSchedule::checkerboard(LAYERS),
            image,
            false,
        ),
        (
            "cycle (quadrants)",
            MaskSchedule::cycle(LAYERS),
            image,
            false,
        ),
        ("horizontal", MaskSchedule::horizontal(LAYERS), image, false),
        ("vertical", MaskSchedule::vertical(LAYERS), image, false),
        (
            "channel-wise, after a squeeze",
            MaskSchedule::channel_wise(LAYERS),
            squeezed,
            true,
        ),
        (
            "tabular halves (16 features)",
            MaskSchedule::tabular(LAYERS),
            MaskShape::vector(16),
            false,
        ),
    ];
    let mut rows = Vec::with_capacity(schedules.len());
    for (label, schedule, shape, is_squeezed) in schedules {
        let masks = schedule
            .masks(shape)
            .map_err(|e| ExperimentError::Explain {
                model: "masks".into(),
                reason: e.to_string(),
            })?;
        rows.push(PanelRow {
            label: label.into(),
            panels: masks
                .iter()
                .map(|m| {
                    Some(Panel::new(
                        mask_image(m, is_squeezed),
                        Normalise::Fixed(0.0, 1.0),
                    ))
                })
                .collect(),
        });
    }
    let figure = PanelFigure {
        title: "Mask schedules: what each coupling layer conditions on and transforms".into(),
        column_groups: Vec::new(),
        columns: (0..LAYERS).map(|i| format!("layer {i}")).collect(),
        rows,
        notes: [
            "blue: conditioned on (the st-network's input); orange: transformed;",
            "grey: neither (passed through unchanged; only the cycle mask has such entries).",
            "Images are 1x28x28. Channel-wise masks act on the 4x14x14 tensor after a 2x2",
            "squeeze, drawn back on the pixel grid (channel c*4 + dy*2 + dx holds offset",
            "(dy, dx)): the first half of the channels is the top row of every 2x2 block.",
            "The cycle mask transforms quadrant q+1 from quadrant q only (clockwise from the",
            "top left): what a layer transforms is not seen again for four layers.",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        key: None,
        scale: SCALE,
    };
    write_figure(dir, "masks.png".to_string(), &figure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flow_masks::{Half, MaskKind};

    fn role_at(img: &Image, row: usize, col: usize) -> [f32; 3] {
        let plane = img.width * img.height;
        let i = row * img.width + col;
        [
            img.pixels[i],
            img.pixels[plane + i],
            img.pixels[2 * plane + i],
        ]
    }

    #[test]
    fn squeezed_channel_masks_land_on_the_squeeze_offsets() {
        let mask = MaskKind::ChannelWise {
            transform: Half::First,
        }
        .build(MaskShape::image(4, 2, 2))
        .unwrap();
        let img = mask_image(&mask, true);
        assert_eq!((img.width, img.height), (4, 4));
        // Channels 0 and 1 (offsets (0,0) and (0,1)) are transformed: the top row of
        // every 2x2 block; channels 2 and 3 the bottom row, conditioned on.
        for block in 0..2 {
            for dx in 0..2 {
                assert_eq!(role_at(&img, 2 * block, dx), role_rgb(Role::Transform));
                assert_eq!(role_at(&img, 2 * block + 1, dx), role_rgb(Role::Condition));
            }
        }
    }

    #[test]
    fn cycle_masks_show_a_quadrant_left_alone() {
        let mask = MaskSchedule::cycle(1)
            .mask(0, MaskShape::image(1, 4, 4))
            .unwrap();
        let img = mask_image(&mask, false);
        assert_eq!(role_at(&img, 0, 0), role_rgb(Role::Condition));
        assert_eq!(role_at(&img, 0, 3), role_rgb(Role::Transform));
        assert_eq!(role_at(&img, 3, 3), role_rgb(Role::Neither));
    }
}
