"""A tiny problem for executor tests: cheap to judge, so the tests measure the plumbing."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernels.problem import Problem, load_problem

ABS_PROBLEM = """import torch


class Model(torch.nn.Module):
    def forward(self, x):
        return x.abs()


def get_inputs():
    return [torch.randn(16, 16)]


def get_init_inputs():
    return []
"""


@pytest.fixture
def abs_problem(tmp_path: Path) -> Problem:
    path = tmp_path / "abs_problem.py"
    path.write_text(ABS_PROBLEM)
    return load_problem(path)
