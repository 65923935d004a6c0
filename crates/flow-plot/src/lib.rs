//! PNG figures for flows-ood reports.
//!
//! Plain numbers in, a PNG a person can read out. The charts (histograms, ROC and
//! training curves, grouped bars) are drawn by [plotters] on its bitmap backend; the image
//! panels (latents, coupling maps, masks, sample grids), which plotters has no notion of,
//! are copied pixel for pixel into the same picture, and their labels go through the same
//! plotters text path. All text uses DejaVu Sans, embedded in the binary and handed to
//! plotters' `ab_glyph` support, so a figure renders the same on a machine without any
//! fonts. Nothing here knows about tensors: callers pass `f64` scores and `f32` pixels.
//!
//! Every file is written atomically (a temporary file beside it, flushed, renamed over
//! the target, the directory flushed), and bad input (empty sets, NaN where a value must
//! be finite, mismatched lengths) is a [`FigureError`] that names the file, never a panic.
//!
//! - [`histogram_png`]: overlaid score histograms on shared bins (see [`shared_histogram`]),
//!   with a broken x axis when one group of sets lies far from the rest.
//! - [`roc_png`], [`line_png`]: ROC curves and training curves.
//! - [`bar_png`], [`bar_png_from_colour`]: grouped bars, e.g. per-layer log-det
//!   contributions per data set.
//! - [`image_grid_png`], [`labelled_grid_png`], [`labelled_grid_with_header_png`]: image
//!   tiles under a [`Normalise`] mode, optionally with row and column labels.
//! - [`panel_figure_png`]: a titled figure of image tiles, each with its own colour
//!   mapping (e.g. the diverging map of [`Normalise::Diverging`] for a coupling's `s` and
//!   `t`), with grouped column headers, notes and a colour key.
//!
//! Series take their colours in order from a palette of twelve, so up to twelve sets in
//! one chart never share a colour.
//!
//! ```no_run
//! use flow_plot::{histogram_png, Series};
//! let fashion = Series::new("FashionMNIST test", vec![2.9, 3.1, 3.0]);
//! let mnist = Series::new("MNIST", vec![2.0, 2.2, f64::NAN]);
//! histogram_png(
//!     std::path::Path::new("bits.png"),
//!     "RealNVP bits/dim",
//!     "bits/dim",
//!     &[fashion, mnist],
//!     60,
//! )?;
//! # Ok::<(), flow_plot::FigureError>(())
//! ```

#![deny(missing_docs)]

mod bars;
mod chart;
mod curves;
mod error;
mod grid;
mod histogram;
mod output;
mod page;
mod panel;
mod style;
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

// Compiles the README's example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
