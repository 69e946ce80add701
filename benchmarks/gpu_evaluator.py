"""The evaluator on a GPU: harness overhead per candidate, candidates per minute per GPU, and the
adversarial suite's verdicts, against the built-in softmax on every visible GPU.

    python benchmarks/gpu_evaluator.py [--repeats 8]

Baseline, measured in the same run: a bare ``python -c "import torch; torch.cuda.init()"``
subprocess, the floor for any evaluator that gives each candidate a fresh process with CUDA.
Every candidate gets a fresh Triton cache (its own sandbox), so compile time is included for
Triton candidates; the overhead figure uses a PyTorch candidate, which compiles nothing.

Writes benchmarks/results/gpu_evaluator_<device-name>.json. Without CUDA it says so and exits 2.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from evaluator.evaluate import Evaluator
from evaluator.executor import LocalExecutor, MultiDeviceExecutor
from evaluator.limits import EvalLimits
from kernels.candidate import make_candidate
from kernels.problem import load_problem

HERE = Path(__file__).parent
CASES = sorted((HERE.parent / "tests/adversarial/cases").glob("*.py")) + sorted(
    (HERE.parent / "tests/adversarial/gpu_cases").glob("*.py")
)
HONEST = (
    "import torch\n\n\nclass ModelNew(torch.nn.Module):\n"
    "    def forward(self, x):\n        return torch.softmax(x, dim=-1){}\n"
)


def expected(path: Path) -> str:
    match = re.search(r"^# expect: (\w+)", path.read_text(), re.MULTILINE)
    status = match.group(1) if match else "?"
    return "ok" if path.stem == "honest_triton" else status


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=8, help="candidates timed for the overhead figures")
    parser.add_argument(
        "--ncu", action="store_true", help="include the Nsight Compute pass in the per-candidate cost"
    )
    parser.add_argument("--verdict-slots", type=int, default=4, help="adversarial cases run at once on GPU 0")
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device here: run this on a machine with a GPU", file=sys.stderr)
        return 2
    devices = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    name = torch.cuda.get_device_name(0)
    limits = EvalLimits(ncu=args.ncu)
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        problem = load_problem("softmax")
        evaluators = [
            Evaluator(problem, d, limits, 5, workroot=Path(tmp) / d.replace(":", "_")) for d in devices
        ]
        start = time.perf_counter()
        for evaluator in evaluators:
            evaluator.reference()
        reference_s = time.perf_counter() - start
        baseline = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import torch; torch.cuda.init()"], check=True)
            baseline.append(time.perf_counter() - t0)
        per_candidate = []
        for i in range(args.repeats):
            t0 = time.perf_counter()
            result = evaluators[0].evaluate(make_candidate(HONEST.format(f" + 0 * {i}")))
            per_candidate.append(time.perf_counter() - t0)
            assert result.ok, result.reason
        with MultiDeviceExecutor(evaluators) as executor:
            batch = [
                make_candidate(HONEST.format(f" * 1 + 0 * {i}")) for i in range(args.repeats * len(devices))
            ]
            t0 = time.perf_counter()
            assert all(f.result().ok for f in [executor.submit(c) for c in batch])
            parallel_s = time.perf_counter() - t0
        # Verdicts do not depend on having the GPU alone: several cases share GPU 0 to save time.
        # Shorter stage limits than a run's, so the hanging cases do not dominate the benchmark.
        shared_limits = replace(
            limits,
            gpu_memory_fraction=1 / args.verdict_slots,
            load_timeout_s=45,
            correctness_timeout_s=60,
            ncu=False,
        )
        verdict_evaluator = Evaluator(problem, devices[0], shared_limits, 5, workroot=Path(tmp) / "verdicts")
        with LocalExecutor(verdict_evaluator, slots=args.verdict_slots) as shared:
            verdicts = {p.stem: shared.submit(make_candidate(p.read_text())) for p in CASES}
            adversarial = {k: (f.result().status.value, f.result().reason) for k, f in verdicts.items()}
    wrong = {k: v for k, v in adversarial.items() if v[0] != expected(next(p for p in CASES if p.stem == k))}
    report = {
        "benchmark": "gpu_evaluator",
        "device": name,
        "gpus": len(devices),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python benchmarks/gpu_evaluator.py " + " ".join(sys.argv[1:]),
        "ncu_pass_included": args.ncu,
        "reference_prepare_s": reference_s,
        "baseline_process_with_cuda_s": statistics.median(baseline),
        "evaluate_per_candidate_s": statistics.median(per_candidate),
        "ratio_to_baseline": statistics.median(per_candidate) / statistics.median(baseline),
        "candidates_per_minute_per_gpu": 60.0 * len(batch) / parallel_s / len(devices),
        "adversarial": {
            k: {"status": s, "expected": expected(next(p for p in CASES if p.stem == k)), "reason": r}
            for k, (s, r) in adversarial.items()
        },
        "adversarial_all_as_expected": not wrong,
    }
    table = Table(title=f"Evaluator on {name} x{len(devices)}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row(
        "baseline: fresh process with torch + CUDA", f"{report['baseline_process_with_cuda_s']:.2f} s"
    )
    table.add_row("evaluate one candidate (median)", f"{report['evaluate_per_candidate_s']:.2f} s")
    table.add_row("ratio to baseline", f"{report['ratio_to_baseline']:.2f}x")
    table.add_row("candidates per minute per GPU", f"{report['candidates_per_minute_per_gpu']:.1f}")
    table.add_row("adversarial cases as expected", f"{len(CASES) - len(wrong)}/{len(CASES)}")
    console.print(table)
    for case, (status, reason) in sorted(wrong.items()):
        console.print(f"[red]{case}[/]: got {status}: {reason}")
    HERE.joinpath("results").mkdir(exist_ok=True)
    out = HERE / "results" / f"gpu_evaluator_{re.sub(r'[^A-Za-z0-9]+', '_', name)}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return 0 if not wrong else 1


if __name__ == "__main__":
    sys.exit(main())
