//! Errors of flow construction and use.

use thiserror::Error;

/// What can go wrong building or feeding a flow.
#[derive(Debug, Error)]
pub enum FlowError {
    /// A configuration that cannot be built, with the reason.
    #[error("invalid flow configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
    /// A mask that does not fit the shape a layer sees.
    #[error("layer {layer}: {source}")]
    Mask {
        /// The layer's name.
        layer: String,
        /// The mask error.
        #[source]
        source: flow_masks::MaskError,
    },
    /// An input whose shape the model was not built for.
    #[error("input shape {got:?} does not match the model's input shape [N, {expected:?}]")]
    InputShape {
        /// The input's shape, `[N, C, H, W]`.
        got: Vec<usize>,
        /// The model's `[C, H, W]`.
        expected: [usize; 3],
    },
}
