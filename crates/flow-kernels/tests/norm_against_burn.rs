//! The fused training-mode batch normalisation (and ReLU) against the same layer written
//! in burn's tensor operations and differentiated by burn's autodiff: output, batch
//! statistics and the gradients of x, gamma and beta, over random batch sizes, channel
//! counts and plane sizes, with and without the ReLU; on flex (the fast path) and on
//! ndarray (the trait's default operations under the same autodiff node).

mod common;

use burn::backend::{Autodiff, NdArray};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Tensor;
use common::{assert_close, tensor, Ad};
use flow_kernels::{
    batch_norm_train, burn_channel_affine, channel_affine, FlowBackend, NormOptions,
};
use proptest::prelude::*;

const EPSILON: f64 = 1e-5;

/// One batch normalisation to check.
#[derive(Debug, Clone)]
struct NormCase {
    batch: usize,
    channels: usize,
    height: usize,
    width: usize,
    relu: bool,
    seed: u64,
}

fn norm_cases() -> impl Strategy<Value = NormCase> {
    (
        1usize..6,
        1usize..10,
        1usize..9,
        1usize..9,
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(batch, channels, height, width, relu, seed)| NormCase {
            batch,
            channels,
            height,
            width,
            relu,
            seed,
        })
}

/// The layer in burn's operations: `(output, mean, biased variance)`. The ReLU, when
/// given, is the mask of where the fused output is positive: at a pre-activation within
/// rounding of zero the two computations may pick either side, and both are
/// derivatives there; anywhere else a wrong mask shows in the output values.
fn reference<B: AutodiffBackend>(
    x: Tensor<B, 4>,
    gamma: Tensor<B, 1>,
    beta: Tensor<B, 1>,
    relu_mask: Option<Tensor<B, 4>>,
) -> (Tensor<B, 4>, Tensor<B, 1>, Tensor<B, 1>) {
    let [n, c, h, w] = x.dims();
    let rows = x.reshape([n, c, h * w]);
    let mean = rows.clone().mean_dim(2).mean_dim(0);
    let centred = rows - mean.clone();
    let var = centred.clone().square().mean_dim(2).mean_dim(0);
    let y = centred / var.clone().add_scalar(EPSILON).sqrt() * gamma.reshape([1, c, 1])
        + beta.reshape([1, c, 1]);
    let y = y.reshape([n, c, h, w]);
    let y = match relu_mask {
        Some(mask) => y * mask,
        None => y,
    };
    (y, mean.reshape([c]), var.reshape([c]))
}

fn check<B: AutodiffBackend + FlowBackend>(case: &NormCase, tol: f64) {
    let dims = [case.batch, case.channels, case.height, case.width];
    let s = case.seed;
    let x = tensor::<B, 4>(dims, s).mul_scalar(3.0).add_scalar(0.5);
    let gamma = tensor::<B, 1>([case.channels], s ^ 1).add_scalar(1.0);
    let beta = tensor::<B, 1>([case.channels], s ^ 2);
    let r = tensor::<B, 4>(dims, s ^ 3);
    let leaves = || {
        (
            x.clone().require_grad(),
            gamma.clone().require_grad(),
            beta.clone().require_grad(),
        )
    };
    let (xo, go, bo) = leaves();
    let options = NormOptions {
        epsilon: EPSILON,
        relu: case.relu,
    };
    let (ours, ours_mean, ours_var) = batch_norm_train(xo.clone(), go.clone(), bo.clone(), options);
    let ours_grads = (ours.clone() * r.clone()).sum().backward();
    let (xr, gr, br) = leaves();
    let relu_mask = case
        .relu
        .then(|| ours.clone().detach().greater_elem(0.0).float());
    let (theirs, mean, var) = reference(xr.clone(), gr.clone(), br.clone(), relu_mask);
    let grads = (theirs.clone() * r).sum().backward();
    assert_close("output", ours, theirs, tol);
    assert_close("mean", ours_mean, mean, tol);
    assert_close("variance", ours_var, var, tol);
    assert_close(
        "x gradient",
        xo.grad(&ours_grads).expect("x"),
        xr.grad(&grads).expect("x"),
        tol,
    );
    assert_close(
        "gamma gradient",
        go.grad(&ours_grads).expect("gamma"),
        gr.grad(&grads).expect("gamma"),
        tol,
    );
    assert_close(
        "beta gradient",
        bo.grad(&ours_grads).expect("beta"),
        br.grad(&grads).expect("beta"),
        tol,
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn flex_fused_norm_matches_burn(case in norm_cases()) {
        check::<Ad>(&case, 1e-4);
    }

    #[test]
    fn default_norm_operations_match_burn(case in norm_cases()) {
        check::<Autodiff<NdArray>>(&case, 1e-4);
    }
}

/// The st-networks' shapes (32-64 channels, 28x28 to 7x7), which random cases do not reach.
#[test]
fn st_network_shapes_match_burn() {
    for (batch, channels, size) in [(8, 32, 28), (4, 64, 14), (5, 33, 7)] {
        for relu in [false, true] {
            let case = NormCase {
                batch,
                channels,
                height: size,
                width: size,
                relu,
                seed: channels as u64,
            };
            check::<Ad>(&case, 1e-4);
        }
    }
}

/// The evaluation-mode map on flex against burn's operations, and a tensor that still
/// shares its buffer with another is not changed under that other one's feet.
#[test]
fn flex_channel_affine_matches_burn_and_leaves_shared_buffers_alone() {
    type Fx = burn::backend::Flex;
    for (batch, channels, size) in [(3, 5, 7), (2, 32, 28), (1, 1, 1)] {
        for relu in [false, true] {
            let dims = [batch, channels, size, size];
            let x = tensor::<Fx, 4>(dims, channels as u64);
            let scale = tensor::<Fx, 1>([channels], 11);
            let shift = tensor::<Fx, 1>([channels], 12);
            let kept = x.clone();
            let before = kept.to_data();
            let ours = channel_affine(x.clone(), scale.clone(), shift.clone(), relu);
            let theirs = Tensor::from_primitive(burn::tensor::TensorPrimitive::Float(
                burn_channel_affine::<Fx>(
                    x.into_primitive().tensor(),
                    scale.into_primitive().tensor(),
                    shift.into_primitive().tensor(),
                    relu,
                ),
            ));
            assert_close("channel affine", ours, theirs, 1e-6);
            assert_eq!(kept.to_data(), before, "the shared input changed");
        }
    }
}
