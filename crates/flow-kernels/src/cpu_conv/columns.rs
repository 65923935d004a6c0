//! The column-matrix lowering: one `im2col` per image around one matrix product
//! (`out_n[Co, P] = W[Co, C*K*K] · col_n[C*K*K, P]`), and `col2im` for the input
//! gradient. It takes any padding; [`super::shifted`] is faster where it applies. A 1x1
//! kernel without padding uses these products with the image itself as the columns.

use std::mem::MaybeUninit;

use super::{assume_init, matmul, matmul_into, ConvShape, Operand, Real};

/// Copies image `x` (`[C, H, W]`) into the column matrix `col` (`[C*K*K, Ho*Wo]`),
/// zeros where the kernel reaches into the padding.
pub(super) fn im2col<T: Real>(shape: &ConvShape, x: &[T], col: &mut [T]) {
    if shape.out_width() == shape.width && shape.padding < shape.width {
        im2col_same_width(shape, x, col);
    } else {
        im2col_by_rows(shape, x, col);
    }
}

/// [`im2col`] for a padding that keeps the width (`2 padding + 1 = kernel`, the 3x3
/// convolutions of the st-networks): a kernel tap's rows then lie back to back in the
/// image as in the column matrix, shifted by `kx - padding`, so each tap is one copy of
/// a block of rows, then a zero at the `|kx - padding|` positions per row where the
/// copy wrapped into the neighbouring row. Row-by-row copies of 28 values cost a call
/// each and took as long as the forward product (perf, DEVELOPERS.md).
fn im2col_same_width<T: Real>(shape: &ConvShape, x: &[T], col: &mut [T]) {
    let (h, w, k, p) = (shape.height, shape.width, shape.kernel, shape.padding);
    let ho = shape.out_height();
    let mut rows = col.chunks_exact_mut(ho * w);
    for plane in x.chunks_exact(h * w) {
        for ky in 0..k {
            // Output rows oy whose input row oy + ky - p lies inside the image.
            let first_row = p.saturating_sub(ky);
            let end_row = (h + p).saturating_sub(ky).min(ho);
            for kx in 0..k {
                let Some(row) = rows.next() else { return };
                if first_row >= end_row {
                    row.fill(T::ZERO);
                    continue;
                }
                let (above, rest) = row.split_at_mut(first_row * w);
                let (block, below) = rest.split_at_mut((end_row - first_row) * w);
                above.fill(T::ZERO);
                below.fill(T::ZERO);
                let source = &plane[(first_row + ky - p) * w..];
                let len = block.len();
                if kx >= p {
                    // Output column ox reads input column ox + shift: the last `shift`
                    // columns of each row fall outside the image.
                    let shift = kx - p;
                    block[..len - shift].copy_from_slice(&source[shift..len]);
                    zero_columns(block, w, w - shift..w);
                } else {
                    // Output column ox reads input column ox - shift: the first `shift`.
                    let shift = p - kx;
                    block[shift..].copy_from_slice(&source[..len - shift]);
                    zero_columns(block, w, 0..shift);
                }
            }
        }
    }
}

/// Zeros columns `columns` of every `width`-long row of `block`, as strided stores: a
/// `fill` per row of one or two values was a `memset` call each, 2% of a training
/// step on `small` (perf call graphs).
fn zero_columns<T: Real>(block: &mut [T], width: usize, columns: std::ops::Range<usize>) {
    for column in columns {
        for v in block[column..].iter_mut().step_by(width) {
            *v = T::ZERO;
        }
    }
}

