//! `init_zeros` (the reference's `--init_zeros`): every coupling of a fresh flow is the
//! identity, and training can still move it (the zeroed layer has a non-zero gradient).

use burn::backend::Autodiff;
use burn::tensor::Tensor;
use flow_core::grads::global_grad_norm;
use flow_core::models::{Architecture, FlowConfig, RealNvpStNet};
use flow_core::testing::{host, uniform};
use flow_core::{Flow, Trace};
use flow_masks::MaskSchedule;

type Cpu = burn::backend::Flex;
type Train = Autodiff<Cpu>;

fn configs() -> Vec<(&'static str, FlowConfig)> {
    let mut bottleneck = FlowConfig::realnvp([1, 8, 8], 2, 2, 4);
    if let Architecture::RealNvp(arch) = &mut bottleneck.architecture {
        arch.st_net = RealNvpStNet::ResnetBottleneck { latent: 3 };
    }
    vec![
        ("realnvp", FlowConfig::realnvp([1, 8, 8], 2, 1, 4)),
        ("realnvp_bottleneck", bottleneck),
        (
            "cycle",
            FlowConfig::single_scale([1, 8, 8], MaskSchedule::cycle(4), 1, 4),
        ),
    ]
}

fn images<B: burn::tensor::backend::Backend>(n: usize, device: &B::Device) -> Tensor<B, 4> {
    let values: Vec<f32> = uniform(n * 64, 0.0, 0.999, 7)
        .into_iter()
        .map(|v| v as f32)
        .collect();
    Tensor::<B, 1>::from_floats(values.as_slice(), device).reshape([n, 1, 8, 8])
}

#[test]
fn every_coupling_starts_as_the_identity() {
    let device = Default::default();
    for (name, config) in configs() {
        let flow = config
            .clone()
            .with_init_zeros()
            .init::<Cpu>(3, &device)
            .unwrap();
        let mut trace = Trace::with_couplings();
        flow.forward_traced(images::<Cpu>(4, &device), Some(&mut trace))
            .unwrap();
        let couplings: Vec<_> = trace
            .layers()
            .iter()
            .filter_map(|record| record.coupling.as_ref().map(|c| (record, c)))
            .collect();
        assert!(!couplings.is_empty(), "{name}: no coupling traced");
        for (record, coupling) in couplings {
            let log_det = host(record.log_det.clone());
            assert!(
                log_det.iter().all(|v| *v == 0.0),
                "{name} {}: log-det {log_det:?}",
                record.name
            );
            for part in [coupling.s.clone(), coupling.t.clone()] {
                assert!(
                    host(part).iter().all(|v| *v == 0.0),
                    "{name} {}",
                    record.name
                );
            }
        }

        // The same seed without the flag draws the same directions but does not start
        // as the identity: the flag changes the starting map, nothing else.
        let plain = config.init::<Cpu>(3, &device).unwrap();
        // Traced with the couplings' internals, which only coupling layers record.
        let mut trace = Trace::with_couplings();
        plain
            .forward_traced(images::<Cpu>(4, &device), Some(&mut trace))
            .unwrap();
        let moved = trace
            .layers()
            .iter()
            .filter(|record| record.coupling.is_some())
            .any(|record| host(record.log_det.clone()).iter().any(|v| *v != 0.0));
        assert!(moved, "{name}: the plain flow starts as the identity too");
    }
}

#[test]
fn an_identity_start_still_has_a_gradient() {
    let device = Default::default();
    for (name, config) in configs() {
        let flow = config.with_init_zeros().init::<Train>(5, &device).unwrap();
        let loss = flow
            .log_likelihood(images::<Train>(4, &device))
            .unwrap()
            .nats()
            .mean()
            .neg();
        let grads = burn::optim::GradientsParams::from_grads(loss.backward(), &flow);
        let norm = global_grad_norm(&flow, &grads);
        assert!(
            norm.is_finite() && norm > 0.0,
            "{name}: gradient norm {norm}"
        );
    }
}
