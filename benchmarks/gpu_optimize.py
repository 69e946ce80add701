"""A whole optimization on the GPU, the way a user runs it: what speedup Crucible finds and proves.

    python benchmarks/gpu_optimize.py [--problems softmax rmsnorm] [--budget 24] [--device cuda:0]

For each built-in problem this runs ``crucible optimize PROBLEM --device DEVICE --json --export
DIR`` in a fresh process against a fresh SQLite store, then the exported module's own tests.
The baseline is the problem's reference, timed by the same evaluator in the same run: every
speedup below is reference latency / candidate latency on that device. A speedup the
plausibility check doubted is reported with its verification state, never silently.

Writes benchmarks/results/gpu_optimize_<device-name>.json (each run appended to its history).
Without CUDA it says so and exits 2, unless ``--device cpu`` asks for a check of the script
itself; CPU numbers say nothing about GPU kernels.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from result_files import append_run, commit, result_path


def crucible_command() -> list[str]:
    """The installed ``crucible`` script beside this Python, else the CLI module itself."""
    beside = Path(sys.executable).with_name("crucible")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("crucible")
    return [found] if found else [sys.executable, "-m", "service.cli"]


def optimize(problem: str, budget: int, device: str, workdir: Path, timeout_s: float) -> dict[str, Any]:
    """One run and its exported module's tests; a failure is recorded, not raised."""
    env = {**os.environ, "CRUCIBLE_DATABASE_URL": f"sqlite:///{workdir / 'crucible.db'}"}
    export_dir = workdir / "exported"
    command = [
        *crucible_command(),
        "optimize",
        problem,
        "--budget",
        str(budget),
        "--device",
        device,
        "--json",
        "--export",
        str(export_dir),
    ]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"problem": problem, "error": f"crucible optimize did not finish within {timeout_s:g}s"}
    wall_s = time.perf_counter() - started
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"problem": problem, "error": f"crucible optimize exited {done.returncode}: {tail}"}
    summary = json.loads(done.stdout)
    shown = subprocess.run(
        [*crucible_command(), "show", str(summary["run_id"]), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    candidates = json.loads(shown.stdout)["candidates"]
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(export_dir)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    best = summary.get("best") or {}
    result = best.get("result") or {}
    return {
        "problem": problem,
        "run_status": summary["status"],
        "evaluated": summary["evaluated"],
        "wall_s": wall_s,
        "candidates_per_minute": 60.0 * summary["evaluated"] / wall_s,
        "statuses": dict(collections.Counter(c["status"] for c in candidates)),
        "families": sorted({c["family"] for c in candidates if c.get("family")}),
        "best": {
            "family": best.get("family"),
            "config": best.get("config"),
            "speedup": best.get("speedup"),
            "latency_us": best.get("latency_us"),
            "suspect": result.get("suspect"),
            "verification": result.get("verification"),
            "reason": result.get("reason"),
        },
        "pareto_size": len(summary.get("pareto") or []),
        "exported_tests_passed": tests.returncode == 0,
        "exported_tests_tail": (tests.stdout.strip().splitlines() or [""])[-1],
    }


def print_table(rows: list[dict[str, Any]], device_name: str, console: Console) -> None:
    table = Table(title=f"crucible optimize on {device_name}")
    for column in ("problem", "evaluated", "ok", "best family", "speedup", "latency", "cand/min", "export"):
        table.add_column(column, justify="left" if column in ("problem", "best family") else "right")
    for row in rows:
        if "error" in row:
            table.add_row(row["problem"], "[red]" + row["error"] + "[/]", *[""] * 6)
            continue
        best = row["best"]
        speedup = f"{best['speedup']:.2f}x" if best["speedup"] else "-"
        if best["suspect"]:
            speedup += " (suspect)"
        table.add_row(
            row["problem"],
            str(row["evaluated"]),
            str(row["statuses"].get("ok", 0)),
            str(best["family"]),
            speedup,
            f"{best['latency_us']:.1f} us" if best["latency_us"] else "-",
            f"{row['candidates_per_minute']:.1f}",
            "pass" if row["exported_tests_passed"] else "[red]fail[/]",
        )
    console.print(table)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--problems", nargs="+", default=["softmax", "rmsnorm"], help="built-in problems")
    parser.add_argument("--budget", type=int, default=24, help="candidates per problem")
    parser.add_argument("--device", default="cuda:0", help="cuda:N, or cpu to check the script itself")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per optimization")
    args = parser.parse_args()
    console = Console()
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        console.print("[red]No CUDA device on this machine.[/] Run this where there is a GPU.")
        return 2
    device_name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu"
    rows = []
    for problem in args.problems:
        console.print(f"optimizing {problem} on {args.device} (budget {args.budget}) ...")
        with tempfile.TemporaryDirectory(prefix="crucible-bench-") as tmp:
            rows.append(optimize(problem, args.budget, args.device, Path(tmp), args.timeout))
    print_table(rows, device_name, console)
    out = result_path("gpu_optimize", device_name)
    run = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": commit(),
        "command": "python benchmarks/gpu_optimize.py " + " ".join(sys.argv[1:]),
        "device": args.device,
        "torch": torch.__version__,
        "budget": args.budget,
        "problems": rows,
    }
    append_run(out, {"benchmark": "gpu_optimize", "device_name": device_name}, run)
    console.print(f"wrote {out}")
    healthy = all("error" not in r and r["exported_tests_passed"] for r in rows)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
