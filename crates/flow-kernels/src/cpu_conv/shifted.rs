//! A convolution as `K*K` shifted matrix products over a zero-padded image, without
//! column matrices.
//!
//! Pad each input plane to `Hp x Wp` and lay the output on a "wide" grid of `Wp`
//! columns per row (the last `K - 1` of each row are never read back). Then kernel tap
//! `(ky, kx)` reads the padded image shifted by `ky*Wp + kx`, which is an ordinary
//! strided matrix `[C, n]` (row stride `Hp*Wp`, column stride 1):
//!
//! - forward: `out_wide[Co, n] = Σ_k W_k[Co, C] · xpad[C, off_k + j]`;
//! - kernel gradient: `dW_k[Co, C] += g_wide[Co, n] · xpad[C, off_k + j]ᵀ`, `g_wide`
//!   the output gradient on the wide grid with zeros in its unread columns;
//! - input gradient: a convolution of the gradient padded by `K - 1 - p` with the
//!   flipped, transposed kernel, the same way.
//!
//! `gemm` packs its operands anyway, so reading them in place saves the `im2col` copy
//! and the `col2im` scatter-add of the column-matrix method (about a fifth of a training
//! step) for a pad and a crop of each image. It needs `p <= K - 1` for the input
//! gradient; [`super::columns`] covers larger paddings.

use std::mem::MaybeUninit;

use super::{matmul, zeros_if, ConvShape, Operand, Real};

/// The geometry of one image on the padded and wide grids.
#[derive(Debug, Clone, Copy)]
pub(super) struct Grid {
    /// Padded input plane, `Hp x Wp`.
    hp: usize,
    wp: usize,
    /// Output size.
    ho: usize,
    wo: usize,
    /// Columns of the wide output that a product writes: `(Ho - 1) * Wp + Wo`.
    n_wide: usize,
}

impl Grid {
    fn new(shape: &ConvShape) -> Self {
        let (hp, wp) = (
            shape.height + 2 * shape.padding,
            shape.width + 2 * shape.padding,
        );
        let (ho, wo) = (shape.out_height(), shape.out_width());
        Self {
            hp,
            wp,
            ho,
            wo,
            n_wide: (ho.max(1) - 1) * wp + wo,
        }
    }

    fn padded_plane(&self) -> usize {
        self.hp * self.wp
    }

    /// Offset of kernel tap `(ky, kx)` on the padded plane.
    fn tap_offset(&self, ky: usize, kx: usize) -> usize {
        ky * self.wp + kx
    }
}

/// Whether this lowering computes every pass of `shape`.
pub(super) fn supports(shape: &ConvShape) -> bool {
    shape.kernel >= 1 && shape.padding < shape.kernel && shape.out_height() > 0
}

/// Copies the `[planes, h, w]` image `x` into the interior of `out`
/// (`[planes, h + 2p, w + 2p]`), whose border stays as it is (zero, set once).
fn pad_into<T: Real>(x: &[T], (h, w, p): (usize, usize, usize), out: &mut [T]) {
    let (hp, wp) = (h + 2 * p, w + 2 * p);
    for (src, dst) in x.chunks_exact(h * w).zip(out.chunks_exact_mut(hp * wp)) {
        for (y, row) in src.chunks_exact(w).enumerate() {
            let start = (y + p) * wp + p;
            dst[start..start + w].copy_from_slice(row);
        }
    }
}

/// The image `x_n` as the taps read it: copied into `xpad` when the convolution pads,
/// read in place when it does not.
fn padded_source<'a, T: Real>(shape: &ConvShape, x_n: &'a [T], xpad: &'a mut [T]) -> &'a [T] {
    if shape.padding == 0 {
        return x_n;
    }
    pad_into(x_n, (shape.height, shape.width, shape.padding), xpad);
    xpad
}

/// The per-task buffers of the forward pass.
pub(super) struct Forward<T> {
    grid: Grid,
    /// The padded image (empty when there is no padding: the image is read in place).
    xpad: Vec<T>,
    /// The output on the wide grid, `[Co, Ho * Wp]`.
    out_wide: Vec<T>,
}

impl<T: Real> Forward<T> {
    pub(super) fn new(shape: &ConvShape) -> Self {
        let grid = Grid::new(shape);
        Self {
            grid,
            xpad: zeros_if(shape.channels_in * grid.padded_plane(), shape.padding > 0),
            out_wide: vec![T::ZERO; shape.channels_out * grid.ho * grid.wp],
        }
    }

    /// `out_n` (`[Co, Ho, Wo]`) from the image `x_n` (`[C, H, W]`).
    pub(super) fn image(
        &mut self,
        shape: &ConvShape,
        x_n: &[T],
        weight: &[T],
        bias: Option<&[T]>,
        out_n: &mut [MaybeUninit<T>],
    ) {
        let g = self.grid;
        let (c, co, k) = (shape.channels_in, shape.channels_out, shape.kernel);
        let xsrc = padded_source(shape, x_n, &mut self.xpad);
        for tap in 0..k * k {
            let (ky, kx) = (tap / k, tap % k);
            // out_wide[Co, n] (+)= W_tap[Co, C] · xpad[C, off + j]
            matmul(
                (co, g.n_wide, c),
                (&mut self.out_wide, g.ho * g.wp, 1),
                tap > 0,
                Operand::new(&weight[tap..], c * k * k, k * k),
                Operand::new(&xsrc[g.tap_offset(ky, kx)..], g.padded_plane(), 1),
            );
        }
        // Crop the wide rows to the output, adding the bias.
        let out_plane = g.ho * g.wo;
        for (ch, (plane, wide)) in out_n
            .chunks_exact_mut(out_plane)
            .zip(self.out_wide.chunks_exact(g.ho * g.wp))
            .enumerate()
        {
            let b = bias.map_or(T::ZERO, |b| b[ch]);
            for (row, wide_row) in plane.chunks_exact_mut(g.wo).zip(wide.chunks(g.wp)) {
                for (o, v) in row.iter_mut().zip(wide_row) {
                    o.write(*v + b);
                }
            }
        }
    }
}

