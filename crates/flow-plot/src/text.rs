//! Text with the embedded font, for every string plotters draws on our pages.
//!
//! plotters 0.3.7 lays text out with the font it was given (its `ab_glyph` support, to
//! which [`crate::style::register_fonts`] hands DejaVu Sans), but its rasteriser places
//! each glyph at the pen position without the glyph's left side bearing, so letters sit
//! unevenly ("Fas hion"), and it puts the baseline half an em below the anchor, so text
//! centred on a point sits high. The page's backend ([`crate::page::Canvas`]) therefore
//! draws text itself, here: glyphs at pen position plus bearing, with kerning, the line
//! box from the font's ascent to its descent, and plotters' anchors and quarter-turn
//! rotations applied to that box.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendTextStyle, DrawingBackend, DrawingErrorKind, FontStyle,
};

/// The embedded regular and bold faces, parsed once. `None` only if the embedded bytes
/// failed to parse, a packaging bug that [`crate::page::Page::new`] reports before any
/// text is drawn.
fn face(bold: bool) -> Option<&'static FontRef<'static>> {
    static REGULAR: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    static BOLD: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    let (cell, bytes) = if bold {
        (&BOLD, dejavu::sans::bold())
    } else {
        (&REGULAR, dejavu::sans::regular())
    };
    cell.get_or_init(|| FontRef::try_from_slice(bytes).ok())
        .as_ref()
}

/// Whether both faces parse.
pub(crate) fn available() -> bool {
    face(false).is_some() && face(true).is_some()
}

/// Width and height in pixels of `text` at `size` pixels: the advance widths with
/// kerning, and the font's full line height (ascent to descent), so lines of one size
/// align whatever letters they hold.
pub(crate) fn measure(text: &str, size: f64, bold: bool) -> (u32, u32) {
    let Some(font) = face(bold) else {
        return (0, size.ceil() as u32);
    };
    let scaled = font.as_scaled(PxScale::from(size as f32));
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
    (width.ceil() as u32, height.ceil() as u32)
}

/// `text` at `size` rendered to an alpha mask the size [`measure`] gives, row-major.
fn render(text: &str, size: f64, bold: bool) -> (u32, u32, Vec<f32>) {
    let (width, height) = measure(text, size, bold);
    let mut alpha = vec![0f32; width as usize * height as usize];
    let Some(font) = face(bold) else {
        return (width, height, alpha);
    };
    let scale = PxScale::from(size as f32);
    let scaled = font.as_scaled(scale);
    let ascent = scaled.ascent();
    let mut caret = 0.0f32;
    let mut prev = None;
    for ch in text.chars() {
        let id = scaled.glyph_id(ch);
        if let Some(p) = prev {
            caret += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(scale, ab_glyph::point(caret, ascent));
        caret += scaled.h_advance(id);
        prev = Some(id);
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        // The bounds carry the side bearing: pixel (gx, gy) of the glyph lies at
        // bounds.min + (gx, gy), not at the pen position.
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, c| {
            let x = bounds.min.x as i64 + gx as i64;
            let y = bounds.min.y as i64 + gy as i64;
            if x >= 0 && y >= 0 && x < width as i64 && y < height as i64 {
                let a = &mut alpha[y as usize * width as usize + x as usize];
                *a = (*a + c).min(1.0);
            }
        });
    }
    (width, height, alpha)
}

/// Draws `text` in `style` (size, colour, weight, anchor, quarter-turn rotation) with
/// its anchor at `pos`, blending each covered pixel by its coverage.
pub(crate) fn draw<DB: DrawingBackend, S: BackendTextStyle>(
    backend: &mut DB,
    text: &str,
    style: &S,
    pos: BackendCoord,
) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
    let colour = style.color();
    if colour.alpha == 0.0 || text.is_empty() {
        return Ok(());
    }
    let bold = matches!(style.style(), FontStyle::Bold);
    let (w, h, alpha) = render(text, style.size(), bold);
    let (w, h) = (w as i32, h as i32);
    let anchor = style.anchor();
    let dx = match anchor.h_pos {
        HPos::Left => 0,
        HPos::Center => -w / 2,
        HPos::Right => -w,
    };
    let dy = match anchor.v_pos {
        VPos::Top => 0,
        VPos::Center => -h / 2,
        VPos::Bottom => -h,
    };
    // The anchor is placed on the unrotated box, then the box turns about the anchor, as
    // plotters does for its own text.
    let transform = style.transform();
    for y in 0..h {
        for x in 0..w {
            let a = alpha[(y * w + x) as usize];
            if a <= 0.0 {
                continue;
            }
            let (tx, ty) = transform.transform(x + dx, y + dy);
            backend.draw_pixel(
                (pos.0 + tx, pos.1 + ty),
                BackendColor {
                    alpha: colour.alpha * a as f64,
                    rgb: colour.rgb,
                },
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_faces_parse_and_text_has_width() {
        assert!(available());
        let (w, h) = measure("FashionMNIST", 14.0, false);
        assert!(w > 60 && w < 140, "{w}");
        assert!((14..=18).contains(&h), "{h}");
        assert!(measure("FashionMNIST", 14.0, true).0 > w);
        assert_eq!(measure("", 14.0, false).0, 0);
    }

    #[test]
    fn glyphs_do_not_overlap_their_neighbours() {
        // With side bearings honoured, "ii" is two separate strokes: some column
        // between them is blank.
        let (w, h, alpha) = render("ii", 20.0, false);
        let column = |x: u32| (0..h).map(|y| alpha[(y * w + x) as usize]).sum::<f32>();
        let inked: Vec<bool> = (0..w).map(|x| column(x) > 0.5).collect();
        let runs = inked.windows(2).filter(|p| p[0] && !p[1]).count()
            + usize::from(inked.last() == Some(&true));
        assert_eq!(runs, 2, "{inked:?}");
    }
}
