//! Overlaid histograms of named score sets on one set of bins, density-normalised so sets
//! of different sizes compare.

use std::path::Path;

use super::axes::{self, Axis, Frame, Labels, LegendEntry, Swatch};
use super::canvas::{series_color, Canvas, Color};
use super::{output, FigureError};

/// A named set of scores, e.g. the log-likelihoods of the MNIST test images.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Shown in the legend.
    pub label: String,
    /// The scores; NaN and infinities are dropped from a histogram and counted in its legend.
    pub values: Vec<f64>,
}

impl Series {
    /// A series from a label and values.
    pub fn new(label: impl Into<String>, values: Vec<f64>) -> Self {
        Self {
            label: label.into(),
            values,
        }
    }
}

/// The lower and upper percentile (in percent) kept of each series when choosing the bins.
pub const CLIP_PERCENTILES: (f64, f64) = (0.5, 99.5);

/// Histograms of several series on the same bin edges.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedHistogram {
    /// `bins + 1` increasing edges, the same for every series.
    pub edges: Vec<f64>,
    /// Per series, per bin: count / (finite values of the series × bin width). Over a range
    /// holding every finite value of a series, its densities integrate to 1.
    pub densities: Vec<Vec<f64>>,
    /// Per series: how many finite values it has.
    pub finite: Vec<usize>,
    /// Per series: how many values were NaN or infinite (left out).
    pub non_finite: Vec<usize>,
    /// Per series: how many finite values fall outside the edges (left out of the bars).
    pub outside: Vec<usize>,
}

/// The range the shared bins span: from the lowest 0.5th percentile to the highest
/// 99.5th percentile over the series, each series taken alone. Taking percentiles per
/// series (rather than of the pooled data) keeps a small set far from the others, such as
/// a few hundred noise images, from being clipped away entirely, while a lone outlier in
/// any set still cannot stretch the axis. `None` when no series has a finite value.
pub fn robust_range(series: &[Series]) -> Option<(f64, f64)> {
    let mut range: Option<(f64, f64)> = None;
    for s in series {
        let mut v: Vec<f64> = s.values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            continue;
        }
        v.sort_by(f64::total_cmp);
        let lo = percentile(&v, CLIP_PERCENTILES.0);
        let hi = percentile(&v, CLIP_PERCENTILES.1);
        range = Some(match range {
            None => (lo, hi),
            Some((a, b)) => (a.min(lo), b.max(hi)),
        });
    }
    range
}

/// Linear-interpolated percentile `p` (0..=100) of sorted, non-empty data.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let pos = p / 100.0 * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let j = (i + 1).min(sorted.len() - 1);
    let f = pos - i as f64;
    sorted[i] + (sorted[j] - sorted[i]) * f
}

/// Bins every series on `bins` equal-width bins over `range` (a value equal to the upper
/// edge goes into the last bin). A degenerate range is widened by ±0.5 so a constant
/// series still gets one visible bar; `bins` of 0 is treated as 1.
pub fn shared_histogram(series: &[Series], bins: usize, range: (f64, f64)) -> SharedHistogram {
    let bins = bins.max(1);
    let (lo, hi) = if range.1 > range.0 {
        range
    } else {
        (range.0 - 0.5, range.0 + 0.5)
    };
    let width = (hi - lo) / bins as f64;
    let edges: Vec<f64> = (0..=bins)
        .map(|i| if i == bins { hi } else { lo + width * i as f64 })
        .collect();
    let mut out = SharedHistogram {
        edges,
        densities: Vec::with_capacity(series.len()),
        finite: Vec::with_capacity(series.len()),
        non_finite: Vec::with_capacity(series.len()),
        outside: Vec::with_capacity(series.len()),
    };
    for s in series {
        let mut counts = vec![0usize; bins];
        let (mut finite, mut non_finite, mut outside) = (0, 0, 0);
        for &v in &s.values {
            if !v.is_finite() {
                non_finite += 1;
                continue;
            }
            finite += 1;
            if v < lo || v > hi {
                outside += 1;
                continue;
            }
            let i = (((v - lo) / width) as usize).min(bins - 1);
            counts[i] += 1;
        }
        let scale = if finite > 0 {
            1.0 / (finite as f64 * width)
        } else {
            0.0
        };
        out.densities
            .push(counts.iter().map(|&c| c as f64 * scale).collect());
        out.finite.push(finite);
        out.non_finite.push(non_finite);
        out.outside.push(outside);
    }
    out
}