/// The per-task buffers of the backward pass.
pub(super) struct Backward<T> {
    grid: Grid,
    /// The padded image, for the kernel gradient (empty without padding).
    xpad: Vec<T>,
    /// The output gradient on the wide grid, zero in the unread columns.
    g_wide: Vec<T>,
    /// The output gradient padded by `K - 1 - p`, for the input gradient.
    gpad: Vec<T>,
    /// The input gradient on its wide grid, `[C, H * Wg]`.
    dx_wide: Vec<T>,
}

impl<T: Real> Backward<T> {
    pub(super) fn new(shape: &ConvShape, wants_x: bool, wants_weight: bool) -> Self {
        let grid = Grid::new(shape);
        let q = shape.kernel - 1 - shape.padding;
        let (hg, wg) = (grid.ho + 2 * q, grid.wo + 2 * q);
        Self {
            grid,
            xpad: zeros_if(
                shape.channels_in * grid.padded_plane(),
                wants_weight && shape.padding > 0,
            ),
            g_wide: zeros_if(shape.channels_out * grid.ho * grid.wp, wants_weight),
            gpad: zeros_if(shape.channels_out * hg * wg, wants_x),
            dx_wide: zeros_if(shape.channels_in * shape.height * wg, wants_x),
        }
    }

    /// Adds image `n`'s kernel gradient to `dw` (`[Co, C, K, K]`).
    /// Adds this image's kernel gradient to `dw_t`, laid out `[C*K*K, Co]` (see
    /// `PartialGrads`).
    pub(super) fn weight_grad(&mut self, shape: &ConvShape, x_n: &[T], g_n: &[T], dw_t: &mut [T]) {
        let g = self.grid;
        let (c, co, k) = (shape.channels_in, shape.channels_out, shape.kernel);
        let xsrc = padded_source(shape, x_n, &mut self.xpad);
        // g on the wide grid: its unread columns stay zero from allocation.
        for (plane, wide) in g_n
            .chunks_exact(g.ho * g.wo)
            .zip(self.g_wide.chunks_exact_mut(g.ho * g.wp))
        {
            for (row, wide_row) in plane.chunks_exact(g.wo).zip(wide.chunks_mut(g.wp)) {
                wide_row[..g.wo].copy_from_slice(row);
            }
        }
        for tap in 0..k * k {
            let (ky, kx) = (tap / k, tap % k);
            // dW_tap[Co, C] += g_wide[Co, n] · xpad[C, off + j]ᵀ, at (c K² + tap) Co + o
            matmul(
                (co, c, g.n_wide),
                (&mut dw_t[tap * co..], 1, k * k * co),
                true,
                Operand::new(&self.g_wide, g.ho * g.wp, 1),
                Operand::new(&xsrc[g.tap_offset(ky, kx)..], 1, g.padded_plane()),
            );
        }
    }

    /// Image `n`'s input gradient into `dx_n` (`[C, H, W]`).
    pub(super) fn input_grad(
        &mut self,
        shape: &ConvShape,
        weight: &[T],
        g_n: &[T],
        dx_n: &mut [MaybeUninit<T>],
    ) {
        let g = self.grid;
        let (c, co, k) = (shape.channels_in, shape.channels_out, shape.kernel);
        let (h, w) = (shape.height, shape.width);
        let q = k - 1 - shape.padding;
        let (hg, wg) = (g.ho + 2 * q, g.wo + 2 * q);
        let gsrc: &[T] = if q > 0 {
            pad_into(g_n, (g.ho, g.wo, q), &mut self.gpad);
            &self.gpad
        } else {
            g_n
        };
        let n_wide = (h - 1) * wg + w;
        for tap in 0..k * k {
            let (ky, kx) = (tap / k, tap % k);
            let flipped = (k - 1 - ky) * k + (k - 1 - kx);
            // dx_wide[C, n] (+)= W_flipped[C, Co] · gpad[Co, off + j]
            matmul(
                (c, n_wide, co),
                (&mut self.dx_wide, h * wg, 1),
                tap > 0,
                Operand::new(&weight[flipped..], k * k, c * k * k),
                Operand::new(&gsrc[ky * wg + kx..], hg * wg, 1),
            );
        }
        for (plane, wide) in dx_n
            .chunks_exact_mut(h * w)
            .zip(self.dx_wide.chunks_exact(h * wg))
        {
            for (row, wide_row) in plane.chunks_exact_mut(w).zip(wide.chunks(wg)) {
                for (d, v) in row.iter_mut().zip(&wide_row[..w]) {
                    d.write(*v);
                }
            }
        }
    }
}
