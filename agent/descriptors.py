"""MAP-Elites behaviour descriptors: what kind of kernel a candidate is, read from its source.

The archive keeps the best candidate of each cell, so the bins decide which differences the
search keeps alive side by side. Every bin is discrete and read with ``ast`` (never run):

- ``language``: ``triton`` when the module defines a ``@triton.jit`` function, else ``pytorch``.
- ``memory_level``, where the kernel keeps its working tile (a heuristic over every jit kernel;
  the highest level any kernel reaches wins):
  ``shared_memory`` when a kernel calls ``tl.dot`` or loads 2-D tiles (``[:, None]`` broadcasts,
  ``tl.make_block_ptr``) inside a loop, as a K loop that stages panels does;
  ``registers`` when a kernel reduces (``tl.sum``, ``tl.max``...) and loads nothing in a loop,
  so whole rows live in registers; ``global_only`` otherwise (elementwise or streaming sweeps);
  ``library`` for PyTorch candidates, whose tiling is the library's; ``unknown`` if unparsable.
- ``block_class``, the largest tile a launch asks for: the product of its ``BLOCK*`` keyword
  arguments (the reduction step ``*_K`` left out), each resolved to an int literal, a module
  constant or the largest value of the ``CONFIG_SPACE`` keys it reads: ``small`` <= 1024
  elements, ``medium`` <= 8192, ``large`` above; ``adaptive`` when sized at run time (for
  example ``next_power_of_2(n_cols)``); ``none`` with no Triton launch.
- ``launches`` per forward call: ``kernel[grid](...)`` sites in ModelNew's methods (the larger
  branch of an ``if``; a launch inside a loop is ``3+``), or the profiler's count per call when
  ``DescriptorInputs`` carries one: ``0``, ``1``, ``2``, ``3+``, or ``unknown`` (PyTorch, unprofiled).
- ``tensor_core_dots``: ``tl.dot`` in a kernel, or a matmul-family call (``torch.mm``, ``@``...).
- ``source_size`` in statements (formatting-proof): ``small`` <= 30, ``medium`` <= 60, ``large``.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum

from evaluator.types import EvalResult, Profile
from kernels.candidate import Language, detect_language, read_config_space
from kernels.errors import CandidateError

REDUCTIONS = {"sum", "max", "min", "reduce", "argmax", "argmin", "cumsum", "cumprod", "xor_sum"}
MATMULS = {"mm", "matmul", "bmm", "addmm", "baddbmm", "addbmm", "einsum", "linear", "tensordot"}


class MemoryLevel(str, Enum):
    REGISTERS = "registers"
    SHARED_MEMORY = "shared_memory"
    GLOBAL_ONLY = "global_only"
    LIBRARY = "library"
    UNKNOWN = "unknown"


class BlockClass(str, Enum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"
    ADAPTIVE = "adaptive"
    NONE = "none"


class LaunchBin(str, Enum):
    ZERO = "0"
    ONE = "1"
    TWO = "2"
    MANY = "3+"
    UNKNOWN = "unknown"


class SizeClass(str, Enum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


@dataclass(frozen=True)
class DescriptorInputs:
    """Measured facts that beat reading the source; ``launches_per_call`` comes from a profile."""

    launches_per_call: float | None = None

    @classmethod
    def from_profile(cls, profile: Profile | None) -> DescriptorInputs:
        """Launches per call from the ncu pass, else from the last (largest) shape's profile.

        torch.profiler on the CPU counts operators, which stand in for launches there.
        """
        ncu = profile.ncu.report if profile is not None and profile.ncu is not None else None
        report = ncu or (
            list(profile.shapes.values())[-1] if profile is not None and profile.shapes else None
        )
        if report is None or not report.kernels:
            return cls()
        return cls(sum(k.calls for k in report.kernels) / max(report.profiled_calls, 1))

    @classmethod
    def from_result(cls, result: EvalResult) -> DescriptorInputs:
        return cls.from_profile(result.profile)


# The names of ``KernelDescriptor.cell()``'s bins, in its order.
DESCRIPTOR_NAMES = ("language", "memory_level", "block_class", "launches", "tensor_core_dots", "source_size")


@dataclass(frozen=True)
class KernelDescriptor:
    language: Language
    memory_level: MemoryLevel
    block_class: BlockClass
    launches: LaunchBin
    tensor_core_dots: bool
    source_size: SizeClass
    block_elements: int | None = None  # the tile behind block_class, when known
    launch_count: int | None = None  # the count behind launches, when exact

    def cell(self) -> tuple[str, str, str, str, bool, str]:
        """The archive key: the discrete bins, in a fixed order."""
        return (
            self.language.value,
            self.memory_level.value,
            self.block_class.value,
            self.launches.value,
            self.tensor_core_dots,
            self.source_size.value,
        )


def _dotted(node: ast.AST) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else ""


def _calls(node: ast.AST, prefix: str) -> list[tuple[str, ast.Call]]:
    """Calls of ``prefix.name`` under ``node``, as (name, call)."""
    found = [(_dotted(n.func), n) for n in ast.walk(node) if isinstance(n, ast.Call)]
    return [(name[len(prefix) :], call) for name, call in found if name.startswith(prefix)]


def _launches(node: ast.AST, kernels: set[str]) -> Iterator[ast.Call]:
    """``kernel[grid](...)`` calls of the module's jit kernels under ``node``."""
    for n in ast.walk(node):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Subscript) and _dotted(n.func.value) in kernels:
            yield n


