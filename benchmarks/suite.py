"""The GPU scoreboard: for every built-in problem, the best kernel Crucible finds with the offline
proposer, against PyTorch eager, ``torch.compile`` (default and max-autotune) and the roofline.

Per problem: a run of ``--budget`` evaluations on ``--device`` in a throwaway store (the real
evaluator, sandbox and timing), then, on each GPU shape of the problem (``--shapes first`` keeps
one), the eager reference and its compiled forms timed here with ``triton.testing.do_bench``
(CUDA events, L2 flushed) on the same inputs. The roofline is the best kernel's achieved GB/s
over the device's measured copy bandwidth for memory-bound problems, and its time against
cuBLAS (``torch.matmul`` of the same operands) for the GEMM ones. Geometric means over the
suite close the table; JSON goes to ``benchmarks/results/suite_<device>.json``.

    python benchmarks/suite.py                       # cuda:0, about 8 minutes on one H100
    python benchmarks/suite.py --device cpu --budget 2 --problems softmax --no-compile   # smoke test

On the CPU the Triton families run under the interpreter and are never ranked, so a CPU run
only checks that the scoreboard works; it claims no speedup.
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

from evaluator.hardware.devices import discover_devices
from kernels.problem import builtin_names, import_problem_module, load_problem
from service.runner import create_run, execute_run
from service.settings import Settings
from store.repository import Store

from result_files import append_run, commit, result_path

GEMM_PROBLEMS = {"matmul", "matmul_bias_gelu", "kb2_gemm_relu_scale", "kb2_matmul_sigmoid_sum"}


def timer(device: str) -> Callable[[Callable[[], Any]], float]:
    """Median milliseconds of a call: do_bench on CUDA (events, L2 flush), a plain loop on the CPU."""
    if device.startswith("cuda"):
        from triton.testing import do_bench

        return lambda fn: float(do_bench(fn, warmup=25, rep=100, return_mode="median"))

    def cpu(fn: Callable[[], Any]) -> float:
        fn()
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1e3)
        return statistics.median(samples)

    return cpu


def baselines(name: str, device: str, shapes: str, compile_modes: list[str]) -> dict[str, dict[str, float]]:
    """Per shape: the eager reference, each compiled form, and cuBLAS for the GEMM problems (ms)."""
    problem = load_problem(name)
    chosen = problem.shapes_for(device)
    chosen = chosen[:1] if shapes == "first" else chosen
    module = import_problem_module(problem.path)
    bench = timer(device)
    found: dict[str, dict[str, float]] = {}
    for shape in chosen:
        torch.manual_seed(0)
        inputs = [
            x.to(device) if isinstance(x, torch.Tensor) else x for x in module.get_inputs(**shape.sizes)
        ]
        model = module.Model(*module.get_init_inputs()).to(device).eval()
        found[shape.name] = _time_shape(name, model, inputs, compile_modes, bench)
    return found


def _time_shape(
    name: str,
    model: torch.nn.Module,
    inputs: list[Any],
    modes: list[str],
    bench: Callable[[Callable[[], Any]], float],
) -> dict[str, float]:
    row: dict[str, float] = {}
    with torch.no_grad():
        row["eager_ms"] = bench(lambda: model(*inputs))
        for mode in modes:
            compiled: Callable[..., Any] = torch.compile(model, mode=None if mode == "default" else mode)
            compiled(*inputs)  # compile outside the timing
            row[f"compile_{mode}_ms"] = bench(lambda: compiled(*inputs))  # noqa: B023 - called right here
            torch._dynamo.reset()
        if name in GEMM_PROBLEMS:
            a, b = _gemm_operands(model, inputs)
            row["cublas_ms"] = bench(lambda: torch.matmul(a, b))
    return row


def _gemm_operands(model: torch.nn.Module, inputs: list[Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """The GEMM inside a problem: its two matrix inputs, or its input and its Linear's weight."""
    tensors = [x for x in inputs if isinstance(x, torch.Tensor) and x.dim() == 2]
    if len(tensors) >= 2:
        return tensors[0], tensors[1]
    linear = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
    return tensors[0], linear.weight.t()


