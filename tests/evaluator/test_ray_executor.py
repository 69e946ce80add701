"""The Ray executor, against a real local Ray instance the tests start: the same verdicts as the
local executor, slots side by side, a killed actor's evaluation retried, and one whose retries
run out recorded as crashed, never lost."""

from __future__ import annotations

import ast
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from agent.archive import Archive
from agent.loop import run_search
from agent.protocols import HistoryEntry
from evaluator import ray_executor
from evaluator.evaluate import Evaluator
from evaluator.executor import LocalExecutor
from evaluator.limits import EvalLimits
from evaluator.ray_executor import EvaluationLost, RayExecutor, local_problem
from evaluator.types import DeviceInfo, EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import Candidate, make_candidate
from kernels.errors import CrucibleError
from kernels.problem import Problem, load_problem

LIMITS = EvalLimits(warmup_ms=1, timing_budget_ms=5, min_samples=2, max_samples=5)
SEED = 2
NO_RAY = "Ray is not installed: pip install -e '.[ray]'"
ABS_PROBLEM = """import torch


class Model(torch.nn.Module):
    def forward(self, x):
        return x.abs()


def get_inputs():
    return [torch.randn(16, 16)]


def get_init_inputs():
    return []
"""
GOOD = (
    "import torch\n\n\nclass ModelNew(torch.nn.Module):\n"
    "    def forward(self, x):\n        return x.abs(){}\n"
)


def candidate(suffix: str) -> Candidate:
    return make_candidate(GOOD.format(suffix))


