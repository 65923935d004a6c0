//! Helpers for testing flows (behind the `testing` feature): the brute-force check of a
//! reported log-determinant, f64 devices, seeded inputs and parameter noise.
//!
//! A flow's log-likelihood is only as right as its `log|det J|`. The check here builds
//! the Jacobian of one sample by central differences in f64 and takes its log|det| by
//! LU on the host, independent of any layer's own formula; [`check_log_det`] compares
//! it with the reported one and tells a probe that straddles a ReLU kink from a wrong
//! formula. flow-core's tests use it for
//! every layer and model, flow-embed's for the tabular flow; a crate with its own flows
//! can do the same with
//! `flow-core = { version = "0.1", features = ["testing"] }` in its dev-dependencies.
//!
//! These are test helpers: they panic (with a message) where a test should fail.
//!
//! ```
//! use burn::backend::NdArray;
//! use flow_core::models::FlowConfig;
//! use flow_core::testing::{brute_force_log_det, device_f64, perturbed, uniform};
//! use flow_masks::MaskSchedule;
//!
//! let device = device_f64::<NdArray>();
//! let config = FlowConfig::single_scale([1, 2, 2], MaskSchedule::checkerboard(2), 1, 4);
//! let flow = perturbed(config.init::<NdArray>(3, &device)?, 5, 0.1);
//! let check = brute_force_log_det(&flow, &uniform(4, 0.05, 0.95, 7), [1, 2, 2], &device);
//! assert!((check.reported - check.brute_force).abs() < 1e-6);
//! # Ok::<(), flow_core::FlowError>(())
//! ```

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::Flow;

/// Central-difference step of [`brute_force_log_det`]: in f64 the Jacobian entries come
/// out accurate to about 1e-9, far inside a 1e-6 tolerance on the log-determinant.
pub const JACOBIAN_STEP: f64 = 1e-5;

/// How far [`check_log_det`] moves a probe that sits within a step of a kink: a hundred
/// steps, far enough to leave the kink, near enough to stay in the same region of every
/// smooth piece (a wrong formula is wrong on a whole region, not at one point).
pub const KINK_DODGE: f64 = 100.0 * JACOBIAN_STEP;

/// The device of `B` with f64 as its default float type (and i64 for integers), so that
/// finite differences are exact enough. Set once per process, before any tensor exists
/// on the device; later calls find it already set.
///
/// # Panics
/// If the backend does not give f64 tensors afterwards.
pub fn device_f64<B: Backend>() -> Device<B> {
    let device = Device::<B>::default();
    // Fails harmlessly when another test of this binary already set it.
    let _ = burn::tensor::set_default_dtypes::<B>(&device, DType::F64, DType::I64);
    let probe = Tensor::<B, 1>::zeros([1], &device);
    assert_eq!(probe.dtype(), DType::F64, "these tests need f64");
    device
}

/// `n` values in `[lo, hi)` drawn from `seed`.
pub fn uniform(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

/// Host copy of a tensor as `f64`.
///
/// # Panics
/// If the tensor's data cannot be read as floats.
pub fn host<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f64> {
    t.into_data().convert::<f64>().to_vec().expect("float data")
}

/// Largest absolute difference of two equally long slices.
///
/// # Panics
/// If the lengths differ.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Parameters flow-core keeps fixed, by field name: the 1x1 convolution's permutation
/// and signs. A backend without autodiff reports every parameter as not requiring a
/// gradient, so there the name is what tells them from trainable ones.
pub const FIXED_PARAMS: [&str; 2] = ["permutation", "sign_s"];

/// Adds uniform noise of standard deviation `std` to every trainable parameter, so that
/// tests see a layer far from its (often identity) initialisation. Fixed parameters
/// ([`FIXED_PARAMS`], and on an autodiff backend any that does not require a gradient)
/// are left alone.
pub struct Perturb {
    rng: StdRng,
    std: f64,
    /// Field names from the module's root to the parameter being mapped.
    path: Vec<String>,
}

impl Perturb {
    /// Noise of standard deviation `std` drawn from `seed`.
    pub fn new(seed: u64, std: f64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            std,
            path: Vec::new(),
        }
    }
}

