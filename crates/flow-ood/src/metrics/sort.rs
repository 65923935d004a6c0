//! Sorting scores, most in-distribution first. For large sets an LSD radix sort on the
//! IEEE bit patterns: sorting is most of the cost of every metric, and radix sorting 10^6
//! doubles is several times faster than a comparison sort.

use crate::orientation::Orientation;

/// Below this size a comparison sort is as fast and needs no extra buffer.
const RADIX_MIN_LEN: usize = 2048;
const DIGIT_BITS: u32 = 11;
const BUCKETS: usize = 1 << DIGIT_BITS;
const PASSES: usize = 64usize.div_ceil(DIGIT_BITS as usize);

/// The scores mapped to the internal scale (larger = more in-distribution, `-0.0` folded
/// into `0.0`) and sorted in decreasing order. Scores must be finite.
pub(crate) fn sorted_descending(scores: &[f64], orientation: Orientation) -> Vec<f64> {
    if scores.len() < RADIX_MIN_LEN {
        let mut v: Vec<f64> = scores
            .iter()
            .map(|&s| orientation.to_in_distribution_scale(s))
            .collect();
        // Finite, no -0.0: total_cmp agrees with `<`.
        v.sort_unstable_by(|x, y| y.total_cmp(x));
        return v;
    }
    let keys: Vec<u64> = scores
        .iter()
        .map(|&s| descending_key(orientation.to_in_distribution_scale(s)))
        .collect();
    radix_sort(keys)
        .into_iter()
        .map(from_descending_key)
        .collect()
}

/// A key whose unsigned ascending order is the float's descending order: flip all bits of
/// negatives and the sign bit of positives (ascending order), then complement.
fn descending_key(x: f64) -> u64 {
    let bits = x.to_bits();
    let ascending = if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    };
    !ascending
}

fn from_descending_key(key: u64) -> f64 {
    let ascending = !key;
    let bits = if ascending >> 63 == 1 {
        ascending & !(1 << 63)
    } else {
        !ascending
    };
    f64::from_bits(bits)
}

/// Ascending LSD radix sort, 11 bits per pass; passes where every key has the same digit
/// are skipped.
fn radix_sort(mut keys: Vec<u64>) -> Vec<u64> {
    let n = keys.len();
    let mut counts = vec![[0usize; BUCKETS]; PASSES];
    for &k in &keys {
        for (pass, c) in counts.iter_mut().enumerate() {
            c[digit(k, pass)] += 1;
        }
    }
    let mut buffer = vec![0u64; n];
    for (pass, c) in counts.iter().enumerate() {
        if c.contains(&n) {
            continue;
        }
        let mut offsets = [0usize; BUCKETS];
        let mut total = 0;
        for (o, &count) in offsets.iter_mut().zip(c.iter()) {
            *o = total;
            total += count;
        }
        for &k in &keys {
            let d = digit(k, pass);
            buffer[offsets[d]] = k;
            offsets[d] += 1;
        }
        std::mem::swap(&mut keys, &mut buffer);
    }
    keys
}

fn digit(key: u64, pass: usize) -> usize {
    ((key >> (pass as u32 * DIGIT_BITS)) & (BUCKETS as u64 - 1)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_order() {
        let xs = [-1e300, -2.5, -1e-310, 0.0, 1e-310, 1.0, 3.5, 1e300];
        for w in xs.windows(2) {
            assert!(descending_key(w[0]) > descending_key(w[1]));
        }
        for x in xs {
            assert_eq!(
                from_descending_key(descending_key(x)).to_bits(),
                x.to_bits()
            );
        }
    }

    #[test]
    fn radix_path_agrees_with_comparison_sort() {
        // Deterministic pseudo-random scores with many ties and both signs.
        let mut state = 12345u64;
        let scores: Vec<f64> = (0..10_000)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let v = (state >> 40) as f64 / 1000.0 - 8000.0;
                if i % 3 == 0 {
                    v.round()
                } else if i % 7 == 0 {
                    -0.0
                } else {
                    v
                }
            })
            .collect();
        for o in [
            Orientation::HigherIsInDistribution,
            Orientation::HigherIsOutOfDistribution,
        ] {
            let got = sorted_descending(&scores, o);
            let mut want: Vec<f64> = scores
                .iter()
                .map(|&s| o.to_in_distribution_scale(s))
                .collect();
            want.sort_unstable_by(|x, y| y.total_cmp(x));
            assert_eq!(got, want);
            assert!(got.iter().all(|x| x.to_bits() != (-0.0f64).to_bits()));
        }
    }
}
