#!/usr/bin/env python3
"""Reference values for flow-ood's metrics, computed with scikit-learn and NumPy.

Writes one JSON file per case into crates/flow-ood/tests/golden/; the Rust test
crates/flow-ood/tests/golden.rs checks every metric against them to 1e-12.

Regenerate (scikit-learn and NumPy in a virtualenv outside the repository):

    python3 -m venv /work/venv-metrics
    /work/venv-metrics/bin/pip install scikit-learn numpy
    /work/venv-metrics/bin/python tools/golden_metrics.py

The output is deterministic for given library versions (recorded in each file).

Conventions reproduced here (each re-derived from the documentation of the method it
names, not copied from any implementation):

* score ("conf"): the caller's score mapped so that larger = more in-distribution
  (negated when the case's orientation is higher_is_out_of_distribution).
* AUROC: sklearn.metrics.roc_auc_score(is_in, conf).
* AUPR-In / AUPR-Out, trapezoid (OpenOOD v1.5): sklearn.metrics.auc(recall, precision)
  on sklearn.metrics.precision_recall_curve(is_in, conf) / (is_ood, -conf).
* AUPR-In / AUPR-Out, average precision: sklearn.metrics.average_precision_score on the
  same labels and scores.
* FPR at TPR level:
  - OpenOOD v1.5: fpr at the first index with tpr >= level on
    sklearn.metrics.roc_curve(is_ood, -conf) (drop_intermediate=True, its default).
  - Hendrycks: in-distribution positive; ROC points at every distinct threshold, from the
    highest threshold down to the first point reaching TPR 1, visited in reverse; the
    first point with the smallest |TPR - level| wins; FPR = false positives / negatives.
  - Interpolated: in-distribution positive; full ROC curve (drop_intermediate=False);
    linear interpolation of FPR between the last point with TPR < level and the first
    with TPR >= level (that point's FPR when its TPR equals level).
* Detection error: min over the full ROC curve (in-distribution positive) of
  0.5 * ((1 - tpr) + fpr).
* ROC points: sklearn.metrics.roc_curve, thresholds mapped back to the caller's units.
* Histogram: numpy.histogram over both sets with shared bins.
* Bootstrap: the Rust crate's documented scheme, reproduced here: xoshiro256++ seeded by
  SplitMix64, Lemire bounded draws of positions into each set sorted by decreasing conf
  (n_in draws, then n_ood draws, per resample), metrics as above on each resample,
  numpy.quantile (linear) at (1 - level) / 2 and (1 + level) / 2.
"""

import json
import os
import sys

import numpy as np
import sklearn
from sklearn import metrics as skm

OUT_DIR = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "crates", "flow-ood", "tests", "golden"
)
LEVELS = [0.95, 0.8, 0.99]
MASK64 = (1 << 64) - 1


# ---------------------------------------------------------------- metrics (NumPy side)


def labelled(conf_in, conf_ood):
    conf = np.concatenate([conf_in, conf_ood])
    is_in = np.concatenate([np.ones(len(conf_in), int), np.zeros(len(conf_ood), int)])
    return conf, is_in


def fpr_openood(conf, is_in, level):
    fpr, tpr, _ = skm.roc_curve(1 - is_in, -conf)
    return float(fpr[np.argmax(tpr >= level)])


def cumulative_counts(conf, is_pos):
    """tps, fps at each distinct threshold of conf, highest first (no origin)."""
    order = np.argsort(-conf, kind="stable")
    s, y = conf[order], is_pos[order]
    last_of_run = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tps = np.cumsum(y)[last_of_run]
    fps = (last_of_run + 1) - tps
    return tps, fps


def fpr_hendrycks(conf, is_in, level):
    tps, fps = cumulative_counts(conf, is_in)
    total_pos, total_neg = tps[-1], fps[-1]
    first_full = int(np.nonzero(tps == total_pos)[0][0])
    best, best_fps = None, None
    for k in range(first_full, -1, -1):
        d = abs(float(tps[k]) / float(total_pos) - level)
        if best is None or d < best:
            best, best_fps = d, fps[k]
    return float(best_fps) / float(total_neg)


def fpr_interpolated(conf, is_in, level):
    fpr, tpr, _ = skm.roc_curve(is_in, conf, drop_intermediate=False)
    k = int(np.argmax(tpr >= level))
    if tpr[k] == level:
        return float(fpr[k])
    f0, f1, t0, t1 = float(fpr[k - 1]), float(fpr[k]), float(tpr[k - 1]), float(tpr[k])
    return f0 + (f1 - f0) * ((level - t0) / (t1 - t0))


