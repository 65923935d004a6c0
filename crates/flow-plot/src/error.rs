//! The one error type of the crate; every variant names the file being written.

use std::path::PathBuf;

/// Why a figure could not be written. Every variant names the PNG that was asked for, so a
/// report that draws many figures says which one failed.
#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    /// The figure was given nothing to draw (no series, no curves, no images).
    #[error("figure {path}: no {what} to draw")]
    EmptyInput {
        /// The PNG that was to be written.
        path: PathBuf,
        /// What was missing, e.g. "series" or "images".
        what: &'static str,
    },
    /// A named series or curve holds no values at all.
    #[error("figure {path}: {kind} '{name}' is empty")]
    EmptySeries {
        /// The PNG that was to be written.
        path: PathBuf,
        /// "series" or "curve".
        kind: &'static str,
        /// The label of the empty series or curve.
        name: String,
    },
    /// A histogram series whose values are all NaN or infinite: drawing it would hide it.
    #[error("figure {path}: series '{name}' has no finite value ({dropped} non-finite)")]
    NoFiniteValues {
        /// The PNG that was to be written.
        path: PathBuf,
        /// The label of the series.
        name: String,
        /// How many values were NaN or infinite.
        dropped: usize,
    },
    /// A NaN or infinite value where every value must be finite (curves, bars, pixels).
    #[error("figure {path}: non-finite value {value} in {kind} '{name}' at index {index}")]
    NonFinite {
        /// The PNG that was to be written.
        path: PathBuf,
        /// "curve", "series", "image" or "axis range".
        kind: &'static str,
        /// The label of the curve or series, or the image's position.
        name: String,
        /// Index of the offending value inside it.
        index: usize,
        /// The value itself (NaN or ±inf).
        value: f64,
    },
    /// An argument that cannot describe a figure (zero bins, mismatched lengths, ...).
    #[error("figure {path}: {reason}")]
    InvalidArgument {
        /// The PNG that was to be written.
        path: PathBuf,
        /// What is wrong, in words.
        reason: String,
    },
    /// Writing the file (or renaming the temporary file into place) failed.
    #[error("figure {path}: cannot write: {source}")]
    Io {
        /// The PNG that was to be written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// PNG encoding failed.
    #[error("figure {path}: cannot encode PNG: {source}")]
    Encode {
        /// The PNG that was to be written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: image::ImageError,
    },
    /// The embedded font could not be handed to plotters: a packaging bug, reported
    /// rather than drawing a figure without any text.
    #[error("figure {path}: the embedded font could not be registered")]
    Font {
        /// The PNG that was to be written.
        path: PathBuf,
    },
    /// plotters failed while drawing into the in-memory picture.
    #[error("figure {path}: cannot draw: {source}")]
    Draw {
        /// The PNG that was to be written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}
