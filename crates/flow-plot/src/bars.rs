//! Grouped bar charts: for each category (e.g. a layer) one bar per group (e.g. a data set).

use std::path::Path;

use plotters::chart::ChartBuilder;
use plotters::coord::ranged1d::{IntoSegmentedCoord, SegmentValue};
use plotters::element::{PathElement, Rectangle};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontTransform, ShapeStyle};

use crate::chart::{self, LegendEntry, SwatchKind};
use crate::page::{Area, DrawError, Page};
use crate::style::{self, series_colour, AXIS, TICK_SIZE};
use crate::{FigureError, Series};

/// Category names longer than this many pixels are cut short (with an ellipsis) under a
/// crowded axis, so one long name cannot take the page.
const MAX_NAME_PX: u32 = 300;

/// Writes a grouped bar chart to `path`: along x one slot per entry of `categories`, in it
/// one bar per group, `groups[g].values[c]` tall. Values may be negative; the zero line is
/// drawn darker. Category names too wide for their slot are written vertically. The
/// legend sits right of the plot.
///
/// Errors: no categories or groups, a group whose length differs from the number of
/// categories, or a non-finite value.
pub fn bar_png(
    path: &Path,
    title: &str,
    y_label: &str,
    categories: &[String],
    groups: &[Series],
) -> Result<(), FigureError> {
    bar_png_from_colour(path, title, y_label, categories, groups, 0)
}

