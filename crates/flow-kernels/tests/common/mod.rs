//! Shared by the f32 and f64 test binaries: random convolution cases and the checks of
//! the flex fast path against burn's own convolution.
#![allow(dead_code)] // each test binary uses its own subset

use burn::backend::{Autodiff, Flex};
use burn::tensor::backend::Backend;
use burn::tensor::module::conv2d as burn_conv2d;
use burn::tensor::{Tensor, TensorData};
use flow_kernels::{burn_conv2d_backward, conv2d, unit_stride_options, FlowBackend, WantedGrads};
use proptest::prelude::*;

/// Autodiff over flex.
pub type Ad = Autodiff<Flex>;

/// One convolution to check.
#[derive(Debug, Clone)]
pub struct Case {
    pub batch: usize,
    pub channels_in: usize,
    pub channels_out: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: usize,
    pub padding: usize,
    pub bias: bool,
    pub seed: u64,
}

pub fn cases() -> impl Strategy<Value = Case> {
    (
        1usize..6,
        1usize..8,
        1usize..8,
        1usize..10,
        1usize..10,
        prop_oneof![Just(1usize), Just(3), Just(5)],
        0usize..3,
        any::<bool>(),
        any::<u64>(),
    )
        .prop_filter(
            "the kernel must fit the padded image",
            |(_, _, _, h, w, k, p, _, _)| h + 2 * p >= *k && w + 2 * p >= *k,
        )
        .prop_map(
            |(batch, channels_in, channels_out, height, width, kernel, padding, bias, seed)| Case {
                batch,
                channels_in,
                channels_out,
                height,
                width,
                kernel,
                padding,
                bias,
                seed,
            },
        )
}

/// Deterministic values in [-1, 1) from a seed (SplitMix64), so a failure reproduces.
fn values(len: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

/// A tensor of the device's default float type (f32, or f64 where a test binary set it).
/// Deterministic values in [-1, 1) of `dims`.
pub fn tensor<B: Backend, const D: usize>(dims: [usize; D], seed: u64) -> Tensor<B, D> {
    let len = dims.iter().product();
    Tensor::from_data(
        TensorData::new(values(len, seed), dims),
        &Default::default(),
    )
}

pub struct Inputs<B: Backend> {
    pub x: Tensor<B, 4>,
    pub weight: Tensor<B, 4>,
    pub bias: Option<Tensor<B, 1>>,
    pub grad: Tensor<B, 4>,
}

pub fn inputs<B: Backend>(case: &Case) -> Inputs<B> {
    let out_h = case.height + 2 * case.padding + 1 - case.kernel;
    let out_w = case.width + 2 * case.padding + 1 - case.kernel;
    let s = case.seed;
    Inputs {
        x: tensor([case.batch, case.channels_in, case.height, case.width], s),
        weight: tensor(
            [
                case.channels_out,
                case.channels_in,
                case.kernel,
                case.kernel,
            ],
            s ^ 1,
        ),
        bias: case.bias.then(|| tensor([case.channels_out], s ^ 2)),
        grad: tensor([case.batch, case.channels_out, out_h, out_w], s ^ 3),
    }
}

pub fn assert_close<B: Backend, const D: usize>(
    what: &str,
    ours: Tensor<B, D>,
    burn: Tensor<B, D>,
    tol: f64,
) {
    assert_eq!(ours.dims(), burn.dims(), "{what}: shape");
    let ours: Vec<f64> = ours
        .into_data()
        .convert::<f64>()
        .to_vec()
        .expect("f64 values");
    let burn: Vec<f64> = burn
        .into_data()
        .convert::<f64>()
        .to_vec()
        .expect("f64 values");
    for (i, (a, b)) in ours.iter().zip(&burn).enumerate() {
        let scale = 1.0 + a.abs().max(b.abs());
        assert!(
            (a - b).abs() <= tol * scale,
            "{what}[{i}]: ours {a}, burn {b}"
        );
    }
}

pub fn check_direct(case: &Case, tol: f64) {
    let Inputs {
        x,
        weight,
        bias,
        grad,
    } = inputs::<Flex>(case);
    let ours = conv2d(x.clone(), weight.clone(), bias.clone(), case.padding);
    let burn = burn_conv2d(
        x.clone(),
        weight.clone(),
        bias.clone(),
        unit_stride_options(case.padding),
    );
    assert_close("forward", ours, burn, tol);

    let wanted = WantedGrads {
        x: true,
        weight: true,
        bias: true,
    };
    let prim = |t: Tensor<Flex, 4>| t.into_primitive().tensor();
    let ours = Flex::conv2d_backward(
        prim(x.clone()),
        prim(weight.clone()),
        prim(grad.clone()),
        case.padding,
        wanted,
    );
    let burn =
        burn_conv2d_backward::<Flex>(prim(x), prim(weight), prim(grad), case.padding, wanted);
    let back4 = |t| Tensor::<Flex, 4>::from_primitive(burn::tensor::TensorPrimitive::Float(t));
    let back1 = |t| Tensor::<Flex, 1>::from_primitive(burn::tensor::TensorPrimitive::Float(t));
    assert_close(
        "x grad",
        back4(ours.x.expect("x")),
        back4(burn.x.expect("x")),
        tol,
    );
    assert_close(
        "weight grad",
        back4(ours.weight.expect("w")),
        back4(burn.weight.expect("w")),
        tol,
    );
    assert_close(
        "bias grad",
        back1(ours.bias.expect("b")),
        back1(burn.bias.expect("b")),
        tol,
    );
}

/// Gradients through autodiff: ours (one node per convolution) against burn's conv2d.
pub fn check_autodiff(case: &Case, tol: f64) {
    let Inputs {
        x,
        weight,
        bias,
        grad,
    } = inputs::<Ad>(case);
    let (x, weight) = (x.require_grad(), weight.require_grad());
    let bias = bias.map(|b| b.require_grad());
    let grad = grad.detach();
    let ours = (conv2d(x.clone(), weight.clone(), bias.clone(), case.padding) * grad.clone()).sum();
    let burn = (burn_conv2d(
        x.clone(),
        weight.clone(),
        bias.clone(),
        unit_stride_options(case.padding),
    ) * grad)
        .sum();
    let ours_grads = ours.backward();
    let burn_grads = burn.backward();
    assert_close(
        "autodiff x grad",
        x.grad(&ours_grads).expect("x"),
        x.grad(&burn_grads).expect("x"),
        tol,
    );
    assert_close(
        "autodiff weight grad",
        weight.grad(&ours_grads).expect("w"),
        weight.grad(&burn_grads).expect("w"),
        tol,
    );
    if let Some(bias) = bias {
        assert_close(
            "autodiff bias grad",
            bias.grad(&ours_grads).expect("b"),
            bias.grad(&burn_grads).expect("b"),
            tol,
        );
    }
}
