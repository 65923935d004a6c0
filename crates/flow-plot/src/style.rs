//! What every figure shares: the embedded font, text sizes, the series palette, the
//! greys of text and axes, and how numbers are written.

use std::sync::OnceLock;

use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::style::{FontStyle, IntoFont, RGBColor, TextStyle};

/// The family name the embedded DejaVu Sans is registered under. It is plotters' own
/// name for its default sans-serif family, so plotters' defaults (e.g. the legend's
/// font) find the embedded font too.
pub(crate) const FAMILY: &str = "sans-serif";

pub(crate) const TITLE_SIZE: f64 = 22.0;
pub(crate) const LABEL_SIZE: f64 = 17.0;
pub(crate) const TICK_SIZE: f64 = 14.0;
pub(crate) const LEGEND_SIZE: f64 = 14.0;
pub(crate) const NOTE_SIZE: f64 = 13.0;

pub(crate) const TEXT: RGBColor = RGBColor(20, 20, 20);
pub(crate) const AXIS: RGBColor = RGBColor(60, 60, 60);
pub(crate) const GRID: RGBColor = RGBColor(225, 225, 225);
pub(crate) const NOTE: RGBColor = RGBColor(90, 90, 90);
pub(crate) const CHANCE: RGBColor = RGBColor(120, 120, 120);

/// Registers DejaVu Sans (regular and bold) with plotters, once per process. `false`
/// only if plotters rejected the embedded bytes, a packaging bug.
pub(crate) fn register_fonts() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        let regular =
            plotters::style::register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular());
        let bold = plotters::style::register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold());
        regular.is_ok() && bold.is_ok()
    })
}

/// The embedded font at `size` pixels, in the text colour.
pub(crate) fn font<'a>(size: f64) -> TextStyle<'a> {
    (FAMILY, size).into_font().color(&TEXT)
}

/// The embedded font at `size` pixels in `colour`.
pub(crate) fn font_in<'a>(size: f64, colour: RGBColor) -> TextStyle<'a> {
    (FAMILY, size).into_font().color(&colour)
}

/// Width and height in pixels of `text` at `size` as our pages draw it.
pub(crate) fn text_size(text: &str, size: f64) -> (u32, u32) {
    crate::text::measure(text, size, false)
}

/// The widest of `texts` at `size`, in pixels.
pub(crate) fn widest<'a>(texts: impl IntoIterator<Item = &'a str>, size: f64) -> u32 {
    texts
        .into_iter()
        .map(|t| text_size(t, size).0)
        .max()
        .unwrap_or(0)
}

/// Series colours. The first six and black are the Okabe–Ito palette, which stays
/// distinguishable for readers with the common colour-vision deficiencies; the other five
/// extend it with colours far from all of those (and from one another) in CIELAB, so that
/// up to twelve series never share a colour. Okabe–Ito's yellow is left out: it is too
/// faint on white for a line.
const PALETTE: [RGBColor; 12] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(140, 86, 75),   // brown
    RGBColor(120, 60, 200),  // violet
    RGBColor(160, 160, 40),  // olive
    RGBColor(150, 150, 150), // grey
    RGBColor(130, 20, 70),   // wine
];

/// The colour of the `i`-th series (repeats only after twelve series).
pub(crate) fn series_colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// `v` with `decimals` decimals and a true minus sign (U+2212), which reads better than a
/// hyphen next to digits.
pub(crate) fn number(v: f64, decimals: usize) -> String {
    // A tick at -0.0 (or -1e-17 from rounding) must read 0, not −0.
    let v = if v.abs() < 0.5 * 10f64.powi(-(decimals as i32)) {
        0.0
    } else {
        v
    };
    format!("{v:.decimals$}").replace('-', "\u{2212}")
}

