"""``--scale-to-cpu``: size overrides that make a GPU-sized KernelBench file fit a small machine.

KernelBench files size their inputs with module-level integers (``batch_size = 4096``,
``dim = 16384``). On a CPU, such a file can need gigabytes and minutes per call. The overrides
found here halve those integers, the largest first, until one call's inputs plus the model's
parameters hold at most ``budget`` elements. Sizes are measured on PyTorch's ``meta`` device,
so nothing is allocated while searching; an integer whose halving changes nothing (a kernel
size used only inside the model, a constant) is left as written. The run records that it was
scaled down (``Problem.scaled_down``), and its speedups say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kernels.errors import ProblemError
from kernels.problem import import_problem_module

CPU_ELEMENT_BUDGET = 1 << 20  # about 4 MiB of fp32 per call: milliseconds on one core
SMALLEST = 8  # integers at or below this (kernel sizes, strides, heads) are not shrunk
MAX_STEPS = 200


def element_count(path: Path, overrides: Mapping[str, int]) -> int:
    """Elements in one call's inputs plus the model's parameters and buffers, on the meta device."""
    import torch

    module = import_problem_module(path, overrides)
    try:
        with torch.device("meta"):
            model = module.Model(*module.get_init_inputs())
            inputs = module.get_inputs()
    except Exception as exc:  # user code that cannot run on meta tensors
        raise ProblemError(
            f"problem file {path}: cannot size it on PyTorch's meta device ({type(exc).__name__}: {exc}); "
            "give the sizes with --size NAME=VALUE instead"
        ) from None
    tensors: list[Any] = [*model.parameters(), *model.buffers(), *_tensors(inputs)]
    return sum(int(t.numel()) for t in tensors)


def cpu_overrides(path: Path, budget: int = CPU_ELEMENT_BUDGET) -> dict[str, int]:
    """The module-level sizes to halve so one call fits ``budget`` elements; {} when it already does."""
    module = import_problem_module(path)
    sizes = {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, int)
        and not isinstance(value, bool)
        and not name.startswith("_")
        and value > SMALLEST
    }
    overrides: dict[str, int] = {}
    count = element_count(path, overrides)
    inert: set[str] = set()
    for _ in range(MAX_STEPS):
        if count <= budget:
            return overrides
        live = {
            n: overrides.get(n, v)
            for n, v in sizes.items()
            if n not in inert and overrides.get(n, v) > SMALLEST
        }
        if not live:
            break
        name = max(live, key=lambda n: (live[n], n))
        trial = {**overrides, name: max(live[name] // 2, SMALLEST)}
        smaller = element_count(path, trial)
        if smaller >= count:
            inert.add(name)  # it does not size the inputs
            continue
        overrides, count = trial, smaller
    raise ProblemError(
        f"problem file {path}: could not bring one call under {budget:,} elements by halving its "
        f"module-level sizes (at {count:,} with {overrides or 'no overrides'}); give --size NAME=VALUE"
    )


def _tensors(value: Any) -> list[Any]:
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, list | tuple):
        return [t for item in value for t in _tensors(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _tensors(item)]
    return []
