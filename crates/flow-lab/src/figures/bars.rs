//! Grouped bar charts: for each category (e.g. a layer) one bar per group (e.g. a data set).

use std::path::Path;

use super::axes::{self, Axis, Frame, Labels, LegendEntry, Swatch};
use super::canvas::{series_color, Canvas, Color, Rect};
use super::text::{self, HAlign, VAlign};
use super::{output, FigureError, Series};

/// Writes a grouped bar chart to `path`: along x one slot per entry of `categories`, in it
/// one bar per group, `groups[g].values[c]` tall. Values may be negative; the zero line is
/// drawn darker. Category names too wide for their slot are written vertically.
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

    let n = categories.len();
    let slot = (groups.len() as f64 * 20.0 + 24.0).max(70.0);
    let width = ((n as f64 * slot) as usize + 160).clamp(700, 2400);
    let mut height = 600;
    let widest = categories
        .iter()
        .map(|c| text::measure(c, axes::TICK_SIZE).0)
        .max()
        .unwrap_or(0) as f64;
    let tick_h = text::measure("Ag", axes::TICK_SIZE).1 as f64;
    // A first layout tells the slot width; names wider than it are turned vertical.
    let labels = Labels {
        title,
        x_label: "",
        y_label,
        note: None,
    };
    let categorical = Axis {
        lo: 0.0,
        hi: n as f64,
        ticks: Vec::new(),
        labels: Vec::new(),
    };
    let trial = Frame::layout(
        width,
        height,
        &labels,
        categorical.clone(),
        Axis::nice(y_lo, y_hi, 6),
        tick_h,
    );
    let slot_px = trial.plot.width() / n as f64;
    let vertical = widest > slot_px - 8.0;
    let ticks_h = if vertical { widest.min(260.0) } else { tick_h };
    // Vertical names get their own room rather than squeezing the bars.
    height += (ticks_h - tick_h) as usize;
    let frame = Frame::layout(
        width,
        height,
        &labels,
        categorical,
        Axis::nice(y_lo, y_hi, 6),
        ticks_h,
    );

    let mut canvas = Canvas::new(width, height, Color::WHITE);
    frame.draw_grid(&mut canvas, false);
    let zero = frame.y_px(0.0);
    let slot_px = frame.plot.width() / n as f64;
    let bar_w = slot_px * 0.8 / groups.len() as f64;
    for (c, name) in categories.iter().enumerate() {
        let start = frame.plot.x0 + slot_px * (c as f64 + 0.1);
        for (g, group) in groups.iter().enumerate() {
            let x0 = start + bar_w * g as f64;
            let r = Rect {
                x0,
                x1: x0 + bar_w,
                y0: frame.y_px(group.values[c]),
                y1: zero,
            };
            canvas.fill_rect(r, series_color(first_colour + g), 0.9);
        }
        let cx = frame.plot.x0 + slot_px * (c as f64 + 0.5);
        canvas.vline(cx, frame.plot.y1, frame.plot.y1 + 5.0, Color::AXIS);
        if vertical {
            text::draw_vertical_hanging(
                &mut canvas,
                name,
                cx,
                frame.plot.y1 + 9.0,
                axes::TICK_SIZE,
                Color::TEXT,
            );
        } else {
            text::draw(
                &mut canvas,
                name,
                (cx, frame.plot.y1 + 9.0),
                axes::TICK_SIZE,
                Color::TEXT,
                (HAlign::Center, VAlign::Top),
            );
        }
    }
    if y_lo < 0.0 && y_hi > 0.0 {
        canvas.hline(frame.plot.x0, frame.plot.x1 - 1.0, zero, Color::AXIS);
    }
    frame.draw_axes(&mut canvas, &labels, false);
    let entries: Vec<LegendEntry> = groups
        .iter()
        .enumerate()
        .map(|(g, s)| LegendEntry {
            label: s.label.clone(),
            color: series_color(first_colour + g),
            swatch: Swatch::Solid,
        })
        .collect();
    axes::draw_legend(&mut canvas, frame.plot, &entries);
    output::write_png(path, &canvas.into_image())
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
        assert_eq!((img.width(), img.height()), (700, 600));
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
        assert_eq!(img.width(), 30 * 70 + 160);
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
}
