//! Grids of small images (samples, latents z, coupling-layer s and t maps), optionally with
//! a text label at the left of each row.

use std::path::Path;

use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::page::{Page, MAX_PIXELS};
use crate::style::{self, text_size, LABEL_SIZE};
use crate::FigureError;

/// One image in channel, row, column order (the layout of a burn tensor `[C, H, W]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// 1 (grey) or 3 (RGB).
    pub channels: usize,
    /// `channels * height * width` values, C, H, W order.
    pub pixels: Vec<f32>,
}

impl Image {
    /// A one-channel image from row-major pixels.
    pub fn grey(width: usize, height: usize, pixels: Vec<f32>) -> Self {
        Self {
            width,
            height,
            channels: 1,
            pixels,
        }
    }
}

/// How pixel values become grey levels (or RGB intensities).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Normalise {
    /// `lo` is black and `hi` white, values beyond them are clipped: for pixel data, e.g.
    /// `Fixed(0.0, 1.0)`, so every image in the grid shares one scale.
    Fixed(f32, f32),
    /// Each image's own minimum is black and maximum white (a constant image is mid grey):
    /// for latents, whose ranges differ from image to image.
    PerImage,
    /// Each image's largest |v| maps to black (−) and white (+), with 0 at mid grey (0.5):
    /// for the s and t maps, so the entries a coupling leaves unchanged stay neutral.
    Symmetric,
    /// A diverging colour map for one-channel images with a fixed symmetric range:
    /// `-limit` and below is blue, 0 is white, `+limit` and above is red. For maps whose
    /// zero means "untouched" (a coupling's `s` and `t`), shared across tiles so that
    /// their magnitudes compare. Three-channel images are drawn as with `Symmetric`.
    Diverging {
        /// The magnitude drawn at full colour; must be finite and positive.
        limit: f32,
    },
}

/// The ends of the diverging map (ColorBrewer RdBu's darkest blue and red).
const DIVERGING_NEGATIVE: [f32; 3] = [33.0 / 255.0, 102.0 / 255.0, 172.0 / 255.0];
const DIVERGING_POSITIVE: [f32; 3] = [178.0 / 255.0, 24.0 / 255.0, 43.0 / 255.0];

/// The diverging map's colour for `t` in `-1..=1` (clipped): white at 0, blending
/// linearly to blue below and red above.
pub(crate) fn diverging_rgb(t: f32) -> [f32; 3] {
    let t = t.clamp(-1.0, 1.0);
    let end = if t < 0.0 {
        DIVERGING_NEGATIVE
    } else {
        DIVERGING_POSITIVE
    };
    let a = t.abs();
    [
        1.0 + (end[0] - 1.0) * a,
        1.0 + (end[1] - 1.0) * a,
        1.0 + (end[2] - 1.0) * a,
    ]
}

const GAP: usize = 1;
/// Font size of column names.
const HEADER_SIZE: f64 = 14.0;

/// Writes `images` tiled `columns` to a row, each upscaled by `scale` (nearest neighbour),
/// separated by 1-pixel white gaps. Images of different sizes sit top-left in cells sized
/// to the largest.
///
/// Errors: no images, `columns` or `scale` of 0, a `Fixed` range with `lo >= hi`, an
/// image whose pixel count does not match its shape or whose channels are not 1 or 3, a
/// non-finite pixel (named by the image's index), or a figure over 64 Mi pixels.
pub fn image_grid_png(
    path: &Path,
    images: &[Image],
    columns: usize,
    scale: usize,
    normalise: Normalise,
) -> Result<(), FigureError> {
    if images.is_empty() {
        return Err(FigureError::EmptyInput {
            path: path.to_path_buf(),
            what: "images",
        });
    }
    if columns == 0 {
        return Err(invalid(path, "columns must be at least 1".into()));
    }
    check_common(path, scale, normalise)?;
    let tiles: Vec<Vec<[f32; 3]>> = images
        .iter()
        .enumerate()
        .map(|(i, img)| tile(path, img, &format!("image {i}"), normalise))
        .collect::<Result<_, _>>()?;
    let (cell_w, cell_h) = cell_size(images.iter(), scale);
    let cols = columns.min(images.len());
    let rows = images.len().div_ceil(columns);
    let width = GAP + cols * (cell_w + GAP);
    let height = GAP + rows * (cell_h + GAP);
    check_size(path, width, height)?;
    let mut page = Page::new(path, width, height)?;
    for (i, (img, t)) in images.iter().zip(&tiles).enumerate() {
        let x = GAP + (i % columns) * (cell_w + GAP);
        let y = GAP + (i / columns) * (cell_h + GAP);
        blit(&mut page, img, t, x, y, scale);
    }
    page.write(path)
}