/// As [`bar_png`], with group `g` drawn in series colour `first_colour + g`: a chart
/// that leaves out the first groups of another keeps their colours.
pub fn bar_png_from_colour(
    path: &Path,
    title: &str,
    y_label: &str,
    categories: &[String],
    groups: &[Series],
    first_colour: usize,
) -> Result<(), FigureError> {
    if categories.is_empty() {
        return Err(FigureError::EmptyInput {
            path: path.to_path_buf(),
            what: "categories",
        });
    }
    if groups.is_empty() {
        return Err(FigureError::EmptyInput {
            path: path.to_path_buf(),
            what: "groups",
        });
    }
    let (mut lo, mut hi) = (0f64, 0f64);
    for g in groups {
        if g.values.len() != categories.len() {
            return Err(FigureError::InvalidArgument {
                path: path.to_path_buf(),
                reason: format!(
                    "group '{}' has {} values for {} categories",
                    g.label,
                    g.values.len(),
                    categories.len()
                ),
            });
        }
        for (index, &v) in g.values.iter().enumerate() {
            if !v.is_finite() {
                return Err(FigureError::NonFinite {
                    path: path.to_path_buf(),
                    kind: "series",
                    name: g.label.clone(),
                    index,
                    value: v,
                });
            }
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    let span = if hi > lo { hi - lo } else { 1.0 };
    let y_lo = if lo < 0.0 { lo - 0.05 * span } else { 0.0 };
    let y_hi = if hi > 0.0 { hi + 0.08 * span } else { 0.0 };
    let (y_lo, y_hi) = if y_hi > y_lo {
        (y_lo, y_hi)
    } else {
        (0.0, 1.0)
    };

    let entries: Vec<LegendEntry> = groups
        .iter()
        .enumerate()
        .map(|(g, s)| LegendEntry {
            label: s.label.clone(),
            colour: series_colour(first_colour + g),
            kind: SwatchKind::Box(0.9),
        })
        .collect();
    let legend_w = chart::legend_width(entries.iter().map(|e| e.label.as_str()));
    let n = categories.len();
    let slot = (groups.len() as f64 * 20.0 + 24.0).max(70.0);
    let base_w = ((n as f64 * slot) as usize + 160).clamp(700, 2400);
    let names: Vec<String> = categories.iter().map(|c| shorten(c)).collect();
    let widest = style::widest(names.iter().map(String::as_str), TICK_SIZE);
    // Roughly the slot each category gets; names wider than it turn vertical.
    let slot_px = (base_w as f64 - 160.0) / n as f64;
    let vertical = widest as f64 > slot_px - 8.0;
    let tick_h = style::text_size("Ag", TICK_SIZE).1;
    let x_area = if vertical { widest + 18 } else { tick_h + 18 };
    let height = 600 + x_area.saturating_sub(tick_h + 18) as usize;
    let mut page = Page::new(path, base_w + legend_w as usize, height)?;
    let layout = Layout {
        title,
        y_label,
        names: &names,
        y: (y_lo, y_hi),
        x_area,
        vertical,
        legend_w,
        first_colour,
    };
    page.draw(path, |root| draw(root, &layout, groups, &entries))?;
    page.write(path)
}

/// `name`, cut to [`MAX_NAME_PX`] with an ellipsis if longer.
fn shorten(name: &str) -> String {
    if style::text_size(name, TICK_SIZE).0 <= MAX_NAME_PX {
        return name.to_string();
    }
    let mut cut: String = name.to_string();
    while !cut.is_empty() && style::text_size(&format!("{cut}\u{2026}"), TICK_SIZE).0 > MAX_NAME_PX
    {
        cut.pop();
    }
    format!("{cut}\u{2026}")
}

struct Layout<'a> {
    title: &'a str,
    y_label: &'a str,
    names: &'a [String],
    y: (f64, f64),
    x_area: u32,
    vertical: bool,
    legend_w: u32,
    first_colour: usize,
}

fn draw(
    root: &Area<'_>,
    layout: &Layout<'_>,
    groups: &[Series],
    entries: &[LegendEntry],
) -> Result<(), DrawError> {
    let body = chart::draw_title(root, layout.title)?.margin(0, 12, 12, 12);
    let (y_lo, y_hi) = layout.y;
    let y_format = style::tick_formatter(y_lo, y_hi, 8);
    let y_area = chart::y_label_area(y_lo, y_hi, 8, &y_format, true);
    let n = layout.names.len();
    let indices: Vec<usize> = (0..n).collect();
    let mut c = ChartBuilder::on(&body)
        .margin_top(6)
        .margin_right(layout.legend_w)
        .x_label_area_size(layout.x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(indices.as_slice().into_segmented(), y_lo..y_hi)?;
    // plotters anchors a turned tick label by its unturned box, which would centre a
    // vertical name on the axis line; vertical names are drawn below instead.
    let x_format = |v: &SegmentValue<&usize>| match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) if !layout.vertical => {
            layout.names[**i].clone()
        }
        _ => String::new(),
    };
    let mut mesh = c.configure_mesh();
    chart::mesh_style(&mut mesh);
    mesh.disable_x_mesh()
        .x_labels(n)
        .y_labels(8)
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .y_desc(layout.y_label);
    mesh.draw()?;
    if layout.vertical {
        // Anchored at the name's end and turned a quarter counter-clockwise: each name
        // hangs below its tick, reading upwards, centred on its slot.
        let names_style = style::font(TICK_SIZE)
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Right, VPos::Center));
        let (x_px, y_px) = c.plotting_area().get_pixel_range();
        let slot = (x_px.end - x_px.start) as f64 / n as f64;
        for (i, name) in layout.names.iter().enumerate() {
            let cx = x_px.start as f64 + slot * (i as f64 + 0.5);
            root.draw_text(name, &names_style, (cx.round() as i32, y_px.end + 10))?;
        }
    }

    // Bars in page pixels: plotters' category axis has no positions inside a slot.
    let (x_px, _) = c.plotting_area().get_pixel_range();
    let first = indices.first().unwrap_or(&0);
    let y_px = |v: f64| c.backend_coord(&(SegmentValue::Exact(first), v)).1;
    let zero = y_px(0.0);
    let slot = (x_px.end - x_px.start) as f64 / n as f64;
    let bar_w = slot * 0.8 / groups.len() as f64;
    for cat in 0..n {
        let start = x_px.start as f64 + slot * (cat as f64 + 0.1);
        for (g, group) in groups.iter().enumerate() {
            // Rounded from the running position, so bars of fractional width neither
            // overlap nor leave gaps.
            let x0 = (start + bar_w * g as f64).round() as i32;
            let x1 = ((start + bar_w * (g + 1) as f64).round() as i32 - 1).max(x0);
            let fill = series_colour(layout.first_colour + g).mix(0.9).filled();
            root.draw(&Rectangle::new(
                [(x0, y_px(group.values[cat])), (x1, zero)],
                fill,
            ))?;
        }
    }
    if y_lo < 0.0 && y_hi > 0.0 {
        root.draw(&PathElement::new(
            vec![(x_px.start, zero), (x_px.end, zero)],
            ShapeStyle::from(AXIS),
        ))?;
    }
    let (_, y_range) = c.plotting_area().get_pixel_range();
    chart::draw_legend(root, (x_px.end, y_range.start), entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cats(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("layer {i}")).collect()
    }

    #[test]
    fn writes_png_with_negative_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.png");
        let groups = [
            Series::new("FashionMNIST test", vec![-3.0, 1.0, 2.5]),
            Series::new("MNIST", vec![-1.0, 2.0, -0.5]),
        ];
        bar_png(&path, "per layer", "nats", &cats(3), &groups).unwrap();
        let img = image::open(&path).unwrap();
        let legend = chart::legend_width(["FashionMNIST test", "MNIST"]);
        assert_eq!((img.width(), img.height()), (700 + legend, 600));
    }

    #[test]
    fn width_grows_with_the_number_of_bars() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.png");
        let groups = [
            Series::new("a", vec![1.0; 30]),
            Series::new("b", vec![2.0; 30]),
        ];
        bar_png(&path, "t", "y", &cats(30), &groups).unwrap();
        let img = image::open(&path).unwrap();
        assert_eq!(img.width(), 30 * 70 + 160 + chart::legend_width(["a", "b"]));
    }

    #[test]
    fn mismatched_and_non_finite_groups_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.png");
        let err = bar_png(
            &path,
            "t",
            "y",
            &cats(2),
            &[Series::new("short", vec![1.0])],
        )
        .unwrap_err();
        assert!(err.to_string().contains("'short'"), "{err}");
        let err = bar_png(
            &path,
            "t",
            "y",
            &cats(2),
            &[Series::new("nan", vec![1.0, f64::NAN])],
        )
        .unwrap_err();
        assert!(
            matches!(err, FigureError::NonFinite { index: 1, .. }),
            "{err}"
        );
        let err = bar_png(&path, "t", "y", &[], &[Series::new("a", vec![])]).unwrap_err();
        assert!(matches!(err, FigureError::EmptyInput { .. }));
        let err = bar_png(&path, "t", "y", &cats(1), &[]).unwrap_err();
        assert!(matches!(err, FigureError::EmptyInput { .. }));
        assert!(!path.exists());
    }

    #[test]
    fn hundreds_of_short_names_do_not_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.png");
        let cats: Vec<String> = (0..300).map(|i| (i % 10).to_string()).collect();
        bar_png(&path, "t", "y", &cats, &[Series::new("a", vec![1.0; 300])]).unwrap();
        let img = image::open(&path).unwrap();
        assert_eq!(img.height(), 600);
    }
}
