//! Chart furniture shared by every plot: "nice" tick positions and their labels, the page
//! layout (title, axis labels, an optional note, the plot rectangle), and the legend.

use super::canvas::{Canvas, Color, Rect};
use super::text::{self, HAlign, VAlign};

pub(crate) const TITLE_SIZE: f32 = 22.0;
pub(crate) const LABEL_SIZE: f32 = 17.0;
pub(crate) const TICK_SIZE: f32 = 14.0;
pub(crate) const LEGEND_SIZE: f32 = 14.0;
pub(crate) const NOTE_SIZE: f32 = 13.0;
const PAD: f64 = 12.0;
const TICK_LEN: f64 = 5.0;

/// One numeric axis: the data range it spans and where its labelled ticks sit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<f64>,
    pub labels: Vec<String>,
}

impl Axis {
    /// An axis over exactly `lo..hi` with about `target` ticks at 1, 2 or 5 times a power
    /// of ten. A degenerate range is widened so a constant still gets an axis.
    pub(crate) fn nice(lo: f64, hi: f64, target: usize) -> Axis {
        let (lo, hi) = widen(lo, hi);
        let step = nice_step(hi - lo, target.max(2));
        let first = (lo / step - 1e-9).ceil() as i64;
        let last = (hi / step + 1e-9).floor() as i64;
        let ticks: Vec<f64> = (first..=last).map(|k| k as f64 * step).collect();
        let labels = format_ticks(&ticks, step);
        Axis {
            lo,
            hi,
            ticks,
            labels,
        }
    }

    /// An axis over `lo..hi` padded by `frac` of the span on both sides.
    pub(crate) fn padded(lo: f64, hi: f64, frac: f64, target: usize) -> Axis {
        let (lo, hi) = widen(lo, hi);
        let pad = (hi - lo) * frac;
        Axis::nice(lo - pad, hi + pad, target)
    }
}

fn widen(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        (lo, hi)
    } else {
        let d = (lo.abs() * 0.05).max(0.5);
        (lo - d, hi + d)
    }
}

/// The step among 1, 2, 5 × 10^k closest to giving `target` intervals over `span`.
pub(crate) fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span / target as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let unit = if norm < 1.5 {
        1.0
    } else if norm < 3.0 {
        2.0
    } else if norm < 7.0 {
        5.0
    } else {
        10.0
    };
    unit * mag
}

/// Labels with just enough decimals to tell neighbouring ticks apart; scientific
/// notation for very large or very small magnitudes; a true minus sign.
pub(crate) fn format_ticks(ticks: &[f64], step: f64) -> Vec<String> {
    let largest = ticks.iter().fold(0f64, |m, t| m.max(t.abs()));
    let scientific = largest >= 1e6 || (step < 1e-3 && largest > 0.0);
    ticks
        .iter()
        .map(|&t| {
            let t = if t.abs() < step * 1e-6 { 0.0 } else { t };
            let s = if scientific && t == 0.0 {
                "0".to_string()
            } else if scientific {
                let digits =
                    ((largest.log10().floor() - step.log10().floor()).max(0.0) as usize).min(6);
                format!("{t:.digits$e}")
            } else {
                let decimals = (-(step.log10() + 1e-9).floor()).max(0.0) as usize;
                format!("{t:.decimals$}")
            };
            s.replace('-', "\u{2212}")
        })
        .collect()
}

/// The words around a chart.
pub(crate) struct Labels<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    /// A smaller grey line under the x label (e.g. how the range was clipped).
    pub note: Option<&'a str>,
}

/// A laid-out chart: where the plot area sits and how data map to pixels.
pub(crate) struct Frame {
    pub plot: Rect,
    pub x: Axis,
    pub y: Axis,
}

