//! Serde configurations of the architectures, and their builders.

use burn::module::Module;
use flow_kernels::FlowBackend;
use flow_masks::{Half, MaskKind, MaskSchedule, MaskShape};
use serde::{Deserialize, Serialize};

use crate::error::FlowError;
use crate::init::ParamInit;
use crate::layers::{ActNorm, AffineCoupling, InvConv1x1, LogitPreprocess};
use crate::models::net::{FlowNet, FlowStep, ScaleBlock};
use crate::st_nets::StNetConfig;

/// A whole flow: what it reads, how it preprocesses, and its architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowConfig {
    /// `[C, H, W]` of one input (`[D, 1, 1]` for vectors).
    pub input_shape: [usize; 3],
    /// Logit preprocessing for dequantized 8-bit images; `None` for continuous data
    /// (embeddings), which also drops the `-D log 256` discretisation term.
    #[serde(default)]
    pub preprocess: Option<LogitPreprocess>,
    /// The architecture.
    pub architecture: Architecture,
    /// Every coupling starts as the identity: the last layer of each st-network starts
    /// as the zero map (the reference's `--init_zeros`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub init_zeros: bool,
}

/// The architectures flow-core builds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Architecture {
    /// Multi-scale RealNVP with checkerboard and channel-wise couplings.
    RealNvp(RealNvpConfig),
    /// Multi-scale Glow.
    Glow(GlowConfig),
    /// A single-scale stack of couplings over any mask schedule.
    SingleScale(SingleScaleConfig),
}

/// The st-network family of a RealNVP; sizes follow the scale (channels double after
/// each squeeze, as in the reference).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RealNvpStNet {
    /// The reference ResNet.
    Resnet,
    /// The ResNet with a linear bottleneck of size `latent` after its middle block.
    ResnetBottleneck {
        /// Size of the latent.
        latent: usize,
    },
    /// The convolutional autoencoder with a latent of size `latent` (its size stays
    /// fixed across scales, as in the reference).
    ConvAutoencoder {
        /// Size of the latent.
        latent: usize,
    },
}

/// Multi-scale RealNVP as in the reference: each scale but the last runs 3 checkerboard
/// couplings (parities 0, 1, 0), squeezes, runs 3 channel-wise couplings (first,
/// second, first half), and factors out half of the channels; the last scale runs 4
/// checkerboard couplings (0, 1, 0, 1). The st-networks' channels double at every
/// squeeze.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealNvpConfig {
    /// Number of scales (2 for FashionMNIST in the paper).
    pub scales: usize,
    /// Residual blocks per st-network (6 in the paper).
    pub blocks: usize,
    /// st-network channels at the first scale (64 in the paper).
    pub mid_channels: usize,
    /// st-network family.
    #[serde(default = "default_realnvp_st_net")]
    pub st_net: RealNvpStNet,
    /// BatchNorm inside the st-networks (the reference default).
    #[serde(default = "default_true")]
    pub batch_norm: bool,
}

fn default_realnvp_st_net() -> RealNvpStNet {
    RealNvpStNet::Resnet
}

fn default_true() -> bool {
    true
}

/// Multi-scale Glow: each scale squeezes, runs `steps_per_scale` steps of ActNorm,
/// invertible 1x1 convolution and a channel-wise affine coupling, and (but for the last)
/// factors out half of the channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlowConfig {
    /// Number of scales, L.
    pub scales: usize,
    /// Steps per scale, K.
    pub steps_per_scale: usize,
    /// The couplings' st-network (the paper: highway, 3 layers, 200 channels).
    pub st_net: StNetConfig,
}

/// A single-scale stack: coupling `i` uses mask `schedule[i]` on the full input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SingleScaleConfig {
    /// The masks, one per coupling.
    pub schedule: MaskSchedule,
    /// The couplings' st-network.
    pub st_net: StNetConfig,
}

impl FlowConfig {
    /// The paper's RealNVP for 1x28x28 images: 2 scales, 6 blocks, 64 channels.
    pub fn paper_realnvp() -> Self {
        Self::realnvp([1, 28, 28], 2, 6, 64)
    }

    /// A RealNVP with the reference's layout and the given sizes.
    pub fn realnvp(input_shape: [usize; 3], scales: usize, blocks: usize, mid: usize) -> Self {
        Self {
            input_shape,
            preprocess: Some(LogitPreprocess::default()),
            architecture: Architecture::RealNvp(RealNvpConfig {
                scales,
                blocks,
                mid_channels: mid,
                st_net: RealNvpStNet::Resnet,
                batch_norm: true,
            }),
            init_zeros: false,
        }
    }

    /// The same flow with [`init_zeros`](Self::init_zeros) set.
    pub fn with_init_zeros(self) -> Self {
        Self {
            init_zeros: true,
            ..self
        }
    }

    /// The paper's Glow for 1x28x28 images: 2 scales, 16 steps per scale, highway
    /// st-networks of 3 layers and 200 channels.
    pub fn paper_glow() -> Self {
        Self::glow([1, 28, 28], 2, 16, 3, 200)
    }

