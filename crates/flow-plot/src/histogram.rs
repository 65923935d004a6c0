//! Overlaid histograms of named score sets on shared bins, density-normalised so sets of
//! different sizes compare; the x axis breaks into panels when one group of sets lies so
//! far from another that a single axis would squeeze a group into a bin or two.

use std::path::Path;

use plotters::chart::ChartBuilder;
use plotters::element::{PathElement, Polygon};
use plotters::series::LineSeries;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, ShapeStyle};

use crate::chart::{self, LegendEntry, SwatchKind};
use crate::page::{Area, DrawError, Page};
use crate::style::{self, series_colour, AXIS, LABEL_SIZE, TICK_SIZE};
use crate::FigureError;

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
    series
        .iter()
        .filter_map(|s| clipped_range(&s.values))
        .reduce(|(a, b), (lo, hi)| (a.min(lo), b.max(hi)))
}

/// The [`CLIP_PERCENTILES`] of the finite values of one series; `None` if it has none.
fn clipped_range(values: &[f64]) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some((
        percentile(&v, CLIP_PERCENTILES.0),
        percentile(&v, CLIP_PERCENTILES.1),
    ))
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
///
/// The edges and counts are flow-ood's [`SharedHistogram`](flow_ood::SharedHistogram)
/// (NumPy's binning, golden-tested there), so a figure shows exactly the bins the
/// metrics crate reports; this adds what a figure needs: non-finite values counted and
/// left out, and densities over all finite values of a series (the clipped tails
/// included), so the bars of a series with far outliers do not grow to make up for them.
pub fn shared_histogram(series: &[Series], bins: usize, range: (f64, f64)) -> SharedHistogram {
    let bins = bins.max(1);
    let (lo, hi) = if range.1 > range.0 {
        range
    } else {
        (range.0 - 0.5, range.0 + 0.5)
    };
    let finite_values: Vec<Vec<f64>> = series
        .iter()
        .map(|s| s.values.iter().copied().filter(|v| v.is_finite()).collect())
        .collect();
    let options = flow_ood::HistogramOptions {
        bins,
        range: Some((lo, hi)),
    };
    // flow-ood refuses an empty set: bin the others (or, with none, the range's own ends
    // for the edges) and give the empty ones no bars.
    let present: Vec<&[f64]> = finite_values
        .iter()
        .filter(|v| !v.is_empty())
        .map(Vec::as_slice)
        .collect();
    let ends = [lo, hi];
    let binned = if present.is_empty() {
        flow_ood::SharedHistogram::new(&[&ends[..]], options)
    } else {
        flow_ood::SharedHistogram::new(&present, options)
    };
    let (edges, mut counts, mut outside) = match binned {
        Ok(h) => (h.edges, h.counts.into_iter(), h.outside.into_iter()),
        // Only a range that is not finite gets here: no bars at all.
        Err(_) => (vec![lo, hi], Vec::new().into_iter(), Vec::new().into_iter()),
    };
    let bins = edges.len() - 1;
    let widths: Vec<f64> = edges.windows(2).map(|w| w[1] - w[0]).collect();
    let mut out = SharedHistogram {
        edges,
        densities: Vec::with_capacity(series.len()),
        finite: Vec::with_capacity(series.len()),
        non_finite: Vec::with_capacity(series.len()),
        outside: Vec::with_capacity(series.len()),
    };
    for (s, finite) in series.iter().zip(&finite_values) {
        let n = finite.len();
        let (set_counts, set_outside) = if n > 0 {
            (
                counts.next().unwrap_or_else(|| vec![0; bins]),
                outside.next().unwrap_or(0),
            )
        } else {
            (vec![0; bins], 0)
        };
        out.densities.push(
            set_counts
                .iter()
                .zip(&widths)
                .map(|(&c, w)| {
                    if n > 0 {
                        c as f64 / (n as f64 * w)
                    } else {
                        0.0
                    }
                })
                .collect(),
        );
        out.finite.push(n);
        out.non_finite.push(s.values.len() - n);
        out.outside.push(set_outside as usize);
    }
    out
}

/// On one linear axis, a group of sets narrower than this share of the axis gets about
/// one bin of the usual 60 and its shape is lost; the axis is broken instead. (A lone
/// narrow set, such as noise images scored in a tight band beside the data, is left on
/// the common axis up to this point: a spike reads as a spike.)
const SQUEEZED_SHARE: f64 = 0.02;
/// Groups of sets closer than this share of the whole range always share a panel: a
/// break there would save little room and cost a second scale to read.
const NEAR_SHARE: f64 = 0.05;
/// At most this many panels side by side; beyond it the closest groups merge.
const MAX_PANELS: usize = 3;

