"""Nsight Compute around a command that runs one candidate: a few hardware counters per kernel.

``ncu`` replays each kernel to read its counters, so it runs the candidate's process from the
outside: ``profile_with_ncu`` takes the command line of a process that makes the call. To leave
warmup and Triton compilation out, that process should call ``torch.cuda.profiler.start()``
after warming up and run with ``profile_from_start=False``. Clocks are locked to base by ncu's
default ``--clock-control base``, so its durations are for comparing kernels, not for timing.

``parse_ncu_csv`` and ``ncu_report`` are pure, so they are tested without a GPU or ncu.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from evaluator.errors import EvaluatorError
from evaluator.profiling.report import ProfileReport, aggregate, roofline_estimate, summary_line
from evaluator.profiling.roofline import DevicePeak

# The curated set, and the short names the report uses for them.
METRIC_KEYS: dict[str, str] = {
    "sm__throughput.avg.pct_of_peak_sustained_elapsed": "sm_throughput_pct",
    "dram__throughput.avg.pct_of_peak_sustained_elapsed": "dram_throughput_pct",
    "sm__warps_active.avg.pct_of_peak_sustained_active": "achieved_occupancy_pct",
    "lts__t_sector_hit_rate.pct": "l2_hit_rate_pct",
    "gpu__time_duration.sum": "gpu_time_us",
}
CURATED_METRICS: tuple[str, ...] = tuple(METRIC_KEYS)
TIME_METRIC = "gpu__time_duration.sum"

# ncu prints durations and sizes with scaled units; the report keeps microseconds and bytes.
_UNIT_SCALE: dict[str, float] = {
    "nsecond": 1e-3,
    "ns": 1e-3,
    "usecond": 1.0,
    "us": 1.0,
    "msecond": 1e3,
    "ms": 1e3,
    "second": 1e6,
    "s": 1e6,
    "byte": 1.0,
    "Kbyte": 1e3,
    "Mbyte": 1e6,
    "Gbyte": 1e9,
    "Tbyte": 1e12,
}
_COLUMNS = ("ID", "Kernel Name", "Metric Name", "Metric Unit", "Metric Value")


class ProfilerError(EvaluatorError):
    """A profiler could not run or its output could not be read."""


@dataclass(frozen=True)
class NcuLaunch:
    """One profiled kernel launch. Durations are in microseconds, sizes in bytes, others as printed."""

    id: int
    kernel: str
    block: str
    grid: str
    device: str
    values: dict[str, float]


def find_ncu() -> str | None:
    """``ncu`` on the PATH, else where the CUDA toolkit installs it."""
    found = shutil.which("ncu")
    if found:
        return found
    default = Path("/usr/local/cuda/bin/ncu")
    return str(default) if default.is_file() else None


def ncu_available(enabled: bool = True) -> bool:
    """Whether Nsight Compute can be used: installed, and not turned off by the caller's settings."""
    return enabled and find_ncu() is not None


def parse_ncu_csv(text: str) -> list[NcuLaunch]:
    """Launches from ``ncu --csv`` output, ordered by ID; ``==PROF==`` lines and program output skipped.

    Values like ``"41,216"`` lose their thousands separators; ``n/a`` values are left out.
    """
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith('"ID"')), None)
    if start is None:
        return []
    reader = csv.reader(line for line in lines[start:] if line.startswith('"'))
    header = next(reader)
    missing = [c for c in _COLUMNS if c not in header]
    if missing:
        raise ProfilerError(f"ncu CSV lacks column(s) {missing}; header was {header}")
    col = {name: header.index(name) for name in header}
    launches: dict[int, NcuLaunch] = {}
    for row in reader:
        if len(row) != len(header) or row == header or not row[col["ID"]].isdigit():
            continue
        launch_id = int(row[col["ID"]])
        launch = launches.get(launch_id)
        if launch is None:
            launch = NcuLaunch(
                id=launch_id,
                kernel=row[col["Kernel Name"]],
                block=_cell(row, col, "Block Size"),
                grid=_cell(row, col, "Grid Size"),
                device=_cell(row, col, "Device"),
                values={},
            )
            launches[launch_id] = launch
        value = _number(row[col["Metric Value"]])
        if value is not None:
            launch.values[row[col["Metric Name"]]] = value * _UNIT_SCALE.get(row[col["Metric Unit"]], 1.0)
    return [launches[k] for k in sorted(launches)]


def _cell(row: list[str], col: dict[str, int], name: str) -> str:
    return row[col[name]] if name in col else ""


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "").strip())
    except ValueError:
        return None


def ncu_report(
    launches: Sequence[NcuLaunch],
    *,
    calls: int = 1,
    flops: float | None = None,
    bytes_moved: float | None = None,
    median_us: float | None = None,
    peak: DevicePeak | None = None,
    half_precision: bool = False,
) -> ProfileReport:
    """Per-kernel time and the curated metrics over all launches, for ``calls`` candidate calls.

    Percentages are weighted by each launch's duration, so the kernel that takes the time
    speaks loudest; ``.sum`` metrics are added up and given per call.
    """
    calls = max(1, calls)
    rows = [(launch.kernel, 1, launch.values.get(TIME_METRIC, 0.0)) for launch in launches]
    kernels = aggregate(rows)
    metrics = _combine(launches, calls)
    notes = [] if launches else ["ncu profiled no kernels"]
    latency_us = median_us if median_us is not None else metrics.get("gpu_time_us")
    if median_us is None and latency_us and (flops or bytes_moved):
        notes.append("roofline from ncu durations at locked base clocks; no measured median was given")
    roofline = roofline_estimate(latency_us, flops, bytes_moved, peak, half_precision)
    return ProfileReport(
        source="ncu",
        kernels=kernels,
        metrics=metrics,
        roofline=roofline,
        summary=summary_line(kernels, calls, roofline, on_gpu=True, extras=_metric_phrases(metrics)),
        profiled_calls=calls,
        notes=notes,
    )


