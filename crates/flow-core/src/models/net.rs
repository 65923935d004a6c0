//! `FlowNet`: a composition of invertible steps over one or more scales, plus the
//! preprocessing and the prior. RealNVP, Glow and the single-scale stacks are all
//! `FlowNet`s built from different configurations.

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use flow_kernels::FlowBackend;

use crate::error::FlowError;
use crate::flow::{Flow, FlowOutput, Trace};
use crate::init::tensor_from_f64;
use crate::layers::{
    squeeze, unsqueeze, ActNorm, AffineCoupling, InvConv1x1, LogitPreprocess, Permutation,
};
use crate::likelihood::LogLikelihood;

/// One invertible step.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum FlowStep<B: FlowBackend> {
    /// An affine coupling layer.
    Coupling(AffineCoupling<B>),
    /// ActNorm.
    ActNorm(ActNorm<B>),
    /// An invertible 1x1 convolution.
    InvConv(InvConv1x1<B>),
    /// A fixed permutation of the channels (the tabular flow's, between couplings).
    Permute(Permutation<B>),
}

impl<B: FlowBackend> FlowStep<B> {
    /// The same step, a coupling starting as the identity (other steps unchanged).
    fn into_identity_start(self) -> Self {
        match self {
            FlowStep::Coupling(layer) => FlowStep::Coupling(layer.into_identity_start()),
            other => other,
        }
    }

    fn forward(
        &self,
        x: Tensor<B, 4>,
        trace: Option<&mut Trace<B>>,
    ) -> (Tensor<B, 4>, Tensor<B, 1>) {
        match self {
            FlowStep::Coupling(layer) => layer.forward(x, trace),
            FlowStep::ActNorm(layer) => layer.forward(x, trace),
            FlowStep::InvConv(layer) => layer.forward(x, trace),
            FlowStep::Permute(layer) => layer.forward(x, trace),
        }
    }

    fn inverse(&self, y: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 1>) {
        match self {
            FlowStep::Coupling(layer) => layer.inverse(y),
            FlowStep::ActNorm(layer) => layer.inverse(y),
            FlowStep::InvConv(layer) => layer.inverse(y),
            FlowStep::Permute(layer) => layer.inverse(y),
        }
    }
}

/// One scale: steps at the current resolution, an optional squeeze, steps after it,
/// and an optional factor-out of the second half of the channels.
///
/// RealNVP's scale is `checkerboard x3, squeeze, channel-wise x3, factor out`; Glow's is
/// `squeeze, (actnorm, 1x1 conv, coupling) x K, factor out`; a single-scale stack is one
/// scale with neither squeeze nor factor-out.
#[derive(Module, Debug)]
pub struct ScaleBlock<B: FlowBackend> {
    /// Steps before the squeeze.
    pub pre: Vec<FlowStep<B>>,
    /// Whether the scale squeezes 2x2 after `pre`.
    pub squeeze: bool,
    /// Steps after the squeeze.
    pub post: Vec<FlowStep<B>>,
    /// Whether the second half of the channels leaves the flow after `post`.
    pub factor_out: bool,
}

/// A normalizing flow: preprocessing, scales of invertible steps, a standard normal
/// prior.
#[derive(Module, Debug)]
pub struct FlowNet<B: FlowBackend> {
    scales: Vec<ScaleBlock<B>>,
    preprocess: Option<LogitPreprocess>,
    input_shape: [usize; 3],
    bins: Option<u32>,
}

impl<B: FlowBackend> FlowNet<B> {
    /// Assembles a flow from its scales. `preprocess` applies first; `bins` is the
    /// number of levels of the data (256 for 8-bit images; `None` for continuous data).
    pub fn new(
        scales: Vec<ScaleBlock<B>>,
        preprocess: Option<LogitPreprocess>,
        input_shape: [usize; 3],
        bins: Option<u32>,
    ) -> Self {
        Self {
            scales,
            preprocess,
            input_shape,
            bins,
        }
    }

    /// One scale of `steps` on inputs of shape `input_shape`, without preprocessing,
    /// squeeze or factor-out, for continuous data (vectors as `[D, 1, 1]`).
    pub fn stack(steps: Vec<FlowStep<B>>, input_shape: [usize; 3]) -> Self {
        let scale = ScaleBlock {
            pre: steps,
            squeeze: false,
            post: Vec::new(),
            factor_out: false,
        };
        Self::new(vec![scale], None, input_shape, None)
    }

