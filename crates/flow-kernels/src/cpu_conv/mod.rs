//! The convolution of the st-networks on plain slices: stride 1, dilation 1, one group,
//! the same zero padding on every side, `NCHW` layout, `f32` or `f64`.
//!
//! Nearly all the arithmetic runs in `gemm`'s micro-kernels; how an image becomes
//! matrices is a [`Lowering`]:
//!
//! - [`columns`]: one product over an `im2col` column matrix (any padding; the default);
//! - pointwise: a 1x1 kernel without padding is one product over the image itself;
//! - [`shifted`]: `K*K` products over the zero-padded image read in place, one per
//!   kernel tap (`padding < kernel`), with `FLOWS_OOD_KERNELS=shifted`: it saves the
//!   column copies but was no faster (see `chosen_lowering`).
//!
//! Images are split over rayon's threads, each with its own buffers and its own partial
//! kernel gradient (summed at the end, in a fixed order, so the result does not depend
//! on scheduling).

mod columns;
mod shifted;

use std::mem::MaybeUninit;

use gemm::Parallelism;
use rayon::prelude::*;

pub use crate::real::Real;
use crate::uninit::{as_uninit, assume_init, written_vec};

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

    /// Elements of the input, the kernel and the output.
    pub fn lens(&self) -> (usize, usize, usize) {
        (
            self.batch * self.channels_in * self.in_plane(),
            self.channels_out * self.col_rows(),
            self.batch * self.channels_out * self.out_plane(),
        )
    }

    /// How this convolution's images become matrices.
    pub fn lowering(&self) -> Lowering {
        if self.kernel == 1 && self.padding == 0 {
            Lowering::Pointwise
        } else if shifted::supports(self) {
            Lowering::Shifted
        } else {
            Lowering::Columns
        }
    }
}

/// How an image becomes the operands of matrix products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lowering {
    /// A 1x1 kernel without padding: the image is the matrix.
    Pointwise,
    /// One product per kernel tap over the padded image read in place ([`shifted`]).
    Shifted,
    /// One product over an `im2col` column matrix ([`columns`]).
    Columns,
}

/// A matrix operand: a slice read with a row and a column stride.
#[derive(Debug, Clone, Copy)]
struct Operand<'a, T> {
    data: &'a [T],
    row_stride: usize,
    col_stride: usize,
}

impl<'a, T> Operand<'a, T> {
    fn new(data: &'a [T], row_stride: usize, col_stride: usize) -> Self {
        Self {
            data,
            row_stride,
            col_stride,
        }
    }

    /// Whether a `rows x cols` matrix with these strides lies inside the slice.
    fn fits(&self, rows: usize, cols: usize) -> bool {
        self.data.len() > (rows - 1) * self.row_stride + (cols - 1) * self.col_stride
    }
}

/// `dst[m, n] = (accumulate ? dst : 0) + lhs[m, k] · rhs[k, n]`, `dst` given as
/// `(slice, row stride, column stride)`.
///
/// # Panics
///
/// When a matrix the strides describe does not lie inside its slice.
fn matmul<T: Real>(
    dims: (usize, usize, usize),
    (dst, dst_rs, dst_cs): (&mut [T], usize, usize),
    accumulate: bool,
    lhs: Operand<'_, T>,
    rhs: Operand<'_, T>,
) {
    if accumulate {
        product(dims, (dst, dst_rs, dst_cs), true, lhs, rhs);
    } else {
        product(dims, (as_uninit(dst), dst_rs, dst_cs), false, lhs, rhs);
    }
}

/// `dst[m, n] = lhs[m, k] · rhs[k, n]` over memory that need not be initialised: every
/// element the strides describe is written, none is read.
///
/// # Panics
///
/// When a matrix the strides describe does not lie inside its slice.
fn matmul_into<T: Real>(
    dims: (usize, usize, usize),
    dst: (&mut [MaybeUninit<T>], usize, usize),
    lhs: Operand<'_, T>,
    rhs: Operand<'_, T>,
) {
    product(dims, dst, false, lhs, rhs);
}

