//! Curves through (x, y) points: ROC curves on the unit square and training curves.

use std::path::Path;

use super::axes::{self, Axis, Frame, Labels, LegendEntry, Swatch};
use super::canvas::{series_color, Canvas, Color};
use super::{output, FigureError};

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
/// over [0, 1], with the dashed diagonal of a chance-level detector and a legend.
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
    let labels = Labels {
        title,
        x_label: "false-positive rate",
        y_label: "true-positive rate",
        note: None,
    };
    // Sized so the plot area comes out close to square.
    let (width, height) = (680, 690);
    let tick_h = super::text::measure("0", axes::TICK_SIZE).1 as f64;
    let frame = Frame::layout(
        width,
        height,
        &labels,
        Axis::nice(0.0, 1.0, 5),
        Axis::nice(0.0, 1.0, 5),
        tick_h,
    );
    let mut canvas = Canvas::new(width, height, Color::WHITE);
    frame.draw_grid(&mut canvas, true);
    let chance = Color(120, 120, 120);
    let dashes = 40;
    for i in 0..dashes {
        let a = i as f64 / dashes as f64;
        let b = a + 0.6 / dashes as f64;
        canvas.polyline(
            &[
                (frame.x_px(a), frame.y_px(a)),
                (frame.x_px(b), frame.y_px(b)),
            ],
            1.3,
            chance,
            1.0,
            frame.plot,
        );
    }
    draw_curves(&mut canvas, &frame, curves, false);
    frame.draw_axes(&mut canvas, &labels, true);
    let mut entries = legend(curves);
    entries.push(LegendEntry {
        label: "chance".into(),
        color: chance,
        swatch: Swatch::Dashed,
    });
    axes::draw_legend(&mut canvas, frame.plot, &entries);
    output::write_png(path, &canvas.into_image())
}

/// Writes line plots of `curves` to `path` (e.g. bits/dim against training step), with
/// the x axis spanning the points exactly and the y axis padded a little. A curve of at
/// most 40 points also gets a dot on each point.
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
    let all = curves.iter().flat_map(|c| c.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let labels = Labels {
        title,
        x_label,
        y_label,
        note: None,
    };
    let (width, height) = (900, 560);
    let tick_h = super::text::measure("0", axes::TICK_SIZE).1 as f64;
    let frame = Frame::layout(
        width,
        height,
        &labels,
        Axis::nice(x0, x1, 8),
        Axis::padded(y0, y1, 0.04, 6),
        tick_h,
    );
    let mut canvas = Canvas::new(width, height, Color::WHITE);
    frame.draw_grid(&mut canvas, true);
    draw_curves(&mut canvas, &frame, curves, true);
    frame.draw_axes(&mut canvas, &labels, true);
    axes::draw_legend(&mut canvas, frame.plot, &legend(curves));
    output::write_png(path, &canvas.into_image())
}

/// Curves with at most this many points get a dot on each point: a test-set curve
/// evaluated a few times, or a single point, would otherwise read as a bare polyline or
/// vanish.
const MARKER_MAX_POINTS: usize = 40;

fn draw_curves(canvas: &mut Canvas, frame: &Frame, curves: &[Curve], markers: bool) {
    for (k, c) in curves.iter().enumerate() {
        let pts: Vec<(f64, f64)> = c
            .points
            .iter()
            .map(|&(x, y)| (frame.x_px(x), frame.y_px(y)))
            .collect();
        // A curve with more points than pixel columns (per-batch losses) is drawn thinner so
        // its noise band does not swallow the curves around it.
        let width = if pts.len() as f64 > frame.plot.width() {
            1.3
        } else {
            2.2
        };
        canvas.polyline(&pts, width, series_color(k), 1.0, frame.plot);
        if pts.len() == 1 || (markers && pts.len() <= MARKER_MAX_POINTS) {
            for &p in &pts {
                canvas.polyline(&[p], 7.0, series_color(k), 1.0, frame.plot);
            }
        }
    }
}

fn legend(curves: &[Curve]) -> Vec<LegendEntry> {
    curves
        .iter()
        .enumerate()
        .map(|(k, c)| LegendEntry {
            label: c.label.clone(),
            color: series_color(k),
            swatch: Swatch::Line,
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
        assert_eq!((img.width(), img.height()), (680, 690));

        let line = dir.path().join("line.png");
        let t = Curve::new(
            "run",
            (0..100)
                .map(|i| (i as f64, 5.0 - i as f64 * 0.01))
                .collect(),
        );
        line_png(&line, "training", "step", "bits/dim", &[t]).unwrap();
        let img = image::open(&line).unwrap();
        assert_eq!((img.width(), img.height()), (900, 560));
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
        let blue = super::super::canvas::series_color(0);
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