/// The x ranges a histogram of `series` is drawn over, left to right: one range (a plain
/// axis over [`robust_range`]), or, when the sets fall into groups far apart and one of
/// them would be squeezed into a bin or two on a single axis (a set at 500 bits/dim
/// beside sets at 3 bits/dim), one range per group: a broken axis. Sets whose clipped
/// ranges lie within the narrower of the two groups' widths of each other (or within 5% of
/// the whole range) share a group. Empty when no series has a finite value.
pub(crate) fn axis_segments(series: &[Series]) -> Vec<(f64, f64)> {
    let mut ranges: Vec<(f64, f64)> = series
        .iter()
        .filter_map(|s| clipped_range(&s.values))
        .collect();
    ranges.sort_by(|a, b| a.0.total_cmp(&b.0));
    let Some(&(lo, _)) = ranges.first() else {
        return Vec::new();
    };
    let hi = ranges.iter().map(|r| r.1).fold(f64::NEG_INFINITY, f64::max);
    let span = hi - lo;
    if span <= 0.0 {
        return vec![(lo, hi)];
    }
    let mut groups: Vec<(f64, f64)> = Vec::new();
    for (a, b) in ranges {
        if let Some(last) = groups.last_mut() {
            let narrower = (last.1 - last.0).min(b - a);
            if a - last.1 <= narrower.max(NEAR_SHARE * span) {
                last.1 = last.1.max(b);
                continue;
            }
        }
        groups.push((a, b));
    }
    // A group of one repeated value is a spike at any scale; only a group with a shape
    // to lose asks for a break.
    let squeezed = groups
        .iter()
        .any(|&(a, b)| b > a && b - a < SQUEEZED_SHARE * span);
    if groups.len() < 2 || !squeezed {
        return vec![(lo, hi)];
    }
    while groups.len() > MAX_PANELS {
        let gap = |i: usize| groups[i + 1].0 - groups[i].1;
        let i = (0..groups.len() - 1)
            .min_by(|&i, &j| gap(i).total_cmp(&gap(j)))
            .unwrap_or(0);
        groups[i].1 = groups[i].1.max(groups[i + 1].1);
        groups.remove(i + 1);
    }
    groups
}

/// A squeezed set on one axis, with every clipped value positive and the largest at
/// least this many times the smallest, asks for a log axis.
const LOG_RATIO: f64 = 20.0;

/// Whether `series`, drawn on one linear axis, squeeze a set into a bin or two while
/// all their clipped ranges are positive and span more than [`LOG_RATIO`]: a far tail
/// that overlaps the bulk (negative training spreads MNIST from 8 to 1,800 bits/dim
/// beside FashionMNIST at 3 to 5), which no break can separate but a log axis shows.
pub(crate) fn wants_log_axis(series: &[Series]) -> bool {
    let ranges: Vec<(f64, f64)> = series
        .iter()
        .filter_map(|s| clipped_range(&s.values))
        .collect();
    let lo = ranges.iter().map(|r| r.0).fold(f64::INFINITY, f64::min);
    let hi = ranges.iter().map(|r| r.1).fold(f64::NEG_INFINITY, f64::max);
    if ranges.is_empty() || lo <= 0.0 || hi < LOG_RATIO * lo {
        return false;
    }
    let span = hi - lo;
    ranges
        .iter()
        .any(|&(a, b)| b > a && b - a < SQUEEZED_SHARE * span)
}

/// `series` with every value replaced by its base-10 logarithm (non-positive values
/// become NaN and are dropped like other non-finite values).
fn log10_series(series: &[Series]) -> Vec<Series> {
    series
        .iter()
        .map(|s| Series {
            label: s.label.clone(),
            values: s
                .values
                .iter()
                .map(|&v| if v > 0.0 { v.log10() } else { f64::NAN })
                .collect(),
        })
        .collect()
}

/// One panel of a (possibly broken) histogram: its x range, bins and densities.
struct HistogramPanel {
    /// Share of the plotting width.
    width_share: f64,
    hist: SharedHistogram,
}

