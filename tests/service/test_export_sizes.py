"""An export of a run that overrode the problem's sizes (``--size``, ``--scale-to-cpu``) is
tested at those sizes: a GPU-sized KernelBench file is checked at the sizes it was judged at."""

from __future__ import annotations

import json
from pathlib import Path

from evaluator.types import DeviceInfo, EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import make_candidate
from kernels.problem import load_problem
from service.exporting import export_from_store
from store.repository import Store
from tests.service.conftest import run_exported_tests

# As written, one call would need 2**40 floats: only the overridden size can run anywhere.
PROBLEM = """import torch

rows = 1 << 40
cols = 16


class Model(torch.nn.Module):
    def forward(self, x):
        return torch.tanh(x) * 0.5


def get_inputs():
    return [torch.randn(rows, cols)]


def get_init_inputs():
    return []
"""

CANDIDATE = """import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return torch.tanh(x).mul_(0.5)
"""


def test_the_exported_test_runs_at_the_sizes_the_run_judged(tmp_path: Path) -> None:
    path = tmp_path / "huge_tanh.py"
    path.write_text(PROBLEM)
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    run_id = store.create_run(
        load_problem(path, {"rows": 8}), device="cpu", proposer="offline", budget=1, seed=1
    )
    candidate_id = store.add_candidate(run_id, make_candidate(CANDIDATE))
    shape = ShapeMetrics(
        "default", median_us=3.0, samples=20, max_abs_err=0.0, ref_median_us=4.0, speedup=4 / 3
    )
    device = DeviceInfo("cpu", "cpu", "test cpu", None, "2.13.0", None)
    store.record_result(
        candidate_id, EvalResult(Status.OK, Stage.DONE, "ok", (shape,), device, scaled_down=True)
    )

    _, files = export_from_store(store, f"c{candidate_id}", tmp_path / "out")
    manifest = json.loads(files.manifest.read_text())  # type: ignore[union-attr]
    assert manifest["overrides"] == {"rows": 8} and manifest["scaled_down"] is True
    tested = run_exported_tests(files.test, files.directory)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "3 passed" in tested.stdout, tested.stdout