impl<B: Backend> ModuleMapper<B> for Perturb {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let fixed_by_name = self
            .path
            .last()
            .is_some_and(|name| FIXED_PARAMS.contains(&name.as_str()));
        // Without autodiff `is_require_grad` is false for every parameter: only the
        // names tell fixed parameters apart there.
        let fixed_by_flag = B::ad_enabled(&param.device()) && !param.is_require_grad();
        if fixed_by_name || fixed_by_flag {
            return param;
        }
        let (id, tensor, mapper) = param.consume();
        let shape = tensor.shape();
        let device = tensor.device();
        // Uniform on [-b, b) has variance b^2 / 3.
        let bound = self.std * 3f64.sqrt();
        let noise: Vec<f64> = (0..shape.num_elements())
            .map(|_| self.rng.random_range(-bound..bound))
            .collect();
        let noise = Tensor::<B, D>::from_data(TensorData::new(noise, shape), &device);
        Param::from_mapped_value(id, tensor + noise, mapper)
    }
}

/// `model` with every trainable parameter perturbed (see [`Perturb`]).
pub fn perturbed<B: Backend, M: Module<B>>(model: M, seed: u64, std: f64) -> M {
    model.map(&mut Perturb::new(seed, std))
}

/// log|det| of a row-major `n x n` matrix by LU with partial pivoting.
///
/// # Panics
/// If `a` is not `n * n` long or the matrix is singular.
pub fn log_abs_det(mut a: Vec<f64>, n: usize) -> f64 {
    assert_eq!(a.len(), n * n, "not an {n} x {n} matrix");
    let mut total = 0.0;
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x * n + col].abs().total_cmp(&a[y * n + col].abs()))
            .unwrap_or(col);
        for k in 0..n {
            a.swap(col * n + k, pivot * n + k);
        }
        let d = a[col * n + col];
        assert!(d != 0.0, "singular Jacobian");
        total += d.abs().ln();
        for row in col + 1..n {
            let f = a[row * n + col] / d;
            for k in col..n {
                a[row * n + k] -= f * a[col * n + k];
            }
        }
    }
    total
}

/// What [`brute_force_log_det`] found at one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogDetCheck {
    /// The log-determinant the flow reported.
    pub reported: f64,
    /// log|det| of the central-difference Jacobian.
    pub brute_force: f64,
    /// The largest gap between the forward and the backward difference quotient of any
    /// Jacobian entry. Smooth maps keep it near `step * |second derivative|`; a ReLU
    /// kink inside the stencil makes it jump by the change of slope.
    pub stencil_gap: f64,
}

/// The log-determinant `flow` reports at the single sample `x` (`[C, H, W]` = `shape`,
/// row-major) next to log|det| of its Jacobian by central differences with step
/// [`JACOBIAN_STEP`]. Use a device from [`device_f64`].
///
/// The sample and its `2 * C * H * W` shifted copies go through the flow as one batch,
/// so use a backend without autodiff: there flow-core's BatchNorm normalises with its
/// running statistics, not the batch's.
///
/// # Panics
/// If `x` does not have `C * H * W` values or the Jacobian is singular.
pub fn brute_force_log_det<B: Backend, F: Flow<B>>(
    flow: &F,
    x: &[f64],
    shape: [usize; 3],
    device: &Device<B>,
) -> LogDetCheck {
    let [c, h, w] = shape;
    let d = c * h * w;
    assert_eq!(x.len(), d, "a sample of shape {shape:?} has {d} values");
    // One batch: x, then x + step e_k and x - step e_k for every k.
    let mut batch = Vec::with_capacity((2 * d + 1) * d);
    batch.extend_from_slice(x);
    for k in 0..d {
        for sign in [1.0, -1.0] {
            let mut v = x.to_vec();
            v[k] += sign * JACOBIAN_STEP;
            batch.extend_from_slice(&v);
        }
    }
    let input = Tensor::<B, 4>::from_data(TensorData::new(batch, [2 * d + 1, c, h, w]), device);
    let out = flow
        .forward(input)
        .expect("the probe batch has the flow's own shape");
    let z = host(out.z);
    let reported = host(out.log_det)[0];
    let centre = &z[..d];
    // Row i, column k: dz_i / dx_k.
    let mut jacobian = vec![0.0; d * d];
    let mut stencil_gap = 0.0f64;
    for k in 0..d {
        let plus = &z[(1 + 2 * k) * d..(2 + 2 * k) * d];
        let minus = &z[(2 + 2 * k) * d..(3 + 2 * k) * d];
        for i in 0..d {
            jacobian[i * d + k] = (plus[i] - minus[i]) / (2.0 * JACOBIAN_STEP);
            let gap = ((plus[i] - centre[i]) - (centre[i] - minus[i])) / JACOBIAN_STEP;
            stencil_gap = stencil_gap.max(gap.abs());
        }
    }
    LogDetCheck {
        reported,
        brute_force: log_abs_det(jacobian, d),
        stencil_gap,
    }
}

