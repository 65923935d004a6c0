//! The gradient norm and the score statistic, Bergamin et al., "Model-agnostic
//! out-of-distribution detection using combined statistical tests" (AISTATS 2022).

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Tensor;
use flow_core::batch_norm::with_running_statistics;
use flow_core::FlowNet;
use flow_kernels::FlowAutodiffBackend;

use super::{Score, ScoreError};
use crate::Orientation;

/// Collects every parameter's gradient, flattened in the module's visiting order.
/// Tensors that record no gradient (batch normalisation's running statistics, fixed
/// permutations) are not parameters of `log p` and are left out; a parameter that
/// records one but got none (unused by this input) contributes zeros, so positions line
/// up across inputs.
struct FlattenGrads<'g, B: AutodiffBackend> {
    grads: &'g B::Gradients,
    values: Vec<f64>,
    failure: Option<String>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for FlattenGrads<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let tensor = param.val();
        if !tensor.is_require_grad() {
            return;
        }
        match tensor.grad(self.grads) {
            Some(grad) => match grad.into_data().convert::<f64>().to_vec::<f64>() {
                Ok(values) => self.values.extend(values),
                Err(e) => self.failure = Some(format!("{e:?}")),
            },
            None => self
                .values
                .extend(std::iter::repeat_n(0.0, tensor.shape().num_elements())),
        }
    }
}

/// `∇_θ log p_θ(x)` for each input of `x` (one backward pass per input), flattened over
/// every parameter of `model`, with batch normalisation in evaluation mode (running
/// statistics), as a trained model scores.
pub fn per_input_gradients<B: FlowAutodiffBackend>(
    model: &FlowNet<B>,
    name: &str,
    x: Tensor<B, 4>,
) -> Result<Vec<Vec<f64>>, ScoreError> {
    let n = x.dims()[0];
    (0..n)
        .map(|i| {
            let one = x.clone().narrow(0, i, 1);
            let log_p = with_running_statistics(|| model.log_likelihood(one))
                .map_err(|source| ScoreError::Flow {
                    score: name.into(),
                    source,
                })?
                .nats()
                .sum();
            let grads = log_p.backward();
            let mut flatten = FlattenGrads::<B> {
                grads: &grads,
                values: Vec::new(),
                failure: None,
            };
            model.visit(&mut flatten);
            match flatten.failure {
                Some(message) => Err(ScoreError::Readback {
                    score: name.into(),
                    message,
                }),
                None => Ok(flatten.values),
            }
        })
        .collect()
}

/// A diagonal Fisher information estimate: the mean over training inputs of each
/// squared gradient component, `F_k = E[(∂ log p / ∂θ_k)²]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagonalFisher {
    diagonal: Vec<f64>,
    damping: f64,
}

impl DiagonalFisher {
    /// The estimate from training inputs' gradients ([`per_input_gradients`]); a
    /// damping of `1e-8` times the mean diagonal keeps components the training inputs
    /// never moved from dividing by zero.
    ///
    /// # Errors
    /// [`ScoreError::Fit`] with no gradients, or gradients of different lengths.
    pub fn estimate(gradients: &[Vec<f64>]) -> Result<Self, ScoreError> {
        let mut accumulator = FisherAccumulator::default();
        for g in gradients {
            accumulator.add(g)?;
        }
        accumulator.finish()
    }

    /// `gᵀ F⁻¹ g` with `F` this diagonal (damped).
    pub fn quadratic_form(&self, g: &[f64]) -> f64 {
        g.iter()
            .zip(&self.diagonal)
            .map(|(v, f)| v * v / (f + self.damping))
            .sum()
    }
}

/// A [`DiagonalFisher`] built one gradient at a time, for flows whose gradients are too
/// large to keep.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FisherAccumulator {
    squares: Vec<f64>,
    count: usize,
}

impl FisherAccumulator {
    /// Adds one training input's gradient.
    ///
    /// # Errors
    /// [`ScoreError::Fit`] for a gradient of another length than the earlier ones.
    pub fn add(&mut self, gradient: &[f64]) -> Result<(), ScoreError> {
        if self.count == 0 {
            self.squares = vec![0.0; gradient.len()];
        } else if gradient.len() != self.squares.len() {
            return Err(ScoreError::Fit {
                score: "score statistic".into(),
                reason: "gradients of different lengths".into(),
            });
        }
        for (s, v) in self.squares.iter_mut().zip(gradient) {
            *s += v * v;
        }
        self.count += 1;
        Ok(())
    }