    /// The same flow with every coupling starting as the identity: the last layer of
    /// each st-network is the zero map (the reference's `--init_zeros`), so the
    /// untrained flow is the preprocessing alone and training starts from a flow
    /// whose log-determinants are zero.
    pub fn into_identity_start(self) -> Self {
        let scales = self
            .scales
            .into_iter()
            .map(|scale| ScaleBlock {
                pre: scale
                    .pre
                    .into_iter()
                    .map(FlowStep::into_identity_start)
                    .collect(),
                post: scale
                    .post
                    .into_iter()
                    .map(FlowStep::into_identity_start)
                    .collect(),
                ..scale
            })
            .collect();
        Self { scales, ..self }
    }

    /// The `[C, H, W]` shape the flow was built for.
    pub fn input_shape(&self) -> [usize; 3] {
        self.input_shape
    }

    /// Dimensions per sample.
    pub fn dims(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// Levels of the data (256 for 8-bit images), if discrete.
    pub fn bins(&self) -> Option<u32> {
        self.bins
    }

    /// Constant nats the preprocessing convention adds to `log p(x)`.
    pub fn likelihood_offset(&self) -> f64 {
        self.preprocess
            .map_or(0.0, |pre| pre.likelihood_offset(self.dims()))
    }

    /// The scales, for inspection.
    pub fn scales(&self) -> &[ScaleBlock<B>] {
        &self.scales
    }

    /// The logit preprocessing, if the flow has one (it is the first record of a trace).
    pub fn preprocess(&self) -> Option<LogitPreprocess> {
        self.preprocess
    }

    /// The likelihood terms of `x` (dequantized to `[0, 1)` for image flows).
    pub fn log_likelihood(&self, x: Tensor<B, 4>) -> Result<LogLikelihood<B>, FlowError> {
        self.check_input(x.dims())?;
        Ok(LogLikelihood::from_output(
            &self.forward_unchecked(x, None),
            self.bins,
            self.likelihood_offset(),
        ))
    }

    /// The likelihood terms and the per-layer trace of `x`.
    pub fn log_likelihood_traced(
        &self,
        x: Tensor<B, 4>,
        trace: &mut Trace<B>,
    ) -> Result<LogLikelihood<B>, FlowError> {
        self.check_input(x.dims())?;
        Ok(LogLikelihood::from_output(
            &self.forward_unchecked(x, Some(trace)),
            self.bins,
            self.likelihood_offset(),
        ))
    }

    /// `n` samples: `z ~ N(0, T^2 I)` drawn from `seed` on the host, through the inverse.
    pub fn sample(
        &self,
        n: usize,
        temperature: f64,
        seed: u64,
        device: &B::Device,
    ) -> Tensor<B, 4> {
        let [c, h, w] = self.input_shape;
        let mut rng = crate::init::ParamInit::new(seed);
        let z = rng.normal_values(n * c * h * w, temperature);
        // z is built in the model's own shape, so the unchecked pass is safe here.
        self.inverse_unchecked(tensor_from_f64(z, [n, c, h, w], device))
            .0
    }

    /// Sets every ActNorm from the batch `x` (Glow's data-dependent initialisation), in
    /// the order of the forward pass.
    ///
    /// # Errors
    /// [`FlowError::InputShape`] when `x` is not `[N, C, H, W]` with the flow's shape.
    pub fn initialize_actnorm(self, x: Tensor<B, 4>) -> Result<Self, FlowError> {
        self.check_input(x.dims())?;
        let mut x = x;
        if let Some(pre) = &self.preprocess {
            x = pre.forward(x, None).0;
        }
        let mut scales = Vec::with_capacity(self.scales.len());
        for scale in self.scales {
            let (pre, y) = initialize_steps(scale.pre, x);
            x = y;
            if scale.squeeze {
                x = squeeze(x);
            }
            let (post, y) = initialize_steps(scale.post, x);
            x = y;
            if scale.factor_out {
                x = factor_out(x).0;
            }
            scales.push(ScaleBlock {
                pre,
                squeeze: scale.squeeze,
                post,
                factor_out: scale.factor_out,
            });
        }
        Ok(Self { scales, ..self })
    }
}

/// Splits the channels in two: the first half continues through the flow, the second
/// leaves it (the reference's `keepChannels`).
fn factor_out<B: Backend>(x: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let c = x.dims()[1];
    (x.clone().narrow(1, 0, c / 2), x.narrow(1, c / 2, c - c / 2))
}

/// Puts the part `scale` factored out back behind `x` (the last one taken first).
fn restore_factored<B: FlowBackend>(
    x: Tensor<B, 4>,
    scale: &ScaleBlock<B>,
    factored: &mut Vec<Tensor<B, 4>>,
) -> Tensor<B, 4> {
    match (scale.factor_out, factored.pop()) {
        (true, Some(part)) => Tensor::cat(vec![x, part], 1),
        (true, None) => x,
        (false, part) => {
            factored.extend(part);
            x
        }
    }
}

fn initialize_steps<B: FlowBackend>(
    steps: Vec<FlowStep<B>>,
    x: Tensor<B, 4>,
) -> (Vec<FlowStep<B>>, Tensor<B, 4>) {
    let mut x = x;
    let mut out = Vec::with_capacity(steps.len());
    for step in steps {
        let step = match step {
            FlowStep::ActNorm(layer) => FlowStep::ActNorm(layer.initialize(&x)),
            other => other,
        };
        x = step.forward(x, None).0;
        out.push(step);
    }
    (out, x)
}

impl<B: FlowBackend> Flow<B> for FlowNet<B> {
    fn input_shape(&self) -> [usize; 3] {
        self.input_shape
    }

