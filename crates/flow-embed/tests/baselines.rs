//! The Gaussian baselines against hand-computed answers and a brute-force inverse.

use flow_embed::{ClassConditionalGaussian, EmbedError, Embeddings, GaussianFit};
use proptest::prelude::*;

fn emb(rows: &[[f32; 2]], labels: Option<Vec<u32>>) -> Embeddings {
    Embeddings::new(rows.iter().flatten().copied().collect(), 2, labels).unwrap()
}

#[test]
fn single_gaussian_matches_a_hand_computed_case() {
    // Mean 0, covariance diag(0.5, 2) (divided by N = 4), no correlation.
    let data = emb(&[[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]], None);
    let fit = GaussianFit::fit(&data, 0.0).unwrap();
    assert_eq!(fit.mean(), &[0.0, 0.0]);
    // (1, 2): 1 / 0.5 + 4 / 2 = 4.
    assert!((fit.mahalanobis_sq(&[1.0, 2.0]).unwrap() - 4.0).abs() < 1e-12);
    // det = 1, so log N = -(4 + 2 ln 2 pi) / 2.
    let expected = -0.5 * (4.0 + 2.0 * (2.0 * std::f64::consts::PI).ln());
    assert!((fit.log_density(&[1.0, 2.0]).unwrap() - expected).abs() < 1e-12);
    let scores = fit.scores(&data).unwrap();
    // Every training point is at d^2 = 2; scores are -d^2 (higher = more in-distribution).
    for s in scores {
        assert!((s + 2.0).abs() < 1e-12);
    }
}

#[test]
fn class_conditional_uses_the_nearest_class_and_the_pooled_covariance() {
    // Class 0 around (0, 0), class 1 around (10, 0); pooled covariance diag(0.5, 0.5).
    let mut rows = vec![[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]];
    rows.extend(rows.clone().iter().map(|[x, y]| [x + 10.0, *y]));
    let labels = vec![0, 0, 0, 0, 1, 1, 1, 1];
    let fit = ClassConditionalGaussian::fit(&emb(&rows, Some(labels)), 0.0).unwrap();
    assert_eq!(fit.classes(), &[0, 1]);
    let d = fit.mahalanobis_sq(&[9.0, 0.0]).unwrap();
    assert!(
        (d[0] - 162.0).abs() < 1e-9 && (d[1] - 2.0).abs() < 1e-9,
        "{d:?}"
    );
    let (class, d2) = fit.nearest(&[9.0, 0.0]).unwrap();
    assert_eq!(class, 1);
    assert!((d2 - 2.0).abs() < 1e-9);
    let far = emb(&[[5.0, 0.0], [9.0, 0.0]], None);
    let scores = fit.scores(&far).unwrap();
    assert!((scores[0] + 50.0).abs() < 1e-9 && (scores[1] + 2.0).abs() < 1e-9);
    // The single Gaussian sees one wide blob and calls the midpoint typical.
    let single = GaussianFit::fit(&emb(&rows, None), 0.0).unwrap();
    let s = single.scores(&far).unwrap();
    assert!(s[0] > s[1], "the midpoint is the single Gaussian's mean");
}

#[test]
fn singular_and_ill_shaped_input_gets_typed_errors() {
    let constant = emb(&[[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]], Some(vec![0, 1, 0]));
    for ridge in [0.0, 1e-6] {
        assert!(matches!(
            GaussianFit::fit(&constant, ridge),
            Err(EmbedError::Singular { pivot: 0, .. })
        ));
    }
    // Collinear: singular without a ridge, fine with one.
    let line = emb(&[[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], None);
    assert!(matches!(
        GaussianFit::fit(&line, 0.0),
        Err(EmbedError::Singular { pivot: 1, .. })
    ));
    assert!(GaussianFit::fit(&line, 1e-6).is_ok());
    let one = emb(&[[0.0, 0.0]], Some(vec![0]));
    assert!(matches!(
        GaussianFit::fit(&one, 0.0),
        Err(EmbedError::Shape(_))
    ));
    assert!(matches!(
        ClassConditionalGaussian::fit(&line, 0.0),
        Err(EmbedError::Shape(_))
    ));
    assert!(matches!(
        GaussianFit::fit(&line, -1.0),
        Err(EmbedError::Config(_))
    ));
    let fit = GaussianFit::fit(&line, 1e-3).unwrap();
    assert!(matches!(
        fit.mahalanobis_sq(&[0.0]),
        Err(EmbedError::Shape(_))
    ));
    let three = Embeddings::new(vec![0.0; 6], 3, None).unwrap();
    assert!(matches!(fit.scores(&three), Err(EmbedError::Shape(_))));
}

/// `x^T S^{-1} x` with `S^{-1}` from Gauss-Jordan elimination.
fn brute_force_quadratic(cov: &[f64], d: usize, v: &[f64]) -> f64 {
    let mut a: Vec<f64> = Vec::with_capacity(d * 2 * d);
    for i in 0..d {
        a.extend_from_slice(&cov[i * d..(i + 1) * d]);
        a.extend((0..d).map(|j| f64::from(u8::from(i == j))));
    }
    let w = 2 * d;
    for col in 0..d {
        let pivot = (col..d)
            .max_by(|&x, &y| a[x * w + col].abs().total_cmp(&a[y * w + col].abs()))
            .unwrap();
        for k in 0..w {
            a.swap(col * w + k, pivot * w + k);
        }
        let p = a[col * w + col];
        for k in 0..w {
            a[col * w + k] /= p;
        }
        for row in 0..d {
            if row != col {
                let f = a[row * w + col];
                for k in 0..w {
                    a[row * w + k] -= f * a[col * w + k];
                }
            }
        }
    }
    (0..d)
        .map(|i| (0..d).map(|j| v[i] * a[i * w + d + j] * v[j]).sum::<f64>())
        .sum()
}

proptest! {
    #[test]
    fn mahalanobis_matches_a_brute_force_inverse(
        d in 1usize..5,
        values in proptest::collection::vec(-5.0f32..5.0, 60),
        query in proptest::collection::vec(-5.0f32..5.0, 5),
    ) {
        let n = 60 / d;
        let data = Embeddings::new(values[..n * d].to_vec(), d, None).unwrap();
        let fit = GaussianFit::fit(&data, 0.0).unwrap();
        let mean: Vec<f64> = (0..d)
            .map(|j| data.rows().map(|r| f64::from(r[j])).sum::<f64>() / n as f64)
            .collect();
        let mut cov = vec![0.0; d * d];
        for r in data.rows() {
            for i in 0..d {
                for j in 0..d {
                    cov[i * d + j] +=
                        (f64::from(r[i]) - mean[i]) * (f64::from(r[j]) - mean[j]) / n as f64;
                }
            }
        }
        let v: Vec<f64> = (0..d).map(|j| f64::from(query[j]) - mean[j]).collect();
        let expected = brute_force_quadratic(&cov, d, &v);
        let got = fit.mahalanobis_sq(&query[..d]).unwrap();
        prop_assert!((got - expected).abs() <= 1e-8 * expected.max(1.0), "{got} vs {expected}");
    }
}
