//! Text on a canvas with an embedded font (DejaVu Sans), so figures render the same on a
//! machine without any system fonts.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};

use super::canvas::{Canvas, Color};

/// The embedded font, parsed once. `None` only if the embedded bytes failed to parse,
/// which would be a packaging bug; text is then left out rather than panicking.
fn font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(dejavu::sans::regular()).ok())
        .as_ref()
}

/// Horizontal anchor of a piece of text relative to the given x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HAlign {
    Left,
    Center,
    Right,
}

/// Vertical anchor of a piece of text relative to the given y.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VAlign {
    Top,
    Middle,
    Bottom,
}

/// A line of text rendered to an alpha mask whose height is the font's full line height
/// (ascent + descent), so lines of one size align whatever letters they hold.
pub(crate) struct TextMask {
    pub width: usize,
    pub height: usize,
    pub alpha: Vec<f32>,
}

/// Width and height in pixels of `text` at `size` pixels.
pub(crate) fn measure(text: &str, size: f32) -> (usize, usize) {
    let Some(font) = font() else {
        return (0, size.ceil() as usize);
    };
    let scaled = font.as_scaled(PxScale::from(size));
    let mut width = 0.0f32;
    let mut prev = None;
    for ch in text.chars() {
        let id = scaled.glyph_id(ch);
        if let Some(p) = prev {
            width += scaled.kern(p, id);
        }
        width += scaled.h_advance(id);
        prev = Some(id);
    }
    let height = scaled.ascent() - scaled.descent();
    (width.ceil() as usize, height.ceil() as usize)
}

/// Renders `text` at `size` pixels into an alpha mask.
pub(crate) fn render(text: &str, size: f32) -> TextMask {
    let (width, height) = measure(text, size);
    let mut alpha = vec![0f32; width * height];
    let Some(font) = font() else {
        return TextMask {
            width,
            height,
            alpha,
        };
    };
    let scaled = font.as_scaled(PxScale::from(size));
    let ascent = scaled.ascent();
    let mut caret = 0.0f32;
    let mut prev = None;
    for ch in text.chars() {
        let id = scaled.glyph_id(ch);
        if let Some(p) = prev {
            caret += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(PxScale::from(size), ab_glyph::point(caret, ascent));
        caret += scaled.h_advance(id);
        prev = Some(id);
        if let Some(outlined) = font.outline_glyph(glyph) {
            let bounds = outlined.px_bounds();
            outlined.draw(|gx, gy, c| {
                let x = bounds.min.x as i64 + gx as i64;
                let y = bounds.min.y as i64 + gy as i64;
                if x >= 0 && y >= 0 && (x as usize) < width && (y as usize) < height {
                    let a = &mut alpha[y as usize * width + x as usize];
                    *a = (*a + c).min(1.0);
                }
            });
        }
    }
    TextMask {
        width,
        height,
        alpha,
    }
}

/// Draws a line of text whose anchor point `align` (e.g. centre-top) sits at `at`.
pub(crate) fn draw(
    canvas: &mut Canvas,
    text: &str,
    at: (f64, f64),
    size: f32,
    color: Color,
    align: (HAlign, VAlign),
) {
    let mask = render(text, size);
    let (left, top) = anchor(at.0, at.1, mask.width, mask.height, align.0, align.1);
    canvas.blend_mask(left, top, mask.width, mask.height, &mask.alpha, color);
}

/// Draws text turned 90° counter-clockwise (reading bottom to top), centred on (x, y):
/// the usual y-axis label.
pub(crate) fn draw_vertical(
    canvas: &mut Canvas,
    text: &str,
    x: f64,
    y: f64,
    size: f32,
    color: Color,
) {
    draw_rotated(canvas, text, (x, y), size, color, VAlign::Middle);
}

/// Draws text turned 90° counter-clockwise whose end (the text's right) touches (x, y)
/// and whose line is centred on x: category labels under a crowded axis.
pub(crate) fn draw_vertical_hanging(
    canvas: &mut Canvas,
    text: &str,
    x: f64,
    y: f64,
    size: f32,
    color: Color,
) {
    draw_rotated(canvas, text, (x, y), size, color, VAlign::Top);
}

/// Text turned 90° counter-clockwise, centred horizontally on `at.0` and placed
/// vertically by `valign`.
fn draw_rotated(
    canvas: &mut Canvas,
    text: &str,
    at: (f64, f64),
    size: f32,
    color: Color,
    valign: VAlign,
) {
    let rotated = rotate_ccw(&render(text, size));
    let (left, top) = anchor(
        at.0,
        at.1,
        rotated.width,
        rotated.height,
        HAlign::Center,
        valign,
    );
    canvas.blend_mask(
        left,
        top,
        rotated.width,
        rotated.height,
        &rotated.alpha,
        color,
    );
}

fn rotate_ccw(mask: &TextMask) -> TextMask {
    // Source (sx, sy) lands at (sy, width - 1 - sx): the text's start ends up at the bottom.
    let (w, h) = (mask.height, mask.width);
    let mut alpha = vec![0f32; w * h];
    for sy in 0..mask.height {
        for sx in 0..mask.width {
            alpha[(mask.width - 1 - sx) * w + sy] = mask.alpha[sy * mask.width + sx];
        }
    }
    TextMask {
        width: w,
        height: h,
        alpha,
    }
}

fn anchor(x: f64, y: f64, w: usize, h: usize, ha: HAlign, va: VAlign) -> (i64, i64) {
    let left = match ha {
        HAlign::Left => x,
        HAlign::Center => x - w as f64 / 2.0,
        HAlign::Right => x - w as f64,
    };
    let top = match va {
        VAlign::Top => y,
        VAlign::Middle => y - h as f64 / 2.0,
        VAlign::Bottom => y - h as f64,
    };
    (left.round() as i64, top.round() as i64)
}
