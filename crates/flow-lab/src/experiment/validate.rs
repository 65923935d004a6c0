//! Checks an experiment configuration before anything is loaded, trained or written,
//! so that a mistake costs seconds, not the hour a run takes to reach it.

use std::collections::HashSet;

use super::config::{ExperimentConfig, ModelSpec};
use super::ExperimentError;

/// Every problem of `config`, or nothing: batch sizes, steps, rates and evaluation
/// settings that cannot run, model names that are not unique or not usable as file
/// names, flows whose input shape is not the data's (1x28x28), and a negative model
/// whose baseline is not trained before it.
///
/// # Errors
/// [`ExperimentError::InvalidConfig`] listing every problem found.
pub fn validate(config: &ExperimentConfig) -> Result<(), ExperimentError> {
    let mut problems = Vec::new();
    let eval = &config.eval;
    if eval.batch_size == 0 {
        problems.push("eval.batch_size must be at least 1".to_string());
    }
    if eval.dequant_draws == 0 {
        problems.push("eval.dequant_draws must be at least 1".to_string());
    }
    if eval.bootstrap_resamples == 0 {
        problems.push("eval.bootstrap_resamples must be at least 1".to_string());
    }
    if !(eval.temperature.is_finite() && eval.temperature > 0.0) {
        problems.push(format!(
            "eval.temperature must be a positive number (got {})",
            eval.temperature
        ));
    }
    for (what, limit) in [
        ("eval.in_test_limit", eval.in_test_limit),
        ("eval.in_train_limit", eval.in_train_limit),
        ("eval.ood_limit", eval.ood_limit),
    ] {
        if limit == Some(0) {
            problems.push(format!("{what} must be at least 1 when set"));
        }
    }
    if config.models.is_empty() {
        problems.push("the configuration has no models".to_string());
    }
    let mut names = HashSet::new();
    for (k, model) in config.models.iter().enumerate() {
        check_model(model, &mut problems);
        if !names.insert(model.name.as_str()) {
            problems.push(format!("model name `{}` is used twice", model.name));
        }
        if let Some(baseline) = model
            .train
            .negative
            .as_ref()
            .and_then(|n| n.baseline.as_deref())
        {
            let earlier = config.models[..k].iter().any(|m| m.name == baseline);
            if !earlier {
                problems.push(format!(
                    "model `{}`: its baseline `{baseline}` is not a model trained before it",
                    model.name
                ));
            }
        }
    }
    if let Some(scores) = &config.scores {
        problems.extend(scores.problems());
        let model = config.models.iter().find(|m| m.name == scores.model);
        match model {
            None => problems.push(format!(
                "scores.model `{}` is not one of the models",
                scores.model
            )),
            Some(m) if m.train.negative.is_some() => problems.push(format!(
                "scores.model `{}` is trained by negative training: the scores need a flow \
                 trained by maximum likelihood",
                scores.model
            )),
            Some(_) => {}
        }
    }
    if let Some(embedding) = &config.embedding {
        if let Err(e) = embedding.validate() {
            problems.push(format!("embedding: {e}"));
        }
    }
    check_data(config, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ExperimentError::InvalidConfig(problems))
    }
}

/// The problems of the data sources, and of the studies that need a built-in pair
/// (negative training trains on the OOD dataset's own training split; the embedding
/// classifier on FashionMNIST's or MNIST's labels; the scores table's swapped direction
/// swaps the pair).
fn check_data(config: &ExperimentConfig, problems: &mut Vec<String>) {
    problems.extend(config.data.problems());
    if config.data.builtin_pair().is_some() {
        // The built-in datasets are 1x28x28: known before loading. Other sources are
        // checked against the flows once read, before anything is trained or written.
        for model in &config.models {
            if model.flow.input_shape != [1, 28, 28] {
                problems.push(format!(
                    "model `{}`: the flow takes {:?} images but the datasets are [1, 28, 28]",
                    model.name, model.flow.input_shape
                ));
            }
        }
        return;
    }
    let needs_pair = "needs the built-in data (FashionMNIST and MNIST)";
    for model in &config.models {
        if model.train.negative.is_some() {
            problems.push(format!(
                "model `{}`: negative training {needs_pair}",
                model.name
            ));
        }
    }
    if config.embedding.is_some() {
        problems.push(format!("embedding: the classifier rows {needs_pair}"));
    }
    if config.scores.as_ref().is_some_and(|s| s.both_directions) {
        problems.push(format!(
            "scores.both_directions: the swapped direction {needs_pair}; set it to false"
        ));
    }
}

