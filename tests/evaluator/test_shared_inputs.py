"""Trial inputs shared read-only by every candidate under Landlock, copied for each one without it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from evaluator.evaluate import Evaluator
from evaluator.isolation import detect_isolation
from evaluator.limits import EvalLimits
from evaluator.types import EvalResult, Status
from kernels.candidate import make_candidate
from kernels.problem import Problem

LIMITS = EvalLimits(warmup_ms=2, timing_budget_ms=10, min_samples=3, max_samples=20, profile=False)

# Overwrites every input file its job names, wherever it can, then answers honestly.
SCRIBBLER = """
import json
import os

import torch

descriptor = getattr(os, "op" + "en")("job.json", os.O_RDONLY)
job = json.loads(getattr(os, "re" + "ad")(descriptor, 1 << 22))
for trial in job["trials"]:
    try:
        getattr(torch, "sa" + "ve")([torch.zeros(1)], trial["inputs_path"])
    except Exception:
        pass


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return x.abs()
"""
HONEST = (
    "import torch\n\n\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return x.abs()\n"
)


def scribble(
    problem: Problem, limits: EvalLimits, workroot: Path
) -> tuple[EvalResult, list[Path], Evaluator]:
    """The scribbler evaluated first; its result, the input paths its job named, and the evaluator,
    after checking that the reference's own input files came through unchanged."""
    evaluator = Evaluator(problem, "cpu", limits, 3, workroot=workroot, keep_workdirs=True)
    originals = [t.inputs_path for t in evaluator.reference().trials]
    before = digests(originals)
    result = evaluator.evaluate(make_candidate(SCRIBBLER))
    (workdir,) = [p for p in workroot.iterdir() if p.name.startswith("cand-")]
    named = [Path(t["inputs_path"]) for t in json.loads((workdir / "job.json").read_text())["trials"]]
    assert digests(originals) == before
    return result, named, evaluator


def digests(paths: list[Path]) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


@pytest.mark.skipif(not detect_isolation().landlock_abi, reason="needs Landlock")
def test_shared_inputs_cannot_be_spoiled_for_the_next_candidate(abs_problem: Problem, tmp_path: Path) -> None:
    first, named, evaluator = scribble(abs_problem, LIMITS, tmp_path / "work")
    assert first.status is Status.OK, first.reason
    # In the evaluator's shared folder, not the candidate's own.
    assert all(p.exists() and p.parent.name.startswith("inputs-") for p in named)
    second = evaluator.evaluate(make_candidate(HONEST))
    assert second.status is Status.OK, second.reason


def test_without_landlock_each_candidate_scribbles_on_copies_of_its_own(
    abs_problem: Problem, tmp_path: Path
) -> None:
    limits = EvalLimits(**{**LIMITS.__dict__, "sandbox": False})
    result, named, evaluator = scribble(abs_problem, limits, tmp_path / "work")
    # Its own copies held zeros(1) by the time its trials loaded them: its own answers are wrong.
    assert result.status is Status.WRONG_OUTPUT, result.reason
    assert all(p.parent.name == "inputs" and p.parent.parent.name.startswith("cand-") for p in named)
    assert evaluator.evaluate(make_candidate(HONEST)).status is Status.OK