/// Writes rows of images, each row headed at its left by its label (e.g. "FashionMNIST",
/// "MNIST", or a layer's name); the layout, scaling and normalisation are as in
/// [`image_grid_png`]. Rows may hold different numbers of images.
///
/// Errors: those of [`image_grid_png`], and a row with no images (named by its label).
pub fn labelled_grid_png(
    path: &Path,
    rows: &[(String, Vec<Image>)],
    scale: usize,
    normalise: Normalise,
) -> Result<(), FigureError> {
    labelled_grid_with_header_png(path, &[], rows, scale, normalise)
}

/// As [`labelled_grid_png`], with a header line naming the columns (e.g. "s", "t",
/// "output"), each centred over its column; a column is widened (its images centred in
/// it) where its name is wider than the images. An empty `columns` draws no header; otherwise it names at most as many
/// columns as the longest row has.
///
/// Errors: those of [`labelled_grid_png`], and more column names than columns.
pub fn labelled_grid_with_header_png(
    path: &Path,
    columns: &[String],
    rows: &[(String, Vec<Image>)],
    scale: usize,
    normalise: Normalise,
) -> Result<(), FigureError> {
    if rows.is_empty() {
        return Err(FigureError::EmptyInput {
            path: path.to_path_buf(),
            what: "rows",
        });
    }
    check_common(path, scale, normalise)?;
    let mut tiles = Vec::with_capacity(rows.len());
    for (label, images) in rows {
        if images.is_empty() {
            return Err(FigureError::EmptySeries {
                path: path.to_path_buf(),
                kind: "row",
                name: label.clone(),
            });
        }
        let row: Vec<Vec<[f32; 3]>> = images
            .iter()
            .enumerate()
            .map(|(i, img)| tile(path, img, &format!("row '{label}' image {i}"), normalise))
            .collect::<Result<_, _>>()?;
        tiles.push(row);
    }
    let cols = rows.iter().map(|(_, r)| r.len()).max().unwrap_or(1);
    if columns.len() > cols {
        return Err(invalid(
            path,
            format!("{} column names for {cols} columns", columns.len()),
        ));
    }
    let (cell_w, cell_h) = cell_size(rows.iter().flat_map(|(_, r)| r.iter()), scale);
    let text_h = text_size("Ag", LABEL_SIZE).1 as usize;
    let header_h = if columns.is_empty() {
        0
    } else {
        text_size("Ag", HEADER_SIZE).1 as usize + 6
    };
    let row_h = cell_h.max(text_h + 4);
    let label_w = rows
        .iter()
        .map(|(l, _)| text_size(l, LABEL_SIZE).0 as usize)
        .max()
        .unwrap_or(0)
        + 24;
    // Columns widen (images centred in them) so every column name fits at a legible size.
    let col_w = columns
        .iter()
        .map(|c| text_size(c, HEADER_SIZE).0 as usize + 8)
        .fold(cell_w, usize::max);
    let width = label_w + GAP + cols * (col_w + GAP);
    let height = header_h + GAP + rows.len() * (row_h + GAP);
    check_size(path, width, height)?;
    let mut page = Page::new(path, width, height)?;
    for (r, ((_, images), row_tiles)) in rows.iter().zip(&tiles).enumerate() {
        let y = header_h + GAP + r * (row_h + GAP);
        for (i, (img, t)) in images.iter().zip(row_tiles).enumerate() {
            let x = label_w + GAP + i * (col_w + GAP) + (col_w - cell_w) / 2;
            blit(&mut page, img, t, x, y + (row_h - cell_h) / 2, scale);
        }
    }
    page.draw(path, |root| {
        let header = style::font(HEADER_SIZE).pos(Pos::new(HPos::Center, VPos::Bottom));
        for (i, name) in columns.iter().enumerate() {
            let cx = label_w + GAP + i * (col_w + GAP) + col_w / 2;
            root.draw_text(name, &header, (cx as i32, header_h as i32 - 3))?;
        }
        let row_style = style::font(LABEL_SIZE).pos(Pos::new(HPos::Right, VPos::Center));
        for (r, (label, _)) in rows.iter().enumerate() {
            let y = header_h + GAP + r * (row_h + GAP) + row_h / 2;
            root.draw_text(label, &row_style, (label_w as i32 - 12, y as i32))?;
        }
        Ok(())
    })?;
    page.write(path)
}

pub(crate) fn invalid(path: &Path, reason: String) -> FigureError {
    FigureError::InvalidArgument {
        path: path.to_path_buf(),
        reason,
    }
}

