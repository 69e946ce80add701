"""Where one evaluation spends its time: every message from each child process, stamped.

    python benchmarks/gpu_stage_times.py [--problem softmax] [--candidate FILE] [--device cuda:0]
                                         [--roots /tmp /dev/shm]

For each work root (where the reference's and the candidate's files live), prepares the
reference, then evaluates one candidate (by default softmax in plain PyTorch), printing each
message the reference and candidate processes send with the seconds since that process started.
Baseline: the first root (the default temp dir); the others are compared with it, so a
disk-backed and a memory-backed root show what the tensor files cost. Writes each root's totals
and the candidate's phases (``EvalResult.phase_seconds``) to benchmarks/results/gpu_stage_times_<device>.json.

Without a GPU, a problem with outputs as large as softmax's GPU shapes:

    python benchmarks/gpu_stage_times.py --device cpu --problem benchmarks/inputs/bulk_relu.py \
        --candidate benchmarks/inputs/bulk_relu_candidate.py --roots /tmp /dev/shm
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from evaluator.evaluate import Evaluator
from evaluator.hardware.devices import cpu_name
from evaluator.limits import EvalLimits
from evaluator.phases import describe as describe_phases
from evaluator.sandbox.process import SandboxedProcess
from evaluator.wire.messages import ChildMessage, Malformed, StageEntered
from kernels.candidate import make_candidate
from kernels.problem import load_problem

from result_files import append_run, commit, result_path

CANDIDATE = (
    "import torch\n\n\nclass ModelNew(torch.nn.Module):\n"
    "    def forward(self, x):\n        return torch.softmax(x, dim=-1)\n"
)


def stamp_messages(console: Console) -> None:
    """Wrap every child's message stream so each message prints with its time since the first read."""
    unstamped = SandboxedProcess.events

    def stamped(process: SandboxedProcess) -> Iterator[ChildMessage | Malformed]:
        started = time.monotonic()
        for message in unstamped(process):
            kind = message.kind if isinstance(message, Malformed) else message.KIND
            what = message.stage.value if isinstance(message, StageEntered) else type(message).__name__
            console.print(f"  {time.monotonic() - started:7.2f} s  {kind:<16} {what}")
            yield message
        console.print(f"  {time.monotonic() - started:7.2f} s  (stream closed)")

    SandboxedProcess.events = stamped  # type: ignore[method-assign,assignment]


def measure_root(
    root: Path, problem: str, candidate: str, device: str, limits: EvalLimits, console: Console
) -> dict[str, Any]:
    """The reference and one candidate evaluated with their files under ``root``."""
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        evaluator = Evaluator(load_problem(problem), device, limits, 5, workroot=Path(tmp))
        console.print(f"[bold]reference under {root}[/]")
        t0 = time.perf_counter()
        evaluator.reference()
        reference_s = time.perf_counter() - t0
        console.print(f"[bold]candidate under {root}[/]")
        t0 = time.perf_counter()
        result = evaluator.evaluate(make_candidate(candidate))
        candidate_s = time.perf_counter() - t0
    console.print(f"[bold]{root}: reference {reference_s:.2f} s, candidate {candidate_s:.2f} s[/]")
    console.print(f"candidate: {result.status.value}: {result.reason}")
    return {
        "reference_s": reference_s,
        "candidate_s": candidate_s,
        "status": result.status.value,
        "phase_seconds": result.phase_seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--problem", default="softmax", help="built-in problem, or a problem file")
    parser.add_argument(
        "--candidate", type=Path, help="candidate file to evaluate (default: softmax in plain PyTorch)"
    )
    parser.add_argument("--device", default="cuda:0", help="cuda:N, or cpu")
    parser.add_argument("--no-profile", action="store_true", help="skip the profiler pass")
    parser.add_argument(
        "--roots", nargs="+", type=Path, default=[Path(tempfile.gettempdir())], help="work roots to compare"
    )
    args = parser.parse_args()
    console = Console()
    stamp_messages(console)
    limits = EvalLimits(ncu=False, profile=not args.no_profile)
    candidate = args.candidate.read_text() if args.candidate else CANDIDATE
    present = [root for root in args.roots if root.is_dir()]
    for root in sorted(set(args.roots) - set(present)):
        console.print(f"[yellow]{root} is not a directory on this host: skipped[/]")
    if not present:
        return 1
    roots = {
        str(root): measure_root(root, args.problem, candidate, args.device, limits, console)
        for root in present
    }
    baseline = roots[str(present[0])]
    table = Table(title=f"One {args.problem} evaluation on {args.device}, by work root")
    for column in ("work root", "reference, s", "candidate, s", "candidate vs first root", "phases"):
        table.add_column(column)
    for root, figures in roots.items():
        table.add_row(
            root,
            f"{figures['reference_s']:.2f}",
            f"{figures['candidate_s']:.2f}",
            f"{baseline['candidate_s'] / figures['candidate_s']:.2f}x",
            describe_phases(figures["phase_seconds"] or {}),
        )
    console.print(table)
    name = device_name(args.device)
    out = result_path("gpu_stage_times", name)
    header = {"benchmark": "gpu_stage_times", "device": name}
    run = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": commit(),
        "command": "python benchmarks/gpu_stage_times.py " + " ".join(sys.argv[1:]),
        "problem": args.problem,
        "candidate": str(args.candidate) if args.candidate else "softmax in plain PyTorch",
        "roots": roots,
    }
    append_run(out, header, run)
    console.print(f"wrote {out}")
    return 0


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        import torch

        return torch.cuda.get_device_name(torch.device(device))
    return cpu_name()


if __name__ == "__main__":
    raise SystemExit(main())
