"""The evaluator on a GPU: harness overhead per candidate, candidates per minute per GPU, and the
adversarial suite's verdicts, against the built-in softmax on every visible GPU.

    python benchmarks/gpu_evaluator.py [--repeats 3]

Baseline, measured in the same run: a bare ``python -c "import torch; torch.cuda.init()"``
subprocess, the floor for any evaluator that gives each candidate a fresh process with CUDA.
The overhead figure uses a PyTorch candidate, which compiles nothing: the harness's own cost,
as with a warm compile cache. Every candidate gets a fresh, private Triton cache (a shared one
would let one candidate plant compiled code that another loads), so a Triton candidate's cost,
measured beside it, includes its compilation.

Writes benchmarks/results/gpu_evaluator_<device-name>.json, first with the overhead figures and
again once the adversarial verdicts are in, so a run cut short still leaves its overhead figures.
Without CUDA it says so and exits 2.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from evaluator.evaluate import Evaluator
from evaluator.executor import LocalExecutor, MultiDeviceExecutor
from evaluator.limits import EvalLimits
from evaluator.phases import describe as describe_phases
from kernels.candidate import make_candidate
from kernels.problem import Problem, load_problem

from result_files import commit, result_path, write_report

HERE = Path(__file__).parent
CASES = sorted((HERE.parent / "tests/adversarial/cases").glob("*.py")) + sorted(
    (HERE.parent / "tests/adversarial/gpu_cases").glob("*.py")
)
HONEST_TRITON = (HERE.parent / "tests/adversarial/cases/honest_triton.py").read_text()
HONEST = (
    "import torch\n\n\nclass ModelNew(torch.nn.Module):\n"
    "    def forward(self, x):\n        return torch.softmax(x, dim=-1){}\n"
)


def expected(path: Path) -> str:
    match = re.search(r"^# expect: (\w+)", path.read_text(), re.MULTILINE)
    status = match.group(1) if match else "?"
    return "ok" if path.stem == "honest_triton" else status


def timed(label: str, console: Console, action: Callable[[], Any]) -> float:
    """Run ``action`` and print how long it took, so a run cut short still shows where time went."""
    t0 = time.perf_counter()
    action()
    seconds = time.perf_counter() - t0
    console.print(f"  {label}: {seconds:.2f} s")
    return seconds


def evaluate_ok(evaluator: Evaluator, source: str, phases: list[dict[str, float]]) -> None:
    result = evaluator.evaluate(make_candidate(source))
    assert result.ok, result.reason
    phases.append(result.phase_seconds or {})


def median_phases(phases: list[dict[str, float]]) -> dict[str, float]:
    """Each phase's median over the candidates (``evaluator.phases``): where the overhead goes."""
    names = dict.fromkeys(name for entry in phases for name in entry)
    return {name: statistics.median(entry.get(name, 0.0) for entry in phases) for name in names}