/// Checks that `flow` reports the brute-force log-determinant at `x` within
/// `tolerance`, and tells a wrong formula from a probe that straddles a kink.
///
/// Flows with ReLU st-networks are piecewise smooth. Where `x` lies within
/// [`JACOBIAN_STEP`] of a kink, central differences average two slopes and miss the
/// exact log-det by up to half the change of slope, however right the flow is (a
/// property test meets such a point about once in a few hundred cases). Such a
/// disagreement passes only if (a) the stencil at `x` shows the kink: its
/// [`LogDetCheck::stencil_gap`] is more than twice the larger gap at the two points
/// [`KINK_DODGE`] to either side, and (b) the flow agrees with the brute force at both of
/// those points. A wrong formula is wrong on a whole region and fails (b).
///
/// # Errors
/// A message with every number when the check fails.
///
/// # Panics
/// As [`brute_force_log_det`].
pub fn check_log_det<B: Backend, F: Flow<B>>(
    flow: &F,
    x: &[f64],
    shape: [usize; 3],
    device: &Device<B>,
    tolerance: f64,
) -> Result<LogDetCheck, String> {
    let agrees = |check: &LogDetCheck| (check.reported - check.brute_force).abs() < tolerance;
    let at_x = brute_force_log_det(flow, x, shape, device);
    if agrees(&at_x) {
        return Ok(at_x);
    }
    // Unequal steps per coordinate, so that the move leaves a kink hyperplane whatever
    // its orientation.
    let moved = |sign: f64| -> Vec<f64> {
        x.iter()
            .enumerate()
            .map(|(k, v)| v + sign * KINK_DODGE * (1.0 + (0.618 * k as f64) % 1.0))
            .collect()
    };
    let after = brute_force_log_det(flow, &moved(1.0), shape, device);
    let before = brute_force_log_det(flow, &moved(-1.0), shape, device);
    let kink_at_x = at_x.stencil_gap > 2.0 * after.stencil_gap.max(before.stencil_gap);
    if kink_at_x && agrees(&after) && agrees(&before) {
        return Ok(after);
    }
    Err(format!(
        "reported log|det J| = {}, brute force = {}, difference {:e} (stencil gap {:e}); \
         {} to either side: differences {:e} and {:e} (stencil gaps {:e}, {:e})",
        at_x.reported,
        at_x.brute_force,
        at_x.reported - at_x.brute_force,
        at_x.stencil_gap,
        KINK_DODGE,
        before.reported - before.brute_force,
        after.reported - after.brute_force,
        before.stencil_gap,
        after.stencil_gap,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_abs_det_of_known_matrices() {
        assert!((log_abs_det(vec![2.0, 0.0, 0.0, 3.0], 2) - 6f64.ln()).abs() < 1e-12);
        // Needs a row swap; det = 0*0 - 1*4 = -4.
        assert!((log_abs_det(vec![0.0, 1.0, 4.0, 0.0], 2) - 4f64.ln()).abs() < 1e-12);
        // det = 1*(4*6 - 5*0) - 2*(0*6 - 5*1) + 3*(0*0 - 4*1) = 24 + 10 - 12 = 22.
        let a = vec![1.0, 2.0, 3.0, 0.0, 4.0, 5.0, 1.0, 0.0, 6.0];
        assert!((log_abs_det(a, 3) - 22f64.ln()).abs() < 1e-12);
    }

    #[test]
    #[should_panic(expected = "singular")]
    fn a_singular_matrix_fails_the_test() {
        log_abs_det(vec![1.0, 2.0, 2.0, 4.0], 2);
    }
}