/// The problems of one model's specification.
fn check_model(model: &ModelSpec, problems: &mut Vec<String>) {
    let name = &model.name;
    let usable = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !name.starts_with('-');
    if !usable {
        problems.push(format!(
            "model name `{name}` must be letters, digits, `_` and `-` (it names files)"
        ));
    }
    let train = &model.train;
    if train.steps == 0 {
        problems.push(format!("model `{name}`: train.steps must be at least 1"));
    }
    if train.batch_size == 0 {
        problems.push(format!(
            "model `{name}`: train.batch_size must be at least 1"
        ));
    }
    let lr = train.optim.learning_rate;
    if !(lr.is_finite() && lr > 0.0) {
        problems.push(format!(
            "model `{name}`: the learning rate must be a positive number (got {lr})"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_presets_are_valid() {
        for preset in crate::experiment::Preset::ALL {
            validate(&preset.config()).unwrap();
        }
    }

    #[test]
    fn every_problem_is_listed_at_once() {
        let mut config = ExperimentConfig::smoke();
        config.eval.batch_size = 0;
        config.eval.temperature = f64::NAN;
        config.models[0].train.steps = 0;
        config.models[1].name = config.models[0].name.clone();
        config.models[2].name = "a/b".into();
        config.models[3].flow.input_shape = [3, 32, 32];
        config.models[3].train.optim.learning_rate = -1.0;
        let Err(ExperimentError::InvalidConfig(problems)) = validate(&config) else {
            panic!("an invalid configuration passed");
        };
        let text = problems.join("\n");
        for expected in [
            "eval.batch_size",
            "eval.temperature",
            "train.steps",
            "used twice",
            "`a/b`",
            "[3, 32, 32]",
            "learning rate",
        ] {
            assert!(text.contains(expected), "{expected} missing from:\n{text}");
        }
        assert_eq!(problems.len(), 7, "{text}");
    }

    #[test]
    fn the_scores_model_must_be_a_maximum_likelihood_model_of_the_run() {
        let mut config = ExperimentConfig::smoke();
        let Some(scores) = config.scores.as_mut() else {
            panic!("smoke has an OOD-scores table");
        };
        scores.model = "nope".into();
        let err = validate(&config).unwrap_err().to_string();
        assert!(err.contains("scores.model `nope`"), "{err}");
        let negative = config
            .models
            .iter()
            .find(|m| m.train.negative.is_some())
            .map(|m| m.name.clone())
            .unwrap();
        if let Some(scores) = config.scores.as_mut() {
            scores.model = negative;
        }
        let err = validate(&config).unwrap_err().to_string();
        assert!(err.contains("negative training"), "{err}");
    }

    #[test]
    fn a_negative_baseline_must_be_trained_first() {
        let mut config = ExperimentConfig::smoke();
        let negative = config
            .models
            .iter()
            .position(|m| m.train.negative.is_some())
            .unwrap();
        let model = config.models.remove(negative);
        config.models.insert(0, model);
        let Err(ExperimentError::InvalidConfig(problems)) = validate(&config) else {
            panic!("a baseline trained after its negative model passed");
        };
        assert!(problems[0].contains("baseline"), "{problems:?}");
    }
}
