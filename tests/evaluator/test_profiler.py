"""Profiler feedback: a real torch.profiler run on the CPU, the ncu CSV parser, and the one-line summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from evaluator.profiling.ncu import build_ncu_command, ncu_available, ncu_report, parse_ncu_csv
from evaluator.profiling.report import (
    SUMMARY_LIMIT,
    KernelTime,
    roofline_estimate,
    short_kernel_name,
    summary_line,
)
from evaluator.profiling.roofline import DevicePeak, peak_for
from evaluator.profiling.torch_profiler import profile_call
from evaluator.types import Profile, RooflinePosition

H100 = DevicePeak(memory_gbps=3350.0, tflops_fp32=67.0, tflops_fp16=989.0)

# What `ncu --csv --print-units base --metrics <curated> python run.py` writes: ncu's own
# ==PROF== lines, the program's output, then one row per (launch, metric). Launches 0 and 2 are
# the same kernel; launch 1 is a small fill kernel. Values carry thousands separators.
NCU_CSV = (Path(__file__).parent / "ncu_sample.csv").read_text()


def test_cpu_profile_names_the_top_op_and_shares_sum_to_one() -> None:
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    # The matmul does ~100x the work of the relu on a 16-row slice of its output.
    report = profile_call(lambda: (a @ b)[:16].relu(), "cpu", bytes_moved=3 * a.numel() * 4, median_us=100.0)
    assert report.source == "torch_profiler"
    assert report.kernels[0].name == "aten::mm"
    assert report.kernels[0].calls == 3  # once per profiled call
    assert sum(k.share for k in report.kernels) == pytest.approx(1.0)
    assert len(report.summary) < SUMMARY_LIMIT
    assert "aten::mm" in report.summary
    assert "GB/s" in report.summary and "memory-bound" in report.summary
    assert report.roofline.achieved_gbps == pytest.approx(3 * 512 * 512 * 4 / 100e-6 / 1e9)
    assert report.metrics["busy_us_per_call"] > 0
    assert report.metrics["profiled_calls"] == 3


def test_cpu_profile_without_declared_work_has_no_roofline() -> None:
    x = torch.randn(256, 1024)
    report = profile_call(lambda: torch.softmax(x, dim=-1), "cpu", repeats=2)
    assert report.roofline.bound is None and report.roofline.achieved_gbps is None
    assert "GB/s" not in report.summary
    assert "softmax" in report.kernels[0].name
    assert not report.notes  # no work declared: nothing estimated, nothing to explain


def test_profile_round_trips_through_the_stores_json() -> None:
    x = torch.randn(128, 128)
    report = profile_call(lambda: x * 2, "cpu", flops=128 * 128, bytes_moved=2 * 128 * 128 * 4)
    profile = Profile(summary=f"a: {report.summary}", shapes={"a": report})
    again = Profile.from_dict(json.loads(json.dumps(profile.to_dict())))
    assert again == profile and isinstance(again.shapes["a"].roofline, RooflinePosition)


def test_a_flat_ncu_entry_from_the_store_is_read_too() -> None:
    flat = {"shape": "wide", "source": "ncu", "kernels": [], "metrics": {}, "roofline": {}, "summary": "s"}
    profile = Profile.from_dict({"summary": "wide: s", "shapes": {}, "ncu": flat})
    assert profile.ncu is not None and profile.ncu.report is not None
    assert profile.ncu.shape == "wide" and profile.ncu.report.source == "ncu"


def test_ncu_csv_parser_reads_launches_units_and_separators() -> None:
    launches = parse_ncu_csv(NCU_CSV)
    assert [launch.id for launch in launches] == [0, 1, 2]
    first, fill = launches[0], launches[1]
    assert first.kernel == "softmax_kernel"
    assert first.block == "(128, 1, 1)" and first.grid == "(4096, 1, 1)" and first.device == "0"
    assert first.values["gpu__time_duration.sum"] == pytest.approx(40.0)  # 40,000 ns in us
    assert fill.values["gpu__time_duration.sum"] == pytest.approx(10.0)  # usecond kept
    assert first.values["dram__throughput.avg.pct_of_peak_sustained_elapsed"] == pytest.approx(86.12)
    assert "lts__t_sector_hit_rate.pct" not in fill.values  # n/a left out
    assert parse_ncu_csv("==PROF== No kernels were profiled.\n") == []


def test_ncu_report_weights_metrics_by_time_and_builds_a_summary() -> None:
    report = ncu_report(parse_ncu_csv(NCU_CSV), calls=2, bytes_moved=2 * 4096 * 4096 * 4, peak=H100)
    assert report.source == "ncu"
    assert report.kernels[0].name == "softmax_kernel"
    assert report.kernels[0].calls == 2 and report.kernels[0].total_us == pytest.approx(80.0)
    assert report.kernels[0].share == pytest.approx(80 / 90)
    assert report.metrics["gpu_time_us"] == pytest.approx(45.0)  # 90 us over 2 calls
    dram = (86.12 * 40 + 40.0 * 10 + 85.88 * 40) / 90
    assert report.metrics["dram_throughput_pct"] == pytest.approx(dram)
    assert report.metrics["l2_hit_rate_pct"] == pytest.approx(12.5)  # the fill kernel had n/a
    assert report.roofline.latency_us == pytest.approx(45.0)
    assert report.roofline.bound == "memory"
    assert len(report.summary) < SUMMARY_LIMIT
    assert report.summary.startswith("2 kernels; top: softmax_kernel 89% of 45.0 us;")
    assert "of peak HBM bandwidth (memory-bound)" in report.summary
    assert "DRAM 81%, SM 29% of peak; occupancy 63%; L2 hit 12%" in report.summary


def test_ncu_command_and_availability() -> None:
    cmd = build_ncu_command(
        ["python", "run.py"],
        ncu="/usr/local/cuda/bin/ncu",
        log_file="/tmp/x.csv",
        kernel_regex="softmax",
        launch_count=5,
        profile_from_start=False,
    )
    assert cmd[0] == "/usr/local/cuda/bin/ncu" and cmd[-2:] == ["python", "run.py"]
    metrics = cmd[cmd.index("--metrics") + 1].split(",")
    assert "lts__t_sector_hit_rate.pct" in metrics and "gpu__time_duration.sum" in metrics
    assert cmd[cmd.index("--kernel-name") : cmd.index("--kernel-name") + 2] == [
        "--kernel-name",
        "regex:softmax",
    ]
    assert "--profile-from-start" in cmd and "--csv" in cmd
    assert ncu_available(enabled=False) is False


def test_short_kernel_names() -> None:
    assert short_kernel_name("aten::_softmax") == "aten::_softmax"
    assert short_kernel_name("triton_red_fused_softmax_0") == "triton_red_fused_softmax_0"
    templated = (
        "void at::native::(anonymous namespace)::cunn_SoftMaxForward<4, float, float, float, "
        "at::native::(anonymous namespace)::SoftMaxForwardEpilogue>(float *, const float *, int)"
    )
    assert short_kernel_name(templated) == "cunn_SoftMaxForward"
    assert short_kernel_name("Memcpy DtoD (Device -> Device)") == "Memcpy DtoD"
    assert len(short_kernel_name("k" * 300)) == 40


def test_roofline_bound_from_the_ridge_point() -> None:
    gemm = roofline_estimate(
        100.0, flops=2 * 4096**3, bytes_moved=3 * 4096**2 * 2, peak=H100, half_precision=True
    )
    assert gemm.bound == "compute"
    assert gemm.compute_fraction == pytest.approx(2 * 4096**3 / 100e-6 / 1e12 / 989.0)
    copy = roofline_estimate(100.0, flops=1e6, bytes_moved=1e9, peak=H100)
    assert copy.bound == "memory"
    assert roofline_estimate(None, 1e9, 1e9, H100).bound is None


def test_summary_stays_under_the_limit_with_long_names() -> None:
    kernels = [KernelTime("x" * 500, 1, 10.0, 1.0)]
    roof = roofline_estimate(10.0, None, 1e6, H100)
    extras = ["y" * 150, "short extra"]
    line = summary_line(kernels, 1, roof, on_gpu=True, extras=extras)
    assert len(line) < SUMMARY_LIMIT
    assert "short extra" in line and "y" * 150 not in line


@pytest.mark.gpu
def test_cuda_profile_names_the_softmax_kernel_and_the_roofline() -> None:
    x = torch.randn(4096, 4096, device="cuda")
    nbytes = 2 * x.numel() * 4
    peak = peak_for(torch.cuda.get_device_name(0))
    report = profile_call(lambda: torch.softmax(x, dim=-1), "cuda:0", bytes_moved=nbytes, peak=peak)
    assert "softmax" in report.kernels[0].name.lower()
    assert sum(k.share for k in report.kernels) == pytest.approx(1.0)
    assert report.metrics["busy_us_per_call"] > 0
    assert "host_us_per_call" in report.metrics
    assert len(report.summary) < SUMMARY_LIMIT and "GB/s" in report.summary
    assert report.roofline.bound == "memory"


@pytest.mark.gpu
def test_cuda_profile_of_a_triton_kernel(triton_cache) -> None:
    triton = pytest.importorskip("triton")
    import triton.language as tl

    @triton.jit
    def double_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
        offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offsets < n
        tl.store(y_ptr + offsets, 2 * tl.load(x_ptr + offsets, mask=mask), mask=mask)

    x = torch.randn(1 << 22, device="cuda")
    y = torch.empty_like(x)

    def call() -> None:
        double_kernel[(triton.cdiv(x.numel(), 1024),)](x, y, x.numel(), BLOCK=1024)

    report = profile_call(call, "cuda:0", bytes_moved=2 * x.numel() * 4, median_us=None)
    assert report.kernels[0].name.startswith("double_kernel")
    assert report.kernels[0].calls == 3
