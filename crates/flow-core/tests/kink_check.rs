//! `check_log_det` on a map with a known kink: a probe beside the kink is not blamed on
//! the flow, a wrong formula fails near the kink and away from it. Its own test binary,
//! because `device_f64` must set the default dtype before any other test makes a tensor.

use burn::backend::NdArray;
use burn::tensor::activation::relu;
use burn::tensor::Tensor;
use flow_core::testing::{
    brute_force_log_det, check_log_det, device_f64, LogDetCheck, JACOBIAN_STEP,
};
use flow_core::{Flow, FlowError, FlowOutput, Trace};

/// `z = x + 0.5 relu(x)` on one value: slope 1 below the kink at 0, 1.5 above.
/// `honest` reports that log-det; otherwise it claims log 1.5 everywhere, which is
/// wrong below the kink.
struct Kinked {
    honest: bool,
}

impl Flow<NdArray> for Kinked {
    fn input_shape(&self) -> [usize; 3] {
        [1, 1, 1]
    }

    fn forward_traced(
        &self,
        x: Tensor<NdArray, 4>,
        _trace: Option<&mut Trace<NdArray>>,
    ) -> Result<FlowOutput<NdArray>, FlowError> {
        let n = x.dims()[0];
        let above = x.clone().greater_elem(0.0).float().reshape([n]);
        let log_det = if self.honest {
            (above * 0.5 + 1.0).log()
        } else {
            above.zeros_like() + 1.5f64.ln()
        };
        Ok(FlowOutput {
            z: x.clone() + relu(x) * 0.5,
            log_det,
        })
    }

    fn inverse_with_log_det(
        &self,
        _z: Tensor<NdArray, 4>,
    ) -> Result<(Tensor<NdArray, 4>, Tensor<NdArray, 1>), FlowError> {
        unreachable!("the checks only run forward")
    }
}

fn check(honest: bool, x: f64) -> Result<LogDetCheck, String> {
    let device = device_f64::<NdArray>();
    check_log_det(&Kinked { honest }, &[x], [1, 1, 1], &device, 1e-6)
}

#[test]
fn a_right_flow_passes_away_from_its_kink() {
    assert!(check(true, -0.3).is_ok());
    assert!(check(true, 0.3).is_ok());
}

#[test]
fn a_probe_beside_the_kink_is_not_blamed_on_the_flow() {
    let device = device_f64::<NdArray>();
    let beside = 0.3 * JACOBIAN_STEP;
    let raw = brute_force_log_det(&Kinked { honest: true }, &[beside], [1, 1, 1], &device);
    assert!(
        (raw.reported - raw.brute_force).abs() > 1e-3,
        "central differences straddle the kink: {raw:?}"
    );
    assert!(check(true, beside).is_ok());
    assert!(check(true, -beside).is_ok());
}

#[test]
fn a_wrong_formula_fails_near_the_kink_and_away_from_it() {
    assert!(check(false, -0.3).is_err());
    assert!(check(false, -0.3 * JACOBIAN_STEP).is_err());
    // Above the kink the false claim happens to be right.
    assert!(check(false, 0.3).is_ok());
}
