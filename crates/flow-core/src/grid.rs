//! Laying the tensors a layer sees back on the input's pixel grid.
//!
//! Inside a multi-scale flow a layer works on a squeezed and partly factored-out
//! tensor (RealNVP's second scale sees 2 channels of 14x14 for a 1x28x28 input). To
//! look at what a layer does, its `s`, `t` and output are laid back on the input grid
//! the way the flow lays its latent there: undoing the squeezes and factor-outs that
//! came before the layer, never the couplings. [`trace_places`] says, for every record
//! of a [`Trace`](crate::Trace), which squeezes and factor-outs came before it;
//! [`GridPlace::lay_on_grid`] undoes them.

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use flow_kernels::FlowBackend;

use crate::layers::{unsqueeze, ChannelSplit};
use crate::models::FlowNet;

/// A layout change between the input and a layer, in the order of the forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridOp {
    /// A 2x2 squeeze (`[C, H, W] -> [4C, H/2, W/2]`).
    Squeeze,
    /// The first `kept` channels continue; the next `removed` leave the flow.
    FactorOut {
        /// Channels that continue.
        kept: usize,
        /// Channels that leave.
        removed: usize,
    },
}

/// Where a layer works relative to the input grid: the squeezes and factor-outs
/// applied before it, in forward order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GridPlace {
    ops: Vec<GridOp>,
}

impl GridPlace {
    /// A place reached by `ops`, in forward order.
    pub fn new(ops: Vec<GridOp>) -> Self {
        Self { ops }
    }

    /// The layout changes, in forward order.
    pub fn ops(&self) -> &[GridOp] {
        &self.ops
    }

    /// How many factor-outs came before this place.
    pub fn factor_outs(&self) -> usize {
        self.ops
            .iter()
            .filter(|op| matches!(op, GridOp::FactorOut { .. }))
            .count()
    }

    /// Lays `x` (`[N, C, H, W]` in this place's layout) on the input grid by undoing
    /// the ops in reverse. The channels of the `k`-th factor-out are taken from
    /// `factored[k]` (`[N, removed, ...]`, in the layout they left in); where `factored`
    /// has no entry they are zeros, so a map such as `s` or `t` shows them as
    /// untouched.
    pub fn lay_on_grid<B: Backend>(
        &self,
        x: Tensor<B, 4>,
        factored: &[Tensor<B, 4>],
    ) -> Tensor<B, 4> {
        let mut x = x;
        let mut k = self.factor_outs();
        for op in self.ops.iter().rev() {
            match *op {
                GridOp::Squeeze => x = unsqueeze(x),
                GridOp::FactorOut { removed, .. } => {
                    k -= 1;
                    let part = match factored.get(k) {
                        Some(part) => part.clone(),
                        None => {
                            let [n, _, h, w] = x.dims();
                            Tensor::zeros([n, removed, h, w], &x.device())
                        }
                    };
                    x = Tensor::cat(vec![x, part], 1);
                }
            }
        }
        x
    }
}

/// The place of every record a [`Trace`](crate::Trace) of `net`'s forward pass holds,
/// in the same order (the preprocessing first, if the flow has one).
pub fn trace_places<B: FlowBackend>(net: &FlowNet<B>) -> Vec<GridPlace> {
    let mut places = Vec::new();
    let mut ops = Vec::new();
    let mut channels = net.input_shape()[0];
    if net.preprocess().is_some() {
        places.push(GridPlace::default());
    }
    for scale in net.scales() {
        places.extend(scale.pre.iter().map(|_| GridPlace::new(ops.clone())));
        if scale.squeeze {
            ops.push(GridOp::Squeeze);
            channels *= 4;
        }
        places.extend(scale.post.iter().map(|_| GridPlace::new(ops.clone())));
        if scale.factor_out {
            let kept = channels / 2;
            ops.push(GridOp::FactorOut {
                kept,
                removed: channels - kept,
            });
            channels = kept;
        }
    }
    places
}

/// A coupling's `s` or `t` spread over all `channels` of its layer: a channel-wise
/// coupling predicts them for its transformed channels only, and the others are
/// untouched (zero). Without a split, `x` already covers every channel.
pub fn spread_over_channels<B: Backend>(
    x: Tensor<B, 4>,
    split: Option<&ChannelSplit>,
    channels: usize,
) -> Tensor<B, 4> {
    let Some(split) = split else {
        return x;
    };
    let [n, _, h, w] = x.dims();
    let device = x.device();
    let (start, len) = split.transform;
    let mut parts = Vec::with_capacity(3);
    if start > 0 {
        parts.push(Tensor::zeros([n, start, h, w], &device));
    }
    parts.push(x);
    if start + len < channels {
        parts.push(Tensor::zeros([n, channels - start - len, h, w], &device));
    }
    Tensor::cat(parts, 1)
}

