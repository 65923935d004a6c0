//! [`FlowBackend`] for `Autodiff<B>`: one graph node per convolution and per
//! training-mode batch normalisation, whose backward asks the inner backend for every
//! wanted gradient in one call, and one per same-shape sum, whose backward hands the
//! output gradient to both terms.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::NodeId;
use burn::backend::Autodiff;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::ops::{FloatTensor, FloatTensorOps};
use burn::tensor::TensorMetadata;

use crate::{FlowBackend, NormOptions, NormOutput, NormStatistics, WantedGrads, WantedNormGrads};

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

/// The backward step of a same-shape sum (two parents, each gets the output gradient).
#[derive(Debug)]
struct AddSameShape;

impl<B: FlowBackend> Backward<B, 2> for AddSameShape {
    type State = ();

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<B>(&ops.node);
        match ops.parents {
            [Some(lhs), Some(rhs)] => {
                grads.register::<B>(lhs.id, grad.clone());
                grads.register::<B>(rhs.id, grad);
            }
            [Some(node), None] | [None, Some(node)] => grads.register::<B>(node.id, grad),
            [None, None] => {}
        }
    }
}

/// The backward step of a training-mode batch normalisation (three parents: x, gamma,
/// beta).
#[derive(Debug)]
struct BatchNormTrain;

/// What its backward step needs: the checkpointed input, scale and shift, the batch's
/// statistics and the options.
type NormState<B> = (NodeId, NodeId, NodeId, NormStatistics<B>, NormOptions);

impl<B: FlowBackend> Backward<B, 3> for BatchNormTrain {
    type State = NormState<B>;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, gamma_state, beta_state, statistics, options) = ops.state;
        let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x_state);
        let gamma = checkpointer.retrieve_node_output::<FloatTensor<B>>(gamma_state);
        let beta = checkpointer.retrieve_node_output::<FloatTensor<B>>(beta_state);
        let wanted = WantedNormGrads {
            x: node_x.is_some(),
            gamma: node_gamma.is_some(),
            beta: node_beta.is_some(),
        };
        let computed =
            B::batch_norm_train_backward(x, gamma, beta, statistics, grad, options, wanted);
        for (node, value) in [
            (node_x, computed.x),
            (node_gamma, computed.gamma),
            (node_beta, computed.beta),
        ] {
            if let (Some(node), Some(value)) = (node, value) {
                grads.register::<B>(node.id, value);
            }
        }
    }
}

impl<B: FlowBackend, C: CheckpointStrategy> FlowBackend for Autodiff<B, C> {
    fn add_same_shape(lhs: FloatTensor<Self>, rhs: FloatTensor<Self>) -> FloatTensor<Self> {
        // A broadcasting sum's gradients need reducing: burn's node does that.
        if lhs.primitive.shape() != rhs.primitive.shape() {
            return <Self as FloatTensorOps<Self>>::float_add(lhs, rhs);
        }
        let parents = [lhs.node.clone(), rhs.node.clone()];
        let prep = AddSameShape.prepare::<C>(parents).compute_bound();
        prep.stateless(B::add_same_shape(lhs.primitive, rhs.primitive))
    }

    fn batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        options: NormOptions,
    ) -> NormOutput<Self> {
        let parents = [x.node.clone(), gamma.node.clone(), beta.node.clone()];
        let (output, statistics) = match BatchNormTrain
            .prepare::<C>(parents)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let ids = (
                    prep.checkpoint(&x),
                    prep.checkpoint(&gamma),
                    prep.checkpoint(&beta),
                );
                let inner =
                    B::batch_norm_train(x.primitive, gamma.primitive, beta.primitive, options);
                let state = (ids.0, ids.1, ids.2, inner.statistics.clone(), options);
                (prep.finish(state, inner.output), inner.statistics)
            }
            OpsKind::UnTracked(prep) => {
                let inner =
                    B::batch_norm_train(x.primitive, gamma.primitive, beta.primitive, options);
                (prep.finish(inner.output), inner.statistics)
            }
        };
        // The statistics feed running estimates only: no gradient flows through them.
        NormOutput {
            output,
            statistics: NormStatistics {
                mean: <Self as AutodiffBackend>::from_inner(statistics.mean),
                variance: <Self as AutodiffBackend>::from_inner(statistics.variance),
            },
        }
    }

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