def wait_for(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def started(slot_dir: Path) -> bool:
    """An evaluation has begun on the slot: its evaluator made the reference's folder."""
    return slot_dir.is_dir() and any(slot_dir.glob("reference-*"))


# Without Ray: the module, the problem's journey and the values that cross.


def test_the_module_imports_no_ray_at_the_top() -> None:
    tree = ast.parse(Path(ray_executor.__file__).read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    names = {a.name.split(".")[0] for n in top for a in n.names} | {
        (n.module or "").split(".")[0] for n in top if isinstance(n, ast.ImportFrom)
    }
    assert "ray" not in names


def test_without_ray_the_executor_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    problem = _load(tmp_path)
    with pytest.raises(CrucibleError, match=r"pip install -e '\.\[ray\]'"):
        RayExecutor(problem, "cpu", LIMITS, SEED, slots=1)


def test_a_problem_travels_as_its_source(tmp_path: Path) -> None:
    problem = _load(tmp_path)
    assert local_problem(problem) is problem, "the file is here and unchanged: used as it is"
    moved = replace(problem, path=tmp_path / "elsewhere" / "abs_problem.py")
    there = local_problem(moved)
    assert there.path.name == "abs_problem.py" and there.path.read_text() == problem.source
    problem.path.write_text(ABS_PROBLEM + "\n# edited since\n")
    assert local_problem(problem).path != problem.path, "a different file at the path is not used"


def test_problems_candidates_and_results_pickle(tmp_path: Path) -> None:
    problem = _load(tmp_path)
    cand = candidate("")
    result = EvalResult(
        Status.OK,
        Stage.DONE,
        "ok",
        shapes=(ShapeMetrics("small", median_us=3.0, samples=5, max_abs_err=0.0),),
        device=DeviceInfo("cpu", "cpu", "x", None, "2.4", None),
        phase_seconds={"load": 0.1},
    )
    assert pickle.loads(pickle.dumps(problem)) == problem
    again = pickle.loads(pickle.dumps(cand))
    assert again == cand and again.hash == cand.hash
    assert pickle.loads(pickle.dumps(result)) == result


def _load(directory: Path) -> Problem:
    path = directory / "abs_problem.py"
    path.write_text(ABS_PROBLEM)
    return load_problem(path)


# With a real local Ray instance.


@pytest.fixture(scope="module")
def ray_session() -> Iterator[Any]:
    ray = pytest.importorskip("ray", reason=NO_RAY)
    # "token": a resource only one actor can hold, for a slot that Ray cannot place.
    ray.init(num_cpus=4, resources={"token": 1}, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def problem(tmp_path_factory: pytest.TempPathFactory) -> Problem:
    return _load(tmp_path_factory.mktemp("problem"))


@pytest.fixture(scope="module")
def two_slots(
    ray_session: Any, problem: Problem, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RayExecutor]:
    # The actors get only the source: the problem's path points where no file is.
    away = replace(problem, path=tmp_path_factory.mktemp("gone") / "missing" / problem.path.name)
    with RayExecutor(away, "cpu", LIMITS, SEED, slots=2, workroot=tmp_path_factory.mktemp("ray")) as ex:
        yield ex


@pytest.mark.slow
def test_verdicts_are_the_local_executors(two_slots: RayExecutor, problem: Problem, tmp_path: Path) -> None:
    honest, wrong = candidate(""), candidate(" + 1")
    with LocalExecutor(Evaluator(problem, "cpu", LIMITS, SEED, workroot=tmp_path)) as local:
        expected = [local.submit(c).result() for c in (honest, wrong)]
    got = [f.result(timeout=120) for f in [two_slots.submit(honest), two_slots.submit(wrong)]]
    assert [(r.status, r.stage) for r in got] == [(r.status, r.stage) for r in expected]
    assert [r.status for r in got] == [Status.OK, Status.WRONG_OUTPUT], [r.reason for r in got]
    assert got[1].reason == expected[1].reason, "the same seed: the same inputs, the same finding"


@pytest.mark.slow
def test_two_slots_evaluate_at_once(two_slots: RayExecutor) -> None:
    assert two_slots.slots == 2
    assert len({w["pid"] for w in two_slots.where()}) == 2, "one actor process per slot"
    begun = time.monotonic()
    futures = [two_slots.submit(candidate(f" + 0 * {i}")) for i in (10, 11)]
    results = [f.result(timeout=120) for f in futures]
    wall = time.monotonic() - begun
    assert all(r.status is Status.OK for r in results), [r.reason for r in results]
    assert wall < sum(r.duration_s for r in results), "one after the other would take their sum"


@pytest.mark.slow
def test_a_killed_actor_restarts_and_its_evaluation_is_retried(
    ray_session: Any, problem: Problem, tmp_path: Path
) -> None:
    with RayExecutor(problem, "cpu", LIMITS, SEED, slots=1, workroot=tmp_path) as executor:
        pid = executor.where()[0]["pid"]
        future = executor.submit(candidate(" + 0 * 20"))
        wait_for(lambda: started(tmp_path / "slot-0"))
        os.kill(pid, signal.SIGKILL)  # the actor's process dies mid-evaluation, as on a lost node
        result = future.result(timeout=120)
        assert result.status is Status.OK, result.reason
        assert executor.where()[0]["pid"] != pid, "Ray restarted the actor"
    attempts = list((tmp_path / "slot-0").glob("reference-*"))
    assert len(attempts) == 2, "the restarted actor prepared its reference again and re-ran the evaluation"


class _Proposer:
    name = "scripted"

    def __init__(self, script: list[Candidate]) -> None:
        self.script = list(script)

    def propose(self, archive: Archive) -> Candidate | None:
        return self.script.pop(0) if self.script else None

    def observe(self, candidate: Candidate, result: EvalResult) -> None:
        pass


class _Recorder:
    def __init__(self) -> None:
        self.results: dict[int, EvalResult] = {}
        self.added: list[Candidate] = []

    def history(self) -> list[HistoryEntry]:
        return []

    def add(self, candidate: Candidate) -> int:
        self.added.append(candidate)
        return len(self.added)

    def record(self, candidate_id: int, result: EvalResult) -> None:
        self.results[candidate_id] = result


@pytest.mark.slow
def test_an_evaluation_whose_retries_run_out_is_recorded_as_crashed(
    ray_session: Any, problem: Problem, tmp_path: Path
) -> None:
    recorder = _Recorder()
    with RayExecutor(problem, "cpu", LIMITS, SEED, slots=1, workroot=tmp_path, max_restarts=0) as executor:
        pid = executor.where()[0]["pid"]

        def kill_when_started() -> None:
            wait_for(lambda: started(tmp_path / "slot-0"))
            os.kill(pid, signal.SIGKILL)

        killer = threading.Thread(target=kill_when_started)
        killer.start()
        run_search(_Proposer([candidate(" + 0 * 30"), candidate(" + 0 * 31")]), executor, recorder, 2)
        killer.join()
        assert executor.where()[0]["pid"] != pid, "a fresh actor took the slot"
    lost, after = recorder.results[1], recorder.results[2]
    assert lost.status is Status.CRASHED, lost.reason
    assert "EvaluationLost" in lost.reason and "ActorDiedError" in lost.reason, lost.reason
    assert after.status is Status.OK, "the run goes on, on the slot's new actor"


@pytest.mark.slow
def test_a_lost_evaluations_future_raises_a_clear_error(
    ray_session: Any, problem: Problem, tmp_path: Path
) -> None:
    with RayExecutor(problem, "cpu", LIMITS, SEED, slots=1, workroot=tmp_path, max_restarts=0) as executor:
        actor = executor.actors[0]
        future = executor.submit(candidate(" + 0 * 40"))
        wait_for(lambda: started(tmp_path / "slot-0"))
        ray_session.kill(actor, no_restart=True)
        with pytest.raises(EvaluationLost, match="slot 0"):
            future.result(timeout=120)


FAMILY = """import torch

CONFIG_SPACE = {"scale": [1, 2, 3]}


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return x.abs() * CONFIG["scale"] / CONFIG["scale"]
"""


@pytest.mark.slow
def test_a_ray_run_records_every_verdict_in_the_store(ray_session: Any, tmp_path: Path) -> None:
    from service.runner import create_run, execute_run
    from service.settings import Settings
    from store.repository import Store
    from store.status import RunStatus

    problem = _load(tmp_path)
    variants = problem.variants_dir
    variants.mkdir()
    (variants / "scaled.py").write_text(FAMILY)
    settings = Settings(executor="ray", workdir=tmp_path / "work", database_url="sqlite://")
    with Store(f"sqlite:///{tmp_path / 'crucible.db'}") as store:
        run_id = create_run(
            store,
            problem,
            device="cpu",
            budget=3,
            proposer="offline",
            limits=LIMITS,
            slots=2,
            settings=settings,
        )
        execute_run(store, settings, run_id)
        assert store.get_run(run_id).status is RunStatus.COMPLETED
        records = store.candidates(run_id)
    assert len(records) == 3 and all(r.result is not None for r in records)
    assert {r.result.status for r in records if r.result} == {Status.OK}, [
        r.result.reason for r in records if r.result
    ]
    assert ray_session.is_initialized(), "Ray started by someone else is left running"


def test_an_actor_pins_its_children_to_the_gpu_ray_gave_it(monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray", reason=NO_RAY)
    assert ray_executor._assigned_device("cpu") == "cpu"
    monkeypatch.setattr(ray, "get_gpu_ids", lambda: [3])
    assert ray_executor._assigned_device("cuda:0") == "cuda:3", "Ray's GPU, not the index the run named"
    monkeypatch.setattr(ray, "get_gpu_ids", lambda: [])
    with pytest.raises(CrucibleError, match="no GPU"):
        ray_executor._assigned_device("cuda")
    monkeypatch.setattr(ray, "get_gpu_ids", lambda: ["GPU-1c2d"])
    with pytest.raises(CrucibleError, match="by index"):
        ray_executor._assigned_device("cuda")


def test_an_actor_asks_for_a_gpu_on_a_cuda_run_and_a_cpu_otherwise() -> None:
    assert ray_executor.actor_resources("cuda:0") == {"num_gpus": 1}
    assert ray_executor.actor_resources("cuda:all") == {"num_gpus": 1}
    assert ray_executor.actor_resources("cpu") == {"num_cpus": 1}


@pytest.mark.gpu
@pytest.mark.slow
def test_a_gpu_actor_evaluates_on_its_gpu(problem: Problem, tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason=NO_RAY)
    started_here = not ray.is_initialized()
    with RayExecutor(problem, "cuda", LIMITS, SEED, slots=1, workroot=tmp_path) as executor:
        (where,) = executor.where()
        result = executor.submit(candidate("")).result(timeout=300)
    assert where["device"].startswith("cuda:")
    assert result.status is Status.OK, result.reason
    assert result.device is not None and result.device.kind == "cuda"
    assert ray.is_initialized() is not started_here, "the executor stops only the Ray it started"


@pytest.mark.slow
def test_an_actor_that_cannot_start_says_why(ray_session: Any, problem: Problem, tmp_path: Path) -> None:
    # A CUDA run whose actors ask for no GPU: each actor's constructor finds none and fails.
    executor = RayExecutor(
        problem, "cuda", LIMITS, SEED, slots=1, workroot=tmp_path, actor_options={"num_cpus": 1}
    )
    with executor, pytest.raises(EvaluationLost, match="given no GPU"):
        executor.submit(candidate("")).result(timeout=120)
    with pytest.raises(RuntimeError, match="closed"):
        executor.submit(candidate(""))


@pytest.mark.slow
def test_a_slot_ray_cannot_place_holds_no_candidate(
    ray_session: Any, problem: Problem, tmp_path: Path
) -> None:
    options = {"num_cpus": 0, "resources": {"token": 1}}  # the cluster has one token: one actor
    begun = time.monotonic()
    with RayExecutor(problem, "cpu", LIMITS, SEED, slots=2, workroot=tmp_path, actor_options=options) as ex:
        futures = [ex.submit(candidate(f" + 0 * {i}")) for i in (50, 51)]
        results = [f.result(timeout=120) for f in futures]
    assert [r.status for r in results] == [Status.OK, Status.OK], "both ran on the slot Ray placed"
    assert time.monotonic() - begun < 100, "close does not wait on the actor that never started"


def test_a_cuda_run_on_a_cluster_without_a_gpu_is_refused_not_left_waiting() -> None:
    gpu = ray_executor.actor_resources("cuda:0")
    with pytest.raises(CrucibleError, match=r"the Ray cluster at ray://head:10001 has 0 GPU\(s\)"):
        ray_executor.check_cluster_fits({"CPU": 16.0}, gpu, "ray://head:10001")
    ray_executor.check_cluster_fits({"CPU": 16.0, "GPU": 8.0}, gpu, "ray://head:10001")
    ray_executor.check_cluster_fits({"CPU": 1.0}, ray_executor.actor_resources("cpu"), None)
    with pytest.raises(CrucibleError, match="local Ray instance has 0 CPU"):
        ray_executor.check_cluster_fits({}, ray_executor.actor_resources("cpu"), None)
