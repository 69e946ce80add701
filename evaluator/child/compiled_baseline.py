"""``torch.compile`` of the reference, timed in the reference's process: what a user would run
instead of a Crucible kernel, so every speedup can also be read against it.

Each shape gets a fresh static compilation (``dynamic=False`` after a dynamo reset), so no shape
is timed through a kernel generalised for another. It is warmed on every input set, which is
where compilation happens, then timed by the method the candidates use on that shape. A
compilation that fails or raises is reported as the shape's ``error``: the eager figures, and
with them every verdict, never depend on it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from evaluator.timing.methods import shape_method, time_call
from evaluator.timing.stats import TimingPlan, TimingStats
from evaluator.wire.messages import BaselineTimed


def time_compiled(
    model: Any,
    mode: str,
    device: str,
    shape: str,
    input_sets: Sequence[Sequence[Any]],
    plan: TimingPlan,
    eager: TimingStats,
) -> BaselineTimed:
    import torch

    try:
        torch._dynamo.reset()
        compiled: Callable[..., Any] = torch.compile(model, mode=mode, dynamic=False)

        def call(inputs: Any) -> Any:
            with torch.no_grad():
                return compiled(*inputs)

        for inputs in input_sets:
            call(inputs)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        same_as_candidates = dataclasses.replace(plan, method=shape_method(eager))
        figures = time_call(device, call, input_sets, same_as_candidates)
    except Exception as exc:  # any failure of the compiler is the baseline's, not the run's
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return BaselineTimed(shape, mode, error=f"{type(exc).__name__}: {message}"[:300])
    return BaselineTimed(shape, mode, tuple(figures))