def optimize(name: str, device: str, budget: int, store: Store, settings: Settings) -> dict[str, Any]:
    """Crucible's best on this problem with the offline proposer, per shape (ms and GB/s)."""
    limits = settings.eval_limits()
    problem = load_problem(name)
    run_id = create_run(
        store, problem, device=device, budget=budget, proposer="offline", limits=limits, settings=settings
    )
    started = time.perf_counter()
    execute_run(store, settings, run_id)
    best = store.best_candidate(run_id)
    result = best.result if best is not None else None
    shapes = {}
    if result is not None:
        for s in result.shapes:
            shapes[s.shape] = {
                "crucible_ms": None if s.median_us is None else s.median_us / 1e3,
                "reference_ms": None if s.ref_median_us is None else s.ref_median_us / 1e3,
                "achieved_gbps": s.achieved_gbps,
            }
    return {
        "run_id": run_id,
        "seconds": round(time.perf_counter() - started, 1),
        "family": best.family if best is not None else None,
        "config": best.config.as_dict() if best is not None else None,
        "ranked": result is not None and result.speedup is not None,
        "shapes": shapes,
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator and denominator else None


def geomean(values: list[float | None]) -> float | None:
    present = [v for v in values if v]
    return math.exp(sum(math.log(v) for v in present) / len(present)) if present else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--budget", type=int, default=10, help="evaluations per problem")
    parser.add_argument("--problems", nargs="*", default=None, help="default: every built-in problem")
    parser.add_argument("--shapes", choices=("first", "all"), default="first", help="GPU shapes to time")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile baselines")
    parser.add_argument("--no-max-autotune", action="store_true", help="torch.compile default mode only")
    args = parser.parse_args()
    console = Console()
    names = args.problems or builtin_names()
    modes = [] if args.no_compile else ["default"] + ([] if args.no_max_autotune else ["max-autotune"])
    spec = next((d for d in discover_devices() if d.key == args.device), None)
    copy_gbps = spec.copy_gbps if spec is not None else None
    rows = []
    with tempfile.TemporaryDirectory() as folder, Store(f"sqlite:///{Path(folder) / 'suite.db'}") as store:
        # The scoreboard times torch.compile itself (both modes, on the shapes it reports), so the
        # runs' references are not compiled a second time: the 8 minutes go to the search.
        settings = Settings(
            database_url=str(store.url), workdir=Path(folder) / "work", compile_baseline="off"
        )
        for name in names:
            with console.status(f"{name}: optimizing ({args.budget} evaluations), then the baselines"):
                found = optimize(name, args.device, args.budget, store, settings)
                base = baselines(name, args.device, args.shapes, modes)
            gemm = name in GEMM_PROBLEMS
            for shape, timings in base.items():
                ours = found["shapes"].get(shape, {})
                crucible_ms = ours.get("crucible_ms") if found["ranked"] else None
                row = {
                    "problem": name,
                    "shape": shape,
                    "family": found["family"],
                    "config": found["config"],
                    "run_seconds": found["seconds"],
                    **timings,
                    "crucible_ms": crucible_ms,
                    "vs_eager": ratio(timings["eager_ms"], crucible_ms),
                    **{f"vs_compile_{m}": ratio(timings.get(f"compile_{m}_ms"), crucible_ms) for m in modes},
                    "share_of_copy_bw": None if gemm else ratio(ours.get("achieved_gbps"), copy_gbps),
                    "share_of_cublas": ratio(timings.get("cublas_ms"), crucible_ms) if gemm else None,
                }
                rows.append(row)
    table = Table(title=f"Crucible against PyTorch on {spec.name if spec else args.device}")
    columns = [
        "problem",
        "shape",
        "best family",
        "vs eager",
        *[f"vs compile {m}" for m in modes],
        "of roofline",
    ]
    for column in columns:
        table.add_column(column, justify="left" if column in ("problem", "shape", "best family") else "right")
    for r in rows:
        gemm = r["problem"] in GEMM_PROBLEMS
        roof = r["share_of_cublas"] if gemm else r["share_of_copy_bw"]
        roofline = "-" if roof is None else f"{roof:.0%} of {'cuBLAS' if gemm else 'copy'}"
        compiled = [_x(r[f"vs_compile_{m}"]) for m in modes]
        table.add_row(r["problem"], r["shape"], str(r["family"]), _x(r["vs_eager"]), *compiled, roofline)
    summary = {
        "geomean_vs_eager": geomean([r["vs_eager"] for r in rows]),
        **{f"geomean_vs_compile_{m}": geomean([r[f"vs_compile_{m}"] for r in rows]) for m in modes},
    }
    console.print(table)
    console.print("  ".join(f"{k} {_x(v)}" for k, v in summary.items()))
    if not args.device.startswith("cuda"):
        console.print(
            "[yellow]a CPU run: Triton candidates are interpreted and never ranked; no speedup is claimed"
        )
    append_run(
        result_path("suite", spec.name if spec else args.device),
        {"benchmark": "suite", "command": "python benchmarks/suite.py"},
        {
            "commit": commit(),
            "machine": platform.processor() or platform.machine(),
            "device": spec.name if spec else args.device,
            "copy_gbps": copy_gbps,
            "budget": args.budget,
            "rows": rows,
            "summary": summary,
        },
    )


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


if __name__ == "__main__":
    main()
