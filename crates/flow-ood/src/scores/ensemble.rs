//! WAIC over an ensemble, Choi, Jang and Alemi, "WAIC, but Why? Generative Ensembles
//! for Robust Anomaly Detection" (2018).

use burn::tensor::Tensor;
use flow_core::FlowNet;
use flow_kernels::FlowBackend;

use super::likelihood::log_likelihood_nats;
use super::{Score, ScoreError};
use crate::Orientation;

/// `E_θ[log p_θ(x)] - Var_θ[log p_θ(x)]` over `K` flows of one configuration trained
/// from different seeds (population variance over the members, in nats²). Inputs on
/// which independently trained flows disagree are penalised: the models agree on what
/// they learned and scatter elsewhere. Higher means more in-distribution.
#[derive(Debug, Clone)]
pub struct Waic<'a, B: FlowBackend> {
    members: Vec<&'a FlowNet<B>>,
}

impl<'a, B: FlowBackend> Waic<'a, B> {
    /// WAIC over `members`.
    ///
    /// # Errors
    /// [`ScoreError::Fit`] for fewer than two members (a variance needs two).
    pub fn new(members: Vec<&'a FlowNet<B>>) -> Result<Self, ScoreError> {
        if members.len() < 2 {
            return Err(ScoreError::Fit {
                score: "WAIC".into(),
                reason: format!("an ensemble needs 2 flows or more, got {}", members.len()),
            });
        }
        Ok(Self { members })
    }

    /// How many flows the ensemble holds.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Always false: an ensemble holds two flows or more.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// WAIC of each input from its log-likelihoods under each member, `per_member[k][i]`:
/// the mean minus the population variance over `k`.
pub fn waic_of(per_member: &[Vec<f64>]) -> Vec<f64> {
    mean_minus_variance(per_member)
}

/// Mean minus population variance of each column of `per_member[k][i]`.
fn mean_minus_variance(per_member: &[Vec<f64>]) -> Vec<f64> {
    let k = per_member.len() as f64;
    let n = per_member.first().map_or(0, Vec::len);
    (0..n)
        .map(|i| {
            let mean = per_member.iter().map(|m| m[i]).sum::<f64>() / k;
            let var = per_member
                .iter()
                .map(|m| (m[i] - mean).powi(2))
                .sum::<f64>()
                / k;
            mean - var
        })
        .collect()
}

impl<B: FlowBackend> Score<B> for Waic<'_, B> {
    fn name(&self) -> &str {
        "WAIC"
    }

    fn orientation(&self) -> Orientation {
        Orientation::HigherIsInDistribution
    }

    fn score(&self, x: Tensor<B, 4>) -> Result<Vec<f64>, ScoreError> {
        let per_member = self
            .members
            .iter()
            .map(|model| log_likelihood_nats(model, self.name(), x.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(mean_minus_variance(&per_member))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scores::testing::{random_images, tiny_flow};

    #[test]
    fn identical_members_give_their_log_likelihood() {
        let model = tiny_flow(1);
        let x = random_images(3, 2);
        let waic = Waic::new(vec![&model, &model, &model]).unwrap();
        let ll = log_likelihood_nats(&model, "ll", x.clone()).unwrap();
        assert_eq!(waic.score(x).unwrap(), ll);
    }

    #[test]
    fn disagreement_is_subtracted() {
        let got = mean_minus_variance(&[vec![-10.0, -4.0], vec![-12.0, -4.0]]);
        assert_eq!(got, [-12.0, -4.0]);
        let model = tiny_flow(1);
        assert!(Waic::new(vec![&model]).is_err());
        let other = tiny_flow(2);
        assert_eq!(Waic::new(vec![&model, &other]).unwrap().len(), 2);
    }
}
