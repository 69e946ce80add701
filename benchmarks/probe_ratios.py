"""How much slower an honest candidate's call on never-seen inputs is than its timed median.

    python benchmarks/probe_ratios.py [--device cpu] [--repeats 4]

The probes (``evaluator.probes``) reject a candidate when both of a shape's probe calls take
over ``SLOWER_FACTOR`` times the timed median (and ``SLOWER_MARGIN_US`` more). This measures
the ratio for honest softmax candidates, so the margin between them and that threshold is a
number, not a guess. Baseline: the threshold itself. Writes
benchmarks/results/probe_ratios_<device>.json.
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
from evaluator.devices import cpu_name
from evaluator.evaluate import Evaluator
from evaluator.limits import EvalLimits
from evaluator.probes import PROBES_PER_SHAPE, SLOWER_FACTOR
from kernels.candidate import make_candidate
from kernels.problem import load_problem

from result_files import append_run, commit, result_path

ROOT = Path(__file__).resolve().parent.parent
HONEST = [
    ROOT / "tests/adversarial/cases/honest_torch.py",
    ROOT / "tests/adversarial/cases/honest_address_workspace.py",
    ROOT / "kernels/problems/softmax/torch_fused.py",
]


def record_probes(into: list[dict[str, Any]]) -> None:
    """Wrap the observer's verdict function so every complete set of probe calls is kept."""
    verdict = observer.reuse_reason

    def recording(shape: str, timed_median_us: float, probe_calls_us: Sequence[float]) -> str | None:
        if len(probe_calls_us) == PROBES_PER_SHAPE:
            into.append({"shape": shape, "median_us": timed_median_us, "calls_us": list(probe_calls_us)})
        return verdict(shape, timed_median_us, probe_calls_us)

    observer.reuse_reason = recording


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
        evaluator = Evaluator(load_problem("softmax"), args.device, EvalLimits(), 5, workroot=Path(tmp))
        for path in HONEST:
            for i in range(args.repeats):
                before = len(rows)
                result = evaluator.evaluate(make_candidate(f"{path.read_text()}\n# run {i}\n"))
                verdicts.append(result.status.value)
                for row in rows[before:]:
                    row["candidate"] = path.stem
                console.print(f"{path.stem} run {i}: {result.status.value}")
    table = Table(
        title=f"Probe call / timed median, honest candidates (rejection needs both > {SLOWER_FACTOR}x)"
    )
    for column in ("candidate", "shape", "median µs", "probe 1", "probe 2"):
        table.add_column(column)
    for row in rows:
        ratios = [call / row["median_us"] for call in row["calls_us"]]
        row["ratios"] = ratios
        table.add_row(
            row["candidate"], row["shape"], f"{row['median_us']:.1f}", *(f"{r:.2f}x" for r in ratios)
        )
    console.print(table)
    worst_second = max(sorted(r["ratios"])[0] for r in rows) if rows else None
    device = cpu_name() if args.device == "cpu" else args.device
    out = result_path("probe_ratios", device)
    run = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": commit(),
        "command": "python benchmarks/probe_ratios.py " + " ".join(sys.argv[1:]),
        "threshold": SLOWER_FACTOR,
        "statuses": verdicts,
        "largest_lower_ratio": worst_second,
        "probes": rows,
    }
    append_run(out, {"benchmark": "probe_ratios", "device": device}, run)
    console.print(f"largest of the lower ratio per shape (what rejection compares): {worst_second}")
    console.print(f"wrote {out}")
    return 0 if all(v == "ok" for v in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
