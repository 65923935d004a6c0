#!/usr/bin/env python3
"""PyTorch twin of the models `cargo xtask bench` times, for side-by-side throughput.

The Rust benchmark (crates/flow-lab/src/bench.rs) times RealNVP configurations built by
flow-core; this script builds the same architectures in PyTorch, layer for layer, and
times them the same way, so that the two throughputs can be compared in one sitting on
one machine. What is mirrored, and where in the Rust code it comes from:

- logit preprocessing (flow-core layers/logit.rs): p = 0.05 + 0.9 u, y = logit(p), its
  log-det counted; log p(x) adds -D log 256 and the reference's D log(255/256).
  Dequantization u = (pixel + U[0,1)) / 256 happens in the data pipeline (flow-data),
  outside the timed model, in ours as here; the benchmark feeds u ~ U[0,1) directly.
- affine coupling (layers/coupling.rs): y = (x + t) exp(s), s = g * tanh(s_raw) with a
  learnable g per transformed channel (initialised to 1, decayed like a weight-norm
  scale), s and t zeroed outside the transform mask; checkerboard couplings feed the
  st-network x * condition_mask, channel-wise couplings feed it the condition channels
  only and predict s and t for the transformed channels only; [s; t] = chunk(raw, 2).
- masks (flow-masks kind.rs): checkerboard parity p transforms pixels with (h + w) % 2
  == p; channel-wise `First` transforms channels 0..C/2 and conditions on C/2..C.
- ResNet st-network (st_nets/resnet.rs): BatchNorm on the input (doubled for
  checkerboard masks), concat(x, -x), ReLU, 3x3 WN-conv to mid; a 1x1 WN-conv skip from
  there and after every pre-activation residual block (BN, ReLU, 3x3 WN-conv without
  bias, BN, ReLU, 3x3 WN-conv with bias, plus the input); the sum of the skips goes
  through BN, ReLU and a 1x1 WN-conv to 2 C' channels.
- weight-normalised convolutions (nn.rs): w = g v / ||v|| per output channel, v and the
  bias uniform in +-1/sqrt(fan_in), g = ||v|| at the start.
- BatchNorm (batch_norm.rs): PyTorch's BatchNorm2d semantics (momentum 0.1, eps 1e-5).
- RealNVP layout (models/config.rs, models/net.rs): each scale but the last runs 3
  checkerboard couplings (parities 0, 1, 0), squeezes (channel c*4 + dy*2 + dx), runs 3
  channel-wise couplings (first, second, first half), factors out the second half of
  the channels; the last scale runs 4 checkerboard couplings (0, 1, 0, 1); st-network
  channels double at the squeeze. The latent is laid back on the input grid (factored
  parts concatenated, squeezes undone) before the standard normal prior.
- training step (flow-lab train/step.rs, train/grads.rs): loss = -mean log p(x), read
  back and checked finite; backward; global gradient-norm clip at 100 (norm read back);
  Adam lr 5e-5, betas (0.9, 0.999), eps 1e-8, L2 weight decay 5e-5 on the weight-norm
  scales `g` only, added to the gradient after clipping (as torch.optim.Adam does).
- the embedding classifier (flow-embed classifier.rs, train_loop.rs; the settings of
  flow-lab embedding/config.rs): blocks of 3x3 conv (no bias under BatchNorm), BN,
  ReLU, 2x2 max-pool with 8 and 16 channels, a linear layer to the 64-d embedding, ReLU,
  a linear layer to 10 logits; step = cross-entropy, backward, global clip at 10, Adam
  (lr 3e-3, eps 1e-8), train batch 128; the experiment embeds in batches of 500.
- timing (flow-lab bench.rs): random inputs in [0, 1) of the input shape, 1 warm-up
  iteration, then at least 3 timed iterations and at least --seconds; training is the
  full step, scoring the log-likelihood of a batch of 256 in eval mode under no_grad,
  each timed iteration reading its result back.

Parameter counts: the script prints trainable parameters. Ours (burn's `num_params`)
also counts BatchNorm running means and variances today (2 C per BatchNorm); the script
prints that number too so that the two can be matched, and writes the trainable count
to JSON.

`--check` verifies in float64 that the twin is a flow: inverse(forward(x)) = x and the
reported log-det equals log|det| of a central-difference Jacobian.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

# --- the models -------------------------------------------------------------------------

#: Margin kept from 0 and 1 before the logit (ours: LogitPreprocess::default()).
LOGIT_ALPHA = 0.05
#: Levels of 8-bit data: log p(x) includes -D log 256.
BINS = 256


class WNConv2d(nn.Module):
    """Weight-normalised convolution, stride 1, "same" padding: w = g v / ||v||.

    Written out rather than taken from torch.nn.utils so that the scale is a parameter
    named `g`, the name ours decays; the arithmetic is that of weight_norm(conv, dim=0).
    """

    def __init__(self, channels_in: int, channels_out: int, kernel: int, bias: bool):
        super().__init__()
        fan_in = channels_in * kernel * kernel
        bound = 1.0 / math.sqrt(fan_in)
        v = torch.empty(channels_out, channels_in, kernel, kernel).uniform_(-bound, bound)
        self.v = nn.Parameter(v)
        self.g = nn.Parameter(v.flatten(1).norm(dim=1))
        self.bias = (
            nn.Parameter(torch.empty(channels_out).uniform_(-bound, bound)) if bias else None
        )
        self.padding = kernel // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm = self.v.flatten(1).norm(dim=1)
        weight = self.v * (self.g / norm).view(-1, 1, 1, 1)
        return F.conv2d(x, weight, self.bias, padding=self.padding)


class ResidualBlock(nn.Module):
    """Pre-activation block: BN, ReLU, 3x3 WN-conv (no bias), BN, ReLU, 3x3 WN-conv, + x."""

    def __init__(self, channels: int):
        super().__init__()
        self.in_norm = nn.BatchNorm2d(channels)
        self.in_conv = WNConv2d(channels, channels, 3, bias=False)
        self.out_norm = nn.BatchNorm2d(channels)
        self.out_conv = WNConv2d(channels, channels, 3, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.in_conv(F.relu(self.in_norm(x)))
        return self.out_conv(F.relu(self.out_norm(y))) + x


class ResNetStNet(nn.Module):
    """The st-network of our RealNVP (flow-core st_nets/resnet.rs, batch_norm = true)."""

    def __init__(
        self, channels_in: int, channels_out: int, mid: int, blocks: int, double_after_norm: bool
    ):
        super().__init__()
        self.in_norm = nn.BatchNorm2d(channels_in)
        self.double_after_norm = double_after_norm
        self.in_conv = WNConv2d(2 * channels_in, mid, 3, bias=True)
        self.in_skip = WNConv2d(mid, mid, 1, bias=True)
        self.blocks = nn.ModuleList(ResidualBlock(mid) for _ in range(blocks))
        self.skips = nn.ModuleList(WNConv2d(mid, mid, 1, bias=True) for _ in range(blocks))
        self.out_norm = nn.BatchNorm2d(mid)
        self.out_conv = WNConv2d(mid, channels_out, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.in_norm(x)
        if self.double_after_norm:
            x = 2.0 * x
        x = self.in_conv(F.relu(torch.cat([x, -x], dim=1)))
        acc = self.in_skip(x)
        for block, skip in zip(self.blocks, self.skips):
            x = block(x)
            acc = acc + skip(x)
        return self.out_conv(F.relu(self.out_norm(acc)))


def checkerboard_masks(
    parity: int, channels: int, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(condition, transform) masks `[1, C, H, W]`: parity p transforms (h + w) % 2 == p."""
    h = torch.arange(height).view(-1, 1)
    w = torch.arange(width).view(1, -1)
    transform = ((h + w) % 2 == parity).to(torch.get_default_dtype())
    transform = transform.expand(channels, height, width).unsqueeze(0).contiguous()
    return 1.0 - transform, transform