def measure_overhead(
    evaluators: list[Evaluator], repeats: int, console: Console, report: dict[str, Any], out: Path
) -> None:
    """Fixed cost of one candidate against a bare CUDA process, then throughput over every GPU.

    Each figure lands in ``report`` (and on disk) as soon as it is measured.
    """
    first = evaluators[0]
    report["reference_prepare_s"] = timed(
        "prepare the reference", console, lambda: [e.reference() for e in evaluators]
    )
    bare = [sys.executable, "-c", "import torch; torch.cuda.init()"]
    baseline = [
        timed("bare process with CUDA", console, lambda: subprocess.run(bare, check=True))
        for _ in range(repeats)
    ]
    report["baseline_process_with_cuda_s"] = statistics.median(baseline)
    torch_phases: list[dict[str, float]] = []
    per_candidate = [
        timed(
            f"PyTorch candidate {i}",
            console,
            partial(evaluate_ok, first, HONEST.format(f" + 0 * {i}"), torch_phases),
        )
        for i in range(repeats)
    ]
    report["evaluate_per_candidate_s"] = statistics.median(per_candidate)
    report["phase_seconds_per_candidate"] = median_phases(torch_phases)
    console.print(f"  phases (median): {describe_phases(report['phase_seconds_per_candidate'])}")
    report["ratio_to_baseline"] = report["evaluate_per_candidate_s"] / report["baseline_process_with_cuda_s"]
    write_report(out, report)
    triton_phases: list[dict[str, float]] = []
    triton_candidate = [
        timed(
            f"Triton candidate {i}",
            console,
            partial(evaluate_ok, first, f"{HONEST_TRITON}\n# v{i}\n", triton_phases),
        )
        for i in range(max(2, repeats // 2))
    ]
    report["evaluate_triton_candidate_s"] = statistics.median(triton_candidate)
    report["phase_seconds_per_triton_candidate"] = median_phases(triton_phases)
    write_report(out, report)
    with MultiDeviceExecutor(evaluators) as executor:
        batch = [make_candidate(HONEST.format(f" * 1 + 0 * {i}")) for i in range(repeats * len(evaluators))]
        t0 = time.perf_counter()
        assert all(f.result().ok for f in [executor.submit(c) for c in batch])
        parallel_s = time.perf_counter() - t0
    report["candidates_per_minute_per_gpu"] = 60.0 * len(batch) / parallel_s / len(evaluators)
    write_report(out, report)


def adversarial_verdicts(
    problem: Problem, device: str, limits: EvalLimits, slots: int, workroot: Path
) -> dict[str, dict[str, str]]:
    """Every adversarial case's status next to the one it must get.

    Verdicts do not depend on having the GPU alone, so several cases share one GPU, each with its
    share of the memory, under shorter stage limits than a run's so the hanging cases do not
    dominate the benchmark.
    """
    shared_limits = replace(
        limits, gpu_memory_fraction=1 / slots, load_timeout_s=45, correctness_timeout_s=60, ncu=False
    )
    verdict_evaluator = Evaluator(problem, device, shared_limits, 5, workroot=workroot)
    with LocalExecutor(verdict_evaluator, slots=slots) as shared:
        futures = {path: shared.submit(make_candidate(path.read_text())) for path in CASES}
        return {
            path.stem: {
                "status": future.result().status.value,
                "expected": expected(path),
                "reason": future.result().reason,
            }
            for path, future in futures.items()
        }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    # 3: at about 35 s a candidate on softmax's GPU shapes (H100), the whole run fits a 10-minute call.
    parser.add_argument("--repeats", type=int, default=3, help="candidates timed for the overhead figures")
    parser.add_argument(
        "--ncu", action="store_true", help="include the Nsight Compute pass in the per-candidate cost"
    )
    parser.add_argument("--verdict-slots", type=int, default=4, help="adversarial cases run at once on GPU 0")
    parser.add_argument("--skip-adversarial", action="store_true", help="measure the overhead only")
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device here: run this on a machine with a GPU", file=sys.stderr)
        return 2
    devices = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    name = torch.cuda.get_device_name(0)
    limits = EvalLimits(ncu=args.ncu)
    console = Console()
    out = result_path("gpu_evaluator", name)
    report: dict[str, Any] = {
        "benchmark": "gpu_evaluator",
        "device": name,
        "gpus": len(devices),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": commit(),
        "command": "python benchmarks/gpu_evaluator.py " + " ".join(sys.argv[1:]),
        "ncu_pass_included": args.ncu,
        "adversarial": None,
    }
    with tempfile.TemporaryDirectory() as tmp:
        problem = load_problem("softmax")
        evaluators = [
            Evaluator(problem, d, limits, 5, workroot=Path(tmp) / d.replace(":", "_")) for d in devices
        ]
        console.print(f"measuring the overhead per candidate on {len(devices)} GPU(s) ...")
        measure_overhead(evaluators, args.repeats, console, report, out)
        if not args.skip_adversarial:
            console.print(f"running {len(CASES)} adversarial cases, {args.verdict_slots} at a time ...")
            verdicts = adversarial_verdicts(problem, devices[0], limits, args.verdict_slots, Path(tmp) / "v")
            report["adversarial"] = verdicts
            as_expected = all(v["status"] == v["expected"] for v in verdicts.values())
            report["adversarial_all_as_expected"] = as_expected
            write_report(out, report)
    print_report(report, console)
    console.print(f"wrote {out}")
    return 0 if report.get("adversarial_all_as_expected", True) else 1


def print_report(report: dict[str, Any], console: Console) -> None:
    table = Table(title=f"Evaluator on {report['device']} x{report['gpus']}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row(
        "baseline: fresh process with torch + CUDA", f"{report['baseline_process_with_cuda_s']:.2f} s"
    )
    table.add_row("evaluate one candidate (median)", f"{report['evaluate_per_candidate_s']:.2f} s")
    table.add_row("ratio to baseline", f"{report['ratio_to_baseline']:.2f}x")
    triton_s = report["evaluate_triton_candidate_s"]
    table.add_row("evaluate one Triton candidate, compile included", f"{triton_s:.2f} s")
    table.add_row("candidates per minute per GPU", f"{report['candidates_per_minute_per_gpu']:.1f}")
    verdicts = report["adversarial"] or {}
    wrong = {k: v for k, v in verdicts.items() if v["status"] != v["expected"]}
    if verdicts:
        table.add_row("adversarial cases as expected", f"{len(verdicts) - len(wrong)}/{len(verdicts)}")
    console.print(table)
    for case, verdict in sorted(wrong.items()):
        console.print(f"[red]{case}[/]: got {verdict['status']}: {verdict['reason']}")


if __name__ == "__main__":
    sys.exit(main())
