//! Titled figures of image panels: rows of tiles under column headers (optionally
//! grouped, e.g. "FashionMNIST test image" over "s, t, output"), each tile with its own
//! [`Normalise`], with notes and an optional colour key underneath. For the latent-space,
//! coupling-layer, co-adaptation and mask figures.

use std::path::Path;

use plotters::element::{PathElement, Rectangle};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::ShapeStyle;

use crate::grid::{blit, check_common, check_size, diverging_rgb, invalid, tile, Image, Normalise};
use crate::page::Page;
use crate::style::{self, text_size, AXIS, GRID, NOTE, NOTE_SIZE, TITLE_SIZE};
use crate::FigureError;

/// One tile: an image and how its values become colours.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// The image.
    pub image: Image,
    /// Its colour mapping.
    pub normalise: Normalise,
}

impl Panel {
    /// A tile of `image` under `normalise`.
    pub fn new(image: Image, normalise: Normalise) -> Self {
        Self { image, normalise }
    }
}

/// One row: a label at its left and its tiles (`None` leaves a cell blank).
#[derive(Debug, Clone, PartialEq)]
pub struct PanelRow {
    /// The label.
    pub label: String,
    /// The tiles, one per column.
    pub panels: Vec<Option<Panel>>,
}

/// A colour key drawn under the tiles: the diverging map from `-limit` (blue) through 0
/// (white) to `+limit` (red), with a caption.
#[derive(Debug, Clone, PartialEq)]
pub struct ColourKey {
    /// What the colours mean, e.g. "s and t: blue < 0, white = 0 (untouched), red > 0".
    pub caption: String,
    /// The labels at the left end, the middle and the right end.
    pub ends: [String; 3],
}

/// A whole figure of panels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PanelFigure {
    /// Title at the top.
    pub title: String,
    /// Headers spanning consecutive columns, `(name, number of columns)`, left to right;
    /// a small gap separates the groups. Empty: no group headers.
    pub column_groups: Vec<(String, usize)>,
    /// Column names (may be fewer than the columns, or empty).
    pub columns: Vec<String>,
    /// The rows.
    pub rows: Vec<PanelRow>,
    /// Lines of explanation under the tiles.
    pub notes: Vec<String>,
    /// The colour key, if the figure uses the diverging map.
    pub key: Option<ColourKey>,
    /// Nearest-neighbour upscaling of every tile.
    pub scale: usize,
}

const PAD: usize = 12;
const GAP: usize = 2;
const GROUP_GAP: usize = 14;
const ROW_LABEL_SIZE: f64 = 14.0;
const HEADER_SIZE: f64 = 14.0;
const GROUP_SIZE: f64 = 15.0;
const KEY_WIDTH: usize = 240;
const KEY_HEIGHT: usize = 14;

