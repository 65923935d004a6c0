//! The flex fast path against burn's own convolution in f64, where the two may differ
//! only by rounding (1e-10): a wrong index or a missed term cannot hide in it.

mod common;

use burn::backend::Flex;
use burn::tensor::{set_default_dtypes, DType, Tensor};
use common::*;
use proptest::prelude::*;

/// Makes f64 the default float type of flex in this process.
fn use_f64() {
    let device = Default::default();
    // Fails harmlessly when another test of this binary already set it.
    let _ = set_default_dtypes::<Flex>(&device, DType::F64, DType::I64);
    let probe = Tensor::<Flex, 1>::zeros([1], &device);
    assert_eq!(probe.dtype(), DType::F64, "this test needs f64 tensors");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn flex_fast_path_matches_burn_in_f64(case in cases()) {
        use_f64();
        check_direct(&case, 1e-10);
    }
}
