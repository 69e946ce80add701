"""A candidate does not outlive the evaluator that started it, even one whose kernel never returns."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from kernels.problem import Problem

# Plays the evaluator: starts one candidate that spins forever, with stage limits far away.
EVALUATOR = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from evaluator.evaluate import Evaluator
    from evaluator.limits import EvalLimits
    from kernels.candidate import make_candidate
    from kernels.problem import load_problem

    SPINS = "import torch\\n\\nclass ModelNew(torch.nn.Module):\\n    def forward(self, x):\\n" + (
        "        while True:\\n            pass\\n"
    )
    limits = EvalLimits(load_timeout_s=600, correctness_timeout_s=600, timing_timeout_s=600)
    evaluator = Evaluator(load_problem(sys.argv[1]), "cpu", limits, secret_seed=1, workroot=Path(sys.argv[2]))
    evaluator.evaluate(make_candidate(SPINS))
    """
)


def _harnesses_under(workroot: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "evaluator.child.harness" in cmdline and str(workroot) in cmdline:
            found.append(proc)
    return found


def _busy_for(workroot: Path, cpu_s: float) -> bool:
    try:
        return any(proc.cpu_times().user >= cpu_s for proc in _harnesses_under(workroot))
    except psutil.NoSuchProcess:
        return False


def _wait_for(predicate, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_a_spinning_candidate_dies_with_its_evaluator(abs_problem: Problem, tmp_path: Path) -> None:
    problem = tmp_path / "abs_problem.py"  # written by the fixture
    workroot = tmp_path / "work"
    evaluator = subprocess.Popen([sys.executable, "-c", EVALUATOR, str(problem), str(workroot)])
    try:
        # Past its imports and into the endless call: a harness that still had a message to send
        # would die on the broken pipe anyway, which is not what this is about.
        assert _wait_for(lambda: _busy_for(workroot, cpu_s=6.0), 180), "the candidate never started spinning"
        evaluator.send_signal(signal.SIGKILL)  # no clean-up of its own can run
        evaluator.wait()
        assert _wait_for(lambda: not _harnesses_under(workroot), 15), "the candidate outlived its evaluator"
    finally:
        for proc in _harnesses_under(workroot):
            proc.kill()
        if evaluator.poll() is None:
            evaluator.kill()
