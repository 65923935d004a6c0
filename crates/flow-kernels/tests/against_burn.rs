//! The flex fast path against burn's own convolution in f32: values and all three
//! gradients, over random shapes, paddings, batch sizes and odd channel counts,
//! directly and through autodiff. (`against_burn_f64.rs` holds the f64 twin: the
//! default float type is set once per process.)

mod common;

use burn::tensor::module::conv2d as burn_conv2d;
use common::*;
use flow_kernels::{conv2d, unit_stride_options};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn flex_fast_path_matches_burn_in_f32(case in cases()) {
        check_direct(&case, 1e-4);
    }

    #[test]
    fn autodiff_gradients_match_burn(case in cases()) {
        check_autodiff(&case, 1e-4);
    }
}

/// The shapes of the RealNVP st-networks (3x3 and 1x1, 32-64 channels, 28x28 to 7x7),
/// which random shapes rarely reach.
#[test]
fn st_network_shapes_match_burn() {
    for (channels, size, kernel) in [(32, 28, 3), (64, 14, 3), (64, 7, 1), (33, 7, 3)] {
        let case = Case {
            batch: 5,
            channels_in: channels,
            channels_out: channels + 1,
            height: size,
            width: size,
            kernel,
            padding: kernel / 2,
            bias: true,
            seed: channels as u64,
        };
        check_direct(&case, 1e-4);
        check_autodiff(&case, 1e-4);
    }
}

/// Backends without a fast path run burn's own operation through the trait's default.
#[test]
fn ndarray_uses_burns_convolution() {
    type Nd = burn::backend::NdArray;
    let case = Case {
        batch: 2,
        channels_in: 3,
        channels_out: 4,
        height: 5,
        width: 6,
        kernel: 3,
        padding: 1,
        bias: true,
        seed: 7,
    };
    let Inputs {
        x, weight, bias, ..
    } = inputs::<Nd>(&case);
    let ours = conv2d(x.clone(), weight.clone(), bias.clone(), 1);
    let burn = burn_conv2d(x, weight, bias, unit_stride_options(1));
    assert_close("ndarray forward", ours, burn, 0.0);
}
