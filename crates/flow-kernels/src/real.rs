//! The element types the CPU kernels run on.

use std::ops::{Add, AddAssign, Mul, Sub};

/// `f32` or `f64`: the types `gemm` multiplies natively, with the arithmetic the
/// kernels need.
pub trait Real:
    Copy
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + AddAssign
    + Sub<Output = Self>
    + Mul<Output = Self>
    + PartialEq
    + PartialOrd
{
    /// Additive identity.
    const ZERO: Self;
    /// Multiplicative identity.
    const ONE: Self;

    /// The value widened to `f64` (exact).
    fn to_f64(self) -> f64;

    /// The nearest value to `v`.
    fn from_f64(v: f64) -> Self;
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    fn to_f64(self) -> f64 {
        f64::from(self)
    }

    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    fn to_f64(self) -> f64 {
        self
    }

    fn from_f64(v: f64) -> Self {
        v
    }
}

/// Lanes of the kernels' partial sums: wide enough for the compiler to keep a vector
/// register of `f32` busy, and for several independent additions in flight (a plain
/// `iter().sum()` of floats is one dependent chain, since float addition does not
/// reassociate).
pub(crate) const LANES: usize = 16;

/// `sum f(a_i)` over a slice, in [`LANES`] independent partial sums (which the compiler
/// turns into vector additions), returned in `f64`.
#[inline(always)]
pub(crate) fn lane_sum<T: Real>(a: &[T], f: impl Fn(T) -> T) -> f64 {
    let mut lanes = [T::ZERO; LANES];
    let mut chunks = a.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += f(v);
        }
    }
    let tail: f64 = chunks.remainder().iter().map(|&v| f(v).to_f64()).sum();
    lanes.iter().map(|v| v.to_f64()).sum::<f64>() + tail
}

/// Deterministic values in [-1, 1) (xorshift), for the kernels' unit tests.
#[cfg(test)]
pub(crate) fn test_values(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}