def _is_2d(expr: ast.AST, tiled: set[str]) -> bool:
    """Whether ``expr`` builds a 2-D tile: a ``[:, None]`` broadcast, or a name bound to one."""
    for n in ast.walk(expr):
        broadcast = isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Tuple)
        if broadcast and any(isinstance(e, ast.Constant) and e.value is None for e in n.slice.elts):  # type: ignore[attr-defined]
            return True
        if isinstance(n, ast.Name) and n.id in tiled:
            return True
    return False


def _kernel_level(kernel: ast.FunctionDef, tl: str) -> MemoryLevel:
    calls = _calls(kernel, tl + ".")
    if any(name == "dot" for name, _ in calls):
        return MemoryLevel.SHARED_MEMORY
    tiled = {  # names bound to 2-D pointer tiles: broadcast offsets or block pointers
        t.id
        for n in ast.walk(kernel)
        if isinstance(n, ast.Assign | ast.AugAssign)
        and (_is_2d(n.value, set()) or any(name == "make_block_ptr" for name, _ in _calls(n.value, tl + ".")))
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
        if isinstance(t, ast.Name)
    }
    looped = {
        id(n) for loop in ast.walk(kernel) if isinstance(loop, ast.For | ast.While) for n in ast.walk(loop)
    }
    loads = [call for name, call in calls if name == "load"]
    if any(id(c) in looped and c.args and _is_2d(c.args[0], tiled) for c in loads):
        return MemoryLevel.SHARED_MEMORY
    if any(name in REDUCTIONS for name, _ in calls) and not any(id(c) in looped for c in loads):
        return MemoryLevel.REGISTERS
    return MemoryLevel.GLOBAL_ONLY


def _count_launches(body: Iterable[ast.stmt], kernels: set[str]) -> float:
    """Launch sites run by ``body``: the larger branch of an if; any launch in a loop is many."""
    total = 0.0
    for stmt in body:
        if isinstance(stmt, ast.If):
            total += max(_count_launches(stmt.body, kernels), _count_launches(stmt.orelse, kernels))
        elif isinstance(stmt, ast.For | ast.While):
            total += math.inf if _count_launches(stmt.body, kernels) else 0.0
        else:
            total += sum(1 for _ in _launches(stmt, kernels))
    return total


Space = Mapping[str, list]


def _resolve(
    expr: ast.expr, local: Mapping[str, ast.expr], constants: Mapping[str, int], space: Space
) -> int | None:
    """The largest int ``expr`` can be: a literal, a module constant, or the CONFIG_SPACE keys it reads."""
    if isinstance(expr, ast.Name) and expr.id in local:
        return _resolve(local[expr.id], {}, constants, space)
    keys = [
        n.slice.value
        for n in ast.walk(expr)
        if isinstance(n, ast.Subscript) and _dotted(n.value) == "CONFIG" and isinstance(n.slice, ast.Constant)
    ]
    values = [v for k in keys for v in space.get(str(k), []) if type(v) is int]
    if values:
        return max(values)
    if isinstance(expr, ast.Constant) and type(expr.value) is int:
        return expr.value
    return constants.get(expr.id) if isinstance(expr, ast.Name) else None


