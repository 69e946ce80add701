"""Device discovery: the CPU is always described and measured; CUDA is never touched without a GPU."""

from __future__ import annotations

import shutil

import pytest
import torch

from evaluator.hardware.clocks import parse_smi_clocks, read_clocks
from evaluator.hardware.devices import (
    DeviceSpec,
    discover_devices,
    measure_cpu_copy_gbps,
    reset_persisting_l2,
)

needs_no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine without a GPU")


def test_cpu_entry_comes_first_with_a_measured_bandwidth() -> None:
    devices = discover_devices()
    cpu = devices[0]
    assert isinstance(cpu, DeviceSpec)
    assert (cpu.key, cpu.kind) == ("cpu", "cpu")
    assert cpu.name and cpu.memory_bytes > 0
    assert cpu.copy_gbps is not None and cpu.copy_gbps > 0
    assert cpu.peak is None and cpu.sm_count is None
    assert cpu.to_dict()["key"] == "cpu"
    assert [d.key for d in devices[1:]] == [f"cuda:{i}" for i in range(len(devices) - 1)]


def test_discovery_without_measurement_is_quick_and_leaves_bandwidth_unknown() -> None:
    assert discover_devices(measure_bandwidth=False)[0].copy_gbps is None


def test_cpu_copy_bandwidth_is_plausible() -> None:
    gbps = measure_cpu_copy_gbps(nbytes=32 * 1024**2, repeats=3)
    assert 0.1 < gbps < 10_000


@needs_no_gpu
def test_no_gpu_means_no_cuda_initialization_and_no_clocks() -> None:
    devices = discover_devices(measure_bandwidth=False)
    assert [d.key for d in devices] == ["cpu"]
    assert not torch.cuda.is_initialized()
    if shutil.which("nvidia-smi") is None:
        assert read_clocks(0) == {}
    assert reset_persisting_l2() is False
    assert not torch.cuda.is_initialized()


def test_nvidia_smi_line_parses_and_skips_unavailable_fields() -> None:
    clocks = parse_smi_clocks("1980, 2619, 1980, 2619, 112.45, 34, 550.54.15\n")
    assert clocks == {
        "sm_mhz": 1980.0,
        "mem_mhz": 2619.0,
        "max_sm_mhz": 1980.0,
        "max_mem_mhz": 2619.0,
        "power_w": 112.45,
        "temperature_c": 34.0,
        "driver_version": "550.54.15",
        "source": "nvidia-smi",
    }
    partial = parse_smi_clocks("1410, 1593, 1410, 1593, [N/A], 40, 535.104.05")
    assert "power_w" not in partial and partial["temperature_c"] == 40.0
    assert parse_smi_clocks("") == {} and parse_smi_clocks("a, b") == {}


@pytest.mark.gpu
def test_cuda_devices_are_described_and_measured() -> None:
    devices = discover_devices()
    cuda = [d for d in devices if d.kind == "cuda"]
    assert len(cuda) == torch.cuda.device_count()
    first = cuda[0]
    assert first.key == "cuda:0" and first.sm_count and first.memory_bytes > 0
    assert first.l2_bytes and first.l2_bytes > 1024**2
    assert first.copy_gbps is not None and first.copy_gbps > 50
    if first.peak is not None:  # a measured copy cannot beat the datasheet bandwidth
        assert first.copy_gbps < 1.05 * first.peak.memory_gbps
    if shutil.which("nvidia-smi"):
        assert first.clocks.get("max_sm_mhz", 0) > 0
        assert first.driver


@pytest.mark.gpu
def test_persisting_l2_reset_succeeds_on_a_gpu() -> None:
    assert reset_persisting_l2() is True