/// [`im2col`] one output row at a time (any padding).
fn im2col_by_rows<T: Real>(shape: &ConvShape, x: &[T], col: &mut [T]) {
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

/// `out_n` (`[Co, P]`) from the column matrix `col_n` (`[C*K*K, P]`; the image itself
/// for a pointwise convolution), plus the bias.
pub(super) fn forward_image<T: Real>(
    shape: &ConvShape,
    col_n: &[T],
    weight: &[T],
    bias: Option<&[T]>,
    out_n: &mut [MaybeUninit<T>],
) {
    let (rows, p) = (shape.col_rows(), shape.out_plane());
    let dims = (shape.channels_out, p, rows);
    let (lhs, rhs) = (Operand::new(weight, rows, 1), Operand::new(col_n, p, 1));
    match bias {
        Some(bias) => {
            for (plane, b) in out_n.chunks_exact_mut(p).zip(bias) {
                for v in plane {
                    v.write(*b);
                }
            }
            // SAFETY: the loop above wrote every plane of the image.
            let out_n = unsafe { assume_init(out_n) };
            matmul(dims, (out_n, p, 1), true, lhs, rhs);
        }
        None => matmul_into(dims, (out_n, p, 1), lhs, rhs),
    }
}

/// `dw[Co, C*K*K] += g_n[Co, P] · col_nᵀ[P, C*K*K]`, into `dw_t` laid out transposed,
/// `[C*K*K, Co]`: gemm then reads the column matrix in place instead of packing it
/// (about 70 GFLOP/s -> 107 on `small`'s shapes, measured alone).
pub(super) fn weight_grad<T: Real>(shape: &ConvShape, col_n: &[T], g_n: &[T], dw_t: &mut [T]) {
    let (rows, p) = (shape.col_rows(), shape.out_plane());
    matmul(
        (shape.channels_out, rows, p),
        (dw_t, 1, shape.channels_out),
        true,
        Operand::new(g_n, p, 1),
        Operand::new(col_n, 1, p),
    );
}

/// A pointwise convolution's input gradient: `dx_n[C, P] = Wᵀ[C, Co] · g_n[Co, P]`.
pub(super) fn input_grad_pointwise<T: Real>(
    shape: &ConvShape,
    weight: &[T],
    g_n: &[T],
    dx_n: &mut [MaybeUninit<T>],
) {
    let (rows, p) = (shape.col_rows(), shape.out_plane());
    matmul_into(
        (rows, p, shape.channels_out),
        (dx_n, p, 1),
        Operand::new(weight, 1, rows),
        Operand::new(g_n, p, 1),
    );
}

/// Whether the input gradient is itself a convolution of the same shape: a padding
/// that keeps height and width (`2 padding + 1 = kernel`) turns the adjoint of the
/// forward pass into the convolution of the output gradient with the kernel turned
/// half a turn and its channel axes swapped ([`flipped_transposed`]), with the same
/// padding.
pub(super) fn input_grad_is_convolution(shape: &ConvShape) -> bool {
    shape.kernel > 1 && shape.out_height() == shape.height && shape.out_width() == shape.width
}

/// The shape of that convolution: the output gradient's `Co` channels in, `C` out.
fn transposed(shape: &ConvShape) -> ConvShape {
    ConvShape {
        channels_in: shape.channels_out,
        channels_out: shape.channels_in,
        ..*shape
    }
}

/// Column-matrix elements the backward pass of `shape` needs: the input's columns for
/// the kernel gradient, and the output gradient's when the input gradient is a
/// convolution.
pub(super) fn backward_col_len(shape: &ConvShape) -> usize {
    let rows = if input_grad_is_convolution(shape) {
        shape.col_rows().max(transposed(shape).col_rows())
    } else {
        shape.col_rows()
    };
    rows * shape.out_plane()
}

/// The kernel of the input gradient as a convolution, `[C, Co, K, K]`:
/// `flipped[c, o, ky, kx] = weight[o, c, K-1-ky, K-1-kx]`.
pub(super) fn flipped_transposed<T: Real>(shape: &ConvShape, weight: &[T]) -> Vec<T> {
    let (c, co, k) = (shape.channels_in, shape.channels_out, shape.kernel);
    let taps = k * k;
    let mut flipped = vec![T::ZERO; weight.len()];
    for o in 0..co {
        for i in 0..c {
            let from = &weight[(o * c + i) * taps..(o * c + i + 1) * taps];
            let to = &mut flipped[(i * co + o) * taps..(i * co + o + 1) * taps];
            for (t, v) in to.iter_mut().zip(from.iter().rev()) {
                *t = *v;
            }
        }
    }
    flipped
}

/// The input gradient as the convolution of `g_n` with the flipped kernel (when
/// [`input_grad_is_convolution`]): `im2col` of the output gradient, then one product
/// `dx_n[C, P] = flipped[C, Co*K*K] · col[Co*K*K, P]`. It replaces a product with a
/// nine times larger result and its `col2im` scatter (6% of a training step).
pub(super) fn input_grad_by_convolution<T: Real>(
    shape: &ConvShape,
    flipped: &[T],
    g_n: &[T],
    col: &mut [T],
    dx_n: &mut [MaybeUninit<T>],
) {
    let transposed = transposed(shape);
    let col = &mut col[..transposed.col_rows() * transposed.out_plane()];
    im2col(&transposed, g_n, col);
    forward_image(&transposed, col, flipped, None, dx_n);
}

/// The input gradient through the columns: `dcol[C*K*K, P] = Wᵀ · g_n`, scattered back
/// onto `dx_n` by `col2im`.
pub(super) fn input_grad<T: Real>(
    shape: &ConvShape,
    weight: &[T],
    g_n: &[T],
    col: &mut [T],
    dx_n: &mut [MaybeUninit<T>],
) {
    for v in dx_n.iter_mut() {
        v.write(T::ZERO);
    }
    // SAFETY: the loop above wrote every element.
    let dx_n = unsafe { assume_init(dx_n) };
    let (rows, p) = (shape.col_rows(), shape.out_plane());
    matmul(
        (rows, p, shape.channels_out),
        (col, p, 1),
        false,
        Operand::new(weight, 1, rows),
        Operand::new(g_n, p, 1),
    );
    col2im_add(shape, col, dx_n);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The block copies give the row-by-row columns wherever they apply, at the edges
    /// included (images one or two pixels wide, kernels wider than the image is tall).
    #[test]
    fn same_width_columns_equal_the_row_by_row_columns() {
        for (k, p) in [(3, 1), (5, 2), (1, 0), (7, 3)] {
            for (c, h, w) in [(2, 5, 4), (1, 1, 1), (3, 2, 7), (2, 6, 2), (1, 9, 3)] {
                let shape = ConvShape {
                    batch: 1,
                    channels_in: c,
                    channels_out: 1,
                    height: h,
                    width: w,
                    kernel: k,
                    padding: p,
                };
                if p >= w || shape.out_height() == 0 {
                    continue;
                }
                let x: Vec<f64> = (0..c * h * w).map(|i| i as f64 + 1.0).collect();
                let len = shape.col_rows() * shape.out_plane();
                let mut by_rows = vec![f64::NAN; len];
                let mut by_blocks = vec![f64::NAN; len];
                im2col_by_rows(&shape, &x, &mut by_rows);
                im2col_same_width(&shape, &x, &mut by_blocks);
                assert_eq!(by_blocks, by_rows, "{shape:?}");
            }
        }
    }

    /// The input gradient as a convolution with the flipped kernel equals the adjoint
    /// through the column matrix and `col2im`, for more and fewer output channels than
    /// input channels.
    #[test]
    fn the_input_gradient_as_a_convolution_equals_col2im() {
        for (k, p) in [(3, 1), (5, 2)] {
            for (c, co, h, w) in [(2, 3, 5, 4), (3, 1, 4, 6), (1, 4, 3, 3), (2, 2, 1, 7)] {
                let shape = ConvShape {
                    batch: 1,
                    channels_in: c,
                    channels_out: co,
                    height: h,
                    width: w,
                    kernel: k,
                    padding: p,
                };
                assert!(input_grad_is_convolution(&shape));
                let (_, w_len, out_len) = shape.lens();
                let weight: Vec<f64> = (0..w_len).map(|i| (i as f64 * 0.37).sin()).collect();
                let g: Vec<f64> = (0..out_len).map(|i| (i as f64 * 0.91).cos()).collect();
                let mut col = vec![0.0; backward_col_len(&shape)];
                let mut through_columns = vec![0.0; c * h * w];
                input_grad(
                    &shape,
                    &weight,
                    &g,
                    &mut col,
                    super::super::as_uninit(&mut through_columns),
                );
                let mut by_convolution = vec![f64::NAN; c * h * w];
                let flipped = flipped_transposed(&shape, &weight);
                input_grad_by_convolution(
                    &shape,
                    &flipped,
                    &g,
                    &mut col,
                    super::super::as_uninit(&mut by_convolution),
                );
                for (a, b) in by_convolution.iter().zip(&through_columns) {
                    assert!((a - b).abs() < 1e-12, "{a} against {b} on {shape:?}");
                }
            }
        }
    }
}