    /// The reference's RealNVP for 3x32x32 images (CIFAR-10, SVHN, CelebA; its README's
    /// `--num_scales=3 --num_blocks=8`, 64 channels by default): 3 scales, 8 blocks of
    /// 64 channels.
    pub fn cifar10_realnvp() -> Self {
        Self::realnvp([3, 32, 32], 3, 8, 64)
    }

    /// The reference's Glow for 3x32x32 images (its README's `--num_scales=3
    /// --num_coupling_layers_per_scale=8 --st_type=highway --num_blocks=3
    /// --num_mid_channels=400`): 3 scales of 8 steps, highway st-networks of 3 layers
    /// and 400 channels.
    pub fn cifar10_glow() -> Self {
        Self::glow([3, 32, 32], 3, 8, 3, 400)
    }

    /// A Glow with the reference's layout (ActNorm, invertible 1x1 convolution and an
    /// affine coupling per step; squeeze and factor-out between scales) and highway
    /// st-networks of `layers` layers and `mid` channels.
    pub fn glow(
        input_shape: [usize; 3],
        scales: usize,
        steps_per_scale: usize,
        layers: usize,
        mid: usize,
    ) -> Self {
        Self {
            input_shape,
            preprocess: Some(LogitPreprocess::default()),
            architecture: Architecture::Glow(GlowConfig {
                scales,
                steps_per_scale,
                st_net: StNetConfig::Highway {
                    mid_channels: mid,
                    layers,
                },
            }),
            init_zeros: false,
        }
    }

    /// A single-scale stack of `schedule` couplings with ResNet st-networks.
    pub fn single_scale(
        input_shape: [usize; 3],
        schedule: MaskSchedule,
        blocks: usize,
        mid: usize,
    ) -> Self {
        Self {
            input_shape,
            preprocess: Some(LogitPreprocess::default()),
            architecture: Architecture::SingleScale(SingleScaleConfig {
                schedule,
                st_net: StNetConfig::Resnet {
                    mid_channels: mid,
                    blocks,
                    batch_norm: true,
                },
            }),
            init_zeros: false,
        }
    }

    /// Builds the flow with parameters drawn from `seed`.
    pub fn init<B: FlowBackend>(
        &self,
        seed: u64,
        device: &B::Device,
    ) -> Result<FlowNet<B>, FlowError> {
        let [c, h, w] = self.input_shape;
        if c == 0 || h == 0 || w == 0 {
            return Err(config_error(format!(
                "input shape {:?} has a zero side",
                self.input_shape
            )));
        }
        let mut rng = ParamInit::new(seed);
        let scales = match &self.architecture {
            Architecture::RealNvp(config) => {
                build_realnvp(config, self.input_shape, &mut rng, device)?
            }
            Architecture::Glow(config) => build_glow(config, self.input_shape, &mut rng, device)?,
            Architecture::SingleScale(config) => {
                build_single_scale(config, self.input_shape, &mut rng, device)?
            }
        };
        let bins = self.preprocess.map(|_| 256);
        let net = FlowNet::new(scales, self.preprocess, self.input_shape, bins);
        Ok(if self.init_zeros {
            net.into_identity_start()
        } else {
            net
        })
    }

    /// The number of trainable parameters of the built model.
    pub fn num_params<B: FlowBackend>(&self, device: &B::Device) -> Result<usize, FlowError> {
        Ok(self.init::<B>(0, device)?.num_params())
    }
}

fn config_error(message: String) -> FlowError {
    FlowError::Config { message }
}

fn coupling<B: FlowBackend>(
    name: String,
    kind: MaskKind,
    shape: [usize; 3],
    st_net: &StNetConfig,
    rng: &mut ParamInit,
    device: &B::Device,
) -> Result<FlowStep<B>, FlowError> {
    let [c, h, w] = shape;
    let mask = kind
        .build(MaskShape::image(c, h, w))
        .map_err(|source| FlowError::Mask {
            layer: name.clone(),
            source,
        })?;
    Ok(FlowStep::Coupling(AffineCoupling::new(
        name, &mask, st_net, rng, device,
    )?))
}

fn checkerboard(i: usize) -> MaskKind {
    MaskKind::Checkerboard {
        parity: (i % 2) as u8,
    }
}

fn channel_half(i: usize) -> MaskKind {
    MaskKind::ChannelWise {
        transform: if i.is_multiple_of(2) {
            Half::First
        } else {
            Half::Second
        },
    }
}

fn realnvp_st_net(config: &RealNvpConfig, mid: usize) -> StNetConfig {
    match config.st_net {
        RealNvpStNet::Resnet => StNetConfig::Resnet {
            mid_channels: mid,
            blocks: config.blocks,
            batch_norm: config.batch_norm,
        },
        RealNvpStNet::ResnetBottleneck { latent } => StNetConfig::ResnetBottleneck {
            mid_channels: mid,
            blocks: config.blocks,
            latent,
            batch_norm: config.batch_norm,
        },
        RealNvpStNet::ConvAutoencoder { latent } => StNetConfig::ConvAutoencoder { latent },
    }
}

