//! A batch of the wrong shape is a typed error naming both shapes, not a panic inside
//! burn: a 3x32x32 batch into a flow built for 1x28x28 (and the same for Glow's
//! data-dependent ActNorm initialisation, and for the forward and inverse passes).

mod common;

use common::random_input;
use flow_core::models::{Architecture, FlowConfig, GlowConfig};
use flow_core::st_nets::StNetConfig;
use flow_core::{Flow, FlowError};

type Cpu = burn::backend::Flex;

#[test]
fn a_batch_of_another_shape_is_an_input_shape_error() {
    let device = Default::default();
    let flow = FlowConfig::realnvp([1, 28, 28], 2, 1, 4)
        .init::<Cpu>(0, &device)
        .unwrap();
    let err = flow.log_likelihood(rgb_batch(&device)).err().unwrap();
    assert!(
        matches!(&err, FlowError::InputShape { got, expected } if got == &vec![2, 3, 32, 32] && *expected == [1, 28, 28]),
        "{err}"
    );
    assert!(err.to_string().contains("28"), "{err}");
    for err in [
        flow.forward(rgb_batch(&device)).err(),
        flow.inverse(rgb_batch(&device)).err(),
        flow.inverse_with_log_det(rgb_batch(&device)).err(),
    ] {
        assert!(
            matches!(&err, Some(FlowError::InputShape { expected, .. }) if *expected == [1, 28, 28]),
            "{err:?}"
        );
    }

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

/// Two 3x32x32 images: the CIFAR shape, which no flow here is built for.
fn rgb_batch(device: &burn::tensor::Device<Cpu>) -> burn::tensor::Tensor<Cpu, 4> {
    random_input::<Cpu>([2, 3, 32, 32], 0.0, 1.0, 1, device)
}

/// The reference's 3x32x32 layouts, at full size, take a CIFAR-sized batch and give a
/// finite likelihood; a 1x28x28 batch is refused by name.
#[test]
fn the_cifar10_layouts_take_3x32x32_images() {
    let device = Default::default();
    for config in [FlowConfig::cifar10_realnvp(), FlowConfig::cifar10_glow()] {
        assert_eq!(config.input_shape, [3, 32, 32]);
        let batch = rgb_batch(&device);
        let flow = config.init::<Cpu>(0, &device).unwrap();
        let flow = match config.architecture {
            Architecture::Glow(_) => flow.initialize_actnorm(batch.clone()).unwrap(),
            _ => flow,
        };
        let log_p = flow.log_likelihood(batch).unwrap().nats();
        assert_eq!(log_p.dims(), [2]);
        let values: Vec<f32> = log_p.into_data().to_vec().unwrap();
        assert!(values.iter().all(|v| v.is_finite()), "{values:?}");
        let gray = random_input::<Cpu>([1, 1, 28, 28], 0.0, 1.0, 3, &device);
        assert!(matches!(
            flow.log_likelihood(gray),
            Err(FlowError::InputShape { .. })
        ));
    }
}
