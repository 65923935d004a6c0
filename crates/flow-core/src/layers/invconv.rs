//! Glow's invertible 1x1 convolution with an LU parametrisation.

use burn::module::{Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::Tensor;

use crate::flow::{LayerRecord, Trace};
use crate::init::{tensor_from_f64, ParamInit};
use crate::linalg;

/// `y = W x` at every pixel with `W = P L (U + diag(sign * exp(log_s)))`: `P` a fixed
/// permutation, `L` unit lower triangular, `U` strictly upper triangular, `sign` fixed.
/// `log|det J| = H W sum(log_s)`. Starts from a random rotation, as in Glow.
///
/// The inverse pass inverts `W` on the host in `f64` (one `C x C` inversion per call);
/// it is not differentiated through, which sampling and the tests do not need.
#[derive(Module, Debug)]
pub struct InvConv1x1<B: Backend> {
    permutation: Param<Tensor<B, 2>>,
    lower: Param<Tensor<B, 2>>,
    upper: Param<Tensor<B, 2>>,
    log_s: Param<Tensor<B, 1>>,
    sign_s: Param<Tensor<B, 1>>,
    lower_mask: Tensor<B, 2>,
    eye: Tensor<B, 2>,
    name: String,
}

impl<B: Backend> InvConv1x1<B> {
    /// A 1x1 convolution over `channels`, starting at a random rotation.
    pub fn new(
        name: impl Into<String>,
        channels: usize,
        rng: &mut ParamInit,
        device: &B::Device,
    ) -> Self {
        let n = channels;
        let mut rotation = rng.normal_values(n * n, 1.0);
        linalg::orthonormalize(&mut rotation, n);
        let (p, l, u) = linalg::lu(&rotation, n);
        let mut strict_upper = u.clone();
        let mut log_s = Vec::with_capacity(n);
        let mut sign_s = Vec::with_capacity(n);
        for i in 0..n {
            let d = u[i * n + i];
            log_s.push(d.abs().ln());
            sign_s.push(if d < 0.0 { -1.0 } else { 1.0 });
            strict_upper[i * n + i] = 0.0;
        }
        let mut lower_mask = vec![0.0; n * n];
        let mut eye = vec![0.0; n * n];
        for i in 0..n {
            eye[i * n + i] = 1.0;
            for j in 0..i {
                lower_mask[i * n + j] = 1.0;
            }
        }
        let fixed = |values: Vec<f64>| {
            Param::from_tensor(tensor_from_f64(values, [n, n], device)).set_require_grad(false)
        };
        Self {
            permutation: fixed(p),
            lower: Param::from_tensor(tensor_from_f64(l, [n, n], device)),
            upper: Param::from_tensor(tensor_from_f64(strict_upper, [n, n], device)),
            log_s: Param::from_tensor(tensor_from_f64(log_s, [n], device)),
            sign_s: Param::from_tensor(tensor_from_f64(sign_s, [n], device))
                .set_require_grad(false),
            lower_mask: tensor_from_f64(lower_mask, [n, n], device),
            eye: tensor_from_f64(eye, [n, n], device),
            name: name.into(),
        }
    }

    /// The `C x C` weight.
    pub fn weight(&self) -> Tensor<B, 2> {
        let n = self.eye.dims()[0];
        let lower = self.lower.val() * self.lower_mask.clone() + self.eye.clone();
        let upper_mask = self.lower_mask.clone().transpose();
        let diagonal =
            self.eye.clone() * (self.sign_s.val() * self.log_s.val().exp()).reshape([1, n]);
        let upper = self.upper.val() * upper_mask + diagonal;
        self.permutation.val().matmul(lower).matmul(upper)
    }

    fn apply(x: Tensor<B, 4>, weight: Tensor<B, 2>) -> Tensor<B, 4> {
        let n = weight.dims()[0];
        let options = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
        conv2d(x, weight.reshape([n, n, 1, 1]), None, options)
    }

    /// Forward pass.
    pub fn forward(
        &self,
        x: Tensor<B, 4>,
        trace: Option<&mut Trace<B>>,
    ) -> (Tensor<B, 4>, Tensor<B, 1>) {
        let [batch, _, h, w] = x.dims();
        let y = Self::apply(x, self.weight());
        let log_det = self.log_det(batch, h, w);
        if let Some(trace) = trace {
            trace.push(LayerRecord {
                name: self.name.clone(),
                log_det: log_det.clone(),
                coupling: None,
            });
        }
        (y, log_det)
    }

    fn log_det(&self, batch: usize, h: usize, w: usize) -> Tensor<B, 1> {
        self.log_s
            .val()
            .sum()
            .mul_scalar((h * w) as f64)
            .reshape([1])
            .repeat_dim(0, batch)
    }

    /// Inverse pass: `(x, log|det dx/dy|)`.
    pub fn inverse(&self, y: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 1>) {
        let [batch, _, h, w] = y.dims();
        let log_det = self.log_det(batch, h, w).neg();
        let weight = self.weight();
        let n = weight.dims()[0];
        let device = weight.device();
        let host: Vec<f64> = weight
            .into_data()
            .convert::<f64>()
            .to_vec()
            .unwrap_or_else(|_| vec![f64::NAN; n * n]);
        // W = P L U' with unit-diagonal L and U' = U + diag(exp(log_s)) is invertible
        // by construction; a failure here means the parameters hold NaN or infinity,
        // which the NaN guard of training reports first. Fall back to NaNs (as for a
        // weight that cannot be read back) so the caller sees non-finite output rather
        // than a panic or a silently wrong inverse.
        let inverse = linalg::invert(&host, n).unwrap_or_else(|| vec![f64::NAN; n * n]);
        (
            Self::apply(y, tensor_from_f64(inverse, [n, n], &device)),
            log_det,
        )
    }
}
