//! Squeeze 2x2 and its inverse.

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

/// `[N, C, H, W] -> [N, 4C, H/2, W/2]`: each 2x2 block goes to four channels, channel
/// `c*4 + dy*2 + dx` holding the entry at offset `(dy, dx)` (the reference's order).
/// Volume-preserving, so it adds nothing to the log-determinant. `H` and `W` must be
/// even; model builders check that.
pub fn squeeze<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, c, h / 2, 2, w / 2, 2])
        .permute([0, 1, 3, 5, 2, 4])
        .reshape([n, c * 4, h / 2, w / 2])
}

/// The inverse of [`squeeze`]: `[N, 4C, H, W] -> [N, C, 2H, 2W]`.
pub fn unsqueeze<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c4, h, w] = x.dims();
    let c = c4 / 4;
    x.reshape([n, c, 2, 2, h, w])
        .permute([0, 1, 4, 2, 5, 3])
        .reshape([n, c, h * 2, w * 2])
}
