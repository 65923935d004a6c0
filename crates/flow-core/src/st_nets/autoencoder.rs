//! The convolutional autoencoder st-network: the conditioning input squeezed through a
//! linear latent of size `l` (the reference's `AE`, the paper's bottleneck experiment).

use burn::module::Module;
use burn::tensor::activation::leaky_relu;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::error::FlowError;
use crate::init::ParamInit;
use crate::nn::{ConvTranspose2d, Linear, StridedConv2d};

/// Hidden channels of the encoder's four convolutions (the decoder mirrors them).
const HIDDEN: [usize; 4] = [32, 64, 64, 128];
/// Kernel size of every (transposed) convolution.
const KERNEL: usize = 4;
/// PyTorch's default LeakyReLU slope, which the reference uses.
const SLOPE: f64 = 0.01;

/// Encoder: four 4x4 convolutions (strides 1, 1, s, s with `s = width / 14`, as in the
/// reference) with LeakyReLU, then a linear map to the latent. Decoder: a linear map
/// back, then four transposed convolutions mirroring the encoder, the last without
/// activation.
#[derive(Module, Debug)]
pub struct ConvAutoencoderStNet<B: Backend> {
    encoder: Vec<StridedConv2d<B>>,
    to_latent: Linear<B>,
    from_latent: Linear<B>,
    decoder: Vec<ConvTranspose2d<B>>,
    encoded_shape: [usize; 3],
}

impl<B: Backend> ConvAutoencoderStNet<B> {
    /// Builds the autoencoder for `channels_in x height x width` inputs.
    ///
    /// Fails when the strided convolutions cannot map the size down and back exactly
    /// (the reference's layout needs square inputs of at least 14 pixels whose
    /// round trip is exact, as 14 and 28 are).
    pub fn new(
        channels_in: usize,
        channels_out: usize,
        height: usize,
        width: usize,
        latent: usize,
        rng: &mut ParamInit,
        device: &B::Device,
    ) -> Result<Self, FlowError> {
        let unsupported = || FlowError::Config {
            message: format!(
                "the conv autoencoder st-network needs a square input of at least 14 pixels \
                 whose strided round trip is exact (14 and 28 are); got {height}x{width}"
            ),
        };
        if height != width || width < 14 {
            return Err(unsupported());
        }
        let scale = width / 14;
        let strides = [1, 1, scale, scale];
        let mut size = width;
        for stride in strides {
            if size < KERNEL {
                return Err(unsupported());
            }
            size = (size - KERNEL) / stride + 1;
        }
        let mut back = size;
        for stride in strides.iter().rev() {
            back = (back - 1) * stride + KERNEL;
        }
        if back != width {
            return Err(unsupported());
        }
        let mut encoder = Vec::new();
        let mut c = channels_in;
        for (hidden, stride) in HIDDEN.iter().zip(strides) {
            encoder.push(StridedConv2d::new(c, *hidden, KERNEL, stride, rng, device));
            c = *hidden;
        }
        let flat = c * size * size;
        let to_latent = Linear::new(flat, latent, false, rng, device);
        let from_latent = Linear::new(latent, flat, false, rng, device);
        let mut decoder = Vec::new();
        for i in (1..HIDDEN.len()).rev() {
            decoder.push(ConvTranspose2d::new(
                HIDDEN[i],
                HIDDEN[i - 1],
                KERNEL,
                strides[i],
                false,
                rng,
                device,
            ));
        }
        decoder.push(ConvTranspose2d::new(
            HIDDEN[0],
            channels_out,
            KERNEL,
            strides[0],
            false,
            rng,
            device,
        ));
        Ok(Self {
            encoder,
            to_latent,
            from_latent,
            decoder,
            encoded_shape: [c, size, size],
        })
    }

    /// The same network with its last transposed convolution starting as the zero map.
    pub fn into_zero_output(mut self) -> Self {
        if let Some(last) = self.decoder.pop() {
            self.decoder.push(last.into_zero_map());
        }
        self
    }

    /// Maps the conditioning input to the raw `[s; t]` output.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let n = x.dims()[0];
        let mut y = x;
        for conv in &self.encoder {
            y = leaky_relu(conv.forward(y), SLOPE);
        }
        let [c, h, w] = self.encoded_shape;
        let latent = self.to_latent.forward(y.reshape([n, c * h * w]));
        let mut y = self.from_latent.forward(latent).reshape([n, c, h, w]);
        let last = self.decoder.len() - 1;
        for (i, deconv) in self.decoder.iter().enumerate() {
            y = deconv.forward(y);
            if i < last {
                y = leaky_relu(y, SLOPE);
            }
        }
        y
    }
}
