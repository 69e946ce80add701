"""Run the real ``crucible`` command in a subprocess, against a fresh SQLite database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
FAST_ENV = {
    "CRUCIBLE_WARMUP_MS": "5",
    "CRUCIBLE_TIMING_BUDGET_MS": "30",
    "CRUCIBLE_MIN_SAMPLES": "5",
    "CRUCIBLE_MAX_SAMPLES": "200",
}


@dataclass(frozen=True)
class Completed:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def crucible_env(tmp_path: Path) -> dict[str, str]:
    # Nothing of the outer environment configures these runs: no store, no limits, no LLM endpoint.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRUCIBLE_", "OPENAI_", "RAY_"))}
    env.update(FAST_ENV)
    env["CRUCIBLE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'crucible.db'}"
    env["CRUCIBLE_WORKDIR"] = str(tmp_path / "work")
    return env


@pytest.fixture
def crucible(crucible_env: dict[str, str], tmp_path: Path):  # type: ignore[no-untyped-def]
    def run(*args: str, timeout: float = 600) -> Completed:
        proc = subprocess.run(
            [sys.executable, "-m", "service.cli", *args],
            env=crucible_env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Completed(proc.returncode, proc.stdout, proc.stderr)

    return run
