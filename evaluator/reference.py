"""Preparing the reference once per evaluator: trial inputs, expected outputs and reference timings.

The work happens in a child process where no candidate code ever runs. Its files stay in a
directory of the evaluator's; candidates get copies of the inputs only.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluator.checks.inputs import derive_seed
from evaluator.checks.probes import PROBES_PER_SHAPE
from evaluator.errors import ReferenceFailed
from evaluator.limits import EvalLimits
from evaluator.sandbox.isolation import NO_ISOLATION, detect_isolation
from evaluator.sandbox.process import SandboxedProcess, SandboxPolicy, child_environment
from evaluator.timing.stats import TimingPlan, TimingStats
from evaluator.types import DeviceInfo, Stage
from evaluator.wire.jobs import ChildLimits, ReferenceJob, ShapeJob, write_job
from evaluator.wire.messages import (
    BaselineTimed,
    ChildFailed,
    DeviceReport,
    ShapeTimed,
    StageEntered,
    TrialWritten,
)
from evaluator.wire.tensor_files import map_tensors
from kernels.problem import Problem, Shape


@dataclass(frozen=True)
class ReferenceTrial:
    shape: str
    index: int
    inputs_path: Path
    # Per output, what scales its atol (``correctness.reference_scale``), for checks of a sample.
    scales: tuple[float, ...] = ()


@dataclass(frozen=True)
class ReferenceData:
    directory: Path
    device: DeviceInfo
    shapes: tuple[Shape, ...]
    trials: tuple[ReferenceTrial, ...]
    timings: dict[str, TimingStats]
    peak_mem_bytes: dict[str, int | None]
    init_inputs_path: Path
    model_seed: int
    other_timings: dict[str, list[TimingStats]] = field(default_factory=dict)  # by other methods
    # Input sets (with expected outputs) no candidate gets before it is timed (``evaluator.checks.probes``).
    probes: tuple[ReferenceTrial, ...] = ()
    # Every trial's and probe's expected outputs, by (shape, index): in this process's memory only.
    expected: dict[tuple[str, int], list[Any]] = field(default_factory=dict, repr=False)
    compile_mode: str | None = None  # the torch.compile mode the reference was also timed in
    compiled: dict[str, list[TimingStats]] = field(default_factory=dict)  # by shape, as ``figures``
    compile_errors: dict[str, str] = field(default_factory=dict)  # shapes it could not be timed on

    def expected_of(self, trial: ReferenceTrial) -> list[Any]:
        return self.expected[(trial.shape, trial.index)]

    def figures(self, shape: str) -> list[TimingStats]:
        """Every timing of ``shape``: the reported one first, then those by other methods."""
        return [self.timings[shape], *self.other_timings.get(shape, [])]

    def trials_for(self, shape: str) -> list[ReferenceTrial]:
        return [t for t in self.trials if t.shape == shape]

    def probes_for(self, shape: str) -> list[ReferenceTrial]:
        return [t for t in self.probes if t.shape == shape]


def timing_plan(limits: EvalLimits) -> TimingPlan:
    return TimingPlan(
        limits.warmup_ms,
        limits.timing_budget_ms,
        limits.min_samples,
        limits.max_samples,
        method=limits.timing_method,
        graph_below_us=limits.graph_below_us,
    )


def sandbox_policy(limits: EvalLimits, device: str, candidate: bool = True) -> SandboxPolicy:
    """Candidates get every isolation layer available; the trusted reference runs as a plain child."""
    return SandboxPolicy(
        memory_bytes=limits.memory_limit_bytes,
        address_space_limit=not device.startswith("cuda"),  # CUDA reserves far more address space
        cpu_threads=limits.cpu_threads,
        stage_timeouts=limits.stage_timeouts(),
        max_processes=limits.max_processes,
        isolation=(detect_isolation() if limits.sandbox else NO_ISOLATION) if candidate else None,
        accelerators=device.startswith("cuda"),
    )


def device_env(device: str, interpreted: bool) -> dict[str, str]:
    """Pin a child to one GPU with CUDA_VISIBLE_DEVICES, or to the Triton interpreter on the CPU."""
    if device.startswith("cuda"):
        index = device.split(":", 1)[1] if ":" in device else "0"
        return {"CUDA_VISIBLE_DEVICES": index}
    env = {"CUDA_VISIBLE_DEVICES": ""}
    if interpreted:
        env["TRITON_INTERPRET"] = "1"
    return env


def prepare_reference(
    problem: Problem, device: str, limits: EvalLimits, secret_seed: int, directory: Path
) -> ReferenceData:
    """Run the reference child; raise ReferenceFailed with its reason if it cannot finish."""
    directory.mkdir(parents=True, exist_ok=True)
    # Expected outputs go to a folder of their own, never beside the inputs candidates get, and
    # leave the file system as soon as the reference is done (``take_expected_outputs``).
    expected_dir = Path(tempfile.mkdtemp(prefix="expected-", dir=directory.parent))
    shapes = problem.shapes_for(device)
    trials = max(2, limits.trials)
    # The reference runs the probes' input sets as further trials; candidates get them only later.
    every = range(trials + PROBES_PER_SHAPE)
    seeds = {s.name: [derive_seed(secret_seed, "trial", s.name, i) for i in every] for s in shapes}
    model_seed = derive_seed(secret_seed, "model")
    job = ReferenceJob(
        problem_path=str(problem.path),
        overrides=dict(problem.overrides),
        device=device,
        out_dir=str(directory),
        expected_dir=str(expected_dir),
        model_seed=model_seed,
        shapes=[ShapeJob(s.name, dict(s.sizes)) for s in shapes],
        trial_seeds=seeds,
        heavy_tail_trials=[trials - 1],
        plan=timing_plan(limits),
        limits=ChildLimits(limits.cpu_threads),
        compile_mode=limits.compile_mode(device),
    )
    job_path = directory / "job.json"
    write_job(job, job_path)
    env = child_environment(directory, device_env(device, interpreted=False), limits.cpu_threads)
    proc = SandboxedProcess(
        "evaluator.child.reference_runner",
        job_path,
        directory,
        env,
        sandbox_policy(limits, device, candidate=False),
    )
    info: DeviceInfo | None = None
    timings: dict[str, TimingStats] = {}
    other_timings: dict[str, list[TimingStats]] = {}
    peaks: dict[str, int | None] = {}
    scales: dict[tuple[str, int], tuple[float, ...]] = {}
    compiled: dict[str, list[TimingStats]] = {}
    compile_errors: dict[str, str] = {}
    error = None
    finished = False
    for message in proc.events():  # the reference's own process: trusted, so no forged messages
        match message:
            case DeviceReport(info=reported_info):
                info = reported_info
            case TrialWritten(shape=shape, index=index, peak_mem_bytes=peak, scales=trial_scales):
                peaks[shape] = max(peaks.get(shape) or 0, peak or 0)
                scales[(shape, index)] = trial_scales
            case ShapeTimed(shape=shape, figures=(reported, *others)):
                timings[shape], other_timings[shape] = reported, others
            case BaselineTimed(shape=shape, figures=figures, error=compile_error):
                if figures:
                    compiled[shape] = list(figures)
                else:
                    compile_errors[shape] = compile_error or "no timing"
            case ChildFailed(reason=reason):
                error = reason
            case StageEntered(stage=Stage.DONE):
                finished = True
    exit_info = proc.finish()
    eager_done = info is not None and len(timings) == len(shapes) and len(scales) == len(shapes) * len(every)
    if not finished and eager_done and job.compile_mode and error is None:
        # Only torch.compile was still running: the reference itself is complete.
        finished = True
        why = (
            "torch.compile did not finish within the reference's time limit"
            if exit_info.timed_out_stage
            else f"the process exited with code {exit_info.returncode} during torch.compile"
        )
        for s in shapes:
            if s.name not in compiled:
                compile_errors.setdefault(s.name, why)
    if not finished or info is None or len(timings) != len(shapes):
        shutil.rmtree(expected_dir, ignore_errors=True)
        if exit_info.timed_out_stage:
            error = f"exceeded its {exit_info.timed_out_stage.value} time limit"
        detail = error or f"exited with code {exit_info.returncode}: {exit_info.stderr_tail.strip()[-500:]}"
        raise ReferenceFailed(f"the reference of problem {problem.name!r} failed on {device}: {detail}")

    def trial(shape: str, index: int) -> ReferenceTrial:
        return ReferenceTrial(
            shape, index, directory / f"inputs_{shape}_{index}.pt", scales.get((shape, index), ())
        )

    every_trial = [(s.name, i) for s in shapes for i in every]
    return ReferenceData(
        directory=directory,
        device=info,
        shapes=shapes,
        trials=tuple(trial(s.name, i) for s in shapes for i in range(trials)),
        probes=tuple(trial(s.name, i) for s in shapes for i in every[trials:]),
        timings=timings,
        peak_mem_bytes=peaks,
        init_inputs_path=directory / "init_inputs.pt",
        model_seed=model_seed,
        other_timings=other_timings,
        expected=take_expected_outputs(expected_dir, every_trial),
        compile_mode=job.compile_mode,
        compiled=compiled,
        compile_errors=compile_errors,
    )


def take_expected_outputs(
    expected_dir: Path, trials: list[tuple[str, int]]
) -> dict[tuple[str, int], list[Any]]:
    """Map every expected output into this process, then delete the files and their folder.

    Protocol item 2 must hold where no OS sandbox hides the evaluator's files too: a candidate
    that walks the file system finds inputs, never the answers. The mappings keep the data
    (an unlinked file lives on while it is mapped), so no copy is made.
    """
    expected = {key: map_tensors(expected_path(expected_dir, *key)) for key in trials}
    shutil.rmtree(expected_dir)
    return expected


def expected_path(expected_dir: Path, shape: str, index: int) -> Path:
    return expected_dir / f"expected_{shape}_{index}.pt"
