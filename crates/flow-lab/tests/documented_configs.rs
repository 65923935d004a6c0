//! The configurations under docs/configs read, validate and say what the docs say they
//! do: the own-images template trains on folders, the CIFAR-10 ones are 3x32x32 with
//! the reference's layouts.

use std::path::PathBuf;

use flow_core::models::Architecture;
use flow_lab::experiment::{validate, DataSource, ExperimentConfig};

fn configs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/configs")
}

fn read(name: &str) -> ExperimentConfig {
    ExperimentConfig::from_toml_file(&configs_dir().join(name)).unwrap()
}

#[test]
fn every_documented_configuration_reads_and_validates() {
    let mut seen = 0;
    for entry in std::fs::read_dir(configs_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let config = ExperimentConfig::from_toml_file(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            validate(&config).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            seen += 1;
        }
    }
    assert!(
        seen >= 4,
        "quick-80-steps, own-images and the two CIFAR-10 configurations"
    );
}

#[test]
fn the_own_images_template_trains_on_folders() {
    let config = read("own-images.toml");
    assert!(matches!(config.data.train, DataSource::ImageFolder { .. }));
    assert!(matches!(config.data.test, DataSource::ImageFolder { .. }));
    assert!(config.data.builtin_pair().is_none());
    assert!(config.embedding.is_none());
}

#[test]
fn the_cifar10_configurations_use_the_reference_layouts() {
    for (name, models) in [("cifar10-paper.toml", 2), ("cifar10-cpu.toml", 1)] {
        let config = read(name);
        assert_eq!(config.models.len(), models, "{name}");
        assert!(
            matches!(&config.data.train, DataSource::Cifar10Binary { path } if path.all().len() == 5),
            "{name}: the five training batches"
        );
        for model in &config.models {
            assert_eq!(
                model.flow.input_shape,
                [3, 32, 32],
                "{name}: {}",
                model.name
            );
        }
    }
    let paper = read("cifar10-paper.toml");
    let layouts: Vec<_> = paper.models.iter().map(|m| m.flow.clone()).collect();
    assert_eq!(layouts[0], flow_core::FlowConfig::cifar10_realnvp());
    assert_eq!(layouts[1], flow_core::FlowConfig::cifar10_glow());
    assert!(matches!(layouts[1].architecture, Architecture::Glow(_)));
}
