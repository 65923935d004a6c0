//! st-networks: what a coupling layer uses to predict the scale `s` and shift `t` of the
//! entries it transforms from the entries it conditions on.

mod autoencoder;
mod highway;
mod mlp;
mod resnet;

pub use autoencoder::ConvAutoencoderStNet;
pub use highway::HighwayStNet;
pub use mlp::MlpStNet;
pub use resnet::{ResNetShape, ResNetStNet};

use burn::module::Module;
use burn::tensor::Tensor;
use flow_kernels::FlowBackend;
use serde::{Deserialize, Serialize};

use crate::error::FlowError;
use crate::init::ParamInit;

/// Which st-network a coupling layer uses, and its size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum StNetConfig {
    /// The reference ResNet: weight-normalised convolutions, BatchNorm, 1x1 skips.
    Resnet {
        /// Channels inside the network.
        mid_channels: usize,
        /// Residual blocks.
        blocks: usize,
        /// BatchNorm layers on (the reference default).
        #[serde(default = "default_true")]
        batch_norm: bool,
    },
    /// The reference ResNet with a linear bottleneck of size `latent` after its middle
    /// block (the paper's "st-network bottleneck", `ResNetAE`).
    ResnetBottleneck {
        /// Channels inside the network.
        mid_channels: usize,
        /// Residual blocks.
        blocks: usize,
        /// Size of the linear latent.
        latent: usize,
        /// BatchNorm layers on (the reference default).
        #[serde(default = "default_true")]
        batch_norm: bool,
    },
    /// A convolutional autoencoder with a linear latent of size `latent` (`AE`).
    ConvAutoencoder {
        /// Size of the linear latent.
        latent: usize,
    },
    /// Glow's highway network.
    Highway {
        /// Channels inside the network.
        mid_channels: usize,
        /// Highway layers.
        layers: usize,
    },
    /// An MLP for vectors.
    Mlp {
        /// Width of the hidden layers.
        hidden: usize,
        /// Hidden-to-hidden layers after the first.
        layers: usize,
    },
}

fn default_true() -> bool {
    true
}

/// Where an st-network sits: its input and output and the map it works on.
#[derive(Debug, Clone, Copy)]
pub struct StNetPlace {
    /// Channels of the conditioning input.
    pub channels_in: usize,
    /// Channels the coupling transforms (`s` and `t` have this many each).
    pub channels_transformed: usize,
    /// Height of the map.
    pub height: usize,
    /// Width of the map.
    pub width: usize,
    /// Whether the mask is a checkerboard (the reference doubles the normalised input).
    pub checkerboard: bool,
}

/// An st-network of any kind.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum StNet<B: FlowBackend> {
    /// See [`ResNetStNet`].
    Resnet(ResNetStNet<B>),
    /// See [`ConvAutoencoderStNet`].
    ConvAutoencoder(ConvAutoencoderStNet<B>),
    /// See [`HighwayStNet`].
    Highway(HighwayStNet<B>),
    /// See [`MlpStNet`].
    Mlp(MlpStNet<B>),
}

impl StNetConfig {
    /// Builds the network for `place`.
    pub fn init<B: FlowBackend>(
        &self,
        place: StNetPlace,
        rng: &mut ParamInit,
        device: &B::Device,
    ) -> Result<StNet<B>, FlowError> {
        let channels_out = 2 * place.channels_transformed;
        let resnet = |mid_channels, blocks, batch_norm, bottleneck| ResNetShape {
            channels_in: place.channels_in,
            channels_out,
            mid_channels,
            blocks,
            batch_norm,
            double_after_norm: place.checkerboard,
            bottleneck,
        };
        Ok(match *self {
            StNetConfig::Resnet {
                mid_channels,
                blocks,
                batch_norm,
            } => StNet::Resnet(ResNetStNet::new(
                resnet(mid_channels, blocks, batch_norm, None),
                rng,
                device,
            )),
            StNetConfig::ResnetBottleneck {
                mid_channels,
                blocks,
                latent,
                batch_norm,
            } => StNet::Resnet(ResNetStNet::new(
                resnet(
                    mid_channels,
                    blocks,
                    batch_norm,
                    Some((latent, place.height, place.width)),
                ),
                rng,
                device,
            )),
            StNetConfig::ConvAutoencoder { latent } => {
                StNet::ConvAutoencoder(ConvAutoencoderStNet::new(
                    place.channels_in,
                    channels_out,
                    place.height,
                    place.width,
                    latent,
                    rng,
                    device,
                )?)
            }
            StNetConfig::Highway {
                mid_channels,
                layers,
            } => StNet::Highway(HighwayStNet::new(
                place.channels_in,
                channels_out,
                mid_channels,
                layers,
                rng,
                device,
            )),
            StNetConfig::Mlp { hidden, layers } => {
                let spatial = place.height * place.width;
                StNet::Mlp(MlpStNet::new(
                    place.channels_in * spatial,
                    channels_out * spatial,
                    channels_out,
                    hidden,
                    layers,
                    rng,
                    device,
                ))
            }
        })
    }
}

impl<B: FlowBackend> StNet<B> {
    /// The same network with its last layer starting as the zero map, so that the
    /// coupling around it starts as the identity (the reference's `--init_zeros`).
    /// Glow's highway network already starts that way.
    pub fn into_zero_output(self) -> Self {
        match self {
            StNet::Resnet(net) => StNet::Resnet(net.into_zero_output()),
            StNet::ConvAutoencoder(net) => StNet::ConvAutoencoder(net.into_zero_output()),
            StNet::Highway(net) => StNet::Highway(net),
            StNet::Mlp(net) => StNet::Mlp(net.into_zero_output()),
        }
    }

    /// Maps the conditioning input to the raw `[s; t]` output, `2 * C'` channels.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            StNet::Resnet(net) => net.forward(x),
            StNet::ConvAutoencoder(net) => net.forward(x),
            StNet::Highway(net) => net.forward(x),
            StNet::Mlp(net) => net.forward(x),
        }
    }
}
