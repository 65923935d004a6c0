#!/usr/bin/env python3
"""Groups a `perf record` profile of `cargo xtask bench` into the operations of a flow's
training step or scoring pass, and prints each group's share of the samples as a
Markdown table.

    perf record -F 499 -o train.data ./target/debug/xtask bench --only small \
        --seconds 15 --phase train
    python3 tools/perf_breakdown.py train.data [--perf /usr/bin/perf] \
        [--json docs/results/profile.json --label "before" --phase train]

With --json, the breakdown is appended (or replaces the entry of the same label and
phase) to a list that `cargo xtask docs` renders in DEVELOPERS.md, stamped with the
commit, machine and date it was taken on.

The groups are decided by symbol name alone (the dev profile builds dependencies
without frame pointers, so call stacks are not reliable): the first pattern that
matches a symbol names its group. A convolution's forward pass and its two gradients
share the same gemm micro-kernels, so they are one group here; `--phase score` profiles
the forward pass alone.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
from collections import OrderedDict

# (group, pattern on "dso symbol"), first match wins; order matters.
GROUPS = [
    # Only in a profile recorded with `perf record -a`: the samples of a core that had
    # nothing to run (a parallel operation waiting for its other half, or serial work
    # on the other core).
    (
        "idle: a core with nothing to run (perf record -a)",
        r"pv_native_safe_halt|native_safe_halt|default_idle|cpuidle|do_idle|poll_idle",
    ),
    ("convolution: gemm micro-kernels and packing", r"gemm_f32|gemm_common|gemm::"),
    ("convolution: im2col (forward and kernel gradient)", r"cpu_conv::(columns::)?im2col"),
    # At opt-level 3 col2im is inlined into `input_grad`, whose own samples are its loop.
    ("convolution: col2im (input gradient)", r"cpu_conv::(columns::)?(col2im|input_grad\b)"),
    (
        "batch norm and its ReLU, fused (flow-kernels' cpu_norm)",
        r"flow_kernels::(cpu_norm|norm|backends::flex::(affine|norm))",
    ),
    ("residual sums (flow-kernels' cpu_sum)", r"flow_kernels::(cpu_sum|backends::flex::sum)"),
    ("convolution: the rest (bias, per-thread sums, buffers)", r"flow_kernels::"),
    (
        "element-wise and broadcast ops (batch norm, activations, couplings, optimiser)",
        r"burn_flex::ops|macerator|StridedIter|libm\.so|burn_flex::simd|expm1|burn_optim",
    ),
    (
        "copies and fills (memmove, memset, to_contiguous, filled)",
        r"memmove|memcpy|memset|to_contiguous|filled_typed",
    ),
    (
        "memory: allocator and page faults",
        r"malloc|_int_free|cfree|unlink_chunk|\[kernel|\[k\]",
    ),
    (
        "autodiff bookkeeping (graph, hashing, thread-locals)",
        r"burn_autodiff|hash|HashMap|hashbrown|LocalKey|Arc<",
    ),
]


def samples_by_symbol(data, perf, window):
    """(percent, 'dso symbol') for every symbol of the profile, within `window` (perf
    report's --time, e.g. "20%-100%"; all of it when None)."""
    time = ["--time", window] if window else []
    out = subprocess.run(
        [perf, "report", "-i", data, "--no-children", "--sort", "dso,symbol", "--stdio", *time],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+(\[[.k]\])\s+(.*?)\s*(?:-\s+-\s*)?$", line)
        if m:
            rows.append((float(m.group(1)), f"{m.group(2)} {m.group(3)} {m.group(4)}"))
    return rows


def provenance():
    """The commit (with -dirty when the tree has changes), machine and UTC date, in the
    form the Rust side writes them."""

    def git(*args):
        return subprocess.run(["git", *args], capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short=7", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += "-dirty"
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    machine = f"{model}, {os.cpu_count()} threads"
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    return {"commit": commit, "machine": machine, "date": date}


def save(path, entry):
    """Adds `entry` to the list in `path`, replacing one of the same label and phase."""
    entries = []
    if os.path.exists(path):
        with open(path) as f:
            entries = json.load(f)
    entries = [
        e for e in entries if (e["label"], e["phase"]) != (entry["label"], entry["phase"])
    ]
    entries.append(entry)
    with open(path, "w") as f:
        json.dump(entries, f, indent=2)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", help="perf.data file")
    parser.add_argument("--perf", default="perf", help="the perf binary")
    parser.add_argument("--json", help="add the breakdown to this list")
    parser.add_argument("--label", default="current", help="its label in the list")
    parser.add_argument("--phase", choices=["train", "score"], help="what was profiled")
    parser.add_argument(
        "--command", default="", help="the profiled command, recorded with the breakdown"
    )
    parser.add_argument(
        "--time",
        help="only this part of the recording (perf report --time, e.g. 20%%-100%% to leave "
        "out the model's set-up, which runs on one core)",
    )
    args = parser.parse_args()
    if args.json and not args.phase:
        sys.exit("--json needs --phase")
    rows = samples_by_symbol(args.data, args.perf, args.time)
    if not rows:
        sys.exit(f"no samples read from {args.data}")
    shares = OrderedDict((name, 0.0) for name, _ in GROUPS)
    shares["other"] = 0.0
    for percent, symbol in rows:
        group = next((name for name, pattern in GROUPS if re.search(pattern, symbol)), "other")
        shares[group] += percent
    print("| operation | share of samples |")
    print("|---|---:|")
    for name, share in shares.items():
        print(f"| {name} | {share:.1f}% |")
    if args.json:
        save(
            args.json,
            {
                "label": args.label,
                "phase": args.phase,
                "command": args.command,
                "time_window": args.time,
                "samples_percent_total": round(sum(shares.values()), 2),
                "groups": [{"name": n, "percent": round(v, 2)} for n, v in shares.items()],
                "provenance": provenance(),
            },
        )


if __name__ == "__main__":
    main()
