"""What the evaluator asks of a child: a job, written as one JSON file before the child starts.

The parent writes the job and the child only reads it, so these need no validation beyond
rebuilding the typed objects: a candidate cannot touch the file before its process has read it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evaluator.timing.stats import TimingPlan


@dataclass(frozen=True)
class ChildLimits:
    """What the child sets up in itself before any work: its thread pool and GPU memory share."""

    cpu_threads: int
    gpu_memory_fraction: float = 1.0


@dataclass(frozen=True)
class TrialSpec:
    """One correctness call: which inputs to load and where to write the outputs."""

    shape: str
    index: int
    inputs_path: str
    output_path: str


@dataclass(frozen=True)
class TimingSpec:
    """One timed shape: the input sets to rotate through while timing."""

    shape: str
    inputs_paths: list[str]
    flops: float | None = None
    bytes_moved: float | None = None
    profile: bool = False
    method: str | None = None  # the reference's method for this shape; None: the plan's own
    # Where each probe's inputs will appear, once asked for after timing (``evaluator.checks.probes``).
    probe_paths: list[str] = field(default_factory=list)
    # Where the positions to check in timed outputs will appear (``evaluator.checks.spot_checks``).
    check_path: str = ""


@dataclass(frozen=True)
class ShapeJob:
    """A shape the reference builds inputs for: its name and the sizes ``get_inputs`` takes."""

    name: str
    sizes: dict[str, int | float | str | bool]


@dataclass(frozen=True)
class CandidateJob:
    candidate_path: str
    config: dict[str, Any]
    device: str
    init_inputs_path: str
    model_seed: int
    trials: list[TrialSpec]
    timings: list[TimingSpec]
    plan: TimingPlan
    limits: ChildLimits
    interpreted: bool
    problem_stem: str


@dataclass(frozen=True)
class ReferenceJob:
    problem_path: str
    overrides: dict[str, int]
    device: str
    out_dir: str  # inputs, for candidates to be given
    expected_dir: str  # expected outputs, kept apart from them (``evaluator.reference``)
    model_seed: int
    shapes: list[ShapeJob]
    trial_seeds: dict[str, list[int]]
    heavy_tail_trials: list[int]
    plan: TimingPlan
    limits: ChildLimits
    compile_mode: str | None = None  # also time torch.compile of the reference in this mode


@dataclass(frozen=True)
class PreflightJob:
    """Import the candidate on the CPU only (``evaluator.preflight``)."""

    candidate_path: str
    config: dict[str, Any]


def write_job(job: CandidateJob | ReferenceJob | PreflightJob, path: Path) -> None:
    path.write_text(json.dumps(asdict(job)))


def read_candidate_job(path: Path) -> CandidateJob:
    raw = json.loads(path.read_text())
    raw["trials"] = [TrialSpec(**t) for t in raw["trials"]]
    raw["timings"] = [TimingSpec(**t) for t in raw["timings"]]
    raw["plan"] = TimingPlan(**raw["plan"])
    raw["limits"] = ChildLimits(**raw["limits"])
    return CandidateJob(**raw)


def read_reference_job(path: Path) -> ReferenceJob:
    raw = json.loads(path.read_text())
    raw["shapes"] = [ShapeJob(**s) for s in raw["shapes"]]
    raw["plan"] = TimingPlan(**raw["plan"])
    raw["limits"] = ChildLimits(**raw["limits"])
    return ReferenceJob(**raw)


def read_preflight_job(path: Path) -> PreflightJob:
    return PreflightJob(**json.loads(path.read_text()))