/// Writes overlaid, semi-transparent step histograms of `series` on shared bins to `path`.
///
/// The bins span [`robust_range`] (each series' 0.5–99.5 percentiles), which a note under
/// the x label states together with how many values fell outside. Densities are
/// normalised by each series' finite count. The legend gives each label with its n and,
/// when there were any, how many non-finite values were dropped.
///
/// Errors: no series, `bins` of 0, an empty series, or a series with no finite value.
pub fn histogram_png(
    path: &Path,
    title: &str,
    x_label: &str,
    series: &[Series],
    bins: usize,
) -> Result<(), FigureError> {
    if series.is_empty() {
        return Err(FigureError::EmptyInput {
            path: path.to_path_buf(),
            what: "series",
        });
    }
    if bins == 0 {
        return Err(FigureError::InvalidArgument {
            path: path.to_path_buf(),
            reason: "a histogram needs at least one bin".into(),
        });
    }
    for s in series {
        if s.values.is_empty() {
            return Err(FigureError::EmptySeries {
                path: path.to_path_buf(),
                kind: "series",
                name: s.label.clone(),
            });
        }
        if !s.values.iter().any(|v| v.is_finite()) {
            return Err(FigureError::NoFiniteValues {
                path: path.to_path_buf(),
                name: s.label.clone(),
                dropped: s.values.len(),
            });
        }
    }
    let range = robust_range(series).ok_or_else(|| FigureError::InvalidArgument {
        path: path.to_path_buf(),
        reason: "no finite value in any series".into(),
    })?;
    let hist = shared_histogram(series, bins, range);
    let (lo, hi) = (hist.edges[0], hist.edges[hist.edges.len() - 1]);
    let top = hist.densities.iter().flatten().fold(0f64, |m, &d| m.max(d));
    let outside: usize = hist.outside.iter().sum();
    let note = format!(
        "shared bins: {bins} over {} to {} (0.5\u{2013}99.5 percentiles of each set); {outside} value{} outside not shown",
        short(lo),
        short(hi),
        if outside == 1 { "" } else { "s" },
    );
    let labels = Labels {
        title,
        x_label,
        y_label: "density",
        note: Some(&note),
    };
    let (width, height) = (900, 580);
    let tick_h = super::text::measure("0", axes::TICK_SIZE).1 as f64;
    let frame = Frame::layout(
        width,
        height,
        &labels,
        Axis::nice(lo, hi, 8),
        Axis::nice(0.0, top * 1.08, 6),
        tick_h,
    );
    let mut canvas = Canvas::new(width, height, Color::WHITE);
    frame.draw_grid(&mut canvas, false);
    let base = frame.y_px(0.0);
    // Fills first, outlines after, so every outline stays visible where fills overlap.
    for (k, dens) in hist.densities.iter().enumerate() {
        for (i, &d) in dens.iter().enumerate() {
            if d > 0.0 {
                let r = super::canvas::Rect {
                    x0: frame.x_px(hist.edges[i]),
                    x1: frame.x_px(hist.edges[i + 1]),
                    y0: frame.y_px(d),
                    y1: base,
                };
                canvas.fill_rect(r, series_color(k), 0.28);
            }
        }
    }
    for (k, dens) in hist.densities.iter().enumerate() {
        let mut pts = Vec::with_capacity(2 * dens.len() + 2);
        pts.push((frame.x_px(hist.edges[0]), base));
        for (i, &d) in dens.iter().enumerate() {
            pts.push((frame.x_px(hist.edges[i]), frame.y_px(d)));
            pts.push((frame.x_px(hist.edges[i + 1]), frame.y_px(d)));
        }
        pts.push((frame.x_px(hist.edges[dens.len()]), base));
        canvas.polyline(&pts, 1.8, series_color(k), 1.0, frame.plot);
    }
    frame.draw_axes(&mut canvas, &labels, true);
    let entries: Vec<LegendEntry> = series
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let mut label = format!("{} (n={}", s.label, hist.finite[k]);
            if hist.non_finite[k] > 0 {
                label.push_str(&format!(", {} non-finite dropped", hist.non_finite[k]));
            }
            label.push(')');
            LegendEntry {
                label,
                color: series_color(k),
                swatch: Swatch::Box,
            }
        })
        .collect();
    axes::draw_legend(&mut canvas, frame.plot, &entries);
    output::write_png(path, &canvas.into_image())
}

