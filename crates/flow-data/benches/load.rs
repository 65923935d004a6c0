//! Loading the cached FashionMNIST train split (checksum included) and making batches.
//! Needs the cache (`cargo xtask data`); without it, says so and measures nothing.

use criterion::{criterion_group, criterion_main, Criterion};
use flow_data::{BatchPlan, Batcher, DataCache, Dataset, Split};

fn bench(c: &mut Criterion) {
    let Ok(cache) = DataCache::locate(None) else {
        eprintln!("no data folder; run `cargo xtask data` first");
        return;
    };
    let Ok(train) = cache.load(Dataset::FashionMnist, Split::Train) else {
        eprintln!("no FashionMNIST cache; run `cargo xtask data` first");
        return;
    };
    let mut group = c.benchmark_group("fashion-mnist");
    group.sample_size(20);
    group.bench_function("load train split (60,000, verified)", |b| {
        b.iter(|| cache.load(Dataset::FashionMnist, Split::Train))
    });
    let plan = BatchPlan::shuffled(train.len(), 32, 0, 0).unwrap_or_else(|e| panic!("{e}"));
    let first: Vec<usize> = plan.order()[..32].to_vec();
    let mut batcher = Batcher::dequantized(0);
    group.bench_function("dequantized batch of 32 values", |b| {
        b.iter(|| batcher.values(&train, &first))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