def _largest_tile(model: ast.ClassDef, kernels: set[str], tree: ast.Module, space: Space) -> int | None:
    """The largest tile any launch in ModelNew asks for; None when every launch sizes it at run time."""
    constants = {
        t.id: n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant) and type(n.value.value) is int
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    tiles: list[int] = []
    for method in (n for n in model.body if isinstance(n, ast.FunctionDef)):
        local = {
            t.id: n.value
            for n in ast.walk(method)
            if isinstance(n, ast.Assign)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        for call in _launches(method, kernels):
            dims = [
                k.value
                for k in call.keywords
                if k.arg and "BLOCK" in k.arg.upper() and not k.arg.upper().endswith("_K")
            ]
            sizes = [_resolve(d, local, constants, space) for d in dims]
            if dims and None not in sizes:
                tiles.append(math.prod(s for s in sizes if s is not None))
    return max(tiles, default=None)


def _launch_bin(count: float | None) -> LaunchBin:
    if count is None:
        return LaunchBin.UNKNOWN
    return (
        [LaunchBin.ZERO, LaunchBin.ONE, LaunchBin.TWO][math.ceil(count - 1e-9)]
        if count <= 2
        else LaunchBin.MANY
    )


def describe(source: str, metrics: DescriptorInputs | None = None) -> KernelDescriptor:
    """The descriptor of one candidate source; ``metrics`` adds what a profile measured."""
    language = detect_language(source)
    try:
        tree = ast.parse(source)
        space = read_config_space(source)
    except (SyntaxError, ValueError, RecursionError, CandidateError):
        return KernelDescriptor(
            language, MemoryLevel.UNKNOWN, BlockClass.NONE, LaunchBin.UNKNOWN, False, SizeClass.SMALL
        )
    statements = sum(1 for n in ast.walk(tree) if isinstance(n, ast.stmt))
    size = SizeClass.SMALL if statements <= 30 else SizeClass.MEDIUM if statements <= 60 else SizeClass.LARGE
    aliases = {
        a.asname or a.name: f"{n.module}.{a.name}" if isinstance(n, ast.ImportFrom) else a.name
        for n in tree.body
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in n.names
    }
    tl = next((alias for alias, name in aliases.items() if name == "triton.language"), "triton.language")
    jit = [
        n
        for n in tree.body
        if isinstance(n, ast.FunctionDef)
        and any(word in ast.unparse(d) for d in n.decorator_list for word in ("jit", "autotune"))
    ]
    kernels = {k.name for k in jit}
    dots = any(name == "dot" for k in jit for name, _ in _calls(k, tl + "."))
    matmul = any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult) for n in ast.walk(tree)) or any(
        name.rsplit(".", 1)[-1] in MATMULS for name, _ in _calls(tree, "") if not name.startswith(tl + ".")
    )
    level = MemoryLevel.LIBRARY
    if language is Language.TRITON and jit:
        order = [MemoryLevel.GLOBAL_ONLY, MemoryLevel.REGISTERS, MemoryLevel.SHARED_MEMORY]
        level = max((_kernel_level(k, tl) for k in jit), key=order.index)
    model = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ModelNew"), None)
    launched = model is not None and any(True for _ in _launches(model, kernels))
    tile = _largest_tile(model, kernels, tree, space) if model is not None and launched else None
    block = BlockClass.NONE if not launched else BlockClass.ADAPTIVE
    if tile is not None:
        block = BlockClass.SMALL if tile <= 1024 else BlockClass.MEDIUM if tile <= 8192 else BlockClass.LARGE
    count: float | None = None
    if metrics is not None and metrics.launches_per_call is not None:
        count = metrics.launches_per_call
    elif kernels and model is not None:
        count = sum(_count_launches(m.body, kernels) for m in model.body if isinstance(m, ast.FunctionDef))
    exact = int(count) if count is not None and count < math.inf and float(count).is_integer() else None
    return KernelDescriptor(language, level, block, _launch_bin(count), dots or matmul, size, tile, exact)
