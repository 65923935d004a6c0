//! A batch of the wrong shape is a typed error naming both shapes, not a panic inside
//! burn: a 3x32x32 batch into a flow built for 1x28x28 (and the same for Glow's
//! data-dependent ActNorm initialisation).

mod common;

use common::random_input;
use flow_core::models::{Architecture, FlowConfig, GlowConfig};
use flow_core::st_nets::StNetConfig;
use flow_core::FlowError;

type Cpu = burn::backend::Flex;

#[test]
fn a_batch_of_another_shape_is_an_input_shape_error() {
    let device = Default::default();
    let flow = FlowConfig::realnvp([1, 28, 28], 2, 1, 4)
        .init::<Cpu>(0, &device)
        .unwrap();
    let rgb = random_input::<Cpu>([2, 3, 32, 32], 0.0, 1.0, 1, &device);
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
    let wrong = random_input::<Cpu>([4, 1, 4, 4], 0.0, 1.0, 2, &device);
    assert!(matches!(
        glow.clone().initialize_actnorm(wrong),
        Err(FlowError::InputShape { .. })
    ));
    let right = random_input::<Cpu>([4, 1, 8, 8], 0.0, 1.0, 2, &device);
    assert!(glow.initialize_actnorm(right).is_ok());
}