    /// The estimate from the gradients added.
    ///
    /// # Errors
    /// [`ScoreError::Fit`] when none was added.
    pub fn finish(self) -> Result<DiagonalFisher, ScoreError> {
        if self.count == 0 {
            return Err(ScoreError::Fit {
                score: "score statistic".into(),
                reason: "no training gradients".into(),
            });
        }
        let count = self.count as f64;
        let diagonal: Vec<f64> = self.squares.into_iter().map(|s| s / count).collect();
        let mean = diagonal.iter().sum::<f64>() / diagonal.len().max(1) as f64;
        Ok(DiagonalFisher {
            diagonal,
            damping: 1e-8 * mean + f64::MIN_POSITIVE,
        })
    }
}

/// The per-input gradient of `log p(x)` with respect to the flow's parameters, as an
/// OOD score: its L2 norm `‖∇_θ log p_θ(x)‖` (the *gradient norm*), or, with a
/// [`DiagonalFisher`] estimated on training inputs, the *score statistic*
/// `∇ᵀ F⁻¹ ∇` that weighs each direction by how much training inputs move it. A
/// well-fitted input sits near a stationary point of the likelihood; an OOD input pulls
/// the parameters hard. Higher means more out-of-distribution.
///
/// Costs one backward pass per input (batches are split into single inputs).
#[derive(Debug, Clone)]
pub struct GradientScore<'a, B: FlowAutodiffBackend> {
    model: &'a FlowNet<B>,
    fisher: Option<DiagonalFisher>,
}

impl<'a, B: FlowAutodiffBackend> GradientScore<'a, B> {
    /// The raw gradient norm.
    pub fn norm(model: &'a FlowNet<B>) -> Self {
        Self {
            model,
            fisher: None,
        }
    }

    /// The score statistic, Fisher-scaled.
    pub fn fisher_scaled(model: &'a FlowNet<B>, fisher: DiagonalFisher) -> Self {
        Self {
            model,
            fisher: Some(fisher),
        }
    }
}

