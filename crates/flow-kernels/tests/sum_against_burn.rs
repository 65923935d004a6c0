//! The same-shape sum against burn's addition: the values (exactly: one IEEE addition
//! per element either way) whichever term still shares its buffer with another tensor,
//! shared buffers left unchanged, and the gradients under autodiff; on flex (the fast
//! path) and on ndarray (the trait's default); a broadcasting sum falls back to burn's.

mod common;

use burn::backend::{Autodiff, Flex, NdArray};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;
use common::tensor;
use flow_kernels::{add_same_shape, FlowBackend};
use proptest::prelude::*;

fn dims() -> impl Strategy<Value = [usize; 4]> {
    (1usize..5, 1usize..9, 1usize..12, 1usize..12).prop_map(|(n, c, h, w)| [n, c, h, w])
}

/// Which terms another tensor still reads when the sum runs.
#[derive(Debug, Clone, Copy)]
struct Sharing {
    lhs: bool,
    rhs: bool,
}

fn values<B: Backend, const D: usize>(t: &Tensor<B, D>) -> Vec<f32> {
    t.to_data().convert::<f32>().to_vec().expect("f32 values")
}

/// The sum equals burn's and leaves every shared term as it was.
fn check_values<B: FlowBackend>(dims: [usize; 4], seed: u64, sharing: Sharing) {
    let (a, b) = (tensor::<B, 4>(dims, seed), tensor::<B, 4>(dims, seed ^ 1));
    let want = values(&(a.clone() + b.clone()));
    let (a_before, b_before) = (values(&a), values(&b));
    let kept_a = sharing.lhs.then(|| a.clone());
    let kept_b = sharing.rhs.then(|| b.clone());
    let got = add_same_shape(a, b);
    assert_eq!(values(&got), want, "sum of {dims:?} with {sharing:?}");
    if let Some(kept) = kept_a {
        assert_eq!(values(&kept), a_before, "the shared lhs changed");
    }
    if let Some(kept) = kept_b {
        assert_eq!(values(&kept), b_before, "the shared rhs changed");
    }
}

/// Under autodiff, each term's gradient is the output's: `d/da sum(w (a + b)) = w`.
fn check_gradients<B: AutodiffBackend + FlowBackend>(dims: [usize; 4], seed: u64) {
    let a = tensor::<B, 4>(dims, seed).require_grad();
    let b = tensor::<B, 4>(dims, seed ^ 1).require_grad();
    let w = tensor::<B, 4>(dims, seed ^ 2);
    let loss = (add_same_shape(a.clone(), b.clone()) * w.clone()).sum();
    let grads = loss.backward();
    let want = values(&w);
    for (name, term) in [("lhs", &a), ("rhs", &b)] {
        let grad = term.grad(&grads).expect("a gradient");
        assert_eq!(values(&grad), want, "{name} gradient of {dims:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn flex_sums_like_burn(dims in dims(), seed in any::<u64>(), lhs: bool, rhs: bool) {
        check_values::<Flex>(dims, seed, Sharing { lhs, rhs });
        check_gradients::<Autodiff<Flex>>(dims, seed);
    }

    #[test]
    fn ndarray_default_sums_like_burn(dims in dims(), seed in any::<u64>()) {
        check_values::<NdArray>(dims, seed, Sharing { lhs: false, rhs: false });
        check_gradients::<Autodiff<NdArray>>(dims, seed);
    }
}

/// Feature maps of the st-networks' sizes, larger than one task of the split.
#[test]
fn flex_sums_feature_maps() {
    for (lhs, rhs) in [(false, false), (true, false), (true, true)] {
        check_values::<Flex>([8, 64, 14, 14], 7, Sharing { lhs, rhs });
    }
    check_gradients::<Autodiff<Flex>>([4, 32, 28, 28], 8);
}

/// Terms of different shapes get burn's broadcasting sum, gradients reduced.
#[test]
fn a_broadcasting_sum_is_burns() {
    type Ad = Autodiff<Flex>;
    let a = tensor::<Ad, 4>([2, 3, 4, 5], 1).require_grad();
    let b = tensor::<Ad, 4>([1, 3, 1, 1], 2).require_grad();
    let got = add_same_shape(a.clone(), b.clone());
    assert_eq!(values(&got), values(&(a.clone() + b.clone())));
    let grads = got.sum().backward();
    let grad_b = b.grad(&grads).expect("a gradient");
    assert_eq!(grad_b.dims(), [1, 3, 1, 1]);
    assert_eq!(values(&grad_b), vec![40.0; 3]);
}
