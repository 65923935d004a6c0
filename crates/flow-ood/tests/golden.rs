//! Every metric against reference values from scikit-learn / NumPy / the OpenOOD v1.5
//! formulas, written by `tools/golden_metrics.py` into `tests/golden/*.json`.

use flow_ood::{
    bootstrap_intervals, evaluate, AuprMethod, BootstrapOptions, EvaluateOptions, FprConvention,
    HistogramOptions, Metric, Orientation, PositiveClass, RocCurve, RocOptions, ScoreTable,
    SharedHistogram,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

const TOL: f64 = 1e-12;
const LEVELS: [f64; 3] = [0.95, 0.8, 0.99];

#[derive(Deserialize)]
struct Case {
    name: String,
    orientation: Orientation,
    in_scores: Vec<f64>,
    ood_scores: Vec<f64>,
    expected: BTreeMap<String, f64>,
    roc: BTreeMap<String, RefRoc>,
    histogram: RefHistogram,
    bootstrap: Option<RefBootstrap>,
}

#[derive(Deserialize)]
struct RefRoc {
    fpr: Vec<f64>,
    tpr: Vec<f64>,
    thresholds: Vec<f64>,
}

#[derive(Deserialize)]
struct RefHistogram {
    bins: usize,
    range: Option<(f64, f64)>,
    edges: Vec<f64>,
    counts: Vec<Vec<u64>>,
    outside: Vec<u64>,
}

#[derive(Deserialize)]
struct RefBootstrap {
    resamples: usize,
    level: f64,
    seed: u64,
    intervals: BTreeMap<String, (f64, f64)>,
}

fn cases() -> Vec<Case> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let cases: Vec<Case> = paths
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect();
    assert!(
        cases.len() >= 12,
        "golden files missing in {}",
        dir.display()
    );
    cases
}

/// The metrics the generator writes, under the generator's names.
fn golden_metrics() -> Vec<(String, Metric)> {
    let aupr = |positive, method| Metric::Aupr { positive, method };
    let (id, ood) = (
        PositiveClass::InDistribution,
        PositiveClass::OutOfDistribution,
    );
    let mut v = vec![
        ("auroc".to_string(), Metric::Auroc),
        ("aupr_in_trapezoid".into(), aupr(id, AuprMethod::Trapezoid)),
        (
            "aupr_in_average_precision".into(),
            aupr(id, AuprMethod::AveragePrecision),
        ),
        (
            "aupr_out_trapezoid".into(),
            aupr(ood, AuprMethod::Trapezoid),
        ),
        (
            "aupr_out_average_precision".into(),
            aupr(ood, AuprMethod::AveragePrecision),
        ),
        ("detection_error".into(), Metric::DetectionError),
    ];
    for level in LEVELS {
        let tag = format!("{}", (level * 100.0).round());
        for (convention, suffix) in [
            (FprConvention::OpenOodV15, "openood_v1_5"),
            (FprConvention::Hendrycks, "hendrycks"),
            (FprConvention::Interpolated, "interpolated"),
        ] {
            v.push((
                format!("fpr_{tag}_{suffix}"),
                Metric::FprAtTpr {
                    convention,
                    tpr_level: level,
                },
            ));
        }
    }
    v
}

fn close(case: &str, what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOL,
        "{case}: {what} = {got:.17}, reference {want:.17} (diff {:e})",
        (got - want).abs()
    );
}

#[test]
fn every_metric_matches_reference() {
    for case in cases() {
        let table = ScoreTable::new(&case.in_scores, &case.ood_scores, case.orientation).unwrap();
        let metrics = golden_metrics();
        assert_eq!(
            metrics.len(),
            case.expected.len(),
            "{}: metric list",
            case.name
        );
        for (name, metric) in &metrics {
            let want = case.expected[name];
            close(&case.name, name, metric.compute(&table).unwrap(), want);
        }
    }
}

