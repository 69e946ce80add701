"""Problems: a KernelBench-format reference file plus Crucible's optional metadata.

A problem file defines ``Model``, ``get_inputs()`` and ``get_init_inputs()``. It may add:

* ``SHAPES``: a list of size dicts. ``name`` and ``devices`` (``["cpu"]``, ``["cuda"]`` or both)
  are Crucible's own keys; every other key is passed to ``get_inputs(**sizes)``.
* ``TOLERANCES``: ``{"float32": {"atol": ..., "rtol": ...}, ...}`` per output dtype.
* ``flops(sizes)`` and ``bytes_moved(sizes)``: the work per call, for the roofline.

Loading imports the file, which is the user's own trusted reference code; candidates never
run in this process.
"""

from __future__ import annotations

import importlib.util
import inspect
import math
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from kernels.errors import ProblemError

BUILTIN_DIR = Path(__file__).parent / "problems"
REFERENCE_FILE = "reference.py"
RESERVED_SHAPE_KEYS = ("name", "devices")
DEVICE_KINDS = ("cpu", "cuda")

SizeValue = int | float | str | bool


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float


DEFAULT_TOLERANCES: Mapping[str, Tolerance] = {
    "float64": Tolerance(1e-7, 1e-7),
    "float32": Tolerance(1e-4, 1e-4),
    "float16": Tolerance(1e-2, 1e-2),
    "bfloat16": Tolerance(2e-2, 2e-2),
}


@dataclass(frozen=True)
class Shape:
    """One named input size. ``flops``/``bytes_moved`` are filled from the problem when declared."""

    name: str
    sizes: Mapping[str, SizeValue] = field(default_factory=dict)
    devices: tuple[str, ...] = DEVICE_KINDS
    flops: float | None = None
    bytes_moved: float | None = None

    def runs_on(self, device: str) -> bool:
        return device.split(":")[0] in self.devices


@dataclass(frozen=True)
class Problem:
    """A loaded, validated problem. Plain data, so it can be handed to child processes."""

    name: str
    path: Path
    source: str
    shapes: tuple[Shape, ...]
    tolerances: Mapping[str, Tolerance]
    overrides: Mapping[str, int] = field(default_factory=dict)
    builtin: bool = False

    @property
    def module_stem(self) -> str:
        return self.path.stem

    @property
    def scaled_down(self) -> bool:
        return bool(self.overrides)

    @property
    def variants_dir(self) -> Path:
        """Where this problem's hand-written variant families live."""
        return self.path.parent if self.builtin else self.path.with_name(self.path.stem + "_variants")

    def shapes_for(self, device: str) -> tuple[Shape, ...]:
        chosen = tuple(s for s in self.shapes if s.runs_on(device))
        if not chosen:
            raise ProblemError(f"problem {self.name!r} declares no shape for device {device!r}")
        return chosen

    def tolerance(self, dtype: str) -> Tolerance:
        return self.tolerances.get(dtype) or DEFAULT_TOLERANCES.get(dtype) or Tolerance(1e-4, 1e-4)


def builtin_names() -> list[str]:
    return sorted(p.parent.name for p in BUILTIN_DIR.glob(f"*/{REFERENCE_FILE}"))


def resolve_problem_path(ref: str | Path) -> tuple[str, Path, bool]:
    """Map a built-in name or a path to (name, file, is_builtin)."""
    text = str(ref)
    if text in builtin_names():
        return text, BUILTIN_DIR / text / REFERENCE_FILE, True
    path = Path(text)
    if not path.exists():
        known = ", ".join(builtin_names())
        raise ProblemError(f"problem {text!r} is neither a built-in ({known}) nor an existing file")
    if path.is_dir() or path.suffix != ".py":
        raise ProblemError(f"problem file {path} must be a .py file")
    path = path.resolve()
    if path.name == REFERENCE_FILE and path.parent.parent == BUILTIN_DIR.resolve():
        return path.parent.name, path, True  # a built-in named by its path
    return path.stem, path, False


