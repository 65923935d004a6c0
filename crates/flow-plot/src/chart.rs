//! What the plotters charts share around the plot itself: a title that wraps instead of
//! running off the page, a legend to the right of the plot (so it never covers data), the
//! room tick labels need, and the grid and axis styles.

use plotters::chart::{ChartBuilder, MeshStyle, SeriesLabelPosition};
use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::element::{Drawable, PointCollection, Rectangle};
use plotters::prelude::DrawingBackend;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, RGBColor, WHITE};
use plotters_backend::{BackendCoord, DrawingErrorKind};

use crate::page::{Area, Canvas, DrawError};
use crate::style::{self, AXIS, GRID, LEGEND_SIZE, NOTE, NOTE_SIZE, TITLE_SIZE};

/// Space between the plot's right edge and the legend box.
const LEGEND_GAP: i32 = 16;
/// The width of the swatch column inside the legend box.
const LEGEND_SWATCH: u32 = 30;
/// Padding inside the legend box.
const LEGEND_MARGIN: u32 = 8;

/// The page width the legend of `labels` takes right of the plot, gap included; 0 for
/// no labels.
pub(crate) fn legend_width<'a>(labels: impl IntoIterator<Item = &'a str>) -> u32 {
    let widest = style::widest(labels, LEGEND_SIZE);
    if widest == 0 {
        return 0;
    }
    widest + LEGEND_SWATCH + 2 * LEGEND_MARGIN + LEGEND_GAP as u32 + 14
}

/// One legend entry: its label, colour and swatch.
pub(crate) struct LegendEntry {
    pub label: String,
    pub colour: RGBColor,
    pub kind: SwatchKind,
}

/// Draws the legend of `entries` with its top left corner `LEGEND_GAP` right of `at`
/// (the plot's top right corner, page pixels). plotters keeps a chart's elements inside
/// its plot area, so the legend gets a chart of its own on the page's right margin
/// (at least [`legend_width`] wide), where it cannot cover data.
pub(crate) fn draw_legend(
    root: &Area<'_>,
    at: (i32, i32),
    entries: &[LegendEntry],
) -> Result<(), DrawError> {
    if entries.is_empty() {
        return Ok(());
    }
    let (page_w, page_h) = root.dim_in_pixel();
    let x = (at.0 + LEGEND_GAP).max(0) as u32;
    let y = at.1.max(0) as u32;
    let strip = root
        .clone()
        .shrink((x, y), (page_w.saturating_sub(x), page_h.saturating_sub(y)));
    let mut chart = ChartBuilder::on(&strip).build_cartesian_2d(0f64..1f64, 0f64..1f64)?;
    for entry in entries {
        let (colour, kind) = (entry.colour, entry.kind);
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
            .label(entry.label.as_str())
            .legend(move |p| Swatch::new(p, colour, kind));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::Coordinate(0, 0))
        .label_font(style::font(LEGEND_SIZE))
        .legend_area_size(LEGEND_SWATCH)
        .margin(LEGEND_MARGIN)
        .background_style(WHITE)
        .border_style(AXIS)
        .draw()?;
    Ok(())
}

/// What a legend entry shows left of its label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum SwatchKind {
    /// A filled box with an outline, for areas (histograms, bars): the fill's opacity.
    Box(f64),
    /// A short thick line, for curves.
    Line,
    /// A dashed line, for the chance diagonal of a ROC plot.
    Dashed,
}

/// A legend swatch, as a plotters element. Its own type rather than a composition of
/// plotters' shapes because plotters wants a legend element that names no backend.
pub(crate) struct Swatch {
    at: (i32, i32),
    colour: RGBColor,
    kind: SwatchKind,
}

impl Swatch {
    /// The swatch of `kind` in `colour` whose left middle is at `at`.
    pub(crate) fn new(at: (i32, i32), colour: RGBColor, kind: SwatchKind) -> Self {
        Self { at, colour, kind }
    }
}

impl<'a> PointCollection<'a, (i32, i32)> for &'a Swatch {
    type Point = &'a (i32, i32);
    type IntoIter = std::iter::Once<&'a (i32, i32)>;
    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

