"""Where one evaluation spends its time: every message from each child process, stamped.

    python benchmarks/gpu_stage_times.py [--problem softmax] [--device cuda:0]

Prepares the reference, then evaluates one plain PyTorch candidate, printing each message the
reference and candidate processes send (stage changes, timings, results) with the seconds since
that process started. A diagnostic for the harness's own cost; it writes no result file.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from evaluator.evaluate import Evaluator
from evaluator.limits import EvalLimits
from evaluator.messages import Message
from evaluator.sandbox import SandboxedProcess
from kernels.candidate import make_candidate
from kernels.problem import load_problem

CANDIDATE = (
    "import torch\n\n\nclass ModelNew(torch.nn.Module):\n"
    "    def forward(self, x):\n        return torch.softmax(x, dim=-1)\n"
)


def stamp_messages(console: Console) -> None:
    """Wrap every child's message stream so each message prints with its time since the first read."""
    unstamped = SandboxedProcess.events

    def stamped(process: SandboxedProcess) -> Iterator[Message]:
        started = time.monotonic()
        for message in unstamped(process):
            keys = message.data.get("stage") or ",".join(sorted(message.data))[:80]
            console.print(f"  {time.monotonic() - started:7.2f} s  {message.event:<16} {keys}")
            yield message
        console.print(f"  {time.monotonic() - started:7.2f} s  (stream closed)")

    SandboxedProcess.events = stamped  # type: ignore[method-assign,assignment]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--problem", default="softmax", help="built-in problem")
    parser.add_argument("--device", default="cuda:0", help="cuda:N, or cpu")
    parser.add_argument("--no-profile", action="store_true", help="skip the profiler pass")
    args = parser.parse_args()
    console = Console()
    stamp_messages(console)
    limits = EvalLimits(ncu=False, profile=not args.no_profile)
    with tempfile.TemporaryDirectory() as tmp:
        evaluator = Evaluator(load_problem(args.problem), args.device, limits, 5, workroot=Path(tmp))
        for label, action in (
            ("reference", evaluator.reference),
            ("candidate", lambda: evaluator.evaluate(make_candidate(CANDIDATE))),
        ):
            console.print(f"[bold]{label}[/]")
            t0 = time.perf_counter()
            action()
            console.print(f"[bold]{label}: {time.perf_counter() - t0:.2f} s in all[/]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
