//! The st-networks' convolutions on flex: burn's own operation against the fast path,
//! forward and the full backward (input, kernel and bias gradients), at the shapes of
//! the RealNVP configurations (`small`: 32 channels, batch 64; `paper`: 64 channels,
//! batch 32; 28x28 before the squeeze, 14x14 after, 3x3 and 1x1 kernels).

use burn::backend::Flex;
use burn::tensor::ops::ModuleOps;
use burn::tensor::{Distribution, Tensor};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use flow_kernels::{burn_conv2d_backward, unit_stride_options, FlowBackend, WantedGrads};

fn random(dims: [usize; 4]) -> Tensor<Flex, 4> {
    Tensor::random(dims, Distribution::Uniform(-1.0, 1.0), &Default::default())
}

fn conv(c: &mut Criterion) {
    let shapes = [
        ("small-28x28-3x3", 64, 32, 28, 3),
        ("small-14x14-3x3", 64, 32, 14, 3),
        ("small-28x28-1x1", 64, 32, 28, 1),
        ("paper-28x28-3x3", 32, 64, 28, 3),
    ];
    let mut group = c.benchmark_group("conv2d");
    group.sample_size(10);
    for (name, batch, channels, size, kernel) in shapes {
        let x = random([batch, channels, size, size])
            .into_primitive()
            .tensor();
        let w = random([channels, channels, kernel, kernel])
            .into_primitive()
            .tensor();
        let g = random([batch, channels, size, size])
            .into_primitive()
            .tensor();
        let padding = kernel / 2;
        let wanted = WantedGrads {
            x: true,
            weight: true,
            bias: true,
        };
        group.bench_function(BenchmarkId::new("forward-burn", name), |b| {
            b.iter(|| Flex::conv2d(x.clone(), w.clone(), None, unit_stride_options(padding)))
        });
        group.bench_function(BenchmarkId::new("forward-fast", name), |b| {
            b.iter(|| Flex::conv2d_unit_stride(x.clone(), w.clone(), None, padding))
        });
        group.bench_function(BenchmarkId::new("backward-burn", name), |b| {
            b.iter(|| {
                burn_conv2d_backward::<Flex>(x.clone(), w.clone(), g.clone(), padding, wanted)
            })
        });
        group.bench_function(BenchmarkId::new("backward-fast", name), |b| {
            b.iter(|| Flex::conv2d_backward(x.clone(), w.clone(), g.clone(), padding, wanted))
        });
    }
    group.finish();
}

criterion_group!(benches, conv);
criterion_main!(benches);
