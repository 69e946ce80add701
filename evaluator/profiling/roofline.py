"""Achieved throughput and the share of the device's peak, from the problem's declared work.

Peaks are datasheet figures for dense math and HBM bandwidth; a measured share above 1.0
means the timing or the declared work is wrong, and the evaluator treats it as suspect.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DevicePeak:
    memory_gbps: float
    tflops_fp32: float
    tflops_fp16: float


# Matched by substring of the CUDA device name, most specific first.
KNOWN_PEAKS: tuple[tuple[str, DevicePeak], ...] = (
    ("H200", DevicePeak(memory_gbps=4800.0, tflops_fp32=67.0, tflops_fp16=989.0)),
    ("H100 PCIe", DevicePeak(memory_gbps=2000.0, tflops_fp32=51.0, tflops_fp16=756.0)),
    ("H100", DevicePeak(memory_gbps=3350.0, tflops_fp32=67.0, tflops_fp16=989.0)),
    ("A100", DevicePeak(memory_gbps=2039.0, tflops_fp32=19.5, tflops_fp16=312.0)),
    ("L40S", DevicePeak(memory_gbps=864.0, tflops_fp32=91.6, tflops_fp16=362.0)),
    ("L4", DevicePeak(memory_gbps=300.0, tflops_fp32=30.3, tflops_fp16=121.0)),
)


def peak_for(device_name: str) -> DevicePeak | None:
    for marker, peak in KNOWN_PEAKS:
        if marker in device_name:
            return peak
    return None


@dataclass(frozen=True)
class Throughput:
    gbps: float | None
    tflops: float | None
    peak_fraction: float | None


def throughput(
    median_us: float,
    flops: float | None,
    bytes_moved: float | None,
    peak: DevicePeak | None,
    half_precision: bool = False,
) -> Throughput:
    """GB/s and TFLOP/s achieved, and the larger of the two shares of peak (the binding roof)."""
    seconds = median_us * 1e-6
    if seconds <= 0:
        return Throughput(None, None, None)
    gbps = bytes_moved / seconds / 1e9 if bytes_moved else None
    tflops = flops / seconds / 1e12 if flops else None
    fraction = None
    if peak is not None:
        shares = []
        if gbps is not None:
            shares.append(gbps / peak.memory_gbps)
        if tflops is not None:
            shares.append(tflops / (peak.tflops_fp16 if half_precision else peak.tflops_fp32))
        fraction = max(shares) if shares else None
    return Throughput(gbps, tflops, fraction)
