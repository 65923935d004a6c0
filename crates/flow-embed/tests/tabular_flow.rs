//! The tabular flow is invertible and reports the log-determinant of its brute-force
//! Jacobian, with and without permutations and ActNorm, standardisation included.
//!
//! The Jacobian comes from central differences in f64 (step 1e-5) and an LU
//! factorisation on the host; tolerance 1e-6 on log|det|. Runs on flex and ndarray, both
//! switched to f64 for this test binary.

use burn::tensor::{Device, Tensor, TensorData};
use flow_core::testing::{check_log_det, device_f64, host, max_abs_diff, perturbed, uniform};
use flow_core::Flow;
use flow_embed::{Standardizer, TabularFlow, TabularFlowConfig};
use flow_kernels::FlowBackend;
use proptest::prelude::*;

const LOG_DET_TOL: f64 = 1e-6;

/// What a generated case builds.
#[derive(Debug, Clone)]
struct Case {
    config: TabularFlowConfig,
    seed: u64,
    /// Random standardisation (the identity when `false`).
    standardize: bool,
}

fn any_case() -> impl Strategy<Value = Case> {
    (
        2usize..7,
        1usize..5,
        any::<bool>(),
        proptest::option::of(0u64..1000),
        any::<bool>(),
        0u64..1000,
    )
        .prop_map(
            |(dim, couplings, actnorm, permutation_seed, standardize, seed)| Case {
                config: TabularFlowConfig {
                    dim,
                    couplings,
                    hidden: 8,
                    hidden_layers: 1,
                    actnorm,
                    permutation_seed,
                },
                seed,
                standardize,
            },
        )
}

/// The case's flow, its parameters perturbed away from initialisation (so ActNorm and
/// the couplings' rescale are not the identity).
fn build<B: FlowBackend>(case: &Case, device: &Device<B>) -> TabularFlow<B> {
    let d = case.config.dim;
    let standardizer = if case.standardize {
        Standardizer::new(
            uniform(d, -3.0, 3.0, case.seed ^ 1),
            uniform(d, 0.3, 3.0, case.seed ^ 2),
        )
        .unwrap()
    } else {
        Standardizer::identity(d)
    };
    let flow = case
        .config
        .init::<B>(case.seed, standardizer, device)
        .unwrap();
    perturbed(flow, case.seed ^ 3, 0.2)
}

fn check_inverse<B: FlowBackend>(case: &Case) {
    let device = device_f64::<B>();
    let flow = build::<B>(case, &device);
    let d = case.config.dim;
    let n = 5;
    let values = uniform(n * d, -4.0, 4.0, case.seed ^ 4);
    let x = Tensor::<B, 4>::from_data(TensorData::new(values.clone(), [n, d, 1, 1]), &device);
    let out = flow.forward(x).unwrap();
    let (back, inverse_log_det) = flow.inverse_with_log_det(out.z).unwrap();
    let err = max_abs_diff(&host(back), &values);
    assert!(err < 1e-4, "round trip error {err:e} for {case:?}");
    for (f, i) in host(out.log_det).iter().zip(host(inverse_log_det)) {
        assert!((f + i).abs() < 1e-8, "inverse log-det {i} is not -{f}");
    }
}

fn check_jacobian<B: FlowBackend>(case: &Case) {
    let device = device_f64::<B>();
    let flow = build::<B>(case, &device);
    let d = case.config.dim;
    let base = uniform(d, -2.0, 2.0, case.seed ^ 5);
    if let Err(message) = check_log_det(&flow, &base, [d, 1, 1], &device, LOG_DET_TOL) {
        panic!("{message} for {case:?}");
    }
}

/// `log_prob` is the standard normal log-density of the latent plus the log-det, and
/// the standardisation's share of the log-det is `-sum(log std)`.
fn check_log_prob<B: FlowBackend>(case: &Case) {
    let device = device_f64::<B>();
    let flow = build::<B>(case, &device);
    let d = case.config.dim;
    let values = uniform(3 * d, -2.0, 2.0, case.seed ^ 6);
    let x2 = Tensor::<B, 2>::from_data(TensorData::new(values.clone(), [3, d]), &device);
    let log_prob = host(flow.log_prob(x2).unwrap());
    let mut trace = flow_core::Trace::new();
    let x4 = Tensor::<B, 4>::from_data(TensorData::new(values, [3, d, 1, 1]), &device);
    let out = flow.forward_traced(x4, Some(&mut trace)).unwrap();
    let z = host(out.z);
    let log_det = host(out.log_det);
    for i in 0..3 {
        let sq: f64 = z[i * d..(i + 1) * d].iter().map(|v| v * v).sum();
        let expected = -0.5 * sq - 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln() + log_det[i];
        assert!((log_prob[i] - expected).abs() < 1e-9);
    }
    let first = &trace.layers()[0];
    assert_eq!(first.name, "standardize");
    let expected: f64 = -flow
        .standardizer()
        .std()
        .iter()
        .map(|s| s.ln())
        .sum::<f64>();
    for v in host(first.log_det.clone()) {
        assert!((v - expected).abs() < 1e-12);
    }
    let summed: f64 = trace
        .layers()
        .iter()
        .map(|l| host(l.log_det.clone())[0])
        .sum();
    assert!(
        (summed - log_det[0]).abs() < 1e-9,
        "the trace adds up to the log-det"
    );
}

macro_rules! backend_tests {
    ($name:ident, $backend:ty) => {
        mod $name {
            use super::*;
            type B = $backend;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(24))]

                #[test]
                fn inverts(case in any_case()) {
                    check_inverse::<B>(&case);
                }

                #[test]
                fn log_det_matches_the_brute_force_jacobian(case in any_case()) {
                    check_jacobian::<B>(&case);
                }

                #[test]
                fn log_prob_is_prior_plus_log_det(case in any_case()) {
                    check_log_prob::<B>(&case);
                }
            }

            /// A probe 1e-5 from a ReLU kink of the coupling's network: central
            /// differences miss the log-det by 5.6e-4 there (found by CI's proptest run).
            #[test]
            fn a_probe_beside_a_kink_is_told_from_a_wrong_formula() {
                let case = Case {
                    config: TabularFlowConfig {
                        dim: 2,
                        couplings: 3,
                        hidden: 8,
                        hidden_layers: 1,
                        actnorm: true,
                        permutation_seed: None,
                    },
                    seed: 678,
                    standardize: true,
                };
                check_jacobian::<B>(&case);
            }

            #[test]
            fn every_option_combination_checks_out() {
                for actnorm in [false, true] {
                    for permutation_seed in [None, Some(7)] {
                        for standardize in [false, true] {
                            let case = Case {
                                config: TabularFlowConfig {
                                    dim: 5,
                                    couplings: 4,
                                    hidden: 8,
                                    hidden_layers: 1,
                                    actnorm,
                                    permutation_seed,
                                },
                                seed: 11,
                                standardize,
                            };
                            check_inverse::<B>(&case);
                            check_jacobian::<B>(&case);
                        }
                    }
                }
            }
        }
    };
}

backend_tests!(flex, burn::backend::Flex);
backend_tests!(ndarray, burn::backend::NdArray);
