//! Small dense linear algebra on the host (f64), for the invertible 1x1 convolution:
//! a random orthogonal start, its LU factorisation, and matrix inversion for the
//! inverse pass. Matrices are `n x n`, row-major.

/// Row-major `n x n` matrix product `a b` (used to check the factorisations).
#[cfg(test)]
pub fn matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            for j in 0..n {
                out[i * n + j] += aik * b[k * n + j];
            }
        }
    }
    out
}

/// Orthonormalises the rows of `a` (modified Gram-Schmidt); `a` must have full rank,
/// which a Gaussian draw has with probability one.
pub fn orthonormalize(a: &mut [f64], n: usize) {
    for i in 0..n {
        for j in 0..i {
            let dot: f64 = (0..n).map(|k| a[i * n + k] * a[j * n + k]).sum();
            for k in 0..n {
                a[i * n + k] -= dot * a[j * n + k];
            }
        }
        let norm = (0..n).map(|k| a[i * n + k].powi(2)).sum::<f64>().sqrt();
        for k in 0..n {
            a[i * n + k] /= norm;
        }
    }
}

/// `a = P L U` with partial pivoting: `P` a permutation matrix, `L` unit lower
/// triangular, `U` upper triangular. Returns `(p, l, u)`.
pub fn lu(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut u = a.to_vec();
    let mut l = vec![0.0; n * n];
    let mut perm: Vec<usize> = (0..n).collect();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| u[x * n + col].abs().total_cmp(&u[y * n + col].abs()))
            .unwrap_or(col);
        if pivot != col {
            for k in 0..n {
                u.swap(col * n + k, pivot * n + k);
                l.swap(col * n + k, pivot * n + k);
            }
            perm.swap(col, pivot);
        }
        let diag = u[col * n + col];
        for row in col + 1..n {
            let factor = if diag == 0.0 {
                0.0
            } else {
                u[row * n + col] / diag
            };
            l[row * n + col] = factor;
            for k in col..n {
                u[row * n + k] -= factor * u[col * n + k];
            }
        }
    }
    for i in 0..n {
        l[i * n + i] = 1.0;
    }
    // Rows were permuted: (Q a) = L U with Q[i][perm[i]] = 1, so a = Q^T L U.
    let mut p = vec![0.0; n * n];
    for (i, &src) in perm.iter().enumerate() {
        p[src * n + i] = 1.0;
    }
    (p, l, u)
}

/// The inverse of `a` by Gauss-Jordan elimination with partial pivoting, or `None` when
/// `a` is singular to working precision.
pub fn invert(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    for col in 0..n {
        let pivot =
            (col..n).max_by(|&x, &y| m[x * n + col].abs().total_cmp(&m[y * n + col].abs()))?;
        if m[pivot * n + col].abs() < 1e-300 {
            return None;
        }
        for k in 0..n {
            m.swap(col * n + k, pivot * n + k);
            inv.swap(col * n + k, pivot * n + k);
        }
        let d = m[col * n + col];
        for k in 0..n {
            m[col * n + k] /= d;
            inv[col * n + k] /= d;
        }
        for row in 0..n {
            if row != col {
                let f = m[row * n + col];
                if f != 0.0 {
                    for k in 0..n {
                        m[row * n + k] -= f * m[col * n + k];
                        inv[row * n + k] -= f * inv[col * n + k];
                    }
                }
            }
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lu_reassembles_and_inverse_inverts() {
        let n = 5;
        // Off-diagonal pattern plus a dominant diagonal: well conditioned, and the
        // pivoting still has rows to swap (column 0's largest entry is not on top).
        let a: Vec<f64> = (0..n * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                let off = ((k * 37 % 11) as f64) - 4.5;
                if i == j {
                    off + 12.0 * (1.0 + i as f64)
                } else {
                    off
                }
            })
            .collect();
        let (p, l, u) = lu(&a, n);
        let back = matmul(&matmul(&p, &l, n), &u, n);
        for (x, y) in a.iter().zip(&back) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
        let inv = invert(&a, n).unwrap();
        let eye = matmul(&a, &inv, n);
        for i in 0..n {
            for j in 0..n {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((eye[i * n + j] - want).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn orthonormalize_gives_orthogonal_rows() {
        let n = 4;
        let mut a: Vec<f64> = (0..n * n)
            .map(|i| ((i * 13 % 7) as f64) + 0.3 * i as f64)
            .collect();
        orthonormalize(&mut a, n);
        let mut at = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                at[j * n + i] = a[i * n + j];
            }
        }
        let eye = matmul(&a, &at, n);
        for i in 0..n {
            for j in 0..n {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((eye[i * n + j] - want).abs() < 1e-12);
            }
        }
    }
}