/// The product behind [`matmul`] and [`matmul_into`]; `dst` must be initialised where
/// the strides describe it when `accumulate` is set.
fn product<T: Real, D: Copy>(
    (m, n, k): (usize, usize, usize),
    (dst, dst_rs, dst_cs): (&mut [D], usize, usize),
    accumulate: bool,
    lhs: Operand<'_, T>,
    rhs: Operand<'_, T>,
) {
    const { assert!(std::mem::size_of::<D>() == std::mem::size_of::<T>()) };
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        dst.len() > (m - 1) * dst_rs + (n - 1) * dst_cs,
        "matmul: destination too short"
    );
    let dst_ptr = dst.as_mut_ptr().cast::<T>();
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                for j in 0..n {
                    // SAFETY: inside `dst` by the assertion above.
                    unsafe { dst_ptr.add(i * dst_rs + j * dst_cs).write(T::ZERO) };
                }
            }
        }
        return;
    }
    assert!(lhs.fits(m, k), "matmul: lhs too short");
    assert!(rhs.fits(k, n), "matmul: rhs too short");
    // SAFETY: the assertions above keep every access that the strides describe inside
    // the three slices, and `dst` is borrowed mutably, so it aliases neither operand.
    // Without `accumulate`, gemm writes the destination without reading it.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst_ptr,
            dst_cs as isize,
            dst_rs as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

/// A zeroed buffer of `len` values when `wanted`, else an empty one (a gradient or
/// scratch buffer that this pass does not use).
fn zeros_if<T: Real>(len: usize, wanted: bool) -> Vec<T> {
    if wanted {
        vec![T::ZERO; len]
    } else {
        Vec::new()
    }
}

/// How many images each rayon task takes: enough tasks to keep every thread busy,
/// few enough that the per-task buffers stay small.
fn images_per_task(batch: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    batch.div_ceil(threads).max(1)
}

/// The lowering this process uses for `shape`: column matrices, unless
/// `FLOWS_OOD_KERNELS=shifted` asks for [`ConvShape::lowering`]'s choice
/// ([`crate::KERNELS_ENV`]). Measured side by side, the shifted products remove
/// `im2col` and `col2im` from the profile but make gemm slower by about as much (many
/// products with `k = C`); in alternating runs (DEVELOPERS.md) the two lowerings differ
/// by less than the run-to-run drift, so they are opt-in until they clearly win.
fn chosen_lowering(shape: &ConvShape) -> Lowering {
    match shape.lowering() {
        Lowering::Shifted if crate::kernel_choice() != crate::KernelChoice::Shifted => {
            Lowering::Columns
        }
        lowering => lowering,
    }
}

/// One task's forward buffers, by lowering.
enum ForwardScratch<T> {
    Pointwise,
    Shifted(shifted::Forward<T>),
    Columns(Vec<T>),
}

impl<T: Real> ForwardScratch<T> {
    fn new(shape: &ConvShape, lowering: Lowering) -> Self {
        match lowering {
            Lowering::Pointwise => Self::Pointwise,
            Lowering::Shifted => Self::Shifted(shifted::Forward::new(shape)),
            Lowering::Columns => Self::Columns(vec![T::ZERO; shape.col_rows() * shape.out_plane()]),
        }
    }

    /// Writes every element of `out_n`.
    fn image(
        &mut self,
        shape: &ConvShape,
        x_n: &[T],
        weight: &[T],
        bias: Option<&[T]>,
        out_n: &mut [MaybeUninit<T>],
    ) {
        match self {
            Self::Pointwise => columns::forward_image(shape, x_n, weight, bias, out_n),
            Self::Shifted(scratch) => scratch.image(shape, x_n, weight, bias, out_n),
            Self::Columns(col) => {
                columns::im2col(shape, x_n, col);
                columns::forward_image(shape, col, weight, bias, out_n);
            }
        }
    }
}