def detection_error(conf, is_in):
    fpr, tpr, _ = skm.roc_curve(is_in, conf, drop_intermediate=False)
    return float(np.min(0.5 * ((1.0 - tpr) + fpr)))


def aupr_trapezoid(labels, score):
    precision, recall, _ = skm.precision_recall_curve(labels, score)
    return float(skm.auc(recall, precision))


def all_metrics(conf_in, conf_ood):
    conf, is_in = labelled(conf_in, conf_ood)
    out = {
        "auroc": float(skm.roc_auc_score(is_in, conf)),
        "aupr_in_trapezoid": aupr_trapezoid(is_in, conf),
        "aupr_in_average_precision": float(skm.average_precision_score(is_in, conf)),
        "aupr_out_trapezoid": aupr_trapezoid(1 - is_in, -conf),
        "aupr_out_average_precision": float(skm.average_precision_score(1 - is_in, -conf)),
        "detection_error": detection_error(conf, is_in),
    }
    for level in LEVELS:
        tag = fpr_tag(level)
        out[f"fpr_{tag}_openood_v1_5"] = fpr_openood(conf, is_in, level)
        out[f"fpr_{tag}_hendrycks"] = fpr_hendrycks(conf, is_in, level)
        out[f"fpr_{tag}_interpolated"] = fpr_interpolated(conf, is_in, level)
    return out


def fpr_tag(level):
    return str(round(level * 100, 4)).rstrip("0").rstrip(".").replace(".", "_")


# ---------------------------------------------------------------- bootstrap stream


class Xoshiro256pp:
    def __init__(self, seed):
        sm = seed & MASK64
        state = []
        for _ in range(4):
            sm = (sm + 0x9E3779B97F4A7C15) & MASK64
            z = sm
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            state.append(z ^ (z >> 31))
        self.s = state

    @staticmethod
    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK64

    def next_u64(self):
        s = self.s
        result = (self.rotl((s[0] + s[3]) & MASK64, 23) + s[0]) & MASK64
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self.rotl(s[3], 45)
        return result

    def below(self, n):
        m = self.next_u64() * n
        if (m & MASK64) < n:
            threshold = ((1 << 64) - n) % n
            while (m & MASK64) < threshold:
                m = self.next_u64() * n
        return m >> 64


def bootstrap(conf_in, conf_ood, resamples, level, seed):
    rng = Xoshiro256pp(seed)
    sorted_in = np.sort(conf_in)[::-1]
    sorted_ood = np.sort(conf_ood)[::-1]
    draws = {}
    for _ in range(resamples):
        idx_in = [rng.below(len(sorted_in)) for _ in range(len(sorted_in))]
        idx_ood = [rng.below(len(sorted_ood)) for _ in range(len(sorted_ood))]
        values = all_metrics(sorted_in[idx_in], sorted_ood[idx_ood])
        for name, v in values.items():
            draws.setdefault(name, []).append(v)
    tail = (1.0 - level) / 2.0
    intervals = {}
    for name, vs in draws.items():
        lo, hi = np.quantile(np.array(vs), [tail, 1.0 - tail], method="linear")
        intervals[name] = [float(lo), float(hi)]
    return {"resamples": resamples, "level": level, "seed": seed, "intervals": intervals}


# ---------------------------------------------------------------- cases


def roc_json(conf_positive_score, labels, drop, to_caller):
    fpr, tpr, thr = skm.roc_curve(labels, conf_positive_score, drop_intermediate=drop)
    assert np.isinf(thr[0])
    return {
        "fpr": [float(x) for x in fpr],
        "tpr": [float(x) for x in tpr],
        "thresholds": [to_caller(float(x)) for x in thr[1:]],
    }


def case(name, description, in_scores, ood_scores, orientation="higher_is_in_distribution",
         bins=10, hist_range=None, boot=None):
    in_scores = np.asarray(in_scores, dtype=np.float64)
    ood_scores = np.asarray(ood_scores, dtype=np.float64)
    sign = 1.0 if orientation == "higher_is_in_distribution" else -1.0
    # + 0.0 folds -0.0 into 0.0 (NumPy already treats them as equal when ranking).
    conf_in, conf_ood = sign * in_scores + 0.0, sign * ood_scores + 0.0

    def to_caller(v):
        return sign * v + 0.0

    conf, is_in = labelled(conf_in, conf_ood)
    counts, edges = [], None
    for s in (in_scores, ood_scores):
        lo_hi = hist_range or (
            float(min(in_scores.min(), ood_scores.min())),
            float(max(in_scores.max(), ood_scores.max())),
        )
        c, edges = np.histogram(s, bins=bins, range=lo_hi)
        counts.append([int(x) for x in c])
    outside = [int(np.sum((s < edges[0]) | (s > edges[-1]))) for s in (in_scores, ood_scores)]
    return {
        "name": name,
        "description": description,
        "orientation": orientation,
        "in_scores": [float(x) for x in in_scores],
        "ood_scores": [float(x) for x in ood_scores],
        "expected": all_metrics(conf_in, conf_ood),
        "roc": {
            "in_positive": roc_json(conf, is_in, False, to_caller),
            "in_positive_drop_intermediate": roc_json(conf, is_in, True, to_caller),
            "ood_positive_drop_intermediate": roc_json(
                -conf, 1 - is_in, True, lambda v: to_caller(-v)
            ),
        },
        "histogram": {
            "bins": bins,
            "range": list(hist_range) if hist_range else None,
            "edges": [float(x) for x in edges],
            "counts": counts,
            "outside": outside,
        },
        "bootstrap": bootstrap(conf_in, conf_ood, **boot) if boot else None,
    }