#[test]
fn evaluate_reports_the_same_numbers() {
    for case in cases() {
        let report = evaluate(
            &case.in_scores,
            &case.ood_scores,
            case.orientation,
            &EvaluateOptions::default(),
        )
        .unwrap();
        let e = &case.expected;
        close(&case.name, "auroc", report.auroc.value, e["auroc"]);
        close(
            &case.name,
            "aupr_in",
            report.aupr_in.value,
            e["aupr_in_trapezoid"],
        );
        close(
            &case.name,
            "aupr_out",
            report.aupr_out.value,
            e["aupr_out_trapezoid"],
        );
        close(
            &case.name,
            "aupr_in_ap",
            report.aupr_in_average_precision.value,
            e["aupr_in_average_precision"],
        );
        close(
            &case.name,
            "aupr_out_ap",
            report.aupr_out_average_precision.value,
            e["aupr_out_average_precision"],
        );
        close(
            &case.name,
            "det",
            report.detection_error.value,
            e["detection_error"],
        );
        let fpr = |c| report.fpr(c).unwrap().value;
        close(
            &case.name,
            "openood",
            fpr(FprConvention::OpenOodV15),
            e["fpr_95_openood_v1_5"],
        );
        close(
            &case.name,
            "hendrycks",
            fpr(FprConvention::Hendrycks),
            e["fpr_95_hendrycks"],
        );
        close(
            &case.name,
            "interp",
            fpr(FprConvention::Interpolated),
            e["fpr_95_interpolated"],
        );
    }
}

fn check_roc(case: &str, what: &str, got: &RocCurve, want: &RefRoc) {
    assert_eq!(
        got.points.len(),
        want.fpr.len(),
        "{case}: {what} point count"
    );
    assert_eq!(got.points[0].threshold, None, "{case}: {what} origin");
    for (i, p) in got.points.iter().enumerate() {
        close(case, &format!("{what} fpr[{i}]"), p.fpr, want.fpr[i]);
        close(case, &format!("{what} tpr[{i}]"), p.tpr, want.tpr[i]);
        if i > 0 {
            let t = p.threshold.unwrap();
            assert_eq!(t, want.thresholds[i - 1], "{case}: {what} threshold[{i}]");
        }
    }
}

#[test]
fn roc_points_match_scikit_learn() {
    for case in cases() {
        let table = ScoreTable::new(&case.in_scores, &case.ood_scores, case.orientation).unwrap();
        for (key, positive, drop_intermediate) in [
            ("in_positive", PositiveClass::InDistribution, false),
            (
                "in_positive_drop_intermediate",
                PositiveClass::InDistribution,
                true,
            ),
            (
                "ood_positive_drop_intermediate",
                PositiveClass::OutOfDistribution,
                true,
            ),
        ] {
            let curve = table.roc_curve(RocOptions {
                positive,
                drop_intermediate,
            });
            check_roc(&case.name, key, &curve, &case.roc[key]);
        }
    }
}

#[test]
fn histograms_match_numpy() {
    for case in cases() {
        let h = &case.histogram;
        let got = SharedHistogram::new(
            &[&case.in_scores, &case.ood_scores],
            HistogramOptions {
                bins: h.bins,
                range: h.range,
            },
        )
        .unwrap();
        assert_eq!(got.edges, h.edges, "{}: edges", case.name);
        assert_eq!(got.counts, h.counts, "{}: counts", case.name);
        assert_eq!(got.outside, h.outside, "{}: outside", case.name);
    }
}

#[test]
fn bootstrap_intervals_match_reference_stream() {
    let mut checked = 0;
    for case in cases() {
        let Some(b) = &case.bootstrap else { continue };
        let table = ScoreTable::new(&case.in_scores, &case.ood_scores, case.orientation).unwrap();
        let named = golden_metrics();
        let metrics: Vec<Metric> = named.iter().map(|(_, m)| *m).collect();
        let options = BootstrapOptions {
            resamples: b.resamples,
            level: b.level,
            seed: b.seed,
        };
        let got = bootstrap_intervals(&table, &metrics, &options).unwrap();
        for ((name, _), ci) in named.iter().zip(&got) {
            let (lo, hi) = b.intervals[name];
            close(&case.name, &format!("{name} lower"), ci.lower, lo);
            close(&case.name, &format!("{name} upper"), ci.upper, hi);
        }
        checked += 1;
    }
    assert!(checked >= 5, "too few bootstrap cases: {checked}");
}