/// The forward convolution: `out` (`[N, Co, Ho, Wo]`) from `x` (`[N, C, H, W]`),
/// `weight` (`[Co, C, K, K]`) and an optional `bias` (`[Co]`), lowered as this process
/// chooses ([`crate::KERNELS_ENV`]).
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
    conv2d_forward_lowered(shape, chosen_lowering(shape), x, weight, bias, out);
}

/// [`conv2d_forward`] into a new vector, which is written once (not zeroed first: on a
/// batch of 256 images that fill was 6% of a scoring pass).
///
/// # Panics
///
/// When a slice's length does not match `shape`.
pub fn conv2d_forward_vec<T: Real>(
    shape: &ConvShape,
    x: &[T],
    weight: &[T],
    bias: Option<&[T]>,
) -> Vec<T> {
    let (_, _, out_len) = shape.lens();
    let lowering = chosen_lowering(shape);
    // Every lowering writes each output element (`ForwardScratch::image`).
    written_vec(out_len, |out| {
        forward_into(shape, lowering, x, weight, bias, out);
    })
}

/// Whether `lowering` computes `shape`: a pointwise one only a 1x1 kernel without
/// padding, a shifted one only a padding smaller than the kernel.
pub fn lowering_applies(shape: &ConvShape, lowering: Lowering) -> bool {
    match lowering {
        Lowering::Pointwise => shape.kernel == 1 && shape.padding == 0,
        Lowering::Shifted => shifted::supports(shape),
        Lowering::Columns => true,
    }
}

/// [`conv2d_forward`] with the lowering given (to compare lowerings in one process).
///
/// # Panics
///
/// When a slice's length does not match `shape`, or the lowering does not apply
/// ([`lowering_applies`]).
pub fn conv2d_forward_lowered<T: Real>(
    shape: &ConvShape,
    lowering: Lowering,
    x: &[T],
    weight: &[T],
    bias: Option<&[T]>,
    out: &mut [T],
) {
    forward_into(shape, lowering, x, weight, bias, as_uninit(out));
}