def _combine(launches: Sequence[NcuLaunch], calls: int) -> dict[str, float]:
    names = sorted({name for launch in launches for name in launch.values})
    weights = [launch.values.get(TIME_METRIC, 0.0) for launch in launches]
    if not any(w > 0 for w in weights):
        weights = [1.0] * len(launches)
    combined: dict[str, float] = {}
    for name in names:
        pairs = [
            (launch.values[name], w)
            for launch, w in zip(launches, weights, strict=True)
            if name in launch.values
        ]
        if name.endswith(".sum"):
            value = sum(v for v, _ in pairs) / calls
        else:
            total_weight = sum(w for _, w in pairs)
            value = sum(v * w for v, w in pairs) / total_weight if total_weight > 0 else pairs[0][0]
        combined[METRIC_KEYS.get(name, name)] = value
    return combined


def _metric_phrases(metrics: Mapping[str, float]) -> list[str]:
    phrases = []
    dram, sm = metrics.get("dram_throughput_pct"), metrics.get("sm_throughput_pct")
    if dram is not None and sm is not None:
        phrases.append(f"DRAM {dram:.0f}%, SM {sm:.0f}% of peak")
    if "achieved_occupancy_pct" in metrics:
        phrases.append(f"occupancy {metrics['achieved_occupancy_pct']:.0f}%")
    if "l2_hit_rate_pct" in metrics:
        phrases.append(f"L2 hit {metrics['l2_hit_rate_pct']:.0f}%")
    return phrases


def build_ncu_command(
    python_cmd: Sequence[str],
    *,
    ncu: str,
    log_file: str,
    metrics: Sequence[str] = CURATED_METRICS,
    kernel_regex: str | None = None,
    launch_skip: int = 0,
    launch_count: int | None = None,
    profile_from_start: bool = True,
) -> list[str]:
    """The ncu command line; CSV goes to ``log_file`` so the program's own output cannot mix in."""
    cmd = [ncu, "--csv", "--log-file", log_file, "--print-units", "base", "--target-processes", "all"]
    cmd += ["--metrics", ",".join(metrics)]
    if kernel_regex:
        cmd += ["--kernel-name", f"regex:{kernel_regex}"]
    if launch_skip:
        cmd += ["--launch-skip", str(launch_skip)]
    if launch_count is not None:
        cmd += ["--launch-count", str(launch_count)]
    if not profile_from_start:
        cmd += ["--profile-from-start", "off"]
    return [*cmd, *python_cmd]


def profile_with_ncu(
    python_cmd: Sequence[str],
    *,
    calls: int = 1,
    flops: float | None = None,
    bytes_moved: float | None = None,
    median_us: float | None = None,
    peak: DevicePeak | None = None,
    half_precision: bool = False,
    metrics: Sequence[str] = CURATED_METRICS,
    kernel_regex: str | None = None,
    launch_skip: int = 0,
    launch_count: int | None = 200,
    profile_from_start: bool = True,
    timeout_s: float = 300.0,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    wrap: Callable[[list[str]], list[str]] | None = None,
) -> ProfileReport:
    """Run ``python_cmd`` under ncu and report its kernels; ``calls`` is how many calls it profiles.

    ``wrap`` prefixes the whole ncu command (the sandbox's namespaces), so ncu and the process
    it watches share them.
    """
    ncu = find_ncu()
    if ncu is None:
        raise ProfilerError("Nsight Compute (ncu) is not installed; install Nsight Compute")
    with tempfile.TemporaryDirectory(prefix="crucible-ncu-") as tmp:
        log_file = str(Path(tmp) / "ncu.csv")
        cmd = build_ncu_command(
            python_cmd,
            ncu=ncu,
            log_file=log_file,
            metrics=metrics,
            kernel_regex=kernel_regex,
            launch_skip=launch_skip,
            launch_count=launch_count,
            profile_from_start=profile_from_start,
        )
        if wrap is not None:
            cmd = wrap(cmd)
        try:
            done = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                env=dict(env) if env else None,
                cwd=cwd,
            )
        except subprocess.TimeoutExpired as exc:
            raise ProfilerError(f"ncu did not finish within {timeout_s:g}s") from exc
        log = Path(log_file).read_text(errors="replace") if Path(log_file).exists() else ""
    output = log + "\n" + done.stdout + "\n" + done.stderr
    if "ERR_NVGPUCTRPERM" in output:
        raise ProfilerError(
            "ncu may not read GPU performance counters here (ERR_NVGPUCTRPERM); run as root or set "
            "NVreg_RestrictProfilingToAdminUsers=0 for the nvidia kernel module"
        )
    launches = parse_ncu_csv(log if '"ID"' in log else done.stdout)
    if done.returncode != 0 and not launches:
        errors = [line for line in output.splitlines() if "==ERROR==" in line]
        reason = errors[-1] if errors else (output.strip().splitlines() or ["no output"])[-1]
        raise ProfilerError(f"ncu exited with code {done.returncode}: {reason[:300]}")
    return ncu_report(
        launches,
        calls=calls,
        flops=flops,
        bytes_moved=bytes_moved,
        median_us=median_us,
        peak=peak,
        half_precision=half_precision,
    )