/// The panels over `segments`: a squeezed group still gets a fair share of the width (at
/// least 80% of the widest panel's square-root share) and of the `bins`.
fn plan_panels(series: &[Series], segments: &[(f64, f64)], bins: usize) -> Vec<HistogramPanel> {
    let widths: Vec<f64> = segments.iter().map(|(a, b)| b - a).collect();
    let total: f64 = widths.iter().sum();
    let raw: Vec<f64> = widths
        .iter()
        .map(|w| if total > 0.0 { (w / total).sqrt() } else { 1.0 })
        .collect();
    let top = raw.iter().copied().fold(0.0, f64::max);
    let weights: Vec<f64> = raw.iter().map(|r| r.max(0.8 * top)).collect();
    let sum: f64 = weights.iter().sum();
    segments
        .iter()
        .zip(&weights)
        .map(|(&range, w)| {
            let share = w / sum;
            let panel_bins = if segments.len() == 1 {
                bins
            } else {
                ((bins as f64 * share).round() as usize).max(bins.min(10))
            };
            HistogramPanel {
                width_share: share,
                hist: shared_histogram(series, panel_bins, range),
            }
        })
        .collect()
}

/// How many finite values of `series` lie in none of the `segments`.
fn outside_all(series: &[Series], segments: &[(f64, f64)]) -> usize {
    series
        .iter()
        .flat_map(|s| s.values.iter())
        .filter(|v| v.is_finite() && !segments.iter().any(|(a, b)| (*a..=*b).contains(*v)))
        .count()
}

/// Writes overlaid, semi-transparent step histograms of `series` on shared bins to `path`.
///
/// The bins span [`robust_range`] (each series' 0.5–99.5 percentiles), which a note under
/// the x label states together with how many values fell outside. When the sets fall into
/// groups so far apart that one group would be squeezed into a bin or two (a model that
/// puts one data set at 500 bits/dim and the rest at 3), the x axis is broken: one panel
/// per group, each with its own bins and density scale, marked with `//` on the axis.
/// When a far tail overlaps the bulk instead (no gap to break at) and every value is
/// positive, the x axis is logarithmic (bins of equal width in log10, density per log10
/// unit), which the note under the x label says. Densities are normalised by each series' finite count. The legend, right of the plot,
/// gives each label with its n and, when there were any, how many non-finite values were
/// dropped. Each series has its own colour up to twelve series.
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
    let single_axis = axis_segments(series).len() == 1;
    let log_x = single_axis && wants_log_axis(series);
    let logged;
    let series = if log_x {
        logged = log10_series(series);
        logged.as_slice()
    } else {
        series
    };
    let segments = axis_segments(series);
    if segments.is_empty() {
        return Err(FigureError::InvalidArgument {
            path: path.to_path_buf(),
            reason: "no finite value in any series".into(),
        });
    }
    let panels = plan_panels(series, &segments, bins);
    let outside = outside_all(series, &segments);
    let plural = if outside == 1 { "" } else { "s" };
    let note = if let ([panel], true) = (panels.as_slice(), log_x) {
        let edges = &panel.hist.edges;
        format!(
            "log x axis: {bins} bins of equal width in log10 over {} to {} (0.5\u{2013}99.5 \
             percentiles of each set); {outside} value{plural} outside not shown",
            style::short(10f64.powf(edges[0])),
            style::short(10f64.powf(edges[edges.len() - 1])),
        )
    } else if let [panel] = panels.as_slice() {
        let edges = &panel.hist.edges;
        format!(
            "shared bins: {bins} over {} to {} (0.5\u{2013}99.5 percentiles of each set); \
             {outside} value{plural} outside not shown",
            style::short(edges[0]),
            style::short(edges[edges.len() - 1]),
        )
    } else {
        format!(
            "x axis broken (//): each panel has its own bins and density scale; bins cover the \
             0.5\u{2013}99.5 percentiles of each set; {outside} value{plural} outside not shown"
        )
    };
    let first = &panels[0].hist;
    let labels: Vec<String> = series
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let mut label = format!("{} (n={}", s.label, first.finite[k]);
            if first.non_finite[k] > 0 {
                label.push_str(&format!(", {} non-finite dropped", first.non_finite[k]));
            }
            label.push(')');
            label
        })
        .collect();
    let legend_w = chart::legend_width(labels.iter().map(String::as_str));
    let mut page = Page::new(path, 900 + legend_w as usize, 580)?;
    page.draw(path, |root| {
        let text = Captions {
            title,
            x_label,
            note: &note,
            labels: &labels,
        };
        draw_histogram(root, &text, &panels, legend_w, log_x)
    })?;
    page.write(path)
}

