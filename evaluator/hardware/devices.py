"""Devices: names (``cpu`` or ``cuda:N``) validated before any work starts, and what each one is.

``discover_devices`` describes the CPU and every CUDA device with a measured copy bandwidth
and the clocks at that moment, so a result can say what it ran on and how fast that was.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import platform
import re
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evaluator.errors import EvaluatorError
from evaluator.hardware.clocks import cpu_clocks, nvidia_driver, read_clocks
from evaluator.profiling.roofline import DevicePeak, peak_for


def normalize_device(device: str) -> str:
    """``cuda`` becomes ``cuda:0``; anything but cpu/cuda[:N] is refused with the accepted forms."""
    text = device.strip().lower()
    if text in ("cpu", "cuda:all"):
        return text
    if text == "cuda":
        text = "cuda:0"
    if not re.fullmatch(r"cuda:\d+", text):
        raise EvaluatorError(f"unknown device {device!r}; use 'cpu', 'cuda', 'cuda:N' or 'cuda:all'")
    return text


def slot_devices(device: str) -> list[str]:
    """The devices a run uses: ``cuda:all`` is every visible GPU, one evaluation slot each."""
    if device != "cuda:all":
        return [device]
    import torch

    return [f"cuda:{i}" for i in range(torch.cuda.device_count())]


def check_device_available(device: str) -> str:
    """Normalize and make sure a CUDA device exists, so a run never starts on a missing GPU."""
    name = normalize_device(device)
    if name.startswith("cuda"):
        import torch

        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = 0 if name == "cuda:all" else int(name.split(":")[1])
        if index >= count:
            raise EvaluatorError(
                f"device {name} requested but this machine has {count} CUDA device(s); try --device cpu"
            )
    return name


@dataclass(frozen=True)
class DeviceSpec:
    """One device as discovered: what it is, what it measured, and its clocks at discovery time.

    ``copy_gbps`` counts the bytes read plus the bytes written by a large copy (as STREAM's copy
    does), so it is comparable with a datasheet's memory bandwidth. ``peak`` is the datasheet
    entry from ``evaluator.profiling.roofline``, where one is known.
    """

    key: str
    kind: str
    name: str
    memory_bytes: int
    sm_count: int | None
    l2_bytes: int | None
    copy_gbps: float | None
    peak: DevicePeak | None
    driver: str | None
    clocks: dict[str, float | str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def discover_devices(measure_bandwidth: bool = True) -> list[DeviceSpec]:
    """The CPU, then every visible CUDA device. CUDA is never initialized when none is present."""
    import torch

    devices = [_cpu_spec(measure_bandwidth)]
    if torch.cuda.is_available():  # does not create a context; a CPU build answers False at once
        devices.extend(_cuda_spec(i, measure_bandwidth) for i in range(torch.cuda.device_count()))
    return devices


def _cpu_spec(measure_bandwidth: bool) -> DeviceSpec:
    import psutil

    return DeviceSpec(
        key="cpu",
        kind="cpu",
        name=cpu_name(),
        memory_bytes=int(psutil.virtual_memory().total),
        sm_count=None,
        l2_bytes=_cpu_cache_bytes(level=2),
        copy_gbps=measure_cpu_copy_gbps() if measure_bandwidth else None,
        peak=None,
        driver=None,
        clocks=cpu_clocks(),
    )


def _cuda_spec(index: int, measure_bandwidth: bool) -> DeviceSpec:
    import torch

    props = torch.cuda.get_device_properties(index)
    clocks = read_clocks(index, pci_bus_id=_pci_bus_id(props))
    driver = clocks.get("driver_version")
    return DeviceSpec(
        key=f"cuda:{index}",
        kind="cuda",
        name=props.name,
        memory_bytes=int(props.total_memory),
        sm_count=int(props.multi_processor_count),
        l2_bytes=int(getattr(props, "L2_cache_size", 0)) or None,
        copy_gbps=measure_cuda_copy_gbps(index) if measure_bandwidth else None,
        peak=peak_for(props.name),
        driver=str(driver) if driver is not None else nvidia_driver(),
        clocks=clocks,
    )


def measure_cpu_copy_gbps(nbytes: int = 256 * 1024**2, repeats: int = 5) -> float:
    """Best of a few large ``copy_`` calls: big enough to leave the caches, with pages touched first."""
    import torch

    src = torch.ones(nbytes, dtype=torch.uint8)
    dst = torch.empty_like(src)
    dst.copy_(src)  # faults the destination's pages in before timing
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        dst.copy_(src)
        best = min(best, time.perf_counter() - start)
    return 2 * nbytes / best / 1e9


def measure_cuda_copy_gbps(index: int, nbytes: int = 512 * 1024**2, repeats: int = 10) -> float:
    """Median of device-to-device copies timed with events: the bandwidth a copy kernel reaches."""
    import torch

    with torch.cuda.device(index):
        src = torch.ones(nbytes, dtype=torch.uint8, device=f"cuda:{index}")
        dst = torch.empty_like(src)
        dst.copy_(src)
        torch.cuda.synchronize()
        times_ms = []
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            dst.copy_(src)
            end.record()
            end.synchronize()
            times_ms.append(start.elapsed_time(end))
        del src, dst
        torch.cuda.empty_cache()
    return 2 * nbytes / (statistics.median(times_ms) / 1e3) / 1e9


def _pci_bus_id(props: Any) -> str | None:
    """NVML's ``domain:bus:device.function`` form, from torch's device properties where it has them."""
    try:
        return f"{props.pci_domain_id:08X}:{props.pci_bus_id:02X}:{props.pci_device_id:02X}.0"
    except (AttributeError, TypeError, ValueError):
        return None


def reset_persisting_l2() -> bool:
    """Reset the CUDA context's persisting L2 lines (``cudaCtxResetPersistingL2Cache``).

    A kernel may mark data as persisting in L2, where it would survive the timing loop's L2
    flush. This calls the runtime torch itself loaded, so it acts on torch's current device.
    False when there is no CUDA device, no runtime library, or the call fails.
    """
    import torch

    if not torch.cuda.is_available():
        return False
    library = _cudart()
    function = getattr(library, "cudaCtxResetPersistingL2Cache", None) if library is not None else None
    if function is None:
        return False
    torch.cuda.init()  # the runtime call must find torch's context current, not make its own
    function.restype = ctypes.c_int
    function.argtypes = []
    return bool(function() == 0)


@functools.cache
def _cudart() -> ctypes.CDLL | None:
    """The libcudart torch loaded (from this process's memory map), else one the loader finds."""
    candidates = []
    try:
        for line in Path("/proc/self/maps").read_text().splitlines():
            match = re.search(r"(/\S*libcudart\.so[.\d]*)$", line)
            if match and match.group(1) not in candidates:
                candidates.append(match.group(1))
    except OSError:
        pass
    found = ctypes.util.find_library("cudart")
    candidates += [c for c in (found, "libcudart.so.13", "libcudart.so.12", "libcudart.so") if c]
    for name in candidates:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_cache_bytes(level: int) -> int | None:
    """The size of one core's cache at ``level`` from sysfs (unified or data cache)."""
    root = Path("/sys/devices/system/cpu/cpu0/cache")
    try:
        for entry in sorted(root.glob("index*")):
            if (entry / "level").read_text().strip() != str(level):
                continue
            if (entry / "type").read_text().strip() not in ("Unified", "Data"):
                continue
            return _size_bytes((entry / "size").read_text().strip())
    except OSError:
        return None
    return None


def _size_bytes(text: str) -> int | None:
    match = re.fullmatch(r"(\d+)\s*([KMG]?)", text)
    if not match:
        return None
    return int(match.group(1)) * {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[match.group(2)]
