//! Curves through (x, y) points: ROC curves on the unit square and training curves.

use std::path::Path;

use plotters::chart::ChartBuilder;
use plotters::element::Circle;
use plotters::series::{DashedLineSeries, LineSeries};
use plotters::style::{Color, ShapeStyle};

use crate::chart::{self, LegendEntry, SwatchKind};
use crate::page::{Area, DrawError, Page};
use crate::style::{self, series_colour, CHANCE, LABEL_SIZE, TICK_SIZE};
use crate::FigureError;

/// A named curve, e.g. the ROC of one model (its label may carry the AUROC) or the
/// bits/dim of one run against the training step.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Shown in the legend.
    pub label: String,
    /// The points in drawing order; every coordinate must be finite.
    pub points: Vec<(f64, f64)>,
}

impl Curve {
    /// A curve from a label and points.
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            label: label.into(),
            points,
        }
    }
}

/// Rejects an empty list, an empty curve and any non-finite coordinate.
fn check(path: &Path, curves: &[Curve]) -> Result<(), FigureError> {
    if curves.is_empty() {
        return Err(FigureError::EmptyInput {
            path: path.to_path_buf(),
            what: "curves",
        });
    }
    for c in curves {
        if c.points.is_empty() {
            return Err(FigureError::EmptySeries {
                path: path.to_path_buf(),
                kind: "curve",
                name: c.label.clone(),
            });
        }
        if let Some((index, &(x, y))) = c
            .points
            .iter()
            .enumerate()
            .find(|(_, (x, y))| !x.is_finite() || !y.is_finite())
        {
            return Err(FigureError::NonFinite {
                path: path.to_path_buf(),
                kind: "curve",
                name: c.label.clone(),
                index,
                value: if x.is_finite() { y } else { x },
            });
        }
    }
    Ok(())
}

/// Writes ROC curves to `path`: false-positive rate on x, true-positive rate on y, both
/// over [0, 1] on a square plot, with the dashed diagonal of a chance-level detector and
/// a legend right of the plot.
///
/// Errors: no curves, an empty curve, a non-finite point, or a point outside [0, 1]².
pub fn roc_png(path: &Path, title: &str, curves: &[Curve]) -> Result<(), FigureError> {
    check(path, curves)?;
    for c in curves {
        let tol = 1e-9;
        if let Some(&(x, y)) = c
            .points
            .iter()
            .find(|(x, y)| !(-tol..=1.0 + tol).contains(x) || !(-tol..=1.0 + tol).contains(y))
        {
            return Err(FigureError::InvalidArgument {
                path: path.to_path_buf(),
                reason: format!(
                    "ROC point ({x}, {y}) of curve '{}' lies outside [0, 1]²",
                    c.label
                ),
            });
        }
    }
    let mut entries = legend(curves);
    entries.push(LegendEntry {
        label: "chance".into(),
        colour: CHANCE,
        kind: SwatchKind::Dashed,
    });
    let legend_w = chart::legend_width(entries.iter().map(|e| e.label.as_str()));
    // 690 by 700 before the legend leaves a square plot area under the title.
    let mut page = Page::new(path, 700 + legend_w as usize, 690)?;
    let spec = Spec {
        title,
        x_label: "false-positive rate",
        y_label: "true-positive rate",
        x: (0.0, 1.0),
        y: (0.0, 1.0),
        markers: false,
        chance: true,
    };
    page.draw(path, |root| draw(root, &spec, curves, &entries, legend_w))?;
    page.write(path)
}

/// Writes line plots of `curves` to `path` (e.g. bits/dim against training step), with
/// the x axis spanning the points exactly and the y axis padded a little. A curve of at
/// most 40 points also gets a dot on each point; a curve with more points than the plot
/// has pixel columns is drawn thinner, so its noise does not swallow the other curves.
///
/// Errors: no curves, an empty curve, or a non-finite point.
pub fn line_png(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    curves: &[Curve],
) -> Result<(), FigureError> {
    check(path, curves)?;
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in curves.iter().flat_map(|c| c.points.iter()) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let (x0, x1) = widen(x0, x1);
    let (y0, y1) = widen(y0, y1);
    let pad = (y1 - y0) * 0.04;
    let entries = legend(curves);
    let legend_w = chart::legend_width(entries.iter().map(|e| e.label.as_str()));
    let mut page = Page::new(path, 900 + legend_w as usize, 560)?;
    let spec = Spec {
        title,
        x_label,
        y_label,
        x: (x0, x1),
        y: (y0 - pad, y1 + pad),
        markers: true,
        chance: false,
    };
    page.draw(path, |root| draw(root, &spec, curves, &entries, legend_w))?;
    page.write(path)
}

/// A range of at least some width, so a constant still gets an axis around it.
fn widen(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        (lo, hi)
    } else {
        let d = (lo.abs() * 0.05).max(0.5);
        (lo - d, hi + d)
    }
}

/// Curves with at most this many points get a dot on each point: a test-set curve
/// evaluated a few times, or a single point, would otherwise read as a bare polyline or
/// vanish.
const MARKER_MAX_POINTS: usize = 40;

/// What differs between a ROC plot and a line plot.
struct Spec<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    x: (f64, f64),
    y: (f64, f64),
    markers: bool,
    chance: bool,
}