/// A number in at most four significant digits, for notes.
fn short(v: f64) -> String {
    let s = if v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-3) {
        format!("{v:.3e}")
    } else {
        let digits = (3 - v.abs().log10().floor() as i64).clamp(0, 6) as usize;
        format!("{v:.digits$}")
    };
    s.replace('-', "\u{2212}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn integral(h: &SharedHistogram, k: usize) -> f64 {
        h.densities[k]
            .iter()
            .enumerate()
            .map(|(i, d)| d * (h.edges[i + 1] - h.edges[i]))
            .sum()
    }

    #[test]
    fn bins_are_shared_and_densities_integrate_to_one() {
        let a = Series::new(
            "a",
            (0..1000).map(|i| (i as f64 * 0.37).sin() * 3.0).collect(),
        );
        let b = Series::new("b", (0..37).map(|i| i as f64 * 0.1 - 1.0).collect());
        let h = shared_histogram(&[a, b], 17, (-3.0, 3.0));
        assert_eq!(h.edges.len(), 18);
        assert_eq!(h.densities.len(), 2);
        assert_eq!(h.densities[0].len(), 17);
        assert_eq!(h.densities[1].len(), 17);
        assert_eq!(h.edges[0], -3.0);
        assert_eq!(h.edges[17], 3.0);
        for k in 0..2 {
            assert_eq!(h.outside[k], 0);
            assert!((integral(&h, k) - 1.0).abs() < 1e-12, "{}", integral(&h, k));
        }
        assert_eq!(h.finite, vec![1000, 37]);
    }

    #[test]
    fn counts_land_in_the_right_bins_and_upper_edge_is_inclusive() {
        let s = Series::new("s", vec![0.0, 0.49, 0.5, 1.0, 2.0, -0.1]);
        let h = shared_histogram(&[s], 2, (0.0, 1.0));
        // 0.0 and 0.49 in bin 0, 0.5 and 1.0 in bin 1; 2.0 and -0.1 outside.
        assert_eq!(h.outside, vec![2]);
        assert_eq!(h.finite, vec![6]);
        let w = 0.5;
        assert!((h.densities[0][0] - 2.0 / (6.0 * w)).abs() < 1e-12);
        assert!((h.densities[0][1] - 2.0 / (6.0 * w)).abs() < 1e-12);
        // Outside values keep their weight out of the bars: the area shown is the share inside.
        assert!((integral(&h, 0) - 4.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn non_finite_values_are_counted_not_binned() {
        let s = Series::new(
            "s",
            vec![1.0, f64::NAN, 2.0, f64::INFINITY, f64::NEG_INFINITY],
        );
        let h = shared_histogram(&[s], 4, (1.0, 2.0));
        assert_eq!(h.non_finite, vec![3]);
        assert_eq!(h.finite, vec![2]);
        assert!((integral(&h, 0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn robust_range_ignores_a_lone_outlier_but_keeps_a_small_distant_set() {
        let mut big: Vec<f64> = (0..10_000).map(|i| i as f64 / 10_000.0).collect();
        big.push(1e9);
        let small: Vec<f64> = (0..50).map(|i| 100.0 + i as f64).collect();
        let (lo, hi) =
            robust_range(&[Series::new("big", big), Series::new("small", small)]).unwrap();
        assert!(lo < 0.01, "{lo}");
        assert!(hi < 200.0 && hi > 148.0, "{hi}");
    }

    #[test]
    fn robust_range_of_nothing_finite_is_none() {
        assert_eq!(robust_range(&[Series::new("x", vec![f64::NAN])]), None);
    }

    #[test]
    fn degenerate_range_still_makes_one_wide_bin() {
        let h = shared_histogram(&[Series::new("c", vec![3.0; 5])], 1, (3.0, 3.0));
        assert_eq!(h.edges, vec![2.5, 3.5]);
        assert!((integral(&h, 0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn writes_png_and_rejects_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.png");
        let a = Series::new("in", (0..500).map(|i| (i as f64).sin()).collect());
        let b = Series::new("out", vec![0.5, f64::NAN, 0.7]);
        histogram_png(&path, "t", "x", &[a.clone(), b], 20).unwrap();
        let img = image::open(&path).unwrap();
        assert_eq!((img.width(), img.height()), (900, 580));

        let err = histogram_png(&path, "t", "x", &[], 20).unwrap_err();
        assert!(matches!(err, FigureError::EmptyInput { .. }));
        let err = histogram_png(
            &path,
            "t",
            "x",
            &[a.clone(), Series::new("void", vec![])],
            20,
        )
        .unwrap_err();
        assert!(err.to_string().contains("'void'"), "{err}");
        assert!(err.to_string().contains("h.png"), "{err}");
        let err = histogram_png(
            &path,
            "t",
            "x",
            &[a.clone(), Series::new("nan", vec![f64::NAN; 3])],
            20,
        )
        .unwrap_err();
        assert!(
            matches!(err, FigureError::NoFiniteValues { dropped: 3, .. }),
            "{err}"
        );
        let err = histogram_png(&path, "t", "x", &[a], 0).unwrap_err();
        assert!(matches!(err, FigureError::InvalidArgument { .. }));
    }
}
