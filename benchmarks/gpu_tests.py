"""The GPU test suite, run and recorded: which `gpu` tests passed on this device, and why others failed.

    python benchmarks/gpu_tests.py [-- extra pytest arguments]

Runs ``python -m pytest -m gpu tests`` in a child process (the suite's own isolation stays as
it is) and appends the outcome of every test to benchmarks/results/gpu_tests_<device-name>.json,
with the commit, the driver and the sandbox features this host grants. Without CUDA it says so
and exits 2; otherwise it exits with pytest's code.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console

from evaluator.hardware.clocks import nvidia_driver

from result_files import append_run, commit, result_path

ROOT = Path(__file__).resolve().parent.parent


def outcomes(junit_xml: Path) -> dict[str, dict[str, str]]:
    """``{test id: {"outcome": ..., "message": ...}}`` from pytest's JUnit XML."""
    results: dict[str, dict[str, str]] = {}
    for case in ET.parse(junit_xml).getroot().iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        test_id = f"{module}::{case.get('name')}"
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            found = case.find(tag)
            if found is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                message = (found.get("message") or "")[:500]
                break
        results[test_id] = {"outcome": outcome, "message": message}
    return results


def sandbox_features() -> dict[str, Any]:
    from evaluator.sandbox.isolation import detect_isolation

    return detect_isolation().describe()


def main() -> int:
    console = Console()
    import torch

    if not torch.cuda.is_available():
        console.print("[red]No CUDA device on this machine.[/] The `gpu` tests skip here; run this on a GPU.")
        return 2
    name = torch.cuda.get_device_name(0)
    extra = sys.argv[2:] if sys.argv[1:2] == ["--"] else sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "gpu.xml"
        command = [sys.executable, "-m", "pytest", "-q", "-m", "gpu", "tests", "-p", "no:cacheprovider"]
        started = time.perf_counter()
        done = subprocess.run([*command, f"--junitxml={junit}", *extra], cwd=ROOT)
        wall_s = time.perf_counter() - started
        results = outcomes(junit) if junit.exists() else {}
    counts: dict[str, int] = {}
    for result in results.values():
        counts[result["outcome"]] = counts.get(result["outcome"], 0) + 1
    run = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": commit(),
        "command": " ".join(["python -m pytest -q -m gpu tests", *extra]),
        "torch": torch.__version__,
        "driver": nvidia_driver(),
        "sandbox": sandbox_features(),
        "wall_s": wall_s,
        "pytest_exit_code": done.returncode,
        "counts": counts,
        "tests": results,
    }
    out = result_path("gpu_tests", name)
    append_run(out, {"benchmark": "gpu_tests", "device": name}, run)
    console.print(f"{counts} in {wall_s:.0f} s; wrote {out}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