#[cfg(test)]
mod tests {
    use burn::backend::Flex;
    use burn::tensor::{Tensor, TensorData};

    use super::*;
    use crate::layers::squeeze;
    use crate::models::FlowConfig;
    use crate::{Flow, Trace};

    type B = Flex;

    fn ramp(n: usize, shape: [usize; 3]) -> Tensor<B, 4> {
        let len = n * shape.iter().product::<usize>();
        let values: Vec<f32> = (0..len).map(|i| i as f32).collect();
        Tensor::from_data(
            TensorData::new(values, [n, shape[0], shape[1], shape[2]]),
            &Default::default(),
        )
    }

    fn data(x: Tensor<B, 4>) -> Vec<f32> {
        x.into_data().to_vec().unwrap()
    }

    #[test]
    fn laying_a_squeezed_tensor_on_the_grid_undoes_the_squeeze() {
        let x = ramp(2, [1, 4, 6]);
        let place = GridPlace::new(vec![GridOp::Squeeze]);
        assert_eq!(data(place.lay_on_grid(squeeze(x.clone()), &[])), data(x));
    }

    #[test]
    fn factored_channels_come_back_in_place_or_as_zeros() {
        // squeeze 1x4x4 -> 4x2x2, keep 2, squeeze again -> 8x1x1.
        let x = ramp(1, [1, 4, 4]);
        let s = squeeze(x.clone());
        let kept = s.clone().narrow(1, 0, 2);
        let removed = s.narrow(1, 2, 2);
        let place = GridPlace::new(vec![
            GridOp::Squeeze,
            GridOp::FactorOut {
                kept: 2,
                removed: 2,
            },
            GridOp::Squeeze,
        ]);
        let inner = squeeze(kept);
        assert_eq!(
            data(place.lay_on_grid(inner.clone(), std::slice::from_ref(&removed))),
            data(x.clone())
        );
        // Without the factored part, exactly the removed entries are zero.
        let zeroed = data(place.lay_on_grid(inner, &[]));
        let whole = data(x);
        let removed_values = data(removed);
        for (got, want) in zeroed.iter().zip(&whole) {
            if removed_values.contains(want) {
                assert_eq!(*got, 0.0);
            } else {
                assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn places_follow_the_trace_and_rebuild_the_latent() {
        let device = Default::default();
        for config in [
            FlowConfig::realnvp([1, 8, 8], 2, 1, 4),
            FlowConfig::realnvp([1, 8, 8], 3, 1, 4),
        ] {
            let net = config.init::<B>(3, &device).unwrap();
            let x = ramp(2, [1, 8, 8]).div_scalar(128.0 * 1.01);
            let mut trace = Trace::with_couplings();
            let out = net.forward_traced(x, Some(&mut trace)).unwrap();
            let places = trace_places(&net);
            let records = trace.into_layers();
            assert_eq!(places.len(), records.len());
            assert_eq!(places[0], GridPlace::default(), "preprocess first");
            // Collect the factored parts from the output before each factor-out, then
            // lay the last coupling's output on the grid: that is the flow's z.
            let mut factored = Vec::new();
            for i in 1..records.len() {
                if places[i].factor_outs() > places[i - 1].factor_outs() {
                    let op = places[i]
                        .ops()
                        .iter()
                        .filter_map(|op| match op {
                            GridOp::FactorOut { kept, removed } => Some((*kept, *removed)),
                            GridOp::Squeeze => None,
                        })
                        .next_back()
                        .unwrap();
                    let prev = records[i - 1].coupling.as_ref().unwrap().output.clone();
                    factored.push(prev.narrow(1, op.0, op.1));
                }
            }
            let last = records.last().unwrap().coupling.as_ref().unwrap();
            let z = places
                .last()
                .unwrap()
                .lay_on_grid(last.output.clone(), &factored);
            assert_eq!(data(z), data(out.z));
        }
    }

    #[test]
    fn channel_maps_spread_with_zeros_around_the_transformed_channels() {
        let x = ramp(1, [2, 1, 1]);
        let split = ChannelSplit {
            condition: (0, 2),
            transform: (2, 2),
        };
        assert_eq!(
            data(spread_over_channels(x.clone(), Some(&split), 4)),
            vec![0.0, 0.0, 0.0, 1.0]
        );
        let first = ChannelSplit {
            condition: (2, 2),
            transform: (0, 2),
        };
        assert_eq!(
            data(spread_over_channels(x.clone(), Some(&first), 4)),
            vec![0.0, 1.0, 0.0, 0.0]
        );
        assert_eq!(data(spread_over_channels(x, None, 2)), vec![0.0, 1.0]);
    }
}
