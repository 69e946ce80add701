"""Inputs shared read-only under Landlock (trials for all, probes per candidate), copied without it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from evaluator.evaluate import Evaluator
from evaluator.limits import EvalLimits
from evaluator.sandbox.isolation import detect_isolation
from evaluator.types import EvalResult, Status
from kernels.candidate import make_candidate
from kernels.problem import Problem

TRIALS = 3  # EvalLimits' default
LIMITS = EvalLimits(warmup_ms=2, timing_budget_ms=10, min_samples=3, max_samples=20, profile=False)

# Overwrites every input file its job names, wherever it can: the trials' at import, and the
# probes' whenever they have arrived. It answers honestly.
SCRIBBLER = """
import json
import os

import torch

descriptor = getattr(os, "op" + "en")("job.json", os.O_RDONLY)
job = json.loads(getattr(os, "re" + "ad")(descriptor, 1 << 22))
save = getattr(torch, "sa" + "ve")


done = set()


def scribble(paths):
    for path in paths:
        if path in done or not os.path.exists(path):
            continue
        done.add(path)  # once: a probe's untimed warm-up call does it, its timed call stays fast
        try:
            save([torch.zeros(1)], path)
        except Exception:
            pass


scribble(t["inputs_path"] for t in job["trials"])


class ModelNew(torch.nn.Module):
    def forward(self, x):
        scribble(p for t in job["timings"] for p in t["probe_paths"])
        return x.abs()
"""
HONEST = (
    "import torch\n\n\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return x.abs()\n"
)


def scribble(
    problem: Problem, limits: EvalLimits, workroot: Path
) -> tuple[EvalResult, list[Path], Evaluator]:
    """The scribbler evaluated first; its result, the input paths its job named, and the evaluator,
    after checking that the reference's own input files (the probes' too) came through unchanged."""
    evaluator = Evaluator(problem, "cpu", limits, 3, workroot=workroot, keep_workdirs=True)
    reference = evaluator.reference()
    originals = [t.inputs_path for t in (*reference.trials, *reference.probes)]
    before = digests(originals)
    result = evaluator.evaluate(make_candidate(SCRIBBLER))
    (workdir,) = [p for p in workroot.iterdir() if p.name.startswith("cand-")]
    job = json.loads((workdir / "job.json").read_text())
    named = [Path(t["inputs_path"]) for t in job["trials"]]
    named += [Path(p) for t in job["timings"] for p in t["probe_paths"]]
    assert digests(originals) == before
    return result, named, evaluator


def digests(paths: list[Path]) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


@pytest.mark.skipif(not detect_isolation().landlock_abi, reason="needs Landlock")
def test_shared_inputs_cannot_be_spoiled_for_the_next_candidate(abs_problem: Problem, tmp_path: Path) -> None:
    first, named, evaluator = scribble(abs_problem, LIMITS, tmp_path / "work")
    assert first.status is Status.OK, first.reason
    # The trials' in the evaluator's shared folder, the probes' in one beside the candidate's.
    trials, probes = named[:TRIALS], named[TRIALS:]
    assert all(p.exists() and p.parent.name.startswith("inputs-") for p in trials)
    assert probes and all(p.parent.name.startswith("probes-") for p in probes)
    second = evaluator.evaluate(make_candidate(HONEST))
    assert second.status is Status.OK, second.reason


def test_without_landlock_each_candidate_scribbles_on_copies_of_its_own(
    abs_problem: Problem, tmp_path: Path
) -> None:
    limits = EvalLimits(**{**LIMITS.__dict__, "sandbox": False})
    result, named, evaluator = scribble(abs_problem, limits, tmp_path / "work")
    # Its own copies held zeros(1) by the time its trials loaded them: its own answers are wrong.
    assert result.status is Status.WRONG_OUTPUT, result.reason
    trials, probes = named[:TRIALS], named[TRIALS:]
    assert all(p.parent.name == "inputs" and p.parent.parent.name.startswith("cand-") for p in trials)
    assert probes and all(p.parent.name == "probe" for p in probes)
    assert evaluator.evaluate(make_candidate(HONEST)).status is Status.OK
