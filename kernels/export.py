"""The export format: a standalone kernel module, a copy of its reference, a test that checks
them, and ``manifest.json``.

The module carries its chosen CONFIG, a provenance header (device, versions, measured numbers,
the date it was measured) and two entry points: ``Kernel``, a drop-in for the reference
``Model`` that falls back to the reference where the kernel cannot run (and says so once), and
``run``, a plain function. Where the tuner measured another config of the same source faster
on some shape, ``SHAPE_CONFIGS`` holds those winners and ``Kernel`` switches CONFIG to the
shape's winner when its inputs have that shape. Nothing in the output depends on when it was
exported, so exporting the same candidate twice writes the same bytes. The manifest lists every
file with its SHA-256.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from kernels.candidate import Language, detect_language
from kernels.config import Config


@dataclass(frozen=True)
class ShapeConfig:
    """Another config of the same source that was measurably faster on one shape."""

    shape: str
    sizes: dict[str, Any]  # what the reference's ``get_inputs`` takes for this shape
    config: Config
    median_us: float
    speedup: float | None
    candidate_id: int | None = None

    def as_entry(self) -> dict[str, Any]:
        return {"shape": self.shape, "sizes": self.sizes, "config": self.config.as_dict()}


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
    shape_configs: tuple[ShapeConfig, ...] = ()


@dataclass(frozen=True)
class ExportedFiles:
    directory: Path
    module: Path
    reference: Path
    test: Path
    manifest: Path | None = None


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
        compiled = s.get("compiled_median_us")
        lines.append(
            f"  {s['shape']}: {_fmt(s.get('median_us'))} us vs reference {_fmt(s.get('ref_median_us'))} us"
            + (f", torch.compile {_fmt(compiled)} us" if compiled is not None else "")
            + f", max abs err {_fmt(s.get('max_abs_err'))}"
        )
    for c in p.shape_configs:
        won = f"{c.speedup:.3f}x" if c.speedup else "untimed"
        lines.append(
            f"  {c.shape} runs {json.dumps(c.config.as_dict(), sort_keys=True)}: {_fmt(c.median_us)} us"
            f" ({won}, candidate {c.candidate_id})"
        )
    lines.append(f"Measured on: {p.date}")
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


def render_module(
    source: str,
    provenance: Provenance,
    *,
    reference_file: str = "reference.py",
    needs_cuda: bool = False,
    dtypes: list[str] | None = None,
) -> str:
    """The candidate's source with its CONFIG baked in, the provenance header on top and the entry
    points (``Kernel``, ``run``) at the bottom."""
    lines = source.splitlines(keepends=True)
    at = _insertion_line(source)
    chosen = provenance.config.as_dict()
    per_shape = [c.as_entry() for c in provenance.shape_configs]
    config = (
        f"\n# The configuration Crucible chose from CONFIG_SPACE.\nCONFIG = {chosen!r}\n"
        "# Shapes on which another config of this source measured faster; ``Kernel`` switches to it.\n"
        f"SHAPE_CONFIGS = {per_shape!r}\n\n"
    )
    entry = _template("entry_points.py.tmpl").format(
        reference_file=reference_file, needs_cuda=needs_cuda, dtypes=dtypes
    )
    body = "".join(lines[:at]) + config + "".join(lines[at:])
    return _header(provenance) + body.rstrip("\n") + "\n" + entry


def declared_shapes(problem_source: str) -> list[dict[str, Any]]:
    """The reference's ``SHAPES`` as a literal (never run); [] when it declares none or not as one."""
    try:
        tree = ast.parse(problem_source)
    except SyntaxError:
        return []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "SHAPES" for t in node.targets
        ):
            try:
                shapes = ast.literal_eval(node.value)
            except ValueError:
                return []
            return [s for s in shapes if isinstance(s, dict)] if isinstance(shapes, list) else []
    return []


def shape_sizes(problem_source: str, shape: str) -> dict[str, Any] | None:
    """What ``get_inputs`` takes for the named shape; {} for an undeclared "default"; None: unknown."""
    for s in declared_shapes(problem_source):
        if s.get("name") == shape:
            return {k: v for k, v in s.items() if k not in ("name", "devices")}
    return {} if shape == "default" and not declared_shapes(problem_source) else None


def measured_dtypes(problem_source: str, device_kind: str) -> list[str] | None:
    """The ``dtype`` values of the reference's ``SHAPES`` for this kind of device, read as a literal
    (never run); None when the file declares none."""
    found = sorted(
        {
            str(s["dtype"])
            for s in declared_shapes(problem_source)
            if "dtype" in s and device_kind in s.get("devices", (device_kind,))
        }
    )
    return found or None


def _template(name: str) -> str:
    """Templates of the exported files, kept as package data: they are the user's code, not Crucible's."""
    return resources.files("kernels").joinpath(f"templates/{name}").read_text()


def exported_test_template() -> str:
    return _template("exported_test.py.tmpl")


def export_kernel(source: str, problem_source: str, provenance: Provenance, out_dir: Path) -> ExportedFiles:
    """Write the module, the reference copy and the test into ``out_dir`` (created if needed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = safe_name(provenance.problem)
    module = out_dir / f"{stem}_kernel.py"
    reference = out_dir / f"{stem}_reference.py"
    test = out_dir / f"test_{stem}_kernel.py"
    kind = "cuda" if str(provenance.device.get("key", "")).startswith("cuda") else "cpu"
    module.write_text(
        render_module(
            source,
            provenance,
            reference_file=reference.name,
            needs_cuda=detect_language(source) is Language.TRITON,
            dtypes=measured_dtypes(problem_source, kind),
        )
    )
    reference.write_text(problem_source)
    test.write_text(
        exported_test_template().format(
            problem=provenance.problem, reference=reference.stem, module=module.stem
        )
    )
    files = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in (module, reference, test)}
    manifest = out_dir / "manifest.json"
    document = {"format": 1, **_provenance_dict(provenance), "files": files}
    manifest.write_text(json.dumps(document, indent=2, sort_keys=True, default=str) + "\n")
    return ExportedFiles(out_dir, module, reference, test, manifest)


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
        "shape_configs": [
            {**c.as_entry(), "median_us": c.median_us, "speedup": c.speedup, "candidate_id": c.candidate_id}
            for c in p.shape_configs
        ],
        **p.extra,
    }