impl Frame {
    /// Lays out a `width` by `height` page: title on top, y label and y tick labels on the
    /// left, x tick labels (`x_ticks_height` pixels tall) and x label and note below.
    pub(crate) fn layout(
        width: usize,
        height: usize,
        labels: &Labels<'_>,
        x: Axis,
        y: Axis,
        x_ticks_height: f64,
    ) -> Frame {
        let title_h = text::measure(labels.title, title_size(labels.title, width)).1 as f64;
        let label_h = x_label_height(labels);
        let note_h = labels
            .note
            .map_or(0.0, |n| text::measure(n, NOTE_SIZE).1 as f64 + 4.0);
        let y_label_w = text::measure("Ag", LABEL_SIZE).1 as f64;
        let y_tick_w = y
            .labels
            .iter()
            .map(|l| text::measure(l, TICK_SIZE).0)
            .max()
            .unwrap_or(0) as f64;
        let last_x_label_w = x
            .labels
            .last()
            .map_or(0.0, |l| text::measure(l, TICK_SIZE).0 as f64);
        let top = PAD + title_h + 10.0;
        let left = PAD + y_label_w + 8.0 + y_tick_w + TICK_LEN + 4.0;
        let bottom = TICK_LEN + 4.0 + x_ticks_height + 8.0 + label_h + note_h + PAD;
        let right = (last_x_label_w / 2.0 + 4.0).max(24.0);
        let plot = Rect {
            x0: left.round(),
            y0: top.round(),
            x1: (width as f64 - right).round(),
            y1: (height as f64 - bottom).round(),
        };
        Frame { plot, x, y }
    }

    /// Pixel column of data value `v` on the x axis.
    pub(crate) fn x_px(&self, v: f64) -> f64 {
        self.plot.x0 + (v - self.x.lo) / (self.x.hi - self.x.lo) * self.plot.width()
    }

    /// Pixel row of data value `v` on the y axis (up is larger).
    pub(crate) fn y_px(&self, v: f64) -> f64 {
        self.plot.y1 - (v - self.y.lo) / (self.y.hi - self.y.lo) * self.plot.height()
    }

    /// Draws the grid lines (horizontal always, vertical when `x_grid`) under the data.
    pub(crate) fn draw_grid(&self, canvas: &mut Canvas, x_grid: bool) {
        for &t in &self.y.ticks {
            let py = self.y_px(t).round();
            if py > self.plot.y0 && py < self.plot.y1 - 1.0 {
                canvas.hline(self.plot.x0, self.plot.x1 - 1.0, py, Color::GRID);
            }
        }
        if x_grid {
            for &t in &self.x.ticks {
                let px = self.x_px(t).round();
                if px > self.plot.x0 && px < self.plot.x1 - 1.0 {
                    canvas.vline(px, self.plot.y0, self.plot.y1 - 1.0, Color::GRID);
                }
            }
        }
    }

    /// Draws the frame, y ticks, optionally numeric x ticks, title, axis labels and note.
    pub(crate) fn draw_axes(&self, canvas: &mut Canvas, labels: &Labels<'_>, numeric_x: bool) {
        canvas.stroke_rect(self.plot, Color::AXIS);
        for (t, l) in self.y.ticks.iter().zip(&self.y.labels) {
            let py = self.y_px(*t).round();
            canvas.hline(self.plot.x0 - TICK_LEN, self.plot.x0 - 1.0, py, Color::AXIS);
            text::draw(
                canvas,
                l,
                (self.plot.x0 - TICK_LEN - 4.0, py),
                TICK_SIZE,
                Color::TEXT,
                (HAlign::Right, VAlign::Middle),
            );
        }
        if numeric_x {
            for (t, l) in self.x.ticks.iter().zip(&self.x.labels) {
                let px = self.x_px(*t).round();
                canvas.vline(px, self.plot.y1, self.plot.y1 + TICK_LEN, Color::AXIS);
                text::draw(
                    canvas,
                    l,
                    (px, self.plot.y1 + TICK_LEN + 4.0),
                    TICK_SIZE,
                    Color::TEXT,
                    (HAlign::Center, VAlign::Top),
                );
            }
        }
        let cx = (self.plot.x0 + self.plot.x1) / 2.0;
        text::draw(
            canvas,
            labels.title,
            (canvas.width() as f64 / 2.0, PAD),
            title_size(labels.title, canvas.width()),
            Color::TEXT,
            (HAlign::Center, VAlign::Top),
        );
        let label_h = x_label_height(labels);
        let note_h = labels
            .note
            .map_or(0.0, |n| text::measure(n, NOTE_SIZE).1 as f64 + 4.0);
        let label_top = canvas.height() as f64 - PAD - note_h - label_h;
        text::draw(
            canvas,
            labels.x_label,
            (cx, label_top),
            LABEL_SIZE,
            Color::TEXT,
            (HAlign::Center, VAlign::Top),
        );
        if let Some(note) = labels.note {
            text::draw(
                canvas,
                note,
                (cx, label_top + label_h + 4.0),
                NOTE_SIZE,
                Color::NOTE,
                (HAlign::Center, VAlign::Top),
            );
        }
        let y_label_w = text::measure("Ag", LABEL_SIZE).1 as f64;
        text::draw_vertical(
            canvas,
            labels.y_label,
            PAD + y_label_w / 2.0,
            (self.plot.y0 + self.plot.y1) / 2.0,
            LABEL_SIZE,
            Color::TEXT,
        );
    }
}

