//! Batch normalisation of `NCHW` slices with the batch's own statistics (training
//! mode), optionally followed by a ReLU, and its backward pass.
//!
//! Written in burn's element-wise operations, the layer makes about six passes over the
//! batch forward and a dozen backward (centring, squaring, two means, the affine map,
//! the ReLU, and each of their gradients), every one with a fresh buffer. Here the
//! forward pass reads the input twice (the mean, then the mean squared deviation, as
//! the operations compute them) and writes the output once; the backward pass reads
//! the input and the output gradient once for two sums per channel and once more to
//! write the input gradient. The ReLU's mask is recomputed from the input, so nothing
//! but the per-channel statistics is kept between the passes.
//!
//! Sums run in `T`-wide lanes within a plane and in `f64` across planes, so an `f32`
//! batch of 64 images keeps the precision of the operations it replaces.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::real::{lane_sum, Real, LANES};
use crate::uninit::{as_uninit, written_vec};

/// A batch `[batch, channels, plane]`, `plane` being the height times the width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NormShape {
    /// Images in the batch.
    pub batch: usize,
    /// Channels, each normalised on its own.
    pub channels: usize,
    /// Positions per channel and image (`H * W`).
    pub plane: usize,
}

impl NormShape {
    /// Elements of the batch.
    pub fn len(&self) -> usize {
        self.batch * self.channels * self.plane
    }

    /// Whether the batch holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values each channel's statistics are taken over.
    fn count(&self) -> usize {
        self.batch * self.plane
    }

    /// The planes of channel `c`, image by image.
    fn planes_of<'a, T>(&self, values: &'a [T], c: usize) -> impl Iterator<Item = &'a [T]> {
        let (channels, plane) = (self.channels, self.plane);
        (0..self.batch).map(move |n| {
            let start = (n * channels + c) * plane;
            &values[start..start + plane]
        })
    }
}

/// Per-channel statistics of a batch: the mean and the biased variance (what
/// normalises; the caller makes the unbiased one for its running estimate).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchStatistics<T> {
    /// Mean per channel.
    pub mean: Vec<T>,
    /// Biased variance per channel.
    pub variance: Vec<T>,
}

/// The layer: its per-channel scale and shift, the epsilon under the square root, and
/// whether a ReLU follows.
#[derive(Debug, Clone, Copy)]
pub struct NormLayer<'a, T> {
    /// Scale per channel.
    pub gamma: &'a [T],
    /// Shift per channel.
    pub beta: &'a [T],
    /// Added to the variance before its square root.
    pub epsilon: f64,
    /// Whether the output goes through a ReLU.
    pub relu: bool,
}

/// Which gradients [`batch_norm_backward`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WantedNormGrads {
    /// The input's.
    pub x: bool,
    /// The scale's (`gamma`).
    pub gamma: bool,
    /// The shift's (`beta`).
    pub beta: bool,
}

/// The gradients of a batch normalisation, each present when it was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct NormGradValues<T> {
    /// `[N, C, H, W]`.
    pub x: Option<Vec<T>>,
    /// `[C]`.
    pub gamma: Option<Vec<T>>,
    /// `[C]`.
    pub beta: Option<Vec<T>>,
}

