"""``store.kernel_search``: passing kernels across runs, filtered and ranked, on a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from evaluator.types import DeviceInfo, EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import Candidate, Origin
from kernels.config import Config
from kernels.problem import Problem, Shape
from store.kernel_search import KernelQuery, find_kernels
from store.repository import Store


def device(key: str) -> DeviceInfo:
    return DeviceInfo(key=key, kind=key.split(":")[0], name=key, driver=None, torch_version="2.4.0",
                      triton_version=None)  # fmt: skip


def problem(tmp_path: Path, name: str) -> Problem:
    source = f"import torch\n\nclass Model(torch.nn.Module):  # {name}\n    pass\n"
    return Problem(
        name=name, path=tmp_path / f"{name}.py", source=source, shapes=(Shape("s"),), tolerances={}
    )


def result(key: str, speedup: float | None, *, status: Status = Status.OK) -> EvalResult:
    interpreted = speedup is None
    shape = ShapeMetrics(
        shape="s",
        median_us=None if interpreted else 100.0 / speedup,  # type: ignore[operator]
        samples=10,
        max_abs_err=1e-6,
        ref_median_us=None if interpreted else 100.0,
        speedup=speedup,
        interpreted=interpreted,
    )
    return EvalResult(
        status=status,
        stage=Stage.DONE,
        reason="ok" if status is Status.OK else "wrong",
        shapes=(shape,),
        device=device(key),
        interpreted=interpreted,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'crucible.db'}") as opened:
        yield opened


@pytest.fixture
def stored(store: Store, tmp_path: Path) -> dict[str, int]:
    """Two problems over three runs on two devices; ids by a label."""
    ids: dict[str, int] = {}
    plan = [
        ("softmax", "cpu", [("s1.5", 1.5), ("s3", 3.0), ("interp", None), ("bad", 9.0)]),
        ("softmax", "cuda:0", [("g7", 7.0)]),
        ("gelu", "cpu", [("gelu2", 2.0)]),
    ]
    for name, key, entries in plan:
        run = store.create_run(problem(tmp_path, name), device=key, proposer="offline", budget=8, seed=1)
        for i, (label, speedup) in enumerate(entries):
            source = f"import torch\n\nclass ModelNew(torch.nn.Module):\n    pass\nVARIANT = {label!r}\n"
            cid = store.add_candidate(run, Candidate(source, Config.of({"i": i}), "fam", Origin.OFFLINE))
            status = Status.WRONG_OUTPUT if label == "bad" else Status.OK
            store.record_result(cid, result(key, speedup, status=status))
            ids[label] = cid
    return ids


def labels(store: Store, stored: dict[str, int], **query: object) -> list[str]:
    by_id = {v: k for k, v in stored.items()}
    return [by_id[hit.record.id] for hit in find_kernels(store, KernelQuery(**query))]  # type: ignore[arg-type]


def test_passing_kernels_of_every_run_come_ranked_first_then_unranked(store, stored):
    assert labels(store, stored) == ["g7", "s3", "gelu2", "s1.5", "interp"]  # never the failed one


def test_filters_by_problem_device_and_minimum_speedup(store, stored):
    assert labels(store, stored, problem="softmax") == ["g7", "s3", "s1.5", "interp"]
    assert labels(store, stored, problem="softmax", device="cpu") == ["s3", "s1.5", "interp"]
    assert labels(store, stored, device="cuda:all") == ["g7"]
    assert labels(store, stored, problem="softmax", device="cpu", min_speedup=2.0) == ["s3"]
    assert labels(store, stored, problem="nothing") == []


def test_a_hit_names_its_problem_and_device_and_pages_are_bounded(store, stored):
    top = find_kernels(store, KernelQuery(limit=1))
    assert [(h.problem, h.device) for h in top] == [("softmax", "cuda:0")]
    assert top[0].record.result is not None and top[0].record.result.speedup == pytest.approx(7.0)
    with pytest.raises(ValueError, match="limit"):
        KernelQuery(limit=0)