/// The title's font size: the usual one, smaller when a long title would not fit the page.
fn title_size(title: &str, width: usize) -> f32 {
    let w = text::measure(title, TITLE_SIZE).0 as f32;
    let room = width as f32 - 2.0 * PAD as f32;
    if w > room && w > 0.0 {
        (TITLE_SIZE * room / w).max(9.0)
    } else {
        TITLE_SIZE
    }
}

/// Height the x label takes (nothing when there is none, as under bar-chart categories).
fn x_label_height(labels: &Labels<'_>) -> f64 {
    if labels.x_label.is_empty() {
        0.0
    } else {
        text::measure("Ag", LABEL_SIZE).1 as f64
    }
}

/// How a legend entry shows its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Swatch {
    Line,
    Dashed,
    /// A translucent box with an outline, for overlaid histograms.
    Box,
    /// An opaque box, for bars.
    Solid,
}

/// One legend line.
pub(crate) struct LegendEntry {
    pub label: String,
    pub color: Color,
    pub swatch: Swatch,
}

/// Draws the legend in whichever inside corner of the plot covers the least ink already
/// drawn, so it hides as little data as it can; its background is nearly opaque white.
pub(crate) fn draw_legend(canvas: &mut Canvas, plot: Rect, entries: &[LegendEntry]) {
    if entries.is_empty() {
        return;
    }
    let row_h = text::measure("Ag", LEGEND_SIZE).1 as f64 + 4.0;
    let swatch_w = 26.0;
    let text_w = entries
        .iter()
        .map(|e| text::measure(&e.label, LEGEND_SIZE).0)
        .max()
        .unwrap_or(0) as f64;
    let w = (8.0 + swatch_w + 8.0 + text_w + 10.0).min(plot.width() - 12.0);
    let h = 6.0 + row_h * entries.len() as f64 + 4.0;
    let inset = 8.0;
    let corners = [
        (plot.x1 - inset - w, plot.y0 + inset),
        (plot.x0 + inset, plot.y0 + inset),
        (plot.x1 - inset - w, plot.y1 - inset - h),
        (plot.x0 + inset, plot.y1 - inset - h),
    ];
    let mut best = corners[0];
    let mut best_ink = usize::MAX;
    for &(x, y) in &corners {
        let ink = ink_in(
            canvas,
            Rect {
                x0: x,
                y0: y,
                x1: x + w,
                y1: y + h,
            },
        );
        if ink < best_ink {
            best_ink = ink;
            best = (x, y);
        }
    }
    let (x, y) = (best.0.round(), best.1.round());
    let bx = Rect {
        x0: x,
        y0: y,
        x1: x + w.round(),
        y1: y + h.round(),
    };
    canvas.fill_rect(bx, Color::WHITE, 0.88);
    canvas.stroke_rect(bx, Color(190, 190, 190));
    for (i, e) in entries.iter().enumerate() {
        let cy = y + 6.0 + row_h * (i as f64 + 0.5);
        let sx = x + 8.0;
        match e.swatch {
            Swatch::Line => {
                canvas.polyline(&[(sx, cy), (sx + swatch_w, cy)], 2.5, e.color, 1.0, bx)
            }
            Swatch::Dashed => {
                canvas.polyline(&[(sx, cy), (sx + 10.0, cy)], 1.5, e.color, 1.0, bx);
                canvas.polyline(
                    &[(sx + 16.0, cy), (sx + swatch_w, cy)],
                    1.5,
                    e.color,
                    1.0,
                    bx,
                );
            }
            Swatch::Box => {
                let r = Rect {
                    x0: sx,
                    y0: cy - 6.0,
                    x1: sx + swatch_w,
                    y1: cy + 6.0,
                };
                canvas.fill_rect(r, e.color, 0.45);
                canvas.stroke_rect(r, e.color);
            }
            Swatch::Solid => {
                let r = Rect {
                    x0: sx,
                    y0: cy - 6.0,
                    x1: sx + swatch_w,
                    y1: cy + 6.0,
                };
                canvas.fill_rect(r, e.color, 0.9);
            }
        }
        text::draw(
            canvas,
            &e.label,
            (sx + swatch_w + 8.0, cy),
            LEGEND_SIZE,
            Color::TEXT,
            (HAlign::Left, VAlign::Middle),
        );
    }
}

