"""The evaluator: runs each candidate in a sandboxed process and judges it against the reference.

The tree follows the process boundary, so what runs where is visible from the folders:

* this folder: the trusted parent. ``evaluate.Evaluator`` orchestrates one evaluation,
  ``observer`` checks every message and output a child sends, ``reference`` prepares the
  reference once, ``executor`` runs candidates side by side (``ray_executor`` on a Ray
  cluster), ``limits`` and ``types`` are the values every layer shares.
* ``child/``: what runs beside untrusted candidate code, in its process: the harness and the
  candidate's stages, the call guards, the leftover checks, and the reference's own runner.
* ``sandbox/``: the walls around a child: starting and supervising it (``process``), what it
  applies to itself first (``confine``), Landlock, cgroups, namespaces and the launcher.
* ``wire/``: what crosses between parent and child: job and message types, tensor files,
  deliveries of inputs on request.
* ``checks/``: the verdicts' rules: static gate, correctness, spot checks, probes, inputs,
  plausibility.
* ``timing/``: how a call is timed: stats, the sampling loop, CUDA events with the L2 flush,
  CUDA graphs, and which method a shape gets.
* ``profiling/``: torch profiler, Nsight Compute, roofline. ``hardware/``: devices and clocks.

Importing this package loads nothing heavy; the public names below load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "Evaluator": "evaluator.evaluate",
    "EvalLimits": "evaluator.limits",
    "LocalExecutor": "evaluator.executor",
    "MultiDeviceExecutor": "evaluator.executor",
    "RayExecutor": "evaluator.ray_executor",
    "discover_devices": "evaluator.hardware.devices",
    "EvalResult": "evaluator.types",
    "Status": "evaluator.types",
    "Stage": "evaluator.types",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    """The public API, imported when first asked for (PEP 562), so ``import evaluator.types``
    stays free of torch."""
    if name not in _PUBLIC:
        raise AttributeError(f"module 'evaluator' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)
