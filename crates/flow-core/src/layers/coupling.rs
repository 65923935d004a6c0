//! The affine coupling layer in the reference convention.

use burn::module::{Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use flow_kernels::FlowBackend;
use flow_masks::{CouplingMask, MaskKind};

use crate::broadcast::{mul_channels, mul_positions};
use crate::error::FlowError;
use crate::flow::{CouplingRecord, LayerRecord, Trace};
use crate::init::{constant_param, ParamInit};
use crate::st_nets::{StNet, StNetConfig, StNetPlace};

/// Channel ranges of a channel-wise coupling: the st-network sees only the condition
/// channels and predicts `s` and `t` for the transform channels only, as in the reference
/// (so its st-network has half the input channels of a masked coupling).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSplit {
    /// First condition channel and how many.
    pub condition: (usize, usize),
    /// First transformed channel and how many.
    pub transform: (usize, usize),
}

/// `y = (x + t) * exp(s)` on the transformed entries, identity elsewhere;
/// `s = scale * tanh(raw)` with a learnable scale per transformed channel, `s` and `t`
/// zeroed outside the transform mask; `log|det J| = sum(s)`; inverse
/// `x = y * exp(-s) - t`.
///
/// The st-network sees `x * condition_mask` (or the condition channels); with the
/// quadrant cycle, condition and transform masks are separate and entries in neither
/// pass through unchanged.
#[derive(Module, Debug)]
pub struct AffineCoupling<B: FlowBackend> {
    st_net: StNet<B>,
    /// The learnable scale of `tanh(raw)` per transformed channel: the reference's
    /// weight-normalised `Rescale`, whose norm `g` is all that moves (its direction is a
    /// scalar per channel); stored under the weight-norm field name so it is decayed
    /// like the other weight-norm scales.
    g: Param<Tensor<B, 1>>,
    /// `[1, C, H, W]` ones where the st-network looks (masked couplings).
    condition: Option<Tensor<B, 4>>,
    /// `[1, C, H, W]` ones where `s` and `t` apply (masked couplings).
    transform: Option<Tensor<B, 4>>,
    channel_split: Option<ChannelSplit>,
    name: String,
}

impl<B: FlowBackend> AffineCoupling<B> {
    /// A coupling over `[C, H, W]` inputs with `mask` and an st-network from `st_net`.
    pub fn new(
        name: impl Into<String>,
        mask: &CouplingMask,
        st_net: &StNetConfig,
        rng: &mut ParamInit,
        device: &B::Device,
    ) -> Result<Self, FlowError> {
        let name = name.into();
        let shape = mask.condition().shape();
        let (channels, height, width) = (shape.channels, shape.height, shape.width);
        let kind = mask.kind();
        let channel_split = mask.channel_split().map(|(cond, trans)| ChannelSplit {
            condition: (cond.start, cond.len()),
            transform: (trans.start, trans.len()),
        });
        let place = match &channel_split {
            Some(split) => StNetPlace {
                channels_in: split.condition.1,
                channels_transformed: split.transform.1,
                height,
                width,
                checkerboard: false,
            },
            None => StNetPlace {
                channels_in: channels,
                channels_transformed: channels,
                height,
                width,
                checkerboard: matches!(kind, MaskKind::Checkerboard { .. }),
            },
        };
        let net = st_net.init(place, rng, device)?;
        let (condition, transform) = match channel_split {
            Some(_) => (None, None),
            None => (
                Some(mask.condition().to_tensor::<B>(device)),
                Some(mask.transform().to_tensor::<B>(device)),
            ),
        };
        Ok(Self {
            st_net: net,
            g: constant_param([place.channels_transformed], 1.0, device),
            condition,
            transform,
            channel_split,
            name,
        })
    }

    /// The same coupling starting as the identity: its st-network's last layer outputs
    /// zeros, so `s = 0` and `t = 0` until training moves them.
    pub fn into_identity_start(self) -> Self {
        Self {
            st_net: self.st_net.into_zero_output(),
            ..self
        }
    }

    /// The layer's name in traces.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `s` and `t` for the conditioning part of `x`, zero outside the transform mask,
    /// each the shape of the transformed part.
    fn scale_and_shift(&self, x: &Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 4>) {
        let conditioning = match (&self.channel_split, &self.condition) {
            (Some(split), _) => x.clone().narrow(1, split.condition.0, split.condition.1),
            (None, Some(condition)) => mul_positions(x.clone(), condition.clone()),
            (None, None) => unreachable!("a coupling is built with masks or a channel split"),
        };
        let raw = self.st_net.forward(conditioning);
        let mut halves = raw.chunk(2, 1).into_iter();
        let (s_raw, t) = match (halves.next(), halves.next()) {
            (Some(s), Some(t)) => (s, t),
            _ => unreachable!("st-networks output an even number of channels"),
        };
        let s = mul_channels(s_raw.tanh(), self.g.val());
        match &self.transform {
            Some(transform) => (
                mul_positions(s, transform.clone()),
                mul_positions(t, transform.clone()),
            ),
            None => (s, t),
        }
    }

    /// Forward pass: `(y, log|det J|)` per sample, recording into `trace` if given.
    pub fn forward(
        &self,
        x: Tensor<B, 4>,
        trace: Option<&mut Trace<B>>,
    ) -> (Tensor<B, 4>, Tensor<B, 1>) {
        let (s, t) = self.scale_and_shift(&x);
        let log_det = crate::flow::sum_per_sample(s.clone());
        let y = match &self.channel_split {
            Some(split) => {
                let changed = (x.clone().narrow(1, split.transform.0, split.transform.1)
                    + t.clone())
                    * s.clone().exp();
                replace_channels(x, changed, split.transform.0)
            }
            None => (x + t.clone()) * s.clone().exp(),
        };
        if let Some(trace) = trace {
            let coupling = trace.keeps_couplings().then(|| CouplingRecord {
                s,
                t,
                output: y.clone(),
                channel_split: self.channel_split.clone(),
            });
            trace.push(LayerRecord {
                name: self.name.clone(),
                log_det: log_det.clone(),
                coupling,
            });
        }
        (y, log_det)
    }

    /// Inverse pass: `(x, log|det dx/dy|)`.
    pub fn inverse(&self, y: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 1>) {
        // The conditioning entries are unchanged by the forward pass, so s and t
        // computed from y are the ones the forward pass used.
        let (s, t) = self.scale_and_shift(&y);
        let log_det = crate::flow::sum_per_sample(s.clone()).neg();
        let x = match &self.channel_split {
            Some(split) => {
                let changed =
                    y.clone().narrow(1, split.transform.0, split.transform.1) * s.neg().exp() - t;
                replace_channels(y, changed, split.transform.0)
            }
            None => y * s.neg().exp() - t,
        };
        (x, log_det)
    }
}

/// `x` with channels `start..start + changed.channels` replaced by `changed`.
fn replace_channels<B: Backend>(
    x: Tensor<B, 4>,
    changed: Tensor<B, 4>,
    start: usize,
) -> Tensor<B, 4> {
    let channels = x.dims()[1];
    let len = changed.dims()[1];
    let mut parts = Vec::with_capacity(3);
    if start > 0 {
        parts.push(x.clone().narrow(1, 0, start));
    }
    parts.push(changed);
    if start + len < channels {
        parts.push(x.narrow(1, start + len, channels - start - len));
    }
    Tensor::cat(parts, 1)
}
