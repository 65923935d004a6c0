//! A batch of the wrong shape is a typed error naming both shapes, not a panic inside
//! burn: a 3x32x32 batch into a flow built for 1x28x28 (and the same for Glow's
//! data-dependent ActNorm initialisation).

use burn::tensor::Tensor;
use flow_core::models::{Architecture, FlowConfig, GlowConfig};
use flow_core::st_nets::StNetConfig;
use flow_core::testing::uniform;
use flow_core::FlowError;

type Cpu = burn::backend::Flex;

/// A batch of `shape` with values in `[0, 1)`.
fn batch(shape: [usize; 4], seed: u64) -> Tensor<Cpu, 4> {
    let values: Vec<f32> = uniform(shape.iter().product(), 0.0, 0.999, seed)
        .into_iter()
        .map(|v| v as f32)
        .collect();
    Tensor::<Cpu, 1>::from_floats(values.as_slice(), &Default::default()).reshape(shape)
}

#[test]
fn a_batch_of_another_shape_is_an_input_shape_error() {
    let device = Default::default();
    let flow = FlowConfig::realnvp([1, 28, 28], 2, 1, 4)
        .init::<Cpu>(0, &device)
        .unwrap();
    let rgb = batch([2, 3, 32, 32], 1);
    let err = flow.log_likelihood(rgb).err().unwrap();
    assert!(
        matches!(&err, FlowError::InputShape { got, expected } if got == &vec![2, 3, 32, 32] && *expected == [1, 28, 28]),
        "{err}"
    );
    assert!(err.to_string().contains("28"), "{err}");

    let glow = FlowConfig {
        input_shape: [1, 8, 8],
        preprocess: Some(flow_core::layers::LogitPreprocess::default()),
        architecture: Architecture::Glow(GlowConfig {
            scales: 1,
            steps_per_scale: 2,
            st_net: StNetConfig::Highway {
                mid_channels: 4,
                layers: 1,
            },
        }),
        init_zeros: false,
    }
    .init::<Cpu>(0, &device)
    .unwrap();
    let wrong = batch([4, 1, 4, 4], 2);
    assert!(matches!(
        glow.clone().initialize_actnorm(wrong),
        Err(FlowError::InputShape { .. })
    ));
    let right = batch([4, 1, 8, 8], 2);
    assert!(glow.initialize_actnorm(right).is_ok());
}
