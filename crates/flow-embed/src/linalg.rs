//! The little dense linear algebra the Gaussian baselines need, in `f64` on the host.

/// A failed Cholesky pivot: its index and value (not positive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NotPositiveDefinite {
    pub pivot: usize,
    pub value: f64,
}

/// The lower-triangular `L` with `L L^T = a` for a symmetric `n x n` row-major `a`.
pub(crate) fn cholesky(a: &[f64], n: usize) -> Result<Vec<f64>, NotPositiveDefinite> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let dot: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            let v = a[i * n + j] - dot;
            if i == j {
                if !(v > 0.0 && v.is_finite()) {
                    return Err(NotPositiveDefinite { pivot: i, value: v });
                }
                l[i * n + i] = v.sqrt();
            } else {
                l[i * n + j] = v / l[j * n + j];
            }
        }
    }
    Ok(l)
}

/// `|L^{-1} v|^2` for the Cholesky factor `l` of `a`: the quadratic form `v^T a^{-1} v`.
pub(crate) fn inverse_quadratic_form(l: &[f64], n: usize, v: &mut [f64]) -> f64 {
    // Forward substitution in place: v becomes L^{-1} v.
    for i in 0..n {
        let dot: f64 = (0..i).map(|k| l[i * n + k] * v[k]).sum();
        v[i] = (v[i] - dot) / l[i * n + i];
    }
    v.iter().map(|x| x * x).sum()
}

/// `log det a` from its Cholesky factor.
pub(crate) fn log_det_from_cholesky(l: &[f64], n: usize) -> f64 {
    2.0 * (0..n).map(|i| l[i * n + i].ln()).sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_and_solves_a_known_matrix() {
        // a = [[4, 2], [2, 3]]: L = [[2, 0], [1, sqrt 2]], det 8.
        let a = [4.0, 2.0, 2.0, 3.0];
        let l = cholesky(&a, 2).unwrap();
        let expect = [2.0, 0.0, 1.0, 2f64.sqrt()];
        for (x, y) in l.iter().zip(expect) {
            assert!((x - y).abs() < 1e-15);
        }
        assert!((log_det_from_cholesky(&l, 2) - 8f64.ln()).abs() < 1e-14);
        // a^{-1} = [[3, -2], [-2, 4]] / 8; v = (1, 1): v^T a^{-1} v = 3/8.
        let mut v = [1.0, 1.0];
        assert!((inverse_quadratic_form(&l, 2, &mut v) - 3.0 / 8.0).abs() < 1e-15);
    }

    #[test]
    fn reports_the_failing_pivot() {
        let a = [1.0, 2.0, 2.0, 4.0];
        let err = cholesky(&a, 2).unwrap_err();
        assert_eq!(err.pivot, 1);
        assert!(err.value.abs() < 1e-12);
        assert!(cholesky(&[f64::NAN], 1).is_err());
    }
}
