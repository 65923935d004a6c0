//! Embeddings and labels through `.npy` files.

use flow_embed::{EmbedError, Embeddings};
use proptest::prelude::*;

proptest! {
    #[test]
    fn embeddings_and_labels_round_trip(
        rows in 0usize..20,
        dim in 1usize..6,
        seed in any::<u32>(),
        with_labels in any::<bool>(),
    ) {
        let values: Vec<f32> = (0..rows * dim)
            .map(|i| ((seed as usize).wrapping_mul(i + 7) % 2001) as f32 / 100.0 - 10.0)
            .collect();
        let labels = with_labels.then(|| (0..rows as u32).map(|i| i % 10).collect());
        let emb = Embeddings::new(values, dim, labels).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (v, l) = (dir.path().join("emb.npy"), dir.path().join("labels.npy"));
        let label_path = with_labels.then_some(l.as_path());
        emb.write_npy(&v, label_path).unwrap();
        let back = Embeddings::read_npy(&v, label_path).unwrap();
        prop_assert_eq!(back, emb);
    }
}

#[test]
fn bad_files_are_named_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cube.npy");
    let cube = flow_data::formats::npy::NpyArray::new(
        vec![2, 2, 2],
        flow_data::formats::npy::NpyData::F32(vec![0.0; 8]),
    )
    .unwrap();
    flow_data::formats::npy::write_npy(&path, &cube).unwrap();
    let err = Embeddings::read_npy(&path, None).unwrap_err();
    assert!(matches!(err, EmbedError::Shape(_)));
    assert!(err.to_string().contains("cube.npy"), "{err}");

    let nan = dir.path().join("nan.npy");
    let array = flow_data::formats::npy::NpyArray::new(
        vec![2, 2],
        flow_data::formats::npy::NpyData::F64(vec![0.0, 1.0, f64::NAN, 2.0]),
    )
    .unwrap();
    flow_data::formats::npy::write_npy(&nan, &array).unwrap();
    let err = Embeddings::read_npy(&nan, None).unwrap_err();
    assert!(err.to_string().contains("embedding 1 entry 0"), "{err}");

    let emb = Embeddings::new(vec![0.0; 4], 2, None).unwrap();
    let labels = dir.path().join("labels.npy");
    assert!(emb
        .write_npy(&dir.path().join("e.npy"), Some(&labels))
        .is_err());
    let negative = flow_data::formats::npy::NpyArray::new(
        vec![2],
        flow_data::formats::npy::NpyData::I64(vec![0, -1]),
    )
    .unwrap();
    flow_data::formats::npy::write_npy(&labels, &negative).unwrap();
    let err = Embeddings::read_npy(&dir.path().join("e.npy"), Some(&labels)).unwrap_err();
    assert!(err.to_string().contains("label 1 is -1"), "{err}");
    let missing = Embeddings::read_npy(&dir.path().join("absent.npy"), None).unwrap_err();
    assert!(missing.to_string().contains("absent.npy"));
}

#[test]
fn constructor_checks_its_invariants() {
    assert!(Embeddings::new(vec![0.0; 5], 2, None).is_err());
    assert!(Embeddings::new(vec![0.0; 4], 0, None).is_err());
    assert!(Embeddings::new(vec![0.0; 4], 2, Some(vec![1])).is_err());
    assert!(Embeddings::new(vec![0.0, f32::INFINITY], 2, None).is_err());
    let e = Embeddings::new(vec![1.0, 2.0, 3.0, 4.0], 2, Some(vec![0, 1])).unwrap();
    assert_eq!(e.len(), 2);
    assert_eq!(e.row(1), Some(&[3.0f32, 4.0][..]));
    assert_eq!(e.row(2), None);
}
