"""Profiler feedback for one candidate call, run inside the candidate's own process.

``profile_call`` wraps a few calls in ``torch.profiler`` and says where the time went: per
kernel on CUDA (device self time, from CUPTI), per operator on the CPU (host self time). The
roofline estimate uses the evaluator's measured median latency, not the profiled calls, since
the profiler adds overhead of its own. Nsight Compute, when installed, gives hardware counters
for the same call from outside the process; see ``evaluator.profiling.ncu``.

The profile is advice for the next proposal, never a measurement that ranks candidates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from time import perf_counter
from typing import Any

from evaluator.profiling.ncu import CURATED_METRICS, ncu_available, parse_ncu_csv, profile_with_ncu
from evaluator.profiling.report import (
    KernelTime,
    ProfileReport,
    aggregate,
    roofline_estimate,
    summary_line,
)
from evaluator.profiling.roofline import DevicePeak

__all__ = [
    "CURATED_METRICS",
    "KernelTime",
    "ProfileReport",
    "ncu_available",
    "parse_ncu_csv",
    "profile_call",
    "profile_with_ncu",
]

# CUDA runtime and driver API calls on the host, such as cudaLaunchKernel or cuLaunchKernelEx.
_RUNTIME_CALL = re.compile(r"^cu(da)?[A-Z]")
# Rows that are the profiler's own bookkeeping, not work the candidate asked for.
_IGNORED_PREFIXES = ("ProfilerStep", "[memory]", "cudaDeviceSynchronize", "cudaStreamSynchronize")


def profile_call(
    call: Callable[[], Any],
    device: str,
    *,
    flops: float | None = None,
    bytes_moved: float | None = None,
    median_us: float | None = None,
    peak: DevicePeak | None = None,
    repeats: int = 3,
    warmup: int = 1,
    half_precision: bool = False,
) -> ProfileReport:
    """Profile ``repeats`` calls after ``warmup`` unprofiled ones (compilation stays out of the profile).

    Without ``median_us`` the roofline uses the profiled busy time per call, which is noted.
    """
    import torch
    from torch.autograd.profiler import profile

    on_gpu = device.startswith("cuda")
    repeats = max(1, repeats)
    for _ in range(warmup):
        call()
    if on_gpu:
        torch.cuda.synchronize()
    # The autograd profiler that ``torch.profiler.profile`` wraps, for the same events: the wrapper
    # asks ``hasattr(torch, "_inductor")``, which imports Inductor and Dynamo, about 0.7 s of a
    # candidate's process that never compiles anything (``benchmarks/evaluator_overhead.py``).
    with profile(use_device="cuda" if on_gpu else None, use_kineto=True) as prof:
        start = perf_counter()
        for _ in range(repeats):
            call()
        if on_gpu:
            torch.cuda.synchronize()
        wall_us = (perf_counter() - start) * 1e6
    events = list(prof.key_averages())
    notes: list[str] = []
    device_rows = _device_rows(events) if on_gpu else []
    if on_gpu and not device_rows:
        notes.append("no device activity recorded (CUPTI unavailable?); showing host operators")
    kernels = aggregate(device_rows or _host_rows(events))
    busy_us = sum(k.total_us for k in kernels) / repeats
    latency_us = median_us
    if latency_us is None and busy_us > 0 and (flops or bytes_moved):
        latency_us = busy_us
        notes.append("roofline from profiled busy time; no measured median was given")
    roofline = roofline_estimate(latency_us, flops, bytes_moved, peak, half_precision)
    metrics = {
        "busy_us_per_call": busy_us,
        "wall_us_per_call": wall_us / repeats,
        "launches_per_call": sum(k.calls for k in kernels) / repeats,
        "distinct_kernels": float(len(kernels)),
        "profiled_calls": float(repeats),
    }
    if on_gpu and device_rows:
        host_us = sum(r[2] for r in _host_rows(events, include_runtime=True)) / repeats
        metrics["host_us_per_call"] = host_us
        metrics["device_busy_fraction"] = min(1.0, busy_us / metrics["wall_us_per_call"])
    return ProfileReport(
        source="torch_profiler",
        kernels=kernels,
        metrics=metrics,
        roofline=roofline,
        summary=summary_line(kernels, repeats, roofline, on_gpu and bool(device_rows)),
        profiled_calls=repeats,
        notes=notes,
    )


def _device_rows(events: list[Any]) -> list[tuple[str, int, float]]:
    """Kernels, memcpys and memsets: device-side events, user annotations left out."""
    rows = []
    for evt in events:
        if _kind(evt) == "CUDA" and not getattr(evt, "is_user_annotation", False):
            self_us = float(evt.self_device_time_total)
            if self_us > 0 and not evt.key.startswith(_IGNORED_PREFIXES):
                rows.append((str(evt.key), int(evt.count), self_us))
    return rows


def _host_rows(events: list[Any], include_runtime: bool = False) -> list[tuple[str, int, float]]:
    """Host operators by self time; CUDA runtime calls only when asked (they are launch overhead)."""
    rows = []
    for evt in events:
        if _kind(evt) != "CPU" or getattr(evt, "is_user_annotation", False):
            continue
        key = str(evt.key)
        if key.startswith(_IGNORED_PREFIXES) or (not include_runtime and _RUNTIME_CALL.match(key)):
            continue
        self_us = float(evt.self_cpu_time_total)
        if self_us > 0:
            rows.append((key, int(evt.count), self_us))
    return rows


def _kind(evt: Any) -> str:
    kind = getattr(evt, "device_type", None)
    return str(getattr(kind, "name", kind)).rsplit(".", 1)[-1]
