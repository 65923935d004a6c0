//! A picture in memory: an RGB buffer that plotters draws into (charts, text, lines) and
//! that image tiles are copied into pixel for pixel, then encoded and written once.

use std::path::Path;

use image::RgbImage;
use plotters::backend::BitMapBackend;
use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, DrawingAreaErrorKind, IntoDrawingArea};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontStyle,
};

use crate::{output, style, FigureError};

/// The drawing area plotters hands to the drawing code of a figure.
pub(crate) type Area<'a> = DrawingArea<Canvas<'a>, Shift>;

/// plotters' bitmap backend with our text: every shape goes to [`BitMapBackend`]
/// unchanged, text goes through [`crate::text`], which places glyphs by their side
/// bearings (see there for why).
pub(crate) struct Canvas<'a>(BitMapBackend<'a>);

impl<'a> DrawingBackend for Canvas<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        crate::text::draw(&mut self.0, text, style, pos)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let bold = matches!(style.style(), FontStyle::Bold);
        Ok(crate::text::measure(text, style.size(), bold))
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }
}

/// Pixels beyond this many in one figure are refused, so a mistaken `scale` cannot
/// exhaust memory.
pub(crate) const MAX_PIXELS: usize = 64 * 1024 * 1024;

/// A white picture of a fixed size.
pub(crate) struct Page {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Page {
    /// A white `width` by `height` page for the figure at `path`; registers the embedded
    /// font with plotters first, so every text drawn on the page uses it.
    ///
    /// Errors: a page over [`MAX_PIXELS`] or of zero size, or a font plotters rejected.
    pub(crate) fn new(path: &Path, width: usize, height: usize) -> Result<Self, FigureError> {
        if width == 0 || height == 0 || width.saturating_mul(height) > MAX_PIXELS {
            return Err(FigureError::InvalidArgument {
                path: path.to_path_buf(),
                reason: format!(
                    "a {width}x{height} figure is outside 1 to {MAX_PIXELS} pixels; lower scale"
                ),
            });
        }
        if !style::register_fonts() || !crate::text::available() {
            return Err(FigureError::Font {
                path: path.to_path_buf(),
            });
        }
        Ok(Self {
            width: width as u32,
            height: height as u32,
            rgb: vec![255; width * height * 3],
        })
    }

    /// Sets pixel (x, y) to `rgb` (channels in 0..=1); pixels off the page are ignored.
    pub(crate) fn set(&mut self, x: usize, y: usize, rgb: [f32; 3]) {
        if x < self.width as usize && y < self.height as usize {
            let i = (y * self.width as usize + x) * 3;
            for (k, v) in rgb.iter().enumerate() {
                self.rgb[i + k] = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
            }
        }
    }

    /// Lets `draw` draw on the whole page with plotters, pixel coordinates from the top
    /// left. A plotters error becomes a [`FigureError::Draw`] naming `path`.
    pub(crate) fn draw(
        &mut self,
        path: &Path,
        draw: impl FnOnce(&Area<'_>) -> Result<(), DrawError>,
    ) -> Result<(), FigureError> {
        let size = (self.width, self.height);
        let root = Canvas(BitMapBackend::with_buffer(&mut self.rgb, size)).into_drawing_area();
        let drawn = draw(&root).and_then(|()| root.present().map_err(DrawError::from));
        drawn.map_err(|e| FigureError::Draw {
            path: path.to_path_buf(),
            source: e.0,
        })
    }

    /// Encodes the page as PNG and writes it atomically to `path`.
    pub(crate) fn write(self, path: &Path) -> Result<(), FigureError> {
        let image = RgbImage::from_raw(self.width, self.height, self.rgb).ok_or_else(|| {
            FigureError::InvalidArgument {
                path: path.to_path_buf(),
                reason: "the picture buffer does not match its size".into(),
            }
        })?;
        output::write_png(path, &image)
    }
}

/// A plotters error of any backend, boxed so drawing code can use `?` on every call.
#[derive(Debug)]
pub(crate) struct DrawError(Box<dyn std::error::Error + Send + Sync>);

impl<E: std::error::Error + Send + Sync + 'static> From<DrawingAreaErrorKind<E>> for DrawError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        DrawError(Box::new(e))
    }
}