impl<B: FlowAutodiffBackend> Score<B> for GradientScore<'_, B> {
    fn name(&self) -> &str {
        match self.fisher {
            None => "gradient norm",
            Some(_) => "score statistic",
        }
    }

    fn orientation(&self) -> Orientation {
        Orientation::HigherIsOutOfDistribution
    }

    fn score(&self, x: Tensor<B, 4>) -> Result<Vec<f64>, ScoreError> {
        let gradients = per_input_gradients(self.model, self.name(), x)?;
        Ok(gradients
            .iter()
            .map(|g| match &self.fisher {
                None => g.iter().map(|v| v * v).sum::<f64>().sqrt(),
                Some(fisher) => fisher.quadratic_form(g),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};
    use burn::module::{AutodiffModule, ModuleMapper};
    use burn::tensor::TensorData;
    use flow_core::FlowConfig;
    use flow_masks::MaskSchedule;

    use crate::scores::likelihood::log_likelihood_nats;
    use crate::scores::testing::random_images;

    type Ad = Autodiff<Flex>;

    /// Adds `step` times a fixed direction (a ramp over each parameter) to every
    /// parameter of `log p`, recording the direction in visiting order; the running
    /// statistics of batch normalisation are not parameters and stay.
    struct Shift {
        step: f64,
        direction: Vec<f64>,
        path: Vec<String>,
    }

    impl<B: burn::tensor::backend::Backend> ModuleMapper<B> for Shift {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }

        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }

        fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
            let running = self
                .path
                .last()
                .is_some_and(|name| name.starts_with("running_"));
            if running {
                return param;
            }
            let step = self.step;
            let mut direction = Vec::new();
            let mapped = param.map(|t| {
                let shape = t.shape();
                direction = (0..shape.num_elements())
                    .map(|k| ((k * 7) % 11) as f64 / 10.0 - 0.5)
                    .collect();
                let delta: Vec<f32> = direction.iter().map(|d| (d * step) as f32).collect();
                let delta = Tensor::<B, D>::from_data(TensorData::new(delta, shape), &t.device());
                t + delta
            });
            self.direction.extend(direction);
            mapped
        }
    }

    fn shifted(model: &FlowNet<Ad>, step: f64) -> (FlowNet<Flex>, Vec<f64>) {
        let mut shift = Shift {
            step,
            direction: Vec::new(),
            path: Vec::new(),
        };
        let model = model.clone().map(&mut shift).valid();
        (model, shift.direction)
    }

    /// A tiny flow moved away from its initialisation: at initialisation batch
    /// normalisation maps the masked pixels exactly onto the kink of the ReLU that
    /// follows, where finite differences and the gradient legitimately differ.
    fn flow() -> FlowNet<Ad> {
        let model = FlowConfig::single_scale([1, 4, 4], MaskSchedule::checkerboard(2), 1, 4)
            .init::<Ad>(11, &Default::default())
            .unwrap();
        flow_core::testing::perturbed(model, 12, 0.05).map(&mut Releaf(Vec::new()))
    }

    /// Makes every parameter of `log p` a leaf that records its gradient again (a
    /// mapped parameter is the output of an addition).
    struct Releaf(Vec<String>);

    impl ModuleMapper<Ad> for Releaf {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.0.push(name.to_string());
        }

        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.0.pop();
        }

        fn map_float<const D: usize>(
            &mut self,
            param: Param<Tensor<Ad, D>>,
        ) -> Param<Tensor<Ad, D>> {
            if self
                .0
                .last()
                .is_some_and(|name| name.starts_with("running_"))
            {
                return param;
            }
            param.map(|t| t.detach().require_grad())
        }
    }

    #[test]
    fn the_gradient_matches_finite_differences_along_a_direction() {
        let model = flow();
        let x = random_images(2, 5);
        let x_ad = Tensor::<Ad, 4>::from_inner(x.clone());
        let grads = per_input_gradients(&model, "g", x_ad).unwrap();
        let h = 1e-3;
        let (up, direction) = shifted(&model, h);
        let (down, _) = shifted(&model, -h);
        assert_eq!(direction.len(), grads[0].len());
        let ll_up = log_likelihood_nats(&up, "up", x.clone()).unwrap();
        let ll_down = log_likelihood_nats(&down, "down", x).unwrap();
        for i in 0..2 {
            let numeric = (ll_up[i] - ll_down[i]) / (2.0 * h);
            let analytic: f64 = grads[i].iter().zip(&direction).map(|(g, d)| g * d).sum();
            assert!(
                (numeric - analytic).abs() <= 0.02 * analytic.abs().max(1.0),
                "input {i}: finite differences {numeric}, gradient {analytic}"
            );
        }
    }

    #[test]
    fn every_input_gets_one_entry_per_trainable_parameter() {
        // Twice: a backward pass must not make the running statistics look like
        // parameters the next time.
        let model = flow();
        let params = flow_core::params::trainable_params(&model);
        for _ in 0..2 {
            let x = Tensor::<Ad, 4>::from_inner(random_images(3, 4));
            let grads = per_input_gradients(&model, "g", x).unwrap();
            assert!(grads.iter().all(|g| g.len() == params), "{params}");
        }
    }

    #[test]
    fn the_score_statistic_with_the_inputs_own_fisher_averages_to_the_parameter_count() {
        let model = flow();
        let x = Tensor::<Ad, 4>::from_inner(random_images(6, 8));
        let grads = per_input_gradients(&model, "g", x.clone()).unwrap();
        let fisher = DiagonalFisher::estimate(&grads).unwrap();
        // Σ_i gᵢᵀ F⁻¹ gᵢ / n = Σ_k F_k / (F_k + damping): one per component that moved,
        // less where a component's own Fisher is as small as the damping.
        let expected: f64 = fisher
            .diagonal
            .iter()
            .map(|f| f / (f + fisher.damping))
            .sum();
        let moved = (0..grads[0].len())
            .filter(|&k| grads.iter().any(|g| g[k] != 0.0))
            .count() as f64;
        assert!(
            expected <= moved && expected > 0.99 * moved,
            "{expected} vs {moved}"
        );
        let stats = GradientScore::fisher_scaled(&model, fisher)
            .score(x.clone())
            .unwrap();
        let mean = stats.iter().sum::<f64>() / 6.0;
        assert!(
            (mean - expected).abs() < 1e-6 * moved,
            "{mean} vs {expected}"
        );
        let norms = GradientScore::norm(&model).score(x).unwrap();
        for (norm, g) in norms.iter().zip(&grads) {
            assert!((norm - g.iter().map(|v| v * v).sum::<f64>().sqrt()).abs() < 1e-9);
        }
    }
}
