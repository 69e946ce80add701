"""Where the benchmarks write their JSON, and what each record says about the code and the device."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def device_slug(name: str) -> str:
    """``NVIDIA H100 80GB HBM3`` -> ``NVIDIA_H100_80GB_HBM3``: one result file per kind of device."""
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")


def result_path(benchmark: str, device_name: str) -> Path:
    return RESULTS / f"{benchmark}_{device_slug(device_name)}.json"


def commit() -> str | None:
    """The checked-out commit, so a result can be traced to the code that produced it.

    A copy of the tree without its git history (a lent GPU host gets one) names the commit in
    ``CRUCIBLE_COMMIT``.
    """
    if os.environ.get("CRUCIBLE_COMMIT"):
        return os.environ["CRUCIBLE_COMMIT"]
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def write_report(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")


def append_run(path: Path, header: dict[str, Any], run: dict[str, Any]) -> None:
    """Add ``run`` to the file's ``runs`` list, keeping earlier runs: a history, not a snapshot."""
    existing = json.loads(path.read_text()) if path.exists() else {}
    runs = [*existing.get("runs", []), run]
    write_report(path, {**existing, **header, "runs": runs})
