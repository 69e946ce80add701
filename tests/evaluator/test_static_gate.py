"""The static gate's rules, each explained in its reason."""

from __future__ import annotations

import pytest

from evaluator.checks.static_gate import check_source
from evaluator.types import Status

HONEST = (
    "import torch\n\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return x.relu()\n"
)


def test_honest_source_passes() -> None:
    assert check_source(HONEST, "reference").passed


@pytest.mark.parametrize(
    ("snippet", "reason"),
    [
        ("import subprocess\n", "starts processes"),
        ("from socket import socket\n", "network"),
        ("import reference\n", "may not import the reference"),
        ("from softmax_problem import Model\n", "may not import the reference"),
        ("from store.repository import Store\n", "Crucible itself"),
        ("x = eval('1')\n", "dynamic code"),
        ("f = open('/etc/passwd')\n", "file system"),
        ("import torch\ny = torch.load('x.pt')\n", "file system"),
        ("import os\nos.system('true')\n", "os.system"),
        ("import torch\ntorch.cuda.synchronize = lambda: None\n", "monkey-patching"),
        ("import time\nsetattr(time, 'perf_counter', lambda: 0)\n", "monkey-patching"),
        ("import sys\nf = sys._getframe(1)\n", "frames"),
        ("import sys\nm = sys.modules['threading']\n", "sys.modules"),
        ("from . import helper\n", "relative import"),
    ],
)
def test_rule_violations_are_rejected_with_a_reason(snippet: str, reason: str) -> None:
    verdict = check_source(snippet + HONEST, "softmax_problem")
    assert verdict.status is Status.REJECTED
    assert reason in verdict.reason


def test_syntax_error_is_a_compile_error_with_line() -> None:
    verdict = check_source("def f(:\n", "reference")
    assert verdict.status is Status.COMPILE_ERROR and "line 1" in verdict.reason


def test_missing_model_new() -> None:
    assert "ModelNew" in check_source("import torch\n", "reference").reason


def test_triton_kernel_must_be_launched() -> None:
    kernel = "import triton\n\n@triton.jit\ndef k(x_ptr):\n    pass\n\n"
    assert check_source(kernel + HONEST, "reference").status is Status.REJECTED
    launched = HONEST.replace("return x.relu()", "k[(1,)](x)\n        return x")
    assert check_source(kernel + launched, "reference").passed
