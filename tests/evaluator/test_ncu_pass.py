"""The Nsight Compute pass, wired end to end around a stand-in ``ncu`` (no GPU or ncu here).

The stand-in writes a real ncu CSV to the ``--log-file`` it is given and records its command
line, so these tests check what Crucible builds and parses; the real ncu runs under
``pytest -m gpu`` on a machine that has one.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from evaluator.limits import EvalLimits
from evaluator.profiling.ncu_pass import NcuPass, merge_ncu
from evaluator.sandbox.isolation import Isolation, detect_isolation
from evaluator.sandbox.process import SandboxPolicy
from evaluator.types import Profile
from kernels.problem import Shape

SAMPLE_CSV = Path(__file__).parent / "ncu_sample.csv"
WIDE = Shape("wide", flops=None, bytes_moved=2 * 4096 * 4096 * 4)


def stand_in_ncu(bin_dir: Path, exit_code: int = 0) -> Path:
    """An ``ncu`` that records its arguments and, when it succeeds, copies the CSV to --log-file."""
    script = bin_dir / "ncu"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > "{bin_dir}/argv"\n'
        f'[ {exit_code} -eq 0 ] || {{ echo "==ERROR== the stand-in refused" >&2; exit {exit_code}; }}\n'
        'while [ $# -gt 0 ]; do [ "$1" = --log-file ] && cp "' + str(SAMPLE_CSV) + '" "$2"; shift; done\n'
        f"exit {exit_code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def policy(isolation: Isolation | None) -> SandboxPolicy:
    return SandboxPolicy(memory_bytes=None, cpu_threads=1, stage_timeouts={}, isolation=isolation)


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


def test_off_on_the_cpu_and_when_turned_off(on_path: Path) -> None:
    stand_in_ncu(on_path)
    assert not NcuPass(EvalLimits(), "cpu").enabled
    assert not NcuPass(EvalLimits(ncu=False), "cuda:0").enabled
    assert not NcuPass(EvalLimits(profile=False), "cuda:0").enabled, "no profiler feedback at all"
    assert NcuPass(EvalLimits(), "cuda:0").enabled


def test_profiles_the_target_inside_the_sandbox_and_becomes_the_summary(on_path: Path) -> None:
    stand_in_ncu(on_path)
    isolation = detect_isolation()
    if not isolation.network_namespace:
        pytest.skip("no network namespace on this machine to wrap ncu in")
    job = on_path.parent / "job.json"
    report = NcuPass(EvalLimits(), "cuda:0").profile(
        job, {"PATH": os.environ["PATH"]}, policy(isolation), WIDE, 50.0, None
    )
    argv = (on_path / "argv").read_text()
    assert "--profile-from-start off" in argv and f"-m evaluator.child.ncu_target {job}" in argv
    assert argv.rstrip().endswith("--profiler-ipc"), "the target shares ncu's network namespace"
    assert report is not None and report.error is None and report.report is not None
    assert report.shape == "wide" and report.report.source == "ncu"
    assert report.report.kernels and "dram_throughput_pct" in report.report.metrics
    merged = merge_ncu(Profile(summary="wide: torch profiler line"), report)
    assert merged is not None and merged.ncu is report
    assert merged.summary == f"wide: {report.report.summary}" and "DRAM" in merged.summary


def test_a_failure_is_reported_once_then_the_pass_stays_off(on_path: Path) -> None:
    stand_in_ncu(on_path, exit_code=3)
    ncu = NcuPass(EvalLimits(), "cuda:0")
    first = ncu.profile(on_path / "job.json", {"PATH": os.environ["PATH"]}, policy(None), WIDE, None, None)
    assert first is not None and "exited with code 3" in (first.error or "")
    assert "--profiler-ipc" not in (on_path / "argv").read_text(), "no namespace: sockets stay scoped"
    assert ncu.disabled_because is not None
    assert ncu.profile(on_path / "job.json", {}, policy(None), WIDE, None, None) is None
    torch_only = Profile(summary="wide: torch profiler line")
    assert merge_ncu(torch_only, first) == Profile(summary=torch_only.summary, ncu=first)
    assert merge_ncu(torch_only, None) is torch_only


@pytest.mark.gpu
def test_real_ncu_profiles_a_passing_candidate(tmp_path: Path) -> None:
    from evaluator.evaluate import Evaluator
    from evaluator.profiling.ncu import find_ncu
    from kernels.candidate import make_candidate
    from kernels.problem import load_problem

    if find_ncu() is None:
        pytest.skip("Nsight Compute is not installed here")
    honest = (
        "import torch\n\n\nclass ModelNew(torch.nn.Module):\n"
        "    def forward(self, x):\n        return torch.softmax(x, dim=-1)\n"
    )
    evaluator = Evaluator(load_problem("softmax"), "cuda:0", EvalLimits(), 7, workroot=tmp_path)
    result = evaluator.evaluate(make_candidate(honest))
    assert result.ok, result.reason
    assert result.profile is not None
    ncu = result.profile.ncu
    assert ncu is not None and ncu.report is not None, ncu and ncu.error
    assert ncu.report.kernels and "softmax" in ncu.report.kernels[0].name.lower()
    assert result.profile.summary.startswith(f"{ncu.shape}: ")