pub(crate) fn check_common(
    path: &Path,
    scale: usize,
    normalise: Normalise,
) -> Result<(), FigureError> {
    if scale == 0 {
        return Err(invalid(path, "scale must be at least 1".into()));
    }
    match normalise {
        Normalise::Fixed(lo, hi) if !(lo.is_finite() && hi.is_finite() && lo < hi) => Err(invalid(
            path,
            format!("Normalise::Fixed({lo}, {hi}) needs finite lo < hi"),
        )),
        Normalise::Diverging { limit } if !(limit.is_finite() && limit > 0.0) => Err(invalid(
            path,
            format!("Normalise::Diverging {{ limit: {limit} }} needs a finite positive limit"),
        )),
        _ => Ok(()),
    }
}

pub(crate) fn check_size(path: &Path, width: usize, height: usize) -> Result<(), FigureError> {
    if width.saturating_mul(height) > MAX_PIXELS {
        return Err(invalid(
            path,
            format!("a {width}x{height} figure is over the {MAX_PIXELS}-pixel limit; lower scale"),
        ));
    }
    Ok(())
}

fn cell_size<'a>(images: impl Iterator<Item = &'a Image>, scale: usize) -> (usize, usize) {
    let (w, h) = images.fold((0, 0), |(w, h), i| (w.max(i.width), h.max(i.height)));
    (w.saturating_mul(scale), h.saturating_mul(scale))
}

/// Checks one image and maps it to RGB intensities in 0..=1, row-major.
pub(crate) fn tile(
    path: &Path,
    img: &Image,
    name: &str,
    mode: Normalise,
) -> Result<Vec<[f32; 3]>, FigureError> {
    if img.channels != 1 && img.channels != 3 {
        return Err(invalid(
            path,
            format!("{name} has {} channels; 1 or 3 expected", img.channels),
        ));
    }
    if img.width == 0 || img.height == 0 {
        return Err(invalid(
            path,
            format!("{name} is {}x{}", img.width, img.height),
        ));
    }
    let expected = img.channels * img.height * img.width;
    if img.pixels.len() != expected {
        return Err(invalid(
            path,
            format!(
                "{name} has {} pixels, {}x{}x{} needs {expected}",
                img.pixels.len(),
                img.channels,
                img.height,
                img.width
            ),
        ));
    }
    if let Some((index, &v)) = img.pixels.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(FigureError::NonFinite {
            path: path.to_path_buf(),
            kind: "image",
            name: name.to_string(),
            index,
            value: v as f64,
        });
    }
    let plane = img.width * img.height;
    if let (Normalise::Diverging { limit }, 1) = (mode, img.channels) {
        return Ok(img
            .pixels
            .iter()
            .map(|v| diverging_rgb(v / limit))
            .collect());
    }
    let intensity = intensities(&img.pixels, mode);
    Ok((0..plane)
        .map(|p| {
            if img.channels == 1 {
                [intensity[p]; 3]
            } else {
                [intensity[p], intensity[plane + p], intensity[2 * plane + p]]
            }
        })
        .collect())
}

/// Maps finite values to 0..=1 as [`Normalise`] documents.
fn intensities(values: &[f32], mode: Normalise) -> Vec<f32> {
    match mode {
        Normalise::Fixed(lo, hi) => values
            .iter()
            .map(|v| ((v - lo) / (hi - lo)).clamp(0.0, 1.0))
            .collect(),
        Normalise::PerImage => {
            let lo = values.iter().copied().fold(f32::INFINITY, f32::min);
            let hi = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            if hi > lo {
                values.iter().map(|v| (v - lo) / (hi - lo)).collect()
            } else {
                vec![0.5; values.len()]
            }
        }
        Normalise::Symmetric | Normalise::Diverging { .. } => {
            let m = values.iter().fold(0f32, |m, v| m.max(v.abs()));
            if m > 0.0 {
                values
                    .iter()
                    .map(|v| (0.5 + 0.5 * v / m).clamp(0.0, 1.0))
                    .collect()
            } else {
                vec![0.5; values.len()]
            }
        }
    }
}

