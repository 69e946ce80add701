"""What more cores buy a CPU candidate, and what the timing's core count reads for each way of
getting them.

    python benchmarks/cpu_cores.py [--n 1536] [--repeats 3]

One square fp32 matmul, timed by ``evaluator.timing.loop.time_cpu`` in this process with one torch
thread, as a candidate's process gets. Baseline, in the same run: the plain product. Against it:
the same product after ``torch.set_num_threads(2)``, and the product split with a child process
that computes the bottom half into a shared file and is waited for. The evaluator rejects a
candidate whose core count exceeds 1.1 times what the reference was given
(``evaluator.timing.stats.too_many_cores``). Writes benchmarks/results/cpu_cores_<cpu>.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

from evaluator.hardware.devices import cpu_name
from evaluator.timing.loop import time_cpu
from evaluator.timing.stats import TimingPlan, TimingStats, too_many_cores

from result_files import commit, result_path, write_report

PLAN = TimingPlan(warmup_ms=20, budget_ms=500, min_samples=10, max_samples=200)


def plain(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a @ b


def two_threads(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    torch.set_num_threads(2)
    try:
        return a @ b
    finally:
        torch.set_num_threads(1)


def split_with_a_child(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    with tempfile.NamedTemporaryFile(dir=tempfile.gettempdir()) as handle:
        out = torch.from_file(handle.name, shared=True, size=a.shape[0] * b.shape[1]).view(a.shape[0], -1)
        half = a.shape[0] // 2
        child = os.fork()
        if child == 0:
            torch.matmul(a[half:], b, out=out[half:])
            os._exit(0)
        torch.matmul(a[:half], b, out=out[:half])
        os.waitpid(child, 0)
        return out


VARIANTS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "plain (baseline)": plain,
    "torch.set_num_threads(2)": two_threads,
    "half in a forked child": split_with_a_child,
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1536)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    a, b = torch.randn(args.n, args.n), torch.randn(args.n, args.n)
    expected = a @ b
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in VARIANTS}
    for _ in range(args.repeats):
        for name, variant in VARIANTS.items():
            assert torch.allclose(variant(a, b), expected, rtol=1e-4, atol=1e-3), name
            stats = time_cpu(lambda inputs, v=variant: v(*inputs), [[a, b]], PLAN)
            runs[name].append((stats.median_us, stats.cores or 0.0))
    baseline_us = statistics.median(us for us, _ in runs["plain (baseline)"])
    rows: list[dict[str, Any]] = []
    for name, measured in runs.items():
        median_us = statistics.median(us for us, _ in measured)
        cores = statistics.median(c for _, c in measured)
        verdict = too_many_cores("square", TimingStats(median_us, 0.0, len(measured), "cpu", cores), 1)
        rows.append(
            {
                "variant": name,
                "median_ms": median_us / 1e3,
                "speedup_vs_plain": baseline_us / median_us,
                "cores": cores,
                "cores_per_run": [c for _, c in measured],
                "rejected": verdict is not None,
            }
        )
    table = Table(title=f"{args.n}x{args.n} fp32 matmul on {cpu_name()}, one torch thread given")
    for column in ("variant", "median ms", "vs plain", "cores (median)", "rejected"):
        table.add_column(column, justify="left" if column == "variant" else "right")
    for row in rows:
        table.add_row(
            row["variant"],
            f"{row['median_ms']:.1f}",
            f"{row['speedup_vs_plain']:.2f}x",
            f"{row['cores']:.2f}",
            "yes" if row["rejected"] else "no",
        )
    Console().print(table)
    out = result_path("cpu_cores", cpu_name())
    write_report(
        out,
        {
            "benchmark": "cpu_cores",
            "device": cpu_name(),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "commit": commit(),
            "command": "python benchmarks/cpu_cores.py " + " ".join(argv),
            "n": args.n,
            "repeats": args.repeats,
            "rows": rows,
        },
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
