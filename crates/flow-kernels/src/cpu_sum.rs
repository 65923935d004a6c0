//! The sum of two tensors of one shape, split over rayon's threads.
//!
//! burn's element-wise addition on flex runs on the calling thread; a residual
//! network adds a feature map to its skip connection after every block, and on a
//! 2-core machine those additions ran while the other core waited (`perf record -a`,
//! DEVELOPERS.md). Chunks are fixed, so the result does not depend on scheduling, and
//! each element is one IEEE addition, the same as burn's.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::real::Real;
use crate::uninit::written_vec;

/// Elements per rayon task: large enough that a task outweighs its scheduling.
const CHUNK: usize = 1 << 14;

/// `acc[i] += other[i]`.
///
/// # Panics
///
/// When the lengths differ.
pub fn add_assign<T: Real>(acc: &mut [T], other: &[T]) {
    assert_eq!(acc.len(), other.len(), "add_assign: lengths differ");
    acc.par_chunks_mut(CHUNK)
        .zip(other.par_chunks(CHUNK))
        .for_each(|(acc, other)| add_chunk(acc, other));
}

/// One task of [`add_assign`]; a function of its own so that profiles can name it.
#[inline(never)]
fn add_chunk<T: Real>(acc: &mut [T], other: &[T]) {
    for (a, &b) in acc.iter_mut().zip(other) {
        *a += b;
    }
}

/// `lhs[i] + rhs[i]` in a new vector, written once.
///
/// # Panics
///
/// When the lengths differ.
pub fn sum_vec<T: Real>(lhs: &[T], rhs: &[T]) -> Vec<T> {
    assert_eq!(lhs.len(), rhs.len(), "sum_vec: lengths differ");
    written_vec(lhs.len(), |out: &mut [MaybeUninit<T>]| {
        out.par_chunks_mut(CHUNK)
            .zip(lhs.par_chunks(CHUNK).zip(rhs.par_chunks(CHUNK)))
            .for_each(|(out, (lhs, rhs))| sum_chunk(out, lhs, rhs));
    })
}

/// One task of [`sum_vec`]; a function of its own so that profiles can name it.
#[inline(never)]
fn sum_chunk<T: Real>(out: &mut [MaybeUninit<T>], lhs: &[T], rhs: &[T]) {
    for (o, (&a, &b)) in out.iter_mut().zip(lhs.iter().zip(rhs)) {
        o.write(a + b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::real::test_values as values;

    #[test]
    fn both_forms_are_the_element_wise_sum() {
        // Lengths below, at and across the task size, and not a multiple of it.
        for len in [0, 1, 17, CHUNK, 3 * CHUNK + 5] {
            let (a, b) = (values(len, 1), values(len, 2));
            let want: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
            assert_eq!(sum_vec(&a, &b), want);
            let mut acc = a.clone();
            add_assign(&mut acc, &b);
            assert_eq!(acc, want);
        }
    }
}
