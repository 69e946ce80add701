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


# A user problem with a PyTorch family (8 configs, timed for real) and a Triton one (interpreted).
PROBLEM = """
import torch

SHAPES = [{"name": "a", "n": 64}, {"name": "b", "n": 96}]


class Model(torch.nn.Module):
    def forward(self, x):
        return torch.sigmoid(x) * x


def get_inputs(n=64):
    return [torch.randn(n, n)]


def get_init_inputs():
    return []


def bytes_moved(sizes):
    return 8.0 * sizes["n"] ** 2
"""

TORCH_FAMILY = """
import torch
import torch.nn.functional as F

CONFIG_SPACE = {"fused": [True, False], "contiguous": [True, False], "spare": [0, 1, 2]}


class ModelNew(torch.nn.Module):
    def forward(self, x):
        if CONFIG["contiguous"]:
            x = x.contiguous()
        return F.silu(x) if CONFIG["fused"] else x * torch.sigmoid(x)
"""

TRITON_FAMILY = """
import torch
import triton
import triton.language as tl

CONFIG_SPACE = {"BLOCK": [256, 1024]}


@triton.jit
def silu_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x / (1 + tl.exp(-x)), mask=mask)


class ModelNew(torch.nn.Module):
    def forward(self, x):
        out = torch.empty_like(x)
        n = x.numel()
        silu_kernel[(triton.cdiv(n, CONFIG["BLOCK"]),)](x, out, n, BLOCK=CONFIG["BLOCK"])
        return out
"""


@pytest.fixture
def problem_file(tmp_path: Path) -> Path:
    path = tmp_path / "silu_problem.py"
    path.write_text(PROBLEM)
    variants = tmp_path / "silu_problem_variants"
    variants.mkdir()
    (variants / "torch_silu.py").write_text(TORCH_FAMILY)
    (variants / "triton_silu.py").write_text(TRITON_FAMILY)
    return path


def run_exported_tests(target: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """pytest on an exported kernel's test (a file or its folder), in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )
