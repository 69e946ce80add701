"""``crucible export``: entry points that fall back to the reference, a manifest with hashes, the
same bytes on every export of a candidate, and ``--front`` for every kernel on the front."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a whole (small) optimization first

FALLBACK_CHECK = """
import importlib.util, os, sys, warnings
import torch
sys.path.insert(0, sys.argv[1])
os.environ.pop("TRITON_INTERPRET", None)
spec = importlib.util.spec_from_file_location("kernel", sys.argv[2])
kernel = importlib.util.module_from_spec(spec)
spec.loader.exec_module(kernel)
reference = kernel._reference_module()
x = torch.randn(8, 32)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    first, second = kernel.Kernel()(x), kernel.run(x)
expected = reference.Model()(x)
assert torch.allclose(first, expected) and torch.allclose(second, expected)
messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
assert len(messages) == 1 and "needs CUDA tensors" in messages[0], messages
print("fell back once")
"""


def test_export_entry_points_manifest_identical_bytes_and_front(crucible, problem_file: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    report = crucible("optimize", str(problem_file), "--budget", "4", "--json").json()
    run_id = report["run_id"]
    shown = crucible("show", str(run_id), "--json").json()
    triton = next(c for c in shown["candidates"] if c["language"] == "triton" and c["status"] == "ok")

    first, again = tmp_path / "first", tmp_path / "again"
    for folder in (first, again):
        done = crucible("export", f"c{triton['candidate_id']}", "--out", str(folder))
        assert done.code == 0, done.stderr
    names = sorted(p.name for p in first.iterdir() if p.is_file())
    assert names == sorted(p.name for p in again.iterdir() if p.is_file())
    for name in names:
        assert (first / name).read_bytes() == (again / name).read_bytes(), f"{name} differs between exports"

    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["candidate_id"] == triton["candidate_id"] and manifest["problem"] == "silu_problem"
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((first / name).read_bytes()).hexdigest() == digest
    module = first / "silu_problem_kernel.py"
    text = module.read_text()
    assert (
        "class Kernel(torch.nn.Module)" in text
        and "def run(*inputs)" in text
        and "_NEEDS_CUDA = True" in text
    )

    fell_back = subprocess.run(
        [sys.executable, "-c", FALLBACK_CHECK, str(first), str(module)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert fell_back.returncode == 0 and "fell back once" in fell_back.stdout, fell_back.stderr

    front = crucible("export", str(run_id), "--front", "--out", str(tmp_path / "front"), "--json")
    assert front.code == 0, front.stderr
    exported = json.loads(front.stdout)
    pareto_ids = {p["candidate_id"] for p in crucible("show", str(run_id), "--json").json()["pareto"]}
    assert {e["candidate_id"] for e in exported} == pareto_ids
    assert all((tmp_path / "front" / f"c{i}" / "manifest.json").is_file() for i in pareto_ids)
    refused = crucible("export", f"c{triton['candidate_id']}", "--front", "--out", str(tmp_path / "x"))
    assert refused.code == 2 and "--front takes a run id" in refused.stderr
