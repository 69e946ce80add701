"""A tiny problem for executor tests (cheap to judge, so the tests measure the plumbing), and the
wire between a child and the parent."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from evaluator.wire.messages import Channel, ChildMessage, Malformed, parse_message
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


def _through_a_pipe(message: ChildMessage) -> ChildMessage | Malformed | None:
    """Send a message as a child does and decode it as the parent does, over a real pipe."""
    read_fd, write_fd = os.pipe()
    try:
        Channel(write_fd).send(message)
        os.close(write_fd)
        line = os.read(read_fd, 1 << 20)
    finally:
        os.close(read_fd)
    return parse_message(line.rstrip(b"\n"))


@pytest.fixture
def through_a_pipe() -> Callable[[ChildMessage], ChildMessage | Malformed | None]:
    return _through_a_pipe
