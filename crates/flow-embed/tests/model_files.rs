//! Saved models load back identical; damaged files are refused with the file's name.

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use flow_embed::{ClassifierConfig, EmbedError, Standardizer, TabularFlow, TabularFlowConfig};

type B = Flex;

fn flow() -> TabularFlow<B> {
    let device = Default::default();
    let standardizer =
        Standardizer::new(vec![0.1, -2.0, 3.0, 0.3], vec![1.5, 0.2, 7.0, 1.0]).unwrap();
    let config = TabularFlowConfig {
        couplings: 3,
        hidden: 16,
        ..TabularFlowConfig::new(4)
    };
    let x = Tensor::<B, 2>::from_data(
        TensorData::new(
            (0..40)
                .map(|i| (i as f32 * 0.37).sin() * 3.0)
                .collect::<Vec<_>>(),
            [10, 4],
        ),
        &device,
    );
    // ActNorm initialised from data, so the record holds non-default values.
    config
        .init::<B>(5, standardizer, &device)
        .unwrap()
        .initialize_actnorm(x)
        .unwrap()
}

fn probe() -> Tensor<B, 2> {
    Tensor::from_data(
        TensorData::new(vec![0.5f32, -1.0, 2.0, 0.0, 1.0, 1.0, -3.0, 0.2], [2, 4]),
        &Default::default(),
    )
}

#[test]
fn a_flow_round_trips_with_its_standardizer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flow.embflow");
    let model = flow();
    model.save(&path).unwrap();
    let loaded = TabularFlow::<B>::load(&path, &Default::default()).unwrap();
    assert_eq!(loaded.config(), model.config());
    assert_eq!(loaded.standardizer(), model.standardizer());
    let a = model.log_prob(probe()).unwrap().into_data();
    let b = loaded.log_prob(probe()).unwrap().into_data();
    assert_eq!(a, b);
}

#[test]
fn a_classifier_round_trips() {
    let device = Default::default();
    let config = ClassifierConfig {
        input_shape: [1, 8, 8],
        classes: 3,
        channels: vec![2, 3],
        embedding_dim: 5,
        batch_norm: true,
    };
    let model = config.init::<B>(9, &device).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.embcls");
    model.save(&path).unwrap();
    let loaded = flow_embed::Classifier::<B>::load(&path, &device).unwrap();
    assert_eq!(loaded.config(), &config);
    let x = Tensor::<B, 4>::from_data(
        TensorData::new(
            (0..128).map(|i| (i % 7) as f32 / 7.0).collect::<Vec<_>>(),
            [2, 1, 8, 8],
        ),
        &device,
    );
    assert_eq!(
        model.logits(x.clone()).into_data(),
        loaded.logits(x).into_data()
    );
    // A classifier file is not a flow file.
    let err = TabularFlow::<B>::load(&path, &device).unwrap_err();
    assert!(matches!(err, EmbedError::ModelFile { .. }), "{err}");
}

#[test]
fn damaged_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flow.embflow");
    flow().save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let device = Default::default();
    let load = |b: &[u8]| {
        std::fs::write(&path, b).unwrap();
        TabularFlow::<B>::load(&path, &device)
            .map(|_| ())
            .unwrap_err()
    };
    for cut in [0, 5, 12, 30, bytes.len() / 2, bytes.len() - 1] {
        let err = load(&bytes[..cut]);
        assert!(err.to_string().contains("flow.embflow"), "{err}");
        assert!(matches!(err, EmbedError::ModelFile { .. }), "{err}");
    }
    for at in [3, 9, 40, bytes.len() / 2, bytes.len() - 3] {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x10;
        assert!(matches!(load(&flipped), EmbedError::ModelFile { .. }));
    }
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(
        TabularFlow::<B>::load(&path, &device),
        Err(EmbedError::Io { .. })
    ));
    // No temporary files are left beside a written model.
    flow().save(&path).unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn parameter_counts_match_the_modules() {
    use burn::module::Module;
    let device = Default::default();
    for (actnorm, hidden_layers) in [(true, 0), (false, 2)] {
        let config = TabularFlowConfig {
            couplings: 3,
            hidden: 16,
            hidden_layers,
            actnorm,
            ..TabularFlowConfig::new(5)
        };
        let flow = config
            .init::<B>(0, Standardizer::identity(5), &device)
            .unwrap();
        assert_eq!(flow.num_params(), config.num_params());
    }
    for batch_norm in [true, false] {
        let config = ClassifierConfig {
            batch_norm,
            ..ClassifierConfig::fashion_mnist()
        };
        // burn also counts BatchNorm's running mean and variance; the config does not.
        let running: usize = if batch_norm {
            2 * config.channels.iter().sum::<usize>()
        } else {
            0
        };
        assert_eq!(
            config.init::<B>(0, &device).unwrap().num_params(),
            config.num_params() + running
        );
    }
}