fn build_realnvp<B: FlowBackend>(
    config: &RealNvpConfig,
    input_shape: [usize; 3],
    rng: &mut ParamInit,
    device: &B::Device,
) -> Result<Vec<ScaleBlock<B>>, FlowError> {
    if config.scales == 0 {
        return Err(config_error("RealNVP needs at least one scale".into()));
    }
    let [mut c, mut h, mut w] = input_shape;
    let divisor = 1usize << (config.scales - 1);
    if h % divisor != 0 || w % divisor != 0 {
        return Err(config_error(format!(
            "RealNVP with {} scales squeezes {} times, so height and width must be divisible \
             by {divisor}; got {h}x{w}",
            config.scales,
            config.scales - 1
        )));
    }
    let mut mid = config.mid_channels;
    let mut scales = Vec::with_capacity(config.scales);
    for scale in 0..config.scales {
        let last = scale + 1 == config.scales;
        let st_net = realnvp_st_net(config, mid);
        let in_couplings = if last { 4 } else { 3 };
        let pre = (0..in_couplings)
            .map(|i| {
                coupling(
                    format!("scale{scale}.checkerboard{i}"),
                    checkerboard(i),
                    [c, h, w],
                    &st_net,
                    rng,
                    device,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        if last {
            scales.push(ScaleBlock {
                pre,
                squeeze: false,
                post: Vec::new(),
                factor_out: false,
            });
            break;
        }
        let (c4, h2, w2) = (4 * c, h / 2, w / 2);
        if !matches!(config.st_net, RealNvpStNet::ConvAutoencoder { .. }) {
            mid *= 2;
        }
        let st_net = realnvp_st_net(config, mid);
        let post = (0..3)
            .map(|i| {
                coupling(
                    format!("scale{scale}.channel{i}"),
                    channel_half(i),
                    [c4, h2, w2],
                    &st_net,
                    rng,
                    device,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        scales.push(ScaleBlock {
            pre,
            squeeze: true,
            post,
            factor_out: true,
        });
        (c, h, w) = (2 * c, h2, w2);
    }
    Ok(scales)
}

fn build_glow<B: FlowBackend>(
    config: &GlowConfig,
    input_shape: [usize; 3],
    rng: &mut ParamInit,
    device: &B::Device,
) -> Result<Vec<ScaleBlock<B>>, FlowError> {
    if config.scales == 0 {
        return Err(config_error("Glow needs at least one scale".into()));
    }
    let [mut c, mut h, mut w] = input_shape;
    let divisor = 1usize << config.scales;
    if h % divisor != 0 || w % divisor != 0 {
        return Err(config_error(format!(
            "Glow with {} scales squeezes {} times, so height and width must be divisible by \
             {divisor}; got {h}x{w}",
            config.scales, config.scales
        )));
    }
    let mut scales = Vec::with_capacity(config.scales);
    for scale in 0..config.scales {
        (c, h, w) = (4 * c, h / 2, w / 2);
        let mut post = Vec::with_capacity(3 * config.steps_per_scale);
        for step in 0..config.steps_per_scale {
            post.push(FlowStep::ActNorm(ActNorm::new(
                format!("scale{scale}.step{step}.actnorm"),
                c,
                device,
            )));
            post.push(FlowStep::InvConv(InvConv1x1::new(
                format!("scale{scale}.step{step}.invconv"),
                c,
                rng,
                device,
            )));
            post.push(coupling(
                format!("scale{scale}.step{step}.coupling"),
                MaskKind::ChannelWise {
                    transform: Half::First,
                },
                [c, h, w],
                &config.st_net,
                rng,
                device,
            )?);
        }
        let last = scale + 1 == config.scales;
        scales.push(ScaleBlock {
            pre: Vec::new(),
            squeeze: true,
            post,
            factor_out: !last,
        });
        if !last {
            c /= 2;
        }
    }
    Ok(scales)
}

fn build_single_scale<B: FlowBackend>(
    config: &SingleScaleConfig,
    input_shape: [usize; 3],
    rng: &mut ParamInit,
    device: &B::Device,
) -> Result<Vec<ScaleBlock<B>>, FlowError> {
    if config.schedule.is_empty() {
        return Err(config_error(
            "a single-scale flow needs at least one coupling".into(),
        ));
    }
    let pre = config
        .schedule
        .kinds()
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            coupling(
                format!("coupling{i}.{}", kind_label(kind)),
                *kind,
                input_shape,
                &config.st_net,
                rng,
                device,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(vec![ScaleBlock {
        pre,
        squeeze: false,
        post: Vec::new(),
        factor_out: false,
    }])
}

fn kind_label(kind: &MaskKind) -> &'static str {
    match kind {
        MaskKind::Checkerboard { .. } => "checkerboard",
        MaskKind::ChannelWise { .. } => "channel",
        MaskKind::Horizontal { .. } => "horizontal",
        MaskKind::Vertical { .. } => "vertical",
        MaskKind::Cycle { .. } => "cycle",
        MaskKind::TabularHalves { .. } => "tabular",
    }
}
