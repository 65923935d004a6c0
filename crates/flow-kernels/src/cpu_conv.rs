//! The convolution of the st-networks on plain slices: stride 1, dilation 1, one group,
//! the same zero padding on every side, `NCHW` layout, `f32` or `f64`.
//!
//! Each of the three passes is an `im2col` (or `col2im`) per image around one matrix
//! product, so nearly all the arithmetic runs in `gemm`'s micro-kernels:
//!
//! - forward: `out_n[Co, P] = W[Co, C*K*K] · col_n[C*K*K, P]` (+ bias), `P = Ho*Wo`;
//! - weight gradient: `dW += g_n[Co, P] · col_nᵀ`, bias gradient `db += Σ_P g_n`;
//! - input gradient: `dcol_n = Wᵀ · g_n`, scattered back onto `dx_n` by `col2im`.
//!
//! Images are split over rayon's threads, each with its own column buffer and its own
//! partial weight gradient (summed at the end, in a fixed order, so the result does
//! not depend on scheduling). A 1x1 convolution without padding needs no columns: the
//! image itself is the matrix.

use gemm::Parallelism;
use rayon::prelude::*;

/// The element types the kernels run on (the ones `gemm` multiplies natively).
pub trait Real:
    Copy + Send + Sync + 'static + std::ops::Add<Output = Self> + std::ops::AddAssign + PartialEq
{
    /// Additive identity.
    const ZERO: Self;
    /// Multiplicative identity.
    const ONE: Self;
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

/// The shape of one convolution: input `[batch, channels_in, height, width]`, kernel
/// `[channels_out, channels_in, kernel, kernel]`, zero `padding` on every side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    /// Images in the batch.
    pub batch: usize,
    /// Input channels.
    pub channels_in: usize,
    /// Output channels.
    pub channels_out: usize,
    /// Input height.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// Kernel side.
    pub kernel: usize,
    /// Zero padding on each side.
    pub padding: usize,
}

impl ConvShape {
    /// Output height (`height + 2 padding - kernel + 1`); zero when the kernel does not fit.
    pub fn out_height(&self) -> usize {
        (self.height + 2 * self.padding + 1).saturating_sub(self.kernel)
    }

    /// Output width.
    pub fn out_width(&self) -> usize {
        (self.width + 2 * self.padding + 1).saturating_sub(self.kernel)
    }

    /// Output positions per channel.
    fn out_plane(&self) -> usize {
        self.out_height() * self.out_width()
    }

    /// Input positions per channel.
    fn in_plane(&self) -> usize {
        self.height * self.width
    }

    /// Rows of the column matrix: one per (input channel, kernel row, kernel column).
    fn col_rows(&self) -> usize {
        self.channels_in * self.kernel * self.kernel
    }

    /// Whether the image itself is the column matrix.
    fn is_pointwise(&self) -> bool {
        self.kernel == 1 && self.padding == 0
    }

    /// Elements of the input, the kernel and the output.
    pub fn lens(&self) -> (usize, usize, usize) {
        (
            self.batch * self.channels_in * self.in_plane(),
            self.channels_out * self.col_rows(),
            self.batch * self.channels_out * self.out_plane(),
        )
    }
}

/// Copies image `x` (`[C, H, W]`) into the column matrix `col` (`[C*K*K, Ho*Wo]`),
/// zeros where the kernel reaches into the padding.
fn im2col<T: Real>(shape: &ConvShape, x: &[T], col: &mut [T]) {
    let (h, w, k, p) = (shape.height, shape.width, shape.kernel, shape.padding);
    let (ho, wo) = (shape.out_height(), shape.out_width());
    let mut rows = col.chunks_exact_mut(ho * wo);
    for plane in x.chunks_exact(h * w) {
        for ky in 0..k {
            for kx in 0..k {
                let Some(row) = rows.next() else { return };
                // Output columns ox whose input column ox + kx - p lies inside the image.
                let first = p.saturating_sub(kx);
                let last = (w + p).saturating_sub(kx).min(wo);
                for (oy, out_row) in row.chunks_exact_mut(wo).enumerate() {
                    let iy = oy + ky;
                    if iy < p || iy - p >= h || first >= last {
                        out_row.fill(T::ZERO);
                        continue;
                    }
                    let in_row = &plane[(iy - p) * w..(iy - p + 1) * w];
                    out_row[..first].fill(T::ZERO);
                    out_row[first..last].copy_from_slice(&in_row[first + kx - p..last + kx - p]);
                    out_row[last..].fill(T::ZERO);
                }
            }
        }
    }
}

