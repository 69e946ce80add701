"""Building a profile report: kernels merged by name, the roofline position, the one-line summary.

The report's types (``ProfileReport``, ``KernelTime``, ``RooflinePosition``) are shared value types
in ``evaluator.types``, so the agent and the store read them without this module's callers.
"""

from __future__ import annotations

from evaluator.profiling.roofline import DevicePeak, throughput
from evaluator.types import KernelTime, ProfileReport, RooflinePosition

__all__ = [
    "KernelTime",
    "ProfileReport",
    "RooflinePosition",
    "aggregate",
    "roofline_estimate",
    "summary_line",
]

SUMMARY_LIMIT = 200
NAME_LIMIT = 40


def aggregate(rows: list[tuple[str, int, float]]) -> list[KernelTime]:
    """(name, calls, self_us) rows, merged by name and sorted by time, with each one's share."""
    merged: dict[str, list[float]] = {}
    for name, calls, self_us in rows:
        slot = merged.setdefault(name, [0, 0.0])
        slot[0] += calls
        slot[1] += self_us
    total = sum(us for _, us in merged.values())
    kernels = [
        KernelTime(name, int(calls), us, us / total if total > 0 else 0.0)
        for name, (calls, us) in merged.items()
    ]
    return sorted(kernels, key=lambda k: k.total_us, reverse=True)


def roofline_estimate(
    latency_us: float | None,
    flops: float | None,
    bytes_moved: float | None,
    peak: DevicePeak | None,
    half_precision: bool = False,
) -> RooflinePosition:
    """Achieved GB/s and TFLOP/s from the declared work, the share of peak, and which roof binds.

    With both kinds of work and a peak, the bound comes from the arithmetic intensity against the
    device's ridge point. With one kind declared, that kind is the only roof we can speak to.
    """
    if not latency_us or latency_us <= 0 or not (flops or bytes_moved):
        return RooflinePosition(latency_us=latency_us)
    speed = throughput(latency_us, flops, bytes_moved, peak, half_precision)
    peak_tflops = None
    if peak is not None:
        peak_tflops = peak.tflops_fp16 if half_precision else peak.tflops_fp32
    memory_fraction = speed.gbps / peak.memory_gbps if peak and speed.gbps is not None else None
    compute_fraction = speed.tflops / peak_tflops if peak_tflops and speed.tflops is not None else None
    bound: str | None
    if flops and bytes_moved and peak is not None and peak_tflops:
        ridge = peak_tflops * 1e12 / (peak.memory_gbps * 1e9)  # FLOP per byte where the roofs meet
        bound = "memory" if flops / bytes_moved < ridge else "compute"
    elif bytes_moved and not flops:
        bound = "memory"
    elif flops and not bytes_moved:
        bound = "compute"
    else:
        bound = None  # both declared, no peak to place the ridge
    return RooflinePosition(
        latency_us=latency_us,
        achieved_gbps=speed.gbps,
        achieved_tflops=speed.tflops,
        peak_fraction=speed.peak_fraction,
        memory_fraction=memory_fraction,
        compute_fraction=compute_fraction,
        bound=bound,
    )


def short_kernel_name(name: str, limit: int = NAME_LIMIT) -> str:
    """``void ns::kernel<T, 4>(float*, int)`` becomes ``kernel``: enough to recognize, short to quote."""
    text = name.strip()
    if "(" not in text and "<" not in text:  # an operator or Triton name: already short
        return text if len(text) <= limit else text[: limit - 3] + "..."
    if text.startswith("void "):
        text = text[5:]
    text = _strip_bracketed(text, "(", ")")
    text = _strip_bracketed(text, "<", ">")
    text = text.split("::")[-1].strip() or name.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _strip_bracketed(text: str, open_: str, close: str) -> str:
    out, depth = [], 0
    for ch in text:
        if ch == open_:
            depth += 1
        elif ch == close and depth:
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def format_us(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.2f} s"
    if us >= 1e3:
        return f"{us / 1e3:.1f} ms"
    return f"{us:.1f} us"


def summary_line(
    kernels: list[KernelTime],
    profiled_calls: int,
    roofline: RooflinePosition,
    on_gpu: bool,
    extras: list[str] | None = None,
) -> str:
    """One line under ``SUMMARY_LIMIT`` characters; optional parts are dropped before it is cut."""
    unit = "kernel" if on_gpu else "op"
    parts = [f"{len(kernels)} {unit}{'' if len(kernels) == 1 else 's'}"]
    if kernels:
        per_call = sum(k.total_us for k in kernels) / max(profiled_calls, 1)
        top = kernels[0]
        parts.append(f"top: {short_kernel_name(top.name)} {top.share:.0%} of {format_us(per_call)}")
    roof = _roofline_phrase(roofline, on_gpu)
    if roof:
        parts.append(roof)
    line = "; ".join(parts)
    for extra in extras or []:
        candidate = f"{line}; {extra}"
        if len(candidate) < SUMMARY_LIMIT:
            line = candidate
    if len(line) >= SUMMARY_LIMIT:
        line = line[: SUMMARY_LIMIT - 4] + "..."
    return line


def _roofline_phrase(roofline: RooflinePosition, on_gpu: bool) -> str:
    gbps, tflops, bound = roofline.achieved_gbps, roofline.achieved_tflops, roofline.bound
    memory_share, compute_share = roofline.memory_fraction, roofline.compute_fraction
    memory = "HBM" if on_gpu else "memory"
    if isinstance(gbps, float) and (bound == "memory" or not isinstance(tflops, float)):
        text = f"{gbps:.0f} GB/s" if gbps >= 10 else f"{gbps:.2f} GB/s"
        if isinstance(memory_share, float):
            text += f" = {memory_share:.0%} of peak {memory} bandwidth"
    elif isinstance(tflops, float):
        text = f"{tflops:.1f} TFLOP/s" if tflops >= 1 else f"{tflops * 1e3:.0f} GFLOP/s"
        if isinstance(compute_share, float):
            text += f" = {compute_share:.0%} of peak compute"
    else:
        return ""
    return f"{text} ({bound}-bound)" if bound else text
