//! [`FlowBackend`] for `Autodiff<B>`: one graph node per convolution, whose backward
//! asks the inner backend for every wanted gradient in one call.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::NodeId;
use burn::backend::Autodiff;
use burn::tensor::ops::FloatTensor;

use crate::{FlowBackend, WantedGrads};

/// The backward step of a convolution with a bias (three parents: x, kernel, bias).
#[derive(Debug)]
struct ConvWithBias;

/// The backward step of a convolution without a bias (two parents: x, kernel).
#[derive(Debug)]
struct ConvNoBias;

/// What the backward step needs: the checkpointed input and kernel, and the padding.
type ConvState = (NodeId, NodeId, usize);

impl<B: FlowBackend> Backward<B, 3> for ConvWithBias {
    type State = ConvState;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, weight_state, padding) = ops.state;
        let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x_state);
        let weight = checkpointer.retrieve_node_output::<FloatTensor<B>>(weight_state);
        let wanted = WantedGrads {
            x: node_x.is_some(),
            weight: node_weight.is_some(),
            bias: node_bias.is_some(),
        };
        let computed = B::conv2d_backward(x, weight, grad, padding, wanted);
        for (node, value) in [
            (node_x, computed.x),
            (node_weight, computed.weight),
            (node_bias, computed.bias),
        ] {
            if let (Some(node), Some(value)) = (node, value) {
                grads.register::<B>(node.id, value);
            }
        }
    }
}

impl<B: FlowBackend> Backward<B, 2> for ConvNoBias {
    type State = ConvState;

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, weight_state, padding) = ops.state;
        let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x_state);
        let weight = checkpointer.retrieve_node_output::<FloatTensor<B>>(weight_state);
        let wanted = WantedGrads {
            x: node_x.is_some(),
            weight: node_weight.is_some(),
            bias: false,
        };
        let computed = B::conv2d_backward(x, weight, grad, padding, wanted);
        for (node, value) in [(node_x, computed.x), (node_weight, computed.weight)] {
            if let (Some(node), Some(value)) = (node, value) {
                grads.register::<B>(node.id, value);
            }
        }
    }
}

impl<B: FlowBackend, C: CheckpointStrategy> FlowBackend for Autodiff<B, C> {
    fn conv2d_unit_stride(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        padding: usize,
    ) -> FloatTensor<Self> {
        match bias {
            Some(bias) => {
                let parents = [x.node.clone(), weight.node.clone(), bias.node.clone()];
                match ConvWithBias
                    .prepare::<C>(parents)
                    .compute_bound()
                    .stateful()
                {
                    OpsKind::Tracked(mut prep) => {
                        let state = (prep.checkpoint(&x), prep.checkpoint(&weight), padding);
                        let out = B::conv2d_unit_stride(
                            x.primitive,
                            weight.primitive,
                            Some(bias.primitive),
                            padding,
                        );
                        prep.finish(state, out)
                    }
                    OpsKind::UnTracked(prep) => prep.finish(B::conv2d_unit_stride(
                        x.primitive,
                        weight.primitive,
                        Some(bias.primitive),
                        padding,
                    )),
                }
            }
            None => {
                let parents = [x.node.clone(), weight.node.clone()];
                match ConvNoBias.prepare::<C>(parents).compute_bound().stateful() {
                    OpsKind::Tracked(mut prep) => {
                        let state = (prep.checkpoint(&x), prep.checkpoint(&weight), padding);
                        let out =
                            B::conv2d_unit_stride(x.primitive, weight.primitive, None, padding);
                        prep.finish(state, out)
                    }
                    OpsKind::UnTracked(prep) => prep.finish(B::conv2d_unit_stride(
                        x.primitive,
                        weight.primitive,
                        None,
                        padding,
                    )),
                }
            }
        }
    }
}
