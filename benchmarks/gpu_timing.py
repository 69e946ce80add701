"""How far the evaluator's GPU timings can be trusted, measured on the GPU at hand.

    python benchmarks/gpu_timing.py [--repeats 10]

For a torch softmax at three sizes (about 5 us, 50 us and 1 ms on an H100):

(a) stability: each of ``--repeats`` measurements is a fresh ``evaluator.timing.loop.time_cuda``
    with the default ``TimingPlan``; the coefficient of variation of their medians says how much
    a reported latency moves between evaluations of the same kernel;
(b) agreement: ``triton.testing.do_bench`` (median mode, its own L2 flush) on the same kernels
    in the same run, as the ratio ours / do_bench;
(c) CUDA-graph mode (``evaluator.timing.cuda_graph``) against event mode for the small kernel,
    where launch overhead is a large part of an event-timed sample;
(d) device discovery: measured copy bandwidth against the datasheet, and the clocks.

Writes benchmarks/results/gpu_timing_<device-name>.json. Without CUDA it says so and exits 2.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from rich.console import Console
from rich.table import Table

from result_files import commit, result_path, write_report

# (rows, columns) of an fp32 softmax: ~2 MiB, ~128 MiB and ~3 GiB moved per call.
SIZES: dict[str, tuple[int, int]] = {
    "small": (256, 1024),
    "medium": (4096, 4096),
    "large": (16384, 24576),
}


def cv(values: list[float]) -> float:
    return statistics.stdev(values) / statistics.mean(values) if len(values) > 1 else 0.0


def repeat(measure: Callable[[], float], times: int) -> dict[str, Any]:
    values = [measure() for _ in range(times)]
    return {"medians_us": values, "median_us": statistics.median(values), "cv": cv(values)}


def measure_size(shape: tuple[int, int], repeats: int) -> dict[str, Any]:
    import torch
    import triton.testing

    from evaluator.timing.loop import time_cuda
    from evaluator.timing.stats import TimingPlan

    x = torch.randn(*shape, device="cuda")

    def call(inputs: Any) -> Any:
        return torch.softmax(inputs[0], dim=-1)

    ours = repeat(lambda: time_cuda(call, [[x]], TimingPlan()).median_us, repeats)
    theirs = repeat(
        lambda: float(triton.testing.do_bench(lambda: torch.softmax(x, dim=-1), return_mode="median")) * 1e3,
        repeats,
    )
    result = {
        "shape": list(shape),
        "bytes_moved": 2 * x.numel() * x.element_size(),
        "ours": ours,
        "do_bench": theirs,
        "ratio_ours_to_do_bench": ours["median_us"] / theirs["median_us"],
    }
    return result


def measure_graph_mode(shape: tuple[int, int], repeats: int) -> dict[str, Any]:
    import torch
    import triton.testing

    from evaluator.timing.cuda_graph import time_cuda_graph
    from evaluator.timing.loop import time_cuda
    from evaluator.timing.stats import TimingPlan

    x = torch.randn(*shape, device="cuda")

    def call(inputs: Any) -> Any:
        return torch.softmax(inputs[0], dim=-1)

    graph = repeat(lambda: time_cuda_graph(call, [[x]], TimingPlan()).median_us, repeats)
    events = repeat(lambda: time_cuda(call, [[x]], TimingPlan()).median_us, repeats)
    graph_no_flush = repeat(
        lambda: (
            float(triton.testing.do_bench_cudagraph(lambda: torch.softmax(x, dim=-1), return_mode="median"))
            * 1e3
        ),
        repeats,
    )
    return {
        "shape": list(shape),
        "cuda_graph": graph,
        "events": events,
        "do_bench_cudagraph_no_flush": graph_no_flush,
        "ratio_graph_to_events": graph["median_us"] / events["median_us"],
    }


def device_section() -> list[dict[str, Any]]:
    from evaluator.hardware.devices import discover_devices

    devices = [d.to_dict() for d in discover_devices(measure_bandwidth=True)]
    for device in devices:
        peak = device.get("peak")
        if device["copy_gbps"] and peak:
            device["copy_fraction_of_datasheet"] = device["copy_gbps"] / peak["memory_gbps"]
    return devices


def print_report(report: dict[str, Any], console: Console) -> None:
    table = Table(title=f"Timing stability and agreement on {report['device_name']}")
    for column in (
        "kernel",
        "median (ours)",
        "CV (ours)",
        "median (do_bench)",
        "CV (do_bench)",
        "ours / do_bench",
    ):
        table.add_column(column, justify="right")
    for name, row in report["sizes"].items():
        table.add_row(
            f"softmax {name} {tuple(row['shape'])}",
            f"{row['ours']['median_us']:.2f} us",
            f"{row['ours']['cv']:.2%}",
            f"{row['do_bench']['median_us']:.2f} us",
            f"{row['do_bench']['cv']:.2%}",
            f"{row['ratio_ours_to_do_bench']:.3f}",
        )
    console.print(table)
    graph = report["graph_mode"]
    table = Table(title="CUDA-graph mode against event mode, small kernel")
    table.add_column("method")
    table.add_column("median", justify="right")
    table.add_column("CV", justify="right")
    for label, key in (
        ("events + L2 flush (time_cuda)", "events"),
        ("CUDA graph, flush subtracted (time_cuda_graph)", "cuda_graph"),
        ("triton do_bench_cudagraph, no flush", "do_bench_cudagraph_no_flush"),
    ):
        table.add_row(label, f"{graph[key]['median_us']:.2f} us", f"{graph[key]['cv']:.2%}")
    table.add_row("graph / events", f"{graph['ratio_graph_to_events']:.3f}", "")
    console.print(table)
    table = Table(title="Devices")
    for column in ("key", "name", "memory", "SMs", "L2", "copy GB/s", "of datasheet", "clocks"):
        table.add_column(column)
    for device in report["devices"]:
        fraction = device.get("copy_fraction_of_datasheet")
        clocks = ", ".join(f"{k}={v}" for k, v in device["clocks"].items())
        table.add_row(
            device["key"],
            device["name"],
            f"{device['memory_bytes'] / 1024**3:.0f} GiB",
            str(device["sm_count"] or ""),
            f"{device['l2_bytes'] / 1024**2:.0f} MiB" if device["l2_bytes"] else "",
            f"{device['copy_gbps']:.0f}" if device["copy_gbps"] else "",
            f"{fraction:.0%}" if fraction else "",
            clocks,
        )
    console.print(table)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=10, help="fresh measurements per kernel")
    args = parser.parse_args()
    console = Console()

    import torch

    if not torch.cuda.is_available():
        console.print(
            "[red]No CUDA device on this machine.[/red] benchmarks/gpu_timing.py measures GPU timing; "
            "run it on a machine with an NVIDIA GPU (H100 or H200)."
        )
        return 2
    import triton

    from evaluator.hardware.devices import reset_persisting_l2

    name = torch.cuda.get_device_name(0)
    report: dict[str, Any] = {
        "benchmark": "gpu_timing",
        "device_name": name,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python benchmarks/gpu_timing.py " + " ".join(sys.argv[1:]),
        "machine": {"python": platform.python_version(), "host": platform.node()},
        "versions": {"torch": torch.__version__, "triton": triton.__version__, "cuda": torch.version.cuda},
        "repeats": args.repeats,
        "sizes": {},
    }
    for label, shape in SIZES.items():
        console.print(f"measuring softmax {label} {shape} ...")
        report["sizes"][label] = measure_size(shape, args.repeats)
        torch.cuda.empty_cache()  # the large input is gone; give its memory back before the next size
    console.print("measuring CUDA-graph mode ...")
    report["graph_mode"] = measure_graph_mode(SIZES["small"], args.repeats)
    console.print("discovering devices ...")
    report["devices"] = device_section()
    report["reset_persisting_l2_ok"] = reset_persisting_l2()
    print_report(report, console)
    report["commit"] = commit()
    out = result_path("gpu_timing", name)
    write_report(out, report)
    console.print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
