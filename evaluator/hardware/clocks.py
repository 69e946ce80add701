"""The clocks, power, temperature and driver a measurement ran under, recorded beside it.

A speedup measured while the GPU was throttled or boosting differs from one at steady clocks;
recording them lets a reader compare like with like. NVML where ``pynvml`` is importable, else
``nvidia-smi``; on the CPU, the current and maximum frequency.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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


def cpu_clocks() -> dict[str, float | str]:
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