/// Writes `figure` to `path`.
///
/// Errors: no rows, a row with no tiles at all, more column names than columns, group
/// spans that do not add up to the number of columns, or any error of
/// [`image_grid_png`](crate::image_grid_png) for a tile (bad shape, non-finite pixel,
/// bad normalisation, a figure over the pixel limit).
pub fn panel_figure_png(path: &Path, figure: &PanelFigure) -> Result<(), FigureError> {
    if figure.rows.is_empty() {
        return Err(FigureError::EmptyInput {
            path: path.to_path_buf(),
            what: "rows",
        });
    }
    let cols = figure
        .rows
        .iter()
        .map(|r| r.panels.len())
        .max()
        .unwrap_or(0);
    let mut tiles = Vec::with_capacity(figure.rows.len());
    let (mut cell_w, mut cell_h) = (0usize, 0usize);
    for row in &figure.rows {
        if row.panels.iter().all(Option::is_none) {
            return Err(FigureError::EmptySeries {
                path: path.to_path_buf(),
                kind: "row",
                name: row.label.clone(),
            });
        }
        let mut row_tiles = Vec::with_capacity(row.panels.len());
        for (i, panel) in row.panels.iter().enumerate() {
            row_tiles.push(match panel {
                Some(p) => {
                    check_common(path, figure.scale, p.normalise)?;
                    cell_w = cell_w.max(p.image.width * figure.scale);
                    cell_h = cell_h.max(p.image.height * figure.scale);
                    Some(tile(
                        path,
                        &p.image,
                        &format!("row '{}' column {i}", row.label),
                        p.normalise,
                    )?)
                }
                None => None,
            });
        }
        tiles.push(row_tiles);
    }
    if figure.columns.len() > cols {
        return Err(invalid(
            path,
            format!("{} column names for {cols} columns", figure.columns.len()),
        ));
    }
    let spans: usize = figure.column_groups.iter().map(|(_, n)| n).sum();
    if !figure.column_groups.is_empty() && spans != cols {
        return Err(invalid(
            path,
            format!("column groups span {spans} columns, the rows have {cols}"),
        ));
    }

    let col_w = figure
        .columns
        .iter()
        .map(|c| text_size(c, HEADER_SIZE).0 as usize + 6)
        .fold(cell_w, usize::max);
    // Left edge of every column, with a wider gap where a group ends.
    let label_w = figure
        .rows
        .iter()
        .map(|r| text_size(&r.label, ROW_LABEL_SIZE).0 as usize)
        .max()
        .unwrap_or(0)
        + PAD
        + 10;
    let group_ends: Vec<usize> = figure
        .column_groups
        .iter()
        .scan(0, |end, (_, n)| {
            *end += n;
            Some(*end)
        })
        .collect();
    let mut xs = Vec::with_capacity(cols);
    let mut x = label_w;
    for c in 0..cols {
        if c > 0 && group_ends.contains(&c) {
            x += GROUP_GAP;
        }
        xs.push(x);
        x += col_w + GAP;
    }
    let grid_right = x;

    let title_h = text_size("Ag", TITLE_SIZE).1 as usize + 8;
    let group_h = if figure.column_groups.is_empty() {
        0
    } else {
        text_size("Ag", GROUP_SIZE).1 as usize + 8
    };
    let header_h = if figure.columns.is_empty() {
        0
    } else {
        text_size("Ag", HEADER_SIZE).1 as usize + 4
    };
    let row_h = cell_h.max(text_size("Ag", ROW_LABEL_SIZE).1 as usize + 4);
    let note_line = text_size("Ag", NOTE_SIZE).1 as usize + 3;
    let key_h = if figure.key.is_some() {
        KEY_HEIGHT + note_line + 10
    } else {
        0
    };
    let notes_w = figure
        .notes
        .iter()
        .chain(figure.key.iter().map(|k| &k.caption))
        .map(|n| text_size(n, NOTE_SIZE).0 as usize)
        .max()
        .unwrap_or(0);
    let title_w = text_size(&figure.title, TITLE_SIZE).0 as usize;
    let width = (grid_right + PAD)
        .max(title_w + 2 * PAD)
        .max(notes_w + 2 * PAD)
        .max(KEY_WIDTH + 2 * PAD);
    let grid_top = PAD + title_h + group_h + header_h;
    let grid_bottom = grid_top + figure.rows.len() * (row_h + GAP);
    let height = grid_bottom + 8 + key_h + figure.notes.len() * note_line + PAD;
    check_size(path, width, height)?;

    let mut page = Page::new(path, width, height)?;
    // Pixels first (tiles and the key's gradient), then plotters draws text and lines over
    // them.
    let mut frames = Vec::new();
    for (r, (row, row_tiles)) in figure.rows.iter().zip(&tiles).enumerate() {
        let y = grid_top + r * (row_h + GAP);
        for (c, (panel, t)) in row.panels.iter().zip(row_tiles).enumerate() {
            if let (Some(p), Some(t)) = (panel, t) {
                let w = p.image.width * figure.scale;
                let h = p.image.height * figure.scale;
                let (x0, y0) = (xs[c] + (col_w - w) / 2, y + (row_h - h) / 2);
                blit(&mut page, &p.image, t, x0, y0, figure.scale);
                frames.push((x0, y0, w, h));
            }
        }
    }
    let key_top = grid_bottom + 8;
    let key_x0 = figure
        .key
        .as_ref()
        .map_or(0, |k| PAD + text_size(&k.ends[0], NOTE_SIZE).0 as usize + 6);
    if figure.key.is_some() {
        for dx in 0..KEY_WIDTH {
            let t = 2.0 * dx as f32 / (KEY_WIDTH - 1) as f32 - 1.0;
            let rgb = diverging_rgb(t);
            for dy in 0..KEY_HEIGHT {
                page.set(key_x0 + dx, key_top + dy, rgb);
            }
        }
    }
    page.draw(path, |root| {
        let at = |x: usize, y: usize| (x as i32, y as i32);
        let title = style::font(TITLE_SIZE).pos(Pos::new(HPos::Center, VPos::Top));
        root.draw_text(&figure.title, &title, at(width / 2, PAD))?;
        let group = style::font(GROUP_SIZE).pos(Pos::new(HPos::Center, VPos::Bottom));
        let mut first = 0;
        for (name, n) in &figure.column_groups {
            if *n == 0 {
                continue;
            }
            let (x0, x1) = (xs[first], xs[first + n - 1] + col_w);
            let y = PAD + title_h + group_h - 6;
            root.draw_text(name, &group, at((x0 + x1) / 2, y - 2))?;
            root.draw(&PathElement::new(
                vec![at(x0, y), at(x1, y)],
                ShapeStyle::from(AXIS),
            ))?;
            first += n;
        }
        let header = style::font_in(HEADER_SIZE, NOTE).pos(Pos::new(HPos::Center, VPos::Bottom));
        for (c, name) in figure.columns.iter().enumerate() {
            let y = PAD + title_h + group_h + header_h - 3;
            root.draw_text(name, &header, at(xs[c] + col_w / 2, y))?;
        }
        let row_style = style::font(ROW_LABEL_SIZE).pos(Pos::new(HPos::Right, VPos::Center));
        for (r, row) in figure.rows.iter().enumerate() {
            let y = grid_top + r * (row_h + GAP) + row_h / 2;
            root.draw_text(&row.label, &row_style, at(label_w - 10, y))?;
        }
        // A hairline frame around every tile, so white (zero) tiles still read as tiles.
        for &(x0, y0, w, h) in &frames {
            root.draw(&Rectangle::new(
                [(x0 as i32 - 1, y0 as i32 - 1), at(x0 + w, y0 + h)],
                ShapeStyle::from(GRID),
            ))?;
        }
        let mut y = key_top;
        if let Some(key) = &figure.key {
            root.draw(&Rectangle::new(
                [
                    (key_x0 as i32 - 1, y as i32 - 1),
                    at(key_x0 + KEY_WIDTH, y + KEY_HEIGHT),
                ],
                ShapeStyle::from(AXIS),
            ))?;
            let mid = y + KEY_HEIGHT / 2;
            let left = style::font(NOTE_SIZE).pos(Pos::new(HPos::Right, VPos::Center));
            let right = style::font(NOTE_SIZE).pos(Pos::new(HPos::Left, VPos::Center));
            let below = style::font(NOTE_SIZE).pos(Pos::new(HPos::Center, VPos::Top));
            root.draw_text(&key.ends[0], &left, at(key_x0 - 6, mid))?;
            root.draw_text(&key.ends[2], &right, at(key_x0 + KEY_WIDTH + 6, mid))?;
            root.draw_text(
                &key.ends[1],
                &below,
                at(key_x0 + KEY_WIDTH / 2, y + KEY_HEIGHT + 1),
            )?;
            y += KEY_HEIGHT + note_line + 4;
            let caption = style::font_in(NOTE_SIZE, NOTE);
            root.draw_text(&key.caption, &caption, at(PAD, y))?;
            y += note_line + 6;
        }
        let note = style::font_in(NOTE_SIZE, NOTE);
        for line in &figure.notes {
            root.draw_text(line, &note, at(PAD, y))?;
            y += note_line;
        }
        Ok(())
    })?;
    page.write(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel(v: f32, normalise: Normalise) -> Option<Panel> {
        Some(Panel::new(Image::grey(4, 4, vec![v; 16]), normalise))
    }

    fn figure() -> PanelFigure {
        let div = Normalise::Diverging { limit: 1.0 };
        PanelFigure {
            title: "coupling layers".into(),
            column_groups: vec![("in".into(), 2), ("out".into(), 2)],
            columns: vec!["s".into(), "t".into(), "s".into(), "t".into()],
            rows: vec![
                PanelRow {
                    label: "layer 0".into(),
                    panels: vec![panel(0.0, div), panel(1.0, div), None, panel(-1.0, div)],
                },
                PanelRow {
                    label: "layer 1".into(),
                    panels: vec![panel(0.5, Normalise::Fixed(0.0, 1.0))],
                },
            ],
            notes: vec!["a note".into()],
            key: Some(ColourKey {
                caption: "blue < 0 < red".into(),
                ends: ["-1".into(), "0".into(), "+1".into()],
            }),
            scale: 5,
        }
    }

    #[test]
    fn tiles_keep_their_own_colour_mapping_and_groups_are_separated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.png");
        let fig = figure();
        panel_figure_png(&path, &fig).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        // Find the red tile (layer 0, column 1) and the blue one (column 3): the blue
        // one lies right of the red one by two cells plus the group gap.
        let find = |rgb: [u8; 3]| {
            (0..img.height())
                .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
                .find(|&(x, y)| img.get_pixel(x, y).0 == rgb)
                .unwrap()
        };
        let red = find([178, 24, 43]);
        let blue = find([33, 102, 172]);
        assert_eq!(red.1, blue.1, "same row");
        let col_w = 20usize.max(text_size("s", HEADER_SIZE).0 as usize + 6);
        assert_eq!((blue.0 - red.0) as usize, 2 * (col_w + GAP) + GROUP_GAP);
        // The grey tile of row 2 sits below, at mid grey.
        let grey: Vec<u32> = (0..img.height())
            .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 == [128, 128, 128])
            .map(|(_, y)| y)
            .collect();
        assert!(grey.len() >= 400, "{}", grey.len());
        assert!(grey[grey.len() / 2] > red.1 + 20);
    }

    #[test]
    fn inconsistent_figures_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.png");
        let mut fig = figure();
        fig.column_groups = vec![("in".into(), 3)];
        assert!(matches!(
            panel_figure_png(&path, &fig),
            Err(FigureError::InvalidArgument { .. })
        ));
        let mut fig = figure();
        fig.rows[1].panels = vec![None];
        assert!(matches!(
            panel_figure_png(&path, &fig),
            Err(FigureError::EmptySeries { .. })
        ));
        let mut fig = figure();
        fig.rows.clear();
        assert!(panel_figure_png(&path, &fig).is_err());
        let mut fig = figure();
        fig.rows[0].panels[0] = panel(f32::NAN, Normalise::PerImage);
        assert!(matches!(
            panel_figure_png(&path, &fig),
            Err(FigureError::NonFinite { .. })
        ));
        assert!(!path.exists());
    }
}