/// The number of decimals that tells apart the tick labels plotters puts on an axis over
/// `lo..hi` with at most `max_ticks` labels: plotters' ticks are multiples of 1, 2 or 5
/// times a power of ten, so one decimal per power of ten below 1 of the step is enough.
pub(crate) fn tick_decimals(lo: f64, hi: f64, max_ticks: usize) -> usize {
    let ticks = RangedCoordf64::from(lo..hi).key_points(max_ticks);
    let step = ticks
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    if !step.is_finite() || step <= 0.0 {
        return 2;
    }
    (-(step.log10() + 1e-9).floor()).clamp(0.0, 8.0) as usize
}

/// Whether an axis over `lo..hi` needs scientific notation: its magnitudes are so large
/// or so small that fixed decimals would be unreadably long.
fn scientific(lo: f64, hi: f64) -> bool {
    let largest = lo.abs().max(hi.abs());
    largest >= 1e6 || (largest > 0.0 && largest < 1e-3)
}

/// A formatter for the tick labels of an axis over `lo..hi` with at most `max_ticks`
/// labels: consistent decimals, true minus signs, scientific notation for extreme
/// magnitudes.
pub(crate) fn tick_formatter(lo: f64, hi: f64, max_ticks: usize) -> impl Fn(&f64) -> String {
    let decimals = tick_decimals(lo, hi, max_ticks);
    let sci = scientific(lo, hi);
    move |v: &f64| {
        if sci && *v != 0.0 {
            format!("{v:.2e}").replace('-', "\u{2212}")
        } else {
            number(*v, decimals)
        }
    }
}

/// A number in about four significant digits, for notes.
pub(crate) fn short(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-3) {
        format!("{v:.3e}").replace('-', "\u{2212}")
    } else {
        let digits = (3 - v.abs().log10().floor() as i64).clamp(0, 6) as usize;
        number(v, digits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sRGB (8-bit) to CIELAB under D65, for judging how far apart two colours look.
    fn lab(c: RGBColor) -> [f64; 3] {
        let lin = |u: u8| {
            let v = u as f64 / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        let (r, g, b) = (lin(c.0), lin(c.1), lin(c.2));
        let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
        let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
        let f = |t: f64| {
            if t > 0.008856 {
                t.cbrt()
            } else {
                7.787 * t + 16.0 / 116.0
            }
        };
        let (fx, fy, fz) = (f(x), f(y), f(z));
        [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
    }

    #[test]
    fn twelve_series_get_twelve_clearly_different_colours() {
        assert!(PALETTE.len() >= 12);
        for i in 0..12 {
            for j in 0..i {
                let (a, b) = (lab(series_colour(i)), lab(series_colour(j)));
                let d =
                    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
                // CIE76 distance 20 is far beyond "just noticeable" (about 2.3).
                assert!(d > 20.0, "series {i} and {j} are only {d:.1} apart");
            }
        }
        assert_eq!(series_colour(12), series_colour(0));
    }

    #[test]
    fn numbers_use_a_true_minus_and_never_read_minus_zero() {
        assert_eq!(number(-1.5, 1), "\u{2212}1.5");
        assert_eq!(number(-0.0, 2), "0.00");
        assert_eq!(number(-1e-17, 1), "0.0");
        assert_eq!(short(1203.4), "1203");
        assert_eq!(short(5.8524), "5.852");
        assert_eq!(short(-0.25), "\u{2212}0.2500");
    }

    #[test]
    fn tick_decimals_follow_the_step() {
        assert_eq!(tick_decimals(0.0, 1000.0, 8), 0);
        assert_eq!(tick_decimals(0.0, 1.0, 6), 1);
        assert_eq!(tick_decimals(2.2, 3.8, 8), 1);
        assert_eq!(tick_decimals(0.0, 0.05, 6), 2);
        let f = tick_formatter(-3.0, 3.0, 7);
        assert_eq!(f(&-2.0), "\u{2212}2");
        let f = tick_formatter(0.0, 2e7, 5);
        assert_eq!(f(&1e7), "1.00e7");
    }
}
