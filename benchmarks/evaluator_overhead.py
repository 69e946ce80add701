"""The evaluator's fixed cost per candidate on this machine, and candidates per minute.

Baseline, measured in the same run: a bare ``python -c "import torch"`` subprocess, the floor
for any evaluator that gives every candidate a fresh process. The evaluator's cost adds the
static gate, job files, input copies, correctness trials, the outside comparison and a
minimal timing pass on a trivial problem, so what remains is overhead, not kernel time.

    python benchmarks/evaluator_overhead.py [--repeats 8] [--slots 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from evaluator.evaluate import Evaluator
from evaluator.executor import LocalExecutor
from evaluator.limits import EvalLimits
from kernels.candidate import Candidate, make_candidate
from kernels.problem import load_problem

PROBLEM = """
import torch

SHAPES = [{"name": "a", "n": 256}, {"name": "b", "n": 512}]


class Model(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x)


def get_inputs(n=256):
    return [torch.randn(n, n)]


def get_init_inputs():
    return []
"""
CANDIDATE = """
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return x.clamp_min(0)
"""
# Just enough timing to exercise the path; the benchmark is about the fixed cost.
LIMITS = EvalLimits(warmup_ms=0.0, timing_budget_ms=0.0, min_samples=5, max_samples=5)
RESULTS = Path(__file__).parent / "results"


def bare_start_s(repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        times.append(time.perf_counter() - start)
    return times


def distinct_candidates(count: int, first: int = 0) -> list[Candidate]:
    """Distinct hashes, so nothing could be served from a cache."""
    return [make_candidate(CANDIDATE + f"\nVARIANT = {i}\n") for i in range(first, first + count)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--slots", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "relu_problem.py"
        path.write_text(PROBLEM)
        problem = load_problem(path)
        evaluator = Evaluator(problem, "cpu", LIMITS, secret_seed=1, workroot=Path(tmp) / "work")
        start = time.perf_counter()
        evaluator.reference()
        reference_s = time.perf_counter() - start
        baseline = bare_start_s(args.repeats)
        sequential = []
        for candidate in distinct_candidates(args.repeats):
            start = time.perf_counter()
            result = evaluator.evaluate(candidate)
            sequential.append(time.perf_counter() - start)
            assert result.ok, result.reason
        # The same without the profiler pass, whose first session in a process costs the most.
        unprofiled = Evaluator(problem, "cpu", LIMITS.changed(profile=False), 1, workroot=Path(tmp) / "bare")
        unprofiled.reference()
        without_profile = []
        for candidate in distinct_candidates(args.repeats, first=1000):
            start = time.perf_counter()
            assert unprofiled.evaluate(candidate).ok
            without_profile.append(time.perf_counter() - start)
        with LocalExecutor(evaluator, slots=args.slots) as executor:
            batch = distinct_candidates(args.repeats * 2, first=args.repeats)
            start = time.perf_counter()
            futures = [executor.submit(c) for c in batch]
            assert all(f.result().ok for f in futures)
            parallel_s = time.perf_counter() - start

    per_candidate = statistics.median(sequential)
    floor = statistics.median(baseline)
    report = {
        "benchmark": "evaluator_overhead",
        "device": "cpu",
        "machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version()},
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python benchmarks/evaluator_overhead.py " + " ".join(sys.argv[1:]),
        "repeats": args.repeats,
        "reference_prepare_s": reference_s,
        "baseline_python_import_torch_s": floor,
        "evaluate_per_candidate_s": per_candidate,
        "evaluate_per_candidate_iqr_s": statistics.quantiles(sequential, n=4)[2]
        - statistics.quantiles(sequential, n=4)[0],
        "overhead_beyond_baseline_s": per_candidate - floor,
        "evaluate_per_candidate_without_profiler_s": statistics.median(without_profile),
        "ratio_to_baseline": per_candidate / floor,
        "candidates_per_minute_1_slot": 60.0 / per_candidate,
        f"candidates_per_minute_{args.slots}_slots": 60.0 * len(batch) / parallel_s,
    }
    table = Table(title="Evaluator fixed cost per candidate (CPU, trivial kernel)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("baseline: python -c 'import torch'", f"{floor:.2f} s")
    table.add_row("evaluate one candidate (median)", f"{per_candidate:.2f} s")
    table.add_row("ratio to baseline", f"{report['ratio_to_baseline']:.2f}x")
    table.add_row(
        "evaluate one candidate without the profiler pass",
        f"{report['evaluate_per_candidate_without_profiler_s']:.2f} s",
    )
    table.add_row("overhead beyond baseline", f"{report['overhead_beyond_baseline_s']:.2f} s")
    table.add_row("reference preparation (once per run)", f"{reference_s:.2f} s")
    table.add_row("candidates per minute, 1 slot", f"{report['candidates_per_minute_1_slot']:.1f}")
    table.add_row(
        f"candidates per minute, {args.slots} slots",
        f"{report[f'candidates_per_minute_{args.slots}_slots']:.1f}",
    )
    Console().print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "evaluator_overhead_cpu.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