/// Pixels in `r` that are neither background white nor grid grey.
fn ink_in(canvas: &Canvas, r: Rect) -> usize {
    let white = [1.0f32; 3];
    let grid = [
        Color::GRID.0 as f32 / 255.0,
        Color::GRID.1 as f32 / 255.0,
        Color::GRID.2 as f32 / 255.0,
    ];
    let mut n = 0;
    let (x0, x1) = (
        r.x0.max(0.0) as usize,
        (r.x1.max(0.0) as usize).min(canvas.width()),
    );
    let (y0, y1) = (
        r.y0.max(0.0) as usize,
        (r.y1.max(0.0) as usize).min(canvas.height()),
    );
    for y in y0..y1 {
        for x in x0..x1 {
            let p = canvas.get(x, y);
            let near = |q: [f32; 3]| (0..3).all(|k| (p[k] - q[k]).abs() < 0.01);
            if !near(white) && !near(grid) {
                n += 1;
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(1.0, 5), 0.2);
        assert_eq!(nice_step(3000.0, 8), 500.0);
        assert_eq!(nice_step(0.07, 6), 0.01);
        assert_eq!(nice_step(7.0, 5), 1.0);
    }

    #[test]
    fn ticks_fall_inside_the_range_and_are_labelled_to_the_step() {
        let a = Axis::nice(0.0, 1.0, 5);
        assert_eq!(a.ticks.len(), 6);
        assert_eq!(a.labels, vec!["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let a = Axis::nice(-2430.0, 610.0, 6);
        assert!(a.ticks.iter().all(|t| (-2430.0..=610.0).contains(t)));
        assert_eq!(a.labels.first().map(String::as_str), Some("\u{2212}2000"));
        assert!(a.labels.contains(&"0".to_string()));
        let a = Axis::nice(1.2e7, 1.5e7, 4);
        assert!(a.labels.iter().all(|l| l.contains('e')), "{:?}", a.labels);
        let a = Axis::nice(0.0, 4e-5, 4);
        assert_eq!(a.labels[0], "0");
        assert_eq!(a.labels[1], "1e\u{2212}5");
    }

    #[test]
    fn a_constant_range_is_widened() {
        let a = Axis::nice(3.0, 3.0, 5);
        assert!(a.lo < 3.0 && a.hi > 3.0);
        assert!(!a.ticks.is_empty());
    }

    #[test]
    fn long_titles_shrink_to_fit() {
        let long = "a very long title ".repeat(10);
        let size = title_size(&long, 900);
        assert!(size < TITLE_SIZE);
        assert!(text::measure(&long, size).0 <= 900);
        assert_eq!(title_size("short", 900), TITLE_SIZE);
    }
}
