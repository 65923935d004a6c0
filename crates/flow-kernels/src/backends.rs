//! [`FlowBackend`] for every backend the workspace compiles in: flex with the fast
//! paths of [`cpu_conv`](crate::cpu_conv), the others with burn's own operations.

#[cfg(feature = "flex")]
mod flex {
    use burn::backend::flex::{Flex, FlexTensor, Layout};
    use burn::tensor::ops::{FloatTensorOps, ModuleOps};
    use burn::tensor::{Bytes, DType, Element, Shape};
    use bytemuck::Pod;

    use crate::cpu_conv::{self, ConvShape, Real};
    use crate::cpu_norm::{self, BatchStatistics, NormLayer, NormShape};
    use crate::cpu_sum;
    use crate::{
        burn_batch_norm_backward, burn_batch_norm_train, unit_stride_options, ConvGrads,
        FlowBackend, NormGrads, NormOptions, NormOutput, NormStatistics, WantedGrads,
        WantedNormGrads,
    };

    impl FlowBackend for Flex {
        fn add_same_shape(lhs: FlexTensor, rhs: FlexTensor) -> FlexTensor {
            let fits = crate::fast_paths_enabled()
                && lhs.dtype() == rhs.dtype()
                && lhs.layout().shape() == rhs.layout().shape();
            match (fits, lhs.dtype()) {
                (true, DType::F32) => sum::<f32>(lhs, rhs),
                (true, DType::F64) => sum::<f64>(lhs, rhs),
                _ => Self::float_add(lhs, rhs),
            }
        }

        fn conv2d_unit_stride(
            x: FlexTensor,
            weight: FlexTensor,
            bias: Option<FlexTensor>,
            padding: usize,
        ) -> FlexTensor {
            let fast = conv_shape(&x, &weight, bias.as_ref(), padding)
                .filter(|_| crate::fast_paths_enabled())
                .and_then(|shape| match x.dtype() {
                    DType::F32 => forward::<f32>(&shape, &x, &weight, bias.as_ref()),
                    DType::F64 => forward::<f64>(&shape, &x, &weight, bias.as_ref()),
                    _ => None,
                });
            match fast {
                Some(out) => out,
                None => Self::conv2d(x, weight, bias, unit_stride_options(padding)),
            }
        }

        fn conv2d_backward(
            x: FlexTensor,
            weight: FlexTensor,
            grad: FlexTensor,
            padding: usize,
            wanted: WantedGrads,
        ) -> ConvGrads<Self> {
            let fast = conv_shape(&x, &weight, None, padding)
                .filter(|_| grad.dtype() == x.dtype() && crate::fast_paths_enabled())
                .and_then(|shape| match x.dtype() {
                    DType::F32 => backward::<f32>(&shape, &x, &weight, &grad, wanted),
                    DType::F64 => backward::<f64>(&shape, &x, &weight, &grad, wanted),
                    _ => None,
                });
            match fast {
                Some(grads) => grads,
                None => crate::burn_conv2d_backward::<Self>(x, weight, grad, padding, wanted),
            }
        }

        fn channel_affine(
            x: FlexTensor,
            scale: FlexTensor,
            shift: FlexTensor,
            relu: bool,
        ) -> FlexTensor {
            let shape = norm_shape(&x, &scale, &shift).filter(|_| crate::fast_paths_enabled());
            match (shape, x.dtype()) {
                (Some(shape), DType::F32) => {
                    affine_in_place::<f32>(&shape, x, &scale, &shift, relu)
                }
                (Some(shape), DType::F64) => {
                    affine_in_place::<f64>(&shape, x, &scale, &shift, relu)
                }
                _ => crate::burn_channel_affine::<Self>(x, scale, shift, relu),
            }
        }

