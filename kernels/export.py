"""The export format: a standalone kernel module, a copy of its reference, and a test that checks them.

The module carries its chosen CONFIG and a provenance header (device, versions, measured
numbers, date), so it can be dropped into a codebase and re-verified there with pytest.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kernels.config import Config


@dataclass(frozen=True)
class Provenance:
    """Where an exported kernel came from and what was measured for it."""

    problem: str
    candidate_hash: str
    family: str
    origin: str
    config: Config
    device: dict[str, Any]
    shapes: list[dict[str, Any]]
    speedup: float | None
    interpreted: bool
    date: str
    crucible_version: str
    run_id: int | None = None
    candidate_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportedFiles:
    directory: Path
    module: Path
    reference: Path
    test: Path


def safe_name(text: str) -> str:
    return re.sub(r"\W+", "_", text).strip("_") or "problem"


def _header(p: Provenance) -> str:
    speed = (
        f"{p.speedup:.3f}x (geometric mean over shapes)"
        if p.speedup
        else "not ranked (interpreted or untimed)"
    )
    lines = [
        f"Crucible export: problem {p.problem!r}, family {p.family!r} ({p.origin}).",
        f"Candidate {p.candidate_hash}" + (f" (id {p.candidate_id}, run {p.run_id})" if p.run_id else ""),
        f"Config: {json.dumps(p.config.as_dict(), sort_keys=True)}",
        f"Device: {p.device.get('name')} [{p.device.get('key')}], driver {p.device.get('driver') or 'n/a'}",
        f"Versions: torch {p.device.get('torch_version')}, triton {p.device.get('triton_version')},"
        f" crucible {p.crucible_version}",
        f"Measured: speedup {speed}" + ("; timings under the Triton interpreter" if p.interpreted else ""),
    ]
    for s in p.shapes:
        lines.append(
            f"  {s['shape']}: {_fmt(s.get('median_us'))} us vs reference {_fmt(s.get('ref_median_us'))} us,"
            f" max abs err {_fmt(s.get('max_abs_err'))}"
        )
    lines.append(f"Exported: {p.date}")
    return "".join(f"# {line}\n" for line in lines)


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, int | float) else "n/a"


def _insertion_line(source: str) -> int:
    """The line after the module docstring and any ``from __future__`` imports."""
    tree = ast.parse(source)
    line = 0
    for i, node in enumerate(tree.body):
        is_doc = i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        is_future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if not (is_doc or is_future):
            break
        line = node.end_lineno or line
    return line


def render_module(source: str, provenance: Provenance) -> str:
    """The candidate's source with its CONFIG baked in and the provenance header on top."""
    lines = source.splitlines(keepends=True)
    at = _insertion_line(source)
    chosen = provenance.config.as_dict()
    config = f"\n# The configuration Crucible chose from CONFIG_SPACE.\nCONFIG = {chosen!r}\n\n"
    return _header(provenance) + "".join(lines[:at]) + config + "".join(lines[at:])


TEST_TEMPLATE = '''"""Checks the exported {problem} kernel against its reference on fresh random inputs."""

import importlib.util
import os
import random
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).parent
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
if DEVICE == "cpu":
    os.environ.setdefault("TRITON_INTERPRET", "1")  # Triton kernels run under the interpreter on the CPU
DEFAULT_TOLERANCES = {{
    "float64": (1e-7, 1e-7),
    "float32": (1e-4, 1e-4),
    "float16": (1e-2, 1e-2),
    "bfloat16": (2e-2, 2e-2),
}}


def _load(name):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{{name}}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reference = _load("{reference}")
kernel = _load("{module}")
SHAPES = [s for s in getattr(reference, "SHAPES", [{{}}]) if DEVICE in s.get("devices", ("cpu", "cuda"))]


def _sizes(shape):
    return {{k: v for k, v in shape.items() if k not in ("name", "devices")}}


def _tolerance(dtype):
    name = str(dtype).removeprefix("torch.")
    declared = getattr(reference, "TOLERANCES", {{}}).get(name)
    if declared:
        return declared["atol"], declared["rtol"]
    return DEFAULT_TOLERANCES.get(name, (1e-4, 1e-4))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.get("name", "default"))
@pytest.mark.parametrize("trial", range(2))
def test_matches_reference_on_fresh_inputs(shape, trial):
    seed = random.SystemRandom().randrange(2**31)
    torch.manual_seed(seed)
    raw_inputs = reference.get_inputs(**_sizes(shape))
    inputs = [x.to(DEVICE) if isinstance(x, torch.Tensor) else x for x in raw_inputs]
    init = reference.get_init_inputs()
    torch.manual_seed(seed)
    expected_model = reference.Model(*init).to(DEVICE)
    torch.manual_seed(seed)
    candidate_model = kernel.ModelNew(*init).to(DEVICE)
    with torch.no_grad():
        expected = expected_model(*inputs)
        actual = candidate_model(*inputs)
    expected = list(expected) if isinstance(expected, (tuple, list)) else [expected]
    actual = list(actual) if isinstance(actual, (tuple, list)) else [actual]
    assert len(actual) == len(expected)
    for ref, out in zip(expected, actual):
        assert type(out) is torch.Tensor and out.shape == ref.shape and out.dtype == ref.dtype
        atol, rtol = _tolerance(ref.dtype)
        scale = max(1.0, float(ref.double().pow(2).mean().sqrt())) if ref.is_floating_point() else 1.0
        torch.testing.assert_close(out, ref, atol=atol * scale, rtol=rtol, msg=f"seed {{seed}}")
'''


def export_kernel(source: str, problem_source: str, provenance: Provenance, out_dir: Path) -> ExportedFiles:
    """Write the module, the reference copy and the test into ``out_dir`` (created if needed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = safe_name(provenance.problem)
    module = out_dir / f"{stem}_kernel.py"
    reference = out_dir / f"{stem}_reference.py"
    test = out_dir / f"test_{stem}_kernel.py"
    module.write_text(render_module(source, provenance))
    reference.write_text(problem_source)
    test.write_text(
        TEST_TEMPLATE.format(problem=provenance.problem, reference=reference.stem, module=module.stem)
    )
    (out_dir / "provenance.json").write_text(json.dumps(_provenance_dict(provenance), indent=2, default=str))
    return ExportedFiles(out_dir, module, reference, test)


def _provenance_dict(p: Provenance) -> dict[str, Any]:
    return {
        "problem": p.problem,
        "run_id": p.run_id,
        "candidate_id": p.candidate_id,
        "candidate_hash": p.candidate_hash,
        "family": p.family,
        "origin": p.origin,
        "config": p.config.as_dict(),
        "device": p.device,
        "speedup": p.speedup,
        "interpreted": p.interpreted,
        "shapes": p.shapes,
        "date": p.date,
        "crucible_version": p.crucible_version,
        **p.extra,
    }