def import_problem_module(path: Path, overrides: Mapping[str, int] | None = None) -> ModuleType:
    """Import a problem file under a private module name and apply size overrides."""
    spec = importlib.util.spec_from_file_location(f"crucible_problem_{uuid.uuid4().hex[:8]}", path)
    if spec is None or spec.loader is None:
        raise ProblemError(f"problem file {path} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ProblemError(f"problem file {path}: syntax error at line {exc.lineno}: {exc.msg}") from None
    except Exception as exc:  # the user's module-level code: any failure is a problem error
        raise ProblemError(f"problem file {path} failed to import: {type(exc).__name__}: {exc}") from None
    for key, value in (overrides or {}).items():
        current = getattr(module, key, None)
        if not isinstance(current, int) or isinstance(current, bool):
            raise ProblemError(
                f"problem file {path}: cannot override {key!r}; it is not a module-level integer"
            )
        setattr(module, key, int(value))
    return module


def load_problem(ref: str | Path, overrides: Mapping[str, int] | None = None) -> Problem:
    """Load and validate a problem, with one clear error naming the file and the fault."""
    name, path, builtin = resolve_problem_path(ref)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProblemError(f"problem file {path} cannot be read: {exc}") from None
    module = import_problem_module(path, overrides)
    _check_contract(module, path)
    shapes = _read_shapes(module, path)
    return Problem(
        name=name,
        path=path,
        source=source,
        shapes=shapes,
        tolerances=_read_tolerances(module, path),
        overrides=dict(overrides or {}),
        builtin=builtin,
    )


def _check_contract(module: ModuleType, path: Path) -> None:
    import torch

    model = getattr(module, "Model", None)
    if not (inspect.isclass(model) and issubclass(model, torch.nn.Module)):
        raise ProblemError(f"problem file {path} must define class Model(torch.nn.Module)")
    for fn in ("get_inputs", "get_init_inputs"):
        if not callable(getattr(module, fn, None)):
            raise ProblemError(f"problem file {path} must define a function {fn}()")


def _read_shapes(module: ModuleType, path: Path) -> tuple[Shape, ...]:
    raw = getattr(module, "SHAPES", None)
    if raw is None:
        return (_with_work(module, path, Shape(name="default")),)
    if not isinstance(raw, list | tuple) or not raw:
        raise ProblemError(f"problem file {path}: SHAPES must be a non-empty list of dicts")
    shapes: list[Shape] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise ProblemError(f"problem file {path}: SHAPES[{i}] must be a dict, got {type(entry).__name__}")
        sizes = {k: v for k, v in entry.items() if k not in RESERVED_SHAPE_KEYS}
        for key, value in sizes.items():
            if not isinstance(value, int | float | str | bool):
                raise ProblemError(f"problem file {path}: SHAPES[{i}][{key!r}] must be a number or string")
        devices = entry.get("devices", DEVICE_KINDS)
        if isinstance(devices, str):
            devices = (devices,)
        if not devices or any(d not in DEVICE_KINDS for d in devices):
            raise ProblemError(f"problem file {path}: SHAPES[{i}]['devices'] must name {DEVICE_KINDS}")
        shape = Shape(name=str(entry.get("name", f"shape{i}")), sizes=sizes, devices=tuple(devices))
        shapes.append(_with_work(module, path, shape))
    names = [s.name for s in shapes]
    if len(set(names)) != len(names):
        raise ProblemError(f"problem file {path}: shape names must be unique, got {names}")
    return tuple(shapes)


def _with_work(module: ModuleType, path: Path, shape: Shape) -> Shape:
    values: dict[str, float | None] = {}
    for fn_name in ("flops", "bytes_moved"):
        fn = getattr(module, fn_name, None)
        if fn is None:
            values[fn_name] = None
            continue
        try:
            value = float(fn(dict(shape.sizes)))
        except Exception as exc:  # user code
            raise ProblemError(f"problem file {path}: {fn_name}({shape.name}) failed: {exc}") from None
        if not math.isfinite(value) or value < 0:
            raise ProblemError(f"problem file {path}: {fn_name}({shape.name}) returned {value}")
        values[fn_name] = value
    return Shape(shape.name, shape.sizes, shape.devices, values["flops"], values["bytes_moved"])


def _read_tolerances(module: ModuleType, path: Path) -> dict[str, Tolerance]:
    raw: Any = getattr(module, "TOLERANCES", None)
    if raw is None:
        return dict(DEFAULT_TOLERANCES)
    if not isinstance(raw, dict):
        raise ProblemError(f"problem file {path}: TOLERANCES must be a dict of dtype -> {{atol, rtol}}")
    out = dict(DEFAULT_TOLERANCES)
    for dtype, tol in raw.items():
        try:
            out[str(dtype)] = Tolerance(float(tol["atol"]), float(tol["rtol"]))
        except (TypeError, KeyError, ValueError):
            raise ProblemError(
                f"problem file {path}: TOLERANCES[{dtype!r}] needs numeric atol and rtol"
            ) from None
    return out


def unload(module: ModuleType) -> None:
    sys.modules.pop(module.__name__, None)