    fn forward_traced(
        &self,
        x: Tensor<B, 4>,
        trace: Option<&mut Trace<B>>,
    ) -> Result<FlowOutput<B>, FlowError> {
        self.check_input(x.dims())?;
        Ok(self.forward_unchecked(x, trace))
    }

    fn inverse_with_log_det(
        &self,
        z: Tensor<B, 4>,
    ) -> Result<(Tensor<B, 4>, Tensor<B, 1>), FlowError> {
        self.check_input(z.dims())?;
        Ok(self.inverse_unchecked(z))
    }
}

/// The passes themselves, for callers that have checked the shape.
impl<B: FlowBackend> FlowNet<B> {
    fn forward_unchecked(
        &self,
        x: Tensor<B, 4>,
        mut trace: Option<&mut Trace<B>>,
    ) -> FlowOutput<B> {
        let n = x.dims()[0];
        let device = x.device();
        let mut log_det = Tensor::<B, 1>::zeros([n], &device);
        let mut x = x;
        if let Some(pre) = &self.preprocess {
            let (y, ld) = pre.forward(x, trace.as_deref_mut());
            x = y;
            log_det = log_det + ld;
        }
        let mut factored = Vec::new();
        for scale in &self.scales {
            for step in &scale.pre {
                let (y, ld) = step.forward(x, trace.as_deref_mut());
                x = y;
                log_det = log_det + ld;
            }
            if scale.squeeze {
                x = squeeze(x);
            }
            for step in &scale.post {
                let (y, ld) = step.forward(x, trace.as_deref_mut());
                x = y;
                log_det = log_det + ld;
            }
            if scale.factor_out {
                let (kept, part) = factor_out(x);
                factored.push(part);
                x = kept;
            }
        }
        // Lay the latent back on the input grid: undo factor-outs and squeezes only.
        for scale in self.scales.iter().rev() {
            x = restore_factored(x, scale, &mut factored);
            if scale.squeeze {
                x = unsqueeze(x);
            }
        }
        FlowOutput { z: x, log_det }
    }

    fn inverse_unchecked(&self, z: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 1>) {
        let n = z.dims()[0];
        let mut log_det = Tensor::<B, 1>::zeros([n], &z.device());
        // Take the latent apart as the forward pass assembled it.
        let mut x = z;
        let mut factored = Vec::new();
        for scale in &self.scales {
            if scale.squeeze {
                x = squeeze(x);
            }
            if scale.factor_out {
                let (kept, part) = factor_out(x);
                factored.push(part);
                x = kept;
            }
        }
        for scale in self.scales.iter().rev() {
            x = restore_factored(x, scale, &mut factored);
            for step in scale.post.iter().rev() {
                let (y, ld) = step.inverse(x);
                x = y;
                log_det = log_det + ld;
            }
            if scale.squeeze {
                x = unsqueeze(x);
            }
            for step in scale.pre.iter().rev() {
                let (y, ld) = step.inverse(x);
                x = y;
                log_det = log_det + ld;
            }
        }
        if let Some(pre) = &self.preprocess {
            let (u, ld) = pre.inverse(x);
            x = u;
            log_det = log_det + ld;
        }
        (x, log_det)
    }
}
