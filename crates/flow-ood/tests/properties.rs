//! Properties every ranking metric must have, on random inputs.

use flow_ood::{
    auroc, evaluate, EvaluateOptions, HistogramOptions, MetricError, MetricReport, Orientation,
    SharedHistogram,
};
use proptest::prelude::*;

/// Small integer-valued scores: plenty of ties, and exact under the transforms below.
fn scores() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec((-40i32..40).prop_map(f64::from), 1..60)
}

fn continuous() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-1e6f64..1e6, 1..80)
}

/// P(in > ood) + P(in == ood) / 2 by brute force over all pairs.
fn pairwise_auroc(a: &[f64], b: &[f64]) -> f64 {
    let mut twice = 0u64;
    for x in a {
        for y in b {
            twice += if x > y { 2 } else { u64::from(x == y) };
        }
    }
    twice as f64 / (2 * a.len() * b.len()) as f64
}

fn values(r: &MetricReport) -> Vec<f64> {
    r.metrics().map(|m| m.value).collect()
}

const HI: Orientation = Orientation::HigherIsInDistribution;

proptest! {
    #[test]
    fn auroc_is_a_probability(a in continuous(), b in continuous()) {
        let v = auroc(&a, &b, HI).unwrap();
        prop_assert!((0.0..=1.0).contains(&v));
    }

    #[test]
    fn auroc_matches_pairwise_count(a in scores(), b in scores()) {
        let v = auroc(&a, &b, HI).unwrap();
        prop_assert!((v - pairwise_auroc(&a, &b)).abs() < 1e-15);
    }

    #[test]
    fn swapping_sets_complements_auroc(a in scores(), b in continuous()) {
        let ab = auroc(&a, &b, HI).unwrap();
        let ba = auroc(&b, &a, HI).unwrap();
        prop_assert!((ab - (1.0 - ba)).abs() < 1e-12);
    }

    #[test]
    fn every_metric_ignores_increasing_transforms(a in scores(), b in scores()) {
        let o = EvaluateOptions::default();
        let base = values(&evaluate(&a, &b, HI, &o).unwrap());
        for f in [|x: f64| x * x * x + 2.0 * x, |x: f64| (x / 8.0).exp()] {
            let fa: Vec<f64> = a.iter().map(|&x| f(x)).collect();
            let fb: Vec<f64> = b.iter().map(|&x| f(x)).collect();
            prop_assert_eq!(&values(&evaluate(&fa, &fb, HI, &o).unwrap()), &base);
        }
    }

    #[test]
    fn decreasing_transform_with_flipped_orientation_changes_nothing(
        a in scores(), b in scores()
    ) {
        let o = EvaluateOptions::default();
        let base = values(&evaluate(&a, &b, HI, &o).unwrap());
        let na: Vec<f64> = a.iter().map(|&x| 5.0 - 0.5 * x).collect();
        let nb: Vec<f64> = b.iter().map(|&x| 5.0 - 0.5 * x).collect();
        let flipped = evaluate(&na, &nb, Orientation::HigherIsOutOfDistribution, &o).unwrap();
        prop_assert_eq!(values(&flipped), base);
    }

    #[test]
    fn rates_and_areas_stay_in_unit_interval(a in scores(), b in continuous()) {
        let r = evaluate(&a, &b, HI, &EvaluateOptions::default()).unwrap();
        for m in r.metrics() {
            prop_assert!((0.0..=1.0).contains(&m.value), "{} = {}", m.name, m.value);
        }
        prop_assert!(r.detection_error.value <= 0.5);
    }

    #[test]
    fn bootstrap_intervals_are_ordered(a in scores(), b in scores(), seed in any::<u64>()) {
        let o = EvaluateOptions {
            bootstrap: Some(flow_ood::BootstrapOptions { resamples: 30, level: 0.9, seed }),
            ..EvaluateOptions::default()
        };
        let r = evaluate(&a, &b, HI, &o).unwrap();
        for m in r.metrics() {
            let ci = m.interval.unwrap();
            prop_assert!(ci.lower <= ci.upper, "{}: {:?}", m.name, ci);
            prop_assert!((0.0..=1.0).contains(&ci.lower) && (0.0..=1.0).contains(&ci.upper));
        }
    }

    #[test]
    fn histogram_bins_every_score_once(a in continuous(), b in scores(), bins in 1usize..40) {
        let h = SharedHistogram::new(&[&a, &b], HistogramOptions { bins, range: None }).unwrap();
        prop_assert_eq!(h.counts[0].iter().sum::<u64>(), a.len() as u64);
        prop_assert_eq!(h.counts[1].iter().sum::<u64>(), b.len() as u64);
        prop_assert!(h.edges.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn non_finite_scores_are_located(
        a in continuous(),
        bad in prop::collection::btree_set(0usize..80, 1..10),
        which in 0usize..3,
    ) {
        let mut a = a;
        let bad: Vec<usize> = bad.into_iter().filter(|&i| i < a.len()).collect();
        prop_assume!(!bad.is_empty());
        for &i in &bad {
            a[i] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY][which];
        }
        let err = auroc(&[0.0], &a, HI).unwrap_err();
        let MetricError::NonFinite(sets) = err else { panic!("wrong error") };
        prop_assert_eq!(sets.len(), 1);
        prop_assert_eq!(sets[0].count, bad.len());
        let first: Vec<usize> = bad.iter().copied().take(5).collect();
        prop_assert_eq!(&sets[0].first_indices, &first);
    }
}
