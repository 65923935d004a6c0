//! A small RGB raster with the few primitives charts need: filled rectangles with alpha,
//! anti-aliased polylines clipped to a rectangle, and alpha masks (for text).

use image::RgbImage;

/// An sRGB colour with 8-bit channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Color(pub u8, pub u8, pub u8);

impl Color {
    pub(crate) const WHITE: Color = Color(255, 255, 255);
    pub(crate) const TEXT: Color = Color(20, 20, 20);
    pub(crate) const AXIS: Color = Color(60, 60, 60);
    pub(crate) const GRID: Color = Color(225, 225, 225);
    pub(crate) const NOTE: Color = Color(90, 90, 90);
}

/// Series colours: the Okabe–Ito palette, chosen because it stays distinguishable for
/// readers with the common colour-vision deficiencies; black and yellow come last since
/// black reads as an axis and yellow is faint on white.
const PALETTE: [Color; 8] = [
    Color(0, 114, 178),
    Color(230, 159, 0),
    Color(0, 158, 115),
    Color(213, 94, 0),
    Color(204, 121, 167),
    Color(86, 180, 233),
    Color(0, 0, 0),
    Color(240, 228, 66),
];

/// The colour of the `i`-th series (cycles after eight).
pub(crate) fn series_color(i: usize) -> Color {
    PALETTE[i % PALETTE.len()]
}

/// An axis-aligned pixel rectangle, `x0..x1` by `y0..y1` (ends exclusive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    pub(crate) fn width(&self) -> f64 {
        self.x1 - self.x0
    }
    pub(crate) fn height(&self) -> f64 {
        self.y1 - self.y0
    }
}

/// An RGB canvas in floating point, so repeated alpha blending does not band.
pub(crate) struct Canvas {
    width: usize,
    height: usize,
    rgb: Vec<[f32; 3]>,
}

impl Canvas {
    /// A canvas filled with `background`.
    pub(crate) fn new(width: usize, height: usize, background: Color) -> Self {
        Self {
            width,
            height,
            rgb: vec![to_f32(background); width * height],
        }
    }

    pub(crate) fn width(&self) -> usize {
        self.width
    }

    pub(crate) fn height(&self) -> usize {
        self.height
    }

    /// Blends `color` into pixel (x, y) with opacity `alpha`; outside pixels are ignored.
    pub(crate) fn blend(&mut self, x: i64, y: i64, color: Color, alpha: f32) {
        if x < 0 || y < 0 || x as usize >= self.width || y as usize >= self.height || alpha <= 0.0 {
            return;
        }
        let a = alpha.min(1.0);
        let c = to_f32(color);
        let p = &mut self.rgb[y as usize * self.width + x as usize];
        for k in 0..3 {
            p[k] = p[k] * (1.0 - a) + c[k] * a;
        }
    }

    /// Sets pixel (x, y) to an exact value in 0..=1 per channel (for image tiles).
    pub(crate) fn set(&mut self, x: usize, y: usize, rgb: [f32; 3]) {
        if x < self.width && y < self.height {
            self.rgb[y * self.width + x] = rgb;
        }
    }

    /// The pixel at (x, y), channels in 0..=1.
    pub(crate) fn get(&self, x: usize, y: usize) -> [f32; 3] {
        self.rgb[y * self.width + x]
    }

    /// Fills a rectangle with partial coverage at fractional edges, so bars of
    /// sub-pixel width still show in proportion.
    pub(crate) fn fill_rect(&mut self, r: Rect, color: Color, alpha: f32) {
        let (x0, x1) = (r.x0.min(r.x1), r.x0.max(r.x1));
        let (y0, y1) = (r.y0.min(r.y1), r.y0.max(r.y1));
        let xs = x0.floor().max(0.0) as i64;
        let xe = (x1.ceil() as i64).min(self.width as i64);
        let ys = y0.floor().max(0.0) as i64;
        let ye = (y1.ceil() as i64).min(self.height as i64);
        for y in ys..ye {
            let cy = overlap(y as f64, y0, y1);
            for x in xs..xe {
                let cx = overlap(x as f64, x0, x1);
                self.blend(x, y, color, alpha * (cx * cy) as f32);
            }
        }
    }

    /// Strokes a rectangle's outline with crisp 1-pixel lines.
    pub(crate) fn stroke_rect(&mut self, r: Rect, color: Color) {
        let (x0, y0) = (r.x0.round() as i64, r.y0.round() as i64);
        let (x1, y1) = (r.x1.round() as i64 - 1, r.y1.round() as i64 - 1);
        for x in x0..=x1 {
            self.blend(x, y0, color, 1.0);
            self.blend(x, y1, color, 1.0);
        }
        for y in y0..=y1 {
            self.blend(x0, y, color, 1.0);
            self.blend(x1, y, color, 1.0);
        }
    }