        fn batch_norm_train(
            x: FlexTensor,
            gamma: FlexTensor,
            beta: FlexTensor,
            options: NormOptions,
        ) -> NormOutput<Self> {
            let fast = norm_shape(&x, &gamma, &beta)
                .filter(|_| crate::fast_paths_enabled())
                .and_then(|shape| match x.dtype() {
                    DType::F32 => norm_forward::<f32>(&shape, &x, &gamma, &beta, options),
                    DType::F64 => norm_forward::<f64>(&shape, &x, &gamma, &beta, options),
                    _ => None,
                });
            match fast {
                Some(out) => out,
                None => burn_batch_norm_train::<Self>(x, gamma, beta, options),
            }
        }

        fn batch_norm_train_backward(
            x: FlexTensor,
            gamma: FlexTensor,
            beta: FlexTensor,
            statistics: NormStatistics<Self>,
            grad: FlexTensor,
            options: NormOptions,
            wanted: WantedNormGrads,
        ) -> NormGrads<Self> {
            let parts = NormParts {
                x: &x,
                gamma: &gamma,
                beta: &beta,
                statistics: &statistics,
                grad: &grad,
            };
            let fast = norm_shape(&x, &gamma, &beta)
                .filter(|_| grad.dtype() == x.dtype() && crate::fast_paths_enabled())
                .and_then(|shape| match x.dtype() {
                    DType::F32 => norm_backward::<f32>(&shape, parts, options, wanted),
                    DType::F64 => norm_backward::<f64>(&shape, parts, options, wanted),
                    _ => None,
                });
            match fast {
                Some(grads) => grads,
                None => burn_batch_norm_backward::<Self>(
                    x, gamma, beta, statistics, grad, options, wanted,
                ),
            }
        }
    }

    /// The kernel's view of a batch normalisation, or `None` where the fast path does not
    /// apply (another dtype, mixed dtypes, mismatched shapes).
    fn norm_shape(x: &FlexTensor, gamma: &FlexTensor, beta: &FlexTensor) -> Option<NormShape> {
        let dtype = x.dtype();
        let same_dtype = gamma.dtype() == dtype && beta.dtype() == dtype;
        let xs = x.layout().shape();
        if !matches!(dtype, DType::F32 | DType::F64) || !same_dtype || xs.num_dims() != 4 {
            return None;
        }
        let channels = xs[1];
        let per_channel = |t: &FlexTensor| t.layout().shape().num_elements() == channels;
        (per_channel(gamma) && per_channel(beta)).then_some(NormShape {
            batch: xs[0],
            channels,
            plane: xs[2] * xs[3],
        })
    }

    /// The affine map in `x`'s own buffer when nothing else holds it (the usual case:
    /// a convolution's output read by the norm alone), else into a new buffer (a
    /// residual block's input, which its skip connection still reads).
    fn affine_in_place<T: Real + Element + Pod>(
        shape: &NormShape,
        x: FlexTensor,
        scale: &FlexTensor,
        shift: &FlexTensor,
        relu: bool,
    ) -> FlexTensor {
        let (scale, shift) = (scale.to_contiguous(), shift.to_contiguous());
        let (Some(scale_values), Some(shift_values)) =
            (scale.as_slice::<T>(), shift.as_slice::<T>())
        else {
            return crate::burn_channel_affine::<Flex>(x, scale, shift, relu);
        };
        let mut x = into_contiguous(x);
        if let Some(values) = x.try_storage_mut::<T>() {
            cpu_norm::channel_affine_in_place(shape, values, scale_values, shift_values, relu);
            return x;
        }
        let Some(values) = x.as_slice::<T>() else {
            return crate::burn_channel_affine::<Flex>(x, scale, shift, relu);
        };
        let out = cpu_norm::channel_affine_vec(shape, values, scale_values, shift_values, relu);
        tensor_of(out, x.layout().shape())
    }

    /// `x` with its own contiguous buffer, unique unless another tensor reads it:
    /// `to_contiguous` returns a second handle on a buffer that already is exactly the
    /// tensor, and dropping the first leaves that one alone.
    fn into_contiguous(x: FlexTensor) -> FlexTensor {
        let contiguous = x.to_contiguous();
        drop(x);
        contiguous
    }

