//! The column-matrix lowering: one `im2col` per image around one matrix product
//! (`out_n[Co, P] = W[Co, C*K*K] · col_n[C*K*K, P]`), and `col2im` for the input
//! gradient. It takes any padding; [`super::shifted`] is faster where it applies. A 1x1
//! kernel without padding uses these products with the image itself as the columns.

use super::{matmul, ConvShape, Operand, Real};

/// Copies image `x` (`[C, H, W]`) into the column matrix `col` (`[C*K*K, Ho*Wo]`),
/// zeros where the kernel reaches into the padding.
pub(super) fn im2col<T: Real>(shape: &ConvShape, x: &[T], col: &mut [T]) {
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
    out_n: &mut [T],
) {
    let (rows, p) = (shape.col_rows(), shape.out_plane());
    if let Some(bias) = bias {
        for (plane, b) in out_n.chunks_exact_mut(p).zip(bias) {
            plane.fill(*b);
        }
    }
    matmul(
        (shape.channels_out, p, rows),
        (out_n, p, 1),
        bias.is_some(),
        Operand::new(weight, rows, 1),
        Operand::new(col_n, p, 1),
    );
}

/// `dw[Co, C*K*K] += g_n[Co, P] · col_nᵀ[P, C*K*K]`.
pub(super) fn weight_grad<T: Real>(shape: &ConvShape, col_n: &[T], g_n: &[T], dw: &mut [T]) {
    let (rows, p) = (shape.col_rows(), shape.out_plane());
    matmul(
        (shape.channels_out, rows, p),
        (dw, rows, 1),
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
    dx_n: &mut [T],
) {
    let (rows, p) = (shape.col_rows(), shape.out_plane());
    matmul(
        (rows, p, shape.channels_out),
        (dx_n, p, 1),
        false,
        Operand::new(weight, 1, rows),
        Operand::new(g_n, p, 1),
    );
}

/// The input gradient through the columns: `dcol[C*K*K, P] = Wᵀ · g_n`, scattered back
/// onto `dx_n` by `col2im`.
pub(super) fn input_grad<T: Real>(
    shape: &ConvShape,
    weight: &[T],
    g_n: &[T],
    col: &mut [T],
    dx_n: &mut [T],
) {
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