/// `(sum f(a_i, b_i).0, sum f(a_i, b_i).1)` over two slices of one length, in one pass
/// and in lanes as [`lane_sum`].
#[inline(always)]
fn paired_lane_sums<T: Real>(a: &[T], b: &[T], f: impl Fn(T, T) -> (T, T)) -> (f64, f64) {
    let (mut first, mut second) = ([T::ZERO; LANES], [T::ZERO; LANES]);
    let (mut a_chunks, mut b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    for (ca, cb) in (&mut a_chunks).zip(&mut b_chunks) {
        for i in 0..LANES {
            let (u, v) = f(ca[i], cb[i]);
            first[i] += u;
            second[i] += v;
        }
    }
    let mut tail = (0.0, 0.0);
    for (&va, &vb) in a_chunks.remainder().iter().zip(b_chunks.remainder()) {
        let (u, v) = f(va, vb);
        tail.0 += u.to_f64();
        tail.1 += v.to_f64();
    }
    let total = |lanes: &[T; LANES]| lanes.iter().map(|v| v.to_f64()).sum::<f64>();
    (total(&first) + tail.0, total(&second) + tail.1)
}

/// `max(v, 0)`, written as a select so that it vectorises.
#[inline(always)]
fn positive_part<T: Real>(v: T) -> T {
    if v > T::ZERO {
        v
    } else {
        T::ZERO
    }
}

// The per-plane loops below are functions of their own, never inlined, so that a
// profile names them (inlined, they would be anonymous rayon closures); a call per
// plane of hundreds of values costs nothing measurable.

/// `dst = relu?((src - mean) * s + beta)` over one plane: centred first, so that a
/// channel of (nearly) constant values, whose `s = gamma / sqrt(var + eps)` is large,
/// keeps its precision (as `src * s + (beta - mean * s)` would not: the two terms
/// cancel).
#[inline(never)]
fn normalise_plane_into<T: Real>(
    src: &[T],
    dst: &mut [MaybeUninit<T>],
    mean: T,
    s: T,
    beta: T,
    relu: bool,
) {
    if relu {
        for (o, &v) in dst.iter_mut().zip(src) {
            o.write(positive_part((v - mean) * s + beta));
        }
    } else {
        for (o, &v) in dst.iter_mut().zip(src) {
            o.write((v - mean) * s + beta);
        }
    }
}

/// `plane = relu?(plane * s + t)`.
#[inline(never)]
fn affine_plane<T: Real>(plane: &mut [T], s: T, t: T, relu: bool) {
    if relu {
        for v in plane.iter_mut() {
            *v = positive_part(*v * s + t);
        }
    } else {
        for v in plane.iter_mut() {
            *v = *v * s + t;
        }
    }
}

/// `dst = relu?(src * s + t)`, for an input that something else still reads.
#[inline(never)]
fn affine_plane_into<T: Real>(src: &[T], dst: &mut [MaybeUninit<T>], s: T, t: T, relu: bool) {
    if relu {
        for (o, &v) in dst.iter_mut().zip(src) {
            o.write(positive_part(v * s + t));
        }
    } else {
        for (o, &v) in dst.iter_mut().zip(src) {
            o.write(v * s + t);
        }
    }
}

/// Channel `c`'s mean and biased variance, over `count` values.
#[inline(never)]
fn channel_statistics<T: Real>(shape: &NormShape, x: &[T], c: usize, count: f64) -> (T, T) {
    let sum: f64 = shape.planes_of(x, c).map(|p| lane_sum(p, |v| v)).sum();
    let mean = T::from_f64(sum / count);
    let squares: f64 = shape
        .planes_of(x, c)
        .map(|p| {
            lane_sum(p, |v| {
                let d = v - mean;
                d * d
            })
        })
        .sum();
    (mean, T::from_f64(squares / count))
}

/// The mean and biased variance of each channel: the mean first, then the mean squared
/// deviation from it (two passes, as burn's operations compute them).
///
/// # Panics
///
/// When `x` does not hold `shape.len()` values.
pub fn batch_statistics<T: Real>(shape: &NormShape, x: &[T]) -> BatchStatistics<T> {
    assert_eq!(x.len(), shape.len(), "batch_statistics: input length");
    let count = shape.count().max(1) as f64;
    let (mean, variance) = (0..shape.channels)
        .into_par_iter()
        .map(|c| channel_statistics(shape, x, c, count))
        .unzip();
    BatchStatistics { mean, variance }
}

/// `1 / sqrt(var + eps)` per channel, in `f64`.
fn inv_std_of<T: Real>(stats: &BatchStatistics<T>, epsilon: f64) -> Vec<f64> {
    stats
        .variance
        .iter()
        .map(|v| 1.0 / (v.to_f64() + epsilon).sqrt())
        .collect()
}

/// The per-channel scale `gamma / sqrt(var + eps)` of the normalisation
/// `(x - mean) * scale + beta`, from [`inv_std_of`].
fn scale_of<T: Real>(gamma: &[T], inv_std: &[f64]) -> Vec<T> {
    gamma
        .iter()
        .zip(inv_std)
        .map(|(&g, s)| T::from_f64(g.to_f64() * s))
        .collect()
}

/// Checks the lengths of a layer's per-channel parameters.
fn assert_channel_params<T>(shape: &NormShape, gamma: &[T], beta: &[T], what: &str) {
    assert_eq!(gamma.len(), shape.channels, "{what}: gamma length");
    assert_eq!(beta.len(), shape.channels, "{what}: beta length");
}

/// The forward pass: `out = relu?(gamma (x - mean) / sqrt(var + eps) + beta)` with the
/// batch's statistics, which it returns.
///
/// # Panics
///
/// When a slice's length does not match `shape`.
pub fn batch_norm_forward<T: Real>(
    shape: &NormShape,
    x: &[T],
    layer: &NormLayer<'_, T>,
    out: &mut [T],
) -> BatchStatistics<T> {
    forward_into(shape, x, layer, as_uninit(out))
}

/// [`batch_norm_forward`] into a new vector, written once (not zeroed first): the
/// output and the batch's statistics.
///
/// # Panics
///
/// When a slice's length does not match `shape`.
pub fn batch_norm_forward_vec<T: Real>(
    shape: &NormShape,
    x: &[T],
    layer: &NormLayer<'_, T>,
) -> (Vec<T>, BatchStatistics<T>) {
    let mut stats = None;
    let out = written_vec(shape.len(), |out| {
        stats = Some(forward_into(shape, x, layer, out));
    });
    let stats = stats.expect("forward_into always returns the statistics");
    (out, stats)
}

/// The checked forward pass into `out`, every element of which it writes.
fn forward_into<T: Real>(
    shape: &NormShape,
    x: &[T],
    layer: &NormLayer<'_, T>,
    out: &mut [MaybeUninit<T>],
) -> BatchStatistics<T> {
    let NormLayer {
        gamma,
        beta,
        epsilon,
        relu,
    } = *layer;
    assert_channel_params(shape, gamma, beta, "batch_norm_forward");
    assert_eq!(out.len(), shape.len(), "batch_norm_forward: output length");
    let stats = batch_statistics(shape, x);
    if shape.is_empty() {
        return stats;
    }
    let scale = scale_of(gamma, &inv_std_of(&stats, epsilon));
    out.par_chunks_mut(shape.plane)
        .zip(x.par_chunks(shape.plane))
        .enumerate()
        .for_each(|(i, (out_p, x_p))| {
            let c = i % shape.channels;
            normalise_plane_into(x_p, out_p, stats.mean[c], scale[c], beta[c], relu);
        });
    stats
}

/// `values = relu?(values * scale + shift)` per channel, in place: a batch
/// normalisation with fixed statistics (evaluation mode) folded into one affine map.
///
/// # Panics
///
/// When a slice's length does not match `shape`.
pub fn channel_affine_in_place<T: Real>(
    shape: &NormShape,
    values: &mut [T],
    scale: &[T],
    shift: &[T],
    relu: bool,
) {
    assert_eq!(values.len(), shape.len(), "channel_affine: length");
    assert_eq!(scale.len(), shape.channels, "channel_affine: scale length");
    assert_eq!(shift.len(), shape.channels, "channel_affine: shift length");
    if shape.is_empty() {
        return;
    }
    values
        .par_chunks_mut(shape.plane)
        .enumerate()
        .for_each(|(i, plane)| {
            let c = i % shape.channels;
            affine_plane(plane, scale[c], shift[c], relu);
        });
}

/// [`channel_affine_in_place`] into a new vector, written once, leaving `values` as
/// they are (for an input another tensor still reads: copying it first and mapping the
/// copy in place made two passes, the copy on one thread).
///
/// # Panics
///
/// When a slice's length does not match `shape`.
pub fn channel_affine_vec<T: Real>(
    shape: &NormShape,
    values: &[T],
    scale: &[T],
    shift: &[T],
    relu: bool,
) -> Vec<T> {
    assert_eq!(values.len(), shape.len(), "channel_affine: length");
    assert_eq!(scale.len(), shape.channels, "channel_affine: scale length");
    assert_eq!(shift.len(), shape.channels, "channel_affine: shift length");
    written_vec(shape.len(), |out| {
        out.par_chunks_mut(shape.plane.max(1))
            .zip(values.par_chunks(shape.plane.max(1)))
            .enumerate()
            .for_each(|(i, (out_p, plane))| {
                let c = i % shape.channels;
                affine_plane_into(plane, out_p, scale[c], shift[c], relu);
            });
    })
}

/// One channel's output gradient through the ReLU (zero where the forward output was
/// clipped, recomputed with the forward pass's own arithmetic so that the mask is the
/// same) and the input's deviation from the mean.
#[derive(Clone, Copy)]
struct ReluGate<T> {
    scale: T,
    beta: T,
    mean: T,
    relu: bool,
}

impl<T: Real> ReluGate<T> {
    /// `(g', x - mean)` for input `v` and output gradient `g`.
    #[inline(always)]
    fn apply(&self, v: T, g: T) -> (T, T) {
        let deviation = v - self.mean;
        let open = !self.relu || deviation * self.scale + self.beta > T::ZERO;
        (if open { g } else { T::ZERO }, deviation)
    }
}

/// Channel `c`'s `(sum g', sum g' (x - mean))`.
#[inline(never)]
fn channel_grad_sums<T: Real>(
    shape: &NormShape,
    x: &[T],
    grad: &[T],
    c: usize,
    gate: ReluGate<T>,
) -> (f64, f64) {
    shape.planes_of(x, c).zip(shape.planes_of(grad, c)).fold(
        (0.0, 0.0),
        |(sum_g, sum_gd), (x_p, g_p)| {
            let (g, gd) = paired_lane_sums(x_p, g_p, |v, g| {
                let (g, d) = gate.apply(v, g);
                (g, g * d)
            });
            (sum_g + g, sum_gd + gd)
        },
    )
}

/// One plane of the input gradient: `dx = a g' + b (x - mean) + offset`.
#[inline(never)]
fn input_grad_plane<T: Real>(
    x_p: &[T],
    g_p: &[T],
    dx_p: &mut [MaybeUninit<T>],
    gate: ReluGate<T>,
    (a, b, offset): (T, T, T),
) {
    for ((d, &v), &g) in dx_p.iter_mut().zip(x_p).zip(g_p) {
        let (g, deviation) = gate.apply(v, g);
        d.write(a * g + b * deviation + offset);
    }
}

/// The backward pass of [`batch_norm_forward`] given the output gradient `grad` and the
/// statistics the forward pass returned.
///
/// With `g'` the output gradient through the ReLU (zero where the forward output was
/// clipped), `s = 1 / sqrt(var + eps)` and `M` values per channel: `d gamma = s sum g' (x - mean)`,
/// `d beta = sum g'`, and `dx = gamma s g' - gamma s (sum g') / M - gamma s^3 (x - mean) (sum g' (x - mean)) / M`.
///
/// # Panics
///
/// When a slice's length does not match `shape`.
pub fn batch_norm_backward<T: Real>(
    shape: &NormShape,
    x: &[T],
    layer: &NormLayer<'_, T>,
    stats: &BatchStatistics<T>,
    grad: &[T],
    wanted: WantedNormGrads,
) -> NormGradValues<T> {
    let NormLayer {
        gamma,
        beta,
        epsilon,
        relu,
    } = *layer;
    assert_channel_params(shape, gamma, beta, "batch_norm_backward");
    assert_eq!(x.len(), shape.len(), "batch_norm_backward: input length");
    assert_eq!(
        grad.len(),
        shape.len(),
        "batch_norm_backward: gradient length"
    );
    assert_eq!(
        stats.mean.len(),
        shape.channels,
        "batch_norm_backward: mean length"
    );
    assert_eq!(
        stats.variance.len(),
        shape.channels,
        "batch_norm_backward: variance length"
    );
    let inv_std = inv_std_of(stats, epsilon);
    let scale = scale_of(gamma, &inv_std);
    let gate = |c: usize| ReluGate {
        scale: scale[c],
        beta: beta[c],
        mean: stats.mean[c],
        relu,
    };
    // Pass 1: sum g' and sum g' (x - mean) per channel.
    let sums: Vec<(f64, f64)> = (0..shape.channels)
        .into_par_iter()
        .map(|c| channel_grad_sums(shape, x, grad, c, gate(c)))
        .collect();
    let count = shape.count().max(1) as f64;
    // Pass 2: dx = a g' + b (x - mean) + c per channel.
    let dx = wanted.x.then(|| {
        let coefficients: Vec<(T, T, T)> = (0..shape.channels)
            .map(|c| {
                let (sum_g, sum_gd) = sums[c];
                let a = gamma[c].to_f64() * inv_std[c];
                let b = -a * inv_std[c] * inv_std[c] * sum_gd / count;
                let offset = -a * sum_g / count;
                (T::from_f64(a), T::from_f64(b), T::from_f64(offset))
            })
            .collect();
        // Every plane is written (an empty shape has none), so dx is not zeroed first.
        written_vec(shape.len(), |dx| {
            dx.par_chunks_mut(shape.plane.max(1))
                .zip(
                    x.par_chunks(shape.plane.max(1))
                        .zip(grad.par_chunks(shape.plane.max(1))),
                )
                .enumerate()
                .for_each(|(i, (dx_p, (x_p, g_p)))| {
                    let c = i % shape.channels;
                    input_grad_plane(x_p, g_p, dx_p, gate(c), coefficients[c]);
                });
        })
    });
    NormGradValues {
        x: dx,
        gamma: wanted.gamma.then(|| {
            sums.iter()
                .zip(&inv_std)
                .map(|(&(_, sum_gd), s)| T::from_f64(sum_gd * s))
                .collect()
        }),
        beta: wanted
            .beta
            .then(|| sums.iter().map(|&(sum_g, _)| T::from_f64(sum_g)).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::real::test_values as values;

    /// The layer written out element by element, its loss `sum(out * r)`.
    fn loss(
        shape: &NormShape,
        x: &[f64],
        gamma: &[f64],
        beta: &[f64],
        relu: bool,
        r: &[f64],
    ) -> f64 {
        let mut out = vec![0.0; shape.len()];
        let layer = NormLayer {
            gamma,
            beta,
            epsilon: 1e-5,
            relu,
        };
        batch_norm_forward(shape, x, &layer, &mut out);
        out.iter().zip(r).map(|(o, r)| o * r).sum()
    }

    /// Forward values against the definition, gradients against central differences
    /// of the forward pass, with and without the ReLU, on planes shorter and longer
    /// than a lane row.
    #[test]
    fn the_backward_pass_is_the_derivative_of_the_forward_pass() {
        for (batch, channels, plane) in [(3, 2, 5), (2, 3, 37), (4, 1, 16), (1, 2, 3)] {
            let shape = NormShape {
                batch,
                channels,
                plane,
            };
            let x: Vec<f64> = values(shape.len(), 1)
                .iter()
                .map(|v| 3.0 * v + 0.5)
                .collect();
            let gamma: Vec<f64> = values(channels, 2).iter().map(|v| 1.0 + v).collect();
            let beta = values(channels, 3);
            let r = values(shape.len(), 4);
            for relu in [false, true] {
                let mut out = vec![0.0; shape.len()];
                let layer = NormLayer {
                    gamma: &gamma,
                    beta: &beta,
                    epsilon: 1e-5,
                    relu,
                };
                let stats = batch_norm_forward(&shape, &x, &layer, &mut out);
                for c in 0..channels {
                    let own: Vec<f64> = shape.planes_of(&x, c).flatten().copied().collect();
                    let mean = own.iter().sum::<f64>() / own.len() as f64;
                    let var =
                        own.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / own.len() as f64;
                    assert!((stats.mean[c] - mean).abs() < 1e-12);
                    assert!((stats.variance[c] - var).abs() < 1e-12);
                    for (o, v) in shape.planes_of(&out, c).flatten().zip(&own) {
                        let y = gamma[c] * (v - mean) / (var + 1e-5).sqrt() + beta[c];
                        let y = if relu { y.max(0.0) } else { y };
                        assert!((o - y).abs() < 1e-12, "forward value");
                    }
                }
                let wanted = WantedNormGrads {
                    x: true,
                    gamma: true,
                    beta: true,
                };
                let grads = batch_norm_backward(&shape, &x, &layer, &stats, &r, wanted);
                let h = 1e-6;
                let numeric = |values: &[f64], i: usize, f: &dyn Fn(&[f64]) -> f64| {
                    let (mut up, mut down) = (values.to_vec(), values.to_vec());
                    up[i] += h;
                    down[i] -= h;
                    (f(&up) - f(&down)) / (2.0 * h)
                };
                let dx = grads.x.as_deref().unwrap();
                for (i, &d) in dx.iter().enumerate() {
                    let n = numeric(&x, i, &|x| loss(&shape, x, &gamma, &beta, relu, &r));
                    assert!((d - n).abs() < 1e-5, "dx[{i}]: {d} vs {n} (relu {relu})");
                }
                for (i, &d) in grads.gamma.as_deref().unwrap().iter().enumerate() {
                    let n = numeric(&gamma, i, &|g| loss(&shape, &x, g, &beta, relu, &r));
                    assert!((d - n).abs() < 1e-5, "dgamma[{i}]");
                }
                for (i, &d) in grads.beta.as_deref().unwrap().iter().enumerate() {
                    let n = numeric(&beta, i, &|b| loss(&shape, &x, &gamma, b, relu, &r));
                    assert!((d - n).abs() < 1e-5, "dbeta[{i}]");
                }
            }
        }
    }

    #[test]
    fn the_channel_affine_map_is_the_definition() {
        let shape = NormShape {
            batch: 2,
            channels: 3,
            plane: 19,
        };
        let x = values(shape.len(), 6);
        let (scale, shift) = (vec![0.5, -2.0, 1.5], vec![0.1, 0.2, -0.3]);
        for relu in [false, true] {
            let mut in_place = x.clone();
            channel_affine_in_place(&shape, &mut in_place, &scale, &shift, relu);
            let into_new = channel_affine_vec(&shape, &x, &scale, &shift, relu);
            for y in [in_place, into_new] {
                for (i, (&y, &x)) in y.iter().zip(&x).enumerate() {
                    let c = (i / shape.plane) % shape.channels;
                    let want = x * scale[c] + shift[c];
                    assert_eq!(y, if relu { want.max(0.0) } else { want });
                }
            }
        }
    }

    #[test]
    fn only_the_wanted_gradients_are_computed() {
        let shape = NormShape {
            batch: 2,
            channels: 2,
            plane: 4,
        };
        let x = values(shape.len(), 5);
        let (gamma, beta) = (vec![1.0, 2.0], vec![0.0, 0.5]);
        let stats = batch_statistics(&shape, &x);
        let wanted = WantedNormGrads {
            x: false,
            gamma: true,
            beta: false,
        };
        let layer = NormLayer {
            gamma: &gamma,
            beta: &beta,
            epsilon: 1e-5,
            relu: true,
        };
        let grads = batch_norm_backward(&shape, &x, &layer, &stats, &x, wanted);
        assert!(grads.x.is_none() && grads.beta.is_none());
        assert_eq!(grads.gamma.map(|g| g.len()), Some(2));
    }
}
