//! Why a mask could not be built.

use thiserror::Error;

use crate::{MaskKind, MaskShape};

/// A mask that cannot be built for a shape, or a schedule asked for a layer it lacks.
///
/// Every message names the mask kind (where there is one) and the shape, so a failing
/// model configuration points at the layer to fix.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MaskError {
    /// Some dimension of the shape is zero, so there is nothing to mask.
    #[error("{kind} mask cannot be built for the empty shape {shape}: every dimension must be at least 1")]
    EmptyShape {
        /// The kind that was asked for.
        kind: MaskKind,
        /// The offending shape.
        shape: MaskShape,
    },
    /// The kind cannot split this shape into its two parts (an odd or too small dimension).
    #[error("{kind} mask cannot split shape {shape}: it needs {requirement}")]
    CannotSplit {
        /// The kind that was asked for.
        kind: MaskKind,
        /// The offending shape.
        shape: MaskShape,
        /// What the kind needs of the shape, in words.
        requirement: &'static str,
    },
    /// A checkerboard parity other than 0 or 1 (possible through a hand-written config).
    #[error("{kind} mask for shape {shape}: checkerboard parity must be 0 or 1")]
    InvalidParity {
        /// The kind that was asked for.
        kind: MaskKind,
        /// The shape it was asked for.
        shape: MaskShape,
    },
    /// A schedule was asked for a layer past its end.
    #[error("layer {index} is out of range for a mask schedule of {len} layers (shape {shape})")]
    LayerOutOfRange {
        /// The layer index that was asked for.
        index: usize,
        /// Number of layers in the schedule.
        len: usize,
        /// The shape the mask was asked for.
        shape: MaskShape,
    },
}
