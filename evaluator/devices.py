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
import shutil
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evaluator.errors import EvaluatorError
from evaluator.roofline import DevicePeak, peak_for


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
    entry from ``evaluator.roofline``, where one is known.
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
        clocks=_cpu_clocks(),
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


# nvidia-smi fields, in query order, and the keys read_clocks returns them under.
_SMI_FIELDS = (
    ("clocks.sm", "sm_mhz"),
    ("clocks.mem", "mem_mhz"),
    ("clocks.max.sm", "max_sm_mhz"),
    ("clocks.max.mem", "max_mem_mhz"),
    ("power.draw", "power_w"),
    ("temperature.gpu", "temperature_c"),
    ("driver_version", "driver_version"),
)


def read_clocks(index: int, pci_bus_id: str | None = None) -> dict[str, float | str]:
    """Current and maximum SM and memory clocks (MHz), power (W), temperature (C) and the driver.

    NVML through ``pynvml`` where importable, else ``nvidia-smi``; ``{}`` when neither answers.
    NVML and nvidia-smi number GPUs in PCI order, which need not be CUDA's: pass the device's
    ``pci_bus_id`` (as ``discover_devices`` does) to be sure of reading the same GPU.
    """
    return _clocks_from_nvml(index, pci_bus_id) or _clocks_from_smi(index, pci_bus_id)


def _clocks_from_nvml(index: int, pci_bus_id: str | None) -> dict[str, float | str]:
    try:
        import pynvml
    except ImportError:
        return {}
    try:
        pynvml.nvmlInit()
    except Exception:  # NVMLError: no driver or no GPU; NVML is optional
        return {}
    try:
        handle = (
            pynvml.nvmlDeviceGetHandleByPciBusId(pci_bus_id)
            if pci_bus_id
            else pynvml.nvmlDeviceGetHandleByIndex(index)
        )
        driver = pynvml.nvmlSystemGetDriverVersion()
        return {
            "sm_mhz": float(pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_SM)),
            "mem_mhz": float(pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_MEM)),
            "max_sm_mhz": float(pynvml.nvmlDeviceGetMaxClockInfo(handle, pynvml.NVML_CLOCK_SM)),
            "max_mem_mhz": float(pynvml.nvmlDeviceGetMaxClockInfo(handle, pynvml.NVML_CLOCK_MEM)),
            "power_w": pynvml.nvmlDeviceGetPowerUsage(handle) / 1e3,
            "temperature_c": float(pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU)),
            "driver_version": driver.decode() if isinstance(driver, bytes) else str(driver),
            "source": "nvml",
        }
    except Exception:  # any NVMLError (not supported on this GPU, lost device): fall back
        return {}
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass


def _clocks_from_smi(index: int, pci_bus_id: str | None) -> dict[str, float | str]:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return {}
    query = ",".join(name for name, _ in _SMI_FIELDS)
    cmd = [smi, f"--query-gpu={query}", "--format=csv,noheader,nounits", "-i", pci_bus_id or str(index)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if done.returncode != 0:
        return {}
    return parse_smi_clocks(done.stdout)


def parse_smi_clocks(text: str) -> dict[str, float | str]:
    """One ``nvidia-smi --query-gpu`` CSV line into named values; ``[N/A]`` fields are left out."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return {}
    cells = [cell.strip() for cell in lines[0].split(",")]
    if len(cells) != len(_SMI_FIELDS):
        return {}
    clocks: dict[str, float | str] = {}
    for (_, key), cell in zip(_SMI_FIELDS, cells, strict=True):
        if key == "driver_version":
            clocks[key] = cell
            continue
        try:
            clocks[key] = float(cell)
        except ValueError:
            continue  # "[N/A]", "[Not Supported]"
    clocks["source"] = "nvidia-smi"
    return clocks


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


def _cpu_clocks() -> dict[str, float | str]:
    import psutil

    try:
        freq = psutil.cpu_freq()
    except (OSError, NotImplementedError):
        freq = None
    clocks: dict[str, float | str] = {"logical_cores": float(psutil.cpu_count() or 0)}
    if freq is not None and freq.current:
        clocks["cpu_mhz"] = float(freq.current)
        if freq.max:
            clocks["max_cpu_mhz"] = float(freq.max)
    return clocks


def nvidia_driver() -> str | None:
    try:
        return Path("/proc/driver/nvidia/version").read_text().split("Kernel Module")[1].split()[0]
    except (OSError, IndexError):
        return None