/// Adds the column matrix `col` back onto image `dx` (the adjoint of [`im2col`]).
fn col2im_add<T: Real>(shape: &ConvShape, col: &[T], dx: &mut [T]) {
    let (h, w, k, p) = (shape.height, shape.width, shape.kernel, shape.padding);
    let (ho, wo) = (shape.out_height(), shape.out_width());
    let mut rows = col.chunks_exact(ho * wo);
    for plane in dx.chunks_exact_mut(h * w) {
        for ky in 0..k {
            for kx in 0..k {
                let Some(row) = rows.next() else { return };
                let first = p.saturating_sub(kx);
                let last = (w + p).saturating_sub(kx).min(wo);
                if first >= last {
                    continue;
                }
                for (oy, col_row) in row.chunks_exact(wo).enumerate() {
                    let iy = oy + ky;
                    if iy < p || iy - p >= h {
                        continue;
                    }
                    let in_row = &mut plane[(iy - p) * w + first + kx - p..];
                    for (d, c) in in_row.iter_mut().zip(&col_row[first..last]) {
                        *d += *c;
                    }
                }
            }
        }
    }
}

/// `dst[m, n] = (accumulate ? dst : 0) + lhs[m, k] · rhs[k, n]`, all row-major unless
/// the strides say otherwise (`(row stride, column stride)` for each operand).
#[allow(clippy::too_many_arguments)] // mirrors gemm's own signature, private
fn matmul<T: Real>(
    (m, n, k): (usize, usize, usize),
    dst: &mut [T],
    accumulate: bool,
    lhs: &[T],
    (lhs_rs, lhs_cs): (usize, usize),
    rhs: &[T],
    (rhs_rs, rhs_cs): (usize, usize),
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(T::ZERO);
        }
        return;
    }
    // The largest element each operand's strides reach must lie inside its slice.
    assert!(dst.len() >= m * n, "matmul: destination too short");
    assert!(
        lhs.len() > (m - 1) * lhs_rs + (k - 1) * lhs_cs,
        "matmul: lhs too short"
    );
    assert!(
        rhs.len() > (k - 1) * rhs_rs + (n - 1) * rhs_cs,
        "matmul: rhs too short"
    );
    // SAFETY: the assertions above keep every access that the strides describe inside
    // the three slices, and `dst` is borrowed mutably, so it aliases neither operand.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

/// How many images each rayon task takes: enough tasks to keep every thread busy,
/// few enough that the per-task buffers stay small.
fn images_per_task(batch: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    batch.div_ceil(threads).max(1)
}

/// The forward convolution: `out` (`[N, Co, Ho, Wo]`) from `x` (`[N, C, H, W]`),
/// `weight` (`[Co, C, K, K]`) and an optional `bias` (`[Co]`).
///
/// # Panics
///
/// When a slice's length does not match `shape`.
pub fn conv2d_forward<T: Real>(
    shape: &ConvShape,
    x: &[T],
    weight: &[T],
    bias: Option<&[T]>,
    out: &mut [T],
) {
    let (x_len, w_len, out_len) = shape.lens();
    assert_eq!(x.len(), x_len, "conv2d_forward: input length");
    assert_eq!(weight.len(), w_len, "conv2d_forward: weight length");
    assert_eq!(out.len(), out_len, "conv2d_forward: output length");
    if let Some(bias) = bias {
        assert_eq!(
            bias.len(),
            shape.channels_out,
            "conv2d_forward: bias length"
        );
    }
    let (in_image, out_plane, rows) = (
        shape.channels_in * shape.in_plane(),
        shape.out_plane(),
        shape.col_rows(),
    );
    let out_image = shape.channels_out * out_plane;
    if out_image == 0 {
        return;
    }
    let per_task = images_per_task(shape.batch);
    out.par_chunks_mut(per_task * out_image)
        .zip(x.par_chunks(per_task * in_image.max(1)))
        .for_each(|(out_images, x_images)| {
            let mut col = if shape.is_pointwise() {
                Vec::new()
            } else {
                vec![T::ZERO; rows * out_plane]
            };
            for (out_n, x_n) in out_images
                .chunks_exact_mut(out_image)
                .zip(x_images.chunks_exact(in_image.max(1)))
            {
                let col_n: &[T] = if shape.is_pointwise() {
                    x_n
                } else {
                    im2col(shape, x_n, &mut col);
                    &col
                };
                if let Some(bias) = bias {
                    for (plane, b) in out_n.chunks_exact_mut(out_plane).zip(bias) {
                        plane.fill(*b);
                    }
                }
                matmul(
                    (shape.channels_out, out_plane, rows),
                    out_n,
                    bias.is_some(),
                    weight,
                    (rows, 1),
                    col_n,
                    (out_plane, 1),
                );
            }
        });
}

/// Which gradients [`conv2d_backward`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WantedGrads {
    /// The input's.
    pub x: bool,
    /// The kernel's.
    pub weight: bool,
    /// The bias's.
    pub bias: bool,
}

/// The gradients of a convolution, each present when it was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvGradValues<T> {
    /// `[N, C, H, W]`.
    pub x: Option<Vec<T>>,
    /// `[Co, C, K, K]`.
    pub weight: Option<Vec<T>>,
    /// `[Co]`.
    pub bias: Option<Vec<T>>,
}