def build_cases():
    rng = np.random.default_rng(20201207)
    boot = {"resamples": 200, "level": 0.9, "seed": 42}
    cases = [
        case("ties", "small sets with ties inside and across the sets, and -0.0 vs 0.0",
             [3.0, 1.0, 1.0, 2.0, 0.0, -0.0, 5.0, 2.0],
             [1.0, 2.0, 0.0, -1.0, 2.0, 4.0], boot=boot),
        case("diagonal_ties",
             "repeated identical tie groups: collinear ROC points that scikit-learn drops",
             [4.0, 4.0, 3.0, 3.0, 2.0, 2.0, 1.0, 1.0, 0.5, 6.0],
             [4.0, 3.0, 2.0, 1.0, 0.0, 0.0, 5.0, 4.5, 3.5, 2.5], boot=boot),
        case("collinear_ties",
             "each value 0..19 once in each set: every ROC step is the same diagonal, so "
             "drop_intermediate keeps only the ends and OpenOOD's FPR@95 becomes 1",
             [float(v) for v in range(20)], [float(v) for v in range(20)], boot=boot),
        case("imbalanced_in_heavy", "1000 in-distribution vs 7 out-of-distribution scores",
             rng.normal(0.0, 1.0, 1000), rng.normal(-1.0, 1.0, 7),
             boot={"resamples": 50, "level": 0.95, "seed": 7}),
        case("imbalanced_ood_heavy", "5 in-distribution vs 1200 out-of-distribution scores",
             rng.normal(1.0, 1.0, 5), rng.normal(0.0, 2.0, 1200)),
        case("perfect_separation", "every in-distribution score above every OOD score",
             rng.uniform(2.0, 3.0, 40), rng.uniform(-1.0, 1.0, 30), boot=boot),
        case("reversed_separation", "every OOD score above every in-distribution score "
             "(the paper's FashionMNIST vs MNIST failure taken to the extreme)",
             rng.uniform(-1.0, 1.0, 30), rng.uniform(2.0, 3.0, 40), boot=boot),
        case("single_each", "one score per set", [0.3], [0.7], boot=boot),
        case("single_each_tied", "one score per set, tied", [1.5], [1.5]),
        case("large_random", "3000 vs 2000 continuous scores, overlapping",
             rng.normal(0.5, 1.0, 3000), rng.normal(0.0, 1.3, 2000), bins=40),
        case("integer_ties", "2500 vs 1800 integer scores in 0..=20: many large tie groups",
             rng.integers(4, 21, 2500).astype(float), rng.integers(0, 15, 1800).astype(float),
             bins=21, boot={"resamples": 20, "level": 0.8, "seed": 3}),
        case("bits_per_dim", "higher = more OOD (bits/dim-like), with the paper's means",
             rng.normal(3.14, 0.2, 600), rng.normal(2.08, 0.3, 400),
             orientation="higher_is_out_of_distribution", bins=12, boot={
                 "resamples": 30, "level": 0.95, "seed": 11}),
        case("histogram_range", "a fixed histogram range that leaves scores outside",
             rng.normal(0.0, 1.0, 300), rng.normal(1.0, 1.0, 200), bins=7,
             hist_range=(-1.0, 1.5)),
    ]
    return cases


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    versions = {"scikit_learn": sklearn.__version__, "numpy": np.__version__,
                "python": sys.version.split()[0]}
    for c in build_cases():
        c = {"generated_by": "tools/golden_metrics.py", "versions": versions, **c}
        path = os.path.join(OUT_DIR, c["name"] + ".json")
        with open(path, "w") as f:
            json.dump(c, f, indent=None, separators=(",", ":"))
            f.write("\n")
        print(f"wrote {os.path.relpath(path)}")


if __name__ == "__main__":
    main()
