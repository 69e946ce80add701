"""The wire format between the evaluator and its child processes.

A child gets a job as a JSON file and reports progress as JSON lines on a dedicated pipe,
so nothing a candidate prints on stdout can be mistaken for a message.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


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
class CandidateJob:
    candidate_path: str
    config: dict[str, Any]
    device: str
    init_inputs_path: str
    model_seed: int
    trials: list[TrialSpec]
    timings: list[TimingSpec]
    timing: dict[str, Any]
    cpu_threads: int
    interpreted: bool
    problem_stem: str
    gpu_memory_fraction: float = 1.0


@dataclass(frozen=True)
class ReferenceJob:
    problem_path: str
    overrides: dict[str, int]
    device: str
    out_dir: str  # inputs, for candidates to be given
    expected_dir: str  # expected outputs, kept apart from them (``evaluator.reference``)
    model_seed: int
    shapes: list[dict[str, Any]]
    trial_seeds: dict[str, list[int]]
    heavy_tail_trials: list[int]
    timing: dict[str, Any]
    cpu_threads: int


@dataclass(frozen=True)
class Message:
    event: str
    data: dict[str, Any] = field(default_factory=dict)


def write_job(job: CandidateJob | ReferenceJob, path: Path) -> None:
    path.write_text(json.dumps(asdict(job)))


def read_candidate_job(path: Path) -> CandidateJob:
    raw = json.loads(path.read_text())
    raw["trials"] = [TrialSpec(**t) for t in raw["trials"]]
    raw["timings"] = [TimingSpec(**t) for t in raw["timings"]]
    return CandidateJob(**raw)


def read_reference_job(path: Path) -> ReferenceJob:
    return ReferenceJob(**json.loads(path.read_text()))


class Channel:
    """The child's side of the message pipe."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def send(self, event: str, **data: Any) -> None:
        payload = (json.dumps({"event": event, **data}, default=str) + "\n").encode()
        while payload:
            written = os.write(self._fd, payload)
            payload = payload[written:]


def parse_message(line: bytes) -> Message | None:
    """Decode one line; None for anything that is not a well-formed message."""
    try:
        raw = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("event"), str):
        return None
    event = raw.pop("event")
    return Message(event, raw)