class AffineCoupling(nn.Module):
    """y = (x + t) exp(s) on the transformed entries; s = g * tanh(s_raw).

    `kind` is ("checkerboard", parity) or ("channel", "first" | "second"), the half named
    being the one transformed.
    """

    def __init__(
        self, kind: tuple[str, object], shape: tuple[int, int, int], mid: int, blocks: int
    ):
        super().__init__()
        channels, height, width = shape
        self.kind = kind
        if kind[0] == "checkerboard":
            condition, transform = checkerboard_masks(int(kind[1]), channels, height, width)
            self.register_buffer("condition", condition)
            self.register_buffer("transform", transform)
            self.split = None
            channels_in = channels_transformed = channels
            double = True
        elif kind[0] == "channel":
            half = channels // 2
            first, second = (0, half), (half, channels - half)
            # (condition start and length, transform start and length)
            self.split = (second, first) if kind[1] == "first" else (first, second)
            self.condition = self.transform = None
            channels_in, channels_transformed = self.split[0][1], self.split[1][1]
            double = False
        else:
            raise ValueError(f"unknown coupling kind {kind}")
        self.st_net = ResNetStNet(channels_in, 2 * channels_transformed, mid, blocks, double)
        self.g = nn.Parameter(torch.ones(channels_transformed))

    def scale_and_shift(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.split is not None:
            start, length = self.split[0]
            conditioning = x[:, start : start + length]
        else:
            conditioning = x * self.condition
        s_raw, t = self.st_net(conditioning).chunk(2, dim=1)
        s = torch.tanh(s_raw) * self.g.view(1, -1, 1, 1)
        if self.transform is not None:
            s = s * self.transform
            t = t * self.transform
        return s, t

    def _replace(self, x: torch.Tensor, changed: torch.Tensor) -> torch.Tensor:
        start, length = self.split[1]
        parts = [x[:, :start], changed, x[:, start + length :]]
        return torch.cat([p for p in parts if p.shape[1] > 0], dim=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, t = self.scale_and_shift(x)
        log_det = s.flatten(1).sum(1)
        if self.split is not None:
            start, length = self.split[1]
            y = self._replace(x, (x[:, start : start + length] + t) * torch.exp(s))
        else:
            y = (x + t) * torch.exp(s)
        return y, log_det

    def inverse(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # The conditioning entries pass unchanged, so s and t from y are the forward's.
        s, t = self.scale_and_shift(y)
        log_det = -s.flatten(1).sum(1)
        if self.split is not None:
            start, length = self.split[1]
            x = self._replace(y, y[:, start : start + length] * torch.exp(-s) - t)
        else:
            x = y * torch.exp(-s) - t
        return x, log_det


def logit_forward(u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """u in [0, 1) -> y = logit(alpha + (1 - 2 alpha) u), with its log-det per sample."""
    p = LOGIT_ALPHA + (1.0 - 2.0 * LOGIT_ALPHA) * u
    log_p, log_1mp = torch.log(p), torch.log1p(-p)
    per_entry = math.log(1.0 - 2.0 * LOGIT_ALPHA) - log_p - log_1mp
    return log_p - log_1mp, per_entry.flatten(1).sum(1)


def logit_inverse(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The inverse of `logit_forward` and its log-det."""
    u = (torch.sigmoid(y) - LOGIT_ALPHA) / (1.0 - 2.0 * LOGIT_ALPHA)
    return u, -logit_forward(u)[1]


def dequantize(pixels: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """8-bit pixels -> u = (pixel + U[0, 1)) / 256, as flow-data's dequantized batches."""
    noise = torch.rand(pixels.shape, generator=generator, dtype=torch.get_default_dtype())
    return (pixels.to(noise.dtype) + noise) / 256.0


def squeeze(x: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] -> [N, 4C, H/2, W/2], channel c*4 + dy*2 + dx holding offset (dy, dx)."""
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return blocks.reshape(n, c * 4, h // 2, w // 2)


def unsqueeze(x: torch.Tensor) -> torch.Tensor:
    """The inverse of `squeeze`."""
    n, c4, h, w = x.shape
    c = c4 // 4
    return x.reshape(n, c, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c, h * 2, w * 2)


class ScaleBlock(nn.Module):
    """Couplings, an optional squeeze, couplings, an optional factor-out of half the channels."""

    def __init__(
        self,
        pre: list[AffineCoupling],
        squeeze: bool,
        post: list[AffineCoupling],
        factor_out: bool,
    ):
        super().__init__()
        self.pre = nn.ModuleList(pre)
        self.squeeze = squeeze
        self.post = nn.ModuleList(post)
        self.factor_out = factor_out


def factor_out(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(first half of the channels, which continues; second half, which leaves)."""
    c = x.shape[1]
    return x[:, : c // 2], x[:, c // 2 :]


class RealNVP(nn.Module):
    """Our multi-scale RealNVP (FlowConfig::realnvp with the ResNet st-network and BN)."""

    def __init__(self, input_shape: tuple[int, int, int], scales: int, blocks: int, mid: int):
        super().__init__()
        c, h, w = input_shape
        if scales < 1 or h % (1 << (scales - 1)) or w % (1 << (scales - 1)):
            raise ValueError(f"{scales} scales cannot squeeze a {h}x{w} image")
        self.input_shape = input_shape
        built = []
        for scale in range(scales):
            last = scale + 1 == scales
            pre = [
                AffineCoupling(("checkerboard", i % 2), (c, h, w), mid, blocks)
                for i in range(4 if last else 3)
            ]
            if last:
                built.append(ScaleBlock(pre, False, [], False))
                break
            mid *= 2
            halves = ("first", "second", "first")
            post = [
                AffineCoupling(("channel", half), (4 * c, h // 2, w // 2), mid, blocks)
                for half in halves
            ]
            built.append(ScaleBlock(pre, True, post, True))
            c, h, w = 2 * c, h // 2, w // 2
        self.scales = nn.ModuleList(built)

    def dims(self) -> int:
        c, h, w = self.input_shape
        return c * h * w

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """u -> (z laid on the input grid, log|det dz/du| per sample)."""
        x, log_det = logit_forward(u)
        factored = []
        for scale in self.scales:
            for step in scale.pre:
                x, ld = step(x)
                log_det = log_det + ld
            if scale.squeeze:
                x = squeeze(x)
            for step in scale.post:
                x, ld = step(x)
                log_det = log_det + ld
            if scale.factor_out:
                x, part = factor_out(x)
                factored.append(part)
        for scale in reversed(self.scales):
            if scale.factor_out:
                x = torch.cat([x, factored.pop()], dim=1)
            if scale.squeeze:
                x = unsqueeze(x)
        return x, log_det

    def inverse(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z -> (u, log|det du/dz| per sample)."""
        x = z
        log_det = torch.zeros(z.shape[0], dtype=z.dtype, device=z.device)
        factored = []
        for scale in self.scales:
            if scale.squeeze:
                x = squeeze(x)
            if scale.factor_out:
                x, part = factor_out(x)
                factored.append(part)
        for scale in reversed(self.scales):
            if scale.factor_out:
                x = torch.cat([x, factored.pop()], dim=1)
            for step in reversed(scale.post):
                x, ld = step.inverse(x)
                log_det = log_det + ld
            if scale.squeeze:
                x = unsqueeze(x)
            for step in reversed(scale.pre):
                x, ld = step.inverse(x)
                log_det = log_det + ld
        u, ld = logit_inverse(x)
        return u, log_det + ld

    def log_likelihood(self, u: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats per sample, with ours' constants (flow-core likelihood.rs)."""
        z, log_det = self(u)
        d = self.dims()
        prior = -0.5 * z.square().flatten(1).sum(1) - 0.5 * d * math.log(2.0 * math.pi)
        constant = -d * math.log(BINS) + d * math.log(255.0 / 256.0)
        return prior + log_det + constant


class Classifier(nn.Module):
    """The embedding classifier (flow-embed classifier.rs, ClassifierConfig::fashion_mnist)."""

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        channels: list[int],
        embedding_dim: int,
        classes: int,
    ):
        super().__init__()
        c, h, w = input_shape
        layers: list[nn.Module] = []
        for out in channels:
            # PyTorch's default init is ours: uniform in +-1/sqrt(fan_in).
            layers += [
                nn.Conv2d(c, out, 3, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            c, h, w = out, h // 2, w // 2
        self.blocks = nn.Sequential(*layers)
        self.embed = nn.Linear(c * h * w, embedding_dim)
        self.head = nn.Linear(embedding_dim, classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(embedding before its ReLU, logits)."""
        embedding = self.embed(self.blocks(x).flatten(1))
        return embedding, self.head(F.relu(embedding))


# --- the configurations -----------------------------------------------------------------


@dataclass(frozen=True)
class FlowCase:
    """One RealNVP configuration of BenchCase::realnvp_presets()."""

    name: str
    scales: int
    blocks: int
    mid: int
    train_batch: int
    score_batch: int
    input_shape: tuple[int, int, int] = (1, 28, 28)


@dataclass(frozen=True)
class ClassifierCase:
    """The embedding study's classifier (EmbeddingStudyConfig::default())."""

    name: str = "classifier"
    input_shape: tuple[int, int, int] = (1, 28, 28)
    channels: tuple[int, ...] = (8, 16)
    embedding_dim: int = 64
    classes: int = 10
    train_batch: int = 128
    #: eval_batch_size: the batch the experiment embeds and classifies in.
    score_batch: int = 500
    #: The peak rate; the experiment decays it along a cosine, a scalar per step that
    #: costs nothing, so the benchmark holds it.
    learning_rate: float = 3e-3
    grad_clip_norm: float = 10.0


FLOW_CASES = [
    FlowCase("small", scales=2, blocks=2, mid=32, train_batch=64, score_batch=256),
    FlowCase("paper", scales=2, blocks=6, mid=64, train_batch=32, score_batch=256),
]
CLASSIFIER_CASE = ClassifierCase()
CASE_NAMES = [c.name for c in FLOW_CASES] + [CLASSIFIER_CASE.name]

# flow-lab OptimConfig::default()
FLOW_LR = 5e-5
FLOW_BETAS = (0.9, 0.999)
FLOW_EPS = 1e-8
FLOW_CLIP = 100.0
FLOW_WEIGHT_DECAY = 5e-5


def count_params(model: nn.Module) -> tuple[int, int]:
    """(trainable parameters, BatchNorm running-statistic entries).

    Ours (burn's num_params) counts both today; the trainable count is the one to
    compare with PyTorch's convention.
    """
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    running = sum(
        m.running_mean.numel() + m.running_var.numel()
        for m in model.modules()
        if isinstance(m, nn.BatchNorm2d)
    )
    return trainable, running


def flow_optimizer(model: nn.Module) -> torch.optim.Adam:
    """Adam with weight decay on the weight-norm scales (every parameter named `g`) only."""
    scales = [p for n, p in model.named_parameters() if n.rsplit(".", 1)[-1] == "g"]
    rest = [p for n, p in model.named_parameters() if n.rsplit(".", 1)[-1] != "g"]
    groups = [
        {"params": scales, "weight_decay": FLOW_WEIGHT_DECAY},
        {"params": rest, "weight_decay": 0.0},
    ]
    return torch.optim.Adam(groups, lr=FLOW_LR, betas=FLOW_BETAS, eps=FLOW_EPS)


class Diverged(RuntimeError):
    """The loss or the gradient norm of a step is not finite."""


def checked(what: str, value: float) -> float:
    if not math.isfinite(value):
        raise Diverged(f"{what} is not finite ({value})")
    return value


def flow_train_step(model: RealNVP, optimizer: torch.optim.Optimizer, x: torch.Tensor) -> None:
    """FlowTrainer::step: loss, read back and checked; backward; clip; Adam."""
    loss = -model.log_likelihood(x).mean()
    checked("loss", loss.item())
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), FLOW_CLIP)
    checked("gradient norm", norm.item())
    optimizer.step()


def classifier_train_step(
    model: Classifier, optimizer: torch.optim.Optimizer, x: torch.Tensor, labels: torch.Tensor
) -> None:
    """One step of flow-embed's train loop on the classifier."""
    _, logits = model(x)
    correct = (logits.argmax(1) == labels).sum()
    loss = F.cross_entropy(logits, labels)
    checked("loss", loss.item())
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), CLASSIFIER_CASE.grad_clip_norm)
    checked("gradient norm", norm.item())
    optimizer.step()
    correct.item()  # the loop reads the batch accuracy back after the step


# --- timing -----------------------------------------------------------------------------

WARMUP = 1
MIN_ITERS = 3


def time_loop(step: Callable[[], None], min_seconds: float) -> tuple[int, float]:
    """bench.rs time_loop: warm-up, then at least MIN_ITERS and at least min_seconds."""
    for _ in range(WARMUP):
        step()
    start = time.perf_counter()
    iters = 0
    while iters < MIN_ITERS or time.perf_counter() - start < min_seconds:
        step()
        iters += 1
    return iters, time.perf_counter() - start


def backend_name() -> str:
    return f"pytorch-{torch.__version__}"


def result(
    name: str,
    params: int,
    train_batch: int,
    train: tuple[int, float],
    score_batch: int,
    score: tuple[int, float],
) -> dict:
    """The fields of flow-lab's BenchResult, in its order."""
    return {
        "name": name,
        "backend": backend_name(),
        "params": params,
        "train_batch": train_batch,
        "train_steps": train[0],
        "train_images_per_sec": train[0] * train_batch / train[1],
        "score_batch": score_batch,
        "score_batches": score[0],
        "score_images_per_sec": score[0] * score_batch / score[1],
    }


def bench_flow(case: FlowCase, seconds: float) -> tuple[dict, int]:
    torch.manual_seed(0)
    model = RealNVP(case.input_shape, case.scales, case.blocks, case.mid)
    params, running = count_params(model)
    model.train()
    optimizer = flow_optimizer(model)
    train_input = torch.rand(case.train_batch, *case.input_shape)
    train = time_loop(lambda: flow_train_step(model, optimizer, train_input), seconds)

    model.eval()
    score_input = torch.rand(case.score_batch, *case.input_shape)

    def score() -> None:
        with torch.no_grad():
            model.log_likelihood(score_input).sum().item()

    scored = time_loop(score, seconds)
    return result(case.name, params, case.train_batch, train, case.score_batch, scored), running


def bench_classifier(case: ClassifierCase, seconds: float) -> tuple[dict, int]:
    torch.manual_seed(0)
    model = Classifier(case.input_shape, list(case.channels), case.embedding_dim, case.classes)
    params, running = count_params(model)
    model.train()
    # flow-embed's loop: Adam with burn's betas (0.9, 0.999) and PyTorch's epsilon.
    optimizer = torch.optim.Adam(
        model.parameters(), lr=case.learning_rate, betas=(0.9, 0.999), eps=1e-8
    )
    x = torch.rand(case.train_batch, *case.input_shape)
    labels = torch.randint(0, case.classes, (case.train_batch,))
    train = time_loop(lambda: classifier_train_step(model, optimizer, x, labels), seconds)

    model.eval()
    score_input = torch.rand(case.score_batch, *case.input_shape)

    def score() -> None:
        with torch.no_grad():
            embedding, logits = model(score_input)
            (embedding.sum() + logits.sum()).item()

    scored = time_loop(score, seconds)
    return result(case.name, params, case.train_batch, train, case.score_batch, scored), running


def print_header(threads: int) -> None:
    print(f"PyTorch twin on 1x28x28, {backend_name()}, {threads} threads")
    print(
        f"{'config':<10} {'backend':<22} {'params':>10} {'batch':>6} {'train/s':>8} "
        f"{'batch':>6} {'score/s':>8}  note"
    )


def print_row(r: dict, running: int) -> None:
    with_running = r["params"] + running
    note = f"trainable; +{running} BN running stats = {with_running} as burn's num_params counts"
    print(
        f"{r['name']:<10} {r['backend']:<22} {r['params']:>10} {r['train_batch']:>6} "
        f"{r['train_images_per_sec']:>8.1f} {r['score_batch']:>6} "
        f"{r['score_images_per_sec']:>8.1f}  {note}",
        flush=True,
    )


# --- the check --------------------------------------------------------------------------

JACOBIAN_STEP = 1e-5


def perturb_(model: nn.Module, std: float, generator: torch.Generator) -> None:
    """Moves every parameter and BN running statistic away from its (near-identity) start."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * std)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                shape, dtype = m.running_mean.shape, m.running_mean.dtype
                m.running_mean.copy_(torch.randn(shape, generator=generator, dtype=dtype) * 0.3)
                m.running_var.copy_(torch.rand(shape, generator=generator, dtype=dtype) + 0.5)


def brute_force_log_det(model: RealNVP, u: torch.Tensor) -> tuple[float, float]:
    """(reported log-det, log|det| of the central-difference Jacobian) at one sample u.

    The sample and its 2D shifted copies go through the flow as one batch in eval mode,
    where BatchNorm uses running statistics and samples do not interact.
    """
    d = u.numel()
    base = u.reshape(1, d)
    shifts = torch.eye(d, dtype=u.dtype) * JACOBIAN_STEP
    batch = torch.cat([base, base + shifts, base - shifts]).reshape(2 * d + 1, *u.shape)
    with torch.no_grad():
        z, log_det = model(batch)
    z = z.reshape(2 * d + 1, d)
    jacobian = ((z[1 : d + 1] - z[d + 1 :]) / (2 * JACOBIAN_STEP)).T  # row i, column k: dz_i / du_k
    return log_det[0].item(), torch.linalg.slogdet(jacobian)[1].item()


def check_squeeze_order() -> bool:
    x = torch.arange(2 * 4 * 4, dtype=torch.float64).reshape(1, 2, 4, 4)
    y = squeeze(x)
    ok = all(
        y[0, c * 4 + dy * 2 + dx, i, j] == x[0, c, 2 * i + dy, 2 * j + dx]
        for c in range(2)
        for dy in range(2)
        for dx in range(2)
        for i in range(2)
        for j in range(2)
    )
    return ok and torch.equal(unsqueeze(y), x)


def run_check(seed: int = 0) -> bool:
    """Float64 checks; prints the numbers and returns whether all pass."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        g = torch.Generator().manual_seed(seed)
        ok = True
        squeeze_ok = check_squeeze_order()
        print(f"squeeze order c*4 + dy*2 + dx and its inverse: {'ok' if squeeze_ok else 'WRONG'}")
        ok &= squeeze_ok
        mask = checkerboard_masks(0, 1, 2, 2)[1]
        mask_ok = mask[0, 0].tolist() == [[1.0, 0.0], [0.0, 1.0]]
        print(f"checkerboard parity 0 transforms (0, 0): {'ok' if mask_ok else 'WRONG'}")
        ok &= mask_ok

        def invertibility(model: RealNVP, u: torch.Tensor, label: str) -> None:
            nonlocal ok
            with torch.no_grad():
                z, ld = model(u)
                back, ld_inv = model.inverse(z)
            err, ld_err = (back - u).abs().max().item(), (ld + ld_inv).abs().max().item()
            good = err < 1e-9 and ld_err < 1e-9
            ok &= good
            print(
                f"{label}: max |u - inverse(forward(u))| = {err:.2e}, "
                f"max |ld_fwd + ld_inv| = {ld_err:.2e} {'ok' if good else 'FAIL'}"
            )

        # The tiny configuration: 1x4x4, 2 scales, 1 block, 4 channels (D = 16).
        tiny = RealNVP((1, 4, 4), scales=2, blocks=1, mid=4)
        perturb_(tiny, 0.1, g)
        pixels = torch.randint(0, 256, (8, 1, 4, 4), generator=g)
        u = dequantize(pixels, g)
        tiny.eval()
        invertibility(tiny, u, "tiny 1x4x4, eval mode (running BN statistics)")
        tiny.train()
        invertibility(tiny, u, "tiny 1x4x4, train mode (batch BN statistics)")
        tiny.eval()
        worst = 0.0
        for k in range(4):
            reported, brute = brute_force_log_det(tiny, u[k])
            worst = max(worst, abs(reported - brute))
            print(
                f"  sample {k}: reported log-det {reported:.9f}, "
                f"central-difference log|det J| {brute:.9f}"
            )
        good = worst < 1e-6
        ok &= good
        print(
            "tiny 1x4x4 log-det vs brute-force Jacobian: "
            f"max abs difference {worst:.2e} {'ok' if good else 'FAIL'}"
        )

        # The benchmarked `small` configuration at full size (inverse only; D = 784).
        small = RealNVP((1, 28, 28), scales=2, blocks=2, mid=32)
        perturb_(small, 0.02, g)
        u = dequantize(torch.randint(0, 256, (4, 1, 28, 28), generator=g), g)
        small.eval()
        invertibility(small, u, "small 1x28x28, eval mode")
        small.train()
        invertibility(small, u, "small 1x28x28, train mode")
        return bool(ok)
    finally:
        torch.set_default_dtype(previous)


# --- command line -----------------------------------------------------------------------


def available_cpus() -> int:
    """CPUs this process may run on (as Rust's available_parallelism, affinity included)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated configurations ({', '.join(CASE_NAMES)}); all by default",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help="seconds to keep timing each measurement (after at least 3 iterations)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=available_cpus(),
        help="torch.set_num_threads (default: the CPUs available)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as a JSON list here")
    parser.add_argument(
        "--check",
        action="store_true",
        help="check invertibility and log-dets in float64, then exit",
    )
    args = parser.parse_args(argv)
    args.only = [n for n in args.only.split(",") if n]
    unknown = [n for n in args.only if n not in CASE_NAMES]
    if unknown:
        known = ", ".join(CASE_NAMES)
        parser.error(f"--only: unknown configuration(s) {', '.join(unknown)} (known: {known})")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.check:
        return 0 if run_check() else 1
    wanted = args.only or CASE_NAMES
    print_header(args.threads)
    results = []
    for case in FLOW_CASES:
        if case.name in wanted:
            r, running = bench_flow(case, args.seconds)
            print_row(r, running)
            results.append(r)
    if CLASSIFIER_CASE.name in wanted:
        r, running = bench_classifier(CLASSIFIER_CASE, args.seconds)
        print_row(r, running)
        results.append(r)
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
