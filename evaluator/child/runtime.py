"""Helpers that run inside evaluator child processes (candidate and reference alike)."""

from __future__ import annotations

import platform
import re
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from evaluator.hardware.clocks import nvidia_driver, read_clocks
from evaluator.hardware.devices import cpu_name
from evaluator.types import DeviceInfo, Status

# A kernel fault poisons the whole CUDA context: nothing more can run in this process.
CONTEXT_CORRUPTION_MARKERS = (
    "illegal memory access",
    "illegal address",
    "unspecified launch failure",
    "misaligned address",
    "device-side assert",
    "an illegal instruction",
)
OOM_MARKERS = ("out of memory", "can't allocate memory", "cannot allocate memory", "std::bad_alloc")
# Errors whose own text does not say what to do: a hint is added to the reason.
HINTS = (
    (
        "0 active drivers",
        "Triton found no GPU driver: under TRITON_INTERPRET, triton.autotune cannot benchmark its"
        " configs; tune them through CONFIG_SPACE instead, or evaluate on a GPU",
    ),
)


class NotPlainOutput(Exception):
    """The call returned something other than plain tensors."""


def classify_exception(exc: BaseException) -> tuple[Status, str]:
    """Map an exception from candidate code to a status and a one-line reason."""
    text = f"{type(exc).__name__}: {exc}".strip()
    lowered = text.lower()
    if isinstance(exc, MemoryError | torch.OutOfMemoryError) or any(m in lowered for m in OOM_MARKERS):
        return Status.OUT_OF_MEMORY, _one_line(text)
    if any(m in lowered for m in CONTEXT_CORRUPTION_MARKERS):
        return Status.CRASHED, _one_line(f"the CUDA context is corrupted: {text}")
    hints = [hint for marker, hint in HINTS if marker in lowered]
    return Status.RUNTIME_ERROR, _one_line("; ".join([*hints, text]))


def last_frame_in(exc: BaseException, filename: str) -> str:
    """Where in the candidate's own file the exception came from, for a readable reason."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    return f" (line {frames[-1].lineno}: {frames[-1].line})" if frames else ""


def _one_line(text: str, limit: int = 400) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def as_list(out: Any) -> list[Any]:
    return list(out) if isinstance(out, tuple | list) else [out]


def plain_outputs(out: Any) -> list[torch.Tensor]:
    """The outputs as a list of plain tensors; subclasses, views of odd types or other objects fail."""
    items = as_list(out)
    if not items:
        raise NotPlainOutput("returned an empty sequence")
    for item in items:
        if type(item) is not torch.Tensor:
            raise NotPlainOutput(
                f"returned {type(item).__module__}.{type(item).__qualname__}, not a plain torch.Tensor"
            )
        if item.layout is not torch.strided or item.device.type not in ("cpu", "cuda"):
            raise NotPlainOutput(
                f"returned a {item.layout} tensor on {item.device.type}, not a dense one in memory"
            )
    return items


def wait_for_file(path: str | Path, timeout_s: float = 600.0) -> Path:
    """The file the evaluator delivers on request (a probe's inputs), once it is there; the stage
    limit stops a wait that never ends sooner than this."""
    target = Path(path)
    deadline = time.monotonic() + timeout_s
    while not target.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{target.name} never arrived")
        time.sleep(0.002)
    return target


def to_device(values: Sequence[Any], device: str) -> list[Any]:
    return [v.to(device) if isinstance(v, torch.Tensor) else v for v in values]


def clone_all(values: Sequence[Any]) -> list[Any]:
    return [v.clone() if isinstance(v, torch.Tensor) else v for v in values]


class PeakMemory:
    """Peak memory of one call: the CUDA allocator's peak, or the process's resident high-water mark."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.peak_bytes: int | None = None

    def __enter__(self) -> PeakMemory:
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._base = torch.cuda.memory_allocated()
        else:
            _reset_rss_peak()
            self._base = _status_kb("VmRSS") * 1024
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()
            self.peak_bytes = max(0, torch.cuda.max_memory_allocated() - self._base)
        else:
            self.peak_bytes = max(0, _status_kb("VmHWM") * 1024 - self._base)


def _reset_rss_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _status_kb(field: str) -> int:
    try:
        match = re.search(rf"{field}:\s+(\d+)", Path("/proc/self/status").read_text())
    except OSError:
        return 0
    return int(match.group(1)) if match else 0


def device_info(device: str) -> DeviceInfo:
    """Describe the device this child runs on, with the library versions it used."""
    try:
        import triton

        triton_version: str | None = triton.__version__
    except ImportError:
        triton_version = None
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(0)
        extra = {
            "sm_count": props.multi_processor_count,
            "memory_bytes": props.total_memory,
            "capability": f"{props.major}.{props.minor}",
            "cuda_runtime": torch.version.cuda,
            "clocks": read_clocks(int(device.split(":")[1]) if ":" in device else 0),
        }
        return DeviceInfo(
            device, "cuda", props.name, nvidia_driver(), torch.__version__, triton_version, extra
        )
    extra = {"threads": torch.get_num_threads(), "machine": platform.machine()}
    return DeviceInfo("cpu", "cpu", cpu_name(), None, torch.__version__, triton_version, extra)
