"""What it costs to hand one large output from a candidate's process to the evaluator and check it.

    python benchmarks/tensor_exchange.py [--threads 1] [--repeats 3]

Every correctness trial and every sampled timed output crosses a process boundary as a file: the
child writes it, the evaluator reads it back and compares it with the reference's output. On the
H100, an evaluation of the built-in softmax (outputs of 512 MB and 256 MB) spent most of its
35 s there. This measures that path at the sizes of softmax's two GPU shapes.

Baseline, in the same run: ``torch.save`` and ``torch.load`` with their defaults, and a one-shot
float64 check over the whole tensors. Ours: ``save_tensors``, ``load_tensors`` and
``compare_tensor``, as the evaluator runs them. ``--threads 1`` matches a candidate's process,
which gets one CPU thread. Writes benchmarks/results/tensor_exchange_<cpu>.json.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

from evaluator.checks.correctness import compare_tensor
from evaluator.hardware.devices import cpu_name
from evaluator.wire.tensor_files import load_tensors, save_tensors
from kernels.problem import Tolerance

from result_files import commit, result_path, write_report

SHAPES = {"llm_vocab": (4096, 32768), "attention": (65536, 1024)}
TOLERANCE = Tolerance(atol=1e-5, rtol=1e-4)


def one_shot_check(ref: torch.Tensor, out: torch.Tensor) -> bool:
    """The baseline comparison: whole-tensor float64 temporaries."""
    ref64, out64 = ref.double(), out.double()
    return bool(((out64 - ref64).abs() <= TOLERANCE.atol + TOLERANCE.rtol * ref64.abs()).all())


def median_seconds(action: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(shape: tuple[int, int], repeats: int, folder: Path) -> dict[str, Any]:
    ref = torch.softmax(torch.randn(shape), dim=-1)
    out = ref + 1e-9 * torch.randn(shape)
    baseline_file, our_file = folder / "baseline.pt", folder / "ours.pt"
    baseline = {
        "write_s": median_seconds(lambda: torch.save([out], baseline_file), repeats),
        "read_s": median_seconds(lambda: torch.load(baseline_file, weights_only=True), repeats),
        "compare_s": median_seconds(lambda: one_shot_check(ref, out), repeats),
    }
    ours = {
        "write_s": median_seconds(lambda: save_tensors([out], our_file), repeats),
        "read_s": median_seconds(lambda: load_tensors(our_file), repeats),
        "compare_s": median_seconds(lambda: compare_tensor(ref, out, TOLERANCE), repeats),
    }
    assert one_shot_check(ref, out) and compare_tensor(ref, out, TOLERANCE).ok
    assert torch.equal(load_tensors(our_file)[0], out)
    baseline["total_s"] = sum(baseline.values())
    ours["total_s"] = sum(ours.values())
    return {
        "shape": list(shape),
        "megabytes": out.numel() * out.element_size() / 1e6,
        "baseline": baseline,
        "ours": ours,
        "speedup": {k: baseline[k] / ours[k] for k in baseline},
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch (a candidate gets 1)")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per figure (median)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    console = Console()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, shape in SHAPES.items():
            console.print(f"measuring {name} {shape} ...")
            results[name] = measure(shape, args.repeats, Path(tmp))
    report = {
        "benchmark": "tensor_exchange",
        "device": cpu_name(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": commit(),
        "command": "python benchmarks/tensor_exchange.py " + " ".join(sys.argv[1:]),
        "machine": {"python": platform.python_version(), "torch": torch.__version__},
        "threads": args.threads,
        "shapes": results,
    }
    out = result_path("tensor_exchange", cpu_name())
    write_report(out, report)
    table = Table(title=f"One output across the process boundary ({args.threads} thread(s))")
    for column in ("shape", "MB", "step", "torch defaults, s", "Crucible, s", "ratio"):
        table.add_column(column, justify="left" if column in ("shape", "step") else "right")
    for name, result in results.items():
        for step in ("write_s", "read_s", "compare_s", "total_s"):
            table.add_row(
                name,
                f"{result['megabytes']:.0f}",
                step.removesuffix("_s"),
                f"{result['baseline'][step]:.2f}",
                f"{result['ours'][step]:.2f}",
                f"{result['speedup'][step]:.1f}x",
            )
    console.print(table)
    console.print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
