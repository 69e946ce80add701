"""Exports that dispatch by shape: where the tuner measured another config of the same source
clearly faster on one shape, the exported ``Kernel`` runs that config on inputs of that shape,
and its own test proves it, on the reference's fresh inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from evaluator.types import DeviceInfo, EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import make_candidate
from kernels.problem import load_problem
from service.exporting import PER_SHAPE_MARGIN, export_from_store
from store.repository import Store
from tests.service.conftest import run_exported_tests

PROBLEM = """import torch

SHAPES = [
    {"name": "narrow", "rows": 4, "cols": 8, "devices": ["cpu"]},
    {"name": "tall", "rows": 64, "cols": 8, "devices": ["cpu"]},
]


class Model(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x) * 2.0


def get_inputs(rows=4, cols=8):
    return [torch.randn(rows, cols)]


def get_init_inputs():
    return []
"""

# The same work in row chunks: the chunk count is the knob, read at call time.
CANDIDATE = """import torch

CONFIG_SPACE = {"chunks": [1, 2, 4]}
CALLS = []  # the chunk count of every call, so a test can see which config ran


class ModelNew(torch.nn.Module):
    def forward(self, x):
        CALLS.append(CONFIG["chunks"])  # noqa: F821 - injected by the evaluator
        return torch.cat([torch.relu(p) * 2.0 for p in x.chunk(CONFIG["chunks"], dim=0)])  # noqa: F821
"""

CPU = DeviceInfo("cpu", "cpu", "test cpu", None, "2.13.0", None)

# Median latency (µs) of each config on each shape, as a tuner might have measured them: 1 chunk
# wins overall (it is exported), 4 chunks win "tall" by far, 2 chunks win "narrow" by too little.
MEASURED = {
    1: {"narrow": 10.0, "tall": 100.0},
    2: {"narrow": 10.0 * (1 - PER_SHAPE_MARGIN / 2), "tall": 400.0},
    4: {"narrow": 30.0, "tall": 40.0},
}


def _result(medians: dict[str, float]) -> EvalResult:
    shapes = tuple(
        ShapeMetrics(
            name,
            median_us=us,
            samples=20,
            max_abs_err=0.0,
            ref_median_us=120.0,
            speedup=120.0 / us,
            timing_method="cpu_clock",
        )
        for name, us in medians.items()
    )
    return EvalResult(Status.OK, Stage.DONE, "ok", shapes, device=CPU)


def test_export_dispatches_each_shape_to_its_fastest_config(tmp_path: Path) -> None:
    problem_path = tmp_path / "chain.py"
    problem_path.write_text(PROBLEM)
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    run_id = store.create_run(load_problem(problem_path), device="cpu", proposer="offline", budget=3, seed=1)
    ids = {}
    for chunks, medians in MEASURED.items():
        ids[chunks] = store.add_candidate(
            run_id, make_candidate(CANDIDATE, {"chunks": chunks}, family="chunked")
        )
        store.record_result(ids[chunks], _result(medians))
    # A different source is never a sibling, however fast.
    another = CANDIDATE + "\nANOTHER_STRUCTURE = True\n"
    other = store.add_candidate(run_id, make_candidate(another, {"chunks": 2}))
    store.record_result(other, _result({"narrow": 1.0, "tall": 1.0}))

    record, files = export_from_store(store, f"c{ids[1]}", tmp_path / "out")
    assert record.id == ids[1]
    manifest = json.loads(files.manifest.read_text())  # type: ignore[union-attr]
    assert [(c["shape"], c["config"], c["candidate_id"]) for c in manifest["shape_configs"]] == [
        ("tall", {"chunks": 4}, ids[4])
    ]
    module = files.module.read_text()
    assert (
        "SHAPE_CONFIGS = [{'shape': 'tall', 'sizes': {'rows': 64, 'cols': 8}, 'config': {'chunks': 4}}]"
        in module
    )
    assert 'tall runs {"chunks": 4}: 40 us (3.000x' in module

    # The exported test checks the dispatch and the outputs under it; then a call of each shape
    # through ``run`` shows which config ran.
    tested = run_exported_tests(files.test, files.directory)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "6 passed" in tested.stdout, tested.stdout
    calls = subprocess.run(
        [sys.executable, "-c", DISPATCH_CHECK, str(files.module)], capture_output=True, text=True, timeout=120
    )
    assert calls.returncode == 0, calls.stderr
    assert calls.stdout.split() == ["[1,4,1]"]


DISPATCH_CHECK = """
import importlib.util, sys
import torch
spec = importlib.util.spec_from_file_location("kernel", sys.argv[1])
kernel = importlib.util.module_from_spec(spec)
spec.loader.exec_module(kernel)
for rows in (4, 64, 5):  # narrow, tall, and a shape it never measured
    x = torch.randn(rows, 8)
    assert torch.equal(kernel.run(x), torch.relu(x) * 2.0)
print(str(kernel.CALLS).replace(" ", ""))
"""
