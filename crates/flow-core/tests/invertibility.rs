//! Property tests: every layer and every architecture is invertible,
//! `f^-1(f(x)) = x` to 1e-4 (max abs, f32), and the log-determinants of the forward and
//! inverse passes cancel. Layers are perturbed away from their initialisation first, so
//! no test passes because a layer starts as the identity.
//!
//! For ActNorm, the 1x1 convolution, the logit and the squeeze, whose inverse log-det is
//! minus the forward one by construction (so cancelling proves nothing), the forward
//! log-det is checked instead against a value computed without the layer's own log-det
//! code: ActNorm's per-channel slopes and the convolution's matrix read off the layer's
//! outputs, the logit's derivative written out, and zero for the squeeze.
//!
//! Each property runs on the default CPU backend (flex) and on ndarray.

mod common;

use common::random_input;
use flow_core::init::ParamInit;
use flow_core::layers::{ActNorm, AffineCoupling, InvConv1x1, Permutation};
use flow_core::models::{FlowConfig, FlowNet, FlowStep, RealNvpStNet};
use flow_core::st_nets::StNetConfig;
use flow_core::testing::{host, log_abs_det, max_abs_diff, perturbed};
use flow_core::{Flow, FlowError};
use flow_kernels::FlowBackend;
use flow_masks::{Half, MaskKind, MaskSchedule, MaskShape, Quadrant};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// Round-trip tolerance, max abs in f32.
const ROUND_TRIP_TOL: f64 = 1e-4;

/// A Glow of `config` with ActNorm initialised on `x` (as training does), perturbed,
/// through [`check_roundtrip`].
fn check_glow_roundtrip<B: FlowBackend>(
    config: &FlowConfig,
    x: burn::tensor::Tensor<B, 4>,
    seed: u64,
) -> Result<(), TestCaseError> {
    let flow = config
        .init::<B>(seed, &x.device())
        .unwrap()
        .initialize_actnorm(x.clone())
        .unwrap();
    check_roundtrip(&perturbed(flow, seed, 0.05), x)
}

/// Forward then inverse on `x`; checks the round trip and that the log-dets cancel
/// (relative to their size, since they sum over every entry in f32).
fn check_roundtrip<B: FlowBackend>(
    flow: &FlowNet<B>,
    x: burn::tensor::Tensor<B, 4>,
) -> Result<(), TestCaseError> {
    let out = flow.forward(x.clone()).unwrap();
    let (back, inverse_log_det) = flow.inverse_with_log_det(out.z.clone()).unwrap();
    let err = max_abs_diff(&host(x), &host(back));
    prop_assert!(err < ROUND_TRIP_TOL, "round trip error {err:e}");
    let forward_ld = host(out.log_det);
    let inverse_ld = host(inverse_log_det);
    for (f, i) in forward_ld.iter().zip(&inverse_ld) {
        prop_assert!(f.is_finite(), "non-finite log-det {f}");
        let tol = 1e-4 * (1.0 + f.abs());
        prop_assert!((f + i).abs() < tol, "log-dets do not cancel: {f} + {i}");
    }
    Ok(())
}

/// The round trip alone, for layers whose log-dets cancel by construction.
fn check_inverse<B: FlowBackend>(
    flow: &FlowNet<B>,
    x: burn::tensor::Tensor<B, 4>,
) -> Result<(), TestCaseError> {
    let back = flow.inverse(flow.forward(x.clone()).unwrap().z).unwrap();
    let err = max_abs_diff(&host(x), &host(back));
    prop_assert!(err < ROUND_TRIP_TOL, "round trip error {err:e}");
    Ok(())
}

/// The forward log-det of every sample of `x` against `expected` (relative 1e-4, for
/// f32 sums over every entry).
fn check_log_det<B: FlowBackend>(
    flow: &FlowNet<B>,
    x: burn::tensor::Tensor<B, 4>,
    expected: f64,
) -> Result<(), TestCaseError> {
    for got in host(flow.forward(x).unwrap().log_det) {
        let tol = 1e-4 * (1.0 + expected.abs());
        prop_assert!(
            (got - expected).abs() < tol,
            "log-det {got}, expected {expected}"
        );
    }
    Ok(())
}

/// `H W sum_c log|a_c|` for a per-channel affine map read off its outputs: the slope of
/// channel `c` is the change of its first entry when every input moves by 0.5.
fn channel_affine_log_det<B: FlowBackend>(
    flow: &FlowNet<B>,
    x: &burn::tensor::Tensor<B, 4>,
) -> f64 {
    let [_, c, h, w] = x.dims();
    let y0 = host(flow.forward(x.clone()).unwrap().z);
    let y1 = host(flow.forward(x.clone().add_scalar(0.5)).unwrap().z);
    let slopes = (0..c).map(|ch| ((y1[ch * h * w] - y0[ch * h * w]) / 0.5).abs().ln());
    (h * w) as f64 * slopes.sum::<f64>()
}

