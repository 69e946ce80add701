"""A folder of problems as one batch: KernelBench's scores computed right, `evaluate DIR DIR` and
`optimize DIR` through the real CLI, with a bad file and a missing candidate in the folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kernels.problem import BUILTIN_DIR
from service.batch import ProblemOutcome, summarize

RELU = """import torch

batch_size = 16
dim = 64


class Model(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x)


def get_inputs():
    return [torch.randn(batch_size, dim)]


def get_init_inputs():
    return []
"""
ROW_SUM = RELU.replace("torch.relu(x)", "x.sum(dim=-1)")
GOOD_RELU = """import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return x.clamp_min(0)
"""
WRONG_SUM = """import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return x.sum(dim=-1) * 2
"""


def outcome(name: str, correct: bool, speedup: float | None) -> ProblemOutcome:
    return ProblemOutcome(
        name, Path(f"{name}.py"), "ok" if correct else "wrong_output", correct, speedup, None
    )


def test_scores_count_every_problem_and_follow_kernelbench_fast_p() -> None:
    summary = summarize(
        [
            outcome("a", True, 2.5),
            outcome("b", True, 1.2),
            outcome("c", True, 0.8),
            outcome("d", False, None),
            ProblemOutcome("e", Path("e.py"), "bad_problem", False, None, None, "no Model"),
        ]
    )
    assert summary.correctness == pytest.approx(3 / 5)
    assert summary.fast_p == pytest.approx(
        {"fast_0": 3 / 5, "fast_1": 2 / 5, "fast_1.5": 1 / 5, "fast_2": 1 / 5}
    )
    assert summary.geomean_speedup == pytest.approx((2.5 * 1.2 * 0.8) ** (1 / 3))
    assert summarize([]).correctness == 0.0
    assert summary.geomean_vs_compiled is None and summary.fast_p_vs_compiled is None


def test_scores_against_torch_compile_count_only_problems_that_timed_it() -> None:
    timed = [
        ProblemOutcome("a", Path("a.py"), "ok", True, 3.0, None, speedup_vs_compiled=1.6),
        ProblemOutcome("b", Path("b.py"), "ok", True, 2.0, None, speedup_vs_compiled=0.9),
        ProblemOutcome("c", Path("c.py"), "ok", True, 1.5, None),  # its compilation failed
        outcome("d", False, None),
    ]
    summary = summarize(timed)
    assert summary.geomean_vs_compiled == pytest.approx((1.6 * 0.9) ** 0.5)
    assert summary.fast_p_vs_compiled == pytest.approx(
        {"fast_0": 3 / 4, "fast_1": 1 / 4, "fast_1.5": 1 / 4, "fast_2": 0.0}
    )
    assert summary.fast_p["fast_1.5"] == pytest.approx(2 / 4)  # > 1.5 strictly, as KernelBench counts


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    problems, candidates = tmp_path / "problems", tmp_path / "candidates"
    problems.mkdir()
    candidates.mkdir()
    (problems / "relu.py").write_text(RELU)
    (problems / "row_sum.py").write_text(ROW_SUM)
    (problems / "broken.py").write_text("import torch\nclass Model(:\n")
    (problems / "lonely.py").write_text(RELU)  # no candidate for it
    (candidates / "relu.py").write_text(GOOD_RELU)
    (candidates / "row_sum.py").write_text(WRONG_SUM)
    (candidates / "broken.py").write_text(GOOD_RELU)
    return problems, candidates


def test_evaluate_a_folder_scores_every_problem(crucible, crucible_env, folders: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    problems, candidates = folders
    crucible_env["CRUCIBLE_COMPILE_BASELINE"] = "default"  # also against torch.compile, on the CPU too
    done = crucible("evaluate", str(problems), str(candidates), "--json", timeout=600)
    del crucible_env["CRUCIBLE_COMPILE_BASELINE"]
    assert done.code == 1, done.stderr  # not every candidate passed
    report = json.loads(done.stdout)
    by_name = {o["problem"]: o for o in report["outcomes"]}
    assert [o["problem"] for o in report["outcomes"]] == ["broken", "lonely", "relu", "row_sum"]
    assert by_name["relu"]["status"] == "ok" and by_name["relu"]["correct"]
    assert by_name["row_sum"]["status"] == "wrong_output" and not by_name["row_sum"]["correct"]
    assert by_name["broken"]["status"] == "bad_problem" and "broken.py" in by_name["broken"]["reason"]
    assert by_name["lonely"]["status"] == "no_candidate"
    assert report["problems"] == 4 and report["correctness"] == pytest.approx(0.25)
    assert report["fast_p"]["fast_0"] == pytest.approx(0.25)
    faster = sum(1 for o in report["outcomes"] if o["correct"] and (o["speedup"] or 0) > 1)
    assert report["fast_p"]["fast_1"] == pytest.approx(faster / 4)
    assert by_name["relu"]["speedup_vs_compiled"] > 0
    assert report["geomean_vs_compiled"] == pytest.approx(by_name["relu"]["speedup_vs_compiled"])
    assert report["fast_p_vs_compiled"]["fast_0"] == pytest.approx(0.25)
    table = crucible("evaluate", str(problems), str(candidates), timeout=600)
    assert "fast_1.5" in table.stdout and "no_candidate" in table.stdout


def test_optimize_a_folder_queues_a_run_per_problem(crucible, folders: tuple[Path, Path]) -> None:  # type: ignore[no-untyped-def]
    problems, _ = folders
    (problems / "broken.py").unlink()
    done = crucible("optimize", str(problems), "--queue", "--proposer", "llm", "--json")
    # No LLM endpoint here: each problem is refused with the reason, and the batch says so.
    report = json.loads(done.stdout)
    assert done.code == 1 and {o["status"] for o in report["outcomes"]} == {"bad_problem"}
    assert all(
        "OPENAI_BASE_URL" in o["reason"] or "CRUCIBLE_MODELS" in o["reason"] for o in report["outcomes"]
    )
    shutil.copy(BUILTIN_DIR / "softmax" / "reference.py", problems / "softmax.py")
    shutil.copytree(
        BUILTIN_DIR / "softmax",
        problems / "softmax_variants",
        ignore=shutil.ignore_patterns("reference.py", "__pycache__"),
    )
    queued = crucible(
        "optimize", str(problems), "--queue", "--proposer", "offline", "--budget", "3", "--json"
    )
    report = json.loads(queued.stdout)
    by_name = {o["problem"]: o for o in report["outcomes"]}
    assert by_name["softmax"]["status"] == "queued" and by_name["softmax"]["run_id"] is not None
    assert by_name["relu"]["status"] == "bad_problem" and "variant families" in by_name["relu"]["reason"]
    runs = json.loads(crucible("runs", "--json").stdout)
    assert [r["problem"] for r in runs] == ["softmax"] and runs[0]["status"] == "queued"


@pytest.mark.slow
def test_optimize_a_folder_runs_each_problem_and_scores_the_batch(crucible, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    problems = tmp_path / "suite"
    problems.mkdir()
    shutil.copy(BUILTIN_DIR / "softmax" / "reference.py", problems / "softmax.py")
    (problems / "softmax_variants").mkdir()
    shutil.copy(BUILTIN_DIR / "softmax" / "torch_fused.py", problems / "softmax_variants" / "torch_fused.py")
    done = crucible(
        "optimize", str(problems), "--budget", "2", "--proposer", "offline", "--json", timeout=600
    )
    assert done.code == 0, done.stderr
    report = json.loads(done.stdout)
    (only,) = report["outcomes"]
    assert only["correct"] and only["run_id"] is not None and only["candidate_id"] is not None
    assert report["correctness"] == 1.0 and report["fast_p"]["fast_0"] == 1.0


def test_scale_to_cpu_runs_a_gpu_sized_file_and_records_it(crucible, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.kernels.test_scaling import GPU_SIZED

    (tmp_path / "gemm_relu.py").write_text(GPU_SIZED)
    candidate = GPU_SIZED.replace("class Model(", "class ModelNew(").replace(
        "torch.relu(self.linear(x)) * scale", "torch.nn.functional.relu(self.linear(x)).mul(scale)"
    )
    (tmp_path / "fast.py").write_text(candidate)
    done = crucible(
        "evaluate", str(tmp_path / "gemm_relu.py"), str(tmp_path / "fast.py"), "--scale-to-cpu", "--json"
    )
    assert done.code == 0, done.stderr
    assert "scaled down for the CPU: " in done.stderr
    assert json.loads(done.stdout)["scaled_down"] is True