    /// A crisp 1-pixel horizontal line at row `y` from `x0` to `x1` (inclusive).
    pub(crate) fn hline(&mut self, x0: f64, x1: f64, y: f64, color: Color) {
        let yy = y.round() as i64;
        for x in x0.round() as i64..=x1.round() as i64 {
            self.blend(x, yy, color, 1.0);
        }
    }

    /// A crisp 1-pixel vertical line at column `x` from `y0` to `y1` (inclusive).
    pub(crate) fn vline(&mut self, x: f64, y0: f64, y1: f64, color: Color) {
        let xx = x.round() as i64;
        let (a, b) = (y0.min(y1).round() as i64, y0.max(y1).round() as i64);
        for y in a..=b {
            self.blend(xx, y, color, 1.0);
        }
    }

    /// Strokes an anti-aliased polyline of the given width, clipped to `clip`.
    /// Coverage is accumulated as a maximum over segments before blending once, so joints
    /// of a semi-transparent or dense line do not darken.
    pub(crate) fn polyline(
        &mut self,
        points: &[(f64, f64)],
        width: f64,
        color: Color,
        alpha: f32,
        clip: Rect,
    ) {
        if points.is_empty() {
            return;
        }
        let cx0 = clip.x0.floor().max(0.0) as usize;
        let cy0 = clip.y0.floor().max(0.0) as usize;
        let cx1 = (clip.x1.ceil() as usize).min(self.width);
        let cy1 = (clip.y1.ceil() as usize).min(self.height);
        if cx1 <= cx0 || cy1 <= cy0 {
            return;
        }
        let (mw, mh) = (cx1 - cx0, cy1 - cy0);
        let mut mask = vec![0f32; mw * mh];
        let half = width / 2.0;
        let single = [points[0], points[0]];
        let segments: &[(f64, f64)] = if points.len() == 1 { &single } else { points };
        for seg in segments.windows(2) {
            let (a, b) = (seg[0], seg[1]);
            let xs = ((a.0.min(b.0) - half - 1.0).floor().max(cx0 as f64)) as usize;
            let xe = ((a.0.max(b.0) + half + 1.0).ceil().min(cx1 as f64)).max(0.0) as usize;
            let ys = ((a.1.min(b.1) - half - 1.0).floor().max(cy0 as f64)) as usize;
            let ye = ((a.1.max(b.1) + half + 1.0).ceil().min(cy1 as f64)).max(0.0) as usize;
            for y in ys..ye {
                for x in xs..xe {
                    let d = distance_to_segment((x as f64 + 0.5, y as f64 + 0.5), a, b);
                    let cov = (half + 0.5 - d).clamp(0.0, 1.0) as f32;
                    let m = &mut mask[(y - cy0) * mw + (x - cx0)];
                    if cov > *m {
                        *m = cov;
                    }
                }
            }
        }
        for y in 0..mh {
            for x in 0..mw {
                let m = mask[y * mw + x];
                if m > 0.0 {
                    self.blend((x + cx0) as i64, (y + cy0) as i64, color, m * alpha);
                }
            }
        }
    }

    /// Blends an alpha mask (`w` by `h`, row-major, values 0..=1) at (x, y) in `color`.
    pub(crate) fn blend_mask(
        &mut self,
        x: i64,
        y: i64,
        w: usize,
        h: usize,
        mask: &[f32],
        color: Color,
    ) {
        for my in 0..h {
            for mx in 0..w {
                let a = mask[my * w + mx];
                if a > 0.0 {
                    self.blend(x + mx as i64, y + my as i64, color, a);
                }
            }
        }
    }

    /// Converts to an 8-bit RGB image.
    pub(crate) fn into_image(self) -> RgbImage {
        let mut img = RgbImage::new(self.width as u32, self.height as u32);
        for (i, px) in img.pixels_mut().enumerate() {
            let p = self.rgb[i];
            px.0 = [to_u8(p[0]), to_u8(p[1]), to_u8(p[2])];
        }
        img
    }
}

fn to_f32(c: Color) -> [f32; 3] {
    [c.0 as f32 / 255.0, c.1 as f32 / 255.0, c.2 as f32 / 255.0]
}

fn to_u8(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// How much of the unit pixel interval [p, p+1) lies inside [lo, hi].
fn overlap(p: f64, lo: f64, hi: f64) -> f64 {
    ((p + 1.0).min(hi) - p.max(lo)).clamp(0.0, 1.0)
}

fn distance_to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (qx, qy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - qx).powi(2) + (p.1 - qy).powi(2)).sqrt()
}