pub(crate) fn blit(
    page: &mut Page,
    img: &Image,
    tile: &[[f32; 3]],
    x: usize,
    y: usize,
    scale: usize,
) {
    for row in 0..img.height {
        for col in 0..img.width {
            let rgb = tile[row * img.width + col];
            for dy in 0..scale {
                for dx in 0..scale {
                    page.set(x + col * scale + dx, y + row * scale + dy, rgb);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_maps_lo_to_black_hi_to_white_and_clips() {
        let v = intensities(&[0.0, 0.5, 1.0, -2.0, 3.0], Normalise::Fixed(0.0, 1.0));
        assert_eq!(v, vec![0.0, 0.5, 1.0, 0.0, 1.0]);
        let v = intensities(&[-1.0, 0.0, 1.0], Normalise::Fixed(-1.0, 1.0));
        assert_eq!(v, vec![0.0, 0.5, 1.0]);
    }

    #[test]
    fn per_image_stretches_min_to_max() {
        let v = intensities(&[2.0, 3.0, 4.0], Normalise::PerImage);
        assert_eq!(v, vec![0.0, 0.5, 1.0]);
        assert_eq!(
            intensities(&[7.0, 7.0], Normalise::PerImage),
            vec![0.5, 0.5]
        );
    }

    #[test]
    fn symmetric_keeps_zero_at_mid_grey() {
        let v = intensities(&[0.0, 2.0, -1.0, 0.0], Normalise::Symmetric);
        assert_eq!(v, vec![0.5, 1.0, 0.25, 0.5]);
        let v = intensities(&[-4.0, 1.0], Normalise::Symmetric);
        assert_eq!(v, vec![0.0, 0.625]);
        assert_eq!(
            intensities(&[0.0, 0.0], Normalise::Symmetric),
            vec![0.5, 0.5]
        );
    }

    #[test]
    fn diverging_is_white_at_zero_and_saturates_at_the_limit() {
        assert_eq!(diverging_rgb(0.0), [1.0, 1.0, 1.0]);
        let close = |a: [f32; 3], b: [f32; 3]| a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-6);
        assert!(close(diverging_rgb(-1.0), DIVERGING_NEGATIVE));
        assert!(close(diverging_rgb(5.0), DIVERGING_POSITIVE));
        let half = diverging_rgb(0.5);
        assert!((half[1] - (1.0 + DIVERGING_POSITIVE[1]) / 2.0).abs() < 1e-6);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.png");
        let img = Image::grey(3, 1, vec![-2.0, 0.0, 1.0]);
        image_grid_png(
            &path,
            std::slice::from_ref(&img),
            1,
            1,
            Normalise::Diverging { limit: 2.0 },
        )
        .unwrap();
        let out = image::open(&path).unwrap().to_rgb8();
        assert_eq!(out.get_pixel(1, 1).0, [33, 102, 172]);
        assert_eq!(out.get_pixel(2, 1).0, [255, 255, 255]);
        let err = image_grid_png(&path, &[img], 1, 1, Normalise::Diverging { limit: 0.0 });
        assert!(err.is_err());
    }

    #[test]
    fn grid_has_the_documented_size_and_pixel_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.png");
        // Three 2x2 images, 2 columns, scale 3: 2 rows of cells 6 px square, 1 px gaps.
        let imgs: Vec<Image> = (0..3)
            .map(|i| Image::grey(2, 2, vec![0.0, 1.0, i as f32 / 2.0, 0.25]))
            .collect();
        image_grid_png(&path, &imgs, 2, 3, Normalise::Fixed(0.0, 1.0)).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!((img.width(), img.height()), (1 + 2 * 7, 1 + 2 * 7));
        // Gap column and row are white.
        assert_eq!(img.get_pixel(0, 3).0, [255, 255, 255]);
        // Image 0's top-left pixel 0.0 is black over its 3x3 block; its top-right is white.
        assert_eq!(img.get_pixel(1, 1).0, [0, 0, 0]);
        assert_eq!(img.get_pixel(3, 3).0, [0, 0, 0]);
        assert_eq!(img.get_pixel(4, 1).0, [255, 255, 255]);
        // Image 1 (second column) bottom-left pixel is 0.5: mid grey.
        assert_eq!(img.get_pixel(8, 4).0, [128, 128, 128]);
        // Image 2 sits in the second row; its bottom-right 0.25.
        assert_eq!(img.get_pixel(1 + 3, 8 + 3).0, [64, 64, 64]);
    }

    #[test]
    fn rgb_images_keep_their_channels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rgb.png");
        let img = Image {
            width: 1,
            height: 1,
            channels: 3,
            pixels: vec![1.0, 0.0, 0.5],
        };
        image_grid_png(&path, &[img], 1, 1, Normalise::Fixed(0.0, 1.0)).unwrap();
        let out = image::open(&path).unwrap().to_rgb8();
        assert_eq!(out.get_pixel(1, 1).0, [255, 0, 128]);
    }

    #[test]
    fn labelled_grid_puts_images_right_of_the_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lg.png");
        let rows = vec![
            (
                "FashionMNIST".to_string(),
                vec![Image::grey(4, 4, vec![0.0; 16]); 3],
            ),
            (
                "MNIST".to_string(),
                vec![Image::grey(4, 4, vec![1.0; 16]); 2],
            ),
        ];
        labelled_grid_png(&path, &rows, 10, Normalise::Symmetric).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        let label_w = text_size("FashionMNIST", LABEL_SIZE).0 as usize + 24;
        assert_eq!(img.width() as usize, label_w + 1 + 3 * 41);
        assert_eq!(img.height() as usize, 1 + 2 * 41);
        // Row 0 is all zeros: mid grey under Symmetric; row 1 is all ones: white.
        assert_eq!(img.get_pixel(label_w as u32 + 5, 5).0, [128, 128, 128]);
        assert_eq!(img.get_pixel(label_w as u32 + 5, 45).0, [255, 255, 255]);
        // The label column has dark text pixels somewhere.
        let dark = (0..label_w as u32)
            .flat_map(|x| (0..img.height()).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0[0] < 100)
            .count();
        assert!(dark > 20, "{dark}");
    }

    #[test]
    fn header_adds_a_line_above_the_columns() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.png");
        let headed = dir.path().join("headed.png");
        let rows = vec![(
            "layer 1".to_string(),
            vec![Image::grey(8, 8, vec![0.0; 64]); 3],
        )];
        labelled_grid_png(&plain, &rows, 4, Normalise::Symmetric).unwrap();
        let cols: Vec<String> = ["s", "t", "a much longer output name"]
            .iter()
            .map(|c| c.to_string())
            .collect();
        labelled_grid_with_header_png(&headed, &cols, &rows, 4, Normalise::Symmetric).unwrap();
        let a = image::open(&plain).unwrap().to_rgb8();
        let b = image::open(&headed).unwrap().to_rgb8();
        // The long name widens every column beyond the 32-pixel images.
        let col_w = text_size("a much longer output name", HEADER_SIZE).0 as usize + 8;
        assert_eq!(b.width() - a.width(), 3 * (col_w as u32 - 32));
        let header_h = text_size("Ag", HEADER_SIZE).1 as usize + 6;
        assert_eq!(b.height(), a.height() + header_h as u32);
        // Header text is dark and stays inside the header band.
        let dark = |img: &image::RgbImage, y0: u32, y1: u32| {
            (y0..y1)
                .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
                .filter(|&(x, y)| img.get_pixel(x, y).0[0] < 100)
                .count()
        };
        assert!(dark(&b, 0, header_h as u32) > 20);
        let too_many: Vec<String> = vec!["x".into(); 4];
        let err = labelled_grid_with_header_png(&headed, &too_many, &rows, 4, Normalise::PerImage)
            .unwrap_err();
        assert!(matches!(err, FigureError::InvalidArgument { .. }), "{err}");
    }

    #[test]
    fn bad_images_are_errors_naming_the_image() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.png");
        let ok = Image::grey(2, 2, vec![0.0; 4]);
        let nan = Image::grey(2, 2, vec![0.0, f32::NAN, 0.0, 0.0]);
        let err = image_grid_png(&path, &[ok.clone(), nan], 2, 1, Normalise::PerImage).unwrap_err();
        assert!(err.to_string().contains("image 1"), "{err}");
        assert!(matches!(err, FigureError::NonFinite { index: 1, .. }));
        let short = Image::grey(2, 2, vec![0.0; 3]);
        assert!(image_grid_png(&path, &[short], 1, 1, Normalise::PerImage).is_err());
        let two = Image {
            channels: 2,
            ..ok.clone()
        };
        assert!(image_grid_png(&path, &[two], 1, 1, Normalise::PerImage).is_err());
        assert!(
            image_grid_png(&path, std::slice::from_ref(&ok), 0, 1, Normalise::PerImage).is_err()
        );
        assert!(
            image_grid_png(&path, std::slice::from_ref(&ok), 1, 0, Normalise::PerImage).is_err()
        );
        assert!(image_grid_png(
            &path,
            std::slice::from_ref(&ok),
            1,
            1,
            Normalise::Fixed(1.0, 1.0)
        )
        .is_err());
        assert!(image_grid_png(
            &path,
            std::slice::from_ref(&ok),
            1,
            100_000,
            Normalise::PerImage
        )
        .is_err());
        assert!(image_grid_png(&path, &[], 1, 1, Normalise::PerImage).is_err());
        let err = labelled_grid_png(
            &path,
            &[("empty row".into(), vec![])],
            1,
            Normalise::PerImage,
        )
        .unwrap_err();
        assert!(err.to_string().contains("empty row"), "{err}");
        assert!(!path.exists());
    }
}