impl<DB: DrawingBackend> Drawable<DB> for Swatch {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut pos: I,
        backend: &mut DB,
        _: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let Some((x, y)) = pos.next() else {
            return Ok(());
        };
        match self.kind {
            SwatchKind::Box(alpha) => {
                let (a, b) = ((x, y - 6), (x + 18, y + 6));
                backend.draw_rect(a, b, &self.colour.mix(alpha), true)?;
                backend.draw_rect(a, b, &self.colour, false)
            }
            SwatchKind::Line => {
                backend.draw_line((x, y), (x + 20, y), &self.colour.stroke_width(3))
            }
            SwatchKind::Dashed => {
                for dx in [0, 8, 16] {
                    backend.draw_line(
                        (x + dx, y),
                        (x + dx + 5, y),
                        &self.colour.stroke_width(2),
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// Draws `title` centred at the top of `area`, wrapped onto as many lines as it needs
/// at the word boundaries, and returns the area below it.
pub(crate) fn draw_title<'a>(area: &Area<'a>, title: &str) -> Result<Area<'a>, DrawError> {
    let (width, _) = area.dim_in_pixel();
    let lines = wrap(title, TITLE_SIZE, width.saturating_sub(24));
    let line_h = (TITLE_SIZE * 1.3).round() as i32;
    let top = 10;
    let style = style::font(TITLE_SIZE).pos(Pos::new(HPos::Center, VPos::Top));
    for (i, line) in lines.iter().enumerate() {
        area.draw_text(line, &style, (width as i32 / 2, top + i as i32 * line_h))?;
    }
    let used = top + lines.len() as i32 * line_h + 6;
    Ok(area.split_vertically(used).1)
}

/// Draws a grey note centred in `area` (a strip under the plot).
pub(crate) fn draw_note(area: &Area<'_>, note: &str) -> Result<(), DrawError> {
    let (w, h) = area.dim_in_pixel();
    let style = style::font_in(NOTE_SIZE, NOTE).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw_text(note, &style, (w as i32 / 2, h as i32 / 2))?;
    Ok(())
}

/// Splits `text` into lines no wider than `max_width` pixels at `size`, breaking between
/// words; a single word wider than that gets a line of its own.
pub(crate) fn wrap(text: &str, size: f64, max_width: u32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && style::text_size(&candidate, size).0 > max_width {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// How many tick labels fit along `pixels` when each wants about `per_label` pixels.
pub(crate) fn label_count(pixels: u32, per_label: u32) -> usize {
    (pixels / per_label.max(1)).clamp(2, 12) as usize
}

/// The width of the y label area: the widest tick label over `lo..hi` (at most
/// `max_ticks` of them, formatted by `format`), plus room for the axis description when
/// there is one.
pub(crate) fn y_label_area(
    lo: f64,
    hi: f64,
    max_ticks: usize,
    format: &dyn Fn(&f64) -> String,
    with_desc: bool,
) -> u32 {
    let ticks = RangedCoordf64::from(lo..hi).key_points(max_ticks);
    let widest = ticks
        .iter()
        .map(|t| style::text_size(&format(t), style::TICK_SIZE).0)
        .max()
        .unwrap_or(0);
    let desc = if with_desc {
        style::LABEL_SIZE as u32 + 14
    } else {
        0
    };
    widest + 16 + desc
}

/// The mesh style every chart starts from: grey grid lines at the labelled ticks only,
/// dark axes, the embedded font for tick labels and axis descriptions.
pub(crate) fn mesh_style<X: Ranged, Y: Ranged>(mesh: &mut MeshStyle<'_, '_, X, Y, Canvas<'_>>) {
    mesh.bold_line_style(GRID)
        .light_line_style(WHITE.mix(0.0))
        .axis_style(AXIS)
        .label_style(style::font(style::TICK_SIZE))
        .axis_desc_style(style::font(style::LABEL_SIZE));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_titles_wrap_between_words_and_short_ones_do_not() {
        assert!(crate::text::available());
        assert_eq!(wrap("short title", TITLE_SIZE, 900), vec!["short title"]);
        let long = "realnvp: mean contribution of each layer's log-det and of the prior to \
                    log p(x) (constant -4350 nats not shown)";
        let lines = wrap(long, TITLE_SIZE, 500);
        assert!(lines.len() >= 2, "{lines:?}");
        assert!(lines
            .iter()
            .all(|l| style::text_size(l, TITLE_SIZE).0 <= 500));
        assert_eq!(lines.join(" "), long);
        // A single word wider than the line still gets a line of its own.
        assert_eq!(wrap("x", TITLE_SIZE, 1).len(), 1);
        assert_eq!(wrap("", TITLE_SIZE, 100), vec![String::new()]);
    }
}
