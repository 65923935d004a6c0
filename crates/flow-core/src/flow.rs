//! The flow contract and the per-layer trace of a forward pass.

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::layers::ChannelSplit;
use crate::FlowError;

/// The result of a forward pass: the latent and `log|det J|` of the whole map, one per
/// sample.
#[derive(Debug, Clone)]
pub struct FlowOutput<B: Backend> {
    /// The latent, laid out like the input (`[N, C, H, W]`).
    pub z: Tensor<B, 4>,
    /// `log|det dz/dx|` per sample, `[N]`.
    pub log_det: Tensor<B, 1>,
}

/// An invertible map `x -> z` with a tractable log-determinant.
///
/// Inputs and latents are `[N, C, H, W]`; vectors travel as `[N, D, 1, 1]`. Multi-scale
/// flows lay their factored-out latents back on the input's grid, so `z` always has the
/// input's shape (undoing squeezes and factor-outs but not the couplings: the paper's
/// "latent laid on the pixel grid").
///
/// Every pass checks its input's shape first and refuses a wrong one with
/// [`FlowError::InputShape`] instead of failing deep inside the backend.
pub trait Flow<B: Backend> {
    /// The shape `[C, H, W]` of one input, and of one latent.
    fn input_shape(&self) -> [usize; 3];

    /// Checks that `dims` is `[N, C, H, W]` with the flow's `[C, H, W]`.
    ///
    /// # Errors
    /// [`FlowError::InputShape`] otherwise.
    fn check_input(&self, dims: [usize; 4]) -> Result<(), FlowError> {
        let expected = self.input_shape();
        if dims[1..] != expected {
            return Err(FlowError::InputShape {
                got: dims.to_vec(),
                expected,
            });
        }
        Ok(())
    }

    /// The forward pass `x -> (z, log|det J|)`, recording each layer into `trace` when
    /// one is given.
    ///
    /// # Errors
    /// [`FlowError::InputShape`] when `x` does not have the flow's input shape.
    fn forward_traced(
        &self,
        x: Tensor<B, 4>,
        trace: Option<&mut Trace<B>>,
    ) -> Result<FlowOutput<B>, FlowError>;

    /// The inverse pass `z -> (x, log|det dx/dz|)`; the log-det is the negative of the
    /// forward pass's at `x`.
    ///
    /// # Errors
    /// [`FlowError::InputShape`] when `z` does not have the flow's input shape.
    fn inverse_with_log_det(
        &self,
        z: Tensor<B, 4>,
    ) -> Result<(Tensor<B, 4>, Tensor<B, 1>), FlowError>;

    /// The inverse pass `z -> x`.
    ///
    /// # Errors
    /// [`FlowError::InputShape`] when `z` does not have the flow's input shape.
    fn inverse(&self, z: Tensor<B, 4>) -> Result<Tensor<B, 4>, FlowError> {
        Ok(self.inverse_with_log_det(z)?.0)
    }

    /// The forward pass `x -> (z, log|det J|)`.
    ///
    /// # Errors
    /// [`FlowError::InputShape`] when `x` does not have the flow's input shape.
    fn forward(&self, x: Tensor<B, 4>) -> Result<FlowOutput<B>, FlowError> {
        self.forward_traced(x, None)
    }
}

/// What one layer contributed during a traced forward pass.
#[derive(Debug, Clone)]
pub struct LayerRecord<B: Backend> {
    /// The layer's name, e.g. `scale0.checkerboard1`.
    pub name: String,
    /// Its `log|det J|` per sample, `[N]`.
    pub log_det: Tensor<B, 1>,
    /// For coupling layers traced with [`Trace::with_couplings`]: `s`, `t` and the output.
    pub coupling: Option<CouplingRecord<B>>,
}

/// The internals of one coupling layer on one batch (for the paper's Fig. 1 views).
#[derive(Debug, Clone)]
pub struct CouplingRecord<B: Backend> {
    /// The log-scale `s`, zero where the layer leaves entries unchanged (for channel-wise
    /// couplings: the transformed channels only).
    pub s: Tensor<B, 4>,
    /// The shift `t`, likewise.
    pub t: Tensor<B, 4>,
    /// The layer's output.
    pub output: Tensor<B, 4>,
    /// For channel-wise couplings, which channels `s` and `t` belong to.
    pub channel_split: Option<ChannelSplit>,
}

/// A record of every layer of a forward pass, in order.
#[derive(Debug, Clone)]
pub struct Trace<B: Backend> {
    layers: Vec<LayerRecord<B>>,
    keep_couplings: bool,
}

impl<B: Backend> Default for Trace<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> Trace<B> {
    /// A trace of per-layer log-determinants only.
    pub fn new() -> Self {
        Self {
            layers: Vec::new(),
            keep_couplings: false,
        }
    }

    /// A trace that also keeps each coupling's `s`, `t` and output.
    pub fn with_couplings() -> Self {
        Self {
            layers: Vec::new(),
            keep_couplings: true,
        }
    }

    /// Whether couplings should record their internals.
    pub fn keeps_couplings(&self) -> bool {
        self.keep_couplings
    }

    /// Appends a layer's record.
    pub fn push(&mut self, record: LayerRecord<B>) {
        self.layers.push(record);
    }

    /// The records, in the order of the forward pass.
    pub fn layers(&self) -> &[LayerRecord<B>] {
        &self.layers
    }

    /// Takes the records.
    pub fn into_layers(self) -> Vec<LayerRecord<B>> {
        self.layers
    }
}

/// Sums every entry of each sample: `[N, ...] -> [N]`.
pub fn sum_per_sample<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 1> {
    let n = x.dims()[0];
    x.reshape([n as i32, -1]).sum_dim(1).reshape([n])
}