/// `H W log|det W|` for a per-pixel linear map read off its outputs: column `k` of `W`
/// is the output at one pixel of an image that is 1 in channel `k` and 0 elsewhere.
fn pixel_linear_log_det<B: FlowBackend>(flow: &FlowNet<B>, shape: [usize; 3]) -> f64 {
    let [c, h, w] = shape;
    let mut basis = vec![0.0f32; c * c * h * w];
    for k in 0..c {
        for p in 0..h * w {
            basis[k * c * h * w + k * h * w + p] = 1.0;
        }
    }
    let x = burn::tensor::Tensor::<B, 1>::from_floats(basis.as_slice(), &Default::default())
        .reshape([c, c, h, w]);
    let y = host(flow.forward(x).unwrap().z);
    let mut matrix = vec![0.0; c * c];
    for k in 0..c {
        for i in 0..c {
            matrix[i * c + k] = y[k * c * h * w + i * h * w];
        }
    }
    (h * w) as f64 * log_abs_det(matrix, c)
}

fn small_resnet() -> StNetConfig {
    StNetConfig::Resnet {
        mid_channels: 4,
        blocks: 1,
        batch_norm: true,
    }
}

fn coupling_flow<B: FlowBackend>(
    kind: MaskKind,
    shape: [usize; 3],
    st_net: &StNetConfig,
    seed: u64,
    device: &B::Device,
) -> Result<FlowNet<B>, FlowError> {
    let [c, h, w] = shape;
    let mask = kind
        .build(MaskShape::image(c, h, w))
        .map_err(|source| FlowError::Mask {
            layer: "test".into(),
            source,
        })?;
    let mut rng = ParamInit::new(seed);
    let layer = AffineCoupling::new("test", &mask, st_net, &mut rng, device)?;
    Ok(common::single_step(FlowStep::Coupling(layer), shape))
}

fn checkerboard_kind() -> impl Strategy<Value = MaskKind> {
    (0u8..2).prop_map(|parity| MaskKind::Checkerboard { parity })
}

fn half() -> impl Strategy<Value = Half> {
    prop_oneof![Just(Half::First), Just(Half::Second)]
}

fn quadrant() -> impl Strategy<Value = Quadrant> {
    (0usize..4).prop_map(Quadrant::from_index)
}

fn even_side() -> impl Strategy<Value = usize> {
    prop_oneof![Just(2usize), Just(4), Just(6)]
}

