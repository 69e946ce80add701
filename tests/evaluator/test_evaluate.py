"""The evaluator end to end on real child processes: config injection, environment, scaling, failures."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from evaluator.errors import ReferenceFailed
from evaluator.evaluate import Evaluator
from evaluator.limits import EvalLimits
from evaluator.types import Stage, Status
from kernels.candidate import make_candidate
from kernels.problem import load_problem

LIMITS = EvalLimits(
    load_timeout_s=30,
    correctness_timeout_s=20,
    timing_timeout_s=20,
    warmup_ms=2,
    timing_budget_ms=10,
    min_samples=3,
    max_samples=20,
)

SCALED_PROBLEM = """
import torch

batch_size = 4096
dim = 393216


class Model(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x) * 2


def get_inputs():
    return [torch.randn(batch_size, dim)]


def get_init_inputs():
    return []
"""

CONFIGURED = """
import torch

CONFIG_SPACE = {"mode": ["right", "wrong"]}


class ModelNew(torch.nn.Module):
    def forward(self, x):
        if CONFIG["mode"] == "right":
            return torch.relu(x) * 2
        return torch.relu(x)
"""

ENV_PROBE = """
import os

import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        env = getattr(os, "env" + "iron")
        leaked = [k for k in env if "SECRET" in k or "API_KEY" in k or k.startswith("CRUCIBLE_")]
        home_is_private = env.get("HOME", "").startswith(env.get("TMPDIR", "-"))
        if leaked or not home_is_private:
            return torch.zeros_like(x)
        return torch.relu(x) * 2
"""


@pytest.fixture(scope="module")
def scaled_problem(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("problem") / "relu_problem.py"
    path.write_text(textwrap.dedent(SCALED_PROBLEM))
    return load_problem(path, {"batch_size": 16, "dim": 128})


@pytest.fixture(scope="module")
def evaluator(scaled_problem, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One evaluator for the module: its reference is built once, for the first test that needs it."""
    ev = Evaluator(scaled_problem, "cpu", LIMITS, secret_seed=5, workroot=tmp_path_factory.mktemp("work"))
    yield ev
    ev.close()


@pytest.fixture
def fresh_evaluator(scaled_problem, tmp_path: Path):  # type: ignore[no-untyped-def]
    """An evaluator of its own, for a test that watches the reference being built."""
    ev = Evaluator(scaled_problem, "cpu", LIMITS, secret_seed=5, workroot=tmp_path / "work")
    yield ev
    ev.close()


def test_config_is_injected_and_scaled_down_is_recorded(evaluator: Evaluator) -> None:
    right = evaluator.evaluate(make_candidate(CONFIGURED, {"mode": "right"}))
    assert right.status is Status.OK, right.reason
    assert right.scaled_down
    assert right.device is not None and right.device.kind == "cpu" and right.device.torch_version
    wrong = evaluator.evaluate(make_candidate(CONFIGURED, {"mode": "wrong"}))
    assert wrong.status is Status.WRONG_OUTPUT
    assert wrong.stage is Stage.CORRECTNESS


def test_child_environment_holds_no_secrets(evaluator: Evaluator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRUCIBLE_API_TOKEN", "do-not-leak")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-do-not-leak")
    monkeypatch.setenv("MY_SECRET", "x")
    result = evaluator.evaluate(make_candidate(ENV_PROBE))
    assert result.status is Status.OK, result.reason


def test_work_directories_are_cleaned_up(evaluator: Evaluator) -> None:
    evaluator.evaluate(make_candidate(CONFIGURED))
    leftovers = [p.name for p in evaluator.workroot.iterdir() if p.name.startswith("cand-")]
    assert leftovers == []


def test_failing_reference_raises_instead_of_blaming_candidates(tmp_path: Path) -> None:
    path = tmp_path / "broken_problem.py"
    path.write_text(SCALED_PROBLEM.replace("return torch.relu(x) * 2", "raise RuntimeError('reference bug')"))
    ev = Evaluator(load_problem(path, {"batch_size": 2, "dim": 4}), "cpu", LIMITS, 1, workroot=tmp_path / "w")
    with pytest.raises(ReferenceFailed, match="reference bug"):
        ev.evaluate(make_candidate(CONFIGURED))


def test_each_evaluation_says_where_its_time_went(fresh_evaluator: Evaluator) -> None:
    evaluator = fresh_evaluator
    first = evaluator.evaluate(make_candidate(CONFIGURED, {"mode": "right"}))
    phases = first.phase_seconds or {}
    assert {"reference", "start", "correctness", "timing", "comparison"} <= set(phases), phases
    in_turn = sum(s for name, s in phases.items() if name != "comparison")
    assert in_turn <= first.duration_s + 0.01
    assert in_turn >= 0.8 * first.duration_s  # the phases account for nearly all of it
    second = evaluator.evaluate(make_candidate(CONFIGURED, {"mode": "wrong"}))
    assert second.phase_seconds is not None
    assert "reference" not in second.phase_seconds  # prepared once, for the first candidate
    assert "timing" not in second.phase_seconds  # a wrong output never reaches timing
