//! The tensor forms of a grid agree with the grid entry by entry.

mod common;

use burn::backend::Flex;
use burn::tensor::Tensor;
use common::{any_shape, kind};
use proptest::prelude::*;

type B = Flex;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn to_tensor_agrees_with_get(kind in kind(), shape in any_shape()) {
        let Ok(mask) = kind.build(shape) else { return Ok(()) };
        let device = Default::default();
        for grid in [mask.condition(), mask.transform()] {
            let tensor: Tensor<B, 4> = grid.to_tensor(&device);
            prop_assert_eq!(tensor.dims(), [1, shape.channels, shape.height, shape.width]);
            let values = tensor.into_data().to_vec::<f32>().unwrap();
            let mut i = 0;
            for c in 0..shape.channels {
                for h in 0..shape.height {
                    for w in 0..shape.width {
                        let expected = if grid.get(c, h, w) { 1.0 } else { 0.0 };
                        prop_assert_eq!(values[i], expected, "entry ({}, {}, {})", c, h, w);
                        i += 1;
                    }
                }
            }

            let flat: Tensor<B, 2> = grid.to_tensor_2d(&device);
            prop_assert_eq!(flat.dims(), [1, shape.len()]);
            let flat_values = flat.into_data().to_vec::<f32>().unwrap();
            prop_assert_eq!(flat_values, grid.to_f32_vec());
        }
    }
}

#[test]
fn masks_split_a_batch_without_overlap() {
    // condition * x + transform * x == x for a kind that covers every entry.
    let device = Default::default();
    let shape = flow_masks::MaskShape::image(2, 4, 4);
    let mask = flow_masks::MaskKind::Checkerboard { parity: 1 }
        .build(shape)
        .unwrap();
    let x = Tensor::<B, 4>::ones([3, 2, 4, 4], &device);
    let cond = x.clone() * mask.condition().to_tensor::<B>(&device);
    let trans = x * mask.transform().to_tensor::<B>(&device);
    let total: f32 = (cond.clone() + trans.clone()).sum().into_scalar();
    assert_eq!(total, 96.0);
    let overlap: f32 = (cond * trans).sum().into_scalar();
    assert_eq!(overlap, 0.0);
}