/// The checked forward pass into `out`, every element of which it writes.
fn forward_into<T: Real>(
    shape: &ConvShape,
    lowering: Lowering,
    x: &[T],
    weight: &[T],
    bias: Option<&[T]>,
    out: &mut [MaybeUninit<T>],
) {
    assert!(
        lowering_applies(shape, lowering),
        "conv2d_forward: {lowering:?} does not apply to {shape:?}"
    );
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
    let in_image = shape.channels_in * shape.in_plane();
    let out_image = shape.channels_out * shape.out_plane();
    if out_image == 0 {
        return;
    }
    let per_task = images_per_task(shape.batch);
    out.par_chunks_mut(per_task * out_image)
        .zip(x.par_chunks(per_task * in_image.max(1)))
        .for_each(|(out_images, x_images)| {
            let mut scratch = ForwardScratch::new(shape, lowering);
            for (out_n, x_n) in out_images
                .chunks_exact_mut(out_image)
                .zip(x_images.chunks_exact(in_image.max(1)))
            {
                scratch.image(shape, x_n, weight, bias, out_n);
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
    /// The kernel gradient transposed, `[C*K*K, Co]`: with the output channels as the
    /// destination's contiguous axis, gemm multiplies the column matrix without packing
    /// it first, which was the largest cost of the backward pass after the products
    /// themselves (`columns::weight_grad`).
    weight_t: Vec<T>,
    bias: Vec<T>,
}

/// `[C*K*K, Co]` -> `[Co, C*K*K]`.
fn untranspose_weight<T: Real>(shape: &ConvShape, weight_t: &[T]) -> Vec<T> {
    let (rows, co) = (shape.col_rows(), shape.channels_out);
    let mut weight = vec![T::ZERO; weight_t.len()];
    for (r, row) in weight_t.chunks_exact(co).enumerate() {
        for (o, v) in row.iter().enumerate() {
            weight[o * rows + r] = *v;
        }
    }
    weight
}

/// One task's backward buffers, by lowering.
enum BackwardScratch<T> {
    Pointwise,
    Shifted(shifted::Backward<T>),
    Columns(Vec<T>),
}

impl<T: Real> BackwardScratch<T> {
    fn new(shape: &ConvShape, lowering: Lowering, wanted: WantedGrads) -> Self {
        match lowering {
            Lowering::Pointwise => Self::Pointwise,
            Lowering::Shifted => {
                Self::Shifted(shifted::Backward::new(shape, wanted.x, wanted.weight))
            }
            Lowering::Columns => Self::Columns(vec![T::ZERO; columns::backward_col_len(shape)]),
        }
    }

    fn weight_grad(&mut self, shape: &ConvShape, x_n: &[T], g_n: &[T], dw_t: &mut [T]) {
        match self {
            Self::Pointwise => columns::weight_grad(shape, x_n, g_n, dw_t),
            Self::Shifted(scratch) => scratch.weight_grad(shape, x_n, g_n, dw_t),
            Self::Columns(col) => {
                columns::im2col(shape, x_n, col);
                columns::weight_grad(shape, col, g_n, dw_t);
            }
        }
    }

    /// Writes every element of `dx_n`. `flipped`: the input gradient's kernel, when it
    /// is a convolution (column matrices only; see `columns::input_grad_is_convolution`).
    fn input_grad(
        &mut self,
        shape: &ConvShape,
        weight: &[T],
        flipped: Option<&[T]>,
        g_n: &[T],
        dx_n: &mut [MaybeUninit<T>],
    ) {
        match self {
            Self::Pointwise => columns::input_grad_pointwise(shape, weight, g_n, dx_n),
            Self::Shifted(scratch) => scratch.input_grad(shape, weight, g_n, dx_n),
            Self::Columns(col) => match flipped {
                Some(flipped) => columns::input_grad_by_convolution(shape, flipped, g_n, col, dx_n),
                None => columns::input_grad(shape, weight, g_n, col, dx_n),
            },
        }
    }
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
    conv2d_backward_lowered(shape, chosen_lowering(shape), x, weight, grad, wanted)
}

/// [`conv2d_backward`] with the lowering given.
///
/// # Panics
///
/// When a slice's length does not match `shape`, or the lowering does not apply
/// ([`lowering_applies`]).
pub fn conv2d_backward_lowered<T: Real>(
    shape: &ConvShape,
    lowering: Lowering,
    x: &[T],
    weight: &[T],
    grad: &[T],
    wanted: WantedGrads,
) -> ConvGradValues<T> {
    assert!(
        lowering_applies(shape, lowering),
        "conv2d_backward: {lowering:?} does not apply to {shape:?}"
    );
    let (x_len, w_len, out_len) = shape.lens();
    assert_eq!(x.len(), x_len, "conv2d_backward: input length");
    assert_eq!(weight.len(), w_len, "conv2d_backward: weight length");
    assert_eq!(grad.len(), out_len, "conv2d_backward: gradient length");
    let (in_image, out_plane, co) = (
        shape.channels_in * shape.in_plane(),
        shape.out_plane(),
        shape.channels_out,
    );
    let out_image = co * out_plane;
    if out_image == 0 || in_image == 0 {
        return ConvGradValues {
            x: wanted.x.then(|| vec![T::ZERO; x_len]),
            weight: wanted.weight.then(|| vec![T::ZERO; w_len]),
            bias: wanted.bias.then(|| vec![T::ZERO; co]),
        };
    }
    let per_task = images_per_task(shape.batch);
    let flipped =
        (lowering == Lowering::Columns && wanted.x && columns::input_grad_is_convolution(shape))
            .then(|| columns::flipped_transposed(shape, weight));
    let task = |x_images: &[T], g_images: &[T], mut dx_images: Option<&mut [MaybeUninit<T>]>| {
        let mut partial = PartialGrads {
            weight_t: zeros_if(w_len, wanted.weight),
            bias: zeros_if(co, wanted.bias),
        };
        let mut scratch = BackwardScratch::new(shape, lowering, wanted);
        for (n, (x_n, g_n)) in x_images
            .chunks_exact(in_image)
            .zip(g_images.chunks_exact(out_image))
            .enumerate()
        {
            if wanted.weight {
                scratch.weight_grad(shape, x_n, g_n, &mut partial.weight_t);
            }
            if wanted.bias {
                for (b, plane) in partial.bias.iter_mut().zip(g_n.chunks_exact(out_plane)) {
                    *b += T::from_f64(crate::real::lane_sum(plane, |v| v));
                }
            }
            if let Some(dx_images) = dx_images.as_deref_mut() {
                let dx_n = &mut dx_images[n * in_image..(n + 1) * in_image];
                scratch.input_grad(shape, weight, flipped.as_deref(), g_n, dx_n);
            }
        }
        partial
    };
    let tasks = |dx: Option<&mut [MaybeUninit<T>]>| -> Vec<PartialGrads<T>> {
        match dx {
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
        }
    };
    // The input gradient is written once, image by image (every lowering's
    // `input_grad` writes its whole image), not zeroed first.
    let (dx, partials) = if wanted.x {
        let mut partials = Vec::new();
        let dx = written_vec(x_len, |dx| partials = tasks(Some(dx)));
        (Some(dx), partials)
    } else {
        (None, tasks(None))
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
        weight: wanted
            .weight
            .then(|| untranspose_weight(shape, &sum(|p| &p.weight_t, w_len))),
        bias: wanted.bias.then(|| sum(|p| &p.bias, co)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::real::test_values as values;

    /// Every lowering that applies gives the column matrices' values and gradients
    /// (the default path, itself checked against burn in tests/against_burn*.rs).
    #[test]
    fn every_lowering_agrees_with_the_column_matrices() {
        for (k, p) in [
            (3, 1),
            (3, 0),
            (3, 2),
            (5, 2),
            (5, 1),
            (1, 0),
            (1, 1),
            (2, 1),
        ] {
            for (c, co, h, w) in [(1, 3, 5, 4), (4, 2, 7, 7), (3, 5, 6, 9)] {
                let shape = ConvShape {
                    batch: 3,
                    channels_in: c,
                    channels_out: co,
                    height: h,
                    width: w,
                    kernel: k,
                    padding: p,
                };
                if shape.out_height() == 0 || shape.out_width() == 0 {
                    continue;
                }
                let (x_len, w_len, out_len) = shape.lens();
                let x = values(x_len, 1);
                let weight = values(w_len, 2);
                let bias = values(co, 3);
                let grad = values(out_len, 4);
                let wanted = WantedGrads {
                    x: true,
                    weight: true,
                    bias: true,
                };
                let mut expected = vec![0.0; out_len];
                conv2d_forward_lowered(
                    &shape,
                    Lowering::Columns,
                    &x,
                    &weight,
                    Some(&bias),
                    &mut expected,
                );
                let expected_grads =
                    conv2d_backward_lowered(&shape, Lowering::Columns, &x, &weight, &grad, wanted);
                for lowering in [Lowering::Shifted, Lowering::Pointwise] {
                    if !lowering_applies(&shape, lowering) {
                        continue;
                    }
                    let mut out = vec![0.0; out_len];
                    conv2d_forward_lowered(&shape, lowering, &x, &weight, Some(&bias), &mut out);
                    let grads =
                        conv2d_backward_lowered(&shape, lowering, &x, &weight, &grad, wanted);
                    let close = |a: &[f64], b: &[f64]| {
                        a.len() == b.len() && a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-10)
                    };
                    let what = format!("{lowering:?} on {shape:?}");
                    assert!(close(&out, &expected), "forward, {what}");
                    for (got, want) in [
                        (&grads.x, &expected_grads.x),
                        (&grads.weight, &expected_grads.weight),
                        (&grads.bias, &expected_grads.bias),
                    ] {
                        assert!(
                            close(got.as_deref().unwrap(), want.as_deref().unwrap()),
                            "gradients, {what}"
                        );
                    }
                }
            }
        }
    }
}