macro_rules! invertibility_tests {
    ($name:ident, $backend:ty) => {
        mod $name {
            use super::*;
            type B = $backend;

            fn device() -> burn::tensor::Device<B> {
                Default::default()
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(12))]

                #[test]
                fn checkerboard_coupling(kind in checkerboard_kind(), c in 1usize..4, h in 2usize..7,
                                         w in 2usize..7, n in 1usize..4, seed in any::<u64>()) {
                    let flow = coupling_flow::<B>(kind, [c, h, w], &small_resnet(), seed, &device()).unwrap();
                    let flow = perturbed(flow, seed, 0.1);
                    check_roundtrip(&flow, random_input([n, c, h, w], -2.0, 2.0, seed, &device()))?;
                }

                #[test]
                fn channel_wise_coupling(transform in half(), half_c in 1usize..4, h in 1usize..5,
                                         w in 1usize..5, n in 1usize..4, seed in any::<u64>()) {
                    let c = 2 * half_c;
                    let kind = MaskKind::ChannelWise { transform };
                    let flow = coupling_flow::<B>(kind, [c, h, w], &small_resnet(), seed, &device()).unwrap();
                    let flow = perturbed(flow, seed, 0.1);
                    check_roundtrip(&flow, random_input([n, c, h, w], -2.0, 2.0, seed, &device()))?;
                }

                #[test]
                fn horizontal_vertical_and_cycle_couplings(
                    which in 0usize..3, transform in half(), from in quadrant(), c in 1usize..3,
                    h in even_side(), w in even_side(), n in 1usize..4, seed in any::<u64>()) {
                    let kind = match which {
                        0 => MaskKind::Horizontal { transform },
                        1 => MaskKind::Vertical { transform },
                        _ => MaskKind::Cycle { from },
                    };
                    let flow = coupling_flow::<B>(kind, [c, h, w], &small_resnet(), seed, &device()).unwrap();
                    let flow = perturbed(flow, seed, 0.1);
                    check_roundtrip(&flow, random_input([n, c, h, w], -2.0, 2.0, seed, &device()))?;
                }

                #[test]
                fn tabular_coupling_with_mlp(transform in half(), d in 2usize..9, n in 1usize..5,
                                             seed in any::<u64>()) {
                    let st_net = StNetConfig::Mlp { hidden: 8, layers: 1 };
                    let kind = MaskKind::TabularHalves { transform };
                    let flow = coupling_flow::<B>(kind, [d, 1, 1], &st_net, seed, &device()).unwrap();
                    let flow = perturbed(flow, seed, 0.1);
                    check_roundtrip(&flow, random_input([n, d, 1, 1], -2.0, 2.0, seed, &device()))?;
                }

                #[test]
                fn highway_and_bottleneck_st_nets(which in 0usize..2, kind in checkerboard_kind(),
                                                  n in 1usize..3, seed in any::<u64>()) {
                    let st_net = match which {
                        0 => StNetConfig::Highway { mid_channels: 6, layers: 2 },
                        _ => StNetConfig::ResnetBottleneck { mid_channels: 4, blocks: 2, latent: 3, batch_norm: true },
                    };
                    let flow = coupling_flow::<B>(kind, [1, 4, 4], &st_net, seed, &device()).unwrap();
                    let flow = perturbed(flow, seed, 0.1);
                    check_roundtrip(&flow, random_input([n, 1, 4, 4], -2.0, 2.0, seed, &device()))?;
                }

                #[test]
                fn actnorm(c in 1usize..5, h in 1usize..4, w in 1usize..4, n in 1usize..4,
                           seed in any::<u64>(), data_init in any::<bool>()) {
                    let x = random_input::<B>([n.max(2), c, h, w], -2.0, 2.0, seed, &device());
                    let mut layer = ActNorm::new("actnorm", c, &device());
                    layer = if data_init { layer.initialize(&x) } else { perturbed::<B, _>(layer, seed, 0.3) };
                    let flow = common::single_step(FlowStep::ActNorm(layer), [c, h, w]);
                    let expected = channel_affine_log_det(&flow, &x);
                    check_log_det(&flow, x.clone(), expected)?;
                    check_inverse(&flow, x)?;
                }

                #[test]
                fn invertible_1x1_conv(c in 1usize..7, h in 1usize..4, w in 1usize..4, n in 1usize..4,
                                       seed in any::<u64>()) {
                    let mut rng = ParamInit::new(seed);
                    let layer = perturbed::<B, _>(InvConv1x1::new("invconv", c, &mut rng, &device()), seed, 0.1);
                    let flow = common::single_step(FlowStep::InvConv(layer), [c, h, w]);
                    let x = random_input([n, c, h, w], -2.0, 2.0, seed, &device());
                    check_log_det(&flow, x.clone(), pixel_linear_log_det(&flow, [c, h, w]))?;
                    check_inverse(&flow, x)?;
                }

                #[test]
                fn channel_permutation(c in 1usize..7, h in 1usize..3, w in 1usize..3, n in 1usize..4,
                                       seed in any::<u64>()) {
                    let order = ParamInit::new(seed).permutation(c);
                    let layer = Permutation::<B>::new("permutation", &order, &device()).unwrap();
                    let flow = common::single_step(FlowStep::Permute(layer), [c, h, w]);
                    let x = random_input([n, c, h, w], -2.0, 2.0, seed, &device());
                    // Channel i of the output is channel order[i] of the input.
                    let (values, out) = (host(x.clone()), host(flow.forward(x.clone()).unwrap().z));
                    let plane = h * w;
                    for (i, &from) in order.iter().enumerate() {
                        for s in 0..n {
                            let at = |ch: usize| (s * c + ch) * plane;
                            prop_assert_eq!(&out[at(i)..at(i) + plane], &values[at(from)..at(from) + plane]);
                        }
                    }
                    check_log_det(&flow, x.clone(), 0.0)?;
                    check_inverse(&flow, x)?;
                }

                #[test]
                fn squeeze_and_factor_out(c in 1usize..4, h in 1usize..4, w in 1usize..4,
                                          factor_out in any::<bool>(), seed in any::<u64>()) {
                    let flow = common::squeeze_only::<B>([c, 2 * h, 2 * w], factor_out);
                    let x = random_input([2, c, 2 * h, 2 * w], -2.0, 2.0, seed, &device());
                    // The latent is laid back on the input grid: exactly the input.
                    let out = flow.forward(x.clone()).unwrap();
                    prop_assert_eq!(host(out.z.clone()), host(x.clone()));
                    check_log_det(&flow, x.clone(), 0.0)?;
                    check_inverse(&flow, x)?;
                }

                #[test]
                fn logit_preprocessing(c in 1usize..3, h in 1usize..5, w in 1usize..5, seed in any::<u64>()) {
                    let flow = common::logit_only::<B>([c, h, w]);
                    let x = random_input([1, c, h, w], 0.0, 1.0, seed, &device());
                    // y = logit(p), p = a + (1 - 2a) x: dy/dx = (1 - 2a) / (p (1 - p)).
                    let alpha = flow_core::layers::LogitPreprocess::default().alpha;
                    let expected: f64 = host(x.clone())
                        .iter()
                        .map(|&v| {
                            let p = alpha + (1.0 - 2.0 * alpha) * v;
                            ((1.0 - 2.0 * alpha) / (p * (1.0 - p))).ln()
                        })
                        .sum();
                    check_log_det(&flow, x.clone(), expected)?;
                    check_inverse(&flow, x)?;
                }

                #[test]
                fn realnvp(bottleneck in any::<bool>(), n in 1usize..3, seed in any::<u64>()) {
                    let mut config = FlowConfig::realnvp([1, 8, 8], 2, 1, 4);
                    if bottleneck {
                        if let flow_core::models::Architecture::RealNvp(arch) = &mut config.architecture {
                            arch.st_net = RealNvpStNet::ResnetBottleneck { latent: 5 };
                            arch.blocks = 2;
                        }
                    }
                    let flow = perturbed(config.init::<B>(seed, &device()).unwrap(), seed, 0.05);
                    check_roundtrip(&flow, random_input([n, 1, 8, 8], 0.0, 1.0, seed, &device()))?;
                }

                /// The 3x32x32 layout (three scales, three channels) at 3x8x8.
                #[test]
                fn realnvp_rgb_three_scales(n in 1usize..3, seed in any::<u64>()) {
                    let config = FlowConfig::realnvp([3, 8, 8], 3, 1, 4);
                    let flow = perturbed(config.init::<B>(seed, &device()).unwrap(), seed, 0.05);
                    check_roundtrip(&flow, random_input([n, 3, 8, 8], 0.0, 1.0, seed, &device()))?;
                }

                /// The 3x32x32 Glow layout (three scales, three channels) at 3x16x16: at
                /// 3x8x8 the last scale is 1x1, and ActNorm's data-dependent scale from two
                /// values per channel amplifies f32 rounding past the tolerance.
                #[test]
                fn glow_rgb_three_scales(n in 2usize..4, seed in any::<u64>()) {
                    let config = FlowConfig::glow([3, 16, 16], 3, 2, 1, 8);
                    let x = random_input::<B>([n, 3, 16, 16], 0.0, 1.0, seed, &device());
                    check_glow_roundtrip(&config, x, seed)?;
                }

                #[test]
                fn glow(n in 2usize..4, seed in any::<u64>()) {
                    let config = FlowConfig::glow([1, 8, 8], 2, 2, 1, 8);
                    let x = random_input::<B>([n, 1, 8, 8], 0.0, 1.0, seed, &device());
                    check_glow_roundtrip(&config, x, seed)?;
                }

                #[test]
                fn single_scale_stacks(which in 0usize..3, n in 1usize..3, seed in any::<u64>()) {
                    let schedule = match which {
                        0 => MaskSchedule::checkerboard(8),
                        1 => MaskSchedule::horizontal(8),
                        _ => MaskSchedule::cycle(8),
                    };
                    let config = FlowConfig::single_scale([1, 8, 8], schedule, 1, 4);
                    let flow = perturbed(config.init::<B>(seed, &device()).unwrap(), seed, 0.05);
                    check_roundtrip(&flow, random_input([n, 1, 8, 8], 0.0, 1.0, seed, &device()))?;
                }

                #[test]
                fn tabular_flow(d in 2usize..9, n in 1usize..5, seed in any::<u64>()) {
                    let config = FlowConfig {
                        input_shape: [d, 1, 1],
                        preprocess: None,
                        architecture: flow_core::models::Architecture::SingleScale(
                            flow_core::models::SingleScaleConfig {
                                schedule: MaskSchedule::tabular(4),
                                st_net: StNetConfig::Mlp { hidden: 8, layers: 1 },
                            },
                        ),
                        init_zeros: false,
                    };
                    let flow = perturbed(config.init::<B>(seed, &device()).unwrap(), seed, 0.1);
                    check_roundtrip(&flow, random_input([n, d, 1, 1], -2.0, 2.0, seed, &device()))?;
                }
            }

            #[test]
            fn conv_autoencoder_st_net_on_14x14() {
                let st_net = StNetConfig::ConvAutoencoder { latent: 4 };
                let kind = MaskKind::Checkerboard { parity: 1 };
                let flow = coupling_flow::<B>(kind, [1, 14, 14], &st_net, 3, &device()).unwrap();
                let flow = perturbed(flow, 3, 0.05);
                check_roundtrip(&flow, random_input([2, 1, 14, 14], -2.0, 2.0, 3, &device())).unwrap();
            }
        }
    };
}

invertibility_tests!(flex, burn::backend::Flex);
invertibility_tests!(ndarray, burn::backend::NdArray);
