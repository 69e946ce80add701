"""How much slower an honest candidate's call on never-seen inputs is than what it is compared with.

    python benchmarks/probe_ratios.py [--device cpu] [--repeats 4]

The probes (``evaluator.checks.probes``) reject a candidate when every probe call of a shape takes over
``SLOWER_FACTOR`` times the median of the seen-input calls timed around it in the same loop
(and ``SLOWER_MARGIN_US`` more). For honest candidates (softmax's, and a KernelBench-style MSE
loss whose own reference is the candidate) this prints both ratios per probe: against its own
loop (what the verdict uses) and against the shape's timed median (the baseline, which a call
that meets its inputs under other cache and allocator conditions can exceed by 3-5x on the CPU).
Writes benchmarks/results/probe_ratios_<device>.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from evaluator import observer
from evaluator.checks.probes import SLOWER_FACTOR, ProbeCall
from evaluator.evaluate import Evaluator
from evaluator.hardware.devices import cpu_name
from evaluator.limits import EvalLimits
from kernels.candidate import make_candidate
from kernels.problem import load_problem

from result_files import append_run, commit, result_path

ROOT = Path(__file__).resolve().parent.parent
MSE = ROOT / "benchmarks/inputs/mse_loss.py"
HONEST = [
    ("softmax", {}, ROOT / "tests/adversarial/cases/honest_torch.py"),
    ("softmax", {}, ROOT / "tests/adversarial/cases/honest_address_workspace.py"),
    ("softmax", {}, ROOT / "kernels/problems/softmax/torch_fused.py"),
    (str(MSE), {"batch_size": 64}, None),  # the reference itself, renamed ModelNew
]


def record_probes(into: list[dict[str, Any]]) -> None:
    """Wrap the observer's verdict function so every complete set of probe calls is kept."""
    verdict = observer.reuse_reason

    def recording(shape: str, probes: Sequence[ProbeCall]) -> str | None:
        into.append({"shape": shape, "probes": list(probes)})
        return verdict(shape, probes)

    observer.reuse_reason = recording


def candidate_source(problem: str, path: Path | None) -> str:
    if path is not None:
        return path.read_text()
    return Path(problem).read_text().replace("class Model(", "class ModelNew(")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda:N")
    parser.add_argument("--repeats", type=int, default=4, help="evaluations per candidate")
    args = parser.parse_args()
    console = Console()
    rows: list[dict[str, Any]] = []
    record_probes(rows)
    verdicts = []
    with tempfile.TemporaryDirectory() as tmp:
        for problem_ref, sizes, path in HONEST:
            problem = load_problem(problem_ref, sizes or None)
            name = path.stem if path else f"{problem.name} (its own Model)"
            evaluator = Evaluator(problem, args.device, EvalLimits(), 5, workroot=Path(tmp) / problem.name)
            for i in range(args.repeats):
                before = len(rows)
                result = evaluator.evaluate(
                    make_candidate(f"{candidate_source(problem_ref, path)}\n# run {i}\n")
                )
                verdicts.append(result.status.value)
                medians = {s.shape: s.median_us for s in result.shapes}
                for row in rows[before:]:
                    row.update(candidate=name, timed_median_us=medians.get(row["shape"]))
                console.print(f"{name} run {i}: {result.status.value} {result.reason}")
    table = Table(
        title=f"Honest probes: call / its loop median (verdict: > {SLOWER_FACTOR}x on all), / timed median"
    )
    for column in ("candidate", "shape", "vs own loop", "vs timed median"):
        table.add_column(column)
    for row in rows:
        probes: list[ProbeCall] = row.pop("probes")
        row["vs_loop"] = [p.call_us / p.local_median_us for p in probes]
        median = row["timed_median_us"]
        row["vs_timed_median"] = [p.call_us / median for p in probes] if median else []
        row["calls_us"] = [p.call_us for p in probes]
        row["local_medians_us"] = [p.local_median_us for p in probes]
        table.add_row(
            row["candidate"],
            row["shape"],
            " ".join(f"{r:.2f}x" for r in row["vs_loop"]),
            " ".join(f"{r:.2f}x" for r in row["vs_timed_median"]),
        )
    console.print(table)
    # Rejection needs every probe slow, so the mildest probe of a shape is what it compares.
    worst_loop = max((min(r["vs_loop"]) for r in rows), default=None)
    worst_median = max((min(r["vs_timed_median"]) for r in rows if r["vs_timed_median"]), default=None)
    device = cpu_name() if args.device == "cpu" else args.device
    out = result_path("probe_ratios", device)
    run = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": commit(),
        "command": "python benchmarks/probe_ratios.py " + " ".join(sys.argv[1:]),
        "threshold": SLOWER_FACTOR,
        "statuses": verdicts,
        "largest_mildest_ratio_vs_loop": worst_loop,
        "largest_mildest_ratio_vs_timed_median": worst_median,
        "probes": rows,
    }
    append_run(out, {"benchmark": "probe_ratios", "device": device}, run)
    console.print(
        f"largest mildest ratio per shape: {worst_loop} against its loop (the verdict),"
        f" {worst_median} against the timed median (the old yardstick)"
    )
    console.print(f"wrote {out}")
    return 0 if all(v == "ok" for v in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