/// At most this many density labels: plotters then steps by 1, 2 or 5 times a power of
/// ten, which leaves at least four labels on the axis.
const Y_TICKS: usize = 8;

/// Horizontal room between the panels of a broken axis.
const PANEL_GAP: u32 = 26;

/// The words on a histogram: title, x label, the note under it and the legend's labels.
struct Captions<'a> {
    title: &'a str,
    x_label: &'a str,
    note: &'a str,
    labels: &'a [String],
}

fn draw_histogram(
    root: &Area<'_>,
    text: &Captions<'_>,
    panels: &[HistogramPanel],
    legend_w: u32,
    log_x: bool,
) -> Result<(), DrawError> {
    let Captions {
        title,
        x_label,
        note,
        labels,
    } = *text;
    let body = chart::draw_title(root, title)?;
    let (_, h) = body.dim_in_pixel();
    let (body, note_area) = body.split_vertically(h.saturating_sub(24));
    chart::draw_note(&note_area, note)?;
    let broken = panels.len() > 1;
    let (plots, x_label_area) = if broken {
        let (_, h) = body.dim_in_pixel();
        let (p, l) = body.split_vertically(h.saturating_sub(LABEL_SIZE as u32 + 12));
        (p, Some(l))
    } else {
        (body, None)
    };
    let plots = plots.margin(0, 0, 12, 12);

    // Each panel: its y range, formatters and the room its y labels need.
    struct Axes {
        top: f64,
        y_format: Box<dyn Fn(&f64) -> String>,
        y_area: u32,
    }
    let axes: Vec<Axes> = panels
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let top = p
                .hist
                .densities
                .iter()
                .flatten()
                .fold(0f64, |m, &d| m.max(d));
            let top = if top > 0.0 { top * 1.08 } else { 1.0 };
            let y_format = Box::new(style::tick_formatter(0.0, top, Y_TICKS));
            let y_area = chart::y_label_area(0.0, top, Y_TICKS, &y_format, i == 0);
            Axes {
                top,
                y_format,
                y_area,
            }
        })
        .collect();
    let (plots_w, _) = plots.dim_in_pixel();
    let fixed: u32 = axes.iter().map(|a| a.y_area).sum::<u32>()
        + legend_w
        + PANEL_GAP * (panels.len() as u32 - 1);
    let plot_room = plots_w.saturating_sub(fixed).max(100 * panels.len() as u32);

    let mut rest = plots;
    let mut frames = Vec::with_capacity(panels.len());
    for (i, (panel, ax)) in panels.iter().zip(&axes).enumerate() {
        let last = i + 1 == panels.len();
        let plot_w = (plot_room as f64 * panel.width_share).round() as u32;
        let area = if last {
            rest.clone()
        } else {
            let (a, r) = rest.split_horizontally(ax.y_area + plot_w);
            rest = r.margin(0, 0, PANEL_GAP, 0);
            a
        };
        let edges = &panel.hist.edges;
        let (lo, hi) = (edges[0], edges[edges.len() - 1]);
        let x_ticks = chart::label_count(plot_w, 90);
        // On a log axis the panel runs over log10 values; its labels show the values.
        let linear_format = style::tick_formatter(lo, hi, x_ticks);
        let x_format = move |v: &f64| {
            if log_x {
                style::short(10f64.powf(*v))
            } else {
                linear_format(v)
            }
        };
        let x_area = if broken {
            TICK_SIZE as u32 + 16
        } else {
            TICK_SIZE as u32 + LABEL_SIZE as u32 + 30
        };
        let mut c = ChartBuilder::on(&area)
            .margin_top(6)
            .margin_right(if last { legend_w } else { 0 })
            .x_label_area_size(x_area)
            .y_label_area_size(ax.y_area)
            .build_cartesian_2d(lo..hi, 0.0..ax.top)?;
        let mut mesh = c.configure_mesh();
        chart::mesh_style(&mut mesh);
        mesh.disable_x_mesh()
            .x_labels(x_ticks)
            .y_labels(Y_TICKS)
            .x_label_formatter(&x_format)
            .y_label_formatter(&ax.y_format);
        if i == 0 {
            mesh.y_desc(if log_x {
                "density per log10 unit"
            } else {
                "density"
            });
        }
        if !broken {
            mesh.x_desc(x_label);
        }
        mesh.draw()?;
        // Fills first, outlines after, so every outline stays visible where fills overlap.
        // One polygon per set (not a rectangle per bin) so neighbouring bins leave no seams.
        for (k, dens) in panel.hist.densities.iter().enumerate() {
            if let Some(points) = step_outline(edges, dens) {
                let fill = series_colour(k).mix(0.28).filled();
                c.draw_series(std::iter::once(Polygon::new(points, fill)))?;
            }
        }
        for (k, dens) in panel.hist.densities.iter().enumerate() {
            if let Some(points) = step_outline(edges, dens) {
                c.draw_series(LineSeries::new(points, series_colour(k).stroke_width(2)))?;
            }
        }
        frames.push(c.plotting_area().get_pixel_range());
    }

    let entries: Vec<LegendEntry> = labels
        .iter()
        .enumerate()
        .map(|(k, label)| LegendEntry {
            label: label.clone(),
            colour: series_colour(k),
            kind: SwatchKind::Box(0.28),
        })
        .collect();
    if let Some(f) = frames.last() {
        chart::draw_legend(root, (f.0.end, f.1.start), &entries)?;
    }
    if let Some(area) = x_label_area {
        let x0 = frames.first().map_or(0, |f| f.0.start);
        let x1 = frames.last().map_or(0, |f| f.0.end);
        let (base_x, _) = area.get_base_pixel();
        let style = style::font(LABEL_SIZE).pos(Pos::new(HPos::Center, VPos::Top));
        area.draw_text(x_label, &style, ((x0 + x1) / 2 - base_x, 4))?;
    }
    // The break marks: a pair of slashes at both ends of each break.
    let marks = ShapeStyle::from(AXIS).stroke_width(2);
    for pair in frames.windows(2) {
        // Inside each plot's end of the axis, clear of the next panel's tick labels.
        for (x, inward) in [(pair[0].0.end, -1), (pair[1].0.start, 1)] {
            let y = pair[0].1.end;
            for dx in [5 * inward, 11 * inward] {
                root.draw(&PathElement::new(
                    vec![(x + dx - 4, y + 6), (x + dx + 4, y - 6)],
                    marks,
                ))?;
            }
        }
    }
    Ok(())
}

