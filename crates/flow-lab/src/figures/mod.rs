//! PNG figures for reports.
//!
//! Plain numbers in, a PNG a person can read out: titles, axes with tick labels, axis
//! labels and legends, drawn with an embedded font (DejaVu Sans) so nothing depends on
//! the fonts of the machine. Nothing here knows about burn; callers pass `f64` scores and
//! `f32` pixels. Every file is written atomically (temporary file beside it, then rename),
//! and bad input (empty sets, NaN where a value must be finite, mismatched lengths) is a
//! [`FigureError`] that names the file, never a panic.
//!
//! - [`histogram_png`]: overlaid score histograms on shared bins (see [`shared_histogram`]).
//! - [`roc_png`], [`line_png`]: ROC curves and training curves.
//! - [`bar_png`]: grouped bars, e.g. per-layer log-det contributions per data set.
//! - [`image_grid_png`], [`labelled_grid_png`], [`labelled_grid_with_header_png`]: image
//!   tiles under a [`Normalise`] mode, optionally with row and column labels.
//! - [`panel_figure_png`]: a titled figure of image tiles, each with its own colour
//!   mapping (e.g. the diverging map of [`Normalise::Diverging`] for a coupling's `s` and
//!   `t`), with grouped column headers, notes and a colour key.
//!
//! ```no_run
//! use flow_lab::figures::{histogram_png, Series};
//! let fashion = Series::new("FashionMNIST test", vec![-2.9, -3.1, -3.0]);
//! let mnist = Series::new("MNIST", vec![-2.0, -2.2, f64::NAN]);
//! histogram_png(
//!     std::path::Path::new("loglik.png"),
//!     "RealNVP log-likelihood",
//!     "bits/dim",
//!     &[fashion, mnist],
//!     60,
//! )?;
//! # Ok::<(), flow_lab::figures::FigureError>(())
//! ```

mod axes;
mod bars;
mod canvas;
mod curves;
mod error;
mod grid;
mod histogram;
mod output;
mod panel;
mod text;

pub use bars::{bar_png, bar_png_from_colour};
pub use curves::{line_png, roc_png, Curve};
pub use error::FigureError;
pub use grid::{
    image_grid_png, labelled_grid_png, labelled_grid_with_header_png, Image, Normalise,
};
pub use histogram::{
    histogram_png, robust_range, shared_histogram, Series, SharedHistogram, CLIP_PERCENTILES,
};
pub use panel::{panel_figure_png, ColourKey, Panel, PanelFigure, PanelRow};