fn draw(
    root: &Area<'_>,
    spec: &Spec<'_>,
    curves: &[Curve],
    entries: &[LegendEntry],
    legend_w: u32,
) -> Result<(), DrawError> {
    let body = chart::draw_title(root, spec.title)?.margin(0, 12, 12, 12);
    let y_ticks = if spec.chance { 11 } else { 8 };
    let y_format = style::tick_formatter(spec.y.0, spec.y.1, y_ticks);
    let y_area = chart::y_label_area(spec.y.0, spec.y.1, y_ticks, &y_format, true);
    let (body_w, _) = body.dim_in_pixel();
    let plot_w = body_w.saturating_sub(y_area + legend_w);
    let x_ticks = if spec.chance {
        11
    } else {
        chart::label_count(plot_w, 90)
    };
    let x_format = style::tick_formatter(spec.x.0, spec.x.1, x_ticks);
    let mut c = ChartBuilder::on(&body)
        .margin_top(6)
        .margin_right(legend_w)
        .x_label_area_size(TICK_SIZE as u32 + LABEL_SIZE as u32 + 30)
        .y_label_area_size(y_area)
        .build_cartesian_2d(spec.x.0..spec.x.1, spec.y.0..spec.y.1)?;
    let mut mesh = c.configure_mesh();
    chart::mesh_style(&mut mesh);
    mesh.x_labels(x_ticks)
        .y_labels(y_ticks)
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .x_desc(spec.x_label)
        .y_desc(spec.y_label);
    mesh.draw()?;
    if spec.chance {
        c.draw_series(DashedLineSeries::new(
            vec![(0.0, 0.0), (1.0, 1.0)],
            6,
            5,
            ShapeStyle::from(CHANCE).stroke_width(1),
        ))?;
    }
    let plot_px = c.plotting_area().dim_in_pixel().0 as usize;
    for (k, curve) in curves.iter().enumerate() {
        let colour = series_colour(k);
        let n = curve.points.len();
        // Only a noisy training curve needs thinning; a ROC curve is monotone.
        let width = if spec.markers && n > plot_px { 1 } else { 2 };
        c.draw_series(LineSeries::new(
            curve.points.iter().copied(),
            colour.stroke_width(width),
        ))?;
        if n == 1 || (spec.markers && n <= MARKER_MAX_POINTS) {
            c.draw_series(
                curve
                    .points
                    .iter()
                    .map(|&p| Circle::new(p, 4, colour.filled())),
            )?;
        }
    }
    let (x_px, y_px) = c.plotting_area().get_pixel_range();
    chart::draw_legend(root, (x_px.end, y_px.start), entries)
}

fn legend(curves: &[Curve]) -> Vec<LegendEntry> {
    curves
        .iter()
        .enumerate()
        .map(|(k, c)| LegendEntry {
            label: c.label.clone(),
            colour: series_colour(k),
            kind: SwatchKind::Line,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_and_line_write_pngs_of_the_documented_size() {
        let dir = tempfile::tempdir().unwrap();
        let roc = dir.path().join("roc.png");
        let c = Curve::new("m (AUROC 0.75)", vec![(0.0, 0.0), (0.2, 0.6), (1.0, 1.0)]);
        roc_png(&roc, "ROC", std::slice::from_ref(&c)).unwrap();
        let img = image::open(&roc).unwrap();
        let legend = chart::legend_width(["m (AUROC 0.75)", "chance"]);
        assert_eq!((img.width(), img.height()), (700 + legend, 690));

        let line = dir.path().join("line.png");
        let t = Curve::new(
            "run",
            (0..100)
                .map(|i| (i as f64, 5.0 - i as f64 * 0.01))
                .collect(),
        );
        line_png(&line, "training", "step", "bits/dim", &[t]).unwrap();
        let img = image::open(&line).unwrap();
        assert_eq!(
            (img.width(), img.height()),
            (900 + chart::legend_width(["run"]), 560)
        );
    }

    #[test]
    fn the_curve_is_drawn_in_its_colour() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.png");
        // A flat line at y = 1 between y values 0 and 2: mid-height of the plot.
        let c = Curve::new(
            "flat",
            vec![(0.0, 0.0), (0.0, 2.0), (10.0, 2.0), (10.0, 1.0), (0.0, 1.0)],
        );
        line_png(&path, "t", "x", "y", &[c]).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        let blue = series_colour(0);
        let found = img
            .pixels()
            .filter(|p| p.0 == [blue.0, blue.1, blue.2])
            .count();
        assert!(found > 500, "{found} pixels in the first series colour");
    }

    #[test]
    fn bad_curves_are_errors_naming_the_curve() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.png");
        let err = roc_png(&path, "t", &[]).unwrap_err();
        assert!(matches!(err, FigureError::EmptyInput { .. }));
        let err = line_png(&path, "t", "x", "y", &[Curve::new("e", vec![])]).unwrap_err();
        assert!(err.to_string().contains("'e'"), "{err}");
        let nan = Curve::new("n", vec![(0.0, 1.0), (1.0, f64::NAN)]);
        let err = line_png(&path, "t", "x", "y", &[nan]).unwrap_err();
        assert!(
            matches!(err, FigureError::NonFinite { index: 1, .. }),
            "{err}"
        );
        let out = Curve::new("o", vec![(0.0, 0.0), (1.5, 1.0)]);
        let err = roc_png(&path, "t", &[out]).unwrap_err();
        assert!(err.to_string().contains("'o'"), "{err}");
        assert!(!path.exists());
    }
}
