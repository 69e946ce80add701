"""``--scale-to-cpu``: a GPU-sized KernelBench file's module-level sizes halved until one call fits."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernels.errors import ProblemError
from kernels.problem import load_problem
from kernels.scaling import SMALLEST, cpu_overrides, element_count

GPU_SIZED = """import torch

batch_size = 4096
in_features = 8192
out_features = 8192
kernel_size = 3
scale = 2


class Model(torch.nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.linear = torch.nn.Linear(in_features, out_features)

    def forward(self, x):
        return torch.relu(self.linear(x)) * scale


def get_inputs():
    return [torch.randn(batch_size, in_features)]


def get_init_inputs():
    return [in_features, out_features]
"""


def test_sizes_are_halved_until_inputs_and_weights_fit(tmp_path: Path) -> None:
    path = tmp_path / "gemm_relu.py"
    path.write_text(GPU_SIZED)
    assert element_count(path, {}) == 4096 * 8192 + 8192 * 8192 + 8192  # measured on meta: no allocation
    found = cpu_overrides(path, budget=1 << 16)
    assert element_count(path, found) <= 1 << 16
    assert "kernel_size" not in found and "scale" not in found  # small, or sizing nothing
    assert all(v >= SMALLEST for v in found.values())
    problem = load_problem(path, found)
    assert problem.scaled_down and problem.overrides == found


def test_a_file_that_fits_is_left_alone_and_one_that_cannot_shrink_says_so(tmp_path: Path) -> None:
    small = tmp_path / "small.py"
    small.write_text(GPU_SIZED.replace("4096", "16").replace("8192", "32"))
    assert cpu_overrides(small) == {}
    fixed = tmp_path / "fixed.py"
    fixed.write_text(GPU_SIZED.replace("torch.randn(batch_size, in_features)", "torch.randn(4096, 8192)"))
    with pytest.raises(ProblemError, match="could not bring one call under"):
        cpu_overrides(fixed, budget=1 << 10)