/// What one rayon task adds up: its partial kernel and bias gradients.
struct PartialGrads<T> {
    weight: Vec<T>,
    bias: Vec<T>,
}

/// The backward pass: gradients of a loss with respect to the input, kernel and bias
/// of [`conv2d_forward`], given the output gradient `grad` (`[N, Co, Ho, Wo]`).
///
/// # Panics
///
/// When a slice's length does not match `shape`.
pub fn conv2d_backward<T: Real>(
    shape: &ConvShape,
    x: &[T],
    weight: &[T],
    grad: &[T],
    wanted: WantedGrads,
) -> ConvGradValues<T> {
    let (x_len, w_len, out_len) = shape.lens();
    assert_eq!(x.len(), x_len, "conv2d_backward: input length");
    assert_eq!(weight.len(), w_len, "conv2d_backward: weight length");
    assert_eq!(grad.len(), out_len, "conv2d_backward: gradient length");
    let (in_image, out_plane, rows, co) = (
        shape.channels_in * shape.in_plane(),
        shape.out_plane(),
        shape.col_rows(),
        shape.channels_out,
    );
    let out_image = co * out_plane;
    let mut dx = wanted.x.then(|| vec![T::ZERO; x_len]);
    if out_image == 0 || in_image == 0 {
        return ConvGradValues {
            x: dx,
            weight: wanted.weight.then(|| vec![T::ZERO; w_len]),
            bias: wanted.bias.then(|| vec![T::ZERO; co]),
        };
    }
    let per_task = images_per_task(shape.batch);
    let task = |x_images: &[T], g_images: &[T], dx_images: Option<&mut [T]>| {
        let mut partial = PartialGrads {
            weight: if wanted.weight {
                vec![T::ZERO; w_len]
            } else {
                Vec::new()
            },
            bias: if wanted.bias {
                vec![T::ZERO; co]
            } else {
                Vec::new()
            },
        };
        let pointwise = shape.is_pointwise();
        let mut col = if pointwise {
            Vec::new()
        } else {
            vec![T::ZERO; rows * out_plane]
        };
        let mut dx_images = dx_images;
        for (n, (x_n, g_n)) in x_images
            .chunks_exact(in_image)
            .zip(g_images.chunks_exact(out_image))
            .enumerate()
        {
            if wanted.weight {
                let col_n: &[T] = if pointwise {
                    x_n
                } else {
                    im2col(shape, x_n, &mut col);
                    &col
                };
                // dW[Co, rows] += g_n[Co, P] · col_nᵀ[P, rows]
                matmul(
                    (co, rows, out_plane),
                    &mut partial.weight,
                    n > 0,
                    g_n,
                    (out_plane, 1),
                    col_n,
                    (1, out_plane),
                );
            }
            if wanted.bias {
                for (b, plane) in partial.bias.iter_mut().zip(g_n.chunks_exact(out_plane)) {
                    for v in plane {
                        *b += *v;
                    }
                }
            }
            if let Some(dx_images) = dx_images.as_deref_mut() {
                let dx_n = &mut dx_images[n * in_image..(n + 1) * in_image];
                // dcol[rows, P] = Wᵀ[rows, Co] · g_n[Co, P]
                if pointwise {
                    matmul(
                        (rows, out_plane, co),
                        dx_n,
                        false,
                        weight,
                        (1, rows),
                        g_n,
                        (out_plane, 1),
                    );
                } else {
                    matmul(
                        (rows, out_plane, co),
                        &mut col,
                        false,
                        weight,
                        (1, rows),
                        g_n,
                        (out_plane, 1),
                    );
                    col2im_add(shape, &col, dx_n);
                }
            }
        }
        partial
    };
    let partials: Vec<PartialGrads<T>> = match dx.as_deref_mut() {
        Some(dx) => dx
            .par_chunks_mut(per_task * in_image)
            .zip(x.par_chunks(per_task * in_image))
            .zip(grad.par_chunks(per_task * out_image))
            .map(|((dx_images, x_images), g_images)| task(x_images, g_images, Some(dx_images)))
            .collect(),
        None => x
            .par_chunks(per_task * in_image)
            .zip(grad.par_chunks(per_task * out_image))
            .map(|(x_images, g_images)| task(x_images, g_images, None))
            .collect(),
    };
    let sum = |pick: fn(&PartialGrads<T>) -> &Vec<T>, len: usize| {
        let mut total = vec![T::ZERO; len];
        for partial in &partials {
            for (t, v) in total.iter_mut().zip(pick(partial)) {
                *t += *v;
            }
        }
        total
    };
    ConvGradValues {
        x: dx,
        weight: wanted.weight.then(|| sum(|p| &p.weight, w_len)),
        bias: wanted.bias.then(|| sum(|p| &p.bias, co)),
    }
}