    /// `lhs + rhs` (one shape, one dtype) in whichever term's buffer nothing else
    /// reads (IEEE addition commutes, so either order gives the same values), else in
    /// a new one.
    fn sum<T: Real + Element + Pod>(lhs: FlexTensor, rhs: FlexTensor) -> FlexTensor {
        let (lhs, rhs) = (into_contiguous(lhs), into_contiguous(rhs));
        let (mut acc, other) = if lhs.is_unique() {
            (lhs, rhs)
        } else {
            (rhs, lhs)
        };
        let Some(other_values) = other.as_slice::<T>() else {
            return Flex::float_add(acc, other);
        };
        if let Some(values) = acc.try_storage_mut::<T>() {
            cpu_sum::add_assign(values, other_values);
            return acc;
        }
        let Some(acc_values) = acc.as_slice::<T>() else {
            return Flex::float_add(acc, other);
        };
        tensor_of(
            cpu_sum::sum_vec(acc_values, other_values),
            acc.layout().shape(),
        )
    }

    /// The kernels' view of the layer, or `None` when gamma or beta is not a contiguous
    /// `T` slice.
    fn norm_layer<'a, T: Real + Element + Pod>(
        gamma: &'a FlexTensor,
        beta: &'a FlexTensor,
        options: NormOptions,
    ) -> Option<NormLayer<'a, T>> {
        Some(NormLayer {
            gamma: gamma.as_slice::<T>()?,
            beta: beta.as_slice::<T>()?,
            epsilon: options.epsilon,
            relu: options.relu,
        })
    }

    fn norm_forward<T: Real + Element + Pod>(
        shape: &NormShape,
        x: &FlexTensor,
        gamma: &FlexTensor,
        beta: &FlexTensor,
        options: NormOptions,
    ) -> Option<NormOutput<Flex>> {
        let (x, gamma, beta) = (
            x.to_contiguous(),
            gamma.to_contiguous(),
            beta.to_contiguous(),
        );
        let layer = norm_layer(&gamma, &beta, options)?;
        let (out, stats) = cpu_norm::batch_norm_forward_vec(shape, x.as_slice::<T>()?, &layer);
        Some(NormOutput {
            output: tensor_of(out, x.layout().shape()),
            statistics: NormStatistics {
                mean: tensor_of(stats.mean, &[shape.channels]),
                variance: tensor_of(stats.variance, &[shape.channels]),
            },
        })
    }

    /// The tensors a batch normalisation's backward pass reads.
    #[derive(Clone, Copy)]
    struct NormParts<'a> {
        x: &'a FlexTensor,
        gamma: &'a FlexTensor,
        beta: &'a FlexTensor,
        statistics: &'a NormStatistics<Flex>,
        grad: &'a FlexTensor,
    }

    fn norm_backward<T: Real + Element + Pod>(
        shape: &NormShape,
        parts: NormParts<'_>,
        options: NormOptions,
        wanted: WantedNormGrads,
    ) -> Option<NormGrads<Flex>> {
        let contiguous = |t: &FlexTensor| t.to_contiguous();
        let (x, gamma, beta, grad) = (
            contiguous(parts.x),
            contiguous(parts.gamma),
            contiguous(parts.beta),
            contiguous(parts.grad),
        );
        let (mean, variance) = (
            contiguous(&parts.statistics.mean),
            contiguous(&parts.statistics.variance),
        );
        let stats = BatchStatistics {
            mean: mean.as_slice::<T>()?.to_vec(),
            variance: variance.as_slice::<T>()?.to_vec(),
        };
        let per_channel = |v: &[T]| v.len() == shape.channels;
        if !per_channel(&stats.mean) || !per_channel(&stats.variance) {
            return None;
        }
        let layer = norm_layer(&gamma, &beta, options)?;
        let values = cpu_norm::batch_norm_backward(
            shape,
            x.as_slice::<T>()?,
            &layer,
            &stats,
            grad.as_slice::<T>()?,
            wanted,
        );
        Some(NormGrads {
            x: values.x.map(|v| tensor_of(v, x.layout().shape())),
            gamma: values.gamma.map(|v| tensor_of(v, &[shape.channels])),
            beta: values.beta.map(|v| tensor_of(v, &[shape.channels])),
        })
    }

    /// The kernel's view of a convolution, or `None` where the fast path does not
    /// apply (another dtype, mixed dtypes, a non-square kernel, mismatched shapes).
    fn conv_shape(
        x: &FlexTensor,
        weight: &FlexTensor,
        bias: Option<&FlexTensor>,
        padding: usize,
    ) -> Option<ConvShape> {
        let dtype = x.dtype();
        let same_dtype = weight.dtype() == dtype && bias.is_none_or(|b| b.dtype() == dtype);
        if !matches!(dtype, DType::F32 | DType::F64) || !same_dtype {
            return None;
        }
        let (xs, ws) = (x.layout().shape(), weight.layout().shape());
        if xs.num_dims() != 4 || ws.num_dims() != 4 {
            return None;
        }
        let shape = ConvShape {
            batch: xs[0],
            channels_in: xs[1],
            channels_out: ws[0],
            height: xs[2],
            width: xs[3],
            kernel: ws[2],
            padding,
        };
        let bias_fits = bias.is_none_or(|b| b.layout().shape().num_elements() == ws[0]);
        let fits = ws[1] == xs[1] && ws[3] == ws[2] && bias_fits;
        let nonempty = shape.out_height() > 0 && shape.out_width() > 0;
        (fits && nonempty).then_some(shape)
    }

    /// A contiguous flex tensor holding `values` in `dims`.
    fn tensor_of<T: Real + Element + Pod>(values: Vec<T>, dims: &[usize]) -> FlexTensor {
        FlexTensor::new(
            Bytes::from_elems(values),
            Layout::contiguous(Shape::from(dims.to_vec())),
            T::dtype(),
        )
    }

    fn forward<T: Real + Element + Pod>(
        shape: &ConvShape,
        x: &FlexTensor,
        weight: &FlexTensor,
        bias: Option<&FlexTensor>,
    ) -> Option<FlexTensor> {
        let (x, weight) = (x.to_contiguous(), weight.to_contiguous());
        let bias = bias.map(FlexTensor::to_contiguous);
        let bias_values = match &bias {
            Some(b) => Some(b.as_slice::<T>()?),
            None => None,
        };
        let out = cpu_conv::conv2d_forward_vec(
            shape,
            x.as_slice::<T>()?,
            weight.as_slice::<T>()?,
            bias_values,
        );
        let dims = [
            shape.batch,
            shape.channels_out,
            shape.out_height(),
            shape.out_width(),
        ];
        Some(tensor_of(out, &dims))
    }

    fn backward<T: Real + Element + Pod>(
        shape: &ConvShape,
        x: &FlexTensor,
        weight: &FlexTensor,
        grad: &FlexTensor,
        wanted: WantedGrads,
    ) -> Option<ConvGrads<Flex>> {
        let (x, weight, grad) = (
            x.to_contiguous(),
            weight.to_contiguous(),
            grad.to_contiguous(),
        );
        let values = cpu_conv::conv2d_backward(
            shape,
            x.as_slice::<T>()?,
            weight.as_slice::<T>()?,
            grad.as_slice::<T>()?,
            wanted,
        );
        Some(ConvGrads {
            x: values.x.map(|v| tensor_of(v, x.layout().shape())),
            weight: values.weight.map(|v| tensor_of(v, weight.layout().shape())),
            bias: values.bias.map(|v| tensor_of(v, &[shape.channels_out])),
        })
    }
}

#[cfg(feature = "ndarray")]
impl crate::FlowBackend for burn::backend::NdArray {}

#[cfg(feature = "wgpu")]
impl crate::FlowBackend for burn::backend::Wgpu {}

#[cfg(feature = "cuda")]
impl crate::FlowBackend for burn::backend::Cuda {}
