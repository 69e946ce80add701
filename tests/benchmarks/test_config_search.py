"""Smoke tests of benchmarks/config_search.py's helpers: the search driver, the summary, the model."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

from agent.tuner import ExhaustiveTuner, make_tuner
from evaluator.types import EvalResult, ShapeMetrics, Stage, Status
from kernels.config import Config, ConfigSpace, enumerate_space
from kernels.problem import Shape

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SPACE: ConfigSpace = {"a": [1, 2, 3, 4, 5, 6], "b": [1, 2, 3, 4, 5, 6]}  # 36 points: TPE


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """The benchmark module, which imports its ``result_files`` helper from beside it."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module("config_search")
    finally:
        sys.path.remove(str(BENCHMARKS))


def bowl() -> dict[Config, EvalResult]:
    """A landscape with one best point (a=4, b=2, 10 us) and one config that fails."""
    results = {}
    for config in enumerate_space(SPACE):
        c = config.as_dict()
        latency = 10.0 + (c["a"] - 4) ** 2 + (c["b"] - 2) ** 2
        shape = ShapeMetrics("s", median_us=latency, samples=1)
        results[config] = EvalResult(Status.OK, Stage.DONE, "ok", shapes=(shape,))
    results[Config.of({"a": 6, "b": 6})] = EvalResult(Status.RUNTIME_ERROR, Stage.CORRECTNESS, "boom")
    return results


def test_evaluations_to_counts_to_the_first_hit_for_every_method(bench) -> None:
    results = bowl()
    limits = {"best": 10.0 * (1 + 1e-9), "near": 11.0 * (1 + 1e-9)}  # latency_us is a geomean: rounding
    grid = bench.evaluations_to(ExhaustiveTuner(SPACE), results, limits, cap=36)
    order = list(enumerate_space(SPACE))
    assert grid == {"best": order.index(Config.of({"a": 4, "b": 2})) + 1, "near": 14}  # (3, 2): 11 us

    shuffled = bench.RandomSearch(SPACE, seed=3)
    walk = list(iter(shuffled.ask, None))
    assert sorted(map(str, walk)) == sorted(map(str, order))  # every config once
    random_counts = bench.evaluations_to(bench.RandomSearch(SPACE, seed=3), results, limits, cap=36)
    assert random_counts["best"] == walk.index(Config.of({"a": 4, "b": 2})) + 1

    tpe = bench.evaluations_to(make_tuner(SPACE, seed=0), results, limits, cap=36)
    assert tpe["best"] is not None and 1 <= tpe["near"] <= tpe["best"] <= 36
    assert bench.evaluations_to(make_tuner(SPACE, seed=0), results, {"x": 1.0}, cap=5) == {"x": None}


def test_summarize_treats_a_miss_as_infinite(bench) -> None:
    assert bench.summarize([1, 2, 3, 4, None]) == {"median": 3.0, "p90": None, "mean": None, "never": 1}
    assert bench.summarize([4, 2]) == {"median": 3.0, "p90": 4.0, "mean": 3.0, "never": 0}


def test_the_model_fails_what_cannot_launch_and_ties_identical_launches(bench) -> None:
    square = Shape("square", {"m": 4096, "n": 4096, "k": 4096, "dtype": "float16"})
    too_big = Config.of({"BLOCK_M": 256, "BLOCK_N": 256, "BLOCK_K": 128, "num_warps": 8, "num_stages": 5})
    failed = bench.evaluate("t", bench.matmul_tiled, too_big, [square], 0.03, 0)
    assert failed.status is Status.RUNTIME_ERROR and failed.latency_us is None

    wide = Shape("wide", {"rows": 4096, "cols": 4096})  # BLOCK_N is clamped to 4096 either way
    a, b = (
        bench.evaluate(
            "t",
            bench.softmax_online,
            Config.of({"BLOCK_N": n, "num_warps": 8, "num_stages": 2}),
            [wide],
            0.03,
            0,
        )
        for n in (4096, 8192)
    )
    assert a.ok and a.latency_us == b.latency_us
    assert a.shapes[0].timing_method == "modelled"
