"""Candidates built on library features: torch.compile must pass protocol item 5 despite its threads,
and triton.autotune, which cannot run under the CPU interpreter, must fail with a reason that says why.
"""

from __future__ import annotations

import os
import shutil
import textwrap
import threading
from pathlib import Path

import pytest

from evaluator.child.leftovers import quiet_library_threads
from evaluator.child.runtime import classify_exception
from evaluator.evaluate import Evaluator
from evaluator.limits import EvalLimits
from evaluator.types import EvalResult, Status
from kernels.candidate import make_candidate
from kernels.problem import load_problem

GELU_PROBLEM = """
import torch


class Model(torch.nn.Module):
    def forward(self, x, bias):
        return torch.nn.functional.gelu(x + bias)


def get_inputs():
    return [torch.randn(64, 256), torch.randn(256)]


def get_init_inputs():
    return []
"""

COMPILED = """
import torch


def _bias_gelu(x, bias):
    y = x + bias
    return 0.5 * y * (1.0 + torch.erf(y * 0.7071067811865476))


_fused = torch.compile(_bias_gelu, dynamic=False)


class ModelNew(torch.nn.Module):
    def forward(self, x, bias):
        return _fused(x, bias)
"""

# Compiling takes seconds on a CPU: the correctness stage gets room for it.
LIMITS = EvalLimits(
    load_timeout_s=60,
    correctness_timeout_s=240,
    timing_timeout_s=60,
    warmup_ms=2,
    timing_budget_ms=10,
    min_samples=3,
    max_samples=20,
)


def _evaluate_on_bias_gelu(source: str, tmp_path: Path) -> EvalResult:
    path = tmp_path / "bias_gelu_problem.py"
    path.write_text(textwrap.dedent(GELU_PROBLEM))
    evaluator = Evaluator(load_problem(path), "cpu", LIMITS, secret_seed=11, workroot=tmp_path / "work")
    try:
        return evaluator.evaluate(make_candidate(source))
    finally:
        evaluator.close()


def test_tqdm_starts_no_monitor_thread_once_quieted(monkeypatch: pytest.MonkeyPatch) -> None:
    tqdm = pytest.importorskip("tqdm")
    monkeypatch.setattr(tqdm.tqdm, "monitor_interval", 10)
    quiet_library_threads()
    assert tqdm.tqdm.monitor_interval == 0
    with open(os.devnull, "w") as sink:
        for _ in tqdm.tqdm(range(3), file=sink):
            pass
    assert "tqdm_monitor" not in [t.name for t in threading.enumerate()]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="Inductor needs a C++ compiler")
def test_a_torch_compile_candidate_is_accepted(tmp_path: Path) -> None:
    result = _evaluate_on_bias_gelu(COMPILED, tmp_path)
    assert result.status is Status.OK, result.reason
    assert result.speedup is not None and result.speedup > 0


AUTOTUNED = """
import torch
import triton
import triton.language as tl


@triton.autotune(configs=[triton.Config({}, num_warps=w) for w in (1, 4)], key=["n"])
@triton.jit
def add_bias(x_ptr, bias_ptr, out_ptr, n, cols, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    y = tl.load(x_ptr + offs, mask=mask) + tl.load(bias_ptr + offs % cols, mask=mask)
    tl.store(out_ptr + offs, y, mask=mask)


class ModelNew(torch.nn.Module):
    def forward(self, x, bias):
        out = torch.empty_like(x)
        add_bias[(triton.cdiv(x.numel(), 1024),)](x, bias, out, x.numel(), x.shape[-1], BLOCK=1024)
        return torch.nn.functional.gelu(out)
"""


def test_the_missing_driver_error_names_autotune_and_the_way_out() -> None:
    status, reason = classify_exception(RuntimeError("0 active drivers ([]). There should only be one."))
    assert status is Status.RUNTIME_ERROR
    assert "triton.autotune" in reason and "CONFIG_SPACE" in reason
    assert reason.endswith("There should only be one.")  # Triton's own words are kept
    assert "CONFIG_SPACE" not in classify_exception(RuntimeError("shape mismatch"))[1]


def test_an_autotuned_triton_candidate_on_the_cpu_says_why_it_cannot_run(tmp_path: Path) -> None:
    result = _evaluate_on_bias_gelu(AUTOTUNED, tmp_path)
    assert result.status is Status.RUNTIME_ERROR
    assert "triton.autotune cannot benchmark" in result.reason, result.reason
