//! The NaN/Inf guard: when a step's loss or gradient turns non-finite, find where the
//! non-finite values first appear, so that the error names a layer or a parameter
//! rather than just "NaN".
//!
//! The forward pass is re-run on the failing batch with a [`Trace`] that keeps the
//! couplings' internals, and the records are checked in the order of the pass. Layers
//! that record only their log-determinant (ActNorm, 1x1 convolutions) are checked on
//! that alone, so a non-finite output of such a layer is reported at the next layer
//! that records one.

use flow_kernels::{FlowAutodiffBackend, FlowBackend};
use std::fmt;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::cast::ToElement;
use burn::tensor::Tensor;
use flow_core::likelihood::standard_normal_log_prob;
use flow_core::{Flow, FlowNet, Trace};
use serde::{Deserialize, Serialize};

/// Where non-finite values first appear in a forward or backward pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NonFiniteSite {
    /// The batch itself holds NaN or an infinity.
    Input,
    /// A coupling's st-network produced a non-finite `s` or `t`.
    ScaleShift {
        /// The layer's name, e.g. `coupling1.checkerboard1`.
        layer: String,
    },
    /// A layer's output is non-finite.
    Output {
        /// The layer's name.
        layer: String,
    },
    /// A layer's log-determinant is non-finite.
    LogDet {
        /// The layer's name.
        layer: String,
    },
    /// Every layer is finite but the prior `log N(z; 0, I)` is not (a latent too large
    /// to square).
    Prior,
    /// The gradient of this parameter (its module path) is non-finite.
    Gradient {
        /// The parameter's path in the model, e.g. `scales.0.pre.1.Coupling.g`.
        param: String,
    },
    /// Re-running the batch gave finite values everywhere (the failure did not repeat).
    Unlocated,
}

impl NonFiniteSite {
    /// The layer this site names, if it names one.
    pub fn layer(&self) -> Option<&str> {
        match self {
            NonFiniteSite::ScaleShift { layer }
            | NonFiniteSite::Output { layer }
            | NonFiniteSite::LogDet { layer } => Some(layer),
            _ => None,
        }
    }
}

impl fmt::Display for NonFiniteSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NonFiniteSite::Input => f.write_str("the input batch"),
            NonFiniteSite::ScaleShift { layer } => {
                write!(f, "st-network output (s, t) of layer {layer}")
            }
            NonFiniteSite::Output { layer } => write!(f, "output of layer {layer}"),
            NonFiniteSite::LogDet { layer } => write!(f, "log-determinant of layer {layer}"),
            NonFiniteSite::Prior => f.write_str("the prior log-density of the latent"),
            NonFiniteSite::Gradient { param } => write!(f, "gradient of parameter {param}"),
            NonFiniteSite::Unlocated => {
                f.write_str("not located (a traced re-run of the batch was finite)")
            }
        }
    }
}

/// Whether every entry of `x` is finite.
pub fn all_finite<B: FlowBackend, const D: usize>(x: &Tensor<B, D>) -> bool {
    x.clone().is_finite().all().into_scalar().to_bool()
}

/// Re-runs `model` on the batch `x` with a coupling trace and returns the first place
/// where a non-finite value appears, in the order of the forward pass: the input, then
/// per layer its `s` and `t`, its output and its log-determinant, then the prior.
///
/// On a model in training mode this runs one more forward pass, so BatchNorm running
/// statistics move once more; call it only when the run is stopping anyway.
pub fn locate_non_finite<B: FlowBackend>(model: &FlowNet<B>, x: Tensor<B, 4>) -> NonFiniteSite {
    if !all_finite(&x) {
        return NonFiniteSite::Input;
    }
    let mut trace = Trace::with_couplings();
    // The batch already went through this model in the failed step, so its shape fits;
    // were it refused, there would be nothing further to locate.
    let Ok(output) = model.forward_traced(x, Some(&mut trace)) else {
        return NonFiniteSite::Unlocated;
    };
    for record in trace.layers() {
        if let Some(coupling) = &record.coupling {
            if !all_finite(&coupling.s) || !all_finite(&coupling.t) {
                return NonFiniteSite::ScaleShift {
                    layer: record.name.clone(),
                };
            }
            if !all_finite(&coupling.output) {
                return NonFiniteSite::Output {
                    layer: record.name.clone(),
                };
            }
        }
        if !all_finite(&record.log_det) {
            return NonFiniteSite::LogDet {
                layer: record.name.clone(),
            };
        }
    }
    if !all_finite(&output.z) {
        // Only layers without a recorded output (ActNorm, 1x1 conv) can get here; the
        // last one is the best guess we have.
        return trace
            .layers()
            .last()
            .map_or(NonFiniteSite::Unlocated, |record| NonFiniteSite::Output {
                layer: record.name.clone(),
            });
    }
    if !all_finite(&standard_normal_log_prob(output.z)) {
        return NonFiniteSite::Prior;
    }
    NonFiniteSite::Unlocated
}

struct FirstNonFiniteGrad<'a> {
    grads: &'a GradientsParams,
    path: Vec<String>,
    found: Option<String>,
}

impl<B: FlowAutodiffBackend> ModuleVisitor<B> for FirstNonFiniteGrad<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if self.found.is_some() {
            return;
        }
        let Some(grad) = self.grads.get::<B::InnerBackend, D>(param.id) else {
            return;
        };
        if !all_finite(&grad) {
            self.found = Some(if self.path.is_empty() {
                format!("{}", param.id)
            } else {
                self.path.join(".")
            });
        }
    }
}

/// The module path of the first parameter of `module` (in visiting order) whose
/// gradient holds a non-finite value, if any.
pub fn first_non_finite_gradient<B: FlowAutodiffBackend, M: Module<B>>(
    module: &M,
    grads: &GradientsParams,
) -> Option<String> {
    let mut visitor = FirstNonFiniteGrad {
        grads,
        path: Vec::new(),
        found: None,
    };
    module.visit(&mut visitor);
    visitor.found
}