/// The outline of one series' bars: up from the axis at the first bin with mass, along
/// the tops, down at the last. `None` when the series has no mass here.
fn step_outline(edges: &[f64], dens: &[f64]) -> Option<Vec<(f64, f64)>> {
    let first = dens.iter().position(|&d| d > 0.0)?;
    let last = dens.iter().rposition(|&d| d > 0.0)?;
    let mut points = Vec::with_capacity(2 * (last - first + 1) + 2);
    points.push((edges[first], 0.0));
    for (j, &d) in dens.iter().enumerate().take(last + 1).skip(first) {
        points.push((edges[j], d));
        points.push((edges[j + 1], d));
    }
    points.push((edges[last + 1], 0.0));
    Some(points)
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
        let legend = chart::legend_width(["in (n=500)", "out (n=2, 1 non-finite dropped)"]);
        assert_eq!((img.width(), img.height()), (900 + legend, 580));

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

    fn normal(n: usize, mean: f64, sd: f64) -> Vec<f64> {
        // A deterministic spread: evenly spaced quantiles of a triangle, close enough to
        // a bell for binning tests.
        (0..n)
            .map(|i| {
                let u = (i as f64 + 0.5) / n as f64;
                let t = if u < 0.5 {
                    (2.0 * u).sqrt() - 1.0
                } else {
                    1.0 - (2.0 * (1.0 - u)).sqrt()
                };
                mean + 2.0 * sd * t
            })
            .collect()
    }

    #[test]
    fn close_sets_share_one_axis() {
        let sets = [
            Series::new("train", normal(500, 3.0, 0.3)),
            Series::new("mnist", normal(500, 2.1, 0.35)),
            Series::new("noise", normal(200, 8.0, 0.05)),
        ];
        assert_eq!(axis_segments(&sets).len(), 1);
        assert_eq!(axis_segments(&sets)[0], robust_range(&sets).unwrap());
    }

    #[test]
    fn a_far_tail_breaks_the_axis_into_groups() {
        let sets = [
            Series::new("train", normal(400, 3.0, 0.3)),
            Series::new("test", normal(400, 3.05, 0.3)),
            Series::new("mnist", normal(1000, 480.0, 150.0)),
            Series::new("noise", normal(200, 5.4, 0.05)),
        ];
        let segments = axis_segments(&sets);
        assert_eq!(segments.len(), 2, "{segments:?}");
        let (near, far) = (segments[0], segments[1]);
        assert!(near.0 > 1.5 && near.1 < 6.0, "{near:?}");
        assert!(far.0 > 100.0 && far.1 < 900.0, "{far:?}");
        // Each panel gets a fair share of the width and of the bins.
        let panels = plan_panels(&sets, &segments, 60);
        assert!(panels[0].width_share > 0.4, "{}", panels[0].width_share);
        assert!(panels.iter().all(|p| p.hist.edges.len() > 10));
        assert_eq!(outside_all(&sets, &segments), {
            let a = &panels[0].hist;
            let b = &panels[1].hist;
            // Every value outside both panels is outside each of them.
            (0..sets.len())
                .map(|k| a.outside[k].min(b.outside[k]))
                .sum::<usize>()
        });
    }

    #[test]
    fn many_far_groups_make_at_most_three_panels() {
        let sets: Vec<Series> = [0.0, 1000.0, 2000.0, 3000.0]
            .iter()
            .map(|&m| Series::new(format!("at {m}"), normal(100, m, 1.0)))
            .collect();
        let segments = axis_segments(&sets);
        assert_eq!(segments.len(), 3, "{segments:?}");
        assert!(segments.windows(2).all(|w| w[0].1 < w[1].0));
    }

    #[test]
    fn constant_sets_alone_never_break_the_axis() {
        let sets = [
            Series::new("a", vec![1.0; 10]),
            Series::new("b", vec![900.0; 10]),
        ];
        assert_eq!(axis_segments(&sets), vec![(1.0, 900.0)]);
        assert!(axis_segments(&[Series::new("nan", vec![f64::NAN])]).is_empty());
    }

    /// How many pixels wide the outline of colour `c` is on the plot, left of the
    /// legend (whose swatch has the same colour).
    fn plotted_span(img: &image::RgbImage, c: plotters::style::RGBColor) -> u32 {
        let legend_left = 850;
        let xs: Vec<u32> = img
            .enumerate_pixels()
            .filter(|(x, _, p)| *x < legend_left && p.0 == [c.0, c.1, c.2])
            .map(|(x, _, _)| x)
            .collect();
        xs.iter().max().unwrap() - xs.iter().min().unwrap()
    }

    #[test]
    fn a_broken_axis_draws_both_groups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("far.png");
        let sets = [
            Series::new("train", normal(400, 3.0, 0.3)),
            Series::new("mnist", normal(1000, 480.0, 150.0)),
        ];
        histogram_png(&path, "negative training", "bits/dim", &sets, 60).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        // Both series' outlines are on the page, and the train set's outline has width:
        // on one linear axis it would be a single bin.
        for k in 0..2 {
            let c = series_colour(k);
            let span = plotted_span(&img, c);
            assert!(span > 150, "series {k} spans {span} px");
        }
    }

    #[test]
    fn a_far_tail_over_the_bulk_gets_a_log_axis() {
        // Negative training: the held-out digits spread from 8 to 1,800 bits/dim and
        // overlap nothing to break at, beside the training set at 3 to 5.
        let tail: Vec<f64> = (0..1000).map(|i| 8.0 + 1.8 * f64::from(i)).collect();
        let sets = [
            Series::new("train", normal(1000, 4.0, 0.3)),
            Series::new("mnist", tail),
        ];
        assert_eq!(axis_segments(&sets).len(), 1);
        assert!(wants_log_axis(&sets));
        // Not when a value is not positive, nor when no set is squeezed.
        let mut shifted = sets.clone();
        shifted[0].values.push(-1.0);
        shifted[0].values.extend(vec![-1.0; 20]);
        assert!(!wants_log_axis(&shifted));
        assert!(!wants_log_axis(&[
            Series::new("a", normal(500, 4.0, 0.3)),
            Series::new("b", normal(500, 5.0, 0.3)),
        ]));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tail.png");
        histogram_png(&path, "negative training", "bits/dim", &sets, 60).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        // The training set's outline has width: on a linear axis it would be one bin.
        let span = plotted_span(&img, series_colour(0));
        assert!(span > 30, "the training set spans {span} px");
    }
}
