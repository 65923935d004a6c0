//! AUROC and the full `evaluate` on 1,000,000 + 1,000,000 scores.
//!
//! Run with `cargo bench -p flow-ood`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use flow_ood::{
    auroc, evaluate, BootstrapOptions, EvaluateOptions, Orientation, ScoreTable, Xoshiro256PlusPlus,
};
use rand::RngCore;

const N: usize = 1_000_000;

/// Gaussian scores by Box-Muller, from the crate's own seeded generator.
fn gaussian(n: usize, mean: f64, sd: f64, seed: u64) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut unit = move || ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    (0..n)
        .map(|_| {
            let (u, v) = (unit(), unit());
            mean + sd * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    // Log-likelihood-like scores: OOD slightly *more* likely, as in the paper.
    let id = gaussian(N, -3.1, 0.4, 1);
    let ood = gaussian(N, -2.9, 0.5, 2);
    let o = Orientation::HigherIsInDistribution;
    let mut g = c.benchmark_group("1M+1M");
    g.sample_size(10);
    g.bench_function("auroc", |b| {
        b.iter(|| auroc(black_box(&id), black_box(&ood), o).unwrap())
    });
    g.bench_function("score_table", |b| {
        b.iter(|| ScoreTable::new(black_box(&id), black_box(&ood), o).unwrap())
    });
    let opts = EvaluateOptions::default();
    g.bench_function("evaluate", |b| {
        b.iter(|| evaluate(black_box(&id), black_box(&ood), o, &opts).unwrap())
    });
    let boot = EvaluateOptions {
        bootstrap: Some(BootstrapOptions {
            resamples: 10,
            ..BootstrapOptions::default()
        }),
        ..EvaluateOptions::default()
    };
    g.bench_function("evaluate_bootstrap_10", |b| {
        b.iter(|| evaluate(black_box(&id), black_box(&ood), o, &boot).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
